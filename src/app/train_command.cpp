// medfusion train: config file → validated JobConfig → run_training on this thread, with a
// progress bar fed by the run's events and SIGINT/SIGTERM wired to its stop token.
#include "train_command.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "medfusion/core/clock.hpp"
#include "medfusion/core/job_config.hpp"
#include "medfusion/core/paths.hpp"
#include "medfusion/train/trainer.hpp"

namespace medfusion::app {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;

// Redraws of the progress bar, at most this often (epoch summaries always print).
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);
constexpr int kBarWidth = 24;
constexpr int kExitStopped = 130;  // 128 + SIGINT, as shells report an interrupted command

// The token the signal handler sets; an atomic store of a flag is async-signal-safe.
std::atomic<core::StopToken*> g_stop_token{nullptr};

extern "C" void on_stop_signal(int) {
    if (auto* token = g_stop_token.load()) {
        token->request_stop();
    }
}

/// SIGINT and SIGTERM request a stop while alive; SA_RESETHAND lets a second one kill.
class StopSignals {
public:
    explicit StopSignals(core::StopToken& token) {
        g_stop_token.store(&token);
        struct sigaction action {};
        action.sa_handler = on_stop_signal;
        action.sa_flags = SA_RESETHAND;
        sigemptyset(&action.sa_mask);
        sigaction(SIGINT, &action, &previous_int_);
        sigaction(SIGTERM, &action, &previous_term_);
    }
    ~StopSignals() {
        sigaction(SIGINT, &previous_int_, nullptr);
        sigaction(SIGTERM, &previous_term_, nullptr);
        g_stop_token.store(nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

private:
    struct sigaction previous_int_ {};
    struct sigaction previous_term_ {};
};

// YAML scalars typed as YAML 1.2's core schema does; quoted scalars stay strings.
json yaml_scalar(const YAML::Node& node) {
    const auto& text = node.Scalar();
    if (node.Tag() == "!") {
        return text;
    }
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
        return nullptr;
    }
    if (text == "true" || text == "True" || text == "TRUE") {
        return true;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
        return false;
    }
    std::int64_t integer = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), integer);
    if (error == std::errc() && end == text.data() + text.size()) {
        return integer;
    }
    double number = 0.0;
    auto [dend, derror] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (derror == std::errc() && dend == text.data() + text.size()) {
        return number;
    }
    return text;
}

json yaml_to_json(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            json out = json::object();
            for (const auto& entry : node) {
                out[entry.first.as<std::string>()] = yaml_to_json(entry.second);
            }
            return out;
        }
        case YAML::NodeType::Sequence: {
            json out = json::array();
            for (const auto& item : node) {
                out.push_back(yaml_to_json(item));
            }
            return out;
        }
        case YAML::NodeType::Scalar:
            return yaml_scalar(node);
        default:
            return nullptr;
    }
}

json read_config_file(const std::string& path) {
    if (fs::path(path).extension() == ".json") {
        std::ifstream in(path);
        if (!in) {
            throw std::runtime_error("cannot read " + path);
        }
        return json::parse(in);
    }
    return yaml_to_json(YAML::LoadFile(path));
}

std::string format_duration(double seconds) {
    const auto total = static_cast<long>(std::max(seconds, 0.0) + 0.5);
    if (total >= 3600) {
        return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
    }
    return fmt::format("{:02}:{:02}", total / 60, total % 60);
}

double metric(const core::ProgressEvent& event, const std::string& name) {
    auto it = event.metrics.find(name);
    return it == event.metrics.end() ? 0.0 : it->second;
}

/// Draws the run's events on stderr: one redrawn bar line, one line per finished epoch.
class ProgressPrinter {
public:
    void operator()(const core::ProgressEvent& event) {
        switch (event.type) {
            case core::EventType::kProgress:
                draw_bar(event);
                break;
            case core::EventType::kValidation:
                print_epoch(event);
                break;
            case core::EventType::kEpochEnd:
                train_ = event.metrics;
                break;
            default:
                break;
        }
    }

private:
    void draw_bar(const core::ProgressEvent& event) {
        const auto now = std::chrono::steady_clock::now();
        if (event.batch != event.total_batches && now - last_draw_ < kRedrawInterval) {
            return;
        }
        last_draw_ = now;
        const double done =
            event.total_batches > 0 ? static_cast<double>(event.batch) / event.total_batches : 0.0;
        const int filled = static_cast<int>(done * kBarWidth);
        std::string bar(static_cast<std::size_t>(filled), '=');
        bar.resize(kBarWidth, ' ');
        std::fprintf(stderr, "\repoch %d/%d [%s] %d/%d loss %.4f acc %.3f %.1f samples/s ETA %s ",
                     event.epoch, event.total_epochs, bar.c_str(), event.batch, event.total_batches,
                     metric(event, "loss"), metric(event, "accuracy"),
                     metric(event, "samples_per_second"),
                     format_duration(metric(event, "eta_seconds")).c_str());
        std::fflush(stderr);
    }

    void print_epoch(const core::ProgressEvent& event) {
        std::fprintf(stderr,
                     "\repoch %d/%d train_loss %.4f train_acc %.3f val_loss %.4f val_acc %.3f "
                     "val_auc %.3f val_f1 %.3f (%.0f s)%s\n",
                     event.epoch, event.total_epochs, train_["train_loss"],
                     train_["train_accuracy"], metric(event, "val_loss"),
                     metric(event, "val_accuracy"), metric(event, "val_auc"),
                     metric(event, "val_f1"), train_["seconds"], std::string(12, ' ').c_str());
    }

    std::chrono::steady_clock::time_point last_draw_{};
    std::map<std::string, double> train_;
};

std::optional<core::JobConfig> parse_config(const json& body) {
    const json& config =
        body.contains("config") && body["config"].is_object() ? body["config"] : body;
    const core::PathPolicy paths(fs::current_path(), {fs::path("/")});
    auto parsed = core::parse_job_config(config, &paths);
    if (!parsed) {
        std::cerr << "error: invalid config\n";
        for (const auto& problem : parsed.error()) {
            std::cerr << "  " << problem.path << ": " << problem.message << '\n';
        }
        return std::nullopt;
    }
    return parsed.value();
}

int report(const core::RunResult& result, const std::string& job_dir) {
    std::cerr << '\n';
    switch (result.outcome) {
        case core::RunOutcome::kCompleted:
            std::cerr << fmt::format("completed: {} epochs; best {} {:.4f} at epoch {}\n",
                                     result.epochs_completed, result.best_metric, result.best_value,
                                     result.best_epoch)
                      << "best checkpoint: " << result.best_checkpoint << '\n'
                      << "job folder: " << job_dir << '\n';
            return 0;
        case core::RunOutcome::kStopped:
            std::cerr << "stopped after " << result.epochs_completed << " complete epoch(s)\n"
                      << "last checkpoint: " << result.last_checkpoint << '\n';
            return kExitStopped;
        case core::RunOutcome::kFailed:
            break;
    }
    std::cerr << "error: " << result.error << '\n';
    return 1;
}

}  // namespace

int run_train_command(const std::string& config_path, const std::string& output_dir) {
    json body;
    try {
        body = read_config_file(config_path);
    } catch (const std::exception& error) {
        std::cerr << "error: cannot read config " << config_path << ": " << error.what() << '\n';
        return 1;
    }
    const auto config = parse_config(body);
    if (!config) {
        return 1;
    }

    core::JobContext context;
    context.job_id = core::new_uuid();
    context.job_name = body.value("job_name", fs::path(config_path).stem().string());
    context.config = *config;
    // Each run gets its own folder, so a second run never overwrites the first's checkpoints.
    const fs::path base = output_dir.empty() ? fs::path("outputs") : fs::path(output_dir);
    context.output_dir = fs::absolute(base / context.job_id).string();
    context.stop = std::make_shared<core::StopToken>();
    ProgressPrinter printer;
    context.on_event = [&printer](const core::ProgressEvent& event) { printer(event); };
    std::cerr << "job " << context.job_id << " -> " << context.output_dir << '\n';

    const StopSignals signals(*context.stop);
    return report(train::run_training(context), context.output_dir);
}

}  // namespace medfusion::app
