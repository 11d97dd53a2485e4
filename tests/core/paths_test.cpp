#include "medfusion/core/paths.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace medfusion::core {

namespace fs = std::filesystem;

class PathPolicyTest : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = fs::temp_directory_path() / ("medfusion_paths_" + std::to_string(::getpid()));
        fs::create_directories(base_ / "data" / "set");
        fs::create_directories(base_ / "secret");
        std::ofstream(base_ / "data" / "set" / "train.csv") << "a\n";
    }
    void TearDown() override { fs::remove_all(base_); }

    fs::path base_;
};

TEST_F(PathPolicyTest, ResolvesRelativePathsInsideRoots) {
    PathPolicy policy(base_, {"data"});
    auto resolved = policy.resolve("data/set/train.csv");
    ASSERT_TRUE(resolved.has_value());
    EXPECT_EQ(*resolved, fs::canonical(base_ / "data/set/train.csv"));
}

TEST_F(PathPolicyTest, RejectsTraversalAndAbsolutePathsOutside) {
    PathPolicy policy(base_, {"data"});
    EXPECT_FALSE(policy.resolve("data/../secret/x.csv").has_value());
    EXPECT_FALSE(policy.resolve("/etc/passwd").has_value());
    EXPECT_FALSE(policy.resolve("").has_value());
    EXPECT_FALSE(policy.resolve(std::string("data/a\0b", 8)).has_value());
}

TEST_F(PathPolicyTest, RejectsSiblingWithCommonPrefix) {
    fs::create_directories(base_ / "data2");
    PathPolicy policy(base_, {"data"});
    EXPECT_FALSE(policy.resolve("data2/x.csv").has_value());
}

TEST_F(PathPolicyTest, RejectsSymlinkEscapingTheRoot) {
    fs::create_directory_symlink(base_ / "secret", base_ / "data" / "link");
    PathPolicy policy(base_, {"data"});
    EXPECT_FALSE(policy.resolve("data/link/x.csv").has_value());
}

}  // namespace medfusion::core
