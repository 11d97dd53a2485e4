// The medfusion command: serve | train | evaluate | watch | demo-data.
#include <utility>  // before any Asio header: Boost 1.74 + g++ 12

#include <filesystem>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/demo_data.hpp"
#include "app/evaluate_command.hpp"
#include "app/train_command.hpp"
#include "app/watch_command.hpp"
#include "medfusion/core/api_error.hpp"
#include "medfusion/core/server_config.hpp"
#include "medfusion/jobs/broadcast_channel.hpp"
#include "medfusion/jobs/job_manager.hpp"
#include "medfusion/server/api_routes.hpp"
#include "medfusion/server/http_server.hpp"
#include "medfusion/server/system_routes.hpp"
#include "medfusion/server/training_websocket.hpp"
#include "medfusion/store/store.hpp"
#include "medfusion/train/evaluator.hpp"
#include "medfusion/train/metrics.hpp"
#include "medfusion/train/runtime.hpp"
#include "medfusion/train/trainer.hpp"

namespace {

using namespace medfusion;
namespace fs = std::filesystem;

server::Evaluator make_evaluator() {
    return [](const server::EvaluateCall& call) {
        train::EvaluationRequest request;
        request.checkpoint_path = call.checkpoint_path;
        request.csv_path = call.csv_path;
        request.split = call.split;
        request.output_dir = call.output_dir;
        request.model_id = call.model_id;
        request.architecture = call.architecture;
        request.fusion_type = call.fusion_type;
        request.dataset = call.dataset;
        request.history = call.history;
        const auto result = train::evaluate_checkpoint(request);
        // The curves are in the report; the API and the registry keep the figures.
        return nlohmann::json{{"metrics", train::metrics_without_curves(result.metrics)},
                              {"report_path", result.report_path},
                              {"predictions_path", result.predictions_path}};
    };
}

std::optional<server::TrainingJobState> job_state(jobs::JobManager& manager,
                                                  const std::string& job_id) {
    try {
        const auto snapshot = manager.status(job_id);
        server::TrainingJobState state;
        state.status = std::string(store::job_status_name(snapshot.record.status));
        state.epoch = snapshot.record.epoch;
        state.total_epochs = snapshot.record.total_epochs;
        const auto history = manager.history(job_id);
        if (!history.empty()) {
            state.metrics = history.back().metrics;
        }
        state.message = snapshot.record.error;
        return state;
    } catch (const core::ApiError&) {
        return std::nullopt;
    }
}

/// Builds every component, serves until SIGINT/SIGTERM, then stops jobs and drains.
int serve(core::ServerConfig config) {
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    fs::create_directories(config.data_dir);
    fs::create_directories(config.output_dir);
    config.output_dir = fs::canonical(config.output_dir).string();

    const auto facts = train::runtime_facts();
    store::Store store(config.data_dir);
    jobs::ChannelRegistry channels(jobs::ChannelOptions::from_limits(config.limits));
    jobs::JobManagerOptions job_options;
    job_options.max_concurrent_jobs = config.max_concurrent_jobs;
    job_options.max_queued_jobs = config.limits.max_queued_jobs;
    job_options.output_dir = config.output_dir;
    jobs::JobManager manager(store, train::make_job_runner(), channels, job_options);

    std::vector<fs::path> roots(config.data_roots.begin(), config.data_roots.end());
    for (const auto& root : roots) {
        if (!fs::is_directory(fs::path(config.data_base_dir) / root)) {
            spdlog::warn("data root {} does not exist; requests cannot read data from it",
                         root.string());
        }
    }
    server::ApiDeps api{store,
                        manager,
                        config,
                        core::PathPolicy(config.data_base_dir, roots),
                        core::PathPolicy(config.data_base_dir, {config.output_dir}),
                        make_evaluator()};

    server::Router router;
    server::SystemRoutesDeps system_deps;
    system_deps.config = config;
    system_deps.medfusion_version = MEDFUSION_VERSION;
    system_deps.torch_version = facts.torch_version;
    system_deps.cuda_devices = [devices = facts.cuda_devices] { return devices; };
    system_deps.job_counts = [&manager] {
        const auto counts = manager.counts();
        return std::pair<int, int>{counts.running, counts.queued};
    };
    system_deps.store_ready = [&store] { return store.schema_version() > 0; };
    server::add_system_routes(router, system_deps);
    server::add_training_routes(router, api);
    server::add_model_routes(router, api);
    server::add_dataset_routes(router, api);

    server::WebSocketRoutes websockets;
    server::HttpServer http(config, router, websockets);
    server::add_training_websocket(websockets, http,
                                   {channels, config.limits, [&manager](const std::string& id) {
                                        return job_state(manager, id);
                                    }});

    // Stopping jobs joins their workers, which can take a batch: do it off the I/O thread.
    std::thread job_shutdown;
    http.on_shutdown([&] { job_shutdown = std::thread([&manager] { manager.shutdown(); }); });

    manager.start();
    spdlog::info("medfusion {} torch={} gpus={} data_dir={} output_dir={}", MEDFUSION_VERSION,
                 facts.torch_version, facts.cuda_devices.size(), config.data_dir,
                 config.output_dir);
    std::cout << "MedFusion listening on http://" << config.host << ":" << http.port() << std::endl;
    http.run();
    if (job_shutdown.joinable()) {
        job_shutdown.join();
    }
    manager.shutdown();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"MedFusion: train and evaluate multimodal medical models"};
    app.set_version_flag("--version", std::string("medfusion ") + MEDFUSION_VERSION);
    app.require_subcommand(1);

    auto* serve_cmd = app.add_subcommand("serve", "Run the REST + WebSocket server");
    std::string config_file;
    core::ServerOverrides overrides;
    serve_cmd->add_option("--config", config_file, "Server config (YAML)")
        ->check(CLI::ExistingFile);
    serve_cmd->add_option("--host", overrides.host, "Interface to bind");
    serve_cmd->add_option("--port", overrides.port, "TCP port (0: any free port)");
    serve_cmd->add_option("--data-dir", overrides.data_dir, "Folder for medfusion.db");
    serve_cmd->add_option("--log-level", overrides.log_level, "trace|debug|info|warn|error|off");

    auto* train_cmd = app.add_subcommand("train", "Train in the foreground from a job config");
    std::string train_config;
    std::string train_output = "./outputs";
    train_cmd->add_option("--config", train_config, "Job config (YAML or JSON)")
        ->required()
        ->check(CLI::ExistingFile);
    train_cmd->add_option("--output-dir", train_output, "Where the run's folder is created");

    auto* eval_cmd = app.add_subcommand("evaluate", "Evaluate a checkpoint on a CSV");
    std::string checkpoint;
    std::string eval_csv;
    std::string eval_out = "./evaluation";
    eval_cmd->add_option("--checkpoint", checkpoint, "best.pth or last.pth")
        ->required()
        ->check(CLI::ExistingFile);
    eval_cmd->add_option("--csv", eval_csv, "CSV with the same columns as training")
        ->required()
        ->check(CLI::ExistingFile);
    eval_cmd->add_option("--out", eval_out, "Folder for reports/");

    auto* watch_cmd = app.add_subcommand("watch", "Follow a training job's live progress");
    std::string watch_job;
    std::string watch_url = "ws://127.0.0.1:8000";
    std::string watch_token;
    bool watch_json = false;
    watch_cmd->add_option("JOB_ID", watch_job, "Job id")->required();
    watch_cmd->add_option("--url", watch_url, "Server URL (ws:// or http://)");
    watch_cmd->add_option("--token", watch_token, "Bearer token (or MEDFUSION_AUTH_TOKEN)")
        ->envname("MEDFUSION_AUTH_TOKEN");
    watch_cmd->add_flag("--json", watch_json, "Print raw JSON messages");

    auto* demo_cmd = app.add_subcommand("demo-data", "Write the built-in synthetic dataset");
    app::DemoDataOptions demo;
    demo_cmd->add_option("--out", demo.out_dir, "Output folder")->required();
    demo_cmd->add_option("--cases", demo.cases, "Number of cases")->check(CLI::Range(30, 1000000));
    demo_cmd->add_option("--seed", demo.seed, "Random seed");
    demo_cmd->add_option("--image-size", demo.image_size, "Image side in pixels")
        ->check(CLI::Range(16, 1024));

    CLI11_PARSE(app, argc, argv);

    try {
        if (*serve_cmd) {
            return serve(
                core::load_server_config(config_file, core::medfusion_environment(), overrides));
        }
        if (*train_cmd) {
            return app::run_train_command(train_config, train_output);
        }
        if (*eval_cmd) {
            return app::run_evaluate_command(checkpoint, eval_csv, eval_out);
        }
        if (*watch_cmd) {
            return app::run_watch(watch_job, watch_url, watch_token, watch_json);
        }
        if (*demo_cmd) {
            return app::write_demo_data(demo);
        }
    } catch (const core::ConfigError& e) {
        std::cerr << "medfusion: invalid configuration: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "medfusion: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
