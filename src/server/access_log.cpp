// Access-log logger set-up.
#include "server/access_log.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace medfusion::server {

namespace {
constexpr std::size_t kAccessLogQueue = 8192;  // lines buffered before the oldest are dropped
}

spdlog::logger& access_logger() {
    static std::shared_ptr<spdlog::logger> logger = [] {
        spdlog::init_thread_pool(kAccessLogQueue, 1);
        auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
        auto async = std::make_shared<spdlog::async_logger>(
            "access", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::overrun_oldest);
        async->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [access] %v");
        return async;
    }();
    return *logger;
}

}  // namespace medfusion::server
