// The HTTP/1.1 + WebSocket server: one io_context run by `threads` threads, a coroutine per
// connection, a pool for blocking handlers, and graceful shutdown on SIGINT/SIGTERM.
#pragma once

#include <utility>  // before any Asio header: Boost 1.74 + g++ 12

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include "medfusion/core/server_config.hpp"
#include "medfusion/server/router.hpp"
#include "medfusion/server/websocket_routes.hpp"

namespace medfusion::server {

struct SessionState;

/// Owns the listener and every connection. Construct, add hooks, then run() on the main thread.
class HttpServer {
public:
    HttpServer(core::ServerConfig config, const Router& router, const WebSocketRoutes& websockets);
    ~HttpServer();

    /// The bound port (useful with port 0).
    std::uint16_t port() const { return port_; }

    /// Called once, on an I/O thread, when shutdown begins; must not block.
    void on_shutdown(std::function<void()> hook);

    /// Serves until SIGINT/SIGTERM or request_shutdown(), then drains and returns.
    void run();

    /// Begins a graceful shutdown; callable from any thread.
    void request_shutdown();

    bool shutting_down() const { return shutting_down_.load(); }
    boost::asio::io_context& io_context() { return io_; }
    const core::ServerConfig& config() const { return config_; }

private:
    boost::asio::awaitable<void> accept_loop();
    void begin_shutdown();

    core::ServerConfig config_;
    const Router& router_;
    const WebSocketRoutes& websockets_;
    boost::asio::io_context io_;
    boost::asio::thread_pool blocking_pool_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::signal_set signals_;
    std::uint16_t port_ = 0;
    std::atomic<bool> shutting_down_{false};
    std::atomic<std::uint64_t> next_connection_{1};

    std::mutex sessions_mutex_;
    std::vector<std::weak_ptr<SessionState>> sessions_;
    std::vector<std::function<void()>> shutdown_hooks_;

    friend class HttpSession;
};

}  // namespace medfusion::server
