// evaluate_checkpoint: checkpoint → model and fitted preprocessing → predictions on a CSV →
// metrics, evaluation_report.html and predictions.csv.
#include "medfusion/train/evaluator.hpp"

#include <filesystem>
#include <stdexcept>

#include "checkpoint_io.hpp"
#include "medfusion/core/clock.hpp"
#include "medfusion/data/prepared_data.hpp"
#include "medfusion/train/metrics.hpp"
#include "medfusion/train/report.hpp"
#include "precision.hpp"
#include "prediction.hpp"

namespace medfusion::train {
namespace fs = std::filesystem;
namespace {

constexpr const char* kReportFolder = "reports";
constexpr const char* kReportName = "evaluation_report.html";
constexpr const char* kPredictionsName = "predictions.csv";
// Curve point lists go to the report; the returned metrics keep the numbers.
constexpr const char* kCurveKeys[] = {"roc_curves", "macro_roc_curve", "pr_curves"};

core::JobConfig config_of(const CheckpointInfo& info, const std::string& path) {
    auto parsed = core::parse_job_config(info.config, nullptr);
    if (!parsed) {
        std::string problems;
        for (const auto& error : parsed.error()) {
            problems += (problems.empty() ? "" : "; ") + error.path + ": " + error.message;
        }
        throw std::runtime_error("checkpoint " + path + " holds an invalid config: " + problems);
    }
    auto config = parsed.value();
    // The checkpoint carries every weight; the backbone's start weights are not needed.
    config.model.pretrained_weights.clear();
    return config;
}

models::MultimodalModel load_model(CheckpointReader& reader, const CheckpointInfo& info,
                                   const core::JobConfig& config, const torch::Device& device) {
    auto model = models::build_model(config.model, info.num_features,
                                     static_cast<std::int64_t>(info.class_names.size()),
                                     config.data.image_size);
    reader.load_model(*model);
    model->to(device);
    model->eval();
    return model;
}

Predictions run_predictions(models::MultimodalModel& model, const data::Split& split,
                            const core::JobConfig& config, const torch::Device& device) {
    data::LoaderOptions options;
    options.batch_size = config.training.batch_size;
    options.resize_mode = config.data.resize_mode;
    options.image_size = config.data.image_size;
    options.num_workers = config.data.num_workers;
    data::BatchLoader loader(split, options, nullptr);
    const auto precision = resolve_precision("auto", device);
    return predict(loader, 1, [&](const data::Batch& batch) {
        return forward_batch(model, batch, device, precision).logits;
    });
}

std::string dataset_name(const EvaluationRequest& request) {
    if (!request.dataset.empty()) {
        return request.dataset;
    }
    return fs::path(request.csv_path).parent_path().filename().string();
}

ReportInput report_input(const EvaluationRequest& request, const CheckpointInfo& info,
                         const core::JobConfig& config, const nlohmann::json& metrics) {
    ReportInput input;
    input.model_id = request.model_id.empty() ? fs::path(request.checkpoint_path).stem().string()
                                              : request.model_id;
    input.architecture =
        request.architecture.empty() ? config.model.vision_backbone : request.architecture;
    input.fusion_type =
        request.fusion_type.empty() ? config.model.fusion_type : request.fusion_type;
    input.dataset = dataset_name(request);
    input.split = request.split;
    input.created_at = core::iso8601_now();
    input.class_names = info.class_names;
    input.metrics = metrics;
    input.history = request.history;
    input.config = info.config;
    return input;
}

}  // namespace

EvaluationResult evaluate_checkpoint(const EvaluationRequest& request) {
    // The checkpoint: what to build, then the weights.
    const auto device = resolve_device("auto");
    CheckpointReader reader(request.checkpoint_path, device);
    const auto info = checkpoint_info(reader.metadata(), request.checkpoint_path);
    const auto config = config_of(info, request.checkpoint_path);
    auto model = load_model(reader, info, config, device);

    // The CSV through the checkpoint's fitted preprocessing.
    const auto split =
        data::load_split(config.data, request.csv_path, info.preprocessing, info.class_names);
    if (split.size() == 0) {
        throw std::runtime_error(request.csv_path + " has no rows to evaluate");
    }
    const auto predictions = run_predictions(model, split, config, device);

    // Metrics and files.
    auto metrics = compute_metrics(predictions.labels, predictions.probabilities, info.class_names);
    const auto folder = fs::path(request.output_dir) / kReportFolder;
    fs::create_directories(folder);
    EvaluationResult result;
    result.report_path = (folder / kReportName).string();
    result.predictions_path = (folder / kPredictionsName).string();
    write_report(result.report_path, report_input(request, info, config, metrics));
    std::vector<std::int64_t> rows;
    rows.reserve(predictions.size());
    for (auto index : predictions.indices) {
        rows.push_back(split.source_rows[static_cast<std::size_t>(index)]);
    }
    write_predictions_csv(result.predictions_path, rows, predictions.labels,
                          predictions.probabilities, info.class_names);

    for (const auto* key : kCurveKeys) {
        metrics.erase(key);
    }
    result.metrics = std::move(metrics);
    return result;
}

}  // namespace medfusion::train
