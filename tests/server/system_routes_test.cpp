#include "medfusion/server/system_routes.hpp"

#include <sys/statvfs.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace medfusion::server {

namespace {

Response call(const Router& router, const std::string& method, const std::string& path) {
    auto match = router.match(method, path);
    EXPECT_NE(match.route, nullptr) << path;
    Request request;
    request.method = method;
    request.path = path;
    return match.route->handler(request);
}

SystemRoutesDeps deps_for(const std::string& output_dir) {
    SystemRoutesDeps deps;
    deps.config.output_dir = output_dir;
    deps.medfusion_version = "9.9.9";
    deps.torch_version = "1.13.1";
    deps.job_counts = [] { return std::pair<int, int>{1, 3}; };
    return deps;
}

}  // namespace

TEST(SystemRoutesTest, HealthIsHealthyWithTimestamp) {
    Router router;
    add_system_routes(router, deps_for("/tmp"));
    auto body = nlohmann::json::parse(call(router, "GET", "/api/system/health").body);
    EXPECT_EQ(body.at("status"), "healthy");
    EXPECT_EQ(body.at("timestamp").get<std::string>().size(), 20u);
}

TEST(SystemRoutesTest, InfoDiskFiguresEqualStatvfs) {
    const auto body = system_info_json(deps_for("/tmp"));
    struct statvfs stats {};
    ASSERT_EQ(statvfs("/tmp", &stats), 0);
    const auto total = static_cast<std::uint64_t>(stats.f_blocks) * stats.f_frsize;
    EXPECT_EQ(body.at("disk").at("total_bytes").get<std::uint64_t>(), total);
    // free space moves while the test runs; allow a few MB of drift.
    const auto free_bytes = static_cast<double>(stats.f_bavail) * stats.f_frsize;
    EXPECT_NEAR(body.at("disk").at("free_bytes").get<double>(), free_bytes, 64.0 * (1 << 20));
    EXPECT_TRUE(body.at("disk").at("total").is_string());
}

TEST(SystemRoutesTest, InfoHasTheContractShapeAndExtras) {
    const auto body = system_info_json(deps_for("/tmp/does/not/exist/yet"));
    EXPECT_TRUE(body.at("gpu").at("available").is_boolean());
    EXPECT_EQ(body.at("gpu").at("count"), body.at("gpu").at("devices").size());
    EXPECT_TRUE(body.at("python_version").is_null());
    EXPECT_EQ(body.at("pytorch_version"), "1.13.1");
    EXPECT_EQ(body.at("medfusion_version"), "9.9.9");
    EXPECT_EQ(body.at("jobs").at("running"), 1);
    EXPECT_EQ(body.at("jobs").at("queued"), 3);
    EXPECT_GT(body.at("cpu").at("cores").get<int>(), 0);
    EXPECT_GT(body.at("memory").at("total_bytes").get<std::uint64_t>(), 0u);
    // A missing output folder reports the filesystem that will hold it.
    EXPECT_EQ(body.at("disk").at("path"), "/tmp");
}

TEST(SystemRoutesTest, ReadyFailsWhenStoreIsClosed) {
    Router router;
    auto deps = deps_for((std::filesystem::temp_directory_path() / "mf_ready").string());
    deps.store_ready = [] { return false; };
    add_system_routes(router, deps);
    auto response = call(router, "GET", "/api/system/ready");
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(nlohmann::json::parse(response.body).at("checks").at("store"), false);
}

TEST(SystemRoutesTest, ReadyWhenStoreOpenAndOutputWritable) {
    Router router;
    auto deps = deps_for((std::filesystem::temp_directory_path() / "mf_ready_ok").string());
    deps.store_ready = [] { return true; };
    add_system_routes(router, deps);
    EXPECT_EQ(call(router, "GET", "/api/system/ready").status, 200);
}

}  // namespace medfusion::server
