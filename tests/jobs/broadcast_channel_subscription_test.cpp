// Tests of Subscription: arming the waker, closing, and the first close reason winning.
#include <gtest/gtest.h>

#include "medfusion/jobs/broadcast_channel.hpp"

namespace medfusion::jobs {
namespace {

core::ProgressEvent epoch_end(int epoch) {
    core::ProgressEvent event;
    event.type = core::EventType::kEpochEnd;
    event.job_id = "job-1";
    event.epoch = epoch;
    return event;
}

TEST(SubscriptionTest, PopArmsTheWakerOnlyWhenTheQueueIsEmpty) {
    BroadcastChannel channel("job-1", {});
    int wakes = 0;
    auto subscription = channel.subscribe([&] { ++wakes; });

    // The snapshot is queued: not armed, so a push does not wake.
    channel.publish(epoch_end(1));
    EXPECT_EQ(wakes, 0);

    EXPECT_TRUE(subscription->pop_or_arm().message.has_value());
    EXPECT_TRUE(subscription->pop_or_arm().message.has_value());
    EXPECT_FALSE(subscription->pop_or_arm().message.has_value());
    channel.publish(epoch_end(2));
    EXPECT_EQ(wakes, 1);
}

TEST(SubscriptionTest, CloseDiscardsTheQueueAndWakes) {
    BroadcastChannel channel("job-1", {});
    int wakes = 0;
    auto subscription = channel.subscribe([&] { ++wakes; });
    channel.publish(epoch_end(1));

    subscription->close(CloseReason::kGoingAway);
    subscription->close(CloseReason::kOverflow);

    const Subscription::Next next = subscription->pop_or_arm();
    EXPECT_FALSE(next.message.has_value());
    EXPECT_EQ(next.closed, CloseReason::kGoingAway);
    EXPECT_EQ(subscription->queued_bytes(), 0u);
    EXPECT_EQ(wakes, 1);
}

TEST(SubscriptionTest, QueuedBytesCountEveryUnsentMessage) {
    BroadcastChannel channel("job-1", {});
    auto subscription = channel.subscribe();
    const std::uint64_t snapshot_bytes = subscription->queued_bytes();
    channel.publish(epoch_end(1));

    const std::uint64_t both = subscription->queued_bytes();
    const Subscription::Next first = subscription->pop_or_arm();

    ASSERT_TRUE(first.message.has_value());
    EXPECT_EQ(first.message->text->size(), snapshot_bytes);
    EXPECT_EQ(subscription->queued_bytes(), both - snapshot_bytes);
    EXPECT_EQ(subscription->queued_messages(), 1u);
}

}  // namespace
}  // namespace medfusion::jobs
