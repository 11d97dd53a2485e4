// Checkpoint files: `best.pth` and `last.pth` of a job, each enough to predict with alone. This
// header reads their metadata without torch; the trainer and evaluator load the tensors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace medfusion::train {

inline constexpr const char* kCheckpointFolder = "checkpoints";
inline constexpr const char* kBestCheckpointName = "best.pth";
inline constexpr const char* kLastCheckpointName = "last.pth";

/// `<job_dir>/checkpoints/best.pth` and `<job_dir>/checkpoints/last.pth`.
std::filesystem::path best_checkpoint_path(const std::filesystem::path& job_dir);
std::filesystem::path last_checkpoint_path(const std::filesystem::path& job_dir);

/// What a checkpoint says about itself, beside its tensors.
struct CheckpointInfo {
    int epoch = 0;                 // last completed epoch (1-based; 0 before the first)
    std::int64_t global_step = 0;  // optimizer steps taken
    nlohmann::json config;         // core::to_json of the resolved job config
    nlohmann::json preprocessing;  // the fitted tabular preprocessing
    std::vector<std::string> class_names;
    std::int64_t num_features = 0;          // tabular width the model expects
    std::map<std::string, double> metrics;  // the metrics of `epoch`
    std::string best_metric;                // the monitored metric, e.g. "val_loss"
    double best_value = 0.0;                // its best value so far
    int best_epoch = 0;                     // the epoch that reached it
    std::string torch_version;              // LibTorch that wrote the file
    std::string created_at;                 // ISO-8601 UTC
    nlohmann::json metadata;                // the whole metadata object, as stored
};

/// Reads the metadata of a checkpoint written by the trainer. Throws std::runtime_error naming
/// the file when it is missing, unreadable or not a MedFusion checkpoint.
CheckpointInfo read_checkpoint_info(const std::filesystem::path& path);

}  // namespace medfusion::train
