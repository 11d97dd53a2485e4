// The tabular branch: encoders over a preprocessed clinical record [B, num_features].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace medfusion::models {

/// The tabular encoder names (`model.tabular_encoder`).
const std::vector<std::string>& tabular_encoder_names();

struct TabularEncoderOptions {
    std::string type = "mlp";                 // mlp | resmlp | ft_transformer
    int64_t num_features = 0;                 // > 0
    std::vector<int64_t> hidden = {128, 64};  // widths; see make_tabular_encoder
    std::string activation = "relu";          // relu | gelu | silu
    double dropout = 0.2;
    int64_t num_heads = 4;  // ft_transformer only
};

/// Tabular features [B, num_features] to a vector [B, output_dim()].
class TabularEncoder : public torch::nn::Module {
public:
    virtual torch::Tensor forward(const torch::Tensor& features) = 0;
    int64_t output_dim() const { return output_dim_; }

protected:
    TabularEncoder(std::string name, int64_t output_dim)
        : torch::nn::Module(std::move(name)), output_dim_(output_dim) {}

private:
    int64_t output_dim_;
};

/// Builds an encoder; throws std::invalid_argument naming the valid choices or the bad value.
/// - `mlp`: per hidden width, Linear, BatchNorm1d, activation, Dropout; output the last width.
/// - `resmlp`: a Linear stem to hidden[0], then one residual block per hidden width (two
///   Linear+BatchNorm layers; a Linear skip where the width changes); output the last width.
/// - `ft_transformer`: one token per feature (x_i * w_i + b_i) plus a CLS token, of width
///   hidden[0]; one pre-norm transformer layer per entry of `hidden`; output the final CLS.
std::shared_ptr<TabularEncoder> make_tabular_encoder(const TabularEncoderOptions& options);

}  // namespace medfusion::models
