// The embedded SQLite store in <data_dir>/medfusion.db: jobs, per-epoch history, models,
// evaluations and registered datasets. Torch-free; the schema is versioned with migrations.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "medfusion/core/events.hpp"

namespace SQLite {
class Database;
}

namespace medfusion::store {

/// queued → running → completed | failed | stopped; interrupted when the process died (or shut
/// down) while the job ran.
enum class JobStatus { kQueued, kRunning, kCompleted, kFailed, kStopped, kInterrupted };

/// "queued", "running", "completed", "failed", "stopped", "interrupted".
std::string_view job_status_name(JobStatus status);
std::optional<JobStatus> parse_job_status(std::string_view name);

/// True for the states a run ends in: completed, failed, stopped and interrupted.
bool is_finished(JobStatus status);

/// One row of `jobs`. Timestamps are ISO-8601 UTC; empty when not reached yet.
struct JobRecord {
    std::string id;
    std::string name;
    JobStatus status = JobStatus::kQueued;
    nlohmann::json config = nlohmann::json::object();  // the resolved config, as run
    std::string created_at;
    std::string started_at;  // first time a worker picked the job up
    std::string finished_at;
    int epoch = 0;  // the last epoch reported by the trainer
    int total_epochs = 0;
    std::string error;
    std::string output_dir;  // <output_dir>/<job_id>, absolute
    int best_epoch = 0;
    std::string best_metric;
    double best_value = 0.0;
    nlohmann::json last_metrics = nlohmann::json::object();  // metrics of the last event stored
};

/// Filters for list_jobs(); results are newest first. A negative limit means no limit.
struct JobFilter {
    std::optional<JobStatus> status;
    int limit = 100;
    int offset = 0;
};

/// One row of `models`: a registered checkpoint. `model_id` is `<architecture>_<fusion>_<NNN>`.
struct ModelRecord {
    std::string model_id;  // assigned by Store::add_model
    std::string architecture;
    std::string fusion_type;
    std::string created_at;                             // assigned by add_model when empty
    nlohmann::json metrics = nlohmann::json::object();  // val_accuracy, val_auc, ...
    std::string job_id;
    std::string best_checkpoint;
    std::string last_checkpoint;
    std::vector<std::string> class_names;
    std::int64_t parameter_count = 0;
    std::string dataset;
};

/// Filters for list_models(); results are newest first. A negative limit means no limit.
struct ModelFilter {
    std::optional<std::string> architecture;
    std::optional<std::string> fusion_type;
    int limit = 100;
    int offset = 0;
};

/// One evaluation of a model on a CSV.
struct EvaluationRecord {
    std::int64_t id = 0;  // assigned by Store::add_evaluation
    std::string model_id;
    std::string created_at;  // assigned by add_evaluation when empty
    std::string split;
    std::string csv;
    nlohmann::json metrics = nlohmann::json::object();
    std::string report_path;
};

/// A dataset registered by name.
struct DatasetRecord {
    std::string id;  // a UUID, assigned by Store::add_dataset when empty
    std::string name;
    std::string path;
    std::string created_at;  // assigned by add_dataset when empty
};

/// The SQLite store. One connection in WAL mode, guarded by a mutex: every method may be
/// called from any thread, and each call is one short transaction. Methods throw
/// std::runtime_error (SQLite::Exception) on database faults; lookups of absent rows return
/// nullopt or false instead.
class Store {
public:
    /// The schema version this build writes; older files are migrated on open.
    static constexpr int kSchemaVersion = 3;
    static constexpr const char* kFileName = "medfusion.db";

    /// Opens (creating when absent) <data_dir>/medfusion.db and migrates it to kSchemaVersion.
    /// Throws std::runtime_error when the file's schema is newer than this build.
    explicit Store(const std::filesystem::path& data_dir);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    int schema_version() const;
    const std::filesystem::path& path() const { return path_; }

    // Jobs.

    /// Inserts a new job; `created_at` is set to now when empty. Throws on a duplicate id.
    void insert_job(const JobRecord& job);
    std::optional<JobRecord> find_job(const std::string& job_id) const;
    std::vector<JobRecord> list_jobs(const JobFilter& filter = {}) const;
    std::int64_t count_jobs(std::optional<JobStatus> status = std::nullopt) const;

    /// Moves a job to `status` and keeps the timestamps consistent: running sets started_at
    /// (first run only) and clears finished_at and error; finished states set finished_at;
    /// queued clears finished_at and error. `error` is stored for failed/interrupted jobs.
    /// Returns false when the job does not exist.
    bool set_job_status(const std::string& job_id, JobStatus status, const std::string& error = {});

    /// Records the last epoch and metrics reported for a job.
    void set_job_progress(const std::string& job_id, int epoch, const nlohmann::json& metrics);

    /// Records the best epoch of a run, by the checkpoint's monitored metric.
    void set_job_best(const std::string& job_id, int epoch, const std::string& metric,
                      double value);

    /// Start-up recovery: every `running` job becomes `interrupted` with `error`; returns them.
    std::vector<std::string> interrupt_running_jobs(const std::string& error);

    /// Ids of `queued` jobs, oldest first.
    std::vector<std::string> queued_job_ids() const;

    // Epoch history.

    /// Stores one finished epoch; an epoch stored again (a resumed run) replaces the old row.
    void append_epoch(const std::string& job_id, const core::EpochRecord& record);

    /// Every stored epoch of a job, in epoch order.
    std::vector<core::EpochRecord> history(const std::string& job_id) const;

    // Models.

    /// Registers a model under the next free `<architecture>_<fusion_type>_<NNN>` id (numbers
    /// count per prefix from 001 and are never reused); returns the stored record.
    ModelRecord add_model(ModelRecord model);
    std::optional<ModelRecord> find_model(const std::string& model_id) const;
    std::optional<ModelRecord> find_model_for_job(const std::string& job_id) const;
    std::vector<ModelRecord> list_models(const ModelFilter& filter = {}) const;
    std::int64_t count_models(const ModelFilter& filter = {}) const;

    // Evaluations.

    EvaluationRecord add_evaluation(EvaluationRecord evaluation);
    /// The evaluations of a model, newest first.
    std::vector<EvaluationRecord> list_evaluations(const std::string& model_id) const;

    // Datasets.

    /// Registers a dataset; throws core::ApiError(kConflict) when the name is taken.
    DatasetRecord add_dataset(DatasetRecord dataset);
    std::optional<DatasetRecord> find_dataset(const std::string& id_or_name) const;
    /// Registered datasets, newest first.
    std::vector<DatasetRecord> list_datasets() const;
    bool remove_dataset(const std::string& id);

private:
    std::filesystem::path path_;
    mutable std::mutex mutex_;
    std::unique_ptr<SQLite::Database> db_;
};

}  // namespace medfusion::store
