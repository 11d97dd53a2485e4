// The job manager: a FIFO queue of training jobs, `max_concurrent_jobs` worker threads that run
// them through an injected runner, and the job state machine kept in the store. Torch-free.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medfusion/core/events.hpp"
#include "medfusion/core/job_config.hpp"
#include "medfusion/store/store.hpp"

namespace medfusion::jobs {

class ChannelRegistry;

// Training workers; the server passes `max_concurrent_jobs`.
constexpr int kDefaultMaxConcurrentJobs = 1;
// Jobs waiting for a worker (`limits.max_queued_jobs`); a submit beyond it gets 429.
constexpr std::uint32_t kDefaultMaxQueuedJobs = 100;

struct JobManagerOptions {
    int max_concurrent_jobs = kDefaultMaxConcurrentJobs;
    std::uint32_t max_queued_jobs = kDefaultMaxQueuedJobs;
    std::filesystem::path output_dir = "./outputs";  // each job writes to <output_dir>/<job_id>/
    /// Also receives every event published to a job's channel (logging, tests). Called on
    /// worker and I/O threads, sometimes under the manager's lock: it must be thread-safe, quick,
    /// and must not call back into the manager.
    core::ProgressSink event_observer;
};

struct JobCounts {
    int running = 0;
    int queued = 0;
};

/// A job as the status endpoint shows it: the stored row, plus the live state of a running job
/// (its current epoch and latest metrics are merged into `record`).
struct JobSnapshot {
    store::JobRecord record;
    int batch = 0;  // within the current epoch, from the last progress event
    int total_batches = 0;
    double progress = 0.0;                     // 0-1 over all epochs
    std::optional<double> eta_seconds;         // running jobs, once progress has moved
    std::optional<double> samples_per_second;  // the `samples_per_second` of progress events
    std::string model_id;                      // the model a completed job registered
};

/// Owns the training queue and workers. States: queued → running → completed | failed |
/// stopped, and interrupted for jobs that were running when the process died or shut down.
///
/// Restart policy (start()): jobs left `running` become `interrupted`; jobs left `queued` are
/// queued again in their original order (a job whose folder holds checkpoints/last.pth resumes
/// from it). Jobs still running at shutdown() end as `interrupted` (resumable); queued ones stay
/// `queued` in the store and run after the next start().
///
/// Events: every event the runner emits is published to the job's broadcast channel; `status`
/// events mark queued/running; exactly one terminal event (completed, error or stopped) ends
/// each run, published after the job's row and model are stored.
///
/// Thread-safety: every public method may be called from any thread (I/O threads, workers,
/// the runner's callbacks). None of them waits for training, except wait_until_finished() and
/// shutdown().
class JobManager {
public:
    JobManager(store::Store& store, core::JobRunner runner, ChannelRegistry& channels,
               JobManagerOptions options = {});
    ~JobManager();  // shutdown()
    JobManager(const JobManager&) = delete;
    JobManager& operator=(const JobManager&) = delete;

    /// Recovers the store's jobs (see the restart policy above) and starts the workers.
    void start();

    /// Queues a job. The row (status queued), <output_dir>/<job_id>/ and its config.yaml exist
    /// when this returns. Throws ApiError kTooManyRequests (429) when `max_queued_jobs` jobs
    /// are waiting, kServiceUnavailable after shutdown(), kInternalError when the folder cannot
    /// be written.
    std::string submit(const std::string& job_name, const core::JobConfig& config,
                       const nlohmann::json& resolved_config);

    /// Stops a job: a queued one becomes stopped at once (returns kStopped); a running one gets
    /// its stop token set and ends stopped shortly (returns kRunning). Throws ApiError
    /// kNotFound for an unknown id, kConflict for a finished job.
    store::JobStatus stop(const std::string& job_id);

    /// Queues an interrupted or stopped job again under the same id; it resumes from
    /// checkpoints/last.pth when that exists. Throws kNotFound, kConflict (other states), or
    /// kTooManyRequests (queue full).
    void resume(const std::string& job_id);

    /// Throws ApiError kNotFound for an unknown id.
    JobSnapshot status(const std::string& job_id) const;

    /// Jobs newest first, optionally of one status; a negative limit means no limit.
    std::vector<JobSnapshot> list(std::optional<store::JobStatus> status = std::nullopt,
                                  int limit = 100, int offset = 0) const;

    /// Every finished epoch of a job, across resumes. Throws kNotFound for an unknown id.
    std::vector<core::EpochRecord> history(const std::string& job_id) const;

    JobCounts counts() const;

    /// Blocks until the job is finished and idle (no worker holds it); false on timeout.
    bool wait_until_finished(const std::string& job_id, std::chrono::milliseconds timeout) const;

    /// Stops accepting jobs, asks running jobs to stop, and joins the workers. Idempotent.
    void shutdown();

private:
    struct QueuedJob {
        std::string id;
        std::optional<core::JobConfig> config;  // absent: parsed from the stored config
    };
    struct RunState;

    void worker_loop();
    std::optional<std::pair<QueuedJob, std::shared_ptr<RunState>>> next_job();
    void run_job(const QueuedJob& job, const std::shared_ptr<RunState>& run);
    core::JobContext make_context(const QueuedJob& job, const core::JobConfig& config,
                                  const std::shared_ptr<RunState>& run);
    core::RunResult invoke_runner(const core::JobContext& context) const;
    void finish(const std::string& job_id, const std::shared_ptr<RunState>& run,
                const core::RunResult& result, const core::JobConfig* config);
    std::string register_model(const std::string& job_id, const core::RunResult& result,
                               const core::JobConfig& config);

    void on_event(const std::shared_ptr<RunState>& run, core::ProgressEvent event);
    void on_epoch(const std::shared_ptr<RunState>& run, const core::EpochRecord& record);

    void publish(const core::ProgressEvent& event);
    void publish_status(const std::string& job_id, const std::string& status);
    void check_queue_capacity() const;
    bool is_idle(const std::string& job_id) const;
    JobSnapshot snapshot(store::JobRecord record) const;

    store::Store& store_;
    core::JobRunner runner_;
    ChannelRegistry& channels_;
    JobManagerOptions options_;

    // Guards everything below. Job state transitions (the stored status together with the queue
    // and the running map) happen under it; the store is called under it, never the reverse.
    mutable std::mutex mutex_;
    mutable std::condition_variable work_cv_;  // the queue gained a job, or shutdown
    mutable std::condition_variable done_cv_;  // a job finished
    std::deque<QueuedJob> queue_;
    std::map<std::string, std::shared_ptr<RunState>> running_;
    std::vector<std::thread> workers_;
    bool started_ = false;
    bool accepting_ = true;
    bool stopping_ = false;
};

}  // namespace medfusion::jobs
