// Tests of BroadcastChannel: snapshot first, order and seq, throttling, conflation, messages
// that are never dropped, stalled and leaving subscribers, many subscribers, publisher threads.
#include "medfusion/jobs/broadcast_channel.hpp"

#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace medfusion::jobs {
namespace {

using core::EventType;
using core::ProgressEvent;
using nlohmann::json;

/// A clock the test moves by hand.
struct FakeClock {
    std::chrono::steady_clock::time_point now{};
    void advance(int millis) { now += std::chrono::milliseconds(millis); }
};

ChannelOptions options_with(FakeClock& clock) {
    ChannelOptions options;
    options.clock = [&clock] { return clock.now; };
    return options;
}

ChannelOptions unthrottled() {
    ChannelOptions options;
    options.progress_interval = std::chrono::milliseconds(0);
    return options;
}

ProgressEvent event(EventType type, int epoch, int batch = 0, int total_batches = 10,
                    std::map<std::string, double> metrics = {}) {
    ProgressEvent e;
    e.type = type;
    e.job_id = "job-1";
    e.epoch = epoch;
    e.total_epochs = 3;
    e.batch = batch;
    e.total_batches = total_batches;
    e.metrics = std::move(metrics);
    return e;
}

std::vector<json> drain(Subscription& subscription) {
    std::vector<json> out;
    while (auto next = subscription.pop_or_arm().message) {
        out.push_back(json::parse(*next->text));
    }
    return out;
}

std::vector<std::string> types_of(const std::vector<json>& messages) {
    std::vector<std::string> out;
    for (const auto& m : messages) {
        out.push_back(m["type"]);
    }
    return out;
}

TEST(BroadcastChannelTest, LateSubscriberGetsTheSnapshotFirst) {
    BroadcastChannel channel("job-1", unthrottled());
    channel.publish(event(EventType::kProgress, 2, 5, 10, {{"loss", 0.5}, {"accuracy", 0.75}}));

    auto subscription = channel.subscribe();
    const auto messages = drain(*subscription);

    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0]["type"], "status");
    EXPECT_EQ(messages[0]["status"], "running");
    EXPECT_EQ(messages[0]["job_id"], "job-1");
    EXPECT_EQ(messages[0]["epoch"], 2);
    EXPECT_EQ(messages[0]["batch"], 5);
    EXPECT_EQ(messages[0]["total_batches"], 10);
    EXPECT_EQ(messages[0]["total_epochs"], 3);
    EXPECT_DOUBLE_EQ(messages[0]["metrics"]["loss"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(messages[0]["metrics"]["accuracy"].get<double>(), 0.75);
    EXPECT_EQ(messages[0]["seq"], 1);
}

TEST(BroadcastChannelTest, SubscriberBeforeAnyEventSeesQueuedWithZeroLoss) {
    BroadcastChannel channel("job-1", {});
    auto subscription = channel.subscribe();
    const auto messages = drain(*subscription);

    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0]["status"], "queued");
    EXPECT_EQ(messages[0]["epoch"], 0);
    EXPECT_EQ(messages[0]["seq"], 0);
    EXPECT_DOUBLE_EQ(messages[0]["metrics"]["loss"].get<double>(), 0.0);
    EXPECT_TRUE(messages[0]["timestamp"].get<std::string>().ends_with("Z"));
}

TEST(BroadcastChannelTest, DeliversEventsInOrderWithIncreasingSeq) {
    BroadcastChannel channel("job-1", unthrottled());
    auto subscription = channel.subscribe();
    channel.publish(event(EventType::kProgress, 1, 10, 10, {{"loss", 0.9}}));
    channel.publish(event(EventType::kEpochEnd, 1, 0, 10, {{"train_loss", 0.8}}));
    channel.publish(event(EventType::kValidation, 1, 0, 10, {{"val_loss", 0.7}}));
    channel.publish(event(EventType::kCompleted, 1));

    const auto messages = drain(*subscription);

    EXPECT_EQ(types_of(messages), (std::vector<std::string>{"status", "progress", "epoch_end",
                                                            "validation", "completed"}));
    for (std::size_t i = 0; i < messages.size(); ++i) {
        EXPECT_EQ(messages[i]["seq"], i);
    }
}

TEST(BroadcastChannelTest, EveryMessageCarriesANumericLossAndEpoch) {
    BroadcastChannel channel("job-1", unthrottled());
    auto subscription = channel.subscribe();
    channel.publish(event(EventType::kProgress, 3, 10, 10, {{"loss", 0.9}}));
    channel.publish(event(EventType::kEpochEnd, 3, 0, 10, {{"train_loss", 0.8}}));
    channel.publish(event(EventType::kValidation, 3, 0, 10, {{"val_loss", 0.7}}));
    channel.publish(event(EventType::kCompleted, 0));

    const auto messages = drain(*subscription);

    // progress: its loss; epoch_end: train_loss; validation: val_loss; completed: the latest.
    const std::vector<double> expected = {0.0, 0.9, 0.8, 0.7, 0.7};
    ASSERT_EQ(messages.size(), expected.size());
    for (std::size_t i = 0; i < messages.size(); ++i) {
        EXPECT_DOUBLE_EQ(messages[i]["metrics"]["loss"].get<double>(), expected[i]) << i;
    }
    EXPECT_EQ(messages.back()["epoch"], 3);
}

TEST(BroadcastChannelTest, ThrottlesProgressButAlwaysSendsTheLastBatch) {
    FakeClock clock;
    BroadcastChannel channel("job-1", options_with(clock));
    auto subscription = channel.subscribe();

    // Batches every 30 ms: sent at 0, 120 and 240 ms (>= 100 ms apart) and the last batch.
    std::vector<int> sent;
    for (int batch = 1; batch <= 10; ++batch) {
        if (channel.publish(event(EventType::kProgress, 1, batch, 10, {{"loss", 1.0}}))) {
            sent.push_back(batch);
        }
        clock.advance(30);
    }

    EXPECT_EQ(sent, (std::vector<int>{1, 5, 9, 10}));
    EXPECT_EQ(channel.stats().throttled, 6u);
    EXPECT_EQ(channel.stats().published, 4u);
}

TEST(BroadcastChannelTest, ThrottledProgressStillUpdatesTheSnapshot) {
    FakeClock clock;
    BroadcastChannel channel("job-1", options_with(clock));
    channel.publish(event(EventType::kProgress, 1, 1, 10, {{"loss", 2.0}}));
    channel.publish(event(EventType::kProgress, 1, 2, 10, {{"loss", 1.5}}));

    const json snapshot = json::parse(*channel.snapshot().text);

    EXPECT_EQ(snapshot["batch"], 2);
    EXPECT_DOUBLE_EQ(snapshot["metrics"]["loss"].get<double>(), 1.5);
    EXPECT_EQ(snapshot["seq"], 1);
}

TEST(BroadcastChannelTest, ConflatesUnsentProgressForASlowSubscriber) {
    BroadcastChannel channel("job-1", unthrottled());
    auto subscription = channel.subscribe();
    for (int batch = 1; batch <= 5; ++batch) {
        channel.publish(event(EventType::kProgress, 1, batch, 10, {{"loss", 1.0}}));
    }

    const auto messages = drain(*subscription);

    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[1]["type"], "progress");
    EXPECT_EQ(messages[1]["batch"], 5);
    EXPECT_EQ(messages[1]["seq"], 5);
    EXPECT_EQ(channel.stats().conflated, 4u);
}

TEST(BroadcastChannelTest, NeverDropsEpochValidationOrTerminalMessages) {
    BroadcastChannel channel("job-1", unthrottled());
    auto subscription = channel.subscribe();
    int batch_number = 0;
    for (int epoch = 1; epoch <= 3; ++epoch) {
        for (int batch = 1; batch <= 3; ++batch) {
            channel.publish(event(EventType::kProgress, epoch, ++batch_number, 100));
        }
        channel.publish(event(EventType::kEpochEnd, epoch));
        channel.publish(event(EventType::kValidation, epoch));
    }
    channel.publish(event(EventType::kCompleted, 3));

    const auto messages = drain(*subscription);

    // Each newer progress replaces the unsent one and moves behind the epoch messages.
    EXPECT_EQ(
        types_of(messages),
        (std::vector<std::string>{"status", "epoch_end", "validation", "epoch_end", "validation",
                                  "progress", "epoch_end", "validation", "completed"}));
    EXPECT_EQ(messages[5]["batch"], 9);
    for (std::size_t i = 1; i < messages.size(); ++i) {
        EXPECT_GT(messages[i]["seq"], messages[i - 1]["seq"]);
    }
}

TEST(BroadcastChannelTest, FinishedJobGivesSnapshotThenTerminal) {
    BroadcastChannel channel("job-1", unthrottled());
    channel.publish(event(EventType::kValidation, 2, 0, 10, {{"val_loss", 0.4}}));
    channel.publish(event(EventType::kStopped, 2));

    auto subscription = channel.subscribe();
    const auto messages = drain(*subscription);

    EXPECT_TRUE(channel.finished());
    ASSERT_EQ(types_of(messages), (std::vector<std::string>{"status", "stopped"}));
    EXPECT_EQ(messages[0]["status"], "stopped");
    EXPECT_EQ(messages[1]["seq"], 2);
    EXPECT_DOUBLE_EQ(messages[1]["metrics"]["loss"].get<double>(), 0.4);
}

TEST(BroadcastChannelTest, ErrorMessageCarriesItsText) {
    BroadcastChannel channel("job-1", unthrottled());
    auto subscription = channel.subscribe();
    ProgressEvent failure = event(EventType::kError, 1);
    failure.message = "CUDA out of memory";
    channel.publish(failure);

    const auto messages = drain(*subscription);

    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[1]["type"], "error");
    EXPECT_EQ(messages[1]["message"], "CUDA out of memory");
    EXPECT_EQ(json::parse(*channel.snapshot().text)["status"], "failed");
}

TEST(BroadcastChannelTest, StatusEventAfterTerminalMakesTheJobLiveAgain) {
    BroadcastChannel channel("job-1", unthrottled());
    channel.publish(event(EventType::kStopped, 1));
    ProgressEvent queued = event(EventType::kStatus, 0);
    queued.message = "queued";
    channel.publish(queued);

    auto subscription = channel.subscribe();
    const auto messages = drain(*subscription);

    EXPECT_FALSE(channel.finished());
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0]["status"], "queued");
}

TEST(BroadcastChannelTest, ClosesAStalledSubscriberAtTheCapWhileOthersReceive) {
    ChannelOptions options = unthrottled();
    options.queue_messages = 4;
    BroadcastChannel channel("job-1", options);
    int stalled_wakes = 0;
    auto stalled = channel.subscribe([&] { ++stalled_wakes; });
    auto reader = channel.subscribe();

    // status + 3 epoch_end fill the stalled queue; the 4th epoch_end passes the cap.
    std::vector<json> received;
    for (int epoch = 1; epoch <= 5; ++epoch) {
        channel.publish(event(EventType::kEpochEnd, epoch));
        for (auto& m : drain(*reader)) {
            received.push_back(std::move(m));
        }
    }

    EXPECT_EQ(received.size(), 6u);
    EXPECT_EQ(received.back()["epoch"], 5);
    EXPECT_EQ(stalled->pop_or_arm().closed, CloseReason::kOverflow);
    EXPECT_EQ(stalled->queued_messages(), 0u);
    EXPECT_EQ(stalled_wakes, 1);
    EXPECT_EQ(channel.subscriber_count(), 1u);
    EXPECT_EQ(channel.stats().overflowed, 1u);
}

TEST(BroadcastChannelTest, ClosesASubscriberPastTheByteCap) {
    ChannelOptions options = unthrottled();
    options.queue_bytes = 1000;
    BroadcastChannel channel("job-1", options);
    auto stalled = channel.subscribe();

    // Each message is ~200 bytes: the cap is passed within a handful of epochs.
    int epoch = 0;
    while (stalled->close_reason() == CloseReason::kNone && epoch < 100) {
        channel.publish(event(EventType::kEpochEnd, ++epoch, 0, 10, {{"train_loss", 0.5}}));
    }

    const std::size_t message_bytes = channel.snapshot().text->size();
    EXPECT_EQ(stalled->close_reason(), CloseReason::kOverflow);
    EXPECT_LE(static_cast<std::size_t>(epoch - 1) * message_bytes, 1000u + message_bytes);
    EXPECT_GT(static_cast<std::size_t>(epoch + 1) * message_bytes, 1000u - message_bytes);
}

TEST(BroadcastChannelTest, SubscriberLeavingMidStreamStopsReceiving) {
    BroadcastChannel channel("job-1", unthrottled());
    auto leaving = channel.subscribe();
    auto staying = channel.subscribe();
    channel.publish(event(EventType::kEpochEnd, 1));

    channel.unsubscribe(leaving);
    channel.publish(event(EventType::kEpochEnd, 2));
    channel.publish(event(EventType::kCompleted, 2));

    EXPECT_EQ(drain(*leaving).size(), 2u);
    EXPECT_EQ(types_of(drain(*staying)),
              (std::vector<std::string>{"status", "epoch_end", "epoch_end", "completed"}));
    EXPECT_EQ(channel.subscriber_count(), 1u);
    EXPECT_EQ(channel.stats().unsubscribed, 1u);
}

TEST(BroadcastChannelTest, ManySubscribersShareOneSerialisedMessage) {
    constexpr int kSubscribers = 1000;
    BroadcastChannel channel("job-1", unthrottled());
    std::vector<std::shared_ptr<Subscription>> subscriptions;
    for (int i = 0; i < kSubscribers; ++i) {
        subscriptions.push_back(channel.subscribe());
    }
    channel.publish(event(EventType::kEpochEnd, 1));
    channel.publish(event(EventType::kValidation, 1));

    std::set<const std::string*> texts;
    for (auto& subscription : subscriptions) {
        subscription->pop_or_arm();  // the snapshot
        for (int i = 0; i < 2; ++i) {
            texts.insert(subscription->pop_or_arm().message->text.get());
        }
        EXPECT_FALSE(subscription->pop_or_arm().message.has_value());
    }

    EXPECT_EQ(texts.size(), 2u);
    EXPECT_EQ(channel.stats().subscribed, static_cast<std::uint64_t>(kSubscribers));
}

TEST(BroadcastChannelTest, RejectsSubscribersOverTheLimit) {
    ChannelOptions options;
    options.max_subscribers = 2;
    BroadcastChannel channel("job-1", options);
    auto first = channel.subscribe();
    auto second = channel.subscribe();

    EXPECT_EQ(channel.subscribe(), nullptr);
    EXPECT_EQ(channel.stats().rejected, 1u);

    channel.unsubscribe(first);
    EXPECT_NE(channel.subscribe(), nullptr);
}

TEST(BroadcastChannelTest, WakesAnArmedSubscriberOnceWithoutHoldingTheLock) {
    BroadcastChannel channel("job-1", unthrottled());
    int wakes = 0;
    std::size_t seen_subscribers = 0;

    // The waker calls back into the channel: this would deadlock if it ran under the lock.
    auto subscription = channel.subscribe([&] {
        ++wakes;
        seen_subscribers = channel.subscriber_count();
    });
    drain(*subscription);
    channel.publish(event(EventType::kEpochEnd, 1));
    channel.publish(event(EventType::kEpochEnd, 2));

    EXPECT_EQ(wakes, 1);
    EXPECT_EQ(seen_subscribers, 1u);
    EXPECT_EQ(drain(*subscription).size(), 2u);
}

TEST(BroadcastChannelTest, ConcurrentPublishersKeepEachSubscriberInSeqOrder) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 250;
    ChannelOptions options = unthrottled();
    options.queue_messages = kThreads * kPerThread + 1;
    BroadcastChannel channel("job-1", options);
    auto subscription = channel.subscribe();

    std::vector<std::uint64_t> seqs;
    std::thread reader([&] {
        while (seqs.size() < static_cast<std::size_t>(kThreads * kPerThread + 1)) {
            if (auto next = subscription->pop_or_arm().message) {
                seqs.push_back(next->seq);
            } else {
                std::this_thread::yield();
            }
        }
    });
    std::vector<std::thread> publishers;
    for (int t = 0; t < kThreads; ++t) {
        publishers.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                channel.publish(event(EventType::kEpochEnd, t * kPerThread + i + 1));
            }
        });
    }
    for (auto& publisher : publishers) {
        publisher.join();
    }
    reader.join();

    ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kThreads * kPerThread + 1));
    for (std::size_t i = 0; i < seqs.size(); ++i) {
        EXPECT_EQ(seqs[i], i);
    }
}

}  // namespace
}  // namespace medfusion::jobs
