// Classification metrics equal to scikit-learn's on the same predictions, plus the curves,
// calibration bins and bootstrap intervals the evaluation report draws.
#include "medfusion/train/metrics.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace medfusion::train {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kCiLowerPercent = 2.5;   // two-sided 95% percentile interval
constexpr double kCiUpperPercent = 97.5;  // two-sided 95% percentile interval

/// Predictions laid out by column: one score vector per class, and its descending order.
struct Columns {
    std::size_t num_classes = 0;
    std::vector<std::int64_t> labels;
    std::vector<std::int64_t> predicted;
    std::vector<std::vector<double>> scores;       // scores[k][i]
    std::vector<std::vector<std::size_t>> orders;  // samples by descending scores[k]
    std::vector<double> ones;                      // weight 1 per sample: the evaluation set
};

/// How often each sample counts: all 1 for the evaluation set, the draw counts for a bootstrap
/// resample (which then needs no copy and no new sort).
using Weights = std::vector<double>;

/// One-vs-rest ranking curve at each distinct score, highest score first (sklearn's
/// _binary_clf_curve).
struct RankCurve {
    std::vector<double> fps;
    std::vector<double> tps;
    std::vector<double> thresholds;
};

struct RocCurve {
    std::vector<double> fpr;
    std::vector<double> tpr;
    std::vector<double> thresholds;  // the first is +inf: above every score
};

struct PrCurve {
    std::vector<double> precision;  // recall decreasing, as sklearn returns them
    std::vector<double> recall;
    std::vector<double> thresholds;
};

/// Confusion counts of one class against the rest.
struct ClassCounts {
    double tp = 0, fp = 0, fn = 0, tn = 0;
    double support() const { return tp + fn; }
    double predicted() const { return tp + fp; }
};

struct ClassScores {
    double precision = 0, recall = 0, specificity = 0, f1 = 0;
};

json number_or_null(double value) {
    if (std::isfinite(value)) {
        return value;
    }
    return nullptr;
}

json numbers_or_null(const std::vector<double>& values) {
    json out = json::array();
    for (double value : values) {
        out.push_back(number_or_null(value));
    }
    return out;
}

double safe_ratio(double numerator, double denominator) {
    return denominator == 0.0 ? 0.0 : numerator / denominator;
}

double mean_of_finite(const std::vector<double>& values) {
    double sum = 0.0;
    int count = 0;
    for (double value : values) {
        if (std::isfinite(value)) {
            sum += value;
            ++count;
        }
    }
    return count == 0 ? kNaN : sum / count;
}

std::size_t argmax(const std::vector<double>& row) {
    return static_cast<std::size_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

void validate(const std::vector<std::int64_t>& labels,
              const std::vector<std::vector<double>>& probabilities,
              const std::vector<std::string>& class_names) {
    const auto num_classes = static_cast<std::int64_t>(class_names.size());
    if (num_classes < 2) {
        throw std::invalid_argument("metrics need at least two classes");
    }
    if (labels.empty() || labels.size() != probabilities.size()) {
        throw std::invalid_argument("metrics need one probability row per label, at least one");
    }
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0 || labels[i] >= num_classes) {
            throw std::invalid_argument("label out of range at row " + std::to_string(i));
        }
        const auto& row = probabilities[i];
        if (static_cast<std::int64_t>(row.size()) != num_classes ||
            !std::all_of(row.begin(), row.end(), [](double p) { return std::isfinite(p); })) {
            throw std::invalid_argument("probability row " + std::to_string(i) +
                                        " needs one finite value per class");
        }
    }
}

Columns to_columns(const std::vector<std::int64_t>& labels,
                   const std::vector<std::vector<double>>& probabilities, std::size_t num_classes) {
    Columns columns;
    columns.num_classes = num_classes;
    columns.labels = labels;
    columns.ones.assign(labels.size(), 1.0);
    columns.scores.assign(num_classes, std::vector<double>(labels.size()));
    for (std::size_t i = 0; i < labels.size(); ++i) {
        columns.predicted.push_back(static_cast<std::int64_t>(argmax(probabilities[i])));
        for (std::size_t k = 0; k < num_classes; ++k) {
            columns.scores[k][i] = probabilities[i][k];
        }
    }
    for (const auto& scores : columns.scores) {
        std::vector<std::size_t> order(scores.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(),
                  [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
        columns.orders.push_back(std::move(order));
    }
    return columns;
}

// ---- Ranking metrics ----------------------------------------------------------------------

/// Calls on_run(fps, tps, threshold) for class k against the rest at the end of each run of
/// tied scores among the weighted samples, highest score first.
template <typename OnRun>
void for_each_tie_run(const Columns& columns, const Weights& weights, std::size_t k, OnRun on_run) {
    const auto& order = columns.orders[k];
    const auto& scores = columns.scores[k];
    const auto positive = static_cast<std::int64_t>(k);
    double tps = 0.0;
    double seen = 0.0;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const std::size_t sample = order[i];
        if (weights[sample] == 0.0) {
            continue;
        }
        tps += columns.labels[sample] == positive ? weights[sample] : 0.0;
        seen += weights[sample];
        std::size_t next = i + 1;
        while (next < order.size() && weights[order[next]] == 0.0) {
            ++next;
        }
        if (next == order.size() || scores[order[next]] != scores[sample]) {
            on_run(seen - tps, tps, scores[sample]);
        }
    }
}

RankCurve rank_curve(const Columns& columns, const Weights& weights, std::size_t k) {
    RankCurve curve;
    for_each_tie_run(columns, weights, k, [&](double fps, double tps, double threshold) {
        curve.fps.push_back(fps);
        curve.tps.push_back(tps);
        curve.thresholds.push_back(threshold);
    });
    return curve;
}

/// Keeps only the corners of the curve, as roc_curve(drop_intermediate=True) does.
RankCurve drop_collinear(const RankCurve& curve) {
    const std::size_t n = curve.fps.size();
    if (n <= 2) {
        return curve;
    }
    RankCurve kept;
    for (std::size_t i = 0; i < n; ++i) {
        const bool corner = i == 0 || i + 1 == n ||
                            curve.fps[i + 1] - 2 * curve.fps[i] + curve.fps[i - 1] != 0.0 ||
                            curve.tps[i + 1] - 2 * curve.tps[i] + curve.tps[i - 1] != 0.0;
        if (corner) {
            kept.fps.push_back(curve.fps[i]);
            kept.tps.push_back(curve.tps[i]);
            kept.thresholds.push_back(curve.thresholds[i]);
        }
    }
    return kept;
}

/// The ROC curve of one class against the rest; empty when either side has no samples.
std::optional<RocCurve> roc_curve(const Columns& columns, const Weights& weights, std::size_t k) {
    const RankCurve curve = drop_collinear(rank_curve(columns, weights, k));
    const double positives = curve.tps.back();
    const double negatives = curve.fps.back();
    if (positives == 0.0 || negatives == 0.0) {
        return std::nullopt;
    }
    RocCurve roc{{0.0}, {0.0}, {kInf}};
    for (std::size_t i = 0; i < curve.fps.size(); ++i) {
        roc.fpr.push_back(curve.fps[i] / negatives);
        roc.tpr.push_back(curve.tps[i] / positives);
        roc.thresholds.push_back(curve.thresholds[i]);
    }
    return roc;
}

double trapezoid(const std::vector<double>& x, const std::vector<double>& y) {
    double area = 0.0;
    for (std::size_t i = 1; i < x.size(); ++i) {
        area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0;
    }
    return area;
}

/// Trapezoidal area under the ROC curve (NaN without positives or negatives). The counts are
/// whole numbers, so the sum is exact and the area is rounded once; collinear points add
/// nothing, so this equals the area of roc_curve's polyline. No allocation: the bootstrap
/// calls it for every class of every resample.
double roc_auc(const Columns& columns, const Weights& weights, std::size_t k) {
    double twice_area = 0.0;
    double last_fps = 0.0;
    double last_tps = 0.0;
    for_each_tie_run(columns, weights, k, [&](double fps, double tps, double) {
        twice_area += (fps - last_fps) * (tps + last_tps);
        last_fps = fps;
        last_tps = tps;
    });
    if (last_fps == 0.0 || last_tps == 0.0) {
        return kNaN;
    }
    return twice_area / (2.0 * last_fps * last_tps);
}

/// The precision-recall curve of one class; empty when the class has no samples.
std::optional<PrCurve> pr_curve(const Columns& columns, const Weights& weights, std::size_t k) {
    const RankCurve curve = rank_curve(columns, weights, k);
    const double positives = curve.tps.back();
    if (positives == 0.0) {
        return std::nullopt;
    }
    PrCurve pr;
    for (std::size_t i = curve.tps.size(); i-- > 0;) {
        pr.precision.push_back(curve.tps[i] / (curve.tps[i] + curve.fps[i]));
        pr.recall.push_back(curve.tps[i] / positives);
        pr.thresholds.push_back(curve.thresholds[i]);
    }
    pr.precision.push_back(1.0);
    pr.recall.push_back(0.0);
    return pr;
}

/// Step-wise area under the PR curve: sum of (R_n - R_{n-1}) P_n (sklearn's definition).
double average_precision(const PrCurve& pr) {
    double sum = 0.0;
    for (std::size_t i = 0; i + 1 < pr.recall.size(); ++i) {
        sum += (pr.recall[i] - pr.recall[i + 1]) * pr.precision[i];
    }
    return sum;
}

double average_precision(const Columns& columns, const Weights& weights, std::size_t k) {
    const auto pr = pr_curve(columns, weights, k);
    return pr ? average_precision(*pr) : kNaN;
}

std::vector<double> per_class_auc(const Columns& columns, const Weights& weights) {
    std::vector<double> aucs;
    for (std::size_t k = 0; k < columns.num_classes; ++k) {
        aucs.push_back(roc_auc(columns, weights, k));
    }
    return aucs;
}

/// Binary: AUC of class 1. Multiclass: one-vs-rest macro AUC over the classes it is defined for.
double headline_auc(const Columns& columns, const Weights& weights) {
    if (columns.num_classes == 2) {
        return roc_auc(columns, weights, 1);
    }
    return mean_of_finite(per_class_auc(columns, weights));
}

/// Linear interpolation at x on a non-decreasing polyline, taking the last of equal xs (np.interp).
double interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
    const auto upper = std::upper_bound(xs.begin(), xs.end(), x);
    if (upper == xs.begin()) {
        return ys.front();
    }
    const auto j = static_cast<std::size_t>(upper - xs.begin()) - 1;
    if (j + 1 == xs.size()) {
        return ys.back();
    }
    const double t = (x - xs[j]) / (xs[j + 1] - xs[j]);
    return ys[j] + t * (ys[j + 1] - ys[j]);
}

/// Mean of the per-class ROC curves on the union of their false-positive rates.
json macro_roc_curve(const std::vector<RocCurve>& curves) {
    std::vector<double> grid;
    for (const auto& curve : curves) {
        grid.insert(grid.end(), curve.fpr.begin(), curve.fpr.end());
    }
    std::sort(grid.begin(), grid.end());
    grid.erase(std::unique(grid.begin(), grid.end()), grid.end());

    std::vector<double> mean_tpr;
    for (double x : grid) {
        double sum = 0.0;
        for (const auto& curve : curves) {
            sum += interpolate(curve.fpr, curve.tpr, x);
        }
        mean_tpr.push_back(curves.empty() ? kNaN : sum / static_cast<double>(curves.size()));
    }
    return {{"fpr", numbers_or_null(grid)}, {"tpr", numbers_or_null(mean_tpr)}};
}

// ---- Label metrics ------------------------------------------------------------------------

using Matrix = std::vector<std::vector<double>>;

/// Weighted counts, rows are true classes and columns predicted ones.
Matrix confusion_matrix(const Columns& columns, const Weights& weights) {
    Matrix matrix(columns.num_classes, std::vector<double>(columns.num_classes));
    for (std::size_t i = 0; i < columns.labels.size(); ++i) {
        matrix[columns.labels[i]][columns.predicted[i]] += weights[i];
    }
    return matrix;
}

std::vector<ClassCounts> class_counts(const Matrix& matrix) {
    const std::size_t num_classes = matrix.size();
    double total = 0.0;
    std::vector<ClassCounts> counts(num_classes);
    for (std::size_t t = 0; t < num_classes; ++t) {
        for (std::size_t p = 0; p < num_classes; ++p) {
            const double n = matrix[t][p];
            total += n;
            if (t == p) {
                counts[t].tp += n;
            } else {
                counts[t].fn += n;
                counts[p].fp += n;
            }
        }
    }
    for (auto& c : counts) {
        c.tn = total - c.tp - c.fp - c.fn;
    }
    return counts;
}

/// Ratios with 0 for 0/0; F1 from precision and recall, as sklearn computes it.
ClassScores class_scores(const ClassCounts& c) {
    ClassScores s;
    s.precision = safe_ratio(c.tp, c.tp + c.fp);
    s.recall = safe_ratio(c.tp, c.tp + c.fn);
    s.specificity = safe_ratio(c.tn, c.tn + c.fp);
    s.f1 = safe_ratio(2.0 * s.precision * s.recall, s.precision + s.recall);
    return s;
}

/// Classes that occur in the labels or the predictions: the ones sklearn averages over.
bool is_active(const ClassCounts& c) {
    return c.support() > 0 || c.predicted() > 0;
}

double accuracy(const Columns& columns, const Weights& weights) {
    double correct = 0.0;
    double total = 0.0;
    for (std::size_t i = 0; i < columns.labels.size(); ++i) {
        correct += columns.labels[i] == columns.predicted[i] ? weights[i] : 0.0;
        total += weights[i];
    }
    return correct / total;
}

/// Macro average of a per-class score over the active classes.
template <typename Score>
double macro_average(const std::vector<ClassCounts>& counts, Score score) {
    double sum = 0.0;
    int active = 0;
    for (const auto& c : counts) {
        if (is_active(c)) {
            sum += score(class_scores(c));
            ++active;
        }
    }
    return safe_ratio(sum, active);
}

double weighted_f1(const std::vector<ClassCounts>& counts) {
    double sum = 0.0;
    double support = 0.0;
    for (const auto& c : counts) {
        sum += class_scores(c).f1 * c.support();
        support += c.support();
    }
    return safe_ratio(sum, support);
}

double balanced_accuracy(const std::vector<ClassCounts>& counts) {
    std::vector<double> recalls;
    for (const auto& c : counts) {
        recalls.push_back(c.support() > 0 ? c.tp / c.support() : kNaN);
    }
    return mean_of_finite(recalls);
}

/// Cohen's kappa as 1 - observed / expected disagreement (NaN when no disagreement is expected).
double cohen_kappa(const std::vector<ClassCounts>& counts) {
    double total = 0.0;
    double agree = 0.0;
    for (const auto& c : counts) {
        total += c.support();
        agree += c.tp;
    }
    double expected_agree = 0.0;
    for (const auto& c : counts) {
        expected_agree += c.support() * c.predicted() / total;
    }
    const double expected_disagree = total - expected_agree;
    return expected_disagree == 0.0 ? kNaN : 1.0 - (total - agree) / expected_disagree;
}

/// Binary: F1 of class 1. Multiclass: macro F1.
double headline_f1(const std::vector<ClassCounts>& counts) {
    if (counts.size() == 2) {
        return class_scores(counts[1]).f1;
    }
    return macro_average(counts, [](const ClassScores& s) { return s.f1; });
}

// ---- Probability metrics ------------------------------------------------------------------

double log_loss(const std::vector<std::int64_t>& labels,
                const std::vector<std::vector<double>>& probabilities) {
    constexpr double kEps = DBL_EPSILON;  // sklearn clips at float64 machine epsilon
    double total = 0.0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        double row_sum = 0.0;
        for (double p : probabilities[i]) {
            row_sum += std::clamp(p, kEps, 1.0 - kEps);
        }
        const double p_true = std::clamp(probabilities[i][labels[i]], kEps, 1.0 - kEps);
        total -= std::log(p_true / row_sum);
    }
    return total / static_cast<double>(labels.size());
}

double brier_score(const std::vector<std::int64_t>& labels,
                   const std::vector<std::vector<double>>& probabilities) {
    const std::size_t num_classes = probabilities.front().size();
    double total = 0.0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        for (std::size_t k = (num_classes == 2 ? 1 : 0); k < num_classes; ++k) {
            const double target = labels[i] == static_cast<std::int64_t>(k) ? 1.0 : 0.0;
            total += (probabilities[i][k] - target) * (probabilities[i][k] - target);
        }
    }
    return total / static_cast<double>(labels.size());
}

struct CalibrationBin {
    double lower = 0, upper = 0;
    double count = 0, confidence_sum = 0, correct = 0;
};

/// Top-label confidence bins (lower, upper], edges i / bins as numpy.linspace builds them.
std::vector<CalibrationBin> calibration_bins(const Columns& columns,
                                             const std::vector<std::vector<double>>& probabilities,
                                             int bins) {
    std::vector<CalibrationBin> out(static_cast<std::size_t>(bins));
    for (int b = 0; b < bins; ++b) {
        out[b].lower = b * (1.0 / bins);
        out[b].upper = b + 1 == bins ? 1.0 : (b + 1) * (1.0 / bins);
    }
    for (std::size_t i = 0; i < columns.labels.size(); ++i) {
        const double confidence = probabilities[i][columns.predicted[i]];
        auto bin = std::find_if(out.begin(), out.end(), [&](const CalibrationBin& b) {
            return confidence > b.lower && confidence <= b.upper;
        });
        if (bin == out.end()) {
            bin = confidence > 1.0 ? out.end() - 1 : out.begin();  // rounding outside [0, 1]
        }
        bin->count += 1;
        bin->confidence_sum += confidence;
        bin->correct += columns.labels[i] == columns.predicted[i] ? 1.0 : 0.0;
    }
    return out;
}

double expected_calibration_error(const std::vector<CalibrationBin>& bins, double total) {
    double ece = 0.0;
    for (const auto& b : bins) {
        if (b.count > 0) {
            ece += std::abs(b.confidence_sum / b.count - b.correct / b.count) * (b.count / total);
        }
    }
    return ece;
}

json calibration_json(const std::vector<CalibrationBin>& bins) {
    json out = json::array();
    for (const auto& b : bins) {
        out.push_back({{"lower", b.lower},
                       {"upper", b.upper},
                       {"count", static_cast<std::int64_t>(b.count)},
                       {"confidence", number_or_null(b.confidence_sum / b.count)},
                       {"accuracy", number_or_null(b.correct / b.count)}});
    }
    return out;
}

// ---- Bootstrap ----------------------------------------------------------------------------

/// splitmix64: tiny, seedable and easy to reproduce outside C++ (e.g. in the numpy reference).
class SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next() {
        state_ += 0x9E3779B97F4A7C15ULL;
        std::uint64_t z = state_;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    /// Index in [0, n); the modulo bias is below n / 2^64.
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

private:
    std::uint64_t state_;
};

/// One resample of n draws with replacement, as the number of times each sample was drawn.
Weights draw_counts(std::size_t n, SplitMix64& rng) {
    Weights counts(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        counts[rng.below(n)] += 1.0;
    }
    return counts;
}

/// numpy.percentile with linear interpolation over the finite values.
double percentile(std::vector<double> values, double percent) {
    values.erase(
        std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
        values.end());
    if (values.empty()) {
        return kNaN;
    }
    std::sort(values.begin(), values.end());
    const double position = percent / 100.0 * static_cast<double>(values.size() - 1);
    const auto lower = static_cast<std::size_t>(std::floor(position));
    const std::size_t upper = std::min(lower + 1, values.size() - 1);
    const double t = position - static_cast<double>(lower);
    return values[lower] + t * (values[upper] - values[lower]);
}

json interval(const std::vector<double>& samples) {
    return json::array({number_or_null(percentile(samples, kCiLowerPercent)),
                        number_or_null(percentile(samples, kCiUpperPercent))});
}

json bootstrap_intervals(const Columns& columns, const MetricsOptions& options) {
    SplitMix64 rng(options.bootstrap_seed);
    std::vector<double> accuracies, aucs, f1s;
    for (int r = 0; r < options.bootstrap_resamples; ++r) {
        const Weights counts = draw_counts(columns.labels.size(), rng);
        accuracies.push_back(accuracy(columns, counts));
        aucs.push_back(headline_auc(columns, counts));
        f1s.push_back(headline_f1(class_counts(confusion_matrix(columns, counts))));
    }
    return {
        {"accuracy", interval(accuracies)}, {"auc", interval(aucs)}, {"f1_score", interval(f1s)}};
}

// ---- Assembly -----------------------------------------------------------------------------

json per_class_json(const Columns& columns, const std::vector<ClassCounts>& counts,
                    const std::vector<std::string>& class_names) {
    json out = json::array();
    for (std::size_t k = 0; k < columns.num_classes; ++k) {
        const ClassScores s = class_scores(counts[k]);
        out.push_back(
            {{"class", class_names[k]},
             {"precision", s.precision},
             {"recall", s.recall},
             {"specificity", s.specificity},
             {"f1", s.f1},
             {"support", static_cast<std::int64_t>(counts[k].support())},
             {"auc", number_or_null(roc_auc(columns, columns.ones, k))},
             {"average_precision", number_or_null(average_precision(columns, columns.ones, k))}});
    }
    return out;
}

void add_curves(json& out, const Columns& columns, const std::vector<std::string>& class_names) {
    json rocs = json::array();
    json prs = json::array();
    std::vector<RocCurve> defined;
    for (std::size_t k = 0; k < columns.num_classes; ++k) {
        if (auto roc = roc_curve(columns, columns.ones, k)) {
            rocs.push_back({{"class", class_names[k]},
                            {"fpr", roc->fpr},
                            {"tpr", roc->tpr},
                            {"thresholds", numbers_or_null(roc->thresholds)},
                            {"auc", trapezoid(roc->fpr, roc->tpr)}});
            defined.push_back(std::move(*roc));
        }
        if (auto pr = pr_curve(columns, columns.ones, k)) {
            prs.push_back({{"class", class_names[k]},
                           {"precision", pr->precision},
                           {"recall", pr->recall},
                           {"thresholds", pr->thresholds},
                           {"average_precision", average_precision(*pr)}});
        }
    }
    out["roc_curves"] = std::move(rocs);
    out["pr_curves"] = std::move(prs);
    out["macro_roc_curve"] = macro_roc_curve(defined);
}

/// The point of the class-1 ROC curve that maximises sensitivity + specificity - 1.
void add_youden(json& out, const Columns& columns) {
    const auto roc = roc_curve(columns, columns.ones, 1);
    if (!roc) {
        out["youden_threshold"] = nullptr;
        return;
    }
    std::size_t best = 0;
    for (std::size_t i = 1; i < roc->fpr.size(); ++i) {
        if (roc->tpr[i] - roc->fpr[i] > roc->tpr[best] - roc->fpr[best]) {
            best = i;
        }
    }
    out["youden_threshold"] = number_or_null(roc->thresholds[best]);
    out["youden_sensitivity"] = roc->tpr[best];
    out["youden_specificity"] = 1.0 - roc->fpr[best];
}

/// Counts as integers (the evaluation set has unit weights).
json matrix_json(const Matrix& matrix) {
    json out = json::array();
    for (const auto& row : matrix) {
        json counts = json::array();
        for (double n : row) {
            counts.push_back(static_cast<std::int64_t>(n));
        }
        out.push_back(std::move(counts));
    }
    return out;
}

std::vector<double> auc_weights(const std::vector<ClassCounts>& counts) {
    std::vector<double> weights;
    for (const auto& c : counts) {
        weights.push_back(c.support());
    }
    return weights;
}

/// Prevalence-weighted one-vs-rest AUC over the classes it is defined for.
double weighted_auc(const std::vector<double>& aucs, const std::vector<double>& weights) {
    double sum = 0.0;
    double weight = 0.0;
    for (std::size_t k = 0; k < aucs.size(); ++k) {
        if (std::isfinite(aucs[k])) {
            sum += aucs[k] * weights[k];
            weight += weights[k];
        }
    }
    return weight == 0.0 ? kNaN : sum / weight;
}

/// The scalar scores: accuracy, ranking, label and probability metrics.
void add_scores(json& out, const Columns& columns,
                const std::vector<std::vector<double>>& probabilities,
                const std::vector<ClassCounts>& counts) {
    const bool binary = columns.num_classes == 2;
    const auto aucs = per_class_auc(columns, columns.ones);
    std::vector<double> aps;
    for (std::size_t k = 0; k < columns.num_classes; ++k) {
        aps.push_back(average_precision(columns, columns.ones, k));
    }
    const auto f1_of = [](const ClassScores& s) { return s.f1; };

    out["accuracy"] = accuracy(columns, columns.ones);
    out["balanced_accuracy"] = number_or_null(balanced_accuracy(counts));
    out["auc"] = number_or_null(headline_auc(columns, columns.ones));
    out["auc_weighted"] = number_or_null(binary ? headline_auc(columns, columns.ones)
                                                : weighted_auc(aucs, auc_weights(counts)));
    out["average_precision"] = number_or_null(binary ? aps[1] : mean_of_finite(aps));
    out["f1_score"] = headline_f1(counts);
    out["f1_macro"] = macro_average(counts, f1_of);
    out["f1_weighted"] = weighted_f1(counts);
    out["precision"] = macro_average(counts, [](const ClassScores& s) { return s.precision; });
    out["recall"] = macro_average(counts, [](const ClassScores& s) { return s.recall; });
    out["specificity"] = macro_average(counts, [](const ClassScores& s) { return s.specificity; });
    out["kappa"] = number_or_null(cohen_kappa(counts));
    out["log_loss"] = log_loss(columns.labels, probabilities);
    out["brier_score"] = brier_score(columns.labels, probabilities);
}

}  // namespace

json compute_metrics(const std::vector<std::int64_t>& labels,
                     const std::vector<std::vector<double>>& probabilities,
                     const std::vector<std::string>& class_names, const MetricsOptions& options) {
    validate(labels, probabilities, class_names);
    if (options.ece_bins < 1 || options.bootstrap_resamples < 0) {
        throw std::invalid_argument("ece_bins must be >= 1 and bootstrap_resamples >= 0");
    }
    const Columns columns = to_columns(labels, probabilities, class_names.size());
    const auto matrix = confusion_matrix(columns, columns.ones);
    const auto counts = class_counts(matrix);

    json out;
    out["n_samples"] = labels.size();
    out["num_classes"] = class_names.size();
    out["class_names"] = class_names;
    add_scores(out, columns, probabilities, counts);

    // Calibration.
    const auto bins = calibration_bins(columns, probabilities, options.ece_bins);
    out["ece"] = expected_calibration_error(bins, static_cast<double>(labels.size()));
    out["calibration"] = calibration_json(bins);

    // Tables, curves and intervals.
    out["confusion_matrix"] = matrix_json(matrix);
    out["per_class"] = per_class_json(columns, counts, class_names);
    if (options.include_curves) {
        add_curves(out, columns, class_names);
    }
    if (class_names.size() == 2) {
        add_youden(out, columns);
    }
    out["confidence_intervals"] = bootstrap_intervals(columns, options);
    out["bootstrap_resamples"] = options.bootstrap_resamples;
    out["bootstrap_seed"] = options.bootstrap_seed;
    return out;
}

json metrics_without_curves(const json& metrics) {
    json out = metrics;
    for (const char* key : {"roc_curves", "macro_roc_curve", "pr_curves"}) {
        out.erase(key);
    }
    return out;
}

}  // namespace medfusion::train
