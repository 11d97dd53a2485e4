// The evaluation's outputs on disk: a self-contained HTML report (inline CSS and SVG, no script,
// no external resources) and predictions.csv. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medfusion/core/events.hpp"
#include "medfusion/train/metrics.hpp"

namespace medfusion::train {

/// What the report shows about one evaluation.
struct ReportInput {
    std::string model_id;
    std::string architecture;
    std::string fusion_type;
    std::string dataset;
    std::string split;
    std::string created_at;  // ISO-8601 UTC
    std::vector<std::string> class_names;
    nlohmann::json metrics;                  // from compute_metrics
    std::vector<core::EpochRecord> history;  // training curves; may be empty
    nlohmann::json config;                   // the resolved job config; may be null
};

/// A complete HTML document: header, metrics with confidence intervals, ROC and PR curves,
/// confusion matrices (counts and row-normalised), reliability diagram, training curves,
/// per-class table and the config. Every string from the input is escaped; missing parts of
/// `metrics` (e.g. no curves) leave their section with a short note. Pure function; any thread.
std::string render_report(const ReportInput& input);

/// Writes `path` atomically (temporary file, then rename) with the document render_report makes.
void write_report(const std::filesystem::path& path, const ReportInput& input);

/// Writes predictions.csv: header `row,true_label,predicted_label,prob_<class>...`, one line per
/// sample; labels are class names; fields are quoted per RFC 4180 where needed; probabilities
/// use 17 significant digits (round-trip exact). The predicted label is the first argmax, as in
/// compute_metrics. Throws std::invalid_argument on inconsistent sizes and std::runtime_error
/// when the file cannot be written.
void write_predictions_csv(const std::filesystem::path& path, const std::vector<std::int64_t>& rows,
                           const std::vector<std::int64_t>& labels,
                           const std::vector<std::vector<double>>& probabilities,
                           const std::vector<std::string>& class_names);

}  // namespace medfusion::train
