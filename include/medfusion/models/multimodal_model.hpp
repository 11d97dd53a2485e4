// The multimodal model: image branch + tabular branch + fusion + classifier, built from the
// job config's `model` section.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "medfusion/core/job_config.hpp"
#include "medfusion/models/fusion.hpp"
#include "medfusion/models/tabular_encoder.hpp"
#include "medfusion/models/vision_encoder.hpp"

namespace medfusion::models {

struct ModelOutput {
    torch::Tensor logits;                                 // [B, num_classes]
    torch::Tensor vision_logits;                          // undefined unless aux_heads
    torch::Tensor tabular_logits;                         // undefined unless aux_heads
    std::map<std::string, torch::Tensor> fusion_weights;  // e.g. "gate", "attention"
};

/// Everything `build_model` needs besides the config: what the data gives.
struct ModelShape {
    int64_t num_tabular_features = 0;  // 0 only for image_only
    int64_t num_classes = 2;
    int64_t image_size = 224;
};

/// Children: `vision` (VisionEncoder, absent for tabular_only), `tabular` (absent for
/// image_only), `fusion`, `classifier`, and with aux heads `vision_head` / `tabular_head`.
/// Not thread-safe; one training or evaluation thread uses it at a time.
class MultimodalModelImpl : public torch::nn::Module {
public:
    MultimodalModelImpl(const core::ModelConfig& config, const ModelShape& shape);

    /// images [B, 3, S, S] float (ignored by tabular_only; may be undefined there), tabular
    /// [B, F] float (ignored by image_only; may be undefined there).
    ModelOutput forward(const torch::Tensor& images, const torch::Tensor& tabular);

    /// Keeps a frozen backbone in eval mode, so its BatchNorm statistics stay as loaded.
    void train(bool on = true) override;

    bool has_vision() const { return static_cast<bool>(vision_); }
    bool has_tabular() const { return static_cast<bool>(tabular_); }
    bool has_aux_heads() const { return static_cast<bool>(vision_head_ || tabular_head_); }
    double aux_loss_weight() const { return aux_loss_weight_; }
    VisionEncoder& vision() { return vision_; }

private:
    void build_classifier(const core::ModelConfig& config, int64_t in, int64_t num_classes);

    VisionEncoder vision_{nullptr};
    std::shared_ptr<TabularEncoder> tabular_;
    std::shared_ptr<Fusion> fusion_;
    torch::nn::Sequential classifier_{nullptr};
    torch::nn::Linear vision_head_{nullptr};
    torch::nn::Linear tabular_head_{nullptr};
    bool freeze_backbone_ = false;
    double aux_loss_weight_ = 0.0;
};
TORCH_MODULE(MultimodalModel);

/// Builds and validates the whole model; loads `config.pretrained_weights` into the backbone
/// when set. Throws std::invalid_argument for a bad config (an unknown name lists the valid
/// choices) and std::runtime_error for weights that cannot be read or do not match.
MultimodalModel build_model(const core::ModelConfig& config, int64_t num_tabular_features,
                            int64_t num_classes, int64_t image_size);

struct ModelSummary {
    int64_t total_parameters;
    int64_t trainable_parameters;
};

ModelSummary summarize(MultimodalModelImpl& model);

}  // namespace medfusion::models
