// The job manager: queue, workers, the job state machine in the store, and the events of a run.
#include "medfusion/jobs/job_manager.hpp"

#include <algorithm>
#include <cmath>
#include <exception>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "jobs/job_folder.hpp"
#include "medfusion/core/api_error.hpp"
#include "medfusion/core/clock.hpp"
#include "medfusion/jobs/broadcast_channel.hpp"

namespace medfusion::jobs {
namespace {

using core::ApiError;
using core::ErrorCode;
using core::EventType;
using core::RunOutcome;
using nlohmann::json;
using store::JobStatus;

constexpr const char* kInterruptedByRestart =
    "interrupted: the server stopped while the job was running; resume it to continue";
constexpr const char* kInterruptedByShutdown =
    "interrupted: the server shut down while the job was running; resume it to continue";

json metrics_json(const std::map<std::string, double>& metrics) {
    json out = json::object();
    for (const auto& [name, value] : metrics) {
        out[name] = std::isfinite(value) ? json(value) : json(nullptr);
    }
    return out;
}

core::ProgressEvent make_event(EventType type, const std::string& job_id, int epoch = 0,
                               int total_epochs = 0) {
    core::ProgressEvent event;
    event.type = type;
    event.job_id = job_id;
    event.epoch = epoch;
    event.total_epochs = total_epochs;
    return event;
}

EventType terminal_type(JobStatus status) {
    switch (status) {
        case JobStatus::kCompleted:
            return EventType::kCompleted;
        case JobStatus::kStopped:
        case JobStatus::kInterrupted:
            return EventType::kStopped;
        default:
            return EventType::kError;
    }
}

// "/data/pad_ufes_20/train.csv" -> "pad_ufes_20".
std::string dataset_name(const core::DataConfig& data) {
    const std::filesystem::path csv(data.train_csv);
    const std::string folder = csv.parent_path().filename().string();
    return folder.empty() ? csv.stem().string() : folder;
}

bool has_last_checkpoint(const std::string& output_dir) {
    std::error_code ignored;
    return !output_dir.empty() &&
           std::filesystem::exists(std::filesystem::path(output_dir) / kLastCheckpoint, ignored);
}

}  // namespace

/// What the manager knows about a running job beyond its stored row.
struct JobManager::RunState {
    std::string id;
    std::string output_dir;
    std::shared_ptr<core::StopToken> stop = std::make_shared<core::StopToken>();
    bool stop_by_user = false;
    bool stop_by_shutdown = false;

    // Live progress, from the runner's events.
    int epoch = 0;
    int total_epochs = 0;
    int batch = 0;
    int total_batches = 0;
    double epochs_done = 0.0;  // fractional: 2.5 is halfway through epoch 3
    double epochs_done_at_start = 0.0;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::map<std::string, double> metrics;        // latest value of every metric seen
    std::optional<core::ProgressEvent> terminal;  // the runner's own, held until stored
};

JobManager::JobManager(store::Store& store, core::JobRunner runner, ChannelRegistry& channels,
                       JobManagerOptions options)
    : store_(store), runner_(std::move(runner)), channels_(channels), options_(std::move(options)) {
    options_.max_concurrent_jobs = std::max(options_.max_concurrent_jobs, 1);
}

JobManager::~JobManager() {
    shutdown();
}

void JobManager::start() {
    std::lock_guard lock(mutex_);
    if (started_ || stopping_) {
        return;
    }
    started_ = true;

    // Recovery: running rows belong to a dead process; queued rows run again in their order.
    for (const std::string& id : store_.interrupt_running_jobs(kInterruptedByRestart)) {
        spdlog::info("job={} status=interrupted reason=restart", id);
    }
    std::map<std::string, QueuedJob> known;
    for (QueuedJob& job : queue_) {
        known.emplace(job.id, std::move(job));
    }
    queue_.clear();
    for (const std::string& id : store_.queued_job_ids()) {
        auto it = known.find(id);
        queue_.push_back(it != known.end() ? std::move(it->second) : QueuedJob{id, std::nullopt});
    }

    for (int i = 0; i < options_.max_concurrent_jobs; ++i) {
        workers_.emplace_back([this] { worker_loop(); });
    }
    spdlog::info("job manager started workers={} queued={}", workers_.size(), queue_.size());
}

std::string JobManager::submit(const std::string& job_name, const core::JobConfig& config,
                               const json& resolved_config) {
    const std::string id = core::new_uuid();
    store::JobRecord record;
    record.id = id;
    record.name = job_name;
    record.config = resolved_config;
    record.total_epochs = config.training.epochs;
    record.output_dir = std::filesystem::absolute(options_.output_dir / id).lexically_normal();

    std::lock_guard lock(mutex_);
    if (!accepting_) {
        throw ApiError(ErrorCode::kServiceUnavailable, "the server is shutting down");
    }
    check_queue_capacity();
    try {
        write_job_folder(record.output_dir, resolved_config);
    } catch (const std::exception& error) {
        spdlog::error("job={} cannot create its folder: {}", id, error.what());
        throw ApiError(ErrorCode::kInternalError, "cannot create the job's output folder");
    }
    store_.insert_job(record);
    queue_.push_back({id, config});
    publish_status(id, "queued");
    work_cv_.notify_one();
    spdlog::info("job={} status=queued name={} epochs={}", id, job_name, record.total_epochs);
    return id;
}

store::JobStatus JobManager::stop(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    if (auto running = running_.find(job_id); running != running_.end()) {
        running->second->stop_by_user = true;
        running->second->stop->request_stop();
        spdlog::info("job={} stop requested", job_id);
        return JobStatus::kRunning;
    }

    const auto record = store_.find_job(job_id);
    if (!record) {
        throw ApiError(ErrorCode::kNotFound, "job not found", job_id);
    }
    if (record->status != JobStatus::kQueued) {
        throw ApiError(ErrorCode::kConflict,
                       "job is already " + std::string(store::job_status_name(record->status)),
                       job_id);
    }

    // A queued job never ran: it ends here, with its one terminal event.
    std::erase_if(queue_, [&](const QueuedJob& job) { return job.id == job_id; });
    store_.set_job_status(job_id, JobStatus::kStopped);
    auto stopped = make_event(EventType::kStopped, job_id, record->epoch, record->total_epochs);
    stopped.message = "stopped before it started";
    publish(stopped);
    done_cv_.notify_all();
    spdlog::info("job={} status=stopped while queued", job_id);
    return JobStatus::kStopped;
}

void JobManager::resume(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    const auto record = store_.find_job(job_id);
    if (!record) {
        throw ApiError(ErrorCode::kNotFound, "job not found", job_id);
    }
    const bool resumable =
        record->status == JobStatus::kInterrupted || record->status == JobStatus::kStopped;
    if (!resumable || running_.count(job_id) > 0) {
        throw ApiError(ErrorCode::kConflict,
                       "only interrupted or stopped jobs can be resumed; this one is " +
                           std::string(store::job_status_name(record->status)),
                       job_id);
    }
    if (!accepting_) {
        throw ApiError(ErrorCode::kServiceUnavailable, "the server is shutting down");
    }
    check_queue_capacity();

    store_.set_job_status(job_id, JobStatus::kQueued);
    queue_.push_back({job_id, std::nullopt});
    publish_status(job_id, "queued");
    work_cv_.notify_one();
    spdlog::info("job={} status=queued resume=true", job_id);
}

JobSnapshot JobManager::status(const std::string& job_id) const {
    auto record = store_.find_job(job_id);
    if (!record) {
        throw ApiError(ErrorCode::kNotFound, "job not found", job_id);
    }
    return snapshot(std::move(*record));
}

std::vector<JobSnapshot> JobManager::list(std::optional<store::JobStatus> status, int limit,
                                          int offset) const {
    std::vector<JobSnapshot> jobs;
    for (auto& record : store_.list_jobs({status, limit, offset})) {
        jobs.push_back(snapshot(std::move(record)));
    }
    return jobs;
}

std::vector<core::EpochRecord> JobManager::history(const std::string& job_id) const {
    if (!store_.find_job(job_id)) {
        throw ApiError(ErrorCode::kNotFound, "job not found", job_id);
    }
    return store_.history(job_id);
}

JobCounts JobManager::counts() const {
    std::lock_guard lock(mutex_);
    return {static_cast<int>(running_.size()), static_cast<int>(queue_.size())};
}

bool JobManager::wait_until_finished(const std::string& job_id,
                                     std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return done_cv_.wait_for(lock, timeout, [&] { return is_idle(job_id); });
}

void JobManager::shutdown() {
    {
        std::lock_guard lock(mutex_);
        accepting_ = false;
        stopping_ = true;
        for (auto& [id, run] : running_) {
            run->stop_by_shutdown = true;
            run->stop->request_stop();
        }
    }
    work_cv_.notify_all();
    for (std::thread& worker : workers_) {
        if (worker.joinable()) {
            worker.join();
        }
    }
    workers_.clear();
}

void JobManager::worker_loop() {
    while (auto next = next_job()) {
        run_job(next->first, next->second);
    }
}

std::optional<std::pair<JobManager::QueuedJob, std::shared_ptr<JobManager::RunState>>>
JobManager::next_job() {
    std::unique_lock lock(mutex_);
    work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) {
        return std::nullopt;
    }
    QueuedJob job = std::move(queue_.front());
    queue_.pop_front();

    // Running from here on: stop() now reaches the run's stop token.
    auto run = std::make_shared<RunState>();
    run->id = job.id;
    if (const auto record = store_.find_job(job.id)) {
        run->output_dir = record->output_dir;
        run->epoch = record->epoch;
        run->total_epochs = record->total_epochs;
        run->epochs_done = run->epochs_done_at_start = record->epoch;
        for (const auto& [name, value] : record->last_metrics.items()) {
            if (value.is_number()) {
                run->metrics[name] = value.get<double>();
            }
        }
    }
    running_[job.id] = run;
    store_.set_job_status(job.id, JobStatus::kRunning);
    publish_status(job.id, "running");
    spdlog::info("job={} status=running", job.id);
    return std::make_pair(std::move(job), run);
}

void JobManager::run_job(const QueuedJob& job, const std::shared_ptr<RunState>& run) {
    // Jobs recovered from the store carry their config as JSON only.
    std::optional<core::JobConfig> config = job.config;
    if (!config) {
        const auto record = store_.find_job(job.id);
        auto parsed = core::parse_job_config(record ? record->config : json::object(), nullptr);
        if (!parsed) {
            core::RunResult invalid;
            invalid.error = "the stored config is no longer valid: " + parsed.error().front().path +
                            ": " + parsed.error().front().message;
            finish(job.id, run, invalid, nullptr);
            return;
        }
        config = std::move(parsed.value());
    }

    const core::JobContext context = make_context(job, *config, run);
    const core::RunResult result = invoke_runner(context);
    finish(job.id, run, result, &*config);
}

core::JobContext JobManager::make_context(const QueuedJob& job, const core::JobConfig& config,
                                          const std::shared_ptr<RunState>& run) {
    core::JobContext context;
    context.job_id = job.id;
    if (const auto record = store_.find_job(job.id)) {
        context.job_name = record->name;
    }
    context.config = config;
    context.output_dir = run->output_dir;
    context.resume = has_last_checkpoint(run->output_dir);
    context.stop = run->stop;
    context.on_event = [this, run](const core::ProgressEvent& event) { on_event(run, event); };
    context.on_epoch = [this, run](const core::EpochRecord& record) { on_epoch(run, record); };
    return context;
}

core::RunResult JobManager::invoke_runner(const core::JobContext& context) const {
    // The runner must never take a worker down with it.
    core::RunResult failed;
    try {
        if (!runner_) {
            failed.error = "no trainer is configured";
            return failed;
        }
        return runner_(context);
    } catch (const std::exception& error) {
        failed.error = error.what();
    } catch (...) {
        failed.error = "the trainer failed with an unknown error";
    }
    return failed;
}

void JobManager::finish(const std::string& job_id, const std::shared_ptr<RunState>& run,
                        const core::RunResult& result, const core::JobConfig* config) {
    std::string model_id;
    std::string error = result.error;
    if (result.outcome == RunOutcome::kCompleted && config != nullptr) {
        try {
            model_id = register_model(job_id, result, *config);
        } catch (const std::exception& failure) {
            spdlog::error("job={} cannot register its model: {}", job_id, failure.what());
            error = std::string("the model could not be registered: ") + failure.what();
        }
    }

    std::lock_guard lock(mutex_);
    JobStatus status = JobStatus::kFailed;
    if (result.outcome == RunOutcome::kCompleted) {
        status = JobStatus::kCompleted;
    } else if (result.outcome == RunOutcome::kStopped) {
        const bool by_shutdown = run->stop_by_shutdown && !run->stop_by_user;
        status = by_shutdown ? JobStatus::kInterrupted : JobStatus::kStopped;
        error = by_shutdown ? kInterruptedByShutdown : "";
    } else if (error.empty()) {
        error = "the trainer failed without a message";
    }

    if (result.best_epoch > 0) {
        store_.set_job_best(job_id, result.best_epoch, result.best_metric, result.best_value);
    }
    store_.set_job_status(job_id, status, error);
    running_.erase(job_id);

    // Exactly one terminal event: the runner's own when it matches the outcome, else ours.
    core::ProgressEvent terminal;
    if (run->terminal && run->terminal->type == terminal_type(status)) {
        terminal = *run->terminal;
    } else {
        terminal = make_event(terminal_type(status), job_id, run->epoch, run->total_epochs);
        terminal.metrics = status == JobStatus::kCompleted ? result.best_metrics : run->metrics;
        terminal.message = status == JobStatus::kCompleted ? "model " + model_id : error;
    }
    publish(terminal);
    done_cv_.notify_all();
    spdlog::info("job={} status={} epochs={} model={} error={}", job_id,
                 store::job_status_name(status), result.epochs_completed, model_id, error);
}

std::string JobManager::register_model(const std::string& job_id, const core::RunResult& result,
                                       const core::JobConfig& config) {
    store::ModelRecord model;
    model.architecture = config.model.vision_backbone;
    model.fusion_type = config.model.fusion_type;
    model.metrics = metrics_json(result.best_metrics);
    model.job_id = job_id;
    model.best_checkpoint = result.best_checkpoint;
    model.last_checkpoint = result.last_checkpoint;
    model.class_names = result.class_names;
    model.parameter_count = result.parameter_count;
    model.dataset = dataset_name(config.data);
    return store_.add_model(std::move(model)).model_id;
}

void JobManager::on_event(const std::shared_ptr<RunState>& run, core::ProgressEvent event) {
    event.job_id = run->id;
    bool persist = false;
    int epoch = 0;
    json last_metrics;
    {
        std::lock_guard lock(mutex_);
        if (core::is_terminal(event.type)) {
            // Held until the row says the same; later terminal events are dropped.
            if (!run->terminal) {
                run->terminal = std::move(event);
            }
            return;
        }
        if (event.epoch > 0) {
            run->epoch = event.epoch;
        }
        if (event.total_epochs > 0) {
            run->total_epochs = event.total_epochs;
        }
        for (const auto& [name, value] : event.metrics) {
            run->metrics[name] = value;
        }
        if (event.type == EventType::kProgress) {
            run->batch = event.batch;
            run->total_batches = event.total_batches;
            const double within = event.total_batches > 0
                                      ? static_cast<double>(event.batch) / event.total_batches
                                      : 0.0;
            run->epochs_done = std::max(0, event.epoch - 1) + within;
        } else if (event.type == EventType::kEpochEnd || event.type == EventType::kValidation) {
            run->epochs_done = event.epoch;
            persist = true;
            epoch = run->epoch;
            last_metrics = metrics_json(run->metrics);
        }
    }

    // Progress events stay in memory; epoch boundaries reach the store.
    if (persist) {
        try {
            store_.set_job_progress(run->id, epoch, last_metrics);
        } catch (const std::exception& error) {
            spdlog::error("job={} cannot store progress: {}", run->id, error.what());
        }
    }
    publish(event);
}

void JobManager::on_epoch(const std::shared_ptr<RunState>& run, const core::EpochRecord& record) {
    try {
        store_.append_epoch(run->id, record);
    } catch (const std::exception& error) {
        spdlog::error("job={} epoch={} cannot store history: {}", run->id, record.epoch,
                      error.what());
    }
}

void JobManager::publish(const core::ProgressEvent& event) {
    channels_.get_or_create(event.job_id)->publish(event);
    if (options_.event_observer) {
        options_.event_observer(event);
    }
}

void JobManager::publish_status(const std::string& job_id, const std::string& status) {
    auto event = make_event(EventType::kStatus, job_id);
    event.message = status;
    publish(event);
}

void JobManager::check_queue_capacity() const {
    if (queue_.size() >= options_.max_queued_jobs) {
        throw ApiError(ErrorCode::kTooManyRequests,
                       "the job queue is full (" + std::to_string(options_.max_queued_jobs) +
                           " jobs waiting); retry later",
                       "limits.max_queued_jobs");
    }
}

bool JobManager::is_idle(const std::string& job_id) const {
    if (running_.count(job_id) > 0 ||
        std::any_of(queue_.begin(), queue_.end(),
                    [&](const QueuedJob& job) { return job.id == job_id; })) {
        return false;
    }
    const auto record = store_.find_job(job_id);
    return !record || store::is_finished(record->status);
}

JobSnapshot JobManager::snapshot(store::JobRecord record) const {
    JobSnapshot out;
    const int total = std::max(record.total_epochs, 1);
    out.progress = record.status == JobStatus::kCompleted
                       ? 1.0
                       : std::clamp(static_cast<double>(record.epoch) / total, 0.0, 1.0);
    if (record.status == JobStatus::kCompleted) {
        if (const auto model = store_.find_model_for_job(record.id)) {
            out.model_id = model->model_id;
        }
    }

    std::lock_guard lock(mutex_);
    const auto it = running_.find(record.id);
    if (it != running_.end()) {
        const RunState& run = *it->second;
        record.epoch = run.epoch;
        record.last_metrics = metrics_json(run.metrics);
        out.batch = run.batch;
        out.total_batches = run.total_batches;
        out.progress = std::clamp(run.epochs_done / total, 0.0, 1.0);

        // ETA from this run's own pace (a resumed run starts part-way).
        const double done = (run.epochs_done - run.epochs_done_at_start) / total;
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - run.started).count();
        if (done > 0.0) {
            out.eta_seconds = elapsed * (1.0 - out.progress) / done;
        }
        if (const auto rate = run.metrics.find("samples_per_second"); rate != run.metrics.end()) {
            out.samples_per_second = rate->second;
        }
    }
    out.record = std::move(record);
    return out;
}

}  // namespace medfusion::jobs
