// The tabular encoders: MLP, residual MLP and FT-Transformer.
#include "medfusion/models/tabular_encoder.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

constexpr int64_t kFeedForwardMultiplier = 2;

class MlpEncoderImpl : public TabularEncoder {
public:
    explicit MlpEncoderImpl(const TabularEncoderOptions& options)
        : TabularEncoder("MlpEncoder", options.hidden.back()) {
        Act act = activation_from_name(options.activation);
        torch::nn::Sequential layers;
        int64_t in = options.num_features;
        for (int64_t width : options.hidden) {
            layers->push_back(torch::nn::Linear(in, width));
            layers->push_back(torch::nn::BatchNorm1d(width));
            layers->push_back(make_activation(act));
            layers->push_back(torch::nn::Dropout(options.dropout));
            in = width;
        }
        layers_ = register_module("layers", layers);
    }

    torch::Tensor forward(const torch::Tensor& features) override {
        return layers_->forward(features);
    }

private:
    torch::nn::Sequential layers_{nullptr};
};

/// Linear-BN-activation-Dropout-Linear-BN plus a skip (a Linear when widths differ).
class ResidualBlockImpl : public torch::nn::Module {
public:
    ResidualBlockImpl(int64_t in, int64_t out, Act act, double dropout)
        : activation_(make_activation(act)) {
        body_ = register_module(
            "body",
            torch::nn::Sequential(torch::nn::Linear(in, out), torch::nn::BatchNorm1d(out),
                                  make_activation(act), torch::nn::Dropout(dropout),
                                  torch::nn::Linear(out, out), torch::nn::BatchNorm1d(out)));
        if (in != out) {
            skip_ = register_module("skip", torch::nn::Linear(in, out));
        }
    }

    torch::Tensor forward(torch::Tensor x) {
        auto skip = skip_ ? skip_->forward(x) : x;
        return activation_.forward(body_->forward(x) + skip);
    }

private:
    torch::nn::Sequential body_{nullptr};
    torch::nn::Linear skip_{nullptr};
    torch::nn::AnyModule activation_;
};
TORCH_MODULE(ResidualBlock);

class ResMlpEncoderImpl : public TabularEncoder {
public:
    explicit ResMlpEncoderImpl(const TabularEncoderOptions& options)
        : TabularEncoder("ResMlpEncoder", options.hidden.back()) {
        Act act = activation_from_name(options.activation);
        stem_ = register_module("stem", torch::nn::Linear(options.num_features, options.hidden[0]));
        torch::nn::Sequential blocks;
        int64_t in = options.hidden[0];
        for (int64_t width : options.hidden) {
            blocks->push_back(ResidualBlock(in, width, act, options.dropout));
            in = width;
        }
        blocks_ = register_module("blocks", blocks);
    }

    torch::Tensor forward(const torch::Tensor& features) override {
        return blocks_->forward(stem_->forward(features));
    }

private:
    torch::nn::Linear stem_{nullptr};
    torch::nn::Sequential blocks_{nullptr};
};

/// Pre-norm transformer layer: x + attention(norm(x)), then x + feed_forward(norm(x)).
class TransformerLayerImpl : public torch::nn::Module {
public:
    TransformerLayerImpl(int64_t dim, int64_t num_heads, Act act, double dropout) {
        norm1_ = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
        attention_ = register_module("attention", MultiheadAttention(dim, num_heads));
        norm2_ = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
        int64_t hidden = kFeedForwardMultiplier * dim;
        feed_forward_ = register_module(
            "feed_forward",
            torch::nn::Sequential(torch::nn::Linear(dim, hidden), make_activation(act),
                                  torch::nn::Dropout(dropout), torch::nn::Linear(hidden, dim)));
        dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
    }

    torch::Tensor forward(torch::Tensor x) {
        auto normed = norm1_->forward(x);
        x = x + dropout_->forward(attention_->forward(normed, normed).first);
        return x + dropout_->forward(feed_forward_->forward(norm2_->forward(x)));
    }

private:
    torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
    MultiheadAttention attention_{nullptr};
    torch::nn::Sequential feed_forward_{nullptr};
    torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(TransformerLayer);

class FtTransformerEncoderImpl : public TabularEncoder {
public:
    explicit FtTransformerEncoderImpl(const TabularEncoderOptions& options)
        : TabularEncoder("FtTransformerEncoder", options.hidden[0]) {
        int64_t dim = options.hidden[0];
        Act act = activation_from_name(options.activation);
        double bound = 1.0 / std::sqrt(static_cast<double>(dim));
        token_weight_ = register_parameter(
            "token_weight", torch::empty({options.num_features, dim}).uniform_(-bound, bound));
        token_bias_ = register_parameter(
            "token_bias", torch::empty({options.num_features, dim}).uniform_(-bound, bound));
        cls_token_ =
            register_parameter("cls_token", torch::empty({1, 1, dim}).uniform_(-bound, bound));
        torch::nn::Sequential layers;
        for (size_t i = 0; i < options.hidden.size(); ++i) {
            layers->push_back(TransformerLayer(dim, options.num_heads, act, options.dropout));
        }
        layers_ = register_module("layers", layers);
        norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    }

    torch::Tensor forward(const torch::Tensor& features) override {
        auto tokens = features.unsqueeze(-1) * token_weight_ + token_bias_;  // [B, F, D]
        auto cls = cls_token_.expand({features.size(0), -1, -1});
        auto x = layers_->forward(torch::cat({cls, tokens}, 1));
        return norm_->forward(x.select(1, 0));
    }

private:
    torch::Tensor token_weight_, token_bias_, cls_token_;
    torch::nn::Sequential layers_{nullptr};
    torch::nn::LayerNorm norm_{nullptr};
};

void validate(const TabularEncoderOptions& options) {
    const auto& names = tabular_encoder_names();
    if (std::find(names.begin(), names.end(), options.type) == names.end()) {
        throw std::invalid_argument("unknown tabular_encoder '" + options.type +
                                    "'; valid choices: " + join_names(names));
    }
    if (options.num_features <= 0) {
        throw std::invalid_argument("a tabular encoder needs at least one tabular feature");
    }
    if (options.hidden.empty() || std::any_of(options.hidden.begin(), options.hidden.end(),
                                              [](int64_t w) { return w <= 0; })) {
        throw std::invalid_argument("tabular_hidden must be a non-empty list of positive widths");
    }
    if (options.type == "ft_transformer" &&
        (options.num_heads <= 0 || options.hidden[0] % options.num_heads != 0)) {
        throw std::invalid_argument(
            "ft_transformer: tabular_hidden[0] (" + std::to_string(options.hidden[0]) +
            ") must be divisible by num_heads (" + std::to_string(options.num_heads) + ")");
    }
}

}  // namespace

const std::vector<std::string>& tabular_encoder_names() {
    static const std::vector<std::string> kNames = {"mlp", "resmlp", "ft_transformer"};
    return kNames;
}

std::shared_ptr<TabularEncoder> make_tabular_encoder(const TabularEncoderOptions& options) {
    validate(options);
    if (options.type == "mlp")
        return std::make_shared<MlpEncoderImpl>(options);
    if (options.type == "resmlp")
        return std::make_shared<ResMlpEncoderImpl>(options);
    return std::make_shared<FtTransformerEncoderImpl>(options);
}

}  // namespace medfusion::models
