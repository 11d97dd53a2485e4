// From a job config's `data` section to preprocessed splits: CSVs read, column types inferred,
// preprocessing fitted on the training split only, labels indexed, images checked up front.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medfusion/core/job_config.hpp"
#include "medfusion/data/data_error.hpp"

namespace medfusion::data {

/// One split, ready for the loader. All vectors have one entry per kept row.
struct Split {
    std::vector<std::string> image_paths;      // absolute
    std::vector<std::vector<float>> features;  // preprocessed rows, PreparedData::num_features
    std::vector<std::int64_t> labels;          // index into class_names
    std::vector<std::int64_t> source_rows;     // 1-based CSV line, for messages
    std::size_t skipped_rows = 0;              // left out under bad_rows: skip

    std::size_t size() const { return labels.size(); }
};

/// Everything the trainer needs from the data section.
struct PreparedData {
    std::vector<std::string> class_names;  // sorted (numerically when every label is an integer)
    nlohmann::json preprocessing;          // TabularPreprocessor::to_json()
    std::int64_t num_features = 0;         // width of Split::features rows
    Split train, val, test;                // test empty when no test_csv
    nlohmann::json report;                 // columns and inferred types, counts, skipped rows
};

/// Reads the CSVs, infers types, fits preprocessing on train only, applies it to all splits and
/// runs the image pre-flight check. bad_rows "error": one DataError listing every bad row
/// (row, path, reason) at once; "skip": bad rows are dropped and counted. Also a DataError: a
/// missing column, a val/test label never seen in training, an empty training split.
PreparedData prepare_data(const core::DataConfig& config);

/// Loads one CSV with an already fitted preprocessing state and class names (evaluation from a
/// checkpoint). An unknown label is a DataError; bad images follow config.bad_rows.
Split load_split(const core::DataConfig& config, const std::string& csv_path,
                 const nlohmann::json& preprocessing, const std::vector<std::string>& class_names);

/// Sorts class labels: numerically when all are integers, else lexicographically.
std::vector<std::string> sorted_class_names(std::vector<std::string> labels);

}  // namespace medfusion::data
