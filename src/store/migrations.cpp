// Schema migrations of medfusion.db. Append new migrations at the end; never edit a released one.
#include "store/migrations.hpp"

#include <stdexcept>
#include <string>

#include <SQLiteCpp/SQLiteCpp.h>

#include "medfusion/core/clock.hpp"

namespace medfusion::store {
namespace {

constexpr const char* kV1Jobs = R"sql(
CREATE TABLE jobs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    config       TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT,
    epoch        INTEGER NOT NULL DEFAULT 0,
    total_epochs INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    output_dir   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_status ON jobs(status, seq);
CREATE TABLE epoch_history (
    job_id        TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    epoch         INTEGER NOT NULL,
    metrics       TEXT NOT NULL DEFAULT '{}',
    learning_rate REAL NOT NULL DEFAULT 0,
    seconds       REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, epoch)
);
)sql";

constexpr const char* kV2Registry = R"sql(
CREATE TABLE models (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id        TEXT NOT NULL UNIQUE,
    architecture    TEXT NOT NULL,
    fusion_type     TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    metrics         TEXT NOT NULL DEFAULT '{}',
    job_id          TEXT NOT NULL DEFAULT '',
    best_checkpoint TEXT NOT NULL DEFAULT '',
    last_checkpoint TEXT NOT NULL DEFAULT '',
    class_names     TEXT NOT NULL DEFAULT '[]',
    parameter_count INTEGER NOT NULL DEFAULT 0,
    dataset         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX models_job ON models(job_id);
CREATE TABLE model_counters (
    prefix      TEXT PRIMARY KEY,
    last_number INTEGER NOT NULL
);
CREATE TABLE evaluations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id    TEXT NOT NULL REFERENCES models(model_id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    split       TEXT NOT NULL DEFAULT '',
    csv         TEXT NOT NULL DEFAULT '',
    metrics     TEXT NOT NULL DEFAULT '{}',
    report_path TEXT NOT NULL DEFAULT ''
);
CREATE INDEX evaluations_model ON evaluations(model_id, id);
CREATE TABLE datasets (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
)sql";

constexpr const char* kV3JobProgress = R"sql(
ALTER TABLE jobs ADD COLUMN best_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN best_metric TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN best_value REAL NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN last_metrics TEXT NOT NULL DEFAULT '{}';
)sql";

void ensure_version_table(SQLite::Database& db) {
    db.exec(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)");
}

void apply(SQLite::Database& db, const Migration& migration) {
    SQLite::Transaction transaction(db);
    db.exec(migration.sql);

    SQLite::Statement record(db, "INSERT INTO schema_version VALUES (?, ?, ?)");
    record.bind(1, migration.version);
    record.bind(2, migration.description);
    record.bind(3, core::iso8601_now());
    record.exec();
    transaction.commit();
}

}  // namespace

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> kMigrations = {
        {1, "jobs and epoch history", kV1Jobs},
        {2, "models, evaluations and datasets", kV2Registry},
        {3, "best epoch and last metrics of jobs", kV3JobProgress},
    };
    return kMigrations;
}

int schema_version(SQLite::Database& db) {
    if (!db.tableExists("schema_version")) {
        return 0;
    }
    return db.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_version").getInt();
}

void migrate(SQLite::Database& db, int target_version) {
    ensure_version_table(db);
    const int current = schema_version(db);
    if (current > target_version) {
        throw std::runtime_error("database schema version " + std::to_string(current) +
                                 " is newer than this build supports (" +
                                 std::to_string(target_version) + ")");
    }
    for (const Migration& migration : migrations()) {
        if (migration.version > current && migration.version <= target_version) {
            apply(db, migration);
        }
    }
}

}  // namespace medfusion::store
