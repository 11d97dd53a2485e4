#include "medfusion/core/api_error.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace medfusion::core {

TEST(ApiErrorTest, EnvelopeHasErrorCodeAndDetails) {
    ApiError error(ErrorCode::kValidationError, "Invalid config",
                   nlohmann::json::array({{{"path", "training.epochs"}}}));
    const auto body = error.to_json();
    EXPECT_EQ(body.at("error"), "Invalid config");
    EXPECT_EQ(body.at("code"), "VALIDATION_ERROR");
    EXPECT_EQ(body.at("details")[0].at("path"), "training.epochs");
    EXPECT_EQ(body.size(), 3u);
}

TEST(ApiErrorTest, MapsEachCodeToItsStatus) {
    const std::vector<std::tuple<ErrorCode, int, std::string>> expected = {
        {ErrorCode::kBadRequest, 400, "BAD_REQUEST"},
        {ErrorCode::kInvalidJson, 400, "INVALID_JSON"},
        {ErrorCode::kValidationError, 400, "VALIDATION_ERROR"},
        {ErrorCode::kPathNotAllowed, 400, "PATH_NOT_ALLOWED"},
        {ErrorCode::kUnauthorized, 401, "UNAUTHORIZED"},
        {ErrorCode::kNotFound, 404, "NOT_FOUND"},
        {ErrorCode::kMethodNotAllowed, 405, "METHOD_NOT_ALLOWED"},
        {ErrorCode::kConflict, 409, "CONFLICT"},
        {ErrorCode::kPayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"},
        {ErrorCode::kTooManyRequests, 429, "TOO_MANY_REQUESTS"},
        {ErrorCode::kHeadersTooLarge, 431, "HEADERS_TOO_LARGE"},
        {ErrorCode::kInternalError, 500, "INTERNAL_ERROR"},
        {ErrorCode::kServiceUnavailable, 503, "SERVICE_UNAVAILABLE"},
    };
    for (const auto& [code, status, name] : expected) {
        EXPECT_EQ(http_status(code), status) << name;
        EXPECT_EQ(code_name(code), name);
    }
}

}  // namespace medfusion::core
