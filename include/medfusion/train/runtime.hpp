// What LibTorch reports about this process's runtime, for /api/system/info.
#pragma once

#include <string>
#include <vector>

#include "medfusion/system/system_info.hpp"

namespace medfusion::train {

struct RuntimeFacts {
    std::string torch_version;                    // e.g. "1.13.0"
    std::vector<system::GpuDevice> cuda_devices;  // empty on CPU-only builds or machines
};

/// LibTorch's version and the CUDA devices it sees (name and total memory where the build
/// exposes them; memory_used_bytes stays 0). Thread-safe.
RuntimeFacts runtime_facts();

}  // namespace medfusion::train
