// A value-or-error result for parsing configs and requests.
#pragma once

#include <utility>
#include <variant>

namespace medfusion::core {

template <typename T, typename E>
class Result {
public:
    Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
    Result(E error) : data_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return data_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() { return std::get<0>(data_); }
    const T& value() const { return std::get<0>(data_); }
    E& error() { return std::get<1>(data_); }
    const E& error() const { return std::get<1>(data_); }

private:
    std::variant<T, E> data_;
};

}  // namespace medfusion::core
