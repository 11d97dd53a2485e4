// The image branch: backbone trunk, optional CNN attention, projection to `feature_dim`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medfusion/models/backbone.hpp"

namespace medfusion::models {

/// The CNN attention names (`model.attention`).
const std::vector<std::string>& cnn_attention_names();

/// An attention block over a feature map [B, C, h, w] that keeps its shape: `se`
/// (squeeze-excitation), `eca` (efficient channel attention) or `cbam` (channel then spatial).
/// Throws std::invalid_argument for other names (`none` included: it has no module).
torch::nn::AnyModule make_cnn_attention(const std::string& name, int64_t channels);

struct VisionEncoderOptions {
    std::string backbone = "resnet18";
    int64_t image_size = 224;
    std::string attention = "none";
    int64_t feature_dim = 128;
    double dropout = 0.2;
};

/// Images [B, 3, H, W] to features [B, feature_dim]: `backbone`, then `attention` on its feature
/// map, then `projection` (average pool, Linear, ReLU, BatchNorm1d, Dropout).
class VisionEncoderImpl : public torch::nn::Module {
public:
    explicit VisionEncoderImpl(const VisionEncoderOptions& options);

    torch::Tensor forward(const torch::Tensor& images);

    Backbone& backbone() { return *backbone_; }
    int64_t output_dim() const { return output_dim_; }

private:
    std::shared_ptr<Backbone> backbone_;
    torch::nn::AnyModule attention_;
    torch::nn::Sequential projection_{nullptr};
    int64_t output_dim_;
};
TORCH_MODULE(VisionEncoder);

}  // namespace medfusion::models
