// The Training, Model and Dataset handlers, called without sockets, over a real store and
// job manager whose runner is scripted.
#include "medfusion/server/api_routes.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "medfusion/core/api_error.hpp"
#include "medfusion/jobs/broadcast_channel.hpp"
#include "medfusion/jobs/job_manager.hpp"
#include "medfusion/store/store.hpp"

namespace medfusion::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// A runner that trains nothing: two epochs with fixed metrics, or waits for a stop.
core::RunResult scripted_run(const core::JobContext& context) {
    const bool wait_for_stop = context.job_name == "wait";
    for (int epoch = 1; epoch <= 2; ++epoch) {
        while (wait_for_stop && !context.stop->stop_requested()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (context.stop->stop_requested()) {
            core::RunResult stopped;
            stopped.outcome = core::RunOutcome::kStopped;
            return stopped;
        }
        core::EpochRecord record;
        record.epoch = epoch;
        record.metrics = {{"train_loss", 1.0 / epoch},
                          {"val_loss", 1.5 / epoch},
                          {"val_accuracy", 0.4 * epoch},
                          {"val_auc", 0.7}};
        context.on_epoch(record);
    }
    core::RunResult result;
    result.outcome = core::RunOutcome::kCompleted;
    result.epochs_completed = 2;
    result.best_checkpoint = context.output_dir + "/checkpoints/best.pth";
    result.best_metrics = {{"val_accuracy", 0.8}, {"val_auc", 0.7}};
    result.class_names = {"a", "b"};
    return result;
}

class ApiRoutesTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::temp_directory_path() / ("mf_api_" + std::to_string(::getpid()));
        fs::remove_all(root_);
        fs::create_directories(root_ / "data" / "set");
        std::ofstream(root_ / "data" / "set" / "train.csv") << "image_path,age,label\na.png,3,x\n";
        std::ofstream(root_ / "data" / "set" / "val.csv") << "image_path,age,label\na.png,3,x\n";
        store_ = std::make_unique<store::Store>(root_ / "state");
        jobs::JobManagerOptions options;
        options.output_dir = root_ / "outputs";
        manager_ = std::make_unique<jobs::JobManager>(*store_, scripted_run, channels_, options);
        manager_->start();
        deps_ = std::make_unique<ApiDeps>(ApiDeps{*store_, *manager_, core::ServerConfig{},
                                                  core::PathPolicy(root_, {"data"}),
                                                  core::PathPolicy(root_, {"outputs"}), nullptr});
        add_training_routes(router_, *deps_);
        add_model_routes(router_, *deps_);
        add_dataset_routes(router_, *deps_);
    }

    void TearDown() override {
        manager_->shutdown();
        fs::remove_all(root_);
    }

    /// Calls the handler as the HTTP session would, turning ApiError into its envelope.
    std::pair<int, json> call(const std::string& method, const std::string& target,
                              const json& body = nullptr) {
        Request request;
        request.method = method;
        parse_target(target, request.path, request.query);
        request.body = body.is_null() ? "" : body.dump();
        auto match = router_.match(method, request.path);
        EXPECT_NE(match.route, nullptr) << target;
        request.params = match.params;
        try {
            auto response = match.route->handler(request);
            return {response.status, json::parse(response.body)};
        } catch (const core::ApiError& e) {
            return {core::http_status(e.code()), e.to_json()};
        }
    }

    json job_body(const std::string& name = "exp") {
        return {{"config",
                 {{"data", {{"train_csv", "data/set/train.csv"}, {"val_csv", "data/set/val.csv"}}},
                  {"model", {{"vision_backbone", "resnet50"}, {"fusion_type", "attention"}}},
                  {"training", {{"epochs", 2}, {"batch_size", 32}}}}},
                {"job_name", name}};
    }

    fs::path root_;
    std::unique_ptr<store::Store> store_;
    jobs::ChannelRegistry channels_;
    std::unique_ptr<jobs::JobManager> manager_;
    std::unique_ptr<ApiDeps> deps_;
    Router router_;
};

}  // namespace

TEST_F(ApiRoutesTest, StartAnswersTheContractAndTheJobCompletes) {
    auto [status, body] = call("POST", "/api/training/start", job_body());
    ASSERT_EQ(status, 200) << body.dump();
    EXPECT_EQ(body.at("status"), "started");
    EXPECT_EQ(body.at("message"), "Training job started successfully");
    const std::string id = body.at("job_id");
    ASSERT_TRUE(manager_->wait_until_finished(id, std::chrono::seconds(10)));

    auto [s2, job] = call("GET", "/api/training/" + id + "/status");
    EXPECT_EQ(s2, 200);
    EXPECT_EQ(job.at("status"), "completed");
    EXPECT_EQ(job.at("epoch"), 2);
    EXPECT_EQ(job.at("total_epochs"), 2);
    EXPECT_DOUBLE_EQ(job.at("metrics").at("train_loss"), 0.5);
    EXPECT_DOUBLE_EQ(job.at("metrics").at("val_accuracy"), 0.8);
    EXPECT_EQ(job.at("job_name"), "exp");

    auto [s3, history] = call("GET", "/api/training/" + id + "/history");
    EXPECT_EQ(history.at("history").size(), 2u);
}

TEST_F(ApiRoutesTest, CompletedJobIsListedAsAModel) {
    auto [status, body] = call("POST", "/api/training/start", job_body());
    ASSERT_TRUE(manager_->wait_until_finished(body.at("job_id"), std::chrono::seconds(10)));
    auto [s2, models] = call("GET", "/api/models?architecture=resnet50");
    ASSERT_EQ(models.at("models").size(), 1u);
    const auto& model = models.at("models")[0];
    EXPECT_EQ(model.at("model_id"), "resnet50_attention_001");
    EXPECT_EQ(model.at("fusion_type"), "attention");
    EXPECT_DOUBLE_EQ(model.at("metrics").at("val_accuracy"), 0.8);
    EXPECT_EQ(call("GET", "/api/models?architecture=vit_b_16").second.at("models").size(), 0u);
    EXPECT_EQ(call("GET", "/api/models/resnet50_attention_001").first, 200);
    EXPECT_EQ(call("GET", "/api/models/nope").first, 404);
}

TEST_F(ApiRoutesTest, EvaluateWithoutEvaluatorIs503AndBadPathsAre400) {
    auto [status, body] = call("POST", "/api/training/start", job_body());
    ASSERT_TRUE(manager_->wait_until_finished(body.at("job_id"), std::chrono::seconds(10)));
    auto [s2, err] = call("POST", "/api/models/resnet50_attention_001/evaluate",
                          {{"test_csv", "data/set/val.csv"}});
    EXPECT_EQ(s2, 503);
    EXPECT_EQ(err.at("code"), "SERVICE_UNAVAILABLE");
}

TEST_F(ApiRoutesTest, MissingFilesAndEscapingPathsAreRejectedBeforeQueueing) {
    auto body = job_body();
    body["config"]["data"]["val_csv"] = "data/set/missing.csv";
    auto [status, err] = call("POST", "/api/training/start", body);
    EXPECT_EQ(status, 400);
    EXPECT_EQ(err.at("code"), "VALIDATION_ERROR");
    EXPECT_EQ(err.at("details")[0].at("path"), "config.data.val_csv");

    body["config"]["data"]["val_csv"] = "../../etc/passwd";
    auto [s2, err2] = call("POST", "/api/training/start", body);
    EXPECT_EQ(s2, 400);
    EXPECT_EQ(err2.at("code"), "PATH_NOT_ALLOWED");
    EXPECT_EQ(store_->count_jobs(), 0);
}

TEST_F(ApiRoutesTest, StopRunningJobThenStopAgainIsConflict) {
    auto [status, body] = call("POST", "/api/training/start", job_body("wait"));
    const std::string id = body.at("job_id");
    auto [s2, stopped] = call("POST", "/api/training/" + id + "/stop");
    EXPECT_EQ(s2, 200);
    EXPECT_EQ(stopped.at("status"), "stopped");
    EXPECT_EQ(stopped.at("message"), "Training job stopped successfully");
    auto [s3, again] = call("POST", "/api/training/" + id + "/stop");
    EXPECT_EQ(s3, 409);
    EXPECT_EQ(again.at("code"), "CONFLICT");
    EXPECT_EQ(call("POST", "/api/training/unknown/stop").first, 404);
}

TEST_F(ApiRoutesTest, JobsListFiltersByStatusAndPages) {
    for (int i = 0; i < 3; ++i) {
        auto [s, body] = call("POST", "/api/training/start", job_body("j" + std::to_string(i)));
        ASSERT_TRUE(manager_->wait_until_finished(body.at("job_id"), std::chrono::seconds(10)));
    }
    auto [status, page] = call("GET", "/api/training/jobs?status=completed&limit=2");
    EXPECT_EQ(page.at("jobs").size(), 2u);
    EXPECT_EQ(page.at("total"), 3);
    EXPECT_EQ(page.at("jobs")[0].at("job_name"), "j2");  // newest first
    EXPECT_EQ(call("GET", "/api/training/jobs?status=bogus").first, 400);
}

TEST_F(ApiRoutesTest, LogsTailReturnsTheLastLines) {
    auto [status, body] = call("POST", "/api/training/start", job_body());
    const std::string id = body.at("job_id");
    ASSERT_TRUE(manager_->wait_until_finished(id, std::chrono::seconds(10)));
    const auto folder = manager_->status(id).record.output_dir;
    std::ofstream log(fs::path(folder) / "train.log");
    for (int i = 1; i <= 500; ++i) {
        log << "line " << i << "\n";
    }
    log.close();
    auto [s2, logs] = call("GET", "/api/training/" + id + "/logs?tail=3");
    EXPECT_EQ(logs.at("lines"), json({"line 498", "line 499", "line 500"}));
    EXPECT_EQ(call("GET", "/api/training/" + id + "/logs?tail=0").first, 400);
}

TEST_F(ApiRoutesTest, DatasetsAreDiscoveredAndRegistered) {
    auto [status, list] = call("GET", "/api/datasets");
    ASSERT_EQ(status, 200) << list.dump();
    ASSERT_EQ(list.at("datasets").size(), 1u);
    EXPECT_EQ(list.at("datasets")[0].at("name"), "set");

    auto [s2, created] = call("POST", "/api/datasets", {{"name", "mine"}, {"path", "data/set"}});
    EXPECT_EQ(s2, 201) << created.dump();
    EXPECT_EQ(call("POST", "/api/datasets", {{"name", "x"}, {"path", "/etc"}}).first, 400);
    EXPECT_EQ(call("POST", "/api/datasets", {{"name", "mine"}, {"path", "data/set"}}).first, 409);
    EXPECT_EQ(call("GET", "/api/datasets/mine").first, 200);
    EXPECT_EQ(call("GET", "/api/datasets/unknown").first, 404);
}

TEST_F(ApiRoutesTest, SymlinkedCsvLeadingOutsideTheRootsIsNoDataset) {
    fs::create_directories(root_ / "outside");
    fs::create_directories(root_ / "data" / "leak");
    std::ofstream(root_ / "outside" / "secret.csv") << "image_path,label\na.png,TOPSECRET\n";
    fs::create_symlink(root_ / "outside" / "secret.csv", root_ / "data" / "leak" / "train.csv");

    auto [status, list] = call("GET", "/api/datasets");
    for (const auto& dataset : list.at("datasets")) {
        EXPECT_NE(dataset.at("name"), "leak");
    }
    EXPECT_EQ(list.at("total"), 1);
    auto [s2, err] = call("POST", "/api/datasets", {{"name", "leak"}, {"path", "data/leak"}});
    EXPECT_EQ(s2, 400);
    EXPECT_EQ(err.dump().find("TOPSECRET"), std::string::npos);
}

TEST_F(ApiRoutesTest, BrokenCsvProfileIs400NotA500) {
    std::ofstream(root_ / "data" / "set" / "train.csv", std::ios::trunc)
        << "image_path,age,label\na.png,3\n";
    auto [status, list] = call("GET", "/api/datasets");
    const std::string id = list.at("datasets")[0].at("id");
    auto [s2, err] = call("GET", "/api/datasets/" + id);
    EXPECT_EQ(s2, 400);
    EXPECT_EQ(err.at("code"), "VALIDATION_ERROR");
    EXPECT_NE(err.at("details").get<std::string>().find("line 2"), std::string::npos);
}

TEST_F(ApiRoutesTest, UnknownBodyKeysAndBadNamesAreRejected) {
    auto body = job_body();
    body["jobname"] = "typo";
    auto [status, err] = call("POST", "/api/training/start", body);
    EXPECT_EQ(status, 400);
    EXPECT_EQ(err.at("details")[0].at("path"), "jobname");
    EXPECT_EQ(call("POST", "/api/datasets", {{"name", "../x"}, {"path", "data/set"}}).first, 400);
    EXPECT_EQ(
        call("POST", "/api/datasets", {{"name", "a"}, {"path", "data/set"}, {"extra", 1}}).first,
        400);
}

}  // namespace medfusion::server
