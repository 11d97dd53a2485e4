// medfusion evaluate: evaluate_checkpoint on the calling thread and a short metrics summary.
#include "evaluate_command.hpp"

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "medfusion/train/evaluator.hpp"

namespace medfusion::app {
namespace fs = std::filesystem;
namespace {

// The job folder of <job>/checkpoints/best.pth; the checkpoint's own folder otherwise.
std::string default_output_dir(const std::string& checkpoint) {
    const auto folder = fs::absolute(checkpoint).parent_path();
    return (folder.filename() == "checkpoints" ? folder.parent_path() : folder).string();
}

std::string with_interval(const nlohmann::json& metrics, const std::string& name) {
    const auto& value = metrics.value(name, nlohmann::json());
    if (!value.is_number()) {
        return "n/a";
    }
    auto text = fmt::format("{:.4f}", value.get<double>());
    // confidence_intervals.<name> is [lower, upper], null where a resample left it undefined.
    const auto intervals = metrics.value("confidence_intervals", nlohmann::json::object());
    const auto ci = intervals.value(name, nlohmann::json());
    if (ci.is_array() && ci.size() == 2 && ci[0].is_number() && ci[1].is_number()) {
        text += fmt::format(" (95% CI {:.4f}-{:.4f})", ci[0].get<double>(), ci[1].get<double>());
    }
    return text;
}

}  // namespace

int run_evaluate_command(const std::string& checkpoint, const std::string& csv,
                         const std::string& out_dir) {
    train::EvaluationRequest request;
    request.checkpoint_path = checkpoint;
    request.csv_path = csv;
    request.output_dir = out_dir.empty() ? default_output_dir(checkpoint) : out_dir;
    try {
        const auto result = train::evaluate_checkpoint(request);
        const auto& m = result.metrics;
        for (const auto* name : {"accuracy", "balanced_accuracy", "auc", "f1_score", "log_loss"}) {
            std::cout << fmt::format("{:<18} {}\n", name, with_interval(m, name));
        }
        std::cout << "report: " << result.report_path << '\n'
                  << "predictions: " << result.predictions_path << '\n';
        return 0;
    } catch (const std::exception& error) {
        std::cerr << "error: " << error.what() << '\n';
        return 1;
    }
}

}  // namespace medfusion::app
