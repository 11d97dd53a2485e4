// The Training API: start, status, stop, resume, list, history and logs of training jobs.
#include <filesystem>
#include <fstream>
#include <thread>

#include "medfusion/core/api_error.hpp"
#include "medfusion/core/job_config.hpp"
#include "medfusion/jobs/job_manager.hpp"
#include "medfusion/server/api_routes.hpp"
#include "medfusion/store/store.hpp"
#include "server/json_views.hpp"

namespace medfusion::server {

using core::ApiError;
using core::ErrorCode;
using nlohmann::json;

namespace {

constexpr auto kStopWait = std::chrono::seconds(15);  // how long POST .../stop waits to confirm
constexpr long long kMaxLogTail = 10000;              // lines GET .../logs returns at most
constexpr std::size_t kMaxJobNameBytes = 200;

/// Turns config problems into one 400: PATH_NOT_ALLOWED when any path escaped the roots.
[[noreturn]] void reject_config(const std::vector<core::FieldError>& errors) {
    json details = json::array();
    bool path_error = false;
    for (const auto& e : errors) {
        details.push_back({{"path", "config." + e.path}, {"message", e.message}, {"code", e.code}});
        path_error = path_error || e.code == "PATH_NOT_ALLOWED";
    }
    if (path_error) {
        throw ApiError(ErrorCode::kPathNotAllowed, "A data path is outside the allowed data roots",
                       details);
    }
    throw ApiError(ErrorCode::kValidationError, "Invalid training config", details);
}

/// Files are checked at submission so that a typo is a 400 now, not a failed job later.
void require_files(const core::JobConfig& config) {
    json details = json::array();
    const std::vector<std::pair<std::string, std::string>> files = {
        {"config.data.train_csv", config.data.train_csv},
        {"config.data.val_csv", config.data.val_csv},
        {"config.data.test_csv", config.data.test_csv}};
    for (const auto& [path, file] : files) {
        if (!file.empty() && !std::filesystem::is_regular_file(file)) {
            details.push_back({{"path", path}, {"message", "file not found: " + file}});
        }
    }
    if (!details.empty()) {
        throw ApiError(ErrorCode::kValidationError, "Invalid training config", details);
    }
}

std::string job_name_of(const json& body) {
    if (!body.contains("job_name") || body.at("job_name").is_null()) {
        return "";
    }
    if (!body.at("job_name").is_string() ||
        body.at("job_name").get<std::string>().size() > kMaxJobNameBytes) {
        throw ApiError(ErrorCode::kValidationError, "Invalid job_name",
                       "must be a string of at most 200 bytes");
    }
    return body.at("job_name").get<std::string>();
}

Response start(const ApiDeps& deps, const Request& request) {
    const json body = request.json_object();
    if (json unknown = unknown_keys(body, {"config", "job_name"}); !unknown.empty()) {
        throw ApiError(ErrorCode::kValidationError, "Invalid request", unknown);
    }
    if (!body.contains("config") || !body.at("config").is_object()) {
        throw ApiError(ErrorCode::kValidationError, "Invalid request",
                       json::array({{{"path", "config"}, {"message", "is required (an object)"}}}));
    }
    const std::string job_name = job_name_of(body);

    auto parsed = core::parse_job_config(body.at("config"), &deps.data_paths);
    if (!parsed.ok()) {
        reject_config(parsed.error());
    }
    require_files(parsed.value());

    const std::string job_id =
        deps.jobs.submit(job_name, parsed.value(), core::to_json(parsed.value()));
    const auto snapshot = deps.jobs.status(job_id);
    return Response::json({{"job_id", job_id},
                           {"status", "started"},
                           {"job_status", store::job_status_name(snapshot.record.status)},
                           {"message", "Training job started successfully"}});
}

Response stop(const ApiDeps& deps, const Request& request) {
    const auto& id = request.params.at("job_id");
    deps.jobs.stop(id);
    // The trainer stops between batches; waiting here lets the answer be the truth.
    deps.jobs.wait_until_finished(id, kStopWait);
    const auto snapshot = deps.jobs.status(id);
    if (!store::is_finished(snapshot.record.status)) {
        return Response::json(
            {{"job_id", id},
             {"status", "stopping"},
             {"message", "Stop requested; the job stops after its current batch"}},
            202);
    }
    return Response::json({{"job_id", id},
                           {"status", store::job_status_name(snapshot.record.status)},
                           {"message", "Training job stopped successfully"}});
}

Response resume(const ApiDeps& deps, const Request& request) {
    const auto& id = request.params.at("job_id");
    deps.jobs.resume(id);
    return Response::json({{"job_id", id},
                           {"status", "resumed"},
                           {"message", "Training job queued to resume from its last checkpoint"}});
}

Response list_jobs(const ApiDeps& deps, const Request& request) {
    std::optional<store::JobStatus> status;
    if (auto it = request.query.find("status"); it != request.query.end()) {
        status = store::parse_job_status(it->second);
        if (!status) {
            throw ApiError(ErrorCode::kValidationError, "Invalid query parameter 'status'",
                           "one of queued, running, completed, failed, stopped, interrupted");
        }
    }
    const int limit = static_cast<int>(request.query_int("limit", 50, 1, 1000));
    const int offset = static_cast<int>(request.query_int("offset", 0, 0, 1'000'000'000));
    json jobs = json::array();
    for (const auto& snapshot : deps.jobs.list(status, limit, offset)) {
        jobs.push_back(job_summary_json(snapshot));
    }
    return Response::json({{"jobs", jobs},
                           {"total", deps.store.count_jobs(status)},
                           {"limit", limit},
                           {"offset", offset}});
}

Response history(const ApiDeps& deps, const Request& request) {
    const auto& id = request.params.at("job_id");
    const auto snapshot = deps.jobs.status(id);
    json epochs = json::array();
    for (const auto& record : deps.jobs.history(id)) {
        epochs.push_back(epoch_json(record));
    }
    return Response::json({{"job_id", id},
                           {"status", store::job_status_name(snapshot.record.status)},
                           {"history", epochs}});
}

/// The last `tail` lines of the job's own log, read backwards from the end of the file.
std::vector<std::string> tail_lines(const std::filesystem::path& file, std::size_t tail) {
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) {
        return {};
    }
    const std::streamoff size = in.tellg();
    constexpr std::streamoff kChunk = 64 * 1024;
    std::string text;
    std::streamoff pos = size;
    while (pos > 0 &&
           static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) <= tail) {
        const std::streamoff step = std::min(kChunk, pos);
        pos -= step;
        std::string chunk(static_cast<std::size_t>(step), '\0');
        in.seekg(pos);
        in.read(chunk.data(), step);
        text = chunk + text;
    }
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    if (pos > 0 && !lines.empty()) {
        lines.erase(lines.begin());  // the first line may be cut in half
    }
    if (lines.size() > tail) {
        lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(tail));
    }
    return lines;
}

Response logs(const ApiDeps& deps, const Request& request) {
    const auto& id = request.params.at("job_id");
    const auto snapshot = deps.jobs.status(id);
    const auto tail = static_cast<std::size_t>(request.query_int("tail", 100, 1, kMaxLogTail));
    const auto file = std::filesystem::path(snapshot.record.output_dir) / "train.log";
    return Response::json({{"job_id", id}, {"lines", tail_lines(file, tail)}});
}

}  // namespace

void add_training_routes(Router& router, const ApiDeps& deps) {
    const ApiDeps* d = &deps;
    router.add(
        "POST", "/api/training/start", [d](const Request& r) { return start(*d, r); },
        Execution::kBlocking);
    router.add("GET", "/api/training/jobs", [d](const Request& r) { return list_jobs(*d, r); });
    router.add("GET", "/api/training/{job_id}/status", [d](const Request& r) {
        return Response::json(job_status_json(d->jobs.status(r.params.at("job_id")),
                                              d->jobs.history(r.params.at("job_id"))));
    });
    router.add(
        "POST", "/api/training/{job_id}/stop", [d](const Request& r) { return stop(*d, r); },
        Execution::kBlocking);
    router.add("POST", "/api/training/{job_id}/resume",
               [d](const Request& r) { return resume(*d, r); });
    router.add("GET", "/api/training/{job_id}/history",
               [d](const Request& r) { return history(*d, r); });
    router.add(
        "GET", "/api/training/{job_id}/logs", [d](const Request& r) { return logs(*d, r); },
        Execution::kBlocking);
}

}  // namespace medfusion::server
