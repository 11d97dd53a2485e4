// LrSchedule: closed-form rates for cosine, onecycle and step; plateau keeps a reduction count.
#include "lr_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace medfusion::train {
namespace {

// Cosine interpolation from `start` (pct 0) to `end` (pct 1), as PyTorch's _annealing_cos.
double anneal_cos(double start, double end, double pct) {
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
}

void check_kind(const std::string& kind) {
    if (kind != "cosine" && kind != "step" && kind != "plateau" && kind != "onecycle" &&
        kind != "none") {
        throw std::invalid_argument("unknown scheduler '" + kind +
                                    "' (cosine, step, plateau, onecycle or none)");
    }
}

}  // namespace

LrSchedule::LrSchedule(const core::TrainingConfig& config, std::int64_t steps_per_epoch)
    : kind_(config.scheduler),
      base_lr_(config.learning_rate),
      epochs_(std::max(config.epochs, 1)),
      warmup_epochs_(std::max(config.warmup_epochs, 0)),
      step_size_(std::max(config.step_size, 1)),
      gamma_(config.gamma),
      steps_per_epoch_(std::max<std::int64_t>(steps_per_epoch, 1)),
      plateau_(config.checkpoint_monitor, "auto", 0.0) {
    check_kind(kind_);
}

double LrSchedule::learning_rate(int epoch, std::int64_t batch) const {
    const std::int64_t step = static_cast<std::int64_t>(epoch - 1) * steps_per_epoch_ + batch;
    if (kind_ == "cosine") {
        return cosine(step);
    }
    if (kind_ == "onecycle") {
        return one_cycle(step);
    }
    if (kind_ == "step") {
        return base_lr_ * std::pow(gamma_, (epoch - 1) / step_size_);
    }
    if (kind_ == "plateau") {
        return base_lr_ * std::pow(gamma_, reductions_);
    }
    return base_lr_;
}

// Linear warmup over warmup_epochs (reaching the base rate on its last step), then a half
// cosine to zero over the remaining steps.
double LrSchedule::cosine(std::int64_t step) const {
    const std::int64_t warmup = static_cast<std::int64_t>(warmup_epochs_) * steps_per_epoch_;
    const std::int64_t total = static_cast<std::int64_t>(epochs_) * steps_per_epoch_;
    if (step < warmup) {
        return base_lr_ * static_cast<double>(step + 1) / static_cast<double>(warmup);
    }
    const auto span = static_cast<double>(std::max<std::int64_t>(total - warmup, 1));
    const double pct = std::min(static_cast<double>(step - warmup) / span, 1.0);
    return anneal_cos(base_lr_, 0.0, pct);
}

// PyTorch's OneCycleLR (two phases, cosine annealing) with max_lr = learning_rate.
double LrSchedule::one_cycle(std::int64_t step) const {
    const auto total = static_cast<double>(static_cast<std::int64_t>(epochs_) * steps_per_epoch_);
    const double initial = base_lr_ / kOneCycleDivFactor;
    const double final_lr = initial / kOneCycleFinalDivFactor;
    const double warm_end = kOneCyclePctStart * total - 1.0;
    const auto s = std::min(static_cast<double>(step), total - 1.0);
    if (s <= warm_end) {
        return anneal_cos(initial, base_lr_, warm_end > 0.0 ? s / warm_end : 1.0);
    }
    const double span = std::max(total - 1.0 - warm_end, 1.0);
    return anneal_cos(base_lr_, final_lr, (s - warm_end) / span);
}

void LrSchedule::on_epoch_end(int epoch, std::optional<double> monitored) {
    if (kind_ != "plateau") {
        return;
    }
    plateau_.update(epoch, monitored);
    if (plateau_.epochs_without_improvement() > kPlateauPatience) {
        ++reductions_;
        plateau_.load_state(
            {{"best", plateau_.best() ? nlohmann::json(*plateau_.best()) : nlohmann::json()},
             {"best_epoch", plateau_.best_epoch()},
             {"stale_epochs", 0}});
    }
}

nlohmann::json LrSchedule::state() const {
    return {{"scheduler", kind_}, {"plateau", plateau_.state()}, {"reductions", reductions_}};
}

void LrSchedule::load_state(const nlohmann::json& state) {
    plateau_.load_state(state.at("plateau"));
    reductions_ = state.at("reductions").get<int>();
}

}  // namespace medfusion::train
