// Fusion strategies: join vision features v [B, Dv] and tabular features t [B, Dt].
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace medfusion::models {

/// The fusion names (`model.fusion_type`).
const std::vector<std::string>& fusion_names();

struct FusionOptions {
    std::string type = "concatenate";
    int64_t vision_dim = 0;   // 0 when there is no image branch (tabular_only)
    int64_t tabular_dim = 0;  // 0 when there is no tabular branch (image_only)
    int64_t fusion_dim = 128;
    int64_t num_heads = 4;
    int64_t bilinear_rank = 16;
    double dropout = 0.2;
};

/// The fused vector and, for fusions that compute them, the weights behind it (for reports).
struct FusionOutput {
    torch::Tensor fused;                           // [B, output_dim()]
    std::map<std::string, torch::Tensor> weights;  // e.g. "gate", "attention"
};

/// A fusion module. `forward` takes v and t; a baseline ignores the modality it does not use
/// (that tensor may be undefined).
class Fusion : public torch::nn::Module {
public:
    virtual FusionOutput forward(const torch::Tensor& vision, const torch::Tensor& tabular) = 0;
    int64_t output_dim() const { return output_dim_; }

protected:
    Fusion(std::string name, int64_t output_dim)
        : torch::nn::Module(std::move(name)), output_dim_(output_dim) {}

private:
    int64_t output_dim_;
};

/// Builds a fusion module; throws std::invalid_argument listing the valid choices.
/// - `concatenate`: Linear-ReLU-Dropout on [v; t].
/// - `gated`: z = sigmoid(W[v; t]) mixes tanh(Wv v) and tanh(Wt t), each scaled by learned
///   modality weights (softmax of two logits); reports "gate" [B, D], "modality_weights" [2].
/// - `attention`: self-attention over tokens [CLS, v, t]; the CLS output is the result;
///   reports "attention" [B, 3, 3] (averaged over heads).
/// - `cross_attention`: v and t each become 4 tokens; v attends to t and t to v; the pooled
///   results are concatenated and projected; reports "vision_to_tabular", "tabular_to_vision".
/// - `bilinear`: low-rank bilinear pooling, sum over `bilinear_rank` of (U_r v) * (V_r t).
/// - `image_only`, `tabular_only`: v or t unchanged.
std::shared_ptr<Fusion> make_fusion(const FusionOptions& options);

}  // namespace medfusion::models
