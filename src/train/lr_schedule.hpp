// Learning-rate schedules of `training.scheduler`: cosine with warmup and onecycle per batch,
// step and plateau per epoch. Pure arithmetic, torch-free, so checkpoints can carry its state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "medfusion/core/job_config.hpp"
#include "metric_monitor.hpp"

namespace medfusion::train {

// Epochs without improvement of the monitored metric before plateau lowers the rate.
inline constexpr int kPlateauPatience = 3;
// onecycle's shape, PyTorch OneCycleLR's defaults.
inline constexpr double kOneCyclePctStart = 0.3;
inline constexpr double kOneCycleDivFactor = 25.0;
inline constexpr double kOneCycleFinalDivFactor = 1e4;

/// The learning rate of every optimisation step, as the config asks. `plateau` follows
/// `training.checkpoint_monitor` and multiplies the rate by `gamma` after kPlateauPatience
/// epochs without improvement (PyTorch's ReduceLROnPlateau with threshold 0).
class LrSchedule {
public:
    /// Throws std::invalid_argument for an unknown scheduler name.
    LrSchedule(const core::TrainingConfig& config, std::int64_t steps_per_epoch);

    /// The rate for batch `batch` (0-based) of epoch `epoch` (1-based).
    double learning_rate(int epoch, std::int64_t batch) const;

    /// Reports an epoch's monitored value (plateau only; others ignore it).
    void on_epoch_end(int epoch, std::optional<double> monitored);

    nlohmann::json state() const;
    void load_state(const nlohmann::json& state);

private:
    double cosine(std::int64_t step) const;
    double one_cycle(std::int64_t step) const;

    std::string kind_;
    double base_lr_;
    int epochs_;
    int warmup_epochs_;
    int step_size_;
    double gamma_;
    std::int64_t steps_per_epoch_;
    MetricMonitor plateau_;
    int reductions_ = 0;
};

}  // namespace medfusion::train
