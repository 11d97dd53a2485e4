// The server's configuration: configs/server.yaml, then MEDFUSION_<KEY> environment variables,
// then command-line flags, each overriding the one before.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace medfusion::core {

/// Every input has a limit; each is a named key under `limits:` with the default given here.
struct Limits {
    std::uint64_t max_body_bytes = 1 << 20;          // request body; over it: 413
    std::uint32_t max_header_bytes = 16 * 1024;      // request line + headers; over it: 431
    std::uint32_t read_timeout_seconds = 30;         // idle keep-alive or slow request
    std::uint64_t ws_max_message_bytes = 64 * 1024;  // inbound WebSocket message
    std::uint32_t ws_subscribers_per_job = 2000;     // WebSocket clients on one job
    std::uint32_t ws_queue_messages = 64;            // unsent messages per WebSocket session
    std::uint64_t ws_queue_bytes = 1 << 20;          // unsent bytes per WebSocket session
    std::uint32_t max_queued_jobs = 100;             // jobs waiting for a worker
};

struct ServerConfig {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;
    int threads = 1;  // I/O threads
    std::string data_dir = "./medfusion-data";
    std::string output_dir = "./outputs";
    std::string data_base_dir = ".";  // relative data paths resolve against this
    std::vector<std::string> data_roots = {"."};
    Limits limits;
    int max_concurrent_jobs = 1;
    std::string auth_token;  // empty: no auth
    std::string log_level = "info";
    bool access_log = true;
};

/// Values given on the command line; unset ones leave the file/env value alone.
struct ServerOverrides {
    std::optional<std::string> host;
    std::optional<int> port;
    std::optional<std::string> data_dir;
    std::optional<std::string> log_level;
};

/// Loads the config: the YAML file (optional: empty path means defaults), then the environment
/// `env` (MEDFUSION_PORT, MEDFUSION_LIMITS_MAX_BODY_BYTES, MEDFUSION_AUTH_TOKEN, ...), then the
/// flags. Throws ConfigError naming the offending key on any bad file or value.
ServerConfig load_server_config(const std::string& yaml_path,
                                const std::map<std::string, std::string>& env,
                                const ServerOverrides& flags);

/// The process environment as a map (only MEDFUSION_* keys).
std::map<std::string, std::string> medfusion_environment();

class ConfigError : public std::runtime_error {
public:
    ConfigError(const std::string& key, const std::string& message)
        : std::runtime_error(key + ": " + message), key_(key) {}
    const std::string& key() const { return key_; }

private:
    std::string key_;
};

}  // namespace medfusion::core
