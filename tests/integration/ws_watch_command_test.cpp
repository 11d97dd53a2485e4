// Tests of `medfusion watch` (run_watch) against the real server and training stream on
// 127.0.0.1, fed by events the test publishes into the job's channel.
#include <utility>  // before any Asio header: Boost 1.74 + g++ 12

#include <future>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/watch_command.hpp"
#include "medfusion/jobs/broadcast_channel.hpp"
#include "medfusion/server/http_server.hpp"
#include "medfusion/server/training_websocket.hpp"

namespace medfusion {
namespace {

using core::EventType;

/// The server on its own thread, with one known job "job-1" and a channel registry to publish in.
class TestServer {
public:
    explicit TestServer(std::string token = "") {
        config_.host = "127.0.0.1";
        config_.port = 0;
        config_.access_log = false;
        config_.auth_token = std::move(token);
        server_ = std::make_unique<server::HttpServer>(config_, router_, websockets_);
        server::add_training_websocket(websockets_, *server_,
                                       {channels_, config_.limits, [](const std::string& id) {
                                            std::optional<server::TrainingJobState> state;
                                            if (id == "job-1") {
                                                state.emplace().status = "running";
                                            }
                                            return state;
                                        }});
        thread_ = std::thread([this] { server_->run(); });
    }

    ~TestServer() {
        server_->request_shutdown();
        thread_.join();
    }

    std::string url() const { return "ws://127.0.0.1:" + std::to_string(server_->port()); }

    /// Waits until `count` clients follow job-1 (the test's events must not precede them).
    void wait_for_subscribers(std::size_t count) {
        auto channel = channels_.get_or_create("job-1");
        while (channel->subscriber_count() < count) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    void publish(EventType type, int epoch, int batch, std::map<std::string, double> metrics,
                 std::string message = "") {
        core::ProgressEvent event;
        event.type = type;
        event.job_id = "job-1";
        event.epoch = epoch;
        event.total_epochs = 2;
        event.batch = batch;
        event.total_batches = 10;
        event.metrics = std::move(metrics);
        event.message = std::move(message);
        channels_.publish(event);
    }

private:
    core::ServerConfig config_;
    server::Router router_;
    server::WebSocketRoutes websockets_;
    jobs::ChannelRegistry channels_;
    std::unique_ptr<server::HttpServer> server_;
    std::thread thread_;
};

struct WatchRun {
    int code = -1;
    std::string out;
    std::string err;
};

std::future<WatchRun> watch_async(const std::string& job_id, const std::string& url,
                                  const std::string& token = "", bool raw = false) {
    return std::async(std::launch::async, [=] {
        std::ostringstream out;
        std::ostringstream err;
        const int code = app::run_watch(job_id, url, token, raw, out, err);
        return WatchRun{code, out.str(), err.str()};
    });
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

TEST(WatchCommandTest, PrintsReadableLinesAndExitsZeroOnCompleted) {
    TestServer server;
    auto run = watch_async("job-1", server.url());
    server.wait_for_subscribers(1);

    server.publish(EventType::kProgress, 1, 10, {{"loss", 0.5}, {"accuracy", 0.75}});
    server.publish(EventType::kEpochEnd, 1, 10, {{"train_loss", 0.5}});
    server.publish(EventType::kValidation, 1, 10, {{"val_loss", 0.25}, {"val_auc", 0.875}});
    server.publish(EventType::kCompleted, 1, 10, {});
    const WatchRun result = run.get();

    EXPECT_EQ(result.code, app::kWatchCompleted);
    EXPECT_EQ(lines_of(result.out),
              (std::vector<std::string>{
                  "status queued: epoch 0 batch 0/0 loss=0.0000",
                  "epoch 1/2 batch 10/10 loss=0.5000 accuracy=0.7500",
                  "epoch 1/2 done: loss=0.5000 train_loss=0.5000",
                  "epoch 1/2 validation: loss=0.2500 val_auc=0.8750 val_loss=0.2500",
                  "completed: epoch 1/2 loss=0.2500 accuracy=0.7500 train_loss=0.5000 "
                  "val_auc=0.8750 val_loss=0.2500",
              }));
}

TEST(WatchCommandTest, ExitsTwoOnStopped) {
    TestServer server;
    auto run = watch_async("job-1", server.url());
    server.wait_for_subscribers(1);

    server.publish(EventType::kProgress, 1, 3, {{"loss", 0.5}});
    server.publish(EventType::kStopped, 1, 3, {});

    EXPECT_EQ(run.get().code, app::kWatchStopped);
}

TEST(WatchCommandTest, ExitsOneOnErrorAndPrintsTheMessage) {
    TestServer server;
    auto run = watch_async("job-1", server.url());
    server.wait_for_subscribers(1);

    server.publish(EventType::kError, 1, 3, {}, "out of memory");
    const WatchRun result = run.get();

    EXPECT_EQ(result.code, app::kWatchFailed);
    EXPECT_NE(result.out.find("error: epoch 1/2 loss=0.0000 (out of memory)"), std::string::npos);
}

TEST(WatchCommandTest, ExitsOneForAnUnknownJob) {
    TestServer server;
    const WatchRun result = watch_async("no-such-job", server.url()).get();

    EXPECT_EQ(result.code, app::kWatchFailed);
    EXPECT_NE(result.out.find("unknown job: no-such-job"), std::string::npos);
}

TEST(WatchCommandTest, JsonModePrintsTheRawMessages) {
    TestServer server;
    server.publish(EventType::kCompleted, 2, 10, {{"loss", 0.125}});

    const WatchRun result = watch_async("job-1", server.url(), "", true).get();

    const auto lines = lines_of(result.out);
    ASSERT_EQ(lines.size(), 2u);
    const auto status = nlohmann::json::parse(lines[0]);
    const auto completed = nlohmann::json::parse(lines[1]);
    EXPECT_EQ(status["type"], "status");
    EXPECT_EQ(status["status"], "completed");
    EXPECT_EQ(completed["type"], "completed");
    EXPECT_DOUBLE_EQ(completed["metrics"]["loss"].get<double>(), 0.125);
    EXPECT_EQ(result.code, app::kWatchCompleted);
}

TEST(WatchCommandTest, SendsTheBearerToken) {
    TestServer server("s3cret");
    server.publish(EventType::kCompleted, 2, 10, {});

    const WatchRun refused = watch_async("job-1", server.url(), "wrong").get();
    const WatchRun accepted = watch_async("job-1", server.url(), "s3cret").get();

    EXPECT_EQ(refused.code, app::kWatchFailed);
    EXPECT_NE(refused.err.find("refused"), std::string::npos) << refused.err;
    EXPECT_EQ(accepted.code, app::kWatchCompleted);
}

TEST(WatchCommandTest, RejectsAnUnsupportedUrl) {
    std::ostringstream out;
    std::ostringstream err;

    EXPECT_EQ(app::run_watch("job-1", "wss://example.org", "", false, out, err), app::kWatchFailed);
    EXPECT_NE(err.str().find("unsupported URL"), std::string::npos);
}

}  // namespace
}  // namespace medfusion
