// evaluate_checkpoint on a checkpoint trained here: its metrics reproduce the validation the
// trainer measured with the same weights, and the report and predictions land on disk.
#include "medfusion/train/evaluator.hpp"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "checkpoint_io.hpp"
#include "medfusion/data/data_error.hpp"
#include "medfusion/data/prepared_data.hpp"
#include "medfusion/models/multimodal_model.hpp"
#include "medfusion/train/checkpoint.hpp"
#include "medfusion/train/trainer.hpp"
#include "trainer_test_data.hpp"

namespace medfusion::train {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// An untrained checkpoint of the tiny job: what the evaluator reads, without a training run.
fs::path write_untrained_checkpoint(const testing::TinyDataset& dataset, const fs::path& job) {
    const auto config = testing::tiny_job_config(dataset, 1, testing::kFastBackbone);
    const auto data = data::prepare_data(config.data);
    torch::manual_seed(5);
    auto model = models::build_model(config.model, data.num_features,
                                     static_cast<std::int64_t>(data.class_names.size()),
                                     config.data.image_size);
    const nlohmann::json metadata = {
        {"format", kCheckpointFormat},
        {"version", kCheckpointVersion},
        {"epoch", 0},
        {"global_step", 0},
        {"config", core::to_json(config)},
        {"preprocessing", data.preprocessing},
        {"class_names", data.class_names},
        {"num_features", data.num_features},
        {"metrics", nlohmann::json::object()},
        {"best", {{"metric", "val_loss"}, {"value", nullptr}, {"epoch", 0}}}};
    const auto path = best_checkpoint_path(job);
    save_checkpoint(path, *model, nullptr, metadata);
    return path;
}

EvaluationRequest request_for(const fs::path& checkpoint, const testing::TinyDataset& dataset,
                              const fs::path& job) {
    EvaluationRequest out;
    out.checkpoint_path = checkpoint.string();
    out.csv_path = dataset.val_csv.string();
    out.split = "val";
    out.output_dir = job.string();
    out.model_id = "mobilenet_v3_small_concatenate_001";
    return out;
}

TEST(EvaluatorTest, ReproducesTheValidationOfTheBestEpoch) {
    testing::ScratchDir scratch;
    const auto dataset = testing::write_tiny_dataset(scratch.path() / "data");
    testing::RecordedRun run;
    const auto config = testing::tiny_job_config(dataset, 2, testing::kFastBackbone);
    const auto trained =
        run_training(testing::recording_context(config, scratch.path() / "job", run));
    ASSERT_EQ(trained.outcome, core::RunOutcome::kCompleted) << trained.error;

    const auto evaluation =
        evaluate_checkpoint(request_for(trained.best_checkpoint, dataset, scratch.path() / "job"));
    const auto& m = evaluation.metrics;
    // Same weights, images and preprocessing: the trainer's validation numbers come back.
    EXPECT_NEAR(m["log_loss"].get<double>(), trained.best_metrics.at("val_loss"), 1e-5);
    EXPECT_DOUBLE_EQ(m["accuracy"].get<double>(), trained.best_metrics.at("val_accuracy"));
    EXPECT_DOUBLE_EQ(m["auc"].get<double>(), trained.best_metrics.at("val_auc"));
    EXPECT_FALSE(m.contains("roc_curves"));
    EXPECT_TRUE(m.contains("confidence_intervals"));
}

TEST(EvaluatorTest, WritesReportAndPredictionsBesideIt) {
    testing::ScratchDir scratch;
    const auto dataset = testing::write_tiny_dataset(scratch.path() / "data");
    const auto job = scratch.path() / "job";
    const auto checkpoint = write_untrained_checkpoint(dataset, job);

    const auto evaluation = evaluate_checkpoint(request_for(checkpoint, dataset, job));
    EXPECT_EQ(evaluation.report_path, (job / "reports" / "evaluation_report.html").string());
    EXPECT_EQ(evaluation.predictions_path, (job / "reports" / "predictions.csv").string());

    std::ifstream report(evaluation.report_path);
    const std::string html((std::istreambuf_iterator<char>(report)), {});
    EXPECT_THAT(html, HasSubstr("mobilenet_v3_small_concatenate_001"));
    EXPECT_THAT(html, HasSubstr("<svg"));

    std::ifstream predictions(evaluation.predictions_path);
    std::string header;
    std::getline(predictions, header);
    EXPECT_EQ(header, "row,true_label,predicted_label,prob_bright,prob_dark");
    int lines = 0;
    for (std::string line; std::getline(predictions, line);) {
        ++lines;
    }
    EXPECT_EQ(lines, 8);
}

TEST(EvaluatorTest, UnknownLabelIsADataError) {
    testing::ScratchDir scratch;
    const auto dataset = testing::write_tiny_dataset(scratch.path() / "data");
    const auto job = scratch.path() / "job";
    const auto checkpoint = write_untrained_checkpoint(dataset, job);
    const auto csv = scratch.path() / "data" / "odd.csv";
    std::ofstream(csv) << "image_path,score,site,label\nimages/val_0.png,1.0,north,grey\n";

    auto odd = request_for(checkpoint, dataset, job);
    odd.csv_path = csv.string();
    EXPECT_THROW(evaluate_checkpoint(odd), data::DataError);
}

TEST(EvaluatorTest, MissingCheckpointNamesTheFile) {
    testing::ScratchDir scratch;
    const auto dataset = testing::write_tiny_dataset(scratch.path() / "data", 2, 2);
    try {
        evaluate_checkpoint(request_for(scratch.path() / "gone.pth", dataset, scratch.path()));
        FAIL() << "no exception";
    } catch (const std::runtime_error& error) {
        EXPECT_THAT(error.what(), HasSubstr("gone.pth does not exist"));
    }
}

}  // namespace
}  // namespace medfusion::train
