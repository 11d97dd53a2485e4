// runtime_facts(): LibTorch's version and CUDA devices. Names and memory come from the CUDA
// runtime when the build has its headers; a CPU-only LibTorch reports no devices.
#include "medfusion/train/runtime.hpp"

#include <torch/torch.h>
#include <torch/version.h>

#if __has_include(<ATen/cuda/CUDAContext.h>) && __has_include(<cuda_runtime_api.h>)
#include <ATen/cuda/CUDAContext.h>
#define MEDFUSION_HAS_CUDA_HEADERS 1
#endif

namespace medfusion::train {
namespace {

system::GpuDevice describe_device(int index) {
    system::GpuDevice device;
    device.id = index;
    device.name = "cuda:" + std::to_string(index);
#ifdef MEDFUSION_HAS_CUDA_HEADERS
    if (const auto* properties = at::cuda::getDeviceProperties(index)) {
        device.name = properties->name;
        device.memory_total_bytes = static_cast<std::uint64_t>(properties->totalGlobalMem);
    }
#endif
    return device;
}

}  // namespace

RuntimeFacts runtime_facts() {
    RuntimeFacts facts;
    facts.torch_version = TORCH_VERSION;
    if (!torch::cuda::is_available()) {
        return facts;
    }
    const auto count = static_cast<int>(torch::cuda::device_count());
    for (int index = 0; index < count; ++index) {
        facts.cuda_devices.push_back(describe_device(index));
    }
    return facts;
}

}  // namespace medfusion::train
