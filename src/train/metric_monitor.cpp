// MetricMonitor: best value, its epoch and the count of epochs since it last improved.
#include "metric_monitor.hpp"

#include <cmath>
#include <stdexcept>

namespace medfusion::train {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool minimizes_in_mode(const std::string& metric, const std::string& mode) {
    if (mode == "min") {
        return true;
    }
    if (mode == "max") {
        return false;
    }
    if (mode == "auto") {
        return ends_with(metric, "loss");
    }
    throw std::invalid_argument("unknown monitor mode '" + mode + "' (min, max or auto)");
}

}  // namespace

MetricMonitor::MetricMonitor(std::string metric, const std::string& mode, double min_delta)
    : metric_(std::move(metric)),
      minimize_(minimizes_in_mode(metric_, mode)),
      min_delta_(min_delta) {}

bool MetricMonitor::update(int epoch, std::optional<double> value) {
    const bool valid = value.has_value() && std::isfinite(*value);
    const bool improved =
        valid &&
        (!best_ || (minimize_ ? *value < *best_ - min_delta_ : *value > *best_ + min_delta_));
    if (!improved) {
        ++stale_epochs_;
        return false;
    }
    best_ = *value;
    best_epoch_ = epoch;
    stale_epochs_ = 0;
    return true;
}

nlohmann::json MetricMonitor::state() const {
    return {{"metric", metric_},
            {"best", best_ ? nlohmann::json(*best_) : nlohmann::json()},
            {"best_epoch", best_epoch_},
            {"stale_epochs", stale_epochs_}};
}

void MetricMonitor::load_state(const nlohmann::json& state) {
    const auto& best = state.at("best");
    best_ = best.is_null() ? std::nullopt : std::optional<double>(best.get<double>());
    best_epoch_ = state.at("best_epoch").get<int>();
    stale_epochs_ = state.at("stale_epochs").get<int>();
}

}  // namespace medfusion::train
