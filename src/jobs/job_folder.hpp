// The file the job manager keeps in a job's folder: config.yaml, the resolved config as run.
// (metrics.jsonl and train.log are the trainer's.)
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "medfusion/core/events.hpp"

namespace medfusion::jobs {

constexpr const char* kConfigFileName = "config.yaml";
constexpr const char* kLastCheckpoint = "checkpoints/last.pth";

/// The config as block YAML; strings are double-quoted so they read back as strings.
std::string to_yaml(const nlohmann::json& value);

/// Creates `job_dir` and writes its config.yaml atomically. Throws std::runtime_error.
void write_job_folder(const std::filesystem::path& job_dir, const nlohmann::json& config);

}  // namespace medfusion::jobs
