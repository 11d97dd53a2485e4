// Building blocks shared by the backbone families.
#include "models/layers.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <stdexcept>

namespace medfusion::models {

torch::nn::AnyModule make_activation(Act act) {
    using torch::nn::Functional;
    switch (act) {
        case Act::kReLU:
            return torch::nn::AnyModule(torch::nn::ReLU(torch::nn::ReLUOptions(true)));
        case Act::kReLU6:
            return torch::nn::AnyModule(torch::nn::ReLU6(torch::nn::ReLU6Options(true)));
        case Act::kHardswish:
            return torch::nn::AnyModule(
                Functional([](torch::Tensor x) { return torch::hardswish(x); }));
        case Act::kHardsigmoid:
            return torch::nn::AnyModule(
                Functional([](torch::Tensor x) { return torch::hardsigmoid(x); }));
        case Act::kSiLU:
            return torch::nn::AnyModule(torch::nn::SiLU());
        case Act::kSigmoid:
            return torch::nn::AnyModule(torch::nn::Sigmoid());
        case Act::kGELU:
            return torch::nn::AnyModule(torch::nn::GELU());
        case Act::kNone:
            break;
    }
    throw std::logic_error("make_activation: no module for Act::kNone");
}

Act activation_from_name(const std::string& name) {
    if (name == "relu")
        return Act::kReLU;
    if (name == "gelu")
        return Act::kGELU;
    if (name == "silu")
        return Act::kSiLU;
    throw std::invalid_argument("unknown activation '" + name +
                                "'; valid choices: relu, gelu, silu");
}

std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += out.empty() ? name : ", " + name;
    }
    return out;
}

torch::nn::Conv2d conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                         bool bias, int64_t dilation) {
    auto options = torch::nn::Conv2dOptions(in, out, kernel)
                       .stride(stride)
                       .padding((kernel - 1) / 2 * dilation)
                       .dilation(dilation)
                       .groups(groups)
                       .bias(bias);
    return torch::nn::Conv2d(options);
}

SequentialBlock conv_norm_act(int64_t in, int64_t out, const ConvNormOptions& options) {
    SequentialBlock block;
    block->push_back(
        conv2d(in, out, options.kernel, options.stride, options.groups, false, options.dilation));
    block->push_back(torch::nn::BatchNorm2d(
        torch::nn::BatchNorm2dOptions(out).eps(options.bn_eps).momentum(options.bn_momentum)));
    if (options.act != Act::kNone) {
        block->push_back(make_activation(options.act));
    }
    return block;
}

int64_t make_divisible(double value, int64_t divisor) {
    auto rounded = static_cast<int64_t>(value + static_cast<double>(divisor) / 2.0);
    int64_t result = std::max(divisor, rounded / divisor * divisor);

    // Never round down by more than 10%.
    if (static_cast<double>(result) < 0.9 * value) {
        result += divisor;
    }
    return result;
}

SqueezeExcitationImpl::SqueezeExcitationImpl(int64_t channels, int64_t squeeze_channels,
                                             Act activation, Act scale_activation)
    : activation_(make_activation(activation)),
      scale_activation_(make_activation(scale_activation)) {
    fc1_ = register_module(
        "fc1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, squeeze_channels, 1)));
    fc2_ = register_module(
        "fc2", torch::nn::Conv2d(torch::nn::Conv2dOptions(squeeze_channels, channels, 1)));
}

torch::Tensor SqueezeExcitationImpl::forward(torch::Tensor x) {
    auto scale = torch::adaptive_avg_pool2d(x, {1, 1});
    scale = activation_.forward(fc1_->forward(scale));
    scale = scale_activation_.forward(fc2_->forward(scale));
    return scale * x;
}

torch::nn::AnyModule make_permute(std::vector<int64_t> dims) {
    return torch::nn::AnyModule(
        torch::nn::Functional([dims](torch::Tensor x) { return x.permute(dims); }));
}

LayerNorm2dImpl::LayerNorm2dImpl(int64_t channels, double eps) : channels_(channels), eps_(eps) {
    weight_ = register_parameter("weight", torch::ones({channels}));
    bias_ = register_parameter("bias", torch::zeros({channels}));
}

torch::Tensor LayerNorm2dImpl::forward(torch::Tensor x) {
    x = x.permute({0, 2, 3, 1});
    x = torch::layer_norm(x, {channels_}, weight_, bias_, eps_);
    return x.permute({0, 3, 1, 2});
}

SequentialBlock gelu_mlp(int64_t dim, int64_t hidden) {
    SequentialBlock mlp;
    mlp->push_back(torch::nn::Linear(dim, hidden));
    mlp->push_back(torch::nn::GELU());
    mlp->push_back(torch::nn::Dropout(0.0));
    mlp->push_back(torch::nn::Linear(hidden, dim));
    mlp->push_back(torch::nn::Dropout(0.0));
    return mlp;
}

FeaturesTrunkImpl::FeaturesTrunkImpl(const std::string& name, SequentialBlock features,
                                     int64_t width)
    : Backbone(name, width, {"classifier."}) {
    features_ = register_module("features", features);
}

torch::Tensor FeaturesTrunkImpl::forward(torch::Tensor images) {
    return features_->forward(images);
}

MultiheadAttentionImpl::MultiheadAttentionImpl(int64_t dim, int64_t num_heads)
    : dim_(dim), num_heads_(num_heads) {
    if (num_heads <= 0 || dim % num_heads != 0) {
        throw std::invalid_argument("attention width " + std::to_string(dim) +
                                    " is not divisible by num_heads " + std::to_string(num_heads));
    }
    in_proj_weight_ = register_parameter("in_proj_weight", torch::empty({3 * dim, dim}));
    in_proj_bias_ = register_parameter("in_proj_bias", torch::zeros({3 * dim}));
    out_proj_ = register_module("out_proj", torch::nn::Linear(dim, dim));
    torch::nn::init::xavier_uniform_(in_proj_weight_);
    torch::nn::init::zeros_(out_proj_->bias);
}

std::pair<torch::Tensor, torch::Tensor> MultiheadAttentionImpl::forward(
    const torch::Tensor& query, const torch::Tensor& key_value) {
    auto weights = in_proj_weight_.chunk(3, 0);
    auto biases = in_proj_bias_.chunk(3, 0);
    int64_t batch = query.size(0);
    int64_t head_dim = dim_ / num_heads_;
    auto split_heads = [&](const torch::Tensor& x) {
        return x.reshape({batch, x.size(1), num_heads_, head_dim}).transpose(1, 2);
    };

    // Project, split into heads, attend; the scale goes on q as in torch's implementation.
    auto q = split_heads(torch::linear(query, weights[0], biases[0]));
    auto k = split_heads(torch::linear(key_value, weights[1], biases[1]));
    auto v = split_heads(torch::linear(key_value, weights[2], biases[2]));
    q = q * (1.0 / std::sqrt(static_cast<double>(head_dim)));
    auto attention = torch::softmax(torch::matmul(q, k.transpose(-2, -1)), -1);

    auto out = torch::matmul(attention, v).transpose(1, 2).reshape({batch, query.size(1), dim_});
    return {out_proj_->forward(out), attention.mean(1)};
}

}  // namespace medfusion::models
