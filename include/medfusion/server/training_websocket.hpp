// The training progress stream: /ws/training/{job_id} sends a job's broadcast channel to a
// WebSocket client, a status snapshot first, then live events until the terminal one.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "medfusion/core/server_config.hpp"
#include "medfusion/jobs/broadcast_channel.hpp"

namespace medfusion::server {

class HttpServer;
class WebSocketRoutes;

// How long a client may send nothing (not even a pong to our pings) before it is closed.
constexpr std::chrono::seconds kWebSocketIdleTimeout{30};
// Opening and closing handshakes must finish within this.
constexpr std::chrono::seconds kWebSocketHandshakeTimeout{5};
// After a close is decided (shutdown, queue overflow), a client that does not take the last
// frames within this loses its connection without a close handshake.
constexpr std::chrono::seconds kWebSocketCloseGrace{2};

/// What the stream needs to know of a job that has no live channel (a job finished before
/// the server started, or one not yet queued into a channel).
struct TrainingJobState {
    std::string status;  // queued, running, completed, failed, stopped, interrupted
    int epoch = 0;
    int total_epochs = 0;
    std::map<std::string, double> metrics;  // latest train_/val_ metrics
    std::string message;                    // failed jobs: the error
};

struct TrainingWebSocketDeps {
    // Built with jobs::ChannelOptions::from_limits(config.limits) so the subscriber and
    // queue limits apply.
    jobs::ChannelRegistry& channels;
    core::Limits limits;
    // nullopt for an unknown job. Called on an I/O thread: must be quick (a store read).
    std::function<std::optional<TrainingJobState>(const std::string& job_id)> lookup;
};

/// Registers /ws/training/{job_id} and a shutdown hook that sends every client a final
/// status message and closes it with 1001 (going away).
///
/// Per connection: a status snapshot, then the job's events. A finished job gets its terminal
/// message and a normal close (1000); so does every stream once its job ends. An unknown job
/// gets an error message and a 1008 close; a job already at its subscriber limit a 1013 close
/// with a reason; a client whose send queue passes its cap a 1008 close.
void add_training_websocket(WebSocketRoutes& routes, HttpServer& server,
                            TrainingWebSocketDeps deps);

}  // namespace medfusion::server
