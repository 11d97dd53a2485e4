// Per-job broadcast channels: each keeps its job's latest state and gives every subscriber a
// bounded send queue of shared, serialised messages. Socket-free; WebSocket sessions drain them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "medfusion/core/events.hpp"
#include "medfusion/core/server_config.hpp"

namespace medfusion::jobs {

// Least time between two progress messages of one job (about 10 a second); the last batch of
// each epoch always passes.
constexpr std::chrono::milliseconds kProgressInterval{100};
// Finished channels without subscribers kept for late clients; older ones are forgotten and
// the job's stored state answers instead.
constexpr std::size_t kRetainedFinishedChannels = 256;

struct ChannelOptions {
    std::chrono::milliseconds progress_interval = kProgressInterval;
    std::uint32_t max_subscribers = core::Limits{}.ws_subscribers_per_job;
    std::uint32_t queue_messages = core::Limits{}.ws_queue_messages;
    std::uint64_t queue_bytes = core::Limits{}.ws_queue_bytes;
    // Time source for throttling; empty means std::chrono::steady_clock::now.
    std::function<std::chrono::steady_clock::time_point()> clock;

    static ChannelOptions from_limits(const core::Limits& limits);
};

/// One serialised message (a JSON object), shared read-only by every subscriber's queue.
struct ChannelMessage {
    core::EventType type = core::EventType::kStatus;
    std::uint64_t seq = 0;
    std::shared_ptr<const std::string> text;
};

enum class CloseReason {
    kNone,
    kOverflow,   // the subscriber fell behind past its queue cap
    kGoingAway,  // the server is shutting down
};

/// Counters of one channel (or, from the registry, of all channels).
struct ChannelStats {
    std::uint64_t published = 0;     // events sent to subscribers, each with a new seq
    std::uint64_t throttled = 0;     // progress events held back by the rate limit
    std::uint64_t conflated = 0;     // unsent progress messages replaced by a newer one
    std::uint64_t overflowed = 0;    // subscribers closed at their queue cap
    std::uint64_t rejected = 0;      // subscriptions refused over max_subscribers
    std::uint64_t subscribed = 0;    // subscriptions accepted
    std::uint64_t unsubscribed = 0;  // subscribers that left (disconnects, including overflow)
};

/// One subscriber's bounded send queue. A newer progress message replaces an unsent one;
/// every other type is kept; past the count or byte cap the subscription closes with
/// kOverflow and its queue is discarded. The channel pushes from publisher threads, the owner
/// pops from its own thread; every method is thread-safe.
class Subscription {
public:
    struct Next {
        std::optional<ChannelMessage> message;
        CloseReason closed = CloseReason::kNone;  // set when closed; message is then empty
    };

    Subscription(std::uint64_t id, std::size_t max_messages, std::uint64_t max_bytes,
                 std::function<void()> waker);

    /// The oldest unsent message. When there is none and the subscription is open, arms the
    /// waker: the next push or close calls it once.
    Next pop_or_arm();

    /// Closes the subscription (the first reason wins) and calls the waker.
    void close(CloseReason reason);

    CloseReason close_reason() const;
    std::size_t queued_messages() const;
    std::uint64_t queued_bytes() const;
    std::uint64_t id() const { return id_; }

private:
    friend class BroadcastChannel;

    struct PushResult {
        bool wake = false;
        bool conflated = false;
        bool overflowed = false;
    };

    /// Never blocks beyond the queue's own short lock; never calls the waker.
    PushResult push(const ChannelMessage& message);
    void wake() const;

    const std::uint64_t id_;
    const std::size_t max_messages_;
    const std::uint64_t max_bytes_;
    const std::function<void()> waker_;  // must not block; called outside every lock

    mutable std::mutex mutex_;
    std::deque<ChannelMessage> queue_;
    std::uint64_t bytes_ = 0;
    bool armed_ = false;
    CloseReason closed_ = CloseReason::kNone;
};

/// The broadcast channel of one job: its latest state, a per-job sequence number (`seq`,
/// from 1), and its subscribers. Every event is serialised once and shared. publish() never
/// blocks on a subscriber and calls wakers only after releasing the channel's lock.
///
/// Message shape: {"type","job_id","epoch","batch","total_batches","total_epochs","metrics",
/// "seq","timestamp"} plus "status" on status messages and "message" when the event has one.
/// `metrics.loss` is always a number: the event's own loss (progress `loss`, epoch_end
/// `train_loss`, validation `val_loss`), else the job's latest one, else 0.0.
///
/// Thread-safety: every method may be called from any thread.
class BroadcastChannel {
public:
    BroadcastChannel(std::string job_id, ChannelOptions options);

    /// Updates the state and sends the event to every subscriber, unless it is a progress
    /// event inside the throttle interval (not the last batch of its epoch). A status event's
    /// `message` is the job's status word (queued, running, ...). Returns true when sent.
    bool publish(const core::ProgressEvent& event);

    /// A new subscription whose queue starts with a status snapshot, followed by the terminal
    /// message when the job has finished. Null when max_subscribers are already subscribed.
    std::shared_ptr<Subscription> subscribe(std::function<void()> waker = {});

    /// Removes a subscriber (a no-op when it is already gone).
    void unsubscribe(const std::shared_ptr<Subscription>& subscription);

    /// The current state as a status message; its seq is that of the last event it reflects.
    ChannelMessage snapshot() const;

    bool finished() const;
    std::size_t subscriber_count() const;
    ChannelStats stats() const;
    const std::string& job_id() const { return job_id_; }
    const ChannelOptions& options() const { return options_; }

private:
    struct State {
        std::string status = "queued";
        int epoch = 0;
        int total_epochs = 0;
        int batch = 0;
        int total_batches = 0;
        double loss = 0.0;
        std::map<std::string, double> metrics;  // the latest value of every metric seen
        std::optional<ChannelMessage> terminal;
    };

    bool throttle(const core::ProgressEvent& event);
    void apply(const core::ProgressEvent& event);
    ChannelMessage serialise(const core::ProgressEvent& event, std::uint64_t seq) const;
    ChannelMessage snapshot_locked() const;
    std::vector<std::shared_ptr<Subscription>> deliver(const ChannelMessage& message);

    const std::string job_id_;
    const ChannelOptions options_;

    mutable std::mutex mutex_;  // guards everything below; never held while calling wakers
    State state_;
    std::uint64_t seq_ = 0;
    std::uint64_t next_subscriber_ = 1;
    std::optional<std::chrono::steady_clock::time_point> last_progress_;
    std::vector<std::shared_ptr<Subscription>> subscribers_;
    ChannelStats stats_;
};

/// Every job's channel, by job id. The job manager publishes into get_or_create(); WebSocket
/// sessions find() or get_or_create() and subscribe. Thread-safe; the registry's lock is never
/// held while a channel publishes or a subscriber is woken.
class ChannelRegistry {
public:
    explicit ChannelRegistry(ChannelOptions options = {});

    std::shared_ptr<BroadcastChannel> get_or_create(const std::string& job_id);
    std::shared_ptr<BroadcastChannel> find(const std::string& job_id) const;

    /// get_or_create(event.job_id)->publish(event).
    bool publish(const core::ProgressEvent& event);

    /// Every live channel, e.g. to close all subscribers at shutdown.
    std::vector<std::shared_ptr<BroadcastChannel>> channels() const;

    /// Totals over the channels currently held.
    ChannelStats stats() const;
    const ChannelOptions& options() const { return options_; }

private:
    void prune_finished_locked();

    const ChannelOptions options_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<BroadcastChannel>> channels_;
    std::map<std::string, std::uint64_t> created_order_;
    std::uint64_t next_order_ = 0;
};

}  // namespace medfusion::jobs
