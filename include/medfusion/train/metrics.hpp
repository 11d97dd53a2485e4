// Classification metrics for an evaluation: scikit-learn-compatible scores, curves for plotting,
// calibration bins and seeded bootstrap confidence intervals. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace medfusion::train {

/// Knobs of compute_metrics. The defaults are what evaluation uses.
struct MetricsOptions {
    int bootstrap_resamples = 1000;     // 0 turns the confidence intervals off (nulls)
    std::uint64_t bootstrap_seed = 42;  // same seed and inputs give the same intervals
    int ece_bins = 10;                  // equal-width confidence bins, (lower, upper]
    bool include_curves = true;         // roc_curves, macro_roc_curve and pr_curves
};

/// Computes every evaluation metric of one set of predictions.
///
/// `labels[i]` is in [0, K); `probabilities[i]` has K entries summing to about 1; K ==
/// `class_names.size()` >= 2. The predicted class is the first argmax of each row. Throws
/// std::invalid_argument on empty or inconsistent inputs. Pure function; any thread.
///
/// Conventions (each equal to scikit-learn 1.2 on the same predictions):
/// - Binary (K == 2): `auc`, `average_precision`, `f1_score` are those of class 1;
///   `auc_weighted` equals `auc`. Multiclass: `auc` / `auc_weighted` are one-vs-rest macro /
///   prevalence-weighted, `average_precision` is macro and `f1_score` is macro F1.
/// - Ranking metrics (AUC, average precision) skip classes absent from `labels` (sklearn
///   refuses them); their per-class values are null. A class present in every sample has a
///   null AUC too.
/// - Label metrics (`precision`, `recall`, `specificity`, `f1_macro`, `f1_weighted`, `kappa`)
///   average over the classes that occur in labels or predictions, 0 where a ratio is 0/0 —
///   sklearn's default. `balanced_accuracy` averages recall over classes present in labels.
/// - `brier_score`: binary is sklearn's brier_score_loss on class 1, mean (p1 - y)^2;
///   multiclass is mean over samples of sum_k (p_k - y_k)^2.
/// - `log_loss` clips at machine epsilon and renormalises rows, as sklearn does.
/// - `ece`: top-label expected calibration error over `ece_bins` bins of (lower, upper].
/// - `confidence_intervals`: percentile 2.5 / 97.5 (linear interpolation, as numpy) over
///   bootstrap resamples drawn with splitmix64; resamples where a metric is undefined are
///   skipped.
/// Undefined values are JSON null.
nlohmann::json compute_metrics(const std::vector<std::int64_t>& labels,
                               const std::vector<std::vector<double>>& probabilities,
                               const std::vector<std::string>& class_names,
                               const MetricsOptions& options = {});

/// `metrics` without the plotting data (roc_curves, macro_roc_curve, pr_curves): the scalars,
/// tables and intervals, small enough for an API response or a registry row.
nlohmann::json metrics_without_curves(const nlohmann::json& metrics);

}  // namespace medfusion::train
