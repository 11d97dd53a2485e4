// API errors: stable codes, the `{"error","code","details"}` envelope and the one mapping from
// code to HTTP status.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace medfusion::core {

enum class ErrorCode {
    kBadRequest,
    kInvalidJson,
    kValidationError,
    kPathNotAllowed,
    kUnauthorized,
    kNotFound,
    kMethodNotAllowed,
    kConflict,
    kPayloadTooLarge,
    kHeadersTooLarge,
    kTooManyRequests,
    kInternalError,
    kServiceUnavailable,
};

/// The stable string clients match on, e.g. "VALIDATION_ERROR".
std::string_view code_name(ErrorCode code);

/// The HTTP status for a code; the only place this mapping lives.
int http_status(ErrorCode code);

/// Thrown by handlers and validators; the server turns it into the error envelope.
class ApiError : public std::runtime_error {
public:
    ApiError(ErrorCode code, std::string message, nlohmann::json details);
    ApiError(ErrorCode code, std::string message, std::string details = {});
    ApiError(ErrorCode code, std::string message, const char* details)
        : ApiError(code, std::move(message), std::string(details)) {}

    ErrorCode code() const { return code_; }
    const nlohmann::json& details() const;

    /// `{"error": message, "code": CODE, "details": details}`
    nlohmann::json to_json() const;

private:
    ErrorCode code_;
    std::shared_ptr<nlohmann::json> details_;
};

}  // namespace medfusion::core
