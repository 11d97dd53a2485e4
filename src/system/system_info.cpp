// Machine facts: NVML through dlopen, statvfs, /proc.
#include "medfusion/system/system_info.hpp"

#include <dlfcn.h>
#include <sched.h>
#include <sys/statvfs.h>

#include <array>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace medfusion::system {

namespace {

// The few NVML entry points we use, with their C signatures (nvml.h is not needed to build).
using NvmlReturn = int;
using NvmlDevice = void*;
struct NvmlMemory {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};

struct Nvml {
    NvmlReturn (*init)() = nullptr;
    NvmlReturn (*device_count)(unsigned*) = nullptr;
    NvmlReturn (*device_handle)(unsigned, NvmlDevice*) = nullptr;
    NvmlReturn (*device_name)(NvmlDevice, char*, unsigned) = nullptr;
    NvmlReturn (*device_memory)(NvmlDevice, NvmlMemory*) = nullptr;
    bool ready = false;
};

template <typename Fn>
bool load_symbol(void* library, const char* name, Fn& out) {
    out = reinterpret_cast<Fn>(dlsym(library, name));
    return out != nullptr;
}

/// Loaded once; the library stays open for the life of the process.
const Nvml& nvml() {
    static Nvml instance = [] {
        Nvml n;
        void* library = dlopen("libnvidia-ml.so.1", RTLD_LAZY | RTLD_LOCAL);
        if (library == nullptr) {
            return n;
        }
        const bool loaded =
            load_symbol(library, "nvmlInit_v2", n.init) &&
            load_symbol(library, "nvmlDeviceGetCount_v2", n.device_count) &&
            load_symbol(library, "nvmlDeviceGetHandleByIndex_v2", n.device_handle) &&
            load_symbol(library, "nvmlDeviceGetName", n.device_name) &&
            load_symbol(library, "nvmlDeviceGetMemoryInfo", n.device_memory);
        n.ready = loaded && n.init() == 0;
        return n;
    }();
    return instance;
}

std::uint64_t meminfo_kib(const std::string& text, const std::string& key) {
    const auto pos = text.find(key + ":");
    if (pos == std::string::npos) {
        return 0;
    }
    std::istringstream line(text.substr(pos + key.size() + 1));
    std::uint64_t kib = 0;
    line >> kib;
    return kib;
}

}  // namespace

std::vector<GpuDevice> nvml_devices() {
    const Nvml& n = nvml();
    std::vector<GpuDevice> devices;
    unsigned count = 0;
    if (!n.ready || n.device_count(&count) != 0) {
        return devices;
    }
    for (unsigned i = 0; i < count; ++i) {
        NvmlDevice handle = nullptr;
        if (n.device_handle(i, &handle) != 0) {
            continue;
        }
        std::array<char, 96> name{};
        NvmlMemory memory{};
        GpuDevice device;
        device.id = static_cast<int>(i);
        device.name = n.device_name(handle, name.data(), name.size()) == 0 ? name.data() : "";
        if (n.device_memory(handle, &memory) == 0) {
            device.memory_total_bytes = memory.total;
            device.memory_used_bytes = memory.used;
        }
        devices.push_back(device);
    }
    return devices;
}

std::optional<DiskUsage> disk_usage(const std::string& path) {
    struct statvfs stats {};
    if (statvfs(path.c_str(), &stats) != 0) {
        return std::nullopt;
    }
    DiskUsage usage;
    usage.total_bytes = static_cast<std::uint64_t>(stats.f_blocks) * stats.f_frsize;
    usage.free_bytes = static_cast<std::uint64_t>(stats.f_bavail) * stats.f_frsize;
    usage.used_bytes =
        usage.total_bytes - static_cast<std::uint64_t>(stats.f_bfree) * stats.f_frsize;
    return usage;
}

MemoryInfo memory_info() {
    std::ifstream file("/proc/meminfo");
    std::stringstream text;
    text << file.rdbuf();
    return {meminfo_kib(text.str(), "MemTotal") * 1024,
            meminfo_kib(text.str(), "MemAvailable") * 1024};
}

std::string cpu_model() {
    static const std::string model = [] {
        std::ifstream file("/proc/cpuinfo");
        std::string line;
        while (std::getline(file, line)) {
            if (line.rfind("model name", 0) == 0) {
                const auto colon = line.find(':');
                return colon == std::string::npos
                           ? std::string("unknown")
                           : line.substr(line.find_first_not_of(' ', colon + 1));
            }
        }
        return std::string("unknown");
    }();
    return model;
}

int cpu_cores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        return CPU_COUNT(&set);
    }
    return static_cast<int>(std::thread::hardware_concurrency());
}

}  // namespace medfusion::system
