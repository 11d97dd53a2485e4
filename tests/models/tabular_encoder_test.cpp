// TabularEncoder tests: widths, parameter counts by hand, validation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "medfusion/models/tabular_encoder.hpp"

namespace medfusion::models {
namespace {

int64_t count(torch::nn::Module& module) {
    int64_t total = 0;
    for (const auto& parameter : module.parameters())
        total += parameter.numel();
    return total;
}

TabularEncoderOptions options_for(const std::string& type) {
    return TabularEncoderOptions{.type = type,
                                 .num_features = 10,
                                 .hidden = {32, 16},
                                 .activation = "gelu",
                                 .dropout = 0.0,
                                 .num_heads = 4};
}

TEST(TabularEncoderTest, EveryEncoderGivesItsOutputWidth) {
    auto x = torch::randn({5, 10});
    for (const auto& type : tabular_encoder_names()) {
        auto encoder = make_tabular_encoder(options_for(type));
        EXPECT_EQ(encoder->forward(x).sizes(), (std::vector<int64_t>{5, encoder->output_dim()}));
    }
    EXPECT_EQ(make_tabular_encoder(options_for("mlp"))->output_dim(), 16);
    EXPECT_EQ(make_tabular_encoder(options_for("ft_transformer"))->output_dim(), 32);
}

TEST(TabularEncoderTest, MlpParameterCountMatchesHandCount) {
    // Linear(10, 32) + BN(32) + Linear(32, 16) + BN(16).
    auto encoder = make_tabular_encoder(options_for("mlp"));
    EXPECT_EQ(count(*encoder), (10 * 32 + 32) + 64 + (32 * 16 + 16) + 32);
}

TEST(TabularEncoderTest, ResMlpParameterCountMatchesHandCount) {
    // stem Linear(10, 32); block 32->32: 2 Linear(32, 32) + 2 BN(32);
    // block 32->16: Linear(32, 16) + Linear(16, 16) + 2 BN(16) + skip Linear(32, 16).
    auto encoder = make_tabular_encoder(options_for("resmlp"));
    int64_t expected = (10 * 32 + 32) + 2 * (32 * 32 + 32) + 2 * 64 + (32 * 16 + 16) +
                       (16 * 16 + 16) + 2 * 32 + (32 * 16 + 16);
    EXPECT_EQ(count(*encoder), expected);
}

TEST(TabularEncoderTest, FtTransformerOutputDependsOnEveryFeature) {
    torch::manual_seed(0);
    auto encoder = make_tabular_encoder(options_for("ft_transformer"));
    encoder->eval();
    auto x = torch::randn({1, 10});
    auto base = encoder->forward(x);
    for (int64_t i = 0; i < 10; ++i) {
        auto changed = x.clone();
        changed[0][i] += 1.0;
        EXPECT_FALSE(torch::allclose(encoder->forward(changed), base)) << "feature " << i;
    }
}

TEST(TabularEncoderTest, InvalidOptionsAreRejected) {
    auto options = options_for("ft_transformer");
    options.num_heads = 5;
    EXPECT_THROW(make_tabular_encoder(options), std::invalid_argument);

    options = options_for("mlp");
    options.num_features = 0;
    EXPECT_THROW(make_tabular_encoder(options), std::invalid_argument);

    options = options_for("mlp");
    options.activation = "tanh";
    EXPECT_THROW(make_tabular_encoder(options), std::invalid_argument);
}

}  // namespace
}  // namespace medfusion::models
