// The text files of a job's folder: `train.log` (the job's own log) and `metrics.jsonl` (one
// line per epoch). Torch-free.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "medfusion/core/events.hpp"

namespace medfusion::train {

inline constexpr const char* kTrainLogName = "train.log";
inline constexpr const char* kMetricsJournalName = "metrics.jsonl";

/// A logger that appends to `<job_dir>/train.log`, every line tagged `job=<job_id>`. Not
/// registered globally, so jobs never share or collide on logger names. Thread-safe.
std::shared_ptr<spdlog::logger> make_job_logger(const std::filesystem::path& job_dir,
                                                const std::string& job_id);

/// `metrics.jsonl`: one JSON object per finished epoch ({epoch, learning_rate, seconds,
/// ...metrics}). The training thread owns it.
class MetricsJournal {
public:
    explicit MetricsJournal(const std::filesystem::path& job_dir);

    /// Drops lines of epochs after `last_epoch` (a resumed run repeats them); 0 empties it.
    void truncate_after(int last_epoch);

    /// Appends one epoch and flushes it to disk.
    void append(const core::EpochRecord& record);

private:
    std::filesystem::path path_;
};

}  // namespace medfusion::train
