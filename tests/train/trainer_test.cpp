// Trainer on a tiny synthetic job: learning, the event protocol, stop, NaN failure and resume.
#include "medfusion/train/trainer.hpp"

#include <algorithm>
#include <fstream>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "medfusion/models/multimodal_model.hpp"
#include "medfusion/train/checkpoint.hpp"
#include "trainer_test_data.hpp"

namespace medfusion::train {
namespace {

namespace fs = std::filesystem;
using core::EventType;
using ::testing::HasSubstr;
using testing::RecordedRun;

constexpr int kEpochs = 3;

std::vector<nlohmann::json> read_jsonl(const fs::path& path) {
    std::vector<nlohmann::json> lines;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(nlohmann::json::parse(line));
    }
    return lines;
}

int count_terminal(const RecordedRun& run) {
    return static_cast<int>(std::count_if(run.events.begin(), run.events.end(),
                                          [](const auto& e) { return core::is_terminal(e.type); }));
}

TEST(TrainerTest, LearnsAndReportsEveryEpochInOrder) {
    testing::ScratchDir scratch;
    const auto dataset = testing::write_tiny_dataset(scratch.path() / "data");
    RecordedRun run;
    const auto config = testing::tiny_job_config(dataset, kEpochs);
    const auto result =
        run_training(testing::recording_context(config, scratch.path() / "job", run));

    // The loss falls, and brightness and score both give the label away.
    ASSERT_EQ(result.outcome, core::RunOutcome::kCompleted) << result.error;
    ASSERT_EQ(run.epochs.size(), static_cast<std::size_t>(kEpochs));
    EXPECT_LT(run.epochs.back().metrics.at("train_loss"),
              0.85 * run.epochs.front().metrics.at("train_loss"));
    EXPECT_GE(run.epochs.back().metrics.at("val_accuracy"), 0.9);
    EXPECT_GE(run.epochs.back().metrics.at("val_auc"), 0.95);

    // Per epoch: on_epoch, epoch_end, validation; then exactly one terminal event.
    std::vector<std::string> expected;
    for (int epoch = 1; epoch <= kEpochs; ++epoch) {
        for (const auto* step : {"on_epoch:", "epoch_end:", "validation:"}) {
            expected.push_back(step + std::to_string(epoch));
        }
    }
    expected.push_back("completed:" + std::to_string(kEpochs));
    std::vector<std::string> seen;
    std::copy_if(run.order.begin(), run.order.end(), std::back_inserter(seen),
                 [](const std::string& s) { return s.rfind("progress", 0) != 0; });
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(count_terminal(run), 1);

    // 32 rows, batch 8: four progress events an epoch with running metrics.
    const auto progress = testing::events_of(run, EventType::kProgress);
    ASSERT_EQ(progress.size(), static_cast<std::size_t>(4 * kEpochs));
    EXPECT_EQ(progress.front().batch, 1);
    EXPECT_EQ(progress.back().batch, 4);
    EXPECT_EQ(progress.back().total_batches, 4);
    EXPECT_DOUBLE_EQ(progress.back().metrics.at("learning_rate"), 1e-3);
    EXPECT_GT(progress.back().metrics.at("samples_per_second"), 0.0);
    EXPECT_NEAR(progress.back().metrics.at("loss"), run.epochs.back().metrics.at("train_loss"),
                1e-9);
}

TEST(TrainerTest, WritesCheckpointsJournalAndLog) {
    testing::ScratchDir scratch;
    const auto dataset = testing::write_tiny_dataset(scratch.path() / "data");
    RecordedRun run;
    const fs::path job = scratch.path() / "job";
    const auto config = testing::tiny_job_config(dataset, 2, testing::kFastBackbone);
    const auto result = run_training(testing::recording_context(config, job, run));
    ASSERT_EQ(result.outcome, core::RunOutcome::kCompleted) << result.error;

    EXPECT_EQ(result.last_checkpoint, fs::absolute(last_checkpoint_path(job)).string());
    EXPECT_EQ(result.best_checkpoint, fs::absolute(best_checkpoint_path(job)).string());
    EXPECT_FALSE(fs::exists(last_checkpoint_path(job).string() + ".tmp"));
    EXPECT_EQ(read_checkpoint_info(result.last_checkpoint).epoch, 2);

    // best.pth is the epoch with the lowest val_loss, and says so.
    const auto best = std::min_element(run.epochs.begin(), run.epochs.end(), [](auto& a, auto& b) {
        return a.metrics.at("val_loss") < b.metrics.at("val_loss");
    });
    const auto info = read_checkpoint_info(result.best_checkpoint);
    EXPECT_EQ(info.epoch, best->epoch);
    EXPECT_EQ(result.best_epoch, best->epoch);
    EXPECT_EQ(result.best_metric, "val_loss");
    EXPECT_DOUBLE_EQ(result.best_value, best->metrics.at("val_loss"));
    EXPECT_DOUBLE_EQ(info.best_value, best->metrics.at("val_loss"));
    EXPECT_EQ(info.class_names, (std::vector<std::string>{"bright", "dark"}));
    EXPECT_EQ(result.class_names, info.class_names);
    // score (value, missing flag) and site (north, south, missing): five features.
    auto model = models::build_model(config.model, 5, 2, config.data.image_size);
    EXPECT_EQ(result.parameter_count, models::summarize(*model).total_parameters);

    const auto journal = read_jsonl(job / "metrics.jsonl");
    ASSERT_EQ(journal.size(), 2u);
    EXPECT_EQ(journal.back()["epoch"], 2);
    EXPECT_DOUBLE_EQ(journal.back()["val_loss"].get<double>(),
                     run.epochs.back().metrics.at("val_loss"));

    std::ifstream log(job / "train.log");
    std::string first_line;
    std::getline(log, first_line);
    EXPECT_THAT(first_line, HasSubstr("job=test-job"));
}

TEST(TrainerStopTest, StopsWithinOneBatchAndResumeContinuesTheEpochAxis) {
    testing::ScratchDir scratch;
    const auto dataset = testing::write_tiny_dataset(scratch.path() / "data");
    auto config = testing::tiny_job_config(dataset, 3, testing::kFastBackbone);
    RecordedRun first;
    auto context = testing::recording_context(config, scratch.path() / "job", first);
    // Ask for a stop while batch 2 of epoch 2 is being announced.
    const auto record = context.on_event;
    context.on_event = [record, stop = context.stop](const core::ProgressEvent& event) {
        record(event);
        if (event.type == EventType::kProgress && event.epoch == 2 && event.batch == 2) {
            stop->request_stop();
        }
    };
    const auto stopped = run_training(context);

    ASSERT_EQ(stopped.outcome, core::RunOutcome::kStopped) << stopped.error;
    EXPECT_EQ(first.events.back().type, EventType::kStopped);
    EXPECT_EQ(first.events[first.events.size() - 2].batch, 2);  // no batch after the stop
    EXPECT_EQ(count_terminal(first), 1);
    EXPECT_EQ(stopped.epochs_completed, 1);
    EXPECT_EQ(read_checkpoint_info(stopped.last_checkpoint).epoch, 1);

    RecordedRun second;
    auto resumed_context = testing::recording_context(config, scratch.path() / "job", second);
    resumed_context.resume = true;
    const auto resumed = run_training(resumed_context);

    ASSERT_EQ(resumed.outcome, core::RunOutcome::kCompleted) << resumed.error;
    ASSERT_EQ(second.epochs.size(), 2u);
    EXPECT_EQ(second.epochs[0].epoch, 2);
    EXPECT_EQ(second.epochs[1].epoch, 3);
    EXPECT_EQ(testing::events_of(second, EventType::kProgress).front().epoch, 2);
    const auto journal = read_jsonl(scratch.path() / "job" / "metrics.jsonl");
    ASSERT_EQ(journal.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(journal[static_cast<std::size_t>(i)]["epoch"], i + 1);
    }
    EXPECT_EQ(resumed.epochs_completed, 3);
}

TEST(TrainerFailureTest, NanLossFailsWithEpochAndBatch) {
    testing::ScratchDir scratch;
    const auto dataset = testing::write_tiny_dataset(scratch.path() / "data");
    auto config = testing::tiny_job_config(dataset, 2, testing::kFastBackbone);
    // An infinite step size turns every weight into inf or NaN after the first step.
    config.training.optimizer = "sgd";
    config.training.learning_rate = std::numeric_limits<double>::infinity();
    RecordedRun run;
    const auto result =
        run_training(testing::recording_context(config, scratch.path() / "job", run));

    EXPECT_EQ(result.outcome, core::RunOutcome::kFailed);
    EXPECT_THAT(result.error, HasSubstr("loss became"));
    EXPECT_THAT(result.error, HasSubstr("at epoch 1 batch 2"));
    ASSERT_FALSE(run.events.empty());
    EXPECT_EQ(run.events.back().type, EventType::kError);
    EXPECT_EQ(run.events.back().message, result.error);
    EXPECT_EQ(count_terminal(run), 1);
}

TEST(TrainerFailureTest, BadDataFailsWithTheDataMessage) {
    testing::ScratchDir scratch;
    auto dataset = testing::write_tiny_dataset(scratch.path() / "data");
    auto config = testing::tiny_job_config(dataset, 1);
    config.data.label_column = "diagnosis";
    RecordedRun run;
    const auto result =
        run_training(testing::recording_context(config, scratch.path() / "job", run));

    EXPECT_EQ(result.outcome, core::RunOutcome::kFailed);
    EXPECT_THAT(result.error, HasSubstr("diagnosis"));
    ASSERT_EQ(run.events.size(), 1u);
    EXPECT_EQ(run.events.back().type, EventType::kError);
}

TEST(TrainerFailureTest, Fp16OnCpuIsRefusedClearly) {
    testing::ScratchDir scratch;
    auto dataset = testing::write_tiny_dataset(scratch.path() / "data", 8, 4);
    auto config = testing::tiny_job_config(dataset, 1);
    config.training.mixed_precision = "fp16";
    RecordedRun run;
    const auto result =
        run_training(testing::recording_context(config, scratch.path() / "job", run));

    EXPECT_EQ(result.outcome, core::RunOutcome::kFailed);
    EXPECT_THAT(result.error, HasSubstr("fp16 needs a CUDA device"));
}

}  // namespace
}  // namespace medfusion::train
