// MobileNet V2 and V3 trunks (torchvision.models.mobilenetv2/v3): output of `features`.
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

/// MobileNetV2's inverted residual: expand (1x1), depthwise 3x3, project (1x1), in `conv`.
class InvertedResidualV2Impl : public torch::nn::Module {
public:
    InvertedResidualV2Impl(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio)
        : use_residual_(stride == 1 && in == out) {
        int64_t hidden = in * expand_ratio;
        SequentialBlock conv;
        if (expand_ratio != 1) {
            conv->push_back(conv_norm_act(in, hidden, {.kernel = 1, .act = Act::kReLU6}));
        }
        conv->push_back(conv_norm_act(
            hidden, hidden, {.kernel = 3, .stride = stride, .groups = hidden, .act = Act::kReLU6}));
        conv->push_back(conv2d(hidden, out, 1));
        conv->push_back(torch::nn::BatchNorm2d(out));
        conv_ = register_module("conv", conv);
    }

    torch::Tensor forward(torch::Tensor x) {
        return use_residual_ ? x + conv_->forward(x) : conv_->forward(x);
    }

private:
    bool use_residual_;
    SequentialBlock conv_{nullptr};
};
TORCH_MODULE(InvertedResidualV2);

/// One row of MobileNetV3's block table.
struct BlockV3 {
    int64_t in, kernel, expanded, out;
    bool use_se, hardswish;
    int64_t stride;
};

/// MobileNetV3's inverted residual with optional squeeze-excitation, in `block`.
class InvertedResidualV3Impl : public torch::nn::Module {
public:
    static constexpr double kEps = 0.001;
    static constexpr double kMomentum = 0.01;

    explicit InvertedResidualV3Impl(const BlockV3& cfg)
        : use_residual_(cfg.stride == 1 && cfg.in == cfg.out) {
        Act act = cfg.hardswish ? Act::kHardswish : Act::kReLU;
        ConvNormOptions options{.act = act, .bn_eps = kEps, .bn_momentum = kMomentum};
        SequentialBlock block;
        if (cfg.expanded != cfg.in) {
            options.kernel = 1;
            block->push_back(conv_norm_act(cfg.in, cfg.expanded, options));
        }
        options.kernel = cfg.kernel;
        options.stride = cfg.stride;
        options.groups = cfg.expanded;
        block->push_back(conv_norm_act(cfg.expanded, cfg.expanded, options));
        if (cfg.use_se) {
            int64_t squeeze = make_divisible(static_cast<double>(cfg.expanded / 4), 8);
            block->push_back(
                SqueezeExcitation(cfg.expanded, squeeze, Act::kReLU, Act::kHardsigmoid));
        }
        block->push_back(conv_norm_act(
            cfg.expanded, cfg.out,
            {.kernel = 1, .act = Act::kNone, .bn_eps = kEps, .bn_momentum = kMomentum}));
        block_ = register_module("block", block);
    }

    torch::Tensor forward(torch::Tensor x) {
        return use_residual_ ? block_->forward(x) + x : block_->forward(x);
    }

private:
    bool use_residual_;
    SequentialBlock block_{nullptr};
};
TORCH_MODULE(InvertedResidualV3);

std::shared_ptr<Backbone> mobilenet_v2() {
    // expand ratio, channels, repeats, stride
    const int64_t table[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                 {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    SequentialBlock features;
    features->push_back(conv_norm_act(3, 32, {.kernel = 3, .stride = 2, .act = Act::kReLU6}));
    int64_t in = 32;
    for (const auto& row : table) {
        for (int64_t i = 0; i < row[2]; ++i) {
            features->push_back(InvertedResidualV2(in, row[1], i == 0 ? row[3] : 1, row[0]));
            in = row[1];
        }
    }
    features->push_back(conv_norm_act(in, 1280, {.kernel = 1, .act = Act::kReLU6}));
    return std::make_shared<FeaturesTrunkImpl>("mobilenet_v2", features, 1280);
}

std::shared_ptr<Backbone> mobilenet_v3(const std::string& name, const std::vector<BlockV3>& table) {
    ConvNormOptions stem{.kernel = 3,
                         .stride = 2,
                         .act = Act::kHardswish,
                         .bn_eps = InvertedResidualV3Impl::kEps,
                         .bn_momentum = InvertedResidualV3Impl::kMomentum};
    SequentialBlock features;
    features->push_back(conv_norm_act(3, table.front().in, stem));
    for (const auto& row : table) {
        features->push_back(InvertedResidualV3(row));
    }
    int64_t last_in = table.back().out;
    stem.kernel = 1;
    stem.stride = 1;
    features->push_back(conv_norm_act(last_in, 6 * last_in, stem));
    return std::make_shared<FeaturesTrunkImpl>(name, features, 6 * last_in);
}

}  // namespace

std::shared_ptr<Backbone> make_mobilenet(const std::string& name) {
    if (name == "mobilenet_v2")
        return mobilenet_v2();
    if (name == "mobilenet_v3_large") {
        return mobilenet_v3(name, {{16, 3, 16, 16, false, false, 1},
                                   {16, 3, 64, 24, false, false, 2},
                                   {24, 3, 72, 24, false, false, 1},
                                   {24, 5, 72, 40, true, false, 2},
                                   {40, 5, 120, 40, true, false, 1},
                                   {40, 5, 120, 40, true, false, 1},
                                   {40, 3, 240, 80, false, true, 2},
                                   {80, 3, 200, 80, false, true, 1},
                                   {80, 3, 184, 80, false, true, 1},
                                   {80, 3, 184, 80, false, true, 1},
                                   {80, 3, 480, 112, true, true, 1},
                                   {112, 3, 672, 112, true, true, 1},
                                   {112, 5, 672, 160, true, true, 2},
                                   {160, 5, 960, 160, true, true, 1},
                                   {160, 5, 960, 160, true, true, 1}});
    }
    if (name == "mobilenet_v3_small") {
        return mobilenet_v3(name, {{16, 3, 16, 16, true, false, 2},
                                   {16, 3, 72, 24, false, false, 2},
                                   {24, 3, 88, 24, false, false, 1},
                                   {24, 5, 96, 40, true, true, 2},
                                   {40, 5, 240, 40, true, true, 1},
                                   {40, 5, 240, 40, true, true, 1},
                                   {40, 5, 120, 48, true, true, 1},
                                   {48, 5, 144, 48, true, true, 1},
                                   {48, 5, 288, 96, true, true, 2},
                                   {96, 5, 576, 96, true, true, 1},
                                   {96, 5, 576, 96, true, true, 1}});
    }
    throw std::invalid_argument("not a mobilenet: " + name);
}

}  // namespace medfusion::models
