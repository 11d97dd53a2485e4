// Device and precision resolution, autocast across LibTorch 1.13 and 2.x, and fp16 loss scaling.
#include "precision.hpp"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#if __has_include(<ATen/cuda/CUDAContext.h>) && __has_include(<cuda_runtime_api.h>)
#include <ATen/cuda/CUDAContext.h>
#define MEDFUSION_HAS_CUDA_HEADERS 1
#endif

#include "training_error.hpp"

// LibTorch 2.4 replaced the per-device autocast setters with device-generic ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define MEDFUSION_GENERIC_AUTOCAST 1
#endif

namespace medfusion::train {
namespace {

// bf16 tensor cores arrived with compute capability 8.0 (Ampere). Without the CUDA headers the
// capability cannot be read, and float32 is the safe answer.
bool cuda_supports_bf16(const torch::Device& device) {
#ifdef MEDFUSION_HAS_CUDA_HEADERS
    const auto* properties = at::cuda::getDeviceProperties(device.has_index() ? device.index() : 0);
    return properties != nullptr && properties->major >= 8;
#else
    (void)device;
    return false;
#endif
}

bool autocast_enabled(torch::DeviceType type) {
#ifdef MEDFUSION_GENERIC_AUTOCAST
    return at::autocast::is_autocast_enabled(type);
#else
    return type == torch::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

at::ScalarType autocast_dtype(torch::DeviceType type) {
#ifdef MEDFUSION_GENERIC_AUTOCAST
    return at::autocast::get_autocast_dtype(type);
#else
    return type == torch::kCPU ? at::autocast::get_autocast_cpu_dtype()
                               : at::autocast::get_autocast_gpu_dtype();
#endif
}

void set_autocast(torch::DeviceType type, bool enabled, at::ScalarType dtype) {
#ifdef MEDFUSION_GENERIC_AUTOCAST
    at::autocast::set_autocast_enabled(type, enabled);
    at::autocast::set_autocast_dtype(type, dtype);
#else
    if (type == torch::kCPU) {
        at::autocast::set_cpu_enabled(enabled);
        at::autocast::set_autocast_cpu_dtype(dtype);
    } else {
        at::autocast::set_enabled(enabled);
        at::autocast::set_autocast_gpu_dtype(dtype);
    }
#endif
}

}  // namespace

const char* precision_name(Precision precision) {
    switch (precision) {
        case Precision::kBFloat16:
            return "bf16";
        case Precision::kFloat16:
            return "fp16";
        case Precision::kFloat32:
            break;
    }
    return "none";
}

torch::Device resolve_device(const std::string& name) {
    const bool cuda = torch::cuda::is_available();
    if (name == "auto") {
        return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    }
    if (name == "cpu") {
        return torch::Device(torch::kCPU);
    }
    if (name.rfind("cuda", 0) != 0) {
        throw TrainingError("training.device '" + name + "' is not auto, cpu, cuda or cuda:N");
    }
    if (!cuda) {
        throw TrainingError("training.device is '" + name + "' but no CUDA device is available");
    }
    torch::Device device(name == "cuda" ? std::string("cuda:0") : name);
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (device.index() >= count) {
        throw TrainingError("training.device is '" + name + "' but only " + std::to_string(count) +
                            " CUDA device(s) exist");
    }
    return device;
}

Precision resolve_precision(const std::string& name, const torch::Device& device) {
    if (name == "none") {
        return Precision::kFloat32;
    }
    if (name == "auto") {
        return device.is_cuda() && cuda_supports_bf16(device) ? Precision::kBFloat16
                                                              : Precision::kFloat32;
    }
    if (name == "bf16") {
        return Precision::kBFloat16;
    }
    if (name == "fp16") {
        if (!device.is_cuda()) {
            throw TrainingError(
                "training.mixed_precision fp16 needs a CUDA device; use bf16 or "
                "none on the CPU");
        }
        return Precision::kFloat16;
    }
    throw TrainingError("training.mixed_precision '" + name + "' is not auto, bf16, fp16 or none");
}

AutocastScope::AutocastScope(Precision precision, torch::DeviceType device_type)
    : device_type_(device_type) {
    if (precision == Precision::kFloat32) {
        return;
    }
    active_ = true;
    was_enabled_ = autocast_enabled(device_type_);
    previous_dtype_ = autocast_dtype(device_type_);
    const auto dtype = precision == Precision::kBFloat16 ? at::kBFloat16 : at::kHalf;
    set_autocast(device_type_, true, dtype);
}

AutocastScope::~AutocastScope() {
    if (!active_) {
        return;
    }
    set_autocast(device_type_, was_enabled_, previous_dtype_);
    if (!was_enabled_) {
        at::autocast::clear_cache();
    }
}

torch::Tensor GradScaler::scale(const torch::Tensor& loss) const {
    return enabled_ ? loss * scale_ : loss;
}

bool GradScaler::unscale(const std::vector<torch::Tensor>& parameters) const {
    if (!enabled_) {
        return true;
    }
    torch::NoGradGuard no_grad;

    // One device-to-host read for all gradients, not one per tensor.
    std::vector<torch::Tensor> checks;
    for (const auto& parameter : parameters) {
        auto grad = parameter.grad();
        if (grad.defined()) {
            grad.div_(scale_);
            checks.push_back(torch::isfinite(grad).all());
        }
    }
    return checks.empty() || torch::stack(checks).all().item<bool>();
}

void GradScaler::update(bool gradients_finite) {
    if (!enabled_) {
        return;
    }
    if (!gradients_finite) {
        scale_ *= kBackoffFactor;
        clean_steps_ = 0;
        return;
    }
    if (++clean_steps_ >= kGrowthInterval) {
        scale_ *= kGrowthFactor;
        clean_steps_ = 0;
    }
}

nlohmann::json GradScaler::state() const {
    return {{"enabled", enabled_}, {"scale", scale_}, {"clean_steps", clean_steps_}};
}

void GradScaler::load_state(const nlohmann::json& state) {
    if (state.is_object() && state.value("enabled", false) && enabled_) {
        scale_ = state.at("scale").get<double>();
        clean_steps_ = state.at("clean_steps").get<int>();
    }
}

}  // namespace medfusion::train
