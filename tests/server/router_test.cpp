#include "medfusion/server/router.hpp"

#include <gtest/gtest.h>

#include "medfusion/core/api_error.hpp"

namespace medfusion::server {

namespace {

Handler reply(const std::string& text) {
    return [text](const Request& r) {
        nlohmann::json body = {{"handler", text}, {"params", r.params}};
        return Response::json(body);
    };
}

Router make_router() {
    Router router;
    router.add("GET", "/api/training/jobs", reply("jobs"));
    router.add("GET", "/api/training/{job_id}/status", reply("status"));
    router.add("POST", "/api/training/{job_id}/stop", reply("stop"));
    router.add("POST", "/api/training/start", reply("start"));
    return router;
}

}  // namespace

TEST(RouterTest, ExtractsTemplateParameters) {
    const auto router = make_router();
    auto match = router.match("GET", "/api/training/abc-123/status");
    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.params.at("job_id"), "abc-123");
}

TEST(RouterTest, LiteralRouteIsNotTakenForAParameter) {
    const auto router = make_router();
    auto match = router.match("GET", "/api/training/jobs");
    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.route->path.pattern(), "/api/training/jobs");
}

TEST(RouterTest, UnknownPathIsNotFoundWithNoAllowedMethods) {
    const auto router = make_router();
    auto match = router.match("GET", "/api/nothing");
    EXPECT_EQ(match.route, nullptr);
    EXPECT_TRUE(match.allowed.empty());
    EXPECT_EQ(router.match("GET", "/api/training//status").route, nullptr);
    EXPECT_EQ(router.match("GET", "/api/training/x/status/extra").route, nullptr);
}

TEST(RouterTest, WrongMethodListsTheAllowedOnes) {
    const auto router = make_router();
    auto match = router.match("DELETE", "/api/training/start");
    EXPECT_EQ(match.route, nullptr);
    EXPECT_EQ(match.allowed, (std::vector<std::string>{"POST", "OPTIONS"}));
}

TEST(RouterTest, HeadFallsBackToGet) {
    const auto router = make_router();
    auto match = router.match("HEAD", "/api/training/jobs");
    ASSERT_NE(match.route, nullptr);
    EXPECT_EQ(match.route->method, "GET");
    EXPECT_EQ(match.allowed, (std::vector<std::string>{"GET", "HEAD", "OPTIONS"}));
}

TEST(RouterTest, ParsesTargetWithPercentEscapesAndQuery) {
    std::string path;
    std::map<std::string, std::string> query;
    ASSERT_TRUE(parse_target("/api/models?limit=5&architecture=resnet%2050&x", path, query));
    EXPECT_EQ(path, "/api/models");
    EXPECT_EQ(query.at("limit"), "5");
    EXPECT_EQ(query.at("architecture"), "resnet 50");
    EXPECT_EQ(query.at("x"), "");
    EXPECT_FALSE(parse_target("/api/%zz", path, query));
    EXPECT_FALSE(parse_target("/api/%2", path, query));
    EXPECT_FALSE(parse_target("relative", path, query));
}

TEST(RequestTest, QueryIntValidatesRange) {
    Request request;
    request.query = {{"limit", "20"}, {"offset", "-1"}, {"tail", "abc"}};
    EXPECT_EQ(request.query_int("limit", 50, 1, 1000), 20);
    EXPECT_EQ(request.query_int("missing", 50, 1, 1000), 50);
    EXPECT_THROW(request.query_int("offset", 0, 0, 1000), core::ApiError);
    EXPECT_THROW(request.query_int("tail", 0, 0, 1000), core::ApiError);
}

TEST(RequestTest, JsonObjectRejectsInvalidAndNonObjectBodies) {
    Request request;
    request.body = "{\"a\": 1";
    try {
        request.json_object();
        FAIL();
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.code(), core::ErrorCode::kInvalidJson);
    }
    request.body = "[1,2]";
    try {
        request.json_object();
        FAIL();
    } catch (const core::ApiError& e) {
        EXPECT_EQ(e.code(), core::ErrorCode::kBadRequest);
    }
    request.body = "{\"a\": 1}";
    EXPECT_EQ(request.json_object().at("a"), 1);
}

}  // namespace medfusion::server
