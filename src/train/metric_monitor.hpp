// Tracks the best value of one validation metric: the best checkpoint, early stopping and the
// plateau schedule all ask it whether an epoch improved. Torch-free.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace medfusion::train {

/// Best-so-far of a metric under a direction. Not thread-safe; the training thread owns it.
class MetricMonitor {
public:
    /// `mode` is min, max or auto (min for names ending in "loss", max otherwise). An
    /// improvement must beat the best by more than `min_delta`.
    MetricMonitor(std::string metric, const std::string& mode, double min_delta);

    /// Records an epoch's value; true when it improved. A missing or NaN value never improves.
    bool update(int epoch, std::optional<double> value);

    const std::string& metric() const { return metric_; }
    bool minimizes() const { return minimize_; }
    std::optional<double> best() const { return best_; }
    int best_epoch() const { return best_epoch_; }
    int epochs_without_improvement() const { return stale_epochs_; }

    nlohmann::json state() const;
    void load_state(const nlohmann::json& state);

private:
    std::string metric_;
    bool minimize_;
    double min_delta_;
    std::optional<double> best_;
    int best_epoch_ = 0;
    int stale_epochs_ = 0;
};

}  // namespace medfusion::train
