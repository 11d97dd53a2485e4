#include "medfusion/core/clock.hpp"

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace medfusion::core {

TEST(ClockTest, Iso8601IsUtcWithSeconds) {
    // 2026-03-15T10:30:00Z is 1773570600 seconds after the epoch.
    const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1773570600));
    EXPECT_EQ(iso8601(when), "2026-03-15T10:30:00Z");
}

TEST(ClockTest, UuidsAreVersion4AndDistinct) {
    const std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto id = new_uuid();
        EXPECT_TRUE(std::regex_match(id, shape)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(ClockTest, HumanBytesMatchesTheContractStyle) {
    EXPECT_EQ(human_bytes(24ULL << 30), "24GB");
    EXPECT_EQ(human_bytes(1ULL << 40), "1.0TB");
    EXPECT_EQ(human_bytes(450ULL << 30), "450GB");
    EXPECT_EQ(human_bytes(512), "512B");
    EXPECT_EQ(human_bytes(1536ULL << 20), "1.5GB");
}

}  // namespace medfusion::core
