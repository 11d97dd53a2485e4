// Building blocks shared by the backbone families, named as torchvision names them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "medfusion/models/backbone.hpp"

namespace medfusion::models {

/// A Sequential that can itself be a child of a Sequential (torchvision nests them freely).
class SequentialBlockImpl : public torch::nn::SequentialImpl {
public:
    using torch::nn::SequentialImpl::SequentialImpl;
    torch::Tensor forward(torch::Tensor x) { return torch::nn::SequentialImpl::forward(x); }
};
TORCH_MODULE(SequentialBlock);

enum class Act { kNone, kReLU, kReLU6, kHardswish, kHardsigmoid, kSiLU, kSigmoid, kGELU };

/// A parameter-free activation module (usable inside a Sequential).
torch::nn::AnyModule make_activation(Act act);

/// The config's `model.activation` (relu | gelu | silu); throws std::invalid_argument.
Act activation_from_name(const std::string& name);

/// "a, b, c": for error messages that list valid choices.
std::string join_names(const std::vector<std::string>& names);

struct ConvNormOptions {
    int64_t kernel = 3;
    int64_t stride = 1;
    int64_t groups = 1;
    int64_t dilation = 1;
    Act act = Act::kReLU;
    double bn_eps = 1e-5;
    double bn_momentum = 0.1;
};

/// torchvision's Conv2dNormActivation: `0` conv (no bias), `1` BatchNorm2d, `2` activation.
SequentialBlock conv_norm_act(int64_t in, int64_t out, const ConvNormOptions& options);

/// A 2-d convolution with torchvision's default padding ((k - 1) / 2 * dilation).
torch::nn::Conv2d conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1,
                         int64_t groups = 1, bool bias = false, int64_t dilation = 1);

/// torchvision's `_make_divisible`: rounds channels to a multiple of `divisor`.
int64_t make_divisible(double value, int64_t divisor);

/// torchvision.ops.SqueezeExcitation: avgpool, `fc1`, activation, `fc2`, scale activation.
class SqueezeExcitationImpl : public torch::nn::Module {
public:
    SqueezeExcitationImpl(int64_t channels, int64_t squeeze_channels, Act activation,
                          Act scale_activation);
    torch::Tensor forward(torch::Tensor x);

private:
    torch::nn::Conv2d fc1_{nullptr};
    torch::nn::Conv2d fc2_{nullptr};
    torch::nn::AnyModule activation_;
    torch::nn::AnyModule scale_activation_;
};
TORCH_MODULE(SqueezeExcitation);

/// A parameter-free module that permutes dimensions (torchvision.ops.Permute).
torch::nn::AnyModule make_permute(std::vector<int64_t> dims);

/// Channel-first LayerNorm (torchvision's LayerNorm2d): normalises over C at each position.
class LayerNorm2dImpl : public torch::nn::Module {
public:
    LayerNorm2dImpl(int64_t channels, double eps);
    torch::Tensor forward(torch::Tensor x);

private:
    int64_t channels_;
    double eps_;
    torch::Tensor weight_;
    torch::Tensor bias_;
};
TORCH_MODULE(LayerNorm2d);

/// torchvision.ops.MLP with one hidden layer and GELU: `0` Linear, `3` Linear (ViT, Swin).
SequentialBlock gelu_mlp(int64_t dim, int64_t hidden);

/// A trunk whose whole body is one `features` Sequential (MobileNet, EfficientNet, ConvNeXt).
class FeaturesTrunkImpl : public Backbone {
public:
    FeaturesTrunkImpl(const std::string& name, SequentialBlock features, int64_t width);
    torch::Tensor forward(torch::Tensor images) override;

private:
    SequentialBlock features_{nullptr};
};

/// Multi-head attention with nn.MultiheadAttention's parameter names (`in_proj_weight`,
/// `in_proj_bias`, `out_proj`), batch first: query [B, Lq, D], key/value [B, Lk, D].
class MultiheadAttentionImpl : public torch::nn::Module {
public:
    MultiheadAttentionImpl(int64_t dim, int64_t num_heads);

    /// Returns the attended values [B, Lq, D] and the weights averaged over heads [B, Lq, Lk].
    std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& query,
                                                    const torch::Tensor& key_value);

private:
    int64_t dim_;
    int64_t num_heads_;
    torch::Tensor in_proj_weight_;
    torch::Tensor in_proj_bias_;
    torch::nn::Linear out_proj_{nullptr};
};
TORCH_MODULE(MultiheadAttention);

// Family factories; each accepts only its own torchvision names.
std::shared_ptr<Backbone> make_resnet(const std::string& name);
std::shared_ptr<Backbone> make_mobilenet(const std::string& name);
std::shared_ptr<Backbone> make_efficientnet(const std::string& name);
std::shared_ptr<Backbone> make_densenet(const std::string& name);
std::shared_ptr<Backbone> make_convnext(const std::string& name);
std::shared_ptr<Backbone> make_regnet(const std::string& name);
std::shared_ptr<Backbone> make_vit(const std::string& name, int64_t image_size);
std::shared_ptr<Backbone> make_swin(const std::string& name);

}  // namespace medfusion::models
