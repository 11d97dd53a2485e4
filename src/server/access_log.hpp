// The access log: one line per request, written through a bounded asynchronous queue so that
// logging never stalls an I/O thread (when the queue is full the oldest lines are dropped).
#pragma once

#include <spdlog/logger.h>

namespace medfusion::server {

spdlog::logger& access_logger();

}  // namespace medfusion::server
