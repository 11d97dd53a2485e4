// MultimodalModel tests: every backbone with every fusion builds and gives the right shapes,
// gradients reach every trainable parameter, freezing, save/load, validation, summary.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

#include "medfusion/models/multimodal_model.hpp"

namespace medfusion::models {
namespace {

constexpr int64_t kFeatures = 6;
constexpr int64_t kClasses = 3;
constexpr int64_t kBatch = 2;

core::ModelConfig config_for(const std::string& backbone, const std::string& fusion) {
    core::ModelConfig config;
    config.vision_backbone = backbone;
    config.fusion_type = fusion;
    config.feature_dim = 32;
    config.fusion_dim = 32;
    config.tabular_hidden = {32, 16};
    config.classifier_hidden = {16};
    return config;
}

std::string error_of(const core::ModelConfig& config, int64_t features) {
    try {
        build_model(config, features, kClasses, 64);
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return "";
}

class BackboneFusionTest : public testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        torch::set_num_threads(2);
        torch::manual_seed(0);
    }
};

TEST_P(BackboneFusionTest, EveryFusionGivesLogitsPerClassAt64Px) {
    auto images = torch::randn({kBatch, 3, 64, 64});
    auto tabular = torch::randn({kBatch, kFeatures});
    torch::NoGradGuard no_grad;
    for (const auto& fusion : fusion_names()) {
        auto model = build_model(config_for(GetParam(), fusion), kFeatures, kClasses, 64);
        model->eval();
        auto output = model->forward(images, tabular);
        EXPECT_EQ(output.logits.sizes(), (std::vector<int64_t>{kBatch, kClasses})) << fusion;
        EXPECT_TRUE(torch::isfinite(output.logits).all().item<bool>()) << fusion;
    }
}

INSTANTIATE_TEST_SUITE_P(AllBackbones, BackboneFusionTest, testing::ValuesIn(backbone_names()),
                         [](const testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(MultimodalModelTest, BuildsAt224PxWithAuxHeadsAndFusionWeights) {
    torch::set_num_threads(2);
    for (const std::string backbone : {"resnet18", "swin_t"}) {
        auto config = config_for(backbone, "attention");
        config.aux_heads = true;
        auto model = build_model(config, kFeatures, kClasses, 224);
        model->eval();
        torch::NoGradGuard no_grad;
        auto output = model->forward(torch::randn({1, 3, 224, 224}), torch::randn({1, kFeatures}));

        EXPECT_EQ(output.logits.sizes(), (std::vector<int64_t>{1, kClasses}));
        EXPECT_EQ(output.vision_logits.sizes(), (std::vector<int64_t>{1, kClasses}));
        EXPECT_EQ(output.tabular_logits.sizes(), (std::vector<int64_t>{1, kClasses}));
        auto attention = output.fusion_weights.at("attention");
        EXPECT_EQ(attention.sizes(), (std::vector<int64_t>{1, 3, 3}));
        EXPECT_TRUE(torch::allclose(attention.sum(-1), torch::ones({1, 3})));
    }
}

TEST(MultimodalModelTest, GradientsReachEveryTrainableParameter) {
    torch::set_num_threads(2);
    torch::manual_seed(0);
    auto images = torch::randn({4, 3, 64, 64});
    auto tabular = torch::randn({4, kFeatures});
    // Every fusion with the mlp encoder, and every encoder with concatenate.
    std::vector<std::pair<std::string, std::string>> cases;
    for (const auto& fusion : fusion_names())
        cases.emplace_back(fusion, "mlp");
    cases.emplace_back("concatenate", "resmlp");
    cases.emplace_back("concatenate", "ft_transformer");
    for (const auto& [fusion, encoder] : cases) {
        auto config = config_for("resnet18", fusion);
        config.tabular_encoder = encoder;
        config.attention = "cbam";
        config.aux_heads = true;
        auto model = build_model(config, kFeatures, kClasses, 64);
        auto output = model->forward(images, tabular);
        auto loss = output.logits.pow(2).sum();
        if (output.vision_logits.defined())
            loss = loss + output.vision_logits.pow(2).sum();
        if (output.tabular_logits.defined())
            loss = loss + output.tabular_logits.pow(2).sum();
        loss.backward();

        for (const auto& item : model->named_parameters()) {
            auto where = fusion + "/" + encoder + " " + item.key();
            ASSERT_TRUE(item.value().grad().defined()) << where;
            EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << where;
        }
    }
}

TEST(MultimodalModelTest, CnnAttentionVariantsKeepShapes) {
    torch::set_num_threads(2);
    for (const std::string attention : {"se", "eca", "cbam"}) {
        auto config = config_for("mobilenet_v3_small", "concatenate");
        config.attention = attention;
        auto model = build_model(config, kFeatures, kClasses, 64);
        model->eval();
        torch::NoGradGuard no_grad;
        auto output =
            model->forward(torch::randn({kBatch, 3, 64, 64}), torch::randn({kBatch, kFeatures}));
        EXPECT_EQ(output.logits.sizes(), (std::vector<int64_t>{kBatch, kClasses})) << attention;
    }
}

TEST(MultimodalModelTest, FrozenBackboneStaysUnchangedByTraining) {
    torch::set_num_threads(2);
    auto config = config_for("resnet18", "concatenate");
    config.freeze_backbone = true;
    auto model = build_model(config, kFeatures, kClasses, 64);
    auto& backbone = model->vision()->backbone();
    std::vector<torch::Tensor> before;
    for (const auto& tensor : backbone.parameters())
        before.push_back(tensor.clone());
    for (const auto& tensor : backbone.buffers())
        before.push_back(tensor.clone());

    model->train();
    torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1));
    auto output = model->forward(torch::randn({4, 3, 64, 64}), torch::randn({4, kFeatures}));
    output.logits.sum().backward();
    optimizer.step();

    size_t i = 0;
    for (const auto& tensor : backbone.parameters()) {
        EXPECT_FALSE(tensor.requires_grad());
        EXPECT_TRUE(torch::equal(tensor, before[i++]));
    }
    for (const auto& tensor : backbone.buffers())
        EXPECT_TRUE(torch::equal(tensor, before[i++]));

    auto summary = summarize(*model);
    int64_t backbone_count = 0;
    for (const auto& tensor : backbone.parameters())
        backbone_count += tensor.numel();
    EXPECT_EQ(summary.total_parameters - summary.trainable_parameters, backbone_count);
}

TEST(MultimodalModelTest, SaveThenLoadGivesIdenticalOutputs) {
    torch::set_num_threads(2);
    auto config = config_for("efficientnet_b0", "gated");
    torch::manual_seed(1);
    auto saved = build_model(config, kFeatures, kClasses, 64);
    torch::manual_seed(2);
    auto loaded = build_model(config, kFeatures, kClasses, 64);
    auto path = std::filesystem::temp_directory_path() / "medfusion_models_save_load.pt";

    torch::save(saved, path.string());
    torch::load(loaded, path.string());
    std::filesystem::remove(path);

    saved->eval();
    loaded->eval();
    torch::NoGradGuard no_grad;
    auto images = torch::randn({kBatch, 3, 64, 64});
    auto tabular = torch::randn({kBatch, kFeatures});
    EXPECT_TRUE(torch::equal(saved->forward(images, tabular).logits,
                             loaded->forward(images, tabular).logits));
}

TEST(MultimodalModelTest, SummaryCountsMatchTorchvisionResnet18) {
    auto config = config_for("resnet18", "image_only");
    config.feature_dim = 128;
    config.classifier_hidden = {64};
    auto model = build_model(config, 0, 2, 64);

    // torchvision resnet18 has 11,689,512 parameters, 513,000 of them in fc; then
    // Linear(512, 128) + BatchNorm1d(128) + Linear(128, 64) + Linear(64, 2).
    int64_t expected =
        (11689512 - 513000) + (512 * 128 + 128) + 256 + (128 * 64 + 64) + (64 * 2 + 2);
    auto summary = summarize(*model);
    EXPECT_EQ(summary.total_parameters, expected);
    EXPECT_EQ(summary.trainable_parameters, expected);
}

TEST(MultimodalModelTest, ImageOnlyIgnoresTabularAndTabularOnlyIgnoresImages) {
    torch::NoGradGuard no_grad;
    auto image_only = build_model(config_for("resnet18", "image_only"), 0, kClasses, 64);
    image_only->eval();
    EXPECT_EQ(image_only->forward(torch::randn({kBatch, 3, 64, 64}), {}).logits.size(0), kBatch);

    auto tabular_only =
        build_model(config_for("resnet18", "tabular_only"), kFeatures, kClasses, 64);
    tabular_only->eval();
    EXPECT_FALSE(tabular_only->has_vision());
    EXPECT_EQ(tabular_only->forward({}, torch::randn({kBatch, kFeatures})).logits.size(0), kBatch);
}

TEST(MultimodalModelTest, InvalidConfigsNameTheProblem) {
    auto config = config_for("resnet18", "late_fusion");
    EXPECT_NE(error_of(config, kFeatures)
                  .find("valid choices: concatenate, gated, attention, "
                        "cross_attention, bilinear, image_only, tabular_only"),
              std::string::npos);

    config = config_for("resnet18", "concatenate");
    config.tabular_encoder = "tabnet";
    EXPECT_NE(error_of(config, kFeatures).find("mlp, resmlp, ft_transformer"), std::string::npos);

    config = config_for("resnet18", "concatenate");
    EXPECT_NE(error_of(config, 0).find("needs tabular features"), std::string::npos);

    config = config_for("vit_b_32", "concatenate");
    config.attention = "se";
    EXPECT_NE(error_of(config, kFeatures).find("needs a feature map"), std::string::npos);

    config = config_for("resnet18", "attention");
    config.num_heads = 5;
    EXPECT_NE(error_of(config, kFeatures).find("divisible by num_heads"), std::string::npos);
}

}  // namespace
}  // namespace medfusion::models
