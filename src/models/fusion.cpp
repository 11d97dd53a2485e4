// The fusion strategies.
#include "medfusion/models/fusion.hpp"

#include <algorithm>
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

constexpr int64_t kCrossAttentionTokens = 4;

class ConcatenateFusionImpl : public Fusion {
public:
    explicit ConcatenateFusionImpl(const FusionOptions& o)
        : Fusion("ConcatenateFusion", o.fusion_dim) {
        projection_ = register_module(
            "projection",
            torch::nn::Sequential(torch::nn::Linear(o.vision_dim + o.tabular_dim, o.fusion_dim),
                                  torch::nn::ReLU(), torch::nn::Dropout(o.dropout)));
    }

    FusionOutput forward(const torch::Tensor& vision, const torch::Tensor& tabular) override {
        return {projection_->forward(torch::cat({vision, tabular}, 1)), {}};
    }

private:
    torch::nn::Sequential projection_{nullptr};
};

class GatedFusionImpl : public Fusion {
public:
    explicit GatedFusionImpl(const FusionOptions& o) : Fusion("GatedFusion", o.fusion_dim) {
        vision_ = register_module("vision", torch::nn::Linear(o.vision_dim, o.fusion_dim));
        tabular_ = register_module("tabular", torch::nn::Linear(o.tabular_dim, o.fusion_dim));
        gate_ =
            register_module("gate", torch::nn::Linear(o.vision_dim + o.tabular_dim, o.fusion_dim));
        modality_logits_ = register_parameter("modality_logits", torch::zeros({2}));
        dropout_ = register_module("dropout", torch::nn::Dropout(o.dropout));
    }

    FusionOutput forward(const torch::Tensor& vision, const torch::Tensor& tabular) override {
        auto hv = torch::tanh(vision_->forward(vision));
        auto ht = torch::tanh(tabular_->forward(tabular));
        auto z = torch::sigmoid(gate_->forward(torch::cat({vision, tabular}, 1)));
        auto modality = torch::softmax(modality_logits_, 0);

        auto fused = z * modality[0] * hv + (1 - z) * modality[1] * ht;
        return {dropout_->forward(fused),
                {{"gate", z.detach()}, {"modality_weights", modality.detach()}}};
    }

private:
    torch::nn::Linear vision_{nullptr}, tabular_{nullptr}, gate_{nullptr};
    torch::Tensor modality_logits_;
    torch::nn::Dropout dropout_{nullptr};
};

class AttentionFusionImpl : public Fusion {
public:
    explicit AttentionFusionImpl(const FusionOptions& o) : Fusion("AttentionFusion", o.fusion_dim) {
        vision_ = register_module("vision", torch::nn::Linear(o.vision_dim, o.fusion_dim));
        tabular_ = register_module("tabular", torch::nn::Linear(o.tabular_dim, o.fusion_dim));
        cls_token_ = register_parameter("cls_token", torch::randn({1, 1, o.fusion_dim}) * 0.02);
        attention_ = register_module("attention", MultiheadAttention(o.fusion_dim, o.num_heads));
        norm_ = register_module("norm",
                                torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.fusion_dim})));
        dropout_ = register_module("dropout", torch::nn::Dropout(o.dropout));
    }

    FusionOutput forward(const torch::Tensor& vision, const torch::Tensor& tabular) override {
        auto tokens = torch::cat(
            {cls_token_.expand({vision.size(0), -1, -1}), vision_->forward(vision).unsqueeze(1),
             tabular_->forward(tabular).unsqueeze(1)},
            1);
        auto [attended, weights] = attention_->forward(tokens, tokens);
        auto out = norm_->forward(tokens + dropout_->forward(attended));
        return {out.select(1, 0), {{"attention", weights.detach()}}};
    }

private:
    torch::nn::Linear vision_{nullptr}, tabular_{nullptr};
    torch::Tensor cls_token_;
    MultiheadAttention attention_{nullptr};
    torch::nn::LayerNorm norm_{nullptr};
    torch::nn::Dropout dropout_{nullptr};
};

class CrossAttentionFusionImpl : public Fusion {
public:
    explicit CrossAttentionFusionImpl(const FusionOptions& o)
        : Fusion("CrossAttentionFusion", o.fusion_dim), dim_(o.fusion_dim) {
        int64_t width = kCrossAttentionTokens * o.fusion_dim;
        vision_ = register_module("vision", torch::nn::Linear(o.vision_dim, width));
        tabular_ = register_module("tabular", torch::nn::Linear(o.tabular_dim, width));
        vision_to_tabular_ =
            register_module("vision_to_tabular", MultiheadAttention(o.fusion_dim, o.num_heads));
        tabular_to_vision_ =
            register_module("tabular_to_vision", MultiheadAttention(o.fusion_dim, o.num_heads));
        norm_ = register_module("norm",
                                torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.fusion_dim})));
        output_ = register_module(
            "output", torch::nn::Sequential(torch::nn::Linear(2 * o.fusion_dim, o.fusion_dim),
                                            torch::nn::ReLU(), torch::nn::Dropout(o.dropout)));
    }

    FusionOutput forward(const torch::Tensor& vision, const torch::Tensor& tabular) override {
        auto v = vision_->forward(vision).view({vision.size(0), kCrossAttentionTokens, dim_});
        auto t = tabular_->forward(tabular).view({tabular.size(0), kCrossAttentionTokens, dim_});
        auto [v_out, v_weights] = vision_to_tabular_->forward(v, t);
        auto [t_out, t_weights] = tabular_to_vision_->forward(t, v);

        auto joined =
            torch::cat({norm_->forward(v + v_out).mean(1), norm_->forward(t + t_out).mean(1)}, 1);
        return {
            output_->forward(joined),
            {{"vision_to_tabular", v_weights.detach()}, {"tabular_to_vision", t_weights.detach()}}};
    }

private:
    int64_t dim_;
    torch::nn::Linear vision_{nullptr}, tabular_{nullptr};
    MultiheadAttention vision_to_tabular_{nullptr}, tabular_to_vision_{nullptr};
    torch::nn::LayerNorm norm_{nullptr};
    torch::nn::Sequential output_{nullptr};
};

class BilinearFusionImpl : public Fusion {
public:
    explicit BilinearFusionImpl(const FusionOptions& o)
        : Fusion("BilinearFusion", o.fusion_dim), dim_(o.fusion_dim), rank_(o.bilinear_rank) {
        vision_ = register_module("vision",
                                  torch::nn::Linear(o.vision_dim, o.fusion_dim * o.bilinear_rank));
        tabular_ = register_module(
            "tabular", torch::nn::Linear(o.tabular_dim, o.fusion_dim * o.bilinear_rank));
        norm_ = register_module("norm",
                                torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.fusion_dim})));
        dropout_ = register_module("dropout", torch::nn::Dropout(o.dropout));
    }

    FusionOutput forward(const torch::Tensor& vision, const torch::Tensor& tabular) override {
        auto product = vision_->forward(vision) * tabular_->forward(tabular);
        auto pooled = product.view({vision.size(0), dim_, rank_}).sum(2);
        return {dropout_->forward(norm_->forward(pooled)), {}};
    }

private:
    int64_t dim_, rank_;
    torch::nn::Linear vision_{nullptr}, tabular_{nullptr};
    torch::nn::LayerNorm norm_{nullptr};
    torch::nn::Dropout dropout_{nullptr};
};

/// A baseline that passes one modality through unchanged.
class SingleModalityFusionImpl : public Fusion {
public:
    SingleModalityFusionImpl(bool use_vision, int64_t dim)
        : Fusion(use_vision ? "ImageOnlyFusion" : "TabularOnlyFusion", dim),
          use_vision_(use_vision) {}

    FusionOutput forward(const torch::Tensor& vision, const torch::Tensor& tabular) override {
        return {use_vision_ ? vision : tabular, {}};
    }

private:
    bool use_vision_;
};

void validate(const FusionOptions& o) {
    const auto& names = fusion_names();
    if (std::find(names.begin(), names.end(), o.type) == names.end()) {
        throw std::invalid_argument("unknown fusion_type '" + o.type +
                                    "'; valid choices: " + join_names(names));
    }
    bool needs_vision = o.type != "tabular_only";
    bool needs_tabular = o.type != "image_only";
    if ((needs_vision && o.vision_dim <= 0) || (needs_tabular && o.tabular_dim <= 0)) {
        throw std::invalid_argument("fusion '" + o.type + "' needs " +
                                    (needs_vision && needs_tabular ? "both modalities"
                                     : needs_vision                ? "image features"
                                                                   : "tabular features"));
    }
    if (o.fusion_dim <= 0 || o.bilinear_rank <= 0) {
        throw std::invalid_argument("fusion_dim and bilinear_rank must be positive");
    }
    if ((o.type == "attention" || o.type == "cross_attention") &&
        (o.num_heads <= 0 || o.fusion_dim % o.num_heads != 0)) {
        throw std::invalid_argument("fusion_dim (" + std::to_string(o.fusion_dim) +
                                    ") must be divisible by num_heads (" +
                                    std::to_string(o.num_heads) + ")");
    }
}

}  // namespace

const std::vector<std::string>& fusion_names() {
    static const std::vector<std::string> kNames = {"concatenate",     "gated",    "attention",
                                                    "cross_attention", "bilinear", "image_only",
                                                    "tabular_only"};
    return kNames;
}

std::shared_ptr<Fusion> make_fusion(const FusionOptions& o) {
    validate(o);
    if (o.type == "concatenate")
        return std::make_shared<ConcatenateFusionImpl>(o);
    if (o.type == "gated")
        return std::make_shared<GatedFusionImpl>(o);
    if (o.type == "attention")
        return std::make_shared<AttentionFusionImpl>(o);
    if (o.type == "cross_attention")
        return std::make_shared<CrossAttentionFusionImpl>(o);
    if (o.type == "bilinear")
        return std::make_shared<BilinearFusionImpl>(o);
    if (o.type == "image_only")
        return std::make_shared<SingleModalityFusionImpl>(true, o.vision_dim);
    return std::make_shared<SingleModalityFusionImpl>(false, o.tabular_dim);
}

}  // namespace medfusion::models
