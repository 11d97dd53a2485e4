// Names of event types.
#include "medfusion/core/events.hpp"

namespace medfusion::core {

const char* event_type_name(EventType type) {
    switch (type) {
        case EventType::kProgress:
            return "progress";
        case EventType::kEpochEnd:
            return "epoch_end";
        case EventType::kValidation:
            return "validation";
        case EventType::kCompleted:
            return "completed";
        case EventType::kError:
            return "error";
        case EventType::kStopped:
            return "stopped";
        case EventType::kStatus:
            return "status";
    }
    return "status";
}

bool is_terminal(EventType type) {
    return type == EventType::kCompleted || type == EventType::kError ||
           type == EventType::kStopped;
}

}  // namespace medfusion::core
