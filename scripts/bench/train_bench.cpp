// Training throughput of the C++ trainer: samples per second over a window of batches after a
// warm-up, timed from the run's own progress events. scripts/bench/train.sh runs it.
// Usage: train_bench CONFIG.json OUTPUT_DIR WARMUP_BATCHES MEASURED_BATCHES
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "medfusion/core/job_config.hpp"
#include "medfusion/core/paths.hpp"
#include "medfusion/train/trainer.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

medfusion::core::JobConfig load_config(const std::string& path) {
    std::ifstream in(path);
    const auto body = nlohmann::json::parse(in);
    const medfusion::core::PathPolicy paths(fs::current_path(), {fs::path("/")});
    auto parsed = medfusion::core::parse_job_config(body, &paths);
    if (!parsed) {
        for (const auto& error : parsed.error()) {
            std::fprintf(stderr, "%s: %s\n", error.path.c_str(), error.message.c_str());
        }
        std::exit(2);
    }
    return parsed.value();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s CONFIG.json OUTPUT_DIR WARMUP_BATCHES MEASURED_BATCHES\n",
                     argv[0]);
        return 2;
    }
    const int warmup = std::atoi(argv[3]);
    const int measured = std::atoi(argv[4]);

    medfusion::core::JobContext context;
    context.job_id = "bench";
    context.config = load_config(argv[1]);
    context.output_dir = argv[2];
    context.stop = std::make_shared<medfusion::core::StopToken>();

    // The window runs from the end of batch `warmup` to the end of batch `warmup + measured`.
    Clock::time_point start;
    double seconds = 0.0;
    context.on_event = [&](const medfusion::core::ProgressEvent& event) {
        if (event.type != medfusion::core::EventType::kProgress || event.epoch != 1) {
            return;
        }
        if (event.batch == warmup) {
            start = Clock::now();
        } else if (event.batch == warmup + measured) {
            seconds = std::chrono::duration<double>(Clock::now() - start).count();
            context.stop->request_stop();
        }
    };
    const auto result = medfusion::train::run_training(context);
    if (seconds <= 0.0) {
        std::fprintf(stderr, "benchmark window not reached: %s\n", result.error.c_str());
        return 1;
    }
    const double samples = static_cast<double>(measured) * context.config.training.batch_size;
    std::printf("cpp_samples_per_second %.2f parameters %lld\n", samples / seconds,
                static_cast<long long>(result.parameter_count));
    return 0;
}
