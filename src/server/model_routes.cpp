// The Model API: the registry of trained models, evaluation and the HTML report.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "medfusion/core/api_error.hpp"
#include "medfusion/core/clock.hpp"
#include "medfusion/jobs/job_manager.hpp"
#include "medfusion/server/api_routes.hpp"
#include "medfusion/store/store.hpp"
#include "server/json_views.hpp"

namespace medfusion::server {

using core::ApiError;
using core::ErrorCode;
using nlohmann::json;

namespace {

store::ModelRecord find_model(const ApiDeps& deps, const std::string& model_id) {
    auto model = deps.store.find_model(model_id);
    if (!model) {
        throw ApiError(ErrorCode::kNotFound, "Model not found", model_id);
    }
    return *model;
}

std::optional<std::string> query_text(const Request& request, const std::string& name) {
    auto it = request.query.find(name);
    return it == request.query.end() ? std::nullopt : std::optional<std::string>(it->second);
}

Response list_models(const ApiDeps& deps, const Request& request) {
    store::ModelFilter filter;
    filter.architecture = query_text(request, "architecture");
    filter.fusion_type = query_text(request, "fusion_type");
    filter.limit = static_cast<int>(request.query_int("limit", 50, 1, 1000));
    filter.offset = static_cast<int>(request.query_int("offset", 0, 0, 1'000'000'000));
    json models = json::array();
    for (const auto& model : deps.store.list_models(filter)) {
        models.push_back(model_json(model));
    }
    return Response::json({{"models", models},
                           {"total", deps.store.count_models(filter)},
                           {"limit", filter.limit},
                           {"offset", filter.offset}});
}

Response get_model(const ApiDeps& deps, const Request& request) {
    const auto model = find_model(deps, request.params.at("model_id"));
    json out = model_json(model);
    json evaluations = json::array();
    for (const auto& evaluation : deps.store.list_evaluations(model.model_id)) {
        evaluations.push_back(evaluation_json(evaluation));
    }
    out["evaluations"] = evaluations;
    return Response::json(out);
}

std::string required_string(const json& body, const std::string& key) {
    if (!body.contains(key) || !body.at(key).is_string() ||
        body.at(key).get<std::string>().empty()) {
        throw ApiError(ErrorCode::kValidationError, "Invalid request",
                       json::array({{{"path", key}, {"message", "is required (a string)"}}}));
    }
    return body.at(key).get<std::string>();
}

std::string confined(const core::PathPolicy& policy, const std::string& key,
                     const std::string& path, const std::string& roots) {
    auto resolved = policy.resolve(path);
    if (!resolved) {
        throw ApiError(
            ErrorCode::kPathNotAllowed, "Path is outside the allowed roots",
            json::array({{{"path", key}, {"message", "'" + path + "' is outside " + roots}}}));
    }
    if (!std::filesystem::is_regular_file(*resolved)) {
        throw ApiError(ErrorCode::kValidationError, "Invalid request",
                       json::array({{{"path", key}, {"message", "file not found: " + path}}}));
    }
    return resolved->string();
}

/// A checkpoint named relative to the server's working folder ("outputs/<job>/checkpoints/
/// best.pth") or to output_dir itself ("<job>/checkpoints/best.pth"); either way inside it.
std::string checkpoint_in_outputs(const ApiDeps& deps, const std::string& path) {
    const auto& outputs = deps.output_paths.roots().front();
    for (const auto& base : {std::filesystem::current_path(), outputs}) {
        auto resolved = deps.output_paths.resolve_from(base, path);
        if (resolved && std::filesystem::is_regular_file(*resolved)) {
            return resolved->string();
        }
    }
    return confined(deps.output_paths, "checkpoint_path", path, "output_dir");
}

EvaluateCall make_call(const ApiDeps& deps, const store::ModelRecord& model, const json& body) {
    EvaluateCall call;
    call.csv_path =
        confined(deps.data_paths, "test_csv", required_string(body, "test_csv"), "the data roots");
    call.checkpoint_path = model.best_checkpoint;
    if (body.contains("checkpoint_path") && !body.at("checkpoint_path").is_null()) {
        call.checkpoint_path =
            checkpoint_in_outputs(deps, required_string(body, "checkpoint_path"));
    }
    call.split = "test";
    if (body.contains("split")) {
        const json& split = body.at("split");
        if (!split.is_string() || !valid_name(split.get<std::string>())) {
            throw ApiError(ErrorCode::kValidationError, "Invalid request",
                           json::array({{{"path", "split"},
                                         {"message", "a name such as test, val or holdout"}}}));
        }
        call.split = split.get<std::string>();
    }
    call.model_id = model.model_id;
    call.architecture = model.architecture;
    call.fusion_type = model.fusion_type;
    call.dataset = model.dataset;
    if (auto job = deps.store.find_job(model.job_id)) {
        call.output_dir = job->output_dir;
        call.history = deps.store.history(model.job_id);
    } else {
        call.output_dir = std::filesystem::path(call.checkpoint_path).parent_path().parent_path();
    }
    return call;
}

/// reports/evaluation_report.html always holds the latest evaluation; each evaluation also
/// keeps its own copy (with its predictions.csv) under reports/<split>-<time>-<n>/, which is
/// what the registry records, so that older records keep pointing at their own report.
std::string archive_report(const std::string& report, const std::string& predictions,
                           const std::string& split) {
    namespace fs = std::filesystem;
    if (report.empty() || !fs::is_regular_file(report)) {
        return report;
    }
    std::string stamp = core::iso8601_now();
    std::erase_if(stamp, [](char c) { return c == ':' || c == '-'; });
    const fs::path base = fs::path(report).parent_path();
    fs::path folder;
    for (int n = 1;; ++n) {
        folder = base / (split + "-" + stamp + "-" + std::to_string(n));
        if (fs::create_directories(folder)) {
            break;
        }
    }
    fs::copy_file(report, folder / fs::path(report).filename());
    if (!predictions.empty() && fs::is_regular_file(predictions)) {
        fs::copy_file(predictions, folder / fs::path(predictions).filename());
    }
    return (folder / fs::path(report).filename()).string();
}

Response evaluate(const ApiDeps& deps, const Request& request) {
    const auto model = find_model(deps, request.params.at("model_id"));
    const json body = request.json_object();
    if (json unknown = unknown_keys(body, {"checkpoint_path", "test_csv", "split"});
        !unknown.empty()) {
        throw ApiError(ErrorCode::kValidationError, "Invalid request", unknown);
    }
    if (!deps.evaluator) {
        throw ApiError(ErrorCode::kServiceUnavailable, "Evaluation is not available",
                       "this server was built without the trainer");
    }
    const EvaluateCall call = make_call(deps, model, body);

    json result;
    try {
        result = deps.evaluator(call);
    } catch (const ApiError&) {
        throw;
    } catch (const std::exception& e) {
        // Bad data (unknown labels, unreadable images) is the caller's to fix: say what it is.
        spdlog::warn("model={} evaluation failed: {}", model.model_id, e.what());
        throw ApiError(ErrorCode::kValidationError, "Evaluation failed", e.what());
    }

    store::EvaluationRecord record;
    record.model_id = model.model_id;
    record.split = call.split;
    record.csv = call.csv_path;
    record.metrics = result.at("metrics");
    record.report_path = archive_report(result.value("report_path", ""),
                                        result.value("predictions_path", ""), call.split);
    record = deps.store.add_evaluation(record);
    return Response::json({{"model_id", model.model_id},
                           {"metrics", result.at("metrics")},
                           {"report_path", result.value("report_path", "")},
                           {"archived_report_path", record.report_path},
                           {"predictions_path", result.value("predictions_path", "")},
                           {"evaluation_id", record.id}});
}

Response report(const ApiDeps& deps, const Request& request) {
    const auto model = find_model(deps, request.params.at("model_id"));
    const auto evaluations = deps.store.list_evaluations(model.model_id);
    if (evaluations.empty()) {
        throw ApiError(
            ErrorCode::kNotFound, "No report yet",
            "evaluate the model first: POST /api/models/" + model.model_id + "/evaluate");
    }
    // list_evaluations is newest first.
    std::ifstream file(evaluations.front().report_path, std::ios::binary);
    if (!file) {
        throw ApiError(ErrorCode::kNotFound, "Report file is missing",
                       evaluations.front().report_path);
    }
    std::ostringstream text;
    text << file.rdbuf();
    return Response::html(text.str());
}

}  // namespace

void add_model_routes(Router& router, const ApiDeps& deps) {
    const ApiDeps* d = &deps;
    router.add("GET", "/api/models", [d](const Request& r) { return list_models(*d, r); });
    router.add("GET", "/api/models/{model_id}", [d](const Request& r) { return get_model(*d, r); });
    router.add(
        "POST", "/api/models/{model_id}/evaluate",
        [d](const Request& r) { return evaluate(*d, r); }, Execution::kBlocking);
    router.add(
        "GET", "/api/models/{model_id}/report", [d](const Request& r) { return report(*d, r); },
        Execution::kBlocking);
}

}  // namespace medfusion::server
