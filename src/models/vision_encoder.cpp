// The image branch: backbone trunk, optional CNN attention, projection head.
#include "medfusion/models/vision_encoder.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

constexpr int64_t kSeReduction = 16;
constexpr int64_t kCbamSpatialKernel = 7;

/// Squeeze-excitation (Hu et al.): channel weights from a bottleneck MLP on the pooled map.
class SeAttentionImpl : public torch::nn::Module {
public:
    explicit SeAttentionImpl(int64_t channels) {
        int64_t hidden = std::max<int64_t>(1, channels / kSeReduction);
        fc1_ = register_module("fc1", torch::nn::Linear(channels, hidden));
        fc2_ = register_module("fc2", torch::nn::Linear(hidden, channels));
    }

    torch::Tensor forward(torch::Tensor x) {
        auto pooled = x.mean({2, 3});
        auto weights = torch::sigmoid(fc2_->forward(torch::relu(fc1_->forward(pooled))));
        return x * weights.unsqueeze(-1).unsqueeze(-1);
    }

private:
    torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
};
TORCH_MODULE(SeAttention);

/// Efficient channel attention (Wang et al.): a 1-d convolution across pooled channels, its
/// kernel size adapted to the channel count.
class EcaAttentionImpl : public torch::nn::Module {
public:
    explicit EcaAttentionImpl(int64_t channels) {
        auto k = static_cast<int64_t>(std::abs((std::log2(static_cast<double>(channels)) + 1) / 2));
        k = k % 2 == 1 ? k : k + 1;
        conv_ = register_module(
            "conv",
            torch::nn::Conv1d(torch::nn::Conv1dOptions(1, 1, k).padding(k / 2).bias(false)));
    }

    torch::Tensor forward(torch::Tensor x) {
        auto pooled = x.mean({2, 3}).unsqueeze(1);  // [B, 1, C]
        auto weights = torch::sigmoid(conv_->forward(pooled)).squeeze(1);
        return x * weights.unsqueeze(-1).unsqueeze(-1);
    }

private:
    torch::nn::Conv1d conv_{nullptr};
};
TORCH_MODULE(EcaAttention);

/// CBAM (Woo et al.): channel attention from average- and max-pooled maps through a shared MLP,
/// then spatial attention from a 7x7 convolution over channel-wise average and max.
class CbamAttentionImpl : public torch::nn::Module {
public:
    explicit CbamAttentionImpl(int64_t channels) {
        int64_t hidden = std::max<int64_t>(1, channels / kSeReduction);
        mlp_ = register_module(
            "mlp", torch::nn::Sequential(torch::nn::Linear(channels, hidden), torch::nn::ReLU(),
                                         torch::nn::Linear(hidden, channels)));
        spatial_ = register_module(
            "spatial", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 1, kCbamSpatialKernel)
                                             .padding(kCbamSpatialKernel / 2)
                                             .bias(false)));
    }

    torch::Tensor forward(torch::Tensor x) {
        auto channel = mlp_->forward(x.mean({2, 3})) + mlp_->forward(x.amax({2, 3}));
        x = x * torch::sigmoid(channel).unsqueeze(-1).unsqueeze(-1);

        auto stats = torch::cat({x.mean(1, true), x.amax(1, true)}, 1);
        return x * torch::sigmoid(spatial_->forward(stats));
    }

private:
    torch::nn::Sequential mlp_{nullptr};
    torch::nn::Conv2d spatial_{nullptr};
};
TORCH_MODULE(CbamAttention);

}  // namespace

const std::vector<std::string>& cnn_attention_names() {
    static const std::vector<std::string> kNames = {"none", "cbam", "se", "eca"};
    return kNames;
}

torch::nn::AnyModule make_cnn_attention(const std::string& name, int64_t channels) {
    if (name == "se")
        return torch::nn::AnyModule(SeAttention(channels));
    if (name == "eca")
        return torch::nn::AnyModule(EcaAttention(channels));
    if (name == "cbam")
        return torch::nn::AnyModule(CbamAttention(channels));
    throw std::invalid_argument("unknown attention '" + name +
                                "'; valid choices: " + join_names(cnn_attention_names()));
}

VisionEncoderImpl::VisionEncoderImpl(const VisionEncoderOptions& options)
    : output_dim_(options.feature_dim) {
    const auto& names = cnn_attention_names();
    if (std::find(names.begin(), names.end(), options.attention) == names.end()) {
        make_cnn_attention(options.attention, 1);  // throws, listing the choices
    }
    backbone_ = register_module("backbone", make_backbone(options.backbone, options.image_size));
    if (options.attention != "none") {
        if (!backbone_->returns_feature_map()) {
            throw std::invalid_argument("attention '" + options.attention +
                                        "' needs a feature map; " + options.backbone +
                                        " gives a class token (use none)");
        }
        attention_ = make_cnn_attention(options.attention, backbone_->trunk_width());
        register_module("attention", attention_.ptr());
    }

    int64_t width = backbone_->trunk_width();
    projection_ = register_module(
        "projection",
        torch::nn::Sequential(torch::nn::Linear(width, options.feature_dim), torch::nn::ReLU(),
                              torch::nn::BatchNorm1d(options.feature_dim),
                              torch::nn::Dropout(options.dropout)));
}

torch::Tensor VisionEncoderImpl::forward(const torch::Tensor& images) {
    auto features = backbone_->forward(images);
    if (!attention_.is_empty()) {
        features = attention_.forward(features);
    }
    if (features.dim() == 4) {
        features = features.mean({2, 3});
    }
    return projection_->forward(features);
}

}  // namespace medfusion::models
