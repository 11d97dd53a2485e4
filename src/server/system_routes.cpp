// System API handlers.
#include "medfusion/server/system_routes.hpp"

#include <filesystem>
#include <fstream>
#include <memory>

#include "medfusion/core/clock.hpp"

namespace medfusion::server {

using nlohmann::json;

namespace {

json gpu_json(const SystemRoutesDeps& deps) {
    // NVML knows memory in use by every process; the CUDA runtime only knows this one's.
    auto devices = system::nvml_devices();
    if (devices.empty() && deps.cuda_devices) {
        devices = deps.cuda_devices();
    }
    json list = json::array();
    for (const auto& d : devices) {
        list.push_back({{"id", d.id},
                        {"name", d.name},
                        {"memory_total", core::human_bytes(d.memory_total_bytes)},
                        {"memory_used", core::human_bytes(d.memory_used_bytes)},
                        {"memory_total_bytes", d.memory_total_bytes},
                        {"memory_used_bytes", d.memory_used_bytes}});
    }
    return {{"available", !devices.empty()}, {"count", devices.size()}, {"devices", list}};
}

json disk_json(const std::string& output_dir) {
    // The output folder may not exist yet: report the filesystem that will hold it.
    std::filesystem::path probe = std::filesystem::absolute(output_dir);
    while (!std::filesystem::exists(probe) && probe.has_parent_path() &&
           probe != probe.parent_path()) {
        probe = probe.parent_path();
    }
    const auto usage = system::disk_usage(probe.string());
    if (!usage) {
        return nullptr;
    }
    return {{"path", probe.string()},
            {"total", core::human_bytes(usage->total_bytes)},
            {"used", core::human_bytes(usage->used_bytes)},
            {"free", core::human_bytes(usage->free_bytes)},
            {"total_bytes", usage->total_bytes},
            {"used_bytes", usage->used_bytes},
            {"free_bytes", usage->free_bytes}};
}

bool output_dir_writable(const std::string& output_dir) {
    std::error_code ec;
    std::filesystem::create_directories(output_dir, ec);
    const auto probe = std::filesystem::path(output_dir) / ".ready-probe";
    {
        std::ofstream file(probe);
        if (!(file << "ok")) {
            return false;
        }
    }
    std::filesystem::remove(probe, ec);
    return true;
}

}  // namespace

json system_info_json(const SystemRoutesDeps& deps) {
    const auto memory = system::memory_info();
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now() - deps.started)
                            .count();
    const auto [running, queued] = deps.job_counts ? deps.job_counts() : std::pair<int, int>{0, 0};
    return {
        {"gpu", gpu_json(deps)},
        {"disk", disk_json(deps.config.output_dir)},
        {"python_version", nullptr},
        {"pytorch_version", deps.torch_version.empty() ? json(nullptr) : json(deps.torch_version)},
        {"medfusion_version", deps.medfusion_version},
        {"cpu", {{"model", system::cpu_model()}, {"cores", system::cpu_cores()}}},
        {"memory",
         {{"total", core::human_bytes(memory.total_bytes)},
          {"available", core::human_bytes(memory.available_bytes)},
          {"total_bytes", memory.total_bytes},
          {"available_bytes", memory.available_bytes}}},
        {"uptime_seconds", uptime},
        {"jobs", {{"running", running}, {"queued", queued}}}};
}

void add_system_routes(Router& router, SystemRoutesDeps deps) {
    auto shared = std::make_shared<SystemRoutesDeps>(std::move(deps));

    router.add("GET", "/api/system/health", [](const Request&) {
        return Response::json({{"status", "healthy"}, {"timestamp", core::iso8601_now()}});
    });

    // statvfs and /proc reads take microseconds, but NVML can take milliseconds: off the I/O
    // thread.
    router.add(
        "GET", "/api/system/info",
        [shared](const Request&) { return Response::json(system_info_json(*shared)); },
        Execution::kBlocking);

    router.add(
        "GET", "/api/system/ready",
        [shared](const Request&) {
            const bool store = !shared->store_ready || shared->store_ready();
            const bool output = output_dir_writable(shared->config.output_dir);
            const bool ready = store && output;
            return Response::json({{"status", ready ? "ready" : "not_ready"},
                                   {"checks", {{"store", store}, {"output_dir_writable", output}}}},
                                  ready ? 200 : 503);
        },
        Execution::kBlocking);
}

}  // namespace medfusion::server
