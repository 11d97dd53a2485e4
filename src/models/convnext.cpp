// ConvNeXt-Tiny/Small trunks (torchvision.models.convnext): output of `features`.
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

constexpr double kNormEps = 1e-6;
constexpr double kLayerScaleInit = 1e-6;

/// Depthwise 7x7 conv, LayerNorm, MLP (x4), scaled by a learned per-channel `layer_scale`.
/// Stochastic depth is not applied.
class CNBlockImpl : public torch::nn::Module {
public:
    explicit CNBlockImpl(int64_t dim) {
        SequentialBlock block;
        block->push_back(
            torch::nn::Conv2d(torch::nn::Conv2dOptions(dim, dim, 7).padding(3).groups(dim)));
        block->push_back(make_permute({0, 2, 3, 1}));
        block->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(kNormEps)));
        block->push_back(torch::nn::Linear(dim, 4 * dim));
        block->push_back(torch::nn::GELU());
        block->push_back(torch::nn::Linear(4 * dim, dim));
        block->push_back(make_permute({0, 3, 1, 2}));
        block_ = register_module("block", block);
        layer_scale_ = register_parameter("layer_scale", torch::full({dim, 1, 1}, kLayerScaleInit));
    }

    torch::Tensor forward(torch::Tensor x) { return layer_scale_ * block_->forward(x) + x; }

private:
    SequentialBlock block_{nullptr};
    torch::Tensor layer_scale_;
};
TORCH_MODULE(CNBlock);

std::shared_ptr<Backbone> convnext(const std::string& name, const std::vector<int64_t>& depths) {
    const int64_t widths[4] = {96, 192, 384, 768};
    SequentialBlock features;

    SequentialBlock stem;
    stem->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, widths[0], 4).stride(4)));
    stem->push_back(LayerNorm2d(widths[0], kNormEps));
    features->push_back(stem);

    for (size_t stage = 0; stage < depths.size(); ++stage) {
        SequentialBlock blocks;
        for (int64_t i = 0; i < depths[stage]; ++i) {
            blocks->push_back(CNBlock(widths[stage]));
        }
        features->push_back(blocks);
        if (stage + 1 < depths.size()) {
            SequentialBlock downsample;
            downsample->push_back(LayerNorm2d(widths[stage], kNormEps));
            downsample->push_back(torch::nn::Conv2d(
                torch::nn::Conv2dOptions(widths[stage], widths[stage + 1], 2).stride(2)));
            features->push_back(downsample);
        }
    }
    return std::make_shared<FeaturesTrunkImpl>(name, features, widths[3]);
}

}  // namespace

std::shared_ptr<Backbone> make_convnext(const std::string& name) {
    if (name == "convnext_tiny")
        return convnext(name, {3, 3, 9, 3});
    if (name == "convnext_small")
        return convnext(name, {3, 3, 27, 3});
    throw std::invalid_argument("not a convnext: " + name);
}

}  // namespace medfusion::models
