// Fusion tests: output widths, baselines pass features through, reported weights are
// distributions, and hand-computed values for concatenate and bilinear.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "medfusion/models/fusion.hpp"

namespace medfusion::models {
namespace {

FusionOptions options_for(const std::string& type) {
    return FusionOptions{.type = type,
                         .vision_dim = 8,
                         .tabular_dim = 4,
                         .fusion_dim = 16,
                         .num_heads = 4,
                         .bilinear_rank = 3,
                         .dropout = 0.0};
}

void set_all(torch::nn::Module& module, double value) {
    torch::NoGradGuard no_grad;
    for (auto& parameter : module.parameters())
        parameter.fill_(value);
}

TEST(FusionTest, EveryFusionGivesItsOutputWidth) {
    torch::manual_seed(0);
    auto v = torch::randn({3, 8});
    auto t = torch::randn({3, 4});
    for (const auto& type : fusion_names()) {
        auto fusion = make_fusion(options_for(type));
        auto out = fusion->forward(v, t);
        EXPECT_EQ(out.fused.sizes(), (std::vector<int64_t>{3, fusion->output_dim()})) << type;
    }
    EXPECT_EQ(make_fusion(options_for("image_only"))->output_dim(), 8);
    EXPECT_EQ(make_fusion(options_for("tabular_only"))->output_dim(), 4);
}

TEST(FusionTest, BaselinesPassOneModalityThrough) {
    auto v = torch::randn({2, 8});
    auto t = torch::randn({2, 4});
    EXPECT_TRUE(torch::equal(make_fusion(options_for("image_only"))->forward(v, {}).fused, v));
    EXPECT_TRUE(torch::equal(make_fusion(options_for("tabular_only"))->forward({}, t).fused, t));
}

TEST(FusionTest, ConcatenateMatchesHandComputation) {
    auto options = options_for("concatenate");
    auto fusion = make_fusion(options);
    set_all(*fusion, 0.5);

    // Every output: relu(0.5 * (sum(v) + sum(t)) + 0.5); v = 1 (8 dims), t = -1 (4 dims): 2.5.
    auto out = fusion->forward(torch::ones({1, 8}), -torch::ones({1, 4})).fused;
    EXPECT_TRUE(torch::allclose(out, torch::full({1, 16}, 2.5)));
}

TEST(FusionTest, GatedReportsGateAndEqualModalityWeightsAtStart) {
    auto fusion = make_fusion(options_for("gated"));
    auto out = fusion->forward(torch::randn({2, 8}), torch::randn({2, 4}));
    auto gate = out.weights.at("gate");
    EXPECT_TRUE(((gate > 0) & (gate < 1)).all().item<bool>());
    EXPECT_TRUE(torch::allclose(out.weights.at("modality_weights"), torch::tensor({0.5f, 0.5f})));
}

TEST(FusionTest, GatedMatchesHandComputation) {
    auto fusion = make_fusion(options_for("gated"));
    set_all(*fusion, 0.0);  // hv = ht = tanh(0) = 0 unless biased
    {
        torch::NoGradGuard no_grad;
        for (auto& item : fusion->named_parameters()) {
            if (item.key() == "vision.bias")
                item.value().fill_(1.0);
        }
    }
    // gate = sigmoid(0) = 0.5, modality weights 0.5 each: 0.5 * 0.5 * tanh(1).
    auto out = fusion->forward(torch::randn({1, 8}), torch::randn({1, 4})).fused;
    EXPECT_TRUE(torch::allclose(out, torch::full({1, 16}, 0.25 * std::tanh(1.0))));
}

TEST(FusionTest, AttentionWeightsAreRowDistributions) {
    auto out = make_fusion(options_for("cross_attention"))
                   ->forward(torch::randn({2, 8}), torch::randn({2, 4}));
    for (const auto* key : {"vision_to_tabular", "tabular_to_vision"}) {
        auto weights = out.weights.at(key);
        EXPECT_EQ(weights.sizes(), (std::vector<int64_t>{2, 4, 4}));
        EXPECT_TRUE(torch::allclose(weights.sum(-1), torch::ones({2, 4})));
    }
}

TEST(FusionTest, BilinearPoolsOverRank) {
    auto fusion = make_fusion(options_for("bilinear"));
    set_all(*fusion, 0.0);
    {
        torch::NoGradGuard no_grad;
        for (auto& item : fusion->named_parameters()) {
            if (item.key() == "vision.bias")
                item.value().fill_(2.0);
            if (item.key() == "tabular.bias")
                item.value().copy_(torch::arange(48).to(torch::kFloat));
            if (item.key() == "norm.weight")
                item.value().fill_(1.0);
        }
    }
    // Unit d sums 2 * (3d + r) over r = 0..2: 18d + 6; LayerNorm of that ramp.
    auto expected = torch::arange(16).to(torch::kFloat) * 18 + 6;
    expected = torch::layer_norm(expected, {16});
    auto out = fusion->forward(torch::randn({1, 8}), torch::randn({1, 4})).fused;
    EXPECT_TRUE(torch::allclose(out, expected.unsqueeze(0), 1e-5, 1e-5));
}

TEST(FusionTest, UnknownTypeListsValidChoices) {
    try {
        make_fusion(options_for("sum"));
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& error) {
        EXPECT_NE(std::string(error.what()).find("concatenate, gated, attention"),
                  std::string::npos);
    }
}

}  // namespace
}  // namespace medfusion::models
