// A torch-free server for the WebSocket tests and benchmark: the real HTTP server and training
// stream, fed by scripted jobs (progress, epoch_end, validation, then completed or stopped).
//
//   ws_test_server [--token T] [--subscribers N] [--queue-messages N] [--queue-bytes N]
//
// Listens on 127.0.0.1, an ephemeral port printed as "port=<n>". Control routes:
//   POST /api/test/jobs            {"job_id","epochs","batches","batch_ms","delay_ms",
//                                   "wait_for_subscribers","extra_metrics"}
//   POST /api/test/jobs/{id}/stop  stops a scripted job between batches
//   POST /api/test/stored          {"job_id","status","epoch","total_epochs","metrics","message"}
//                                  a finished job known only to the lookup (no channel)
//   GET  /api/test/stats           the channels' counters and the server's RSS
//   POST /api/test/shutdown        graceful shutdown, as on SIGTERM
#include <utility>  // before any Asio header: Boost 1.74 + g++ 12

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "medfusion/core/events.hpp"
#include "medfusion/jobs/broadcast_channel.hpp"
#include "medfusion/server/http_server.hpp"
#include "medfusion/server/router.hpp"
#include "medfusion/server/training_websocket.hpp"
#include "medfusion/server/websocket_routes.hpp"

namespace {

using medfusion::core::EventType;
using medfusion::core::ProgressEvent;
using medfusion::server::Request;
using medfusion::server::Response;
using medfusion::server::TrainingJobState;
using nlohmann::json;

struct ScriptedJob {
    std::string id;
    int epochs = 2;
    int batches = 10;
    int batch_ms = 20;
    int delay_ms = 0;
    std::size_t wait_for_subscribers = 0;  // start once this many clients follow the job
    int extra_metrics = 0;                 // padding metrics on epoch messages (bigger frames)
};

/// Seconds since the Unix epoch with microseconds: what the benchmark compares receipt with.
double unix_seconds_now() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration<double>(now).count();
}

std::uint64_t rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stoull(line.substr(6)) * 1024;
        }
    }
    return 0;
}

/// The scripted jobs and the stored state the lookup answers from.
class ScriptedJobs {
public:
    explicit ScriptedJobs(medfusion::jobs::ChannelRegistry& channels) : channels_(channels) {}

    ~ScriptedJobs() {
        stop_all();
        for (auto& thread : threads_) {
            thread.join();
        }
    }

    void start(const ScriptedJob& job) {
        std::lock_guard lock(mutex_);
        states_[job.id] = {"queued", 0, job.epochs, {}, ""};
        stops_[job.id] = std::make_shared<medfusion::core::StopToken>();
        publish_status(job.id, "queued");
        threads_.emplace_back([this, job, stop = stops_[job.id]] { run(job, *stop); });
    }

    bool stop(const std::string& job_id) {
        std::lock_guard lock(mutex_);
        const auto it = stops_.find(job_id);
        if (it == stops_.end()) {
            return false;
        }
        it->second->request_stop();
        return true;
    }

    void stop_all() {
        std::lock_guard lock(mutex_);
        for (auto& [id, stop] : stops_) {
            stop->request_stop();
        }
    }

    void store(const std::string& job_id, TrainingJobState state) {
        std::lock_guard lock(mutex_);
        states_[job_id] = std::move(state);
    }

    std::optional<TrainingJobState> lookup(const std::string& job_id) {
        std::lock_guard lock(mutex_);
        const auto it = states_.find(job_id);
        return it == states_.end() ? std::nullopt : std::optional(it->second);
    }

private:
    void run(const ScriptedJob& job, const medfusion::core::StopToken& stop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(job.delay_ms));
        const auto channel = channels_.get_or_create(job.id);
        while (channel->subscriber_count() < job.wait_for_subscribers && !stop.stop_requested()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        publish_status(job.id, "running");
        int step = 0;
        for (int epoch = 1; epoch <= job.epochs; ++epoch) {
            for (int batch = 1; batch <= job.batches; ++batch) {
                std::this_thread::sleep_for(std::chrono::milliseconds(job.batch_ms));
                if (stop.stop_requested()) {
                    finish(job, EventType::kStopped, epoch, batch - 1, "stopped");
                    return;
                }
                const double loss = 1.0 / (1.0 + 0.1 * ++step);
                publish(job, EventType::kProgress, epoch, batch,
                        {{"loss", loss}, {"accuracy", 1.0 - loss / 2}});
            }
            const double loss = 1.0 / (1.0 + 0.1 * step);
            std::map<std::string, double> padding;
            for (int i = 0; i < job.extra_metrics; ++i) {
                padding["extra_" + std::to_string(i)] = 0.123456789 * i;
            }
            auto train = padding;
            train.insert({{"train_loss", loss}, {"train_accuracy", 1.0 - loss / 2}});
            publish(job, EventType::kEpochEnd, epoch, job.batches, std::move(train));
            auto validation = std::move(padding);
            validation.insert(
                {{"val_loss", loss * 1.1}, {"val_accuracy", 1.0 - loss / 2}, {"val_auc", 0.9}});
            publish(job, EventType::kValidation, epoch, job.batches, std::move(validation));
        }
        finish(job, EventType::kCompleted, job.epochs, job.batches, "completed");
    }

    void publish(const ScriptedJob& job, EventType type, int epoch, int batch,
                 std::map<std::string, double> metrics) {
        ProgressEvent event;
        event.type = type;
        event.job_id = job.id;
        event.epoch = epoch;
        event.total_epochs = job.epochs;
        event.batch = batch;
        event.total_batches = job.batches;
        event.metrics = std::move(metrics);
        event.metrics["publish_time"] = unix_seconds_now();
        channels_.publish(event);
    }

    void finish(const ScriptedJob& job, EventType type, int epoch, int batch,
                const std::string& status) {
        {
            std::lock_guard lock(mutex_);
            states_[job.id] = {status, epoch, job.epochs, {}, ""};
        }
        publish(job, type, epoch, batch, {});
    }

    void publish_status(const std::string& job_id, const std::string& status) {
        ProgressEvent event;
        event.type = EventType::kStatus;
        event.job_id = job_id;
        event.message = status;
        channels_.publish(event);
    }

    medfusion::jobs::ChannelRegistry& channels_;
    std::mutex mutex_;
    std::map<std::string, TrainingJobState> states_;
    std::map<std::string, std::shared_ptr<medfusion::core::StopToken>> stops_;
    std::vector<std::thread> threads_;
};

medfusion::core::ServerConfig parse_args(int argc, char** argv) {
    medfusion::core::ServerConfig config;
    config.host = "127.0.0.1";
    config.port = 0;
    config.access_log = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--token") {
            config.auth_token = value;
        } else if (flag == "--subscribers") {
            config.limits.ws_subscribers_per_job = std::stoul(value);
        } else if (flag == "--queue-messages") {
            config.limits.ws_queue_messages = std::stoul(value);
        } else if (flag == "--queue-bytes") {
            config.limits.ws_queue_bytes = std::stoull(value);
        } else {
            throw std::invalid_argument("unknown flag " + flag);
        }
    }
    return config;
}

json stats_json(const medfusion::jobs::ChannelRegistry& channels) {
    const medfusion::jobs::ChannelStats stats = channels.stats();
    return {{"published", stats.published},       {"throttled", stats.throttled},
            {"conflated", stats.conflated},       {"overflowed", stats.overflowed},
            {"rejected", stats.rejected},         {"subscribed", stats.subscribed},
            {"unsubscribed", stats.unsubscribed}, {"rss_bytes", rss_bytes()}};
}

void add_control_routes(medfusion::server::Router& router, medfusion::server::HttpServer*& server,
                        ScriptedJobs& jobs, medfusion::jobs::ChannelRegistry& channels) {
    router.add("POST", "/api/test/jobs", [&jobs](const Request& request) {
        const json body = request.json_object();
        jobs.start({body.at("job_id"), body.value("epochs", 2), body.value("batches", 10),
                    body.value("batch_ms", 20), body.value("delay_ms", 0),
                    body.value("wait_for_subscribers", std::size_t{0}),
                    body.value("extra_metrics", 0)});
        return Response::json({{"job_id", body.at("job_id")}, {"status", "started"}});
    });
    router.add("POST", "/api/test/jobs/{job_id}/stop", [&jobs](const Request& request) {
        const bool known = jobs.stop(request.params.at("job_id"));
        return Response::json({{"stopping", known}}, known ? 200 : 404);
    });
    router.add("POST", "/api/test/stored", [&jobs](const Request& request) {
        const json body = request.json_object();
        jobs.store(
            body.at("job_id"),
            {body.at("status"), body.value("epoch", 0), body.value("total_epochs", 0),
             body.value("metrics", std::map<std::string, double>{}), body.value("message", "")});
        return Response::json({{"stored", true}});
    });
    router.add("GET", "/api/test/stats",
               [&channels](const Request&) { return Response::json(stats_json(channels)); });
    router.add("POST", "/api/test/shutdown", [&server](const Request&) {
        server->request_shutdown();
        return Response::json({{"shutting_down", true}});
    });
}

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    const medfusion::core::ServerConfig config = parse_args(argc, argv);

    medfusion::jobs::ChannelRegistry channels(
        medfusion::jobs::ChannelOptions::from_limits(config.limits));
    ScriptedJobs jobs(channels);
    medfusion::server::Router router;
    medfusion::server::WebSocketRoutes websockets;
    medfusion::server::HttpServer* server_ptr = nullptr;
    add_control_routes(router, server_ptr, jobs, channels);

    medfusion::server::HttpServer server(config, router, websockets);
    server_ptr = &server;
    medfusion::server::add_training_websocket(
        websockets, server,
        {channels, config.limits, [&jobs](const std::string& id) { return jobs.lookup(id); }});

    std::cout << "port=" << server.port() << std::endl;
    server.run();
    return 0;
}
