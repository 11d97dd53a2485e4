// Socket-free request and response types: what route handlers see and return. Handlers are
// plain functions from Request to Response, so they are unit-tested without a network.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace medfusion::server {

struct Request {
    std::string method;  // "GET", "POST", ...
    std::string path;    // percent-decoded, without the query
    std::map<std::string, std::string> query;
    std::map<std::string, std::string> params;   // from the path template's {names}
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::string connection_id;

    /// The header's value, or "" when absent. `name` must be lower case.
    const std::string& header(const std::string& name) const;

    /// The body as JSON; throws ApiError(INVALID_JSON) when it does not parse, and
    /// ApiError(BAD_REQUEST) when it is not an object.
    nlohmann::json json_object() const;

    /// A query parameter parsed as a non-negative integer within [min, max], or `fallback`
    /// when absent; throws ApiError(VALIDATION_ERROR) when malformed.
    long long query_int(const std::string& name, long long fallback, long long min,
                        long long max) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    static Response json(const nlohmann::json& value, int status = 200);
    static Response html(std::string document, int status = 200);
};

}  // namespace medfusion::server
