// The SQLite store: one connection in WAL mode, every call one short transaction under a mutex.
#include "medfusion/store/store.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

#include <SQLiteCpp/SQLiteCpp.h>

#include "medfusion/core/api_error.hpp"
#include "medfusion/core/clock.hpp"
#include "store/migrations.hpp"

namespace medfusion::store {
namespace {

using nlohmann::json;

// How long a statement waits for a lock held by another connection (e.g. the sqlite3 shell).
constexpr int kBusyTimeoutMs = 5000;

constexpr std::array<std::string_view, 6> kStatusNames = {"queued", "running", "completed",
                                                          "failed", "stopped", "interrupted"};

constexpr const char* kJobColumns =
    "id, name, status, config, created_at, started_at, finished_at, epoch, total_epochs, error, "
    "output_dir, best_epoch, best_metric, best_value, last_metrics";

constexpr const char* kModelColumns =
    "model_id, architecture, fusion_type, created_at, metrics, job_id, best_checkpoint, "
    "last_checkpoint, class_names, parameter_count, dataset";

constexpr const char* kEvaluationColumns =
    "id, model_id, created_at, split, csv, metrics, report_path";

constexpr const char* kDatasetColumns = "id, name, path, created_at";

// JSON as stored: invalid UTF-8 is replaced rather than failing the write.
std::string dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json parse_or(const std::string& text, json fallback) {
    json parsed = json::parse(text, nullptr, false);
    return parsed.is_discarded() ? fallback : parsed;
}

json metrics_to_json(const std::map<std::string, double>& metrics) {
    json out = json::object();
    for (const auto& [name, value] : metrics) {
        out[name] = std::isfinite(value) ? json(value) : json(nullptr);
    }
    return out;
}

std::map<std::string, double> metrics_from_json(const json& value) {
    std::map<std::string, double> out;
    if (!value.is_object()) {
        return out;
    }
    for (const auto& [name, item] : value.items()) {
        out[name] =
            item.is_number() ? item.get<double>() : std::numeric_limits<double>::quiet_NaN();
    }
    return out;
}

JobRecord read_job(SQLite::Statement& row) {
    JobRecord job;
    job.id = row.getColumn(0).getString();
    job.name = row.getColumn(1).getString();
    job.status = parse_job_status(row.getColumn(2).getString()).value_or(JobStatus::kFailed);
    job.config = parse_or(row.getColumn(3).getString(), json::object());
    job.created_at = row.getColumn(4).getString();
    job.started_at = row.getColumn(5).getString();
    job.finished_at = row.getColumn(6).getString();
    job.epoch = row.getColumn(7).getInt();
    job.total_epochs = row.getColumn(8).getInt();
    job.error = row.getColumn(9).getString();
    job.output_dir = row.getColumn(10).getString();
    job.best_epoch = row.getColumn(11).getInt();
    job.best_metric = row.getColumn(12).getString();
    job.best_value = row.getColumn(13).getDouble();
    job.last_metrics = parse_or(row.getColumn(14).getString(), json::object());
    return job;
}

ModelRecord read_model(SQLite::Statement& row) {
    ModelRecord model;
    model.model_id = row.getColumn(0).getString();
    model.architecture = row.getColumn(1).getString();
    model.fusion_type = row.getColumn(2).getString();
    model.created_at = row.getColumn(3).getString();
    model.metrics = parse_or(row.getColumn(4).getString(), json::object());
    model.job_id = row.getColumn(5).getString();
    model.best_checkpoint = row.getColumn(6).getString();
    model.last_checkpoint = row.getColumn(7).getString();
    const json names = parse_or(row.getColumn(8).getString(), json::array());
    for (const json& name : names) {
        model.class_names.push_back(name.is_string() ? name.get<std::string>() : name.dump());
    }
    model.parameter_count = row.getColumn(9).getInt64();
    model.dataset = row.getColumn(10).getString();
    return model;
}

EvaluationRecord read_evaluation(SQLite::Statement& row) {
    EvaluationRecord evaluation;
    evaluation.id = row.getColumn(0).getInt64();
    evaluation.model_id = row.getColumn(1).getString();
    evaluation.created_at = row.getColumn(2).getString();
    evaluation.split = row.getColumn(3).getString();
    evaluation.csv = row.getColumn(4).getString();
    evaluation.metrics = parse_or(row.getColumn(5).getString(), json::object());
    evaluation.report_path = row.getColumn(6).getString();
    return evaluation;
}

DatasetRecord read_dataset(SQLite::Statement& row) {
    return {row.getColumn(0).getString(), row.getColumn(1).getString(),
            row.getColumn(2).getString(), row.getColumn(3).getString()};
}

// "resnet50_attention" + 7 -> "resnet50_attention_007".
std::string numbered_id(const std::string& prefix, std::int64_t number) {
    std::array<char, 32> digits{};
    std::snprintf(digits.data(), digits.size(), "%03lld", static_cast<long long>(number));
    return prefix + "_" + digits.data();
}

// " WHERE a = ? AND b = ?" for the model filters that are set.
std::string model_where(const ModelFilter& filter) {
    std::string where;
    if (filter.architecture) {
        where += " WHERE architecture = ?";
    }
    if (filter.fusion_type) {
        where += where.empty() ? " WHERE fusion_type = ?" : " AND fusion_type = ?";
    }
    return where;
}

int bind_model_filter(SQLite::Statement& query, const ModelFilter& filter) {
    int index = 1;
    if (filter.architecture) {
        query.bind(index++, *filter.architecture);
    }
    if (filter.fusion_type) {
        query.bind(index++, *filter.fusion_type);
    }
    return index;
}

}  // namespace

std::string_view job_status_name(JobStatus status) {
    return kStatusNames.at(static_cast<std::size_t>(status));
}

std::optional<JobStatus> parse_job_status(std::string_view name) {
    for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
        if (kStatusNames[i] == name) {
            return static_cast<JobStatus>(i);
        }
    }
    return std::nullopt;
}

bool is_finished(JobStatus status) {
    return status != JobStatus::kQueued && status != JobStatus::kRunning;
}

Store::Store(const std::filesystem::path& data_dir) : path_(data_dir / kFileName) {
    std::filesystem::create_directories(data_dir);
    db_ = std::make_unique<SQLite::Database>(
        path_.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, kBusyTimeoutMs);

    // WAL lets readers proceed during a write; NORMAL sync in WAL survives a process crash.
    db_->exec("PRAGMA journal_mode = WAL");
    db_->exec("PRAGMA synchronous = NORMAL");
    db_->exec("PRAGMA foreign_keys = ON");
    migrate(*db_, kSchemaVersion);
}

Store::~Store() = default;

int Store::schema_version() const {
    std::lock_guard lock(mutex_);
    return store::schema_version(*db_);
}

void Store::insert_job(const JobRecord& job) {
    std::lock_guard lock(mutex_);
    SQLite::Statement insert(*db_,
                             std::string("INSERT INTO jobs (") + kJobColumns +
                                 ") VALUES (?, ?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), ?, ?, ?, "
                                 "?, ?, ?, ?, ?)");
    insert.bind(1, job.id);
    insert.bind(2, job.name);
    insert.bind(3, std::string(job_status_name(job.status)));
    insert.bind(4, dump(job.config));
    insert.bind(5, job.created_at.empty() ? core::iso8601_now() : job.created_at);
    insert.bind(6, job.started_at);
    insert.bind(7, job.finished_at);
    insert.bind(8, job.epoch);
    insert.bind(9, job.total_epochs);
    insert.bind(10, job.error);
    insert.bind(11, job.output_dir);
    insert.bind(12, job.best_epoch);
    insert.bind(13, job.best_metric);
    insert.bind(14, job.best_value);
    insert.bind(15, dump(job.last_metrics));
    insert.exec();
}

std::optional<JobRecord> Store::find_job(const std::string& job_id) const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(*db_, std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?");
    query.bind(1, job_id);
    if (!query.executeStep()) {
        return std::nullopt;
    }
    return read_job(query);
}

std::vector<JobRecord> Store::list_jobs(const JobFilter& filter) const {
    std::lock_guard lock(mutex_);
    const std::string where = filter.status ? " WHERE status = ?" : "";
    SQLite::Statement query(*db_, std::string("SELECT ") + kJobColumns + " FROM jobs" + where +
                                      " ORDER BY seq DESC LIMIT ? OFFSET ?");
    int index = 1;
    if (filter.status) {
        query.bind(index++, std::string(job_status_name(*filter.status)));
    }
    query.bind(index++, filter.limit < 0 ? -1 : filter.limit);
    query.bind(index, std::max(filter.offset, 0));

    std::vector<JobRecord> jobs;
    while (query.executeStep()) {
        jobs.push_back(read_job(query));
    }
    return jobs;
}

std::int64_t Store::count_jobs(std::optional<JobStatus> status) const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(
        *db_, status ? "SELECT COUNT(*) FROM jobs WHERE status = ?" : "SELECT COUNT(*) FROM jobs");
    if (status) {
        query.bind(1, std::string(job_status_name(*status)));
    }
    query.executeStep();
    return query.getColumn(0).getInt64();
}

bool Store::set_job_status(const std::string& job_id, JobStatus status, const std::string& error) {
    std::lock_guard lock(mutex_);
    const char* sql = nullptr;
    if (status == JobStatus::kRunning) {
        sql =
            "UPDATE jobs SET status = ?, started_at = COALESCE(started_at, ?), finished_at = NULL, "
            "error = ? WHERE id = ?";
    } else if (status == JobStatus::kQueued) {
        sql = "UPDATE jobs SET status = ?, finished_at = NULLIF(?, ?), error = ? WHERE id = ?";
    } else {
        sql = "UPDATE jobs SET status = ?, finished_at = ?, error = ? WHERE id = ?";
    }
    SQLite::Statement update(*db_, sql);
    const std::string now = core::iso8601_now();
    int index = 1;
    update.bind(index++, std::string(job_status_name(status)));
    update.bind(index++, now);
    if (status == JobStatus::kQueued) {
        update.bind(index++, now);
    }
    update.bind(index++, is_finished(status) ? error : std::string());
    update.bind(index, job_id);
    return update.exec() > 0;
}

void Store::set_job_progress(const std::string& job_id, int epoch, const nlohmann::json& metrics) {
    std::lock_guard lock(mutex_);
    SQLite::Statement update(*db_, "UPDATE jobs SET epoch = ?, last_metrics = ? WHERE id = ?");
    update.bind(1, epoch);
    update.bind(2, dump(metrics));
    update.bind(3, job_id);
    update.exec();
}

void Store::set_job_best(const std::string& job_id, int epoch, const std::string& metric,
                         double value) {
    std::lock_guard lock(mutex_);
    SQLite::Statement update(
        *db_, "UPDATE jobs SET best_epoch = ?, best_metric = ?, best_value = ? WHERE id = ?");
    update.bind(1, epoch);
    update.bind(2, metric);
    update.bind(3, value);
    update.bind(4, job_id);
    update.exec();
}

std::vector<std::string> Store::interrupt_running_jobs(const std::string& error) {
    std::lock_guard lock(mutex_);
    SQLite::Transaction transaction(*db_);
    std::vector<std::string> ids;
    SQLite::Statement query(*db_, "SELECT id FROM jobs WHERE status = 'running' ORDER BY seq");
    while (query.executeStep()) {
        ids.push_back(query.getColumn(0).getString());
    }

    SQLite::Statement update(*db_,
                             "UPDATE jobs SET status = 'interrupted', finished_at = ?, error = ? "
                             "WHERE status = 'running'");
    update.bind(1, core::iso8601_now());
    update.bind(2, error);
    update.exec();
    transaction.commit();
    return ids;
}

std::vector<std::string> Store::queued_job_ids() const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(*db_, "SELECT id FROM jobs WHERE status = 'queued' ORDER BY seq");
    std::vector<std::string> ids;
    while (query.executeStep()) {
        ids.push_back(query.getColumn(0).getString());
    }
    return ids;
}

void Store::append_epoch(const std::string& job_id, const core::EpochRecord& record) {
    std::lock_guard lock(mutex_);
    SQLite::Statement insert(*db_, "INSERT OR REPLACE INTO epoch_history VALUES (?, ?, ?, ?, ?)");
    insert.bind(1, job_id);
    insert.bind(2, record.epoch);
    insert.bind(3, dump(metrics_to_json(record.metrics)));
    insert.bind(4, record.learning_rate);
    insert.bind(5, record.seconds);
    insert.exec();
}

std::vector<core::EpochRecord> Store::history(const std::string& job_id) const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(*db_,
                            "SELECT epoch, metrics, learning_rate, seconds FROM epoch_history "
                            "WHERE job_id = ? ORDER BY epoch");
    query.bind(1, job_id);
    std::vector<core::EpochRecord> records;
    while (query.executeStep()) {
        core::EpochRecord record;
        record.epoch = query.getColumn(0).getInt();
        record.metrics = metrics_from_json(parse_or(query.getColumn(1).getString(), json{}));
        record.learning_rate = query.getColumn(2).getDouble();
        record.seconds = query.getColumn(3).getDouble();
        records.push_back(std::move(record));
    }
    return records;
}

ModelRecord Store::add_model(ModelRecord model) {
    std::lock_guard lock(mutex_);
    SQLite::Transaction transaction(*db_);

    // The counter lives in its own table so that numbers are never reused.
    const std::string prefix = model.architecture + "_" + model.fusion_type;
    SQLite::Statement counter(*db_, "SELECT last_number FROM model_counters WHERE prefix = ?");
    counter.bind(1, prefix);
    const std::int64_t number = counter.executeStep() ? counter.getColumn(0).getInt64() + 1 : 1;
    SQLite::Statement bump(*db_, "INSERT OR REPLACE INTO model_counters VALUES (?, ?)");
    bump.bind(1, prefix);
    bump.bind(2, number);
    bump.exec();

    model.model_id = numbered_id(prefix, number);
    if (model.created_at.empty()) {
        model.created_at = core::iso8601_now();
    }
    SQLite::Statement insert(*db_, std::string("INSERT INTO models (") + kModelColumns +
                                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, model.model_id);
    insert.bind(2, model.architecture);
    insert.bind(3, model.fusion_type);
    insert.bind(4, model.created_at);
    insert.bind(5, dump(model.metrics));
    insert.bind(6, model.job_id);
    insert.bind(7, model.best_checkpoint);
    insert.bind(8, model.last_checkpoint);
    insert.bind(9, dump(json(model.class_names)));
    insert.bind(10, static_cast<std::int64_t>(model.parameter_count));
    insert.bind(11, model.dataset);
    insert.exec();
    transaction.commit();
    return model;
}

std::optional<ModelRecord> Store::find_model(const std::string& model_id) const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(
        *db_, std::string("SELECT ") + kModelColumns + " FROM models WHERE model_id = ?");
    query.bind(1, model_id);
    if (!query.executeStep()) {
        return std::nullopt;
    }
    return read_model(query);
}

std::optional<ModelRecord> Store::find_model_for_job(const std::string& job_id) const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(*db_, std::string("SELECT ") + kModelColumns +
                                      " FROM models WHERE job_id = ? ORDER BY seq DESC LIMIT 1");
    query.bind(1, job_id);
    if (!query.executeStep()) {
        return std::nullopt;
    }
    return read_model(query);
}

std::vector<ModelRecord> Store::list_models(const ModelFilter& filter) const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(*db_, std::string("SELECT ") + kModelColumns + " FROM models" +
                                      model_where(filter) + " ORDER BY seq DESC LIMIT ? OFFSET ?");
    int index = bind_model_filter(query, filter);
    query.bind(index++, filter.limit < 0 ? -1 : filter.limit);
    query.bind(index, std::max(filter.offset, 0));

    std::vector<ModelRecord> models;
    while (query.executeStep()) {
        models.push_back(read_model(query));
    }
    return models;
}

std::int64_t Store::count_models(const ModelFilter& filter) const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(*db_, "SELECT COUNT(*) FROM models" + model_where(filter));
    bind_model_filter(query, filter);
    query.executeStep();
    return query.getColumn(0).getInt64();
}

EvaluationRecord Store::add_evaluation(EvaluationRecord evaluation) {
    std::lock_guard lock(mutex_);
    if (evaluation.created_at.empty()) {
        evaluation.created_at = core::iso8601_now();
    }
    SQLite::Statement insert(*db_,
                             "INSERT INTO evaluations (model_id, created_at, split, csv, metrics, "
                             "report_path) VALUES (?, ?, ?, ?, ?, ?)");
    insert.bind(1, evaluation.model_id);
    insert.bind(2, evaluation.created_at);
    insert.bind(3, evaluation.split);
    insert.bind(4, evaluation.csv);
    insert.bind(5, dump(evaluation.metrics));
    insert.bind(6, evaluation.report_path);
    insert.exec();
    evaluation.id = db_->getLastInsertRowid();
    return evaluation;
}

std::vector<EvaluationRecord> Store::list_evaluations(const std::string& model_id) const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(*db_, std::string("SELECT ") + kEvaluationColumns +
                                      " FROM evaluations WHERE model_id = ? ORDER BY id DESC");
    query.bind(1, model_id);
    std::vector<EvaluationRecord> evaluations;
    while (query.executeStep()) {
        evaluations.push_back(read_evaluation(query));
    }
    return evaluations;
}

DatasetRecord Store::add_dataset(DatasetRecord dataset) {
    std::lock_guard lock(mutex_);
    SQLite::Statement taken(*db_, "SELECT 1 FROM datasets WHERE name = ?");
    taken.bind(1, dataset.name);
    if (taken.executeStep()) {
        throw core::ApiError(core::ErrorCode::kConflict,
                             "a dataset named '" + dataset.name + "' is already registered");
    }

    if (dataset.id.empty()) {
        dataset.id = core::new_uuid();
    }
    if (dataset.created_at.empty()) {
        dataset.created_at = core::iso8601_now();
    }
    SQLite::Statement insert(
        *db_, std::string("INSERT INTO datasets (") + kDatasetColumns + ") VALUES (?, ?, ?, ?)");
    insert.bind(1, dataset.id);
    insert.bind(2, dataset.name);
    insert.bind(3, dataset.path);
    insert.bind(4, dataset.created_at);
    insert.exec();
    return dataset;
}

std::optional<DatasetRecord> Store::find_dataset(const std::string& id_or_name) const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(*db_, std::string("SELECT ") + kDatasetColumns +
                                      " FROM datasets WHERE id = ? OR name = ? LIMIT 1");
    query.bind(1, id_or_name);
    query.bind(2, id_or_name);
    if (!query.executeStep()) {
        return std::nullopt;
    }
    return read_dataset(query);
}

std::vector<DatasetRecord> Store::list_datasets() const {
    std::lock_guard lock(mutex_);
    SQLite::Statement query(
        *db_, std::string("SELECT ") + kDatasetColumns + " FROM datasets ORDER BY seq DESC");
    std::vector<DatasetRecord> datasets;
    while (query.executeStep()) {
        datasets.push_back(read_dataset(query));
    }
    return datasets;
}

bool Store::remove_dataset(const std::string& id) {
    std::lock_guard lock(mutex_);
    SQLite::Statement remove(*db_, "DELETE FROM datasets WHERE id = ?");
    remove.bind(1, id);
    return remove.exec() > 0;
}

}  // namespace medfusion::store
