// WebSocket sessions of the training progress stream: one reader and one writer coroutine per
// connection on its strand, one write in flight, fed by the job's broadcast channel.
#include <utility>  // before any Asio header: Boost 1.74 + g++ 12

#include "medfusion/server/training_websocket.hpp"

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "medfusion/core/clock.hpp"
#include "medfusion/server/http_server.hpp"
#include "medfusion/server/websocket_routes.hpp"

namespace medfusion::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using core::EventType;
using jobs::CloseReason;

namespace {

constexpr auto kAwait = asio::use_awaitable;
// Each co_await is its own statement: g++ 12 miscompiles co_await inside && and || operands.

bool is_finished_status(const std::string& status) {
    return status == "completed" || status == "failed" || status == "stopped" ||
           status == "interrupted";
}

EventType terminal_type_of(const std::string& status) {
    if (status == "completed") {
        return EventType::kCompleted;
    }
    return status == "failed" ? EventType::kError : EventType::kStopped;
}

/// A finished job without a live channel: its status and terminal message, in the usual shape.
std::shared_ptr<jobs::BroadcastChannel> replay_channel(const std::string& job_id,
                                                       const TrainingJobState& state) {
    auto channel = std::make_shared<jobs::BroadcastChannel>(job_id, jobs::ChannelOptions{});
    core::ProgressEvent event;
    event.job_id = job_id;
    event.type = EventType::kStatus;
    event.epoch = state.epoch;
    event.total_epochs = state.total_epochs;
    event.metrics = state.metrics;
    event.message = state.status;
    channel->publish(event);

    event.type = terminal_type_of(state.status);
    event.metrics.clear();
    event.message = state.message;
    channel->publish(event);
    return channel;
}

std::string unknown_job_message(const std::string& job_id) {
    const nlohmann::json body = {
        {"type", "error"},
        {"job_id", job_id},
        {"epoch", 0},
        {"batch", 0},
        {"total_batches", 0},
        {"total_epochs", 0},
        {"metrics", {{"loss", 0.0}}},
        {"seq", 0},
        {"timestamp", core::iso8601_now()},
        {"message", "unknown job: " + job_id},
    };
    return body.dump();
}

/// The channel's snapshot marked as the last message before a shutdown close.
std::string final_status_message(const jobs::BroadcastChannel& channel) {
    nlohmann::json body = nlohmann::json::parse(*channel.snapshot().text);
    body["message"] = "server shutting down";
    return body.dump();
}

}  // namespace

class TrainingSession;

/// What all sessions of the route share: the dependencies and the live sessions, for shutdown.
struct TrainingStreamService {
    explicit TrainingStreamService(TrainingWebSocketDeps d) : deps(std::move(d)) {}

    void add(const std::shared_ptr<TrainingSession>& session);
    void shut_down();

    TrainingWebSocketDeps deps;
    std::mutex mutex;  // guards the two below
    std::vector<std::weak_ptr<TrainingSession>> sessions;
    bool shutting_down = false;
};

/// One WebSocket client of one job. Every member is touched only on the connection's strand,
/// except go_away() and the channel's waker, which post onto it.
class TrainingSession : public std::enable_shared_from_this<TrainingSession> {
public:
    TrainingSession(beast::tcp_stream stream, std::shared_ptr<TrainingStreamService> service,
                    std::string job_id)
        : ws_(std::move(stream)),
          wake_timer_(ws_.get_executor()),
          grace_timer_(ws_.get_executor()),
          service_(std::move(service)),
          job_id_(std::move(job_id)) {}

    ~TrainingSession() { leave_channel(); }

    asio::awaitable<void> run(UpgradeRequest request) {
        configure();
        beast::error_code ec;
        co_await ws_.async_accept(request, asio::redirect_error(kAwait, ec));
        if (ec) {
            spdlog::debug("ws job={} handshake failed: {}", job_id_, ec.message());
            co_return;
        }
        const bool subscribed = co_await open();
        if (!subscribed) {
            co_return;
        }
        auto self = shared_from_this();
        asio::co_spawn(
            ws_.get_executor(), [self]() { return self->read_loop(); }, asio::detached);
        co_await write_loop();
    }

    /// Any thread: ends the stream with a final status message and a 1001 close.
    void go_away() {
        asio::post(ws_.get_executor(), [self = shared_from_this()] {
            self->going_away_ = true;
            self->on_wake();
        });
    }

private:
    void configure() {
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = kWebSocketHandshakeTimeout;
        timeouts.idle_timeout = kWebSocketIdleTimeout;
        timeouts.keep_alive_pings = true;
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
            res.set(beast::http::field::server, "medfusion");
        }));
        ws_.read_message_max(service_->deps.limits.ws_max_message_bytes);
        ws_.text(true);
    }

    /// Finds the job's channel and subscribes; false when the stream ended here.
    asio::awaitable<bool> open() {
        if (shutting_down()) {
            co_await close({websocket::close_code::going_away, "server shutting down"});
            co_return false;
        }
        channel_ = service_->deps.channels.find(job_id_);
        if (!channel_) {
            const bool known = co_await resolve_without_channel();
            if (!known) {
                co_return false;
            }
        }
        subscription_ = channel_->subscribe(make_waker());
        if (!subscription_) {
            spdlog::warn("ws job={} refused: subscriber limit {} reached", job_id_,
                         channel_->options().max_subscribers);
            co_await close({websocket::close_code::try_again_later,
                            "too many subscribers on this job (limit " +
                                std::to_string(channel_->options().max_subscribers) + ")"});
            co_return false;
        }
        co_return true;
    }

    /// Asks the job's stored state: unknown jobs end here, finished ones get a replay.
    asio::awaitable<bool> resolve_without_channel() {
        const auto& lookup = service_->deps.lookup;
        const std::optional<TrainingJobState> state =
            lookup ? lookup(job_id_) : std::optional<TrainingJobState>{};
        if (!state) {
            const bool sent = co_await send(unknown_job_message(job_id_));
            if (sent) {
                co_await close({websocket::close_code::policy_error, "unknown job"});
            }
            co_return false;
        }
        channel_ = is_finished_status(state->status)
                       ? replay_channel(job_id_, *state)
                       : service_->deps.channels.get_or_create(job_id_);
        co_return true;
    }

    /// Called by publishers on their own thread; only posts onto this session's strand.
    std::function<void()> make_waker() {
        return [weak = weak_from_this(), executor = ws_.get_executor()] {
            asio::post(executor, [weak] {
                if (auto self = weak.lock()) {
                    self->on_wake();
                }
            });
        };
    }

    void on_wake() {
        if (finished_) {
            return;
        }
        wake_timer_.cancel();
        const bool must_close =
            going_away_ || (subscription_ && subscription_->close_reason() != CloseReason::kNone);
        if (must_close) {
            start_close_grace();
        }
    }

    asio::awaitable<void> write_loop() {
        for (;;) {
            if (peer_gone_) {
                break;
            }
            if (going_away_) {
                co_await say_goodbye();
                break;
            }
            const jobs::Subscription::Next next = subscription_->pop_or_arm();
            if (next.closed == CloseReason::kOverflow) {
                co_await close_stalled();
                break;
            }
            if (!next.message) {
                co_await wait_for_wake();
                continue;
            }
            const bool sent = co_await send(*next.message->text);
            if (!sent) {
                break;
            }
            if (core::is_terminal(next.message->type)) {
                co_await close({websocket::close_code::normal, "job finished"});
                break;
            }
        }
        finished_ = true;
        grace_timer_.cancel();
        leave_channel();
    }

    asio::awaitable<void> read_loop() {
        // Clients have nothing to say; reading keeps pings, pongs and the close handshake going.
        beast::flat_buffer buffer;
        for (;;) {
            beast::error_code ec;
            co_await ws_.async_read(buffer, asio::redirect_error(kAwait, ec));
            if (ec) {
                peer_gone_ = true;
                wake_timer_.cancel();
                co_return;
            }
            buffer.consume(buffer.size());
        }
    }

    asio::awaitable<void> wait_for_wake() {
        wake_timer_.expires_at(asio::steady_timer::time_point::max());
        beast::error_code ec;
        co_await wake_timer_.async_wait(asio::redirect_error(kAwait, ec));
    }

    asio::awaitable<bool> send(const std::string& text) {
        beast::error_code ec;
        co_await ws_.async_write(asio::buffer(text), asio::redirect_error(kAwait, ec));
        if (ec) {
            spdlog::debug("ws job={} write ended: {}", job_id_, ec.message());
            peer_gone_ = true;
        }
        co_return !ec;
    }

    asio::awaitable<void> say_goodbye() {
        if (!channel_) {
            co_await close({websocket::close_code::going_away, "server shutting down"});
            co_return;
        }
        const bool sent = co_await send(final_status_message(*channel_));
        if (sent) {
            co_await close({websocket::close_code::going_away, "server shutting down"});
        }
    }

    asio::awaitable<void> close_stalled() {
        spdlog::warn(
            "ws job={} closing a client that stopped reading (send queue cap: {} "
            "messages, {} bytes)",
            job_id_, channel_->options().queue_messages, channel_->options().queue_bytes);
        co_await close({websocket::close_code::policy_error, "send queue overflow"});
    }

    asio::awaitable<void> close(websocket::close_reason reason) {
        beast::error_code ec;
        co_await ws_.async_close(reason, asio::redirect_error(kAwait, ec));
        grace_timer_.cancel();
    }

    /// A client that will not take its last frames is cut off after the grace period.
    void start_close_grace() {
        if (grace_started_) {
            return;
        }
        grace_started_ = true;
        grace_timer_.expires_after(kWebSocketCloseGrace);
        grace_timer_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
            if (!ec) {
                beast::error_code ignored;
                beast::get_lowest_layer(self->ws_).socket().close(ignored);
            }
        });
    }

    void leave_channel() {
        if (channel_ && subscription_) {
            channel_->unsubscribe(subscription_);
            subscription_.reset();
        }
    }

    bool shutting_down() const {
        std::lock_guard lock(service_->mutex);
        return service_->shutting_down;
    }

    websocket::stream<beast::tcp_stream> ws_;
    asio::steady_timer wake_timer_;   // a pending wait is the writer idling; cancel wakes it
    asio::steady_timer grace_timer_;  // bounds the last frames of a closing stream
    std::shared_ptr<TrainingStreamService> service_;
    std::string job_id_;
    std::shared_ptr<jobs::BroadcastChannel> channel_;
    std::shared_ptr<jobs::Subscription> subscription_;
    bool peer_gone_ = false;
    bool going_away_ = false;
    bool grace_started_ = false;
    bool finished_ = false;  // the writer is done: nothing left to wake or close
};

void TrainingStreamService::add(const std::shared_ptr<TrainingSession>& session) {
    std::lock_guard lock(mutex);
    std::erase_if(sessions, [](const auto& weak) { return weak.expired(); });
    sessions.push_back(session);
}

void TrainingStreamService::shut_down() {
    std::vector<std::shared_ptr<TrainingSession>> live;
    {
        std::lock_guard lock(mutex);
        shutting_down = true;
        for (const auto& weak : sessions) {
            if (auto session = weak.lock()) {
                live.push_back(std::move(session));
            }
        }
    }
    spdlog::info("ws closing sessions={} reason=shutdown", live.size());
    for (const auto& session : live) {
        session->go_away();
    }
}

void add_training_websocket(WebSocketRoutes& routes, HttpServer& server,
                            TrainingWebSocketDeps deps) {
    auto service = std::make_shared<TrainingStreamService>(std::move(deps));
    server.on_shutdown([service] { service->shut_down(); });
    routes.add("/ws/training/{job_id}", [service](beast::tcp_stream stream, UpgradeRequest request,
                                                  std::map<std::string, std::string> params) {
        auto executor = stream.get_executor();
        auto session =
            std::make_shared<TrainingSession>(std::move(stream), service, params["job_id"]);
        service->add(session);
        asio::co_spawn(
            executor,
            [session, request = std::move(request)]() mutable {
                return session->run(std::move(request));
            },
            asio::detached);
    });
}

}  // namespace medfusion::server
