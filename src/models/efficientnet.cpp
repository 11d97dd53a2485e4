// EfficientNet-B0/B1/B2 trunks (torchvision.models.efficientnet): output of `features`.
#include <cmath>
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

/// Mobile inverted bottleneck with squeeze-excitation and SiLU, in `block`. Stochastic depth
/// is the identity in eval mode and is not applied in training either.
class MBConvImpl : public torch::nn::Module {
public:
    MBConvImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, double expand_ratio)
        : use_residual_(stride == 1 && in == out) {
        int64_t expanded = make_divisible(static_cast<double>(in) * expand_ratio, 8);
        SequentialBlock block;
        if (expanded != in) {
            block->push_back(conv_norm_act(in, expanded, {.kernel = 1, .act = Act::kSiLU}));
        }
        block->push_back(conv_norm_act(
            expanded, expanded,
            {.kernel = kernel, .stride = stride, .groups = expanded, .act = Act::kSiLU}));
        int64_t squeeze = std::max<int64_t>(1, in / 4);
        block->push_back(SqueezeExcitation(expanded, squeeze, Act::kSiLU, Act::kSigmoid));
        block->push_back(conv_norm_act(expanded, out, {.kernel = 1, .act = Act::kNone}));
        block_ = register_module("block", block);
    }

    torch::Tensor forward(torch::Tensor x) {
        return use_residual_ ? block_->forward(x) + x : block_->forward(x);
    }

private:
    bool use_residual_;
    SequentialBlock block_{nullptr};
};
TORCH_MODULE(MBConv);

std::shared_ptr<Backbone> efficientnet(const std::string& name, double width_mult,
                                       double depth_mult) {
    // expand ratio, kernel, stride, in, out, layers (before width/depth scaling)
    const double table[7][6] = {
        {1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},   {6, 5, 2, 24, 40, 2},  {6, 3, 2, 40, 80, 3},
        {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1}};
    auto width = [width_mult](double channels) { return make_divisible(channels * width_mult, 8); };

    SequentialBlock features;
    features->push_back(conv_norm_act(3, width(32), {.kernel = 3, .stride = 2, .act = Act::kSiLU}));
    int64_t out = 0;
    for (const auto& row : table) {
        int64_t in = width(row[3]);
        out = width(row[4]);
        auto layers = static_cast<int64_t>(std::ceil(row[5] * depth_mult));
        SequentialBlock stage;
        for (int64_t i = 0; i < layers; ++i) {
            stage->push_back(MBConv(i == 0 ? in : out, out, static_cast<int64_t>(row[1]),
                                    i == 0 ? static_cast<int64_t>(row[2]) : 1, row[0]));
        }
        features->push_back(stage);
    }
    features->push_back(conv_norm_act(out, 4 * out, {.kernel = 1, .act = Act::kSiLU}));
    return std::make_shared<FeaturesTrunkImpl>(name, features, 4 * out);
}

}  // namespace

std::shared_ptr<Backbone> make_efficientnet(const std::string& name) {
    if (name == "efficientnet_b0")
        return efficientnet(name, 1.0, 1.0);
    if (name == "efficientnet_b1")
        return efficientnet(name, 1.0, 1.1);
    if (name == "efficientnet_b2")
        return efficientnet(name, 1.1, 1.2);
    throw std::invalid_argument("not an efficientnet: " + name);
}

}  // namespace medfusion::models
