// Path templates, route matching, target parsing and the Request/Response helpers.
#include "medfusion/server/router.hpp"

#include <algorithm>
#include <charconv>

#include "medfusion/core/api_error.hpp"

namespace medfusion::server {

using core::ApiError;
using core::ErrorCode;

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        out.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%') {
            if (i + 2 >= in.size()) {
                return false;
            }
            const int hi = hex_value(in[i + 1]);
            const int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (plus_is_space && in[i] == '+') {
            out.push_back(' ');
        } else {
            out.push_back(in[i]);
        }
    }
    return true;
}

}  // namespace

PathTemplate::PathTemplate(const std::string& pattern) : pattern_(pattern) {
    for (auto segment : split_path(pattern)) {
        segments_.emplace_back(segment);
    }
}

bool PathTemplate::match(const std::string& path,
                         std::map<std::string, std::string>& params) const {
    return match(split_path(path), params);
}

bool PathTemplate::match(const std::vector<std::string_view>& parts,
                         std::map<std::string, std::string>& params) const {
    if (parts.size() != segments_.size()) {
        return false;
    }
    std::map<std::string, std::string> found;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto& segment = segments_[i];
        if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
            if (parts[i].empty()) {
                return false;
            }
            found[segment.substr(1, segment.size() - 2)] = std::string(parts[i]);
        } else if (segment != parts[i]) {
            return false;
        }
    }
    params = std::move(found);
    return true;
}

void Router::add(std::string method, const std::string& pattern, Handler handler,
                 Execution execution) {
    routes_.push_back({std::move(method), PathTemplate(pattern), std::move(handler), execution});
}

RouteMatch Router::match(const std::string& method, const std::string& path) const {
    RouteMatch result;
    const std::string wanted = method == "HEAD" ? "GET" : method;
    const auto parts = split_path(path);
    for (const auto& route : routes_) {
        std::map<std::string, std::string> params;
        if (!route.path.match(parts, params)) {
            continue;
        }
        if (std::find(result.allowed.begin(), result.allowed.end(), route.method) ==
            result.allowed.end()) {
            result.allowed.push_back(route.method);
        }
        if (route.method == wanted && result.route == nullptr) {
            result.route = &route;
            result.params = std::move(params);
        }
    }
    if (!result.allowed.empty()) {
        if (std::find(result.allowed.begin(), result.allowed.end(), "GET") !=
            result.allowed.end()) {
            result.allowed.push_back("HEAD");
        }
        result.allowed.push_back("OPTIONS");
    }
    return result;
}

bool parse_target(const std::string& target, std::string& path,
                  std::map<std::string, std::string>& query) {
    const auto question = target.find('?');
    if (!percent_decode(std::string_view(target).substr(0, question), path, false)) {
        return false;
    }
    if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos) {
        return false;
    }
    if (question == std::string::npos) {
        return true;
    }
    std::string_view rest = std::string_view(target).substr(question + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const auto eq = pair.find('=');
        std::string key;
        std::string value;
        if (!percent_decode(pair.substr(0, eq), key, true) ||
            (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value, true))) {
            return false;
        }
        if (!key.empty()) {
            query[key] = value;
        }
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    }
    return true;
}

const std::string& Request::header(const std::string& name) const {
    static const std::string kEmpty;
    auto it = headers.find(name);
    return it == headers.end() ? kEmpty : it->second;
}

nlohmann::json Request::json_object() const {
    nlohmann::json value = nlohmann::json::parse(body, nullptr, false);
    if (value.is_discarded()) {
        throw ApiError(ErrorCode::kInvalidJson, "Request body is not valid JSON",
                       body.empty() ? "the body is empty" : "the body failed to parse");
    }
    if (!value.is_object()) {
        throw ApiError(ErrorCode::kBadRequest, "Request body must be a JSON object",
                       std::string("got ") + value.type_name());
    }
    return value;
}

long long Request::query_int(const std::string& name, long long fallback, long long min,
                             long long max) const {
    auto it = query.find(name);
    if (it == query.end()) {
        return fallback;
    }
    long long value = 0;
    const auto& text = it->second;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value < min || value > max) {
        throw ApiError(
            ErrorCode::kValidationError, "Invalid query parameter '" + name + "'",
            "must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return value;
}

Response Response::json(const nlohmann::json& value, int status) {
    Response response;
    response.status = status;
    response.body = value.dump();
    return response;
}

Response Response::html(std::string document, int status) {
    Response response;
    response.status = status;
    response.content_type = "text/html; charset=utf-8";
    response.body = std::move(document);
    return response;
}

}  // namespace medfusion::server
