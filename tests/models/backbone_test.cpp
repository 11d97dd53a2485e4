// Backbone tests: parity with torchvision (fixtures made at test time by
// make_parity_fixtures.py), trunk shapes, and strict loading of state dicts.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "medfusion/models/backbone.hpp"

namespace medfusion::models {
namespace {

constexpr double kParityTolerance = 1e-4;

std::string fixture(const std::string& name, const std::string& kind) {
    return std::string(MEDFUSION_PARITY_DIR) + "/" + name + "." + kind + ".pt";
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a - b).abs().max().item<double>();
}

class BackboneParityTest : public testing::TestWithParam<std::string> {
protected:
    void SetUp() override { torch::set_num_threads(2); }
};

TEST_P(BackboneParityTest, TrunkMatchesTorchvisionInEvalMode) {
    const auto& name = GetParam();
    auto io = read_state_dict(fixture(name, "io"));
    auto images = io.at("input");
    auto backbone = make_backbone(name, images.size(-1));
    load_backbone_weights(*backbone, fixture(name, "state"));
    backbone->eval();

    torch::NoGradGuard no_grad;
    auto output = backbone->forward(images);
    ASSERT_EQ(output.sizes(), io.at("output").sizes());
    EXPECT_LE(max_abs_diff(output, io.at("output")), kParityTolerance);
    EXPECT_EQ(output.size(1), backbone->trunk_width());
}

INSTANTIATE_TEST_SUITE_P(AllBackbones, BackboneParityTest, testing::ValuesIn(backbone_names()),
                         [](const testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(BackboneTest, VitResizesPositionEmbeddingsLikeTorchvision) {
    torch::set_num_threads(2);
    auto io = read_state_dict(fixture("vit_b_16", "io"));
    auto images = io.at("input_resized");
    auto backbone = make_backbone("vit_b_16", images.size(-1));
    load_backbone_weights(*backbone, fixture("vit_b_16", "state"));
    backbone->eval();

    torch::NoGradGuard no_grad;
    EXPECT_LE(max_abs_diff(backbone->forward(images), io.at("output_resized")), kParityTolerance);
}

TEST(BackboneTest, StrictLoadListsEveryProblemInOneError) {
    auto backbone = make_backbone("resnet18");
    auto state = read_state_dict(fixture("resnet18", "state"));
    state.erase("layer1.0.conv1.weight");
    state.erase("bn1.running_mean");
    state["extra.weight"] = torch::zeros({1});
    state["conv1.weight"] = torch::zeros({64, 3, 3, 3});

    try {
        load_backbone_weights(*backbone, state);
        FAIL() << "expected a mismatch error";
    } catch (const std::runtime_error& error) {
        std::string message = error.what();
        EXPECT_NE(message.find("missing keys: bn1.running_mean, layer1.0.conv1.weight"),
                  std::string::npos)
            << message;
        EXPECT_NE(message.find("unexpected keys: extra.weight"), std::string::npos) << message;
        EXPECT_NE(message.find("conv1.weight (expected [64, 3, 7, 7], file has [64, 3, 3, 3])"),
                  std::string::npos)
            << message;
    }
}

TEST(BackboneTest, LoadIgnoresTorchvisionClassifierKeys) {
    auto backbone = make_backbone("mobilenet_v3_small");
    auto state = read_state_dict(fixture("mobilenet_v3_small", "state"));
    ASSERT_TRUE(state.count("classifier.3.weight"));

    EXPECT_NO_THROW(load_backbone_weights(*backbone, state));
}

TEST(BackboneTest, UnknownNameListsValidChoices) {
    try {
        make_backbone("resnet19");
        FAIL() << "expected std::invalid_argument";
    } catch (const std::invalid_argument& error) {
        std::string message = error.what();
        EXPECT_NE(message.find("resnet19"), std::string::npos);
        EXPECT_NE(message.find("resnet18, resnet34"), std::string::npos);
        EXPECT_NE(message.find("swin_t"), std::string::npos);
    }
}

TEST(BackboneTest, MissingFileNamesThePath) {
    auto backbone = make_backbone("resnet18");
    try {
        load_backbone_weights(*backbone, std::string("/nonexistent/weights.pth"));
        FAIL() << "expected std::runtime_error";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("/nonexistent/weights.pth"), std::string::npos);
    }
}

}  // namespace
}  // namespace medfusion::models
