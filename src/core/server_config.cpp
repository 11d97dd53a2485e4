// Server configuration: YAML file, then MEDFUSION_* environment variables, then flags.
// Every key has one name used in all three places: `limits.max_body_bytes` in YAML is
// MEDFUSION_LIMITS_MAX_BODY_BYTES in the environment.
#include "medfusion/core/server_config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <unistd.h>

#include <yaml-cpp/yaml.h>

extern char** environ;

namespace medfusion::core {

namespace {

/// A setter parses one textual value into the config or throws ConfigError naming the key.
using Setter = std::function<void(ServerConfig&, const std::string& key, const std::string&)>;

template <typename T>
T parse_integer(const std::string& key, const std::string& text, T min, T max) {
    long long value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end) {
        throw ConfigError(key, "'" + text + "' is not an integer");
    }
    if (value < static_cast<long long>(min) || value > static_cast<long long>(max)) {
        throw ConfigError(key, "'" + text + "' must be between " + std::to_string(min) + " and " +
                                   std::to_string(max));
    }
    return static_cast<T>(value);
}

bool parse_bool(const std::string& key, const std::string& text) {
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower == "true" || lower == "yes" || lower == "1" || lower == "on") {
        return true;
    }
    if (lower == "false" || lower == "no" || lower == "0" || lower == "off") {
        return false;
    }
    throw ConfigError(key, "'" + text + "' is not a boolean");
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(',', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        if (end > start) {
            out.push_back(text.substr(start, end - start));
        }
        start = end + 1;
    }
    return out;
}

template <typename T, typename Field>
Setter integer(Field field, T min, T max) {
    return [=](ServerConfig& c, const std::string& key, const std::string& text) {
        c.*field = parse_integer<T>(key, text, min, max);
    };
}

template <typename T, typename Field>
Setter limit(Field field, T min, T max) {
    return [=](ServerConfig& c, const std::string& key, const std::string& text) {
        c.limits.*field = parse_integer<T>(key, text, min, max);
    };
}

Setter text(std::string ServerConfig::*field) {
    return [=](ServerConfig& c, const std::string&, const std::string& value) { c.*field = value; };
}

Setter log_level() {
    return [](ServerConfig& c, const std::string& key, const std::string& value) {
        static const std::vector<std::string> kLevels = {"trace", "debug", "info",
                                                         "warn",  "error", "off"};
        if (std::find(kLevels.begin(), kLevels.end(), value) == kLevels.end()) {
            throw ConfigError(key,
                              "'" + value + "' is not one of trace, debug, info, warn, error, off");
        }
        c.log_level = value;
    };
}

/// Every key the server understands, in YAML dotted form.
const std::map<std::string, Setter>& setters() {
    using L = Limits;
    static const std::map<std::string, Setter> kSetters = {
        {"host", text(&ServerConfig::host)},
        {"port", integer<std::uint16_t>(&ServerConfig::port, 0, 65535)},
        {"threads", integer<int>(&ServerConfig::threads, 1, 256)},
        {"data_dir", text(&ServerConfig::data_dir)},
        {"output_dir", text(&ServerConfig::output_dir)},
        {"data_base_dir", text(&ServerConfig::data_base_dir)},
        {"data_roots",
         [](ServerConfig& c, const std::string& key, const std::string& v) {
             c.data_roots = split_list(v);
             if (c.data_roots.empty()) {
                 throw ConfigError(key, "needs at least one folder");
             }
         }},
        {"max_concurrent_jobs", integer<int>(&ServerConfig::max_concurrent_jobs, 1, 64)},
        {"auth.token", text(&ServerConfig::auth_token)},
        {"log_level", log_level()},
        {"access_log", [](ServerConfig& c, const std::string& key,
                          const std::string& v) { c.access_log = parse_bool(key, v); }},
        {"limits.max_body_bytes", limit<std::uint64_t>(&L::max_body_bytes, 1, 1ULL << 34)},
        {"limits.max_header_bytes", limit<std::uint32_t>(&L::max_header_bytes, 512, 1u << 20)},
        {"limits.read_timeout_seconds", limit<std::uint32_t>(&L::read_timeout_seconds, 1, 86400)},
        {"limits.ws_max_message_bytes",
         limit<std::uint64_t>(&L::ws_max_message_bytes, 16, 1ULL << 30)},
        {"limits.ws_subscribers_per_job",
         limit<std::uint32_t>(&L::ws_subscribers_per_job, 1, 1000000)},
        {"limits.ws_queue_messages", limit<std::uint32_t>(&L::ws_queue_messages, 2, 1000000)},
        {"limits.ws_queue_bytes", limit<std::uint64_t>(&L::ws_queue_bytes, 1024, 1ULL << 34)},
        {"limits.max_queued_jobs", limit<std::uint32_t>(&L::max_queued_jobs, 1, 1000000)},
    };
    return kSetters;
}

void apply(ServerConfig& config, const std::string& key, const std::string& value) {
    auto it = setters().find(key);
    if (it == setters().end()) {
        throw ConfigError(key, "unknown key");
    }
    it->second(config, key, value);
}

std::string scalar_text(const YAML::Node& node, const std::string& key) {
    if (node.IsSequence()) {
        std::string joined;
        for (const auto& item : node) {
            joined += (joined.empty() ? "" : ",") + scalar_text(item, key);
        }
        return joined;
    }
    if (!node.IsScalar() && !node.IsNull()) {
        throw ConfigError(key, "must be a value, not a mapping");
    }
    return node.IsNull() ? std::string() : node.Scalar();
}

void apply_yaml(ServerConfig& config, const YAML::Node& node, const std::string& prefix) {
    for (const auto& entry : node) {
        const std::string key = prefix + entry.first.as<std::string>();
        if (entry.second.IsMap()) {
            apply_yaml(config, entry.second, key + ".");
            continue;
        }
        apply(config, key, scalar_text(entry.second, key));
    }
}

/// MEDFUSION_LIMITS_MAX_BODY_BYTES -> limits.max_body_bytes; unknown names are ignored, since
/// the environment also carries variables meant for tests and tools.
std::optional<std::string> key_for_env(const std::string& name) {
    constexpr std::string_view kPrefix = "MEDFUSION_";
    if (name.rfind(kPrefix, 0) != 0) {
        return std::nullopt;
    }
    std::string rest = name.substr(kPrefix.size());
    std::transform(rest.begin(), rest.end(), rest.begin(), ::tolower);
    for (const auto& [key, unused] : setters()) {
        std::string flat = key;
        std::replace(flat.begin(), flat.end(), '.', '_');
        if (flat == rest) {
            return key;
        }
    }
    return std::nullopt;
}

}  // namespace

ServerConfig load_server_config(const std::string& yaml_path,
                                const std::map<std::string, std::string>& env,
                                const ServerOverrides& flags) {
    ServerConfig config;

    if (!yaml_path.empty()) {
        YAML::Node root;
        try {
            root = YAML::LoadFile(yaml_path);
        } catch (const YAML::Exception& e) {
            throw ConfigError(yaml_path, std::string("cannot read config: ") + e.what());
        }
        if (root.IsDefined() && !root.IsNull()) {
            if (!root.IsMap()) {
                throw ConfigError(yaml_path, "the config file must be a mapping of keys");
            }
            apply_yaml(config, root, "");
        }
    }

    for (const auto& [name, value] : env) {
        if (auto key = key_for_env(name)) {
            apply(config, *key, value);
        }
    }

    if (flags.host) {
        apply(config, "host", *flags.host);
    }
    if (flags.port) {
        apply(config, "port", std::to_string(*flags.port));
    }
    if (flags.data_dir) {
        apply(config, "data_dir", *flags.data_dir);
    }
    if (flags.log_level) {
        apply(config, "log_level", *flags.log_level);
    }
    return config;
}

std::map<std::string, std::string> medfusion_environment() {
    std::map<std::string, std::string> out;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        std::string text(*entry);
        auto eq = text.find('=');
        if (eq != std::string::npos && text.rfind("MEDFUSION_", 0) == 0) {
            out[text.substr(0, eq)] = text.substr(eq + 1);
        }
    }
    return out;
}

}  // namespace medfusion::core
