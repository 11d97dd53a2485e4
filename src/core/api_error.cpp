// Error codes, their HTTP statuses and the error envelope.
#include "medfusion/core/api_error.hpp"

#include <nlohmann/json.hpp>

namespace medfusion::core {

namespace {

struct CodeInfo {
    std::string_view name;
    int status;
};

CodeInfo info(ErrorCode code) {
    switch (code) {
        case ErrorCode::kBadRequest:
            return {"BAD_REQUEST", 400};
        case ErrorCode::kInvalidJson:
            return {"INVALID_JSON", 400};
        case ErrorCode::kValidationError:
            return {"VALIDATION_ERROR", 400};
        case ErrorCode::kPathNotAllowed:
            return {"PATH_NOT_ALLOWED", 400};
        case ErrorCode::kUnauthorized:
            return {"UNAUTHORIZED", 401};
        case ErrorCode::kNotFound:
            return {"NOT_FOUND", 404};
        case ErrorCode::kMethodNotAllowed:
            return {"METHOD_NOT_ALLOWED", 405};
        case ErrorCode::kConflict:
            return {"CONFLICT", 409};
        case ErrorCode::kPayloadTooLarge:
            return {"PAYLOAD_TOO_LARGE", 413};
        case ErrorCode::kHeadersTooLarge:
            return {"HEADERS_TOO_LARGE", 431};
        case ErrorCode::kTooManyRequests:
            return {"TOO_MANY_REQUESTS", 429};
        case ErrorCode::kServiceUnavailable:
            return {"SERVICE_UNAVAILABLE", 503};
        case ErrorCode::kInternalError:
            break;
    }
    return {"INTERNAL_ERROR", 500};
}

}  // namespace

std::string_view code_name(ErrorCode code) {
    return info(code).name;
}

int http_status(ErrorCode code) {
    return info(code).status;
}

ApiError::ApiError(ErrorCode code, std::string message, nlohmann::json details)
    : std::runtime_error(std::move(message)),
      code_(code),
      details_(std::make_shared<nlohmann::json>(std::move(details))) {}

ApiError::ApiError(ErrorCode code, std::string message, std::string details)
    : ApiError(code, std::move(message), nlohmann::json(std::move(details))) {}

const nlohmann::json& ApiError::details() const {
    return *details_;
}

nlohmann::json ApiError::to_json() const {
    return {{"error", what()}, {"code", code_name(code_)}, {"details", *details_}};
}

}  // namespace medfusion::core
