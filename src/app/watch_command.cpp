// The `medfusion watch` client: a blocking Beast WebSocket client that prints a job's stream.
#include <utility>  // before any Asio header: Boost 1.74 + g++ 12

#include "app/watch_command.hpp"

#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace medfusion::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

struct Endpoint {
    std::string host;
    std::string port;
    std::string prefix;  // a path the server is mounted under, without the trailing slash
};

/// "ws://host:port/prefix" or "http://...": TLS schemes are not supported.
std::optional<Endpoint> parse_url(const std::string& url) {
    const auto scheme_end = url.find("://");
    const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
    if (scheme != "ws" && scheme != "http") {
        return std::nullopt;
    }
    std::string rest = url.substr(scheme_end + 3);
    Endpoint endpoint;
    const auto slash = rest.find('/');
    if (slash != std::string::npos) {
        endpoint.prefix = rest.substr(slash);
        rest.resize(slash);
        while (!endpoint.prefix.empty() && endpoint.prefix.back() == '/') {
            endpoint.prefix.pop_back();
        }
    }
    const auto colon = rest.rfind(':');
    endpoint.host = colon == std::string::npos ? rest : rest.substr(0, colon);
    endpoint.port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
    if (endpoint.host.empty() || endpoint.port.empty()) {
        return std::nullopt;
    }
    return endpoint;
}

std::string fixed4(double value) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.4f", value);
    return text;
}

/// "loss=0.2340 accuracy=0.8920", loss first.
std::string metrics_text(const json& metrics) {
    std::string out;
    if (metrics.contains("loss") && metrics["loss"].is_number()) {
        out = "loss=" + fixed4(metrics["loss"].get<double>());
    }
    for (const auto& [name, value] : metrics.items()) {
        if (name != "loss" && value.is_number()) {
            out += (out.empty() ? "" : " ") + name + "=" + fixed4(value.get<double>());
        }
    }
    return out;
}

std::string epoch_text(const json& m) {
    std::string text = "epoch " + std::to_string(m.value("epoch", 0));
    if (m.value("total_epochs", 0) > 0) {
        text += "/" + std::to_string(m.value("total_epochs", 0));
    }
    return text;
}

/// One readable line per message.
std::string readable(const json& m) {
    const std::string type = m.value("type", "");
    const std::string metrics = metrics_text(m.value("metrics", json::object()));
    const std::string batch = "batch " + std::to_string(m.value("batch", 0)) + "/" +
                              std::to_string(m.value("total_batches", 0));
    if (type == "progress") {
        return epoch_text(m) + " " + batch + " " + metrics;
    }
    if (type == "epoch_end") {
        return epoch_text(m) + " done: " + metrics;
    }
    if (type == "validation") {
        return epoch_text(m) + " validation: " + metrics;
    }
    if (type == "status") {
        return "status " + m.value("status", std::string("unknown")) + ": " + epoch_text(m) + " " +
               batch + " " + metrics;
    }
    const std::string message = m.value("message", std::string());
    return type + ": " + epoch_text(m) + " " + metrics +
           (message.empty() ? "" : " (" + message + ")");
}

int exit_code_of(const std::string& type) {
    if (type == "completed") {
        return kWatchCompleted;
    }
    return type == "stopped" ? kWatchStopped : kWatchFailed;
}

/// Reads and prints until the terminal message or the close; returns the exit code.
int follow(websocket::stream<tcp::socket>& ws, bool raw, std::ostream& out, std::ostream& err) {
    std::optional<int> outcome;
    for (;;) {
        beast::flat_buffer buffer;
        beast::error_code ec;
        ws.read(buffer, ec);
        if (ec) {
            break;
        }
        const std::string text = beast::buffers_to_string(buffer.data());
        const json message = json::parse(text, nullptr, false);
        out << (raw || message.is_discarded() ? text : readable(message)) << std::endl;
        const std::string type = message.is_object() ? message.value("type", "") : "";
        if (type == "completed" || type == "stopped" || type == "error") {
            outcome = exit_code_of(type);
        }
    }
    if (outcome) {
        return *outcome;
    }
    const websocket::close_reason reason = ws.reason();
    err << "watch: the stream ended before the job did (close " << reason.code
        << (reason.reason.empty() ? "" : ": " + std::string(reason.reason.c_str())) << ")"
        << std::endl;
    return kWatchFailed;
}

}  // namespace

int run_watch(const std::string& job_id, const std::string& url, const std::string& token,
              bool raw) {
    return run_watch(job_id, url, token, raw, std::cout, std::cerr);
}

int run_watch(const std::string& job_id, const std::string& url, const std::string& token, bool raw,
              std::ostream& out, std::ostream& err) {
    const std::optional<Endpoint> endpoint = parse_url(url);
    if (!endpoint) {
        err << "watch: unsupported URL '" << url << "' (use ws://host:port or http://host:port)"
            << std::endl;
        return kWatchFailed;
    }
    try {
        asio::io_context io;
        tcp::resolver resolver(io);
        websocket::stream<tcp::socket> ws(io);
        asio::connect(ws.next_layer(), resolver.resolve(endpoint->host, endpoint->port));

        // Send the token on the upgrade request; keep the server's answer to explain a refusal.
        ws.set_option(websocket::stream_base::decorator([&token](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, "medfusion-watch");
            if (!token.empty()) {
                req.set(beast::http::field::authorization, "Bearer " + token);
            }
        }));
        beast::error_code ec;
        ws.handshake(endpoint->host + ":" + endpoint->port,
                     endpoint->prefix + "/ws/training/" + job_id, ec);
        if (ec) {
            err << "watch: the server refused the stream (" << ec.message()
                << "); check the job id and --token" << std::endl;
            return kWatchFailed;
        }
        return follow(ws, raw, out, err);
    } catch (const std::exception& error) {
        err << "watch: cannot reach " << url << ": " << error.what() << std::endl;
        return kWatchFailed;
    }
}

}  // namespace medfusion::app
