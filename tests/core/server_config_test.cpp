#include "medfusion/core/server_config.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace medfusion::core {

namespace {

std::string write_yaml(const std::string& name, const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() / name;
    std::ofstream(path) << text;
    return path.string();
}

}  // namespace

TEST(ServerConfigTest, DefaultsMatchTheDocumentedValues) {
    const auto config = load_server_config("", {}, {});
    EXPECT_EQ(config.host, "127.0.0.1");
    EXPECT_EQ(config.port, 8000);
    EXPECT_EQ(config.threads, 1);
    EXPECT_EQ(config.limits.max_body_bytes, 1u << 20);
    EXPECT_EQ(config.max_concurrent_jobs, 1);
    EXPECT_TRUE(config.auth_token.empty());
}

TEST(ServerConfigTest, TheShippedConfigFileLoadsWithItsDefaults) {
    const char* source = std::getenv("MEDFUSION_SOURCE_DIR");
    ASSERT_NE(source, nullptr);
    const auto config = load_server_config(std::string(source) + "/configs/server.yaml", {}, {});
    const auto defaults = load_server_config("", {}, {});
    EXPECT_EQ(config.port, defaults.port);
    EXPECT_EQ(config.limits.max_body_bytes, defaults.limits.max_body_bytes);
    EXPECT_EQ(config.limits.ws_queue_messages, defaults.limits.ws_queue_messages);
}

TEST(ServerConfigTest, EnvironmentOverridesFileAndFlagsOverrideBoth) {
    const auto path = write_yaml("mf_cfg_1.yaml", "port: 9000\nlimits:\n  max_body_bytes: 2048\n");
    auto config = load_server_config(path, {}, {});
    EXPECT_EQ(config.port, 9000);
    EXPECT_EQ(config.limits.max_body_bytes, 2048u);

    config = load_server_config(
        path, {{"MEDFUSION_PORT", "9100"}, {"MEDFUSION_LIMITS_MAX_BODY_BYTES", "4096"}}, {});
    EXPECT_EQ(config.port, 9100);
    EXPECT_EQ(config.limits.max_body_bytes, 4096u);

    ServerOverrides flags;
    flags.port = 9200;
    config = load_server_config(path, {{"MEDFUSION_PORT", "9100"}}, flags);
    EXPECT_EQ(config.port, 9200);
}

TEST(ServerConfigTest, AuthTokenFromEnvironment) {
    const auto config = load_server_config("", {{"MEDFUSION_AUTH_TOKEN", "s3cret"}}, {});
    EXPECT_EQ(config.auth_token, "s3cret");
}

TEST(ServerConfigTest, DataRootsFromYamlList) {
    const auto path = write_yaml("mf_cfg_2.yaml", "data_roots: [/data/a, /data/b]\n");
    const auto config = load_server_config(path, {}, {});
    EXPECT_EQ(config.data_roots, (std::vector<std::string>{"/data/a", "/data/b"}));
}

TEST(ServerConfigTest, BadValuesNameTheKey) {
    const auto path = write_yaml("mf_cfg_3.yaml", "port: eighty\n");
    try {
        load_server_config(path, {}, {});
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.key(), "port");
    }
    try {
        load_server_config("", {{"MEDFUSION_LIMITS_MAX_BODY_BYTES", "-5"}}, {});
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.key(), "limits.max_body_bytes");
    }
    const auto unknown = write_yaml("mf_cfg_4.yaml", "limits:\n  max_bodyy: 3\n");
    try {
        load_server_config(unknown, {}, {});
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.key(), "limits.max_bodyy");
    }
    EXPECT_THROW(load_server_config("", {{"MEDFUSION_LOG_LEVEL", "loud"}}, {}), ConfigError);
}

TEST(ServerConfigTest, UnreadableFileIsAnError) {
    EXPECT_THROW(load_server_config("/nonexistent/server.yaml", {}, {}), ConfigError);
    const auto broken = write_yaml("mf_cfg_5.yaml", "port: [1,\n");
    EXPECT_THROW(load_server_config(broken, {}, {}), ConfigError);
}

}  // namespace medfusion::core
