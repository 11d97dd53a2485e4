// What a training run tells the outside world, in plain C++ types: progress events, the stop
// token, and the run's result. The trainer produces these; the job manager, the broadcast
// channel and the command line consume them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "medfusion/core/job_config.hpp"

namespace medfusion::core {

enum class EventType { kProgress, kEpochEnd, kValidation, kCompleted, kError, kStopped, kStatus };

/// "progress", "epoch_end", "validation", "completed", "error", "stopped", "status".
const char* event_type_name(EventType type);
bool is_terminal(EventType type);

/// One event of a job. `metrics` holds e.g. loss/accuracy (progress), train_loss/val_auc/...
struct ProgressEvent {
    EventType type = EventType::kProgress;
    std::string job_id;
    int epoch = 0;  // 1-based; 0 before the first epoch
    int total_epochs = 0;
    int batch = 0;  // 1-based within the epoch
    int total_batches = 0;
    std::map<std::string, double> metrics;
    std::string message;  // error text, or a status line
};

using ProgressSink = std::function<void(const ProgressEvent&)>;

/// Cooperative cancellation: set by any thread, polled by the trainer between batches.
class StopToken {
public:
    void request_stop() { stopped_.store(true, std::memory_order_release); }
    bool stop_requested() const { return stopped_.load(std::memory_order_acquire); }

private:
    std::atomic<bool> stopped_{false};
};

/// One finished epoch, as stored in the job's history and `metrics.jsonl`.
struct EpochRecord {
    int epoch = 0;
    std::map<std::string, double> metrics;  // train_loss, train_accuracy, val_loss, val_auc...
    double learning_rate = 0.0;
    double seconds = 0.0;
};

enum class RunOutcome { kCompleted, kStopped, kFailed };

/// How a run ended. For completed runs the best checkpoint is what the registry records.
struct RunResult {
    RunOutcome outcome = RunOutcome::kFailed;
    std::string error;  // when failed: a clear, user-facing message
    int epochs_completed = 0;
    std::string best_checkpoint;  // absolute path
    std::string last_checkpoint;
    int best_epoch = 0;
    std::string best_metric;  // e.g. "val_loss"
    double best_value = 0.0;
    std::map<std::string, double> best_metrics;  // all metrics of the best epoch
    std::vector<std::string> class_names;
    std::int64_t parameter_count = 0;
};

/// Everything a runner needs for one job. Callbacks may be called from the training thread.
struct JobContext {
    std::string job_id;
    std::string job_name;
    JobConfig config;
    std::string output_dir;  // <output_dir>/<job_id>, created by the job manager
    bool resume = false;     // continue from output_dir/checkpoints/last.pth
    std::shared_ptr<StopToken> stop;
    ProgressSink on_event;
    std::function<void(const EpochRecord&)> on_epoch;  // called once per epoch, before epoch_end
};

/// Runs one job to its end on the calling thread; never throws (failures are a RunResult).
using JobRunner = std::function<RunResult(const JobContext&)>;

}  // namespace medfusion::core
