// The one error type of the data component: a clear, user-facing message about the input.
#pragma once

#include <stdexcept>
#include <string>

namespace medfusion::data {

/// A problem with the user's data (CSV shape, labels, images). The message names the file and
/// the row so the user can fix the input; it is safe to show to API clients.
class DataError : public std::runtime_error {
public:
    explicit DataError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace medfusion::data
