// Routes requests by method and path template ("/api/training/{job_id}/status"). A path that
// matches no template is 404; one that matches with another method is 405 with `Allow`.
// Built once at start-up, then read-only: safe to share between I/O threads.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medfusion/server/http_types.hpp"

namespace medfusion::server {

using Handler = std::function<Response(const Request&)>;

/// Where a handler runs: on the I/O thread (fast, never blocks), or on the blocking pool
/// (anything that may take more than a few milliseconds: disk scans, checkpoints, evaluation).
enum class Execution { kInline, kBlocking };

/// A path template split into literal and `{param}` segments.
class PathTemplate {
public:
    explicit PathTemplate(const std::string& pattern);

    /// Fills `params` and returns true when `path` matches.
    bool match(const std::string& path, std::map<std::string, std::string>& params) const;

    /// The same for a path already split into segments (the router splits once per request).
    bool match(const std::vector<std::string_view>& parts,
               std::map<std::string, std::string>& params) const;
    const std::string& pattern() const { return pattern_; }

private:
    std::string pattern_;
    std::vector<std::string> segments_;  // "{name}" marks a parameter
};

struct Route {
    std::string method;
    PathTemplate path;
    Handler handler;
    Execution execution = Execution::kInline;
};

struct RouteMatch {
    const Route* route = nullptr;  // null: 404 or 405
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  // methods the path accepts; empty: 404
};

class Router {
public:
    void add(std::string method, const std::string& pattern, Handler handler,
             Execution execution = Execution::kInline);

    /// HEAD falls back to GET; the caller drops the body.
    RouteMatch match(const std::string& method, const std::string& path) const;

private:
    std::vector<Route> routes_;
};

/// Splits "/a/b?x=1&y=%20" into a decoded path and query map; false on malformed escapes.
bool parse_target(const std::string& target, std::string& path,
                  std::map<std::string, std::string>& query);

}  // namespace medfusion::server
