// Tests of ChannelRegistry: one channel per job, publishing through it, pruning finished ones.
#include <gtest/gtest.h>

#include "medfusion/jobs/broadcast_channel.hpp"

namespace medfusion::jobs {
namespace {

core::ProgressEvent completed(const std::string& job_id) {
    core::ProgressEvent event;
    event.type = core::EventType::kCompleted;
    event.job_id = job_id;
    return event;
}

TEST(ChannelRegistryTest, GetOrCreateReturnsOneChannelPerJob) {
    ChannelRegistry registry;

    auto first = registry.get_or_create("a");
    EXPECT_EQ(registry.get_or_create("a"), first);
    EXPECT_EQ(registry.find("a"), first);
    EXPECT_EQ(registry.find("b"), nullptr);
    EXPECT_EQ(first->job_id(), "a");
}

TEST(ChannelRegistryTest, PublishCreatesTheChannelAndCountsIt) {
    ChannelRegistry registry;
    registry.publish(completed("a"));
    registry.publish(completed("b"));

    ASSERT_NE(registry.find("a"), nullptr);
    EXPECT_TRUE(registry.find("a")->finished());
    EXPECT_EQ(registry.stats().published, 2u);
}

TEST(ChannelRegistryTest, OptionsFromLimitsCarryTheQueueCaps) {
    core::Limits limits;
    limits.ws_queue_messages = 7;
    limits.ws_queue_bytes = 4096;
    limits.ws_subscribers_per_job = 3;

    const ChannelOptions options = ChannelOptions::from_limits(limits);

    EXPECT_EQ(options.queue_messages, 7u);
    EXPECT_EQ(options.queue_bytes, 4096u);
    EXPECT_EQ(options.max_subscribers, 3u);
    EXPECT_EQ(options.progress_interval, kProgressInterval);
}

TEST(ChannelRegistryTest, ForgetsTheOldestFinishedChannelsBeyondTheRetention) {
    ChannelRegistry registry;
    constexpr int kJobs = 300;
    for (int i = 0; i < kJobs; ++i) {
        registry.publish(completed("job-" + std::to_string(i)));
    }

    // Creating job 299 pruned jobs 0..298 (all finished) down to the newest 256: 43..298.
    EXPECT_EQ(registry.channels().size(), kRetainedFinishedChannels + 1);
    EXPECT_EQ(registry.find("job-42"), nullptr);
    EXPECT_NE(registry.find("job-43"), nullptr);
    EXPECT_NE(registry.find("job-299"), nullptr);
}

TEST(ChannelRegistryTest, KeepsFinishedChannelsThatHaveSubscribers) {
    ChannelRegistry registry;
    registry.publish(completed("watched"));
    auto subscription = registry.find("watched")->subscribe();
    for (int i = 0; i < 300; ++i) {
        registry.publish(completed("job-" + std::to_string(i)));
    }

    EXPECT_NE(registry.find("watched"), nullptr);
}

}  // namespace
}  // namespace medfusion::jobs
