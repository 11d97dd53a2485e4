// `medfusion watch JOB_ID`: follows a training job's WebSocket stream and prints each message
// as a readable line (or as raw JSON).
#pragma once

#include <iosfwd>
#include <string>

namespace medfusion::app {

/// Exit codes of `medfusion watch`.
constexpr int kWatchCompleted = 0;
constexpr int kWatchFailed = 1;  // the job failed, or the stream ended without a job outcome
constexpr int kWatchStopped = 2;

/// Connects to `url` (ws://host:port or http://host:port) at /ws/training/{job_id}, sending
/// `token` as a bearer token when not empty, and prints the stream to stdout until the job's
/// terminal message. Errors go to stderr. Returns 0 on completed, 2 on stopped, 1 on error,
/// an unknown job, a refused or lost connection, or a server shutdown.
int run_watch(const std::string& job_id, const std::string& url, const std::string& token,
              bool json);

/// The same, printing to `out` and `err`.
int run_watch(const std::string& job_id, const std::string& url, const std::string& token,
              bool json, std::ostream& out, std::ostream& err);

}  // namespace medfusion::app
