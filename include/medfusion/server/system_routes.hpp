// The System API: /api/system/health, /api/system/info, /api/system/ready.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "medfusion/core/server_config.hpp"
#include "medfusion/server/router.hpp"
#include "medfusion/system/system_info.hpp"

namespace medfusion::server {

/// What the system routes read. The callbacks are called on I/O threads and must be fast.
struct SystemRoutesDeps {
    core::ServerConfig config;
    std::string medfusion_version;
    std::string torch_version;  // the LibTorch the binary links; "" when built without torch
    std::function<std::vector<system::GpuDevice>()> cuda_devices;  // optional
    std::function<std::pair<int, int>()> job_counts;               // {running, queued}; optional
    std::function<bool()> store_ready;                             // optional
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

void add_system_routes(Router& router, SystemRoutesDeps deps);

/// The body of /api/system/info (exposed for tests).
nlohmann::json system_info_json(const SystemRoutesDeps& deps);

}  // namespace medfusion::server
