// Tests of the SQLite store: persistence, ordering and filters, model numbering, migrations.
#include "medfusion/store/store.hpp"

#include <cmath>
#include <filesystem>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "medfusion/core/api_error.hpp"
#include "store/migrations.hpp"

namespace medfusion::store {
namespace {

namespace fs = std::filesystem;

/// A fresh data folder, removed at the end of the test.
class TempDir {
public:
    TempDir() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        path_ = fs::temp_directory_path() /
                (std::string("medfusion_store_") + info->name() + "_" + std::to_string(::getpid()));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

JobRecord make_job(const std::string& id, JobStatus status = JobStatus::kQueued) {
    JobRecord job;
    job.id = id;
    job.name = "experiment_" + id;
    job.status = status;
    job.config = {{"training", {{"epochs", 5}}}};
    job.total_epochs = 5;
    job.output_dir = "/tmp/outputs/" + id;
    return job;
}

ModelRecord make_model(const std::string& architecture, const std::string& fusion) {
    ModelRecord model;
    model.architecture = architecture;
    model.fusion_type = fusion;
    model.metrics = {{"val_accuracy", 0.892}, {"val_auc", 0.945}};
    model.job_id = "job-1";
    model.best_checkpoint = "/tmp/outputs/job-1/checkpoints/best.pth";
    model.class_names = {"benign", "malignant"};
    model.parameter_count = 11689512;
    model.dataset = "pad_ufes_20";
    return model;
}

TEST(StoreTest, PersistsJobsAcrossReopen) {
    TempDir dir;
    {
        Store store(dir.path());
        store.insert_job(make_job("a"));
        store.set_job_status("a", JobStatus::kRunning);
        store.set_job_progress("a", 3, {{"train_loss", 0.25}, {"val_accuracy", 0.75}});
        store.set_job_best("a", 2, "val_loss", 0.31);
    }
    Store reopened(dir.path());
    const auto job = reopened.find_job("a");
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->name, "experiment_a");
    EXPECT_EQ(job->status, JobStatus::kRunning);
    EXPECT_EQ(job->config["training"]["epochs"], 5);
    EXPECT_EQ(job->epoch, 3);
    EXPECT_EQ(job->total_epochs, 5);
    EXPECT_DOUBLE_EQ(job->last_metrics["val_accuracy"].get<double>(), 0.75);
    EXPECT_EQ(job->best_epoch, 2);
    EXPECT_EQ(job->best_metric, "val_loss");
    EXPECT_DOUBLE_EQ(job->best_value, 0.31);
    EXPECT_EQ(job->output_dir, "/tmp/outputs/a");
    EXPECT_EQ(job->created_at.size(), 20u);  // 2026-03-15T10:30:00Z
    EXPECT_FALSE(job->started_at.empty());
    EXPECT_FALSE(reopened.find_job("missing").has_value());
}

TEST(StoreTest, UsesWalJournal) {
    TempDir dir;
    Store store(dir.path());
    SQLite::Database db((dir.path() / Store::kFileName).string());
    EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
    EXPECT_EQ(store.schema_version(), Store::kSchemaVersion);
}

TEST(StoreTest, ListsJobsNewestFirstWithFilterAndPaging) {
    TempDir dir;
    Store store(dir.path());
    for (const char* id : {"j1", "j2", "j3", "j4", "j5"}) {
        store.insert_job(make_job(id));
    }
    store.set_job_status("j2", JobStatus::kCompleted);
    store.set_job_status("j4", JobStatus::kCompleted);

    auto ids = [](const std::vector<JobRecord>& jobs) {
        std::vector<std::string> out;
        for (const auto& job : jobs) {
            out.push_back(job.id);
        }
        return out;
    };
    EXPECT_EQ(ids(store.list_jobs()), (std::vector<std::string>{"j5", "j4", "j3", "j2", "j1"}));
    EXPECT_EQ(ids(store.list_jobs({JobStatus::kCompleted, 100, 0})),
              (std::vector<std::string>{"j4", "j2"}));
    EXPECT_EQ(ids(store.list_jobs({std::nullopt, 2, 1})), (std::vector<std::string>{"j4", "j3"}));
    EXPECT_EQ(ids(store.list_jobs({std::nullopt, -1, 3})), (std::vector<std::string>{"j2", "j1"}));
    EXPECT_EQ(store.count_jobs(), 5);
    EXPECT_EQ(store.count_jobs(JobStatus::kQueued), 3);
    EXPECT_EQ(store.queued_job_ids(), (std::vector<std::string>{"j1", "j3", "j5"}));
}

TEST(StoreTest, StatusChangesKeepTimestampsConsistent) {
    TempDir dir;
    Store store(dir.path());
    store.insert_job(make_job("a"));
    EXPECT_TRUE(store.find_job("a")->started_at.empty());

    store.set_job_status("a", JobStatus::kRunning);
    const std::string first_start = store.find_job("a")->started_at;
    store.set_job_status("a", JobStatus::kFailed, "NaN loss at epoch 2");
    auto failed = store.find_job("a");
    EXPECT_EQ(failed->status, JobStatus::kFailed);
    EXPECT_EQ(failed->error, "NaN loss at epoch 2");
    EXPECT_FALSE(failed->finished_at.empty());

    // Re-queued (resume): the error and finish time go, the first start time stays.
    store.set_job_status("a", JobStatus::kQueued);
    auto queued = store.find_job("a");
    EXPECT_EQ(queued->status, JobStatus::kQueued);
    EXPECT_TRUE(queued->error.empty());
    EXPECT_TRUE(queued->finished_at.empty());
    EXPECT_EQ(queued->started_at, first_start);
    EXPECT_FALSE(store.set_job_status("missing", JobStatus::kStopped));
}

TEST(StoreTest, InterruptsOnlyRunningJobs) {
    TempDir dir;
    Store store(dir.path());
    store.insert_job(make_job("queued"));
    store.insert_job(make_job("run1"));
    store.insert_job(make_job("done"));
    store.insert_job(make_job("run2"));
    store.set_job_status("run1", JobStatus::kRunning);
    store.set_job_status("run2", JobStatus::kRunning);
    store.set_job_status("done", JobStatus::kCompleted);

    const auto ids = store.interrupt_running_jobs("server stopped");
    EXPECT_EQ(ids, (std::vector<std::string>{"run1", "run2"}));
    EXPECT_EQ(store.find_job("run1")->status, JobStatus::kInterrupted);
    EXPECT_EQ(store.find_job("run2")->error, "server stopped");
    EXPECT_EQ(store.find_job("queued")->status, JobStatus::kQueued);
    EXPECT_EQ(store.find_job("done")->status, JobStatus::kCompleted);
}

TEST(StoreTest, HistoryIsOrderedAndReplacesReplayedEpochs) {
    TempDir dir;
    Store store(dir.path());
    store.insert_job(make_job("a"));
    store.append_epoch("a", {2, {{"train_loss", 0.5}}, 1e-3, 1.5});
    store.append_epoch("a", {1, {{"train_loss", 0.9}, {"val_auc", std::nan("")}}, 1e-3, 2.0});
    store.append_epoch("a", {2, {{"train_loss", 0.4}}, 5e-4, 1.25});

    const auto history = store.history("a");
    ASSERT_EQ(history.size(), 2u);
    EXPECT_EQ(history[0].epoch, 1);
    EXPECT_DOUBLE_EQ(history[0].metrics.at("train_loss"), 0.9);
    EXPECT_TRUE(std::isnan(history[0].metrics.at("val_auc")));
    EXPECT_EQ(history[1].epoch, 2);
    EXPECT_DOUBLE_EQ(history[1].metrics.at("train_loss"), 0.4);
    EXPECT_DOUBLE_EQ(history[1].learning_rate, 5e-4);
    EXPECT_DOUBLE_EQ(history[1].seconds, 1.25);
    EXPECT_TRUE(store.history("other").empty());
}

TEST(StoreTest, NumbersModelIdsPerPrefixAcrossReopen) {
    TempDir dir;
    {
        Store store(dir.path());
        EXPECT_EQ(store.add_model(make_model("resnet50", "attention")).model_id,
                  "resnet50_attention_001");
        EXPECT_EQ(store.add_model(make_model("resnet50", "attention")).model_id,
                  "resnet50_attention_002");
        EXPECT_EQ(store.add_model(make_model("resnet18", "attention")).model_id,
                  "resnet18_attention_001");
        EXPECT_EQ(store.add_model(make_model("resnet50", "concatenate")).model_id,
                  "resnet50_concatenate_001");
    }
    Store reopened(dir.path());
    EXPECT_EQ(reopened.add_model(make_model("resnet50", "attention")).model_id,
              "resnet50_attention_003");

    const auto model = reopened.find_model("resnet50_attention_001");
    ASSERT_TRUE(model.has_value());
    EXPECT_EQ(model->class_names, (std::vector<std::string>{"benign", "malignant"}));
    EXPECT_EQ(model->parameter_count, 11689512);
    EXPECT_DOUBLE_EQ(model->metrics["val_auc"].get<double>(), 0.945);
    EXPECT_EQ(model->dataset, "pad_ufes_20");
    EXPECT_EQ(model->created_at.back(), 'Z');
    EXPECT_EQ(reopened.find_model_for_job("job-1")->model_id, "resnet50_attention_003");
}

TEST(StoreTest, ListsModelsNewestFirstWithFilters) {
    TempDir dir;
    Store store(dir.path());
    store.add_model(make_model("resnet50", "attention"));
    store.add_model(make_model("resnet18", "attention"));
    store.add_model(make_model("resnet50", "concatenate"));
    store.add_model(make_model("resnet50", "attention"));

    auto ids = [](const std::vector<ModelRecord>& models) {
        std::vector<std::string> out;
        for (const auto& model : models) {
            out.push_back(model.model_id);
        }
        return out;
    };
    EXPECT_EQ(ids(store.list_models()),
              (std::vector<std::string>{"resnet50_attention_002", "resnet50_concatenate_001",
                                        "resnet18_attention_001", "resnet50_attention_001"}));
    ModelFilter by_architecture{"resnet50", std::nullopt, 100, 0};
    EXPECT_EQ(store.count_models(by_architecture), 3);
    ModelFilter both{"resnet50", "attention", 1, 1};
    EXPECT_EQ(ids(store.list_models(both)), (std::vector<std::string>{"resnet50_attention_001"}));
    ModelFilter by_fusion{std::nullopt, "attention", 100, 0};
    EXPECT_EQ(store.count_models(by_fusion), 3);
}

TEST(StoreTest, StoresEvaluationsNewestFirst) {
    TempDir dir;
    Store store(dir.path());
    const auto model = store.add_model(make_model("resnet18", "concatenate"));
    EvaluationRecord first{0, model.model_id, "", "val", "/data/val.csv", {{"accuracy", 0.8}}, ""};
    EvaluationRecord second{0,
                            model.model_id,
                            "",
                            "test",
                            "/data/test.csv",
                            {{"auc", 0.9}},
                            "/out/reports/evaluation_report.html"};
    const auto stored_first = store.add_evaluation(first);
    const auto stored_second = store.add_evaluation(second);
    EXPECT_LT(stored_first.id, stored_second.id);

    const auto evaluations = store.list_evaluations(model.model_id);
    ASSERT_EQ(evaluations.size(), 2u);
    EXPECT_EQ(evaluations[0].split, "test");
    EXPECT_EQ(evaluations[0].report_path, "/out/reports/evaluation_report.html");
    EXPECT_DOUBLE_EQ(evaluations[1].metrics["accuracy"].get<double>(), 0.8);
    EXPECT_TRUE(store.list_evaluations("unknown").empty());
}

TEST(StoreTest, RegistersDatasetsWithUniqueNames) {
    TempDir dir;
    Store store(dir.path());
    const auto pad = store.add_dataset({"", "pad_ufes_20", "/data/pad_ufes_20", ""});
    EXPECT_EQ(pad.id.size(), 36u);
    store.add_dataset({"", "ham10000", "/data/ham10000", ""});

    try {
        store.add_dataset({"", "pad_ufes_20", "/elsewhere", ""});
        FAIL() << "a duplicate name must be rejected";
    } catch (const core::ApiError& error) {
        EXPECT_EQ(error.code(), core::ErrorCode::kConflict);
    }
    EXPECT_EQ(store.find_dataset("pad_ufes_20")->path, "/data/pad_ufes_20");
    EXPECT_EQ(store.find_dataset(pad.id)->name, "pad_ufes_20");
    EXPECT_EQ(store.list_datasets().front().name, "ham10000");
    EXPECT_TRUE(store.remove_dataset(pad.id));
    EXPECT_FALSE(store.find_dataset("pad_ufes_20").has_value());
    EXPECT_EQ(store.list_datasets().size(), 1u);
}

TEST(StoreTest, MigratesVersionOneFile) {
    TempDir dir;
    const fs::path file = dir.path() / Store::kFileName;
    {
        // A file as version 1 left it: jobs and history only, no best/last-metrics columns.
        SQLite::Database db(file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        migrate(db, 1);
        db.exec(
            "INSERT INTO jobs (id, name, status, config, created_at, epoch, total_epochs) "
            "VALUES ('old', 'legacy', 'running', '{\"training\":{\"epochs\":3}}', "
            "'2026-01-02T03:04:05Z', 2, 3)");
        db.exec("INSERT INTO epoch_history VALUES ('old', 1, '{\"val_loss\":0.7}', 0.001, 4.0)");
        ASSERT_EQ(schema_version(db), 1);
        ASSERT_FALSE(db.tableExists("models"));
    }

    Store store(dir.path());
    EXPECT_EQ(store.schema_version(), 3);
    const auto job = store.find_job("old");
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->name, "legacy");
    EXPECT_EQ(job->created_at, "2026-01-02T03:04:05Z");
    EXPECT_EQ(job->epoch, 2);
    EXPECT_EQ(job->best_epoch, 0);
    EXPECT_TRUE(job->last_metrics.empty());
    EXPECT_DOUBLE_EQ(store.history("old").at(0).metrics.at("val_loss"), 0.7);
    EXPECT_EQ(store.add_model(make_model("resnet18", "concatenate")).model_id,
              "resnet18_concatenate_001");

    SQLite::Database check(file.string());
    EXPECT_EQ(check.execAndGet("SELECT COUNT(*) FROM schema_version").getInt(), 3);
}

TEST(StoreTest, RefusesNewerSchema) {
    TempDir dir;
    { Store store(dir.path()); }
    {
        SQLite::Database db((dir.path() / Store::kFileName).string(), SQLite::OPEN_READWRITE);
        db.exec("INSERT INTO schema_version VALUES (99, 'future', '2030-01-01T00:00:00Z')");
    }
    EXPECT_THROW(Store store(dir.path()), std::runtime_error);
}

TEST(StoreTest, SerialisesWritesFromManyThreads) {
    TempDir dir;
    Store store(dir.path());
    constexpr int kThreads = 4;
    constexpr int kEpochs = 50;
    for (int t = 0; t < kThreads; ++t) {
        store.insert_job(make_job("job" + std::to_string(t)));
    }

    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&store, t] {
            const std::string id = "job" + std::to_string(t);
            for (int epoch = 1; epoch <= kEpochs; ++epoch) {
                store.append_epoch(id, {epoch, {{"train_loss", 1.0 / epoch}}, 1e-3, 0.1});
                store.set_job_progress(id, epoch, {{"train_loss", 1.0 / epoch}});
                store.list_jobs();
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (int t = 0; t < kThreads; ++t) {
        const std::string id = "job" + std::to_string(t);
        EXPECT_EQ(store.history(id).size(), static_cast<std::size_t>(kEpochs));
        EXPECT_EQ(store.find_job(id)->epoch, kEpochs);
    }
}

}  // namespace
}  // namespace medfusion::store
