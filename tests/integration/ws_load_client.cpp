// A load client for the training stream benchmark: N WebSocket clients (plus K that never
// read) on one job of ws_test_server; starts the job once all are connected and reports the
// publish-to-receipt latency of every message, as JSON on stdout.
//
//   ws_load_client --port P --job J --clients N [--stalled K] [--epochs E] [--batches B]
//                  [--batch-ms M]
#include <utility>  // before any Asio header: Boost 1.74 + g++ 12

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto kAwait = asio::use_awaitable;

struct Options {
    std::string port;
    std::string job = "bench";
    int clients = 1000;
    int stalled = 1;
    int epochs = 20;
    int batches = 10;
    int batch_ms = 50;
};

/// What every reading client saw; touched only on the single I/O thread.
struct Results {
    std::vector<double> latencies_ms;
    std::map<int, int> close_codes;
    int completed = 0;
    std::uint64_t messages = 0;
    int min_messages = -1;
    int max_messages = 0;
};

double unix_seconds_now() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration<double>(now).count();
}

/// The publish time the scripted job put in metrics, without a full JSON parse.
double publish_time_of(const std::string& text) {
    const auto at = text.find("\"publish_time\":");
    return at == std::string::npos ? 0.0 : std::strtod(text.c_str() + at + 15, nullptr);
}

asio::awaitable<void> read_client(const Options& options, Results& results,
                                  std::atomic<int>& finished) {
    auto executor = co_await asio::this_coro::executor;
    websocket::stream<tcp::socket> ws(executor);
    beast::error_code ec;
    co_await ws.next_layer().async_connect(
        {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(options.port))},
        asio::redirect_error(kAwait, ec));
    if (!ec) {
        co_await ws.async_handshake("127.0.0.1", "/ws/training/" + options.job,
                                    asio::redirect_error(kAwait, ec));
    }
    int count = 0;
    beast::flat_buffer buffer;
    while (!ec) {
        co_await ws.async_read(buffer, asio::redirect_error(kAwait, ec));
        if (ec) {
            break;
        }
        const std::string text = beast::buffers_to_string(buffer.data());
        buffer.consume(buffer.size());
        ++count;
        if (const double sent = publish_time_of(text); sent > 0) {
            results.latencies_ms.push_back((unix_seconds_now() - sent) * 1000.0);
        }
        results.completed += text.find("\"type\":\"completed\"") != std::string::npos ? 1 : 0;
    }
    ++results.close_codes[ws.reason().code];
    results.messages += count;
    results.min_messages = results.min_messages < 0 ? count : std::min(results.min_messages, count);
    results.max_messages = std::max(results.max_messages, count);
    ++finished;
}

/// Connects with a tiny receive buffer, upgrades, then never reads again.
asio::awaitable<void> stalled_client(const Options& options, std::atomic<bool>& done,
                                     int& closed_by_server) {
    auto executor = co_await asio::this_coro::executor;
    websocket::stream<tcp::socket> ws(executor);
    ws.next_layer().open(tcp::v4());
    ws.next_layer().set_option(asio::socket_base::receive_buffer_size(4096));
    beast::error_code ec;
    co_await ws.next_layer().async_connect(
        {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(options.port))},
        asio::redirect_error(kAwait, ec));
    co_await ws.async_handshake("127.0.0.1", "/ws/training/" + options.job,
                                asio::redirect_error(kAwait, ec));
    asio::steady_timer timer(executor);
    while (!done) {
        timer.expires_after(std::chrono::milliseconds(100));
        co_await timer.async_wait(asio::redirect_error(kAwait, ec));
    }

    // Drain what the kernel holds: a closed connection ends in EOF or a reset.
    std::vector<char> sink(1 << 16);
    auto& socket = ws.next_layer();
    for (;;) {
        timer.expires_after(std::chrono::seconds(1));
        timer.async_wait([&socket](const beast::error_code& e) {
            if (!e) {
                socket.cancel();
            }
        });
        co_await socket.async_read_some(asio::buffer(sink), asio::redirect_error(kAwait, ec));
        timer.cancel();
        if (ec) {
            closed_by_server += ec != asio::error::operation_aborted ? 1 : 0;
            co_return;
        }
    }
}

void start_job(const Options& options) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(std::stoi(options.port))));
    http::request<http::string_body> request{http::verb::post, "/api/test/jobs", 11};
    request.set(http::field::host, "127.0.0.1");
    request.set(http::field::content_type, "application/json");
    request.body() = nlohmann::json{{"job_id", options.job},
                                    {"epochs", options.epochs},
                                    {"batches", options.batches},
                                    {"batch_ms", options.batch_ms},
                                    {"wait_for_subscribers", options.clients + options.stalled}}
                         .dump();
    request.prepare_payload();
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
}

double percentile(std::vector<double>& values, double p) {
    if (values.empty()) {
        return 0.0;
    }
    const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + rank, values.end());
    return values[rank];
}

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--port") {
            options.port = value;
        } else if (flag == "--job") {
            options.job = value;
        } else if (flag == "--clients") {
            options.clients = std::stoi(value);
        } else if (flag == "--stalled") {
            options.stalled = std::stoi(value);
        } else if (flag == "--epochs") {
            options.epochs = std::stoi(value);
        } else if (flag == "--batches") {
            options.batches = std::stoi(value);
        } else if (flag == "--batch-ms") {
            options.batch_ms = std::stoi(value);
        }
    }
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parse(argc, argv);
    asio::io_context io(1);
    Results results;
    std::atomic<int> finished{0};
    std::atomic<bool> done{false};
    int stalled_closed = 0;

    // The job starts once every client (stalled ones included) has subscribed.
    start_job(options);
    for (int i = 0; i < options.stalled; ++i) {
        asio::co_spawn(io, stalled_client(options, done, stalled_closed), asio::detached);
    }
    for (int i = 0; i < options.clients; ++i) {
        asio::co_spawn(io, read_client(options, results, finished), asio::detached);
    }
    std::thread io_thread([&io] { io.run(); });
    while (finished < options.clients) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    done = true;
    io_thread.join();

    nlohmann::json report = {
        {"clients", options.clients},
        {"stalled", options.stalled},
        {"messages", results.messages},
        {"min_messages_per_client", results.min_messages},
        {"max_messages_per_client", results.max_messages},
        {"completed", results.completed},
        {"stalled_closed_by_server", stalled_closed},
        {"latency_ms",
         {{"p50", percentile(results.latencies_ms, 50)},
          {"p90", percentile(results.latencies_ms, 90)},
          {"p99", percentile(results.latencies_ms, 99)},
          {"max", percentile(results.latencies_ms, 100)}}},
    };
    for (const auto& [code, count] : results.close_codes) {
        report["close_codes"][std::to_string(code)] = count;
    }
    std::cout << report.dump() << std::endl;
    return results.completed == options.clients ? 0 : 1;
}
