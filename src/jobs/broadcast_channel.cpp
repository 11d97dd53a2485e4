// Per-job broadcast channels: state, throttling, serialisation once per event, and bounded
// per-subscriber queues with progress conflation.
#include "medfusion/jobs/broadcast_channel.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace medfusion::jobs {

using core::EventType;

namespace {

/// ISO-8601 UTC with milliseconds: "2026-03-15T10:30:00.123Z".
std::string timestamp_now() {
    const auto now = std::chrono::system_clock::now();
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[64];
    std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(millis % 1000));
    return text;
}

/// The metric that is "the loss" of an event of this type, if it has one: progress `loss`,
/// epoch_end `train_loss`, validation `val_loss`; status and terminal events carrying a whole
/// state prefer `loss`, then `val_loss`, then `train_loss`.
std::optional<double> own_loss(const core::ProgressEvent& event) {
    std::vector<const char*> keys = {"loss"};
    if (event.type == EventType::kEpochEnd) {
        keys = {"train_loss", "loss"};
    } else if (event.type == EventType::kValidation) {
        keys = {"val_loss", "loss"};
    } else if (event.type != EventType::kProgress) {
        keys = {"loss", "val_loss", "train_loss"};
    }
    for (const char* name : keys) {
        if (const auto it = event.metrics.find(name); it != event.metrics.end()) {
            return it->second;
        }
    }
    return std::nullopt;
}

const char* status_of_terminal(EventType type) {
    switch (type) {
        case EventType::kCompleted:
            return "completed";
        case EventType::kError:
            return "failed";
        default:
            return "stopped";
    }
}

}  // namespace

ChannelOptions ChannelOptions::from_limits(const core::Limits& limits) {
    ChannelOptions options;
    options.max_subscribers = limits.ws_subscribers_per_job;
    options.queue_messages = limits.ws_queue_messages;
    options.queue_bytes = limits.ws_queue_bytes;
    return options;
}

// ---------------------------------------------------------------------------------------------
// Subscription

Subscription::Subscription(std::uint64_t id, std::size_t max_messages, std::uint64_t max_bytes,
                           std::function<void()> waker)
    : id_(id),
      max_messages_(std::max<std::size_t>(max_messages, 1)),
      max_bytes_(max_bytes),
      waker_(std::move(waker)) {}

Subscription::Next Subscription::pop_or_arm() {
    std::lock_guard lock(mutex_);
    if (closed_ != CloseReason::kNone) {
        return {std::nullopt, closed_};
    }
    if (queue_.empty()) {
        armed_ = true;
        return {};
    }
    Next next{std::move(queue_.front()), CloseReason::kNone};
    queue_.pop_front();
    bytes_ -= next.message->text->size();
    return next;
}

void Subscription::close(CloseReason reason) {
    {
        std::lock_guard lock(mutex_);
        if (closed_ != CloseReason::kNone) {
            return;
        }
        closed_ = reason;
        queue_.clear();
        bytes_ = 0;
        armed_ = false;
    }
    wake();
}

CloseReason Subscription::close_reason() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

std::size_t Subscription::queued_messages() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

std::uint64_t Subscription::queued_bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

Subscription::PushResult Subscription::push(const ChannelMessage& message) {
    std::lock_guard lock(mutex_);
    PushResult result;
    if (closed_ != CloseReason::kNone) {
        return result;
    }

    // At most one unsent progress: the newest goes to the back, so seq stays increasing.
    if (message.type == EventType::kProgress) {
        const auto old = std::find_if(queue_.begin(), queue_.end(), [](const auto& queued) {
            return queued.type == EventType::kProgress;
        });
        if (old != queue_.end()) {
            bytes_ -= old->text->size();
            queue_.erase(old);
            result.conflated = true;
        }
    }
    queue_.push_back(message);
    bytes_ += message.text->size();

    // Only messages that may not be dropped can push a queue past its cap: the client is stalled.
    if (queue_.size() > max_messages_ || bytes_ > max_bytes_) {
        closed_ = CloseReason::kOverflow;
        queue_.clear();
        bytes_ = 0;
        result.overflowed = true;
    }
    result.wake = armed_ || result.overflowed;
    armed_ = false;
    return result;
}

void Subscription::wake() const {
    if (waker_) {
        waker_();
    }
}

// ---------------------------------------------------------------------------------------------
// BroadcastChannel

BroadcastChannel::BroadcastChannel(std::string job_id, ChannelOptions options)
    : job_id_(std::move(job_id)), options_(std::move(options)) {}

bool BroadcastChannel::publish(const core::ProgressEvent& event) {
    std::vector<std::shared_ptr<Subscription>> to_wake;
    {
        std::lock_guard lock(mutex_);
        apply(event);
        if (throttle(event)) {
            ++stats_.throttled;
            return false;
        }
        const ChannelMessage message = serialise(event, ++seq_);
        ++stats_.published;
        if (core::is_terminal(event.type)) {
            state_.terminal = message;
        }
        to_wake = deliver(message);
    }

    // Wakers post to the sessions' own executors; they run with no lock held.
    for (const auto& subscription : to_wake) {
        subscription->wake();
    }
    return true;
}

std::shared_ptr<Subscription> BroadcastChannel::subscribe(std::function<void()> waker) {
    std::lock_guard lock(mutex_);
    if (subscribers_.size() >= options_.max_subscribers) {
        ++stats_.rejected;
        return nullptr;
    }
    auto subscription = std::make_shared<Subscription>(next_subscriber_++, options_.queue_messages,
                                                       options_.queue_bytes, std::move(waker));

    // Snapshot and terminal message are queued under the lock, so no live event slips between.
    subscription->push(snapshot_locked());
    if (state_.terminal) {
        subscription->push(*state_.terminal);
    }
    subscribers_.push_back(subscription);
    ++stats_.subscribed;
    return subscription;
}

void BroadcastChannel::unsubscribe(const std::shared_ptr<Subscription>& subscription) {
    std::lock_guard lock(mutex_);
    const auto it = std::find(subscribers_.begin(), subscribers_.end(), subscription);
    if (it != subscribers_.end()) {
        subscribers_.erase(it);
        ++stats_.unsubscribed;
    }
}

ChannelMessage BroadcastChannel::snapshot() const {
    std::lock_guard lock(mutex_);
    return snapshot_locked();
}

bool BroadcastChannel::finished() const {
    std::lock_guard lock(mutex_);
    return state_.terminal.has_value();
}

std::size_t BroadcastChannel::subscriber_count() const {
    std::lock_guard lock(mutex_);
    return subscribers_.size();
}

ChannelStats BroadcastChannel::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

bool BroadcastChannel::throttle(const core::ProgressEvent& event) {
    if (event.type != EventType::kProgress) {
        return false;
    }
    const auto now = options_.clock ? options_.clock() : std::chrono::steady_clock::now();
    const bool last_batch = event.total_batches > 0 && event.batch >= event.total_batches;
    if (!last_batch && last_progress_ && now - *last_progress_ < options_.progress_interval) {
        return true;
    }
    last_progress_ = now;
    return false;
}

void BroadcastChannel::apply(const core::ProgressEvent& event) {
    State& state = state_;
    state.epoch = event.epoch > 0 ? event.epoch : state.epoch;
    state.total_epochs = event.total_epochs > 0 ? event.total_epochs : state.total_epochs;
    state.batch = event.batch > 0 ? event.batch : state.batch;
    state.total_batches = event.total_batches > 0 ? event.total_batches : state.total_batches;
    for (const auto& [name, value] : event.metrics) {
        state.metrics[name] = value;
    }
    if (const auto loss = own_loss(event)) {
        state.loss = *loss;
    }

    // queued or running after a terminal event is a resumed job: it is live again. An
    // interrupted job ends as stopped but keeps its own status word.
    if (event.type == EventType::kStatus) {
        state.status = event.message.empty() ? state.status : event.message;
        if (state.status == "queued" || state.status == "running") {
            state.terminal.reset();
        }
    } else if (core::is_terminal(event.type)) {
        if (state.status != "interrupted") {
            state.status = status_of_terminal(event.type);
        }
    } else {
        state.status = "running";
    }
}

ChannelMessage BroadcastChannel::serialise(const core::ProgressEvent& event,
                                           std::uint64_t seq) const {
    const bool carries_state = event.type == EventType::kStatus || core::is_terminal(event.type);
    nlohmann::json metrics(event.metrics.empty() && carries_state ? state_.metrics : event.metrics);
    metrics["loss"] = own_loss(event).value_or(state_.loss);

    nlohmann::json body = {
        {"type", core::event_type_name(event.type)},
        {"job_id", job_id_},
        {"epoch", event.epoch > 0 ? event.epoch : state_.epoch},
        {"batch", event.batch > 0 ? event.batch : state_.batch},
        {"total_batches", event.total_batches > 0 ? event.total_batches : state_.total_batches},
        {"total_epochs", event.total_epochs > 0 ? event.total_epochs : state_.total_epochs},
        {"metrics", std::move(metrics)},
        {"seq", seq},
        {"timestamp", timestamp_now()},
    };
    if (event.type == EventType::kStatus) {
        body["status"] = state_.status;
    }
    if (!event.message.empty() && event.type != EventType::kStatus) {
        body["message"] = event.message;
    }
    return {event.type, seq, std::make_shared<const std::string>(body.dump())};
}

ChannelMessage BroadcastChannel::snapshot_locked() const {
    core::ProgressEvent status;
    status.type = EventType::kStatus;
    return serialise(status, seq_);
}

std::vector<std::shared_ptr<Subscription>> BroadcastChannel::deliver(
    const ChannelMessage& message) {
    std::vector<std::shared_ptr<Subscription>> to_wake;
    std::erase_if(subscribers_, [&](const std::shared_ptr<Subscription>& subscription) {
        const Subscription::PushResult pushed = subscription->push(message);
        stats_.conflated += pushed.conflated ? 1 : 0;
        if (pushed.wake) {
            to_wake.push_back(subscription);
        }
        if (pushed.overflowed) {
            ++stats_.overflowed;
            ++stats_.unsubscribed;
        }
        return pushed.overflowed;
    });
    return to_wake;
}

// ---------------------------------------------------------------------------------------------
// ChannelRegistry

ChannelRegistry::ChannelRegistry(ChannelOptions options) : options_(std::move(options)) {}

std::shared_ptr<BroadcastChannel> ChannelRegistry::get_or_create(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    auto& channel = channels_[job_id];
    if (!channel) {
        channel = std::make_shared<BroadcastChannel>(job_id, options_);
        created_order_[job_id] = next_order_++;
        prune_finished_locked();
    }
    return channel;
}

std::shared_ptr<BroadcastChannel> ChannelRegistry::find(const std::string& job_id) const {
    std::lock_guard lock(mutex_);
    const auto it = channels_.find(job_id);
    return it == channels_.end() ? nullptr : it->second;
}

bool ChannelRegistry::publish(const core::ProgressEvent& event) {
    return get_or_create(event.job_id)->publish(event);
}

std::vector<std::shared_ptr<BroadcastChannel>> ChannelRegistry::channels() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<BroadcastChannel>> out;
    out.reserve(channels_.size());
    for (const auto& [id, channel] : channels_) {
        out.push_back(channel);
    }
    return out;
}

ChannelStats ChannelRegistry::stats() const {
    ChannelStats total;
    for (const auto& channel : channels()) {
        const ChannelStats one = channel->stats();
        total.published += one.published;
        total.throttled += one.throttled;
        total.conflated += one.conflated;
        total.overflowed += one.overflowed;
        total.rejected += one.rejected;
        total.subscribed += one.subscribed;
        total.unsubscribed += one.unsubscribed;
    }
    return total;
}

void ChannelRegistry::prune_finished_locked() {
    // Oldest first; only finished channels nobody is watching may go.
    std::vector<std::pair<std::uint64_t, std::string>> idle;
    for (const auto& [id, channel] : channels_) {
        if (channel->finished() && channel->subscriber_count() == 0) {
            idle.emplace_back(created_order_[id], id);
        }
    }
    if (idle.size() <= kRetainedFinishedChannels) {
        return;
    }
    std::sort(idle.begin(), idle.end());
    for (std::size_t i = 0; i + kRetainedFinishedChannels < idle.size(); ++i) {
        channels_.erase(idle[i].second);
        created_order_.erase(idle[i].second);
    }
}

}  // namespace medfusion::jobs
