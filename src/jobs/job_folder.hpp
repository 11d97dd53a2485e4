// The files the job manager keeps in a job's folder: config.yaml (the resolved config, as run)
// and metrics.jsonl (one line per finished epoch).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "medfusion/core/events.hpp"

namespace medfusion::jobs {

constexpr const char* kConfigFileName = "config.yaml";
constexpr const char* kMetricsFileName = "metrics.jsonl";
constexpr const char* kLastCheckpoint = "checkpoints/last.pth";

/// The config as block YAML; strings are double-quoted so they read back as strings.
std::string to_yaml(const nlohmann::json& value);

/// Creates `job_dir` and writes its config.yaml atomically. Throws std::runtime_error.
void write_job_folder(const std::filesystem::path& job_dir, const nlohmann::json& config);

/// Appends `{"epoch", "learning_rate", "seconds", <metrics>...}` to metrics.jsonl. An epoch a
/// resumed run trains again gets a second line; the store's history keeps only the latest.
void append_metrics_line(const std::filesystem::path& job_dir, const core::EpochRecord& record);

}  // namespace medfusion::jobs
