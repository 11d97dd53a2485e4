// Drives the real HttpServer on 127.0.0.1, port 0, with a plain Beast client.
#include <utility>

#include "medfusion/server/http_server.hpp"

#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "medfusion/core/api_error.hpp"

namespace medfusion::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// Starts a server on a background thread; stops it gracefully on destruction.
class TestServer {
public:
    explicit TestServer(core::ServerConfig config = {}) {
        config.port = 0;
        config.access_log = false;
        router_.add("GET", "/api/system/health", [](const Request&) {
            return Response::json({{"status", "healthy"}});
        });
        router_.add("POST", "/api/echo", [](const Request& r) {
            return Response::json({{"received", r.json_object()}});
        });
        router_.add("GET", "/api/boom", [](const Request&) -> Response {
            throw std::runtime_error("secret internal detail");
        });
        router_.add("GET", "/api/items/{id}", [](const Request& r) {
            return Response::json({{"id", r.params.at("id")}});
        });
        server_ = std::make_unique<HttpServer>(config, router_, websockets_);
        thread_ = std::thread([this] { server_->run(); });
    }

    ~TestServer() {
        server_->request_shutdown();
        thread_.join();
    }

    std::uint16_t port() const { return server_->port(); }

private:
    Router router_;
    WebSocketRoutes websockets_;
    std::unique_ptr<HttpServer> server_;
    std::thread thread_;
};

struct Client {
    explicit Client(std::uint16_t port) : socket(io) {
        socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }

    http::response<http::string_body> request(http::verb verb, const std::string& target,
                                              const std::string& body = {},
                                              const std::string& token = {}) {
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (!token.empty()) {
            req.set(http::field::authorization, "Bearer " + token);
        }
        if (!body.empty()) {
            req.set(http::field::content_type, "application/json");
            req.body() = body;
        }
        req.prepare_payload();
        http::write(socket, req);
        return read(verb == http::verb::head);
    }

    http::response<http::string_body> read(bool head = false) {
        http::response_parser<http::string_body> parser;
        parser.skip(head);
        http::read(socket, buffer, parser);
        return parser.release();
    }

    asio::io_context io;
    tcp::socket socket;
    beast::flat_buffer buffer;
};

nlohmann::json body_of(const http::response<http::string_body>& res) {
    return nlohmann::json::parse(res.body());
}

}  // namespace

TEST(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
    TestServer server;
    Client client(server.port());
    for (int i = 0; i < 3; ++i) {
        auto res = client.request(http::verb::get, "/api/system/health");
        EXPECT_EQ(res.result_int(), 200);
        EXPECT_EQ(body_of(res).at("status"), "healthy");
        EXPECT_TRUE(res.keep_alive());
    }
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
    TestServer server;
    Client client(server.port());
    std::string batch;
    for (const char* id : {"a", "b", "c"}) {
        batch += std::string("GET /api/items/") + id + " HTTP/1.1\r\nHost: x\r\n\r\n";
    }
    asio::write(client.socket, asio::buffer(batch));
    for (const char* id : {"a", "b", "c"}) {
        EXPECT_EQ(body_of(client.read()).at("id"), id);
    }
}

TEST(HttpServerTest, NotFoundAndMethodNotAllowedUseTheEnvelope) {
    TestServer server;
    Client client(server.port());
    auto missing = client.request(http::verb::get, "/api/nope");
    EXPECT_EQ(missing.result_int(), 404);
    EXPECT_EQ(body_of(missing).at("code"), "NOT_FOUND");

    auto wrong = client.request(http::verb::delete_, "/api/system/health");
    EXPECT_EQ(wrong.result_int(), 405);
    EXPECT_EQ(body_of(wrong).at("code"), "METHOD_NOT_ALLOWED");
    EXPECT_EQ(wrong[http::field::allow], "GET, HEAD, OPTIONS");
}

TEST(HttpServerTest, HeadHasLengthButNoBodyAndOptionsListsMethods) {
    TestServer server;
    Client client(server.port());
    auto get = client.request(http::verb::get, "/api/system/health");
    auto head = client.request(http::verb::head, "/api/system/health");
    EXPECT_EQ(head.result_int(), 200);
    EXPECT_TRUE(head.body().empty());
    EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size()));

    auto options = client.request(http::verb::options, "/api/echo");
    EXPECT_EQ(options.result_int(), 204);
    EXPECT_EQ(options[http::field::allow], "POST, OPTIONS");
}

TEST(HttpServerTest, InvalidJsonIsRejectedWithItsCode) {
    TestServer server;
    Client client(server.port());
    auto res = client.request(http::verb::post, "/api/echo", "{\"config\": ");
    EXPECT_EQ(res.result_int(), 400);
    EXPECT_EQ(body_of(res).at("code"), "INVALID_JSON");
    auto ok = client.request(http::verb::post, "/api/echo", "{\"a\": [1, 2]}");
    EXPECT_EQ(body_of(ok).at("received").at("a")[1], 2);
}

TEST(HttpServerTest, UnexpectedExceptionIsA500WithoutItsDetail) {
    TestServer server;
    Client client(server.port());
    auto res = client.request(http::verb::get, "/api/boom");
    EXPECT_EQ(res.result_int(), 500);
    EXPECT_EQ(body_of(res).at("code"), "INTERNAL_ERROR");
    EXPECT_EQ(res.body().find("secret"), std::string::npos);
}

TEST(HttpServerTest, OversizedBodyIs413) {
    core::ServerConfig config;
    config.limits.max_body_bytes = 1024;
    TestServer server(config);
    Client client(server.port());
    auto res = client.request(http::verb::post, "/api/echo", std::string(4096, ' '));
    EXPECT_EQ(res.result_int(), 413);
    EXPECT_EQ(body_of(res).at("code"), "PAYLOAD_TOO_LARGE");
}

TEST(HttpServerTest, OversizedHeadersAre431) {
    core::ServerConfig config;
    config.limits.max_header_bytes = 1024;
    TestServer server(config);
    Client client(server.port());
    std::string raw =
        "GET /api/system/health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') +
        "\r\n\r\n";
    asio::write(client.socket, asio::buffer(raw));
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 431);
    EXPECT_EQ(body_of(res).at("code"), "HEADERS_TOO_LARGE");
}

TEST(HttpServerTest, MalformedRequestIs400) {
    TestServer server;
    Client client(server.port());
    asio::write(client.socket, asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 400);
    EXPECT_EQ(body_of(res).at("code"), "BAD_REQUEST");
}

TEST(HttpServerTest, TokenIsRequiredExceptOnHealth) {
    core::ServerConfig config;
    config.auth_token = "s3cret";
    TestServer server(config);
    Client client(server.port());
    EXPECT_EQ(client.request(http::verb::get, "/api/system/health").result_int(), 200);

    auto denied = client.request(http::verb::get, "/api/items/1");
    EXPECT_EQ(denied.result_int(), 401);
    EXPECT_EQ(body_of(denied).at("code"), "UNAUTHORIZED");
    EXPECT_EQ(denied[http::field::www_authenticate], "Bearer realm=\"medfusion\"");
    EXPECT_EQ(client.request(http::verb::get, "/api/items/1", "", "wrong").result_int(), 401);
    EXPECT_EQ(client.request(http::verb::get, "/api/items/1", "", "s3cret").result_int(), 200);
}

TEST(HttpServerTest, NoTokenConfiguredMeansOpenAccess) {
    TestServer server;
    Client client(server.port());
    EXPECT_EQ(client.request(http::verb::get, "/api/items/1").result_int(), 200);
}

TEST(HttpServerTest, IdleConnectionDoesNotBlockShutdown) {
    auto server = std::make_unique<TestServer>();
    Client idle(server->port());
    server.reset();  // returns only once run() has drained
    beast::error_code ec;
    char byte = 0;
    asio::read(idle.socket, asio::buffer(&byte, 1), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

}  // namespace medfusion::server
