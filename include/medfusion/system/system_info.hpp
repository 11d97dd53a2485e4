// Facts about this machine for /api/system/info: GPUs (NVML loaded at run time, or the CUDA
// runtime through LibTorch when the app provides it), disk, CPU and memory.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace medfusion::system {

struct GpuDevice {
    int id = 0;
    std::string name;
    std::uint64_t memory_total_bytes = 0;
    std::uint64_t memory_used_bytes = 0;
};

struct DiskUsage {
    std::uint64_t total_bytes = 0;
    std::uint64_t used_bytes = 0;
    std::uint64_t free_bytes = 0;  // available to unprivileged users, as df reports it
};

struct MemoryInfo {
    std::uint64_t total_bytes = 0;
    std::uint64_t available_bytes = 0;
};

/// GPUs through NVML (libnvidia-ml.so.1 opened with dlopen, so the binary runs where no driver
/// is installed). Empty when NVML is absent or reports no device. Thread-safe.
std::vector<GpuDevice> nvml_devices();

/// statvfs of the filesystem holding `path`; nullopt when it cannot be read.
std::optional<DiskUsage> disk_usage(const std::string& path);

/// /proc/meminfo's MemTotal and MemAvailable.
MemoryInfo memory_info();

/// The CPU model name from /proc/cpuinfo ("unknown" if absent).
std::string cpu_model();

/// Logical cores this process may use.
int cpu_cores();

}  // namespace medfusion::system
