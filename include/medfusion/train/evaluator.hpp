// Evaluation of a checkpoint on a CSV: predictions, every metric, and the HTML report with
// predictions.csv beside it. Torch stays behind this header.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medfusion/core/events.hpp"

namespace medfusion::train {

/// One evaluation. Paths are used as given: callers confine them to their roots first.
struct EvaluationRequest {
    std::string checkpoint_path;
    std::string csv_path;
    std::string split = "test";
    std::string output_dir;  // the report goes to <output_dir>/reports/
    std::string model_id;    // for the report's header; may be empty
    std::string architecture;
    std::string fusion_type;
    std::string dataset;
    std::vector<core::EpochRecord> history;  // training curves for the report; may be empty
};

struct EvaluationResult {
    nlohmann::json metrics;        // compute_metrics with bootstrap intervals
    std::string report_path;       // <output_dir>/reports/evaluation_report.html
    std::string predictions_path;  // <output_dir>/reports/predictions.csv
};

/// Loads the checkpoint (config, preprocessing, class names, weights), reads the CSV with the
/// fitted preprocessing, predicts in batches (eval mode, no gradients) and writes the report.
/// Runs on the calling thread. Throws data::DataError for bad input data and
/// std::runtime_error with a clear message for everything else.
EvaluationResult evaluate_checkpoint(const EvaluationRequest& request);

}  // namespace medfusion::train
