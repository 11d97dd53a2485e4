// compute_metrics against scikit-learn: metrics_reference.py builds seeded prediction sets and
// sklearn's values for them at test time; every score must agree within 1e-9.
#include "medfusion/train/metrics.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

namespace medfusion::train {
namespace {

using nlohmann::json;

constexpr double kTolerance = 1e-9;
constexpr const char* kPython = "/usr/bin/python3";  // Debian's, with python3-sklearn

std::filesystem::path source_dir() {
    const char* env = std::getenv("MEDFUSION_SOURCE_DIR");
    return env ? std::filesystem::path(env) : std::filesystem::path(MEDFUSION_TEST_SOURCE_DIR);
}

/// The reference values, from the script's output cached in the build folder: CTest runs each
/// test in its own process, and the script only reruns when it is newer than its output.
const json& reference_cases() {
    static const json cases = [] {
        const auto script = source_dir() / "tests/train/metrics_reference.py";
        const std::filesystem::path cached =
            std::filesystem::path(MEDFUSION_TEST_BINARY_DIR) / "metrics_reference.json";
        if (!std::filesystem::exists(cached) ||
            std::filesystem::last_write_time(cached) < std::filesystem::last_write_time(script)) {
            // Write beside and rename: tests running in parallel never read a partial file.
            const auto temporary = cached.string() + "." + std::to_string(::getpid());
            const std::string command =
                std::string(kPython) + " '" + script.string() + "' '" + temporary + "'";
            if (std::system(command.c_str()) != 0) {
                throw std::runtime_error("reference script failed: " + command);
            }
            std::filesystem::rename(temporary, cached);
        }
        std::ifstream in(cached);
        return json::parse(in).at("cases");
    }();
    return cases;
}

const json* find_reference_case(const std::string& name) {
    for (const auto& c : reference_cases()) {
        if (c.at("name") == name) {
            return &c;
        }
    }
    return nullptr;
}

const json& reference_case(const std::string& name) {
    const json* c = find_reference_case(name);
    if (c == nullptr) {
        throw std::runtime_error("no reference case " + name);
    }
    return *c;
}

json compute_for(const json& c, const MetricsOptions& options) {
    return compute_metrics(c.at("labels").get<std::vector<std::int64_t>>(),
                           c.at("probabilities").get<std::vector<std::vector<double>>>(),
                           c.at("class_names").get<std::vector<std::string>>(), options);
}

/// With the options the reference was computed with.
json compute_for(const json& c) {
    MetricsOptions options;
    options.bootstrap_resamples = c.at("options").at("bootstrap_resamples").get<int>();
    options.bootstrap_seed = c.at("options").at("bootstrap_seed").get<std::uint64_t>();
    options.ece_bins = c.at("options").at("ece_bins").get<int>();
    return compute_metrics(c.at("labels").get<std::vector<std::int64_t>>(),
                           c.at("probabilities").get<std::vector<std::vector<double>>>(),
                           c.at("class_names").get<std::vector<std::string>>(), options);
}

/// Equal numbers within kTolerance, or both null.
void expect_same(const json& actual, const json& expected, const std::string& what) {
    if (expected.is_null()) {
        EXPECT_TRUE(actual.is_null()) << what << " = " << actual.dump();
        return;
    }
    ASSERT_TRUE(actual.is_number()) << what << " = " << actual.dump();
    EXPECT_NEAR(actual.get<double>(), expected.get<double>(), kTolerance) << what;
}

void expect_same_array(const json& actual, const json& expected, const std::string& what) {
    ASSERT_EQ(actual.size(), expected.size()) << what;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        expect_same(actual[i], expected[i], what + "[" + std::to_string(i) + "]");
    }
}

void expect_scalars_match(const json& actual, const json& expected) {
    for (const char* key : {"accuracy", "balanced_accuracy", "auc", "auc_weighted",
                            "average_precision", "f1_score", "f1_macro", "f1_weighted", "precision",
                            "recall", "specificity", "kappa", "log_loss", "brier_score", "ece"}) {
        expect_same(actual.at(key), expected.at(key), key);
    }
}

void expect_tables_match(const json& actual, const json& expected) {
    EXPECT_EQ(actual.at("confusion_matrix"), expected.at("confusion_matrix"));
    const auto& rows = expected.at("per_class");
    ASSERT_EQ(actual.at("per_class").size(), rows.size());
    for (std::size_t k = 0; k < rows.size(); ++k) {
        for (const auto& [key, value] : rows[k].items()) {
            expect_same(actual.at("per_class")[k].at(key), value,
                        "per_class[" + std::to_string(k) + "]." + key);
        }
    }
    const auto& bins = expected.at("calibration");
    ASSERT_EQ(actual.at("calibration").size(), bins.size());
    for (std::size_t b = 0; b < bins.size(); ++b) {
        for (const auto& [key, value] : bins[b].items()) {
            expect_same(actual.at("calibration")[b].at(key), value, "calibration." + key);
        }
    }
}

void expect_curves_match(const json& actual, const json& expected) {
    ASSERT_EQ(actual.at("roc_curves").size(), expected.at("roc_curves").size());
    for (std::size_t i = 0; i < expected.at("roc_curves").size(); ++i) {
        const auto& want = expected.at("roc_curves")[i];
        const auto& got = actual.at("roc_curves")[i];
        expect_same_array(got.at("fpr"), want.at("fpr"), "roc.fpr");
        expect_same_array(got.at("tpr"), want.at("tpr"), "roc.tpr");
        EXPECT_TRUE(got.at("thresholds")[0].is_null());
        const json tail(got.at("thresholds").begin() + 1, got.at("thresholds").end());
        expect_same_array(tail, want.at("thresholds"), "roc.thresholds");
    }
    ASSERT_EQ(actual.at("pr_curves").size(), expected.at("pr_curves").size());
    for (std::size_t i = 0; i < expected.at("pr_curves").size(); ++i) {
        const auto& want = expected.at("pr_curves")[i];
        const auto& got = actual.at("pr_curves")[i];
        expect_same_array(got.at("precision"), want.at("precision"), "pr.precision");
        expect_same_array(got.at("recall"), want.at("recall"), "pr.recall");
        expect_same_array(got.at("thresholds"), want.at("thresholds"), "pr.thresholds");
    }
}

void expect_matches_reference(const std::string& name) {
    SCOPED_TRACE(name);
    const json& c = reference_case(name);
    const json actual = compute_for(c);
    const json& expected = c.at("expected");
    expect_scalars_match(actual, expected);
    expect_tables_match(actual, expected);
    expect_curves_match(actual, expected);
}

TEST(MetricsTest, MatchesSklearnOnBinaryRandomScores) {
    expect_matches_reference("binary_random");
}

TEST(MetricsTest, MatchesSklearnOnBinaryTiedScores) {
    expect_matches_reference("binary_tied");
}

TEST(MetricsTest, MatchesSklearnOnMulticlassRandomScores) {
    expect_matches_reference("multiclass_random");
}

TEST(MetricsTest, MatchesSklearnOnMulticlassTiedScores) {
    expect_matches_reference("multiclass_tied");
}

TEST(MetricsTest, MatchesSklearnWhenAClassIsNeverPredicted) {
    const json& c = reference_case("multiclass_never_predicted");
    expect_matches_reference(c.at("name"));
    const json actual = compute_for(c);
    EXPECT_EQ(actual.at("per_class")[3].at("precision"), 0.0);
    EXPECT_EQ(actual.at("per_class")[3].at("f1"), 0.0);
}

TEST(MetricsTest, SkipsAClassAbsentFromLabelsInRankingMetrics) {
    const json& c = reference_case("multiclass_absent_class");
    expect_matches_reference(c.at("name"));
    const json actual = compute_for(c);
    EXPECT_TRUE(actual.at("per_class")[2].at("auc").is_null());
    EXPECT_TRUE(actual.at("per_class")[2].at("average_precision").is_null());
    EXPECT_EQ(actual.at("roc_curves").size(), 4u);
}

TEST(MetricsTest, ReturnsNullForUndefinedScoresWithOneClassInLabels) {
    const json& c = reference_case("binary_single_class");
    expect_matches_reference(c.at("name"));
    const json actual = compute_for(c);
    EXPECT_TRUE(actual.at("auc").is_null());
    EXPECT_TRUE(actual.at("youden_threshold").is_null());
}

TEST(MetricsTest, MatchesSklearnOnThePadUfes20TestLabels) {
    const json* c = find_reference_case("pad_ufes_20_test");
    if (c == nullptr) {
        GTEST_SKIP() << "shared data (MEDFUSION_SHARED_DATA) not found";
    }
    expect_matches_reference("pad_ufes_20_test");
    const json actual = compute_for(*c);
    EXPECT_EQ(actual.at("n_samples"), 121);  // the test split's rows
    EXPECT_EQ(actual.at("num_classes"), 6);  // ACK, BCC, MEL, NEV, SCC, SEK
    const json& want = c->at("expected").at("confidence_intervals");
    for (const char* key : {"accuracy", "auc", "f1_score"}) {
        expect_same_array(actual.at("confidence_intervals").at(key), want.at(key), key);
    }
}

TEST(MetricsTest, YoudenThresholdMatchesSklearnRocCurve) {
    for (const char* name : {"binary_random", "binary_tied"}) {
        const json& c = reference_case(name);
        const json actual = compute_for(c);
        const json& want = c.at("expected").at("youden");
        expect_same(actual.at("youden_threshold"), want.at("threshold"), "threshold");
        expect_same(actual.at("youden_sensitivity"), want.at("sensitivity"), "sensitivity");
        expect_same(actual.at("youden_specificity"), want.at("specificity"), "specificity");
    }
}

TEST(MetricsTest, BootstrapIntervalsMatchSklearnOnTheSameResamples) {
    for (const char* name : {"binary_random", "multiclass_random"}) {
        SCOPED_TRACE(name);
        const json& c = reference_case(name);
        const json actual = compute_for(c).at("confidence_intervals");
        const json& want = c.at("expected").at("confidence_intervals");
        for (const char* key : {"accuracy", "auc", "f1_score"}) {
            expect_same_array(actual.at(key), want.at(key), key);
        }
    }
}

TEST(MetricsTest, BootstrapIntervalsBracketThePointEstimate) {
    MetricsOptions options;  // the evaluation defaults: 1000 resamples, seed 42
    const json& c = reference_case("multiclass_random");
    const json actual = compute_for(c, options);
    for (const char* key : {"accuracy", "auc", "f1_score"}) {
        const auto& ci = actual.at("confidence_intervals").at(key);
        EXPECT_LT(ci[0].get<double>(), actual.at(key).get<double>()) << key;
        EXPECT_GT(ci[1].get<double>(), actual.at(key).get<double>()) << key;
    }
}

TEST(MetricsTest, BootstrapIntervalsAreReproducibleWithTheSeed) {
    const json& c = reference_case("binary_random");
    MetricsOptions options;
    options.bootstrap_resamples = 300;
    const auto run = [&](std::uint64_t seed) {
        options.bootstrap_seed = seed;
        return compute_for(c, options).at("confidence_intervals");
    };
    EXPECT_EQ(run(5), run(5));
    EXPECT_NE(run(5), run(6));
}

TEST(MetricsTest, MatchesHandCalculationOnFourSamples) {
    // sklearn's documented example: scores 0.1, 0.4, 0.35, 0.8 for labels 0, 0, 1, 1.
    const std::vector<std::int64_t> labels = {0, 0, 1, 1};
    const std::vector<std::vector<double>> probs = {
        {0.9, 0.1}, {0.6, 0.4}, {0.65, 0.35}, {0.2, 0.8}};
    MetricsOptions options;
    options.bootstrap_resamples = 0;
    const json m = compute_metrics(labels, probs, {"benign", "malignant"}, options);
    EXPECT_NEAR(m.at("auc").get<double>(), 0.75, kTolerance);
    EXPECT_NEAR(m.at("average_precision").get<double>(), 0.5 * 1.0 + 0.5 * (2.0 / 3.0), kTolerance);
    EXPECT_NEAR(m.at("accuracy").get<double>(), 0.75, kTolerance);
    EXPECT_NEAR(m.at("f1_score").get<double>(), 2.0 / 3.0, kTolerance);  // P = 1, R = 1/2
    EXPECT_NEAR(m.at("brier_score").get<double>(), (0.01 + 0.16 + 0.4225 + 0.04) / 4, kTolerance);
    EXPECT_EQ(m.at("confusion_matrix"), json::parse("[[2,0],[1,1]]"));
    EXPECT_TRUE(m.at("confidence_intervals").at("auc")[0].is_null());
}

TEST(MetricsTest, WithoutCurvesKeepsScalarsAndTables) {
    const json& c = reference_case("multiclass_random");
    const json full = compute_for(c);
    const json small = metrics_without_curves(full);
    EXPECT_FALSE(small.contains("roc_curves"));
    EXPECT_FALSE(small.contains("pr_curves"));
    EXPECT_FALSE(small.contains("macro_roc_curve"));
    EXPECT_EQ(small.at("auc"), full.at("auc"));
    EXPECT_EQ(small.at("per_class"), full.at("per_class"));
    EXPECT_EQ(small.at("confidence_intervals"), full.at("confidence_intervals"));
    EXPECT_LT(small.dump().size() * 4, full.dump().size());
}

TEST(MetricsTest, RejectsInconsistentInputs) {
    const std::vector<std::string> names = {"a", "b"};
    EXPECT_THROW(compute_metrics({}, {}, names), std::invalid_argument);
    EXPECT_THROW(compute_metrics({0, 1}, {{0.5, 0.5}}, names), std::invalid_argument);
    EXPECT_THROW(compute_metrics({2}, {{0.5, 0.5}}, names), std::invalid_argument);
    EXPECT_THROW(compute_metrics({0}, {{0.2, 0.3, 0.5}}, names), std::invalid_argument);
    EXPECT_THROW(compute_metrics({0}, {{1.0}}, {"only"}), std::invalid_argument);
}

}  // namespace
}  // namespace medfusion::train
