// WebSocket upgrade routes: their own table, matched before the HTTP router. A handler takes
// over the connection (the stream and the upgrade request) and runs its own session.
#pragma once

#include <utility>  // before any Asio header: Boost 1.74 + g++ 12

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "medfusion/server/router.hpp"

namespace medfusion::server {

using UpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

/// Called on the connection's I/O thread; must not block (start a coroutine and return).
using WebSocketHandler = std::function<void(boost::beast::tcp_stream stream, UpgradeRequest request,
                                            std::map<std::string, std::string> params)>;

class WebSocketRoutes {
public:
    void add(const std::string& pattern, WebSocketHandler handler) {
        routes_.emplace_back(PathTemplate(pattern), std::move(handler));
    }

    const WebSocketHandler* match(const std::string& path,
                                  std::map<std::string, std::string>& params) const {
        for (const auto& [path_template, handler] : routes_) {
            if (path_template.match(path, params)) {
                return &handler;
            }
        }
        return nullptr;
    }

private:
    std::vector<std::pair<PathTemplate, WebSocketHandler>> routes_;
};

}  // namespace medfusion::server
