// Listener, per-connection HTTP sessions and graceful shutdown.
#include <utility>  // before any Asio header: Boost 1.74 + g++ 12

#include "medfusion/server/http_server.hpp"

#include <array>
#include <chrono>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include "medfusion/core/api_error.hpp"
#include "server/access_log.hpp"

namespace medfusion::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using core::ApiError;
using core::ErrorCode;

constexpr auto kDrainTime = std::chrono::seconds(3);   // lingering close after a 413
constexpr std::uint64_t kMaxDrainBytes = 64ULL << 20;  // bytes discarded at most meanwhile

/// What the server needs to know about a live connection to shut it down politely.
struct SessionState {
    explicit SessionState(beast::tcp_stream& s) : stream(s) {}
    beast::tcp_stream& stream;
    bool busy = false;  // touched only on the connection's strand
};

namespace {

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

/// Compares in time independent of where the strings first differ.
bool constant_time_equal(const std::string& a, const std::string& b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const std::size_t n = std::max(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? a[i] : 0;
        const unsigned char y = i < b.size() ? b[i] : 0;
        diff |= static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

Response error_response(const ApiError& error) {
    return Response::json(error.to_json(), core::http_status(error.code()));
}

bool needs_auth(const std::string& path) {
    return path.rfind("/api/", 0) == 0 && path != "/api/system/health";
}

}  // namespace

bool authorized(const core::ServerConfig& config, const std::string& authorization) {
    if (config.auth_token.empty()) {
        return true;
    }
    constexpr std::string_view kBearer = "Bearer ";
    // The scheme is case-insensitive (RFC 7235); the token is not.
    if (authorization.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                    [](char a, char b) { return ::tolower(a) == ::tolower(b); })) {
        return false;
    }
    return constant_time_equal(authorization.substr(kBearer.size()), config.auth_token);
}

/// One HTTP connection: reads requests one at a time, answers each in order (so pipelined
/// requests queue in the read buffer, bounded by the header and body limits), hands WebSocket
/// upgrades to their route.
class HttpSession {
public:
    HttpSession(HttpServer& server, tcp::socket socket, std::string id)
        : server_(server),
          stream_(std::move(socket)),
          id_(std::move(id)),
          state_(std::make_shared<SessionState>(stream_)) {}

    std::shared_ptr<SessionState> state() const { return state_; }

    asio::awaitable<void> run() {
        const auto& limits = server_.config().limits;
        beast::flat_buffer buffer;
        for (std::uint32_t served = 0;; ++served) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(limits.max_header_bytes);
            parser.body_limit(limits.max_body_bytes);

            // Idle keep-alive connections and slow clients both end at the read timeout.
            stream_.expires_after(std::chrono::seconds(limits.read_timeout_seconds));
            beast::error_code ec;
            co_await http::async_read_header(stream_, buffer, parser,
                                             asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                co_await fail_read(ec);
                co_return;
            }
            state_->busy = true;
            const auto started = std::chrono::steady_clock::now();

            if (beast::websocket::is_upgrade(parser.get())) {
                co_await hand_over_websocket(parser.release());
                co_return;
            }
            if (parser.get()[http::field::expect] == "100-continue") {
                http::response<http::empty_body> cont{http::status::continue_, 11};
                co_await http::async_write(stream_, cont,
                                           asio::redirect_error(asio::use_awaitable, ec));
            }
            co_await http::async_read(stream_, buffer, parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                co_await fail_read(ec);
                co_return;
            }

            HttpRequest request = parser.release();
            Response response = co_await dispatch(request);
            const bool keep_alive = request.keep_alive() && !server_.shutting_down();
            const std::size_t bytes = co_await write(request, response, keep_alive, ec);
            log_access(request, response.status, bytes, started);
            state_->busy = false;
            if (ec || !keep_alive) {
                break;
            }
        }
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

private:
    /// Closed sockets, timeouts and cancellation are normal ends; limits get their status.
    asio::awaitable<void> fail_read(const beast::error_code& ec) {
        if (ec == http::error::body_limit) {
            co_await send_error(ApiError(
                ErrorCode::kPayloadTooLarge, "Request body too large",
                "limit is " + std::to_string(server_.config().limits.max_body_bytes) + " bytes"));
            co_await drain_and_close();
            co_return;
        } else if (ec == http::error::header_limit) {
            co_await send_error(ApiError(
                ErrorCode::kHeadersTooLarge, "Request header fields too large",
                "limit is " + std::to_string(server_.config().limits.max_header_bytes) + " bytes"));
            co_await drain_and_close();
            co_return;
        } else if (&ec.category() == &make_error_code(http::error::end_of_stream).category() &&
                   ec != http::error::end_of_stream && ec != http::error::partial_message) {
            co_await send_error(
                ApiError(ErrorCode::kBadRequest, "Malformed HTTP request", ec.message()));
        }
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    }

    /// After refusing a body, read and discard what the client is still sending for a short
    /// while, so that it reads our answer instead of a reset ("lingering close").
    asio::awaitable<void> drain_and_close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(kDrainTime);
        std::array<char, 16384> sink{};
        for (std::uint64_t drained = 0; !ec && drained < kMaxDrainBytes;) {
            drained += co_await stream_.async_read_some(
                asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
        }
        stream_.socket().close(ec);
    }

    asio::awaitable<void> send_error(const ApiError& error) {
        spdlog::warn("conn={} rejected code={} detail={}", id_, core::code_name(error.code()),
                     error.details().dump());
        HttpResponse res{static_cast<http::status>(core::http_status(error.code())), 11};
        res.set(http::field::server, "medfusion");
        res.set(http::field::content_type, "application/json");
        res.keep_alive(false);
        res.body() = error.to_json().dump();
        res.prepare_payload();
        beast::error_code ec;
        stream_.expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream_, res, asio::redirect_error(asio::use_awaitable, ec));
    }

    asio::awaitable<void> hand_over_websocket(HttpRequest request) {
        Request probe = to_request(request);
        std::map<std::string, std::string> params;
        const WebSocketHandler* handler = server_.websockets_.match(probe.path, params);
        if (handler == nullptr) {
            co_await send_error(ApiError(ErrorCode::kNotFound, "No WebSocket route", probe.path));
            co_return;
        }
        if (!authorized(server_.config(), probe.header("authorization"))) {
            co_await send_error(ApiError(ErrorCode::kUnauthorized, "Missing or invalid token",
                                         "send Authorization: Bearer <token>"));
            co_return;
        }
        stream_.expires_never();
        (*handler)(std::move(stream_), std::move(request), std::move(params));
    }

    Request to_request(const HttpRequest& raw) const {
        Request request;
        request.method = std::string(raw.method_string());
        request.connection_id = id_;
        if (!parse_target(std::string(raw.target()), request.path, request.query)) {
            request.path.clear();
        }
        for (const auto& field : raw) {
            std::string name(field.name_string());
            std::transform(name.begin(), name.end(), name.begin(), ::tolower);
            request.headers[name] = std::string(field.value());
        }
        return request;
    }

    asio::awaitable<Response> dispatch(HttpRequest& raw) {
        Request request = to_request(raw);
        request.body = std::move(raw.body());
        if (request.path.empty()) {
            co_return error_response(
                ApiError(ErrorCode::kBadRequest, "Malformed request target", "bad percent-escape"));
        }
        if (needs_auth(request.path) &&
            !authorized(server_.config(), request.header("authorization"))) {
            Response response =
                error_response(ApiError(ErrorCode::kUnauthorized, "Missing or invalid token",
                                        "send Authorization: Bearer <token>"));
            response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"medfusion\"");
            co_return response;
        }

        RouteMatch match = server_.router_.match(request.method, request.path);
        if (request.method == "OPTIONS" && !match.allowed.empty()) {
            Response response;
            response.status = 204;
            response.content_type.clear();
            response.headers.emplace_back("Allow", join_methods(match.allowed));
            co_return response;
        }
        if (match.route == nullptr) {
            co_return not_routed(request, match);
        }
        request.params = std::move(match.params);
        const Route* route = match.route;
        if (route->execution == Execution::kInline) {
            co_return invoke(*route, request);
        }
        co_return co_await asio::co_spawn(
            server_.blocking_pool_,
            [this, route, &request]() -> asio::awaitable<Response> {
                co_return invoke(*route, request);
            },
            asio::use_awaitable);
    }

    static std::string join_methods(const std::vector<std::string>& methods) {
        std::string out;
        for (const auto& m : methods) {
            out += (out.empty() ? "" : ", ") + m;
        }
        return out;
    }

    Response not_routed(const Request& request, const RouteMatch& match) const {
        if (match.allowed.empty()) {
            return error_response(
                ApiError(ErrorCode::kNotFound, "Not found", "no route for " + request.path));
        }
        Response response =
            error_response(ApiError(ErrorCode::kMethodNotAllowed, "Method not allowed",
                                    request.method + " is not allowed on " + request.path));
        response.headers.emplace_back("Allow", join_methods(match.allowed));
        return response;
    }

    Response invoke(const Route& route, const Request& request) const {
        try {
            return route.handler(request);
        } catch (const ApiError& error) {
            return error_response(error);
        } catch (const std::exception& e) {
            spdlog::error("conn={} method={} path={} internal error: {}", id_, request.method,
                          request.path, e.what());
            return error_response(
                ApiError(ErrorCode::kInternalError, "Internal server error", "see the server log"));
        }
    }

    asio::awaitable<std::size_t> write(const HttpRequest& request, Response& response,
                                       bool keep_alive, beast::error_code& ec) {
        HttpResponse res{static_cast<http::status>(response.status), request.version()};
        res.set(http::field::server, "medfusion");
        if (!response.content_type.empty()) {
            res.set(http::field::content_type, response.content_type);
        }
        for (const auto& [name, value] : response.headers) {
            res.set(name, value);
        }
        res.keep_alive(keep_alive);
        const std::size_t length = response.body.size();
        if (request.method() != http::verb::head) {
            res.body() = std::move(response.body);
        }
        res.content_length(length);

        stream_.expires_after(std::chrono::seconds(server_.config().limits.read_timeout_seconds));
        co_await http::async_write(stream_, res, asio::redirect_error(asio::use_awaitable, ec));
        co_return length;
    }

    void log_access(const HttpRequest& request, int status, std::size_t bytes,
                    std::chrono::steady_clock::time_point started) const {
        if (!server_.config().access_log) {
            return;
        }
        const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
        access_logger().info("conn={} method={} path={} status={} bytes={} duration_ms={:.3f}", id_,
                             std::string(request.method_string()), std::string(request.target()),
                             status, bytes, static_cast<double>(micros) / 1000.0);
    }

    HttpServer& server_;
    beast::tcp_stream stream_;
    std::string id_;
    std::shared_ptr<SessionState> state_;
};

HttpServer::HttpServer(core::ServerConfig config, const Router& router,
                       const WebSocketRoutes& websockets)
    : config_(std::move(config)),
      router_(router),
      websockets_(websockets),
      blocking_pool_(std::max(2u, std::thread::hardware_concurrency())),
      acceptor_(io_),
      signals_(io_, SIGINT, SIGTERM) {
    const tcp::endpoint endpoint(asio::ip::make_address(config_.host), config_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
}

HttpServer::~HttpServer() {
    blocking_pool_.join();
}

void HttpServer::on_shutdown(std::function<void()> hook) {
    shutdown_hooks_.push_back(std::move(hook));
}

void HttpServer::run() {
    signals_.async_wait([this](const beast::error_code& ec, int signal) {
        if (!ec) {
            spdlog::info("signal={} shutting down", signal);
            begin_shutdown();
        }
    });
    asio::co_spawn(io_, accept_loop(), asio::detached);
    spdlog::info("listening host={} port={} threads={}", config_.host, port_, config_.threads);

    std::vector<std::thread> extra;
    for (int i = 1; i < config_.threads; ++i) {
        extra.emplace_back([this] { io_.run(); });
    }
    io_.run();
    for (auto& thread : extra) {
        thread.join();
    }
    blocking_pool_.join();
    spdlog::info("server stopped");
}

void HttpServer::request_shutdown() {
    asio::post(io_, [this] { begin_shutdown(); });
}

void HttpServer::begin_shutdown() {
    if (shutting_down_.exchange(true)) {
        return;
    }
    beast::error_code ignored;
    acceptor_.close(ignored);
    signals_.cancel(ignored);
    for (auto& hook : shutdown_hooks_) {
        hook();
    }

    // Idle connections are closed now; busy ones finish their response, then close.
    std::lock_guard lock(sessions_mutex_);
    for (auto& weak : sessions_) {
        if (auto state = weak.lock()) {
            asio::post(state->stream.get_executor(), [state] {
                if (!state->busy) {
                    state->stream.cancel();
                }
            });
        }
    }
}

asio::awaitable<void> HttpServer::accept_loop() {
    for (;;) {
        beast::error_code ec;
        tcp::socket socket(asio::make_strand(io_));
        co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (shutting_down_) {
                co_return;
            }
            spdlog::warn("accept failed: {}", ec.message());
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);

        auto id = "c" + std::to_string(next_connection_++);
        auto session = std::make_shared<HttpSession>(*this, std::move(socket), std::move(id));
        {
            std::lock_guard lock(sessions_mutex_);
            std::erase_if(sessions_, [](const auto& weak) { return weak.expired(); });
            sessions_.push_back(session->state());
        }
        auto executor = session->state()->stream.get_executor();
        asio::co_spawn(
            executor, [session]() -> asio::awaitable<void> { co_await session->run(); },
            asio::detached);
    }
}

}  // namespace medfusion::server
