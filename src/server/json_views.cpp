// JSON views of jobs, epochs and models.
#include "server/json_views.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace medfusion::server {

using nlohmann::json;

namespace {

json optional_number(const std::optional<double>& value) {
    return value && std::isfinite(*value) ? json(*value) : json(nullptr);
}

json metrics_json(const std::map<std::string, double>& metrics) {
    json out = json::object();
    for (const auto& [name, value] : metrics) {
        out[name] = std::isfinite(value) ? json(value) : json(nullptr);
    }
    return out;
}

json or_null(const std::string& text) {
    return text.empty() ? json(nullptr) : json(text);
}

}  // namespace

json epoch_json(const core::EpochRecord& record) {
    return {{"epoch", record.epoch},
            {"metrics", metrics_json(record.metrics)},
            {"learning_rate", record.learning_rate},
            {"seconds", record.seconds}};
}

json job_summary_json(const jobs::JobSnapshot& snapshot) {
    const auto& r = snapshot.record;
    return {{"job_id", r.id},
            {"job_name", r.name},
            {"status", store::job_status_name(r.status)},
            {"epoch", r.epoch},
            {"total_epochs", r.total_epochs},
            {"progress", snapshot.progress},
            {"created_at", or_null(r.created_at)},
            {"started_at", or_null(r.started_at)},
            {"finished_at", or_null(r.finished_at)},
            {"model_id", or_null(snapshot.model_id)},
            {"error", or_null(r.error)}};
}

json job_status_json(const jobs::JobSnapshot& snapshot,
                     const std::vector<core::EpochRecord>& history) {
    const auto& r = snapshot.record;
    json metrics = history.empty() ? json::object() : metrics_json(history.back().metrics);
    json best = nullptr;
    if (r.best_epoch > 0) {
        best = {{"epoch", r.best_epoch}, {"metric", r.best_metric}, {"value", r.best_value}};
    }
    json out = job_summary_json(snapshot);
    // Epoch-level facts come from the committed history when it is ahead of the live row.
    if (!history.empty() && history.back().epoch > r.epoch) {
        out["epoch"] = history.back().epoch;
    }
    out["metrics"] = metrics;
    out["batch"] = snapshot.batch;
    out["total_batches"] = snapshot.total_batches;
    out["current"] = r.last_metrics;
    out["eta_seconds"] = optional_number(snapshot.eta_seconds);
    out["samples_per_second"] = optional_number(snapshot.samples_per_second);
    out["best"] = best;
    out["output_dir"] = r.output_dir;
    return out;
}

json model_json(const store::ModelRecord& m) {
    return {{"model_id", m.model_id},
            {"architecture", m.architecture},
            {"fusion_type", m.fusion_type},
            {"created_at", m.created_at},
            {"metrics", m.metrics},
            {"job_id", m.job_id},
            {"checkpoint_path", m.best_checkpoint},
            {"last_checkpoint_path", m.last_checkpoint},
            {"class_names", m.class_names},
            {"parameter_count", m.parameter_count},
            {"dataset", m.dataset}};
}

json evaluation_json(const store::EvaluationRecord& e) {
    return {{"evaluation_id", e.id}, {"created_at", e.created_at}, {"split", e.split},
            {"test_csv", e.csv},     {"metrics", e.metrics},       {"report_path", e.report_path}};
}

json unknown_keys(const json& body, std::initializer_list<std::string_view> allowed) {
    json problems = json::array();
    for (const auto& [key, unused] : body.items()) {
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            problems.push_back({{"path", key}, {"message", "unknown key"}});
        }
    }
    return problems;
}

bool valid_name(const std::string& name) {
    constexpr std::size_t kMaxNameBytes = 200;
    if (name.empty() || name.size() > kMaxNameBytes || name.front() == '.') {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

}  // namespace medfusion::server
