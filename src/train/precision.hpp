// Where and in which precision a run computes: the device from `training.device`, autocast for
// `training.mixed_precision`, and the dynamic loss scaler that fp16 needs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace medfusion::train {

enum class Precision { kFloat32, kBFloat16, kFloat16 };

const char* precision_name(Precision precision);

/// auto | cpu | cuda | cuda:N. Throws TrainingError when CUDA is asked for but not available.
torch::Device resolve_device(const std::string& name);

/// auto | bf16 | fp16 | none on `device`. auto: bf16 on CUDA devices that support it, float32
/// elsewhere. fp16 needs CUDA (TrainingError otherwise); bf16 on CPU uses CPU autocast.
Precision resolve_precision(const std::string& name, const torch::Device& device);

/// Turns autocast on for this thread while alive (forward passes only), then restores it.
class AutocastScope {
public:
    AutocastScope(Precision precision, torch::DeviceType device_type);
    ~AutocastScope();
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    bool active_ = false;
    bool was_enabled_ = false;
    torch::DeviceType device_type_;
    at::ScalarType previous_dtype_ = at::kFloat;
};

/// Dynamic loss scaling for fp16 (PyTorch GradScaler's defaults): the loss is scaled up before
/// backward; a step whose gradients overflow is skipped and the scale halves; after
/// kGrowthInterval clean steps it doubles. Disabled, it is the identity.
class GradScaler {
public:
    static constexpr double kInitialScale = 65536.0;
    static constexpr double kGrowthFactor = 2.0;
    static constexpr double kBackoffFactor = 0.5;
    static constexpr int kGrowthInterval = 2000;

    explicit GradScaler(bool enabled) : enabled_(enabled) {}

    bool enabled() const { return enabled_; }
    torch::Tensor scale(const torch::Tensor& loss) const;

    /// Divides the gradients by the scale; false when any of them is inf or NaN.
    bool unscale(const std::vector<torch::Tensor>& parameters) const;

    /// Adjusts the scale after a step attempt.
    void update(bool gradients_finite);

    nlohmann::json state() const;
    void load_state(const nlohmann::json& state);

private:
    bool enabled_;
    double scale_ = kInitialScale;
    int clean_steps_ = 0;
};

}  // namespace medfusion::train
