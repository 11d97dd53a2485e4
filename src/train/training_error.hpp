// The trainer's own error: a problem with the run (device, config, diverging loss) whose message
// is shown to the user as it is.
#pragma once

#include <stdexcept>
#include <string>

namespace medfusion::train {

/// A clear, user-facing reason why a run cannot go on.
class TrainingError : public std::runtime_error {
public:
    explicit TrainingError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace medfusion::train
