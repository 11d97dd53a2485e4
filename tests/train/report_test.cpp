// The HTML evaluation report: content and escaping, and that headless Chromium loads it, as
// HTML and as strict XML, with every plot in the DOM.
#include "medfusion/train/report.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <unistd.h>

namespace medfusion::train {
namespace {

namespace fs = std::filesystem;

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr int kChromiumTimeoutSeconds = 120;
constexpr std::size_t kPlotsWithHistory = 7;  // ROC, PR, 2 confusion, reliability, loss, metrics

std::size_t count_of(const std::string& haystack, const std::string& needle) {
    std::size_t count = 0;
    for (auto at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1)) {
        ++count;
    }
    return count;
}

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

/// Softmax scores that favour the true class, seeded.
void make_predictions(std::size_t n, std::size_t k, std::vector<std::int64_t>& labels,
                      std::vector<std::vector<double>>& probabilities) {
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0.0, 1.0);
    for (std::size_t i = 0; i < n; ++i) {
        const auto label = static_cast<std::int64_t>(i % k);
        std::vector<double> row(k);
        double sum = 0.0;
        for (std::size_t c = 0; c < k; ++c) {
            row[c] = std::exp(noise(rng) + (static_cast<std::int64_t>(c) == label ? 1.5 : 0.0));
            sum += row[c];
        }
        for (auto& p : row) {
            p /= sum;
        }
        labels.push_back(label);
        probabilities.push_back(row);
    }
}

ReportInput make_input(std::vector<std::string> class_names, bool with_history) {
    std::vector<std::int64_t> labels;
    std::vector<std::vector<double>> probabilities;
    make_predictions(240, class_names.size(), labels, probabilities);
    ReportInput input;
    input.model_id = "resnet50_attention_001";
    input.architecture = "resnet50";
    input.fusion_type = "attention";
    input.dataset = "pad_ufes_20";
    input.split = "test";
    input.created_at = "2024-06-07T12:34:56Z";
    input.class_names = class_names;
    input.metrics = compute_metrics(labels, probabilities, class_names);
    input.config = {{"model", {{"backbone", "resnet50"}, {"fusion", "attention"}}},
                    {"training", {{"epochs", 12}, {"note", "<b>bold</b> & co"}}}};
    for (int epoch = 1; with_history && epoch <= 12; ++epoch) {
        core::EpochRecord record;
        record.epoch = epoch;
        record.metrics = {{"train_loss", 1.6 / epoch + 0.2},
                          {"val_loss", 1.4 / epoch + 0.35},
                          {"train_accuracy", 0.9 - 0.5 / epoch},
                          {"val_accuracy", 0.8 - 0.45 / epoch},
                          {"val_auc", 0.93 - 0.3 / epoch}};
        input.history.push_back(record);
    }
    return input;
}

const std::vector<std::string> kSkinClasses = {"ACK", "BCC", "MEL", "NEV", "SCC", "SEK"};

struct ChromiumRun {
    int status = -1;
    std::string dom;
};

/// Loads `page` in headless Chromium (own profile, no network services) and returns its DOM.
ChromiumRun dump_dom(const fs::path& page, const fs::path& work) {
    const auto dom = work / "dom.html";
    const std::string command =
        "timeout " + std::to_string(kChromiumTimeoutSeconds) + " " + kChromium +
        " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
        " --disable-background-networking --disable-component-update --disable-sync"
        " --user-data-dir='" +
        (work / "profile").string() + "' --dump-dom 'file://" + page.string() + "' > '" +
        dom.string() + "' 2> '" + (work / "chromium.log").string() + "'";
    ChromiumRun run;
    run.status = std::system(command.c_str());
    run.dom = read_all(dom);
    return run;
}

class ReportTest : public ::testing::Test {
protected:
    void SetUp() override {
        work_ = fs::temp_directory_path() /
                ("medfusion_report_" + std::to_string(::getpid()) + "_" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(work_);
    }
    void TearDown() override { fs::remove_all(work_); }

    void require_chromium() {
        if (!fs::exists(kChromium)) {
            GTEST_SKIP() << "Debian chromium is not installed";
        }
    }

    fs::path work_;
};

TEST_F(ReportTest, ShowsEverySectionForAMulticlassEvaluation) {
    const std::string html = render_report(make_input(kSkinClasses, true));
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_EQ(count_of(html, "<svg "), kPlotsWithHistory);
    for (const char* id :
         {"metrics", "curves", "confusion", "calibration", "training", "per-class", "config"}) {
        EXPECT_NE(html.find("<section id=\"" + std::string(id) + "\">"), std::string::npos) << id;
    }
    EXPECT_NE(html.find("macro average (AUC "), std::string::npos);
    EXPECT_NE(html.find("ROC AUC (one-vs-rest, macro)"), std::string::npos);
    EXPECT_NE(html.find(">resnet50_attention_001</dd>"), std::string::npos);
    EXPECT_NE(html.find(">2024-06-07T12:34:56Z</dd>"), std::string::npos);
    // Six classes: a six-by-six grid in each confusion matrix.
    EXPECT_EQ(count_of(html, "class=\"cell\""), 2u * 36u);
}

TEST_F(ReportTest, EscapesEveryInputString) {
    auto input = make_input({"<script>alert(1)</script>", "a & \"b\""}, false);
    input.model_id = "m<1>";
    const std::string html = render_report(input);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(html.find("a &amp; &quot;b&quot;"), std::string::npos);
    EXPECT_NE(html.find("Evaluation report: m&lt;1&gt;"), std::string::npos);
    EXPECT_NE(html.find("&lt;b&gt;bold&lt;/b&gt; &amp; co"), std::string::npos);
}

TEST_F(ReportTest, UsesNoExternalResourceOrScript) {
    std::string html = render_report(make_input(kSkinClasses, true));
    for (const char* ns : {"http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg"}) {
        for (auto at = html.find(ns); at != std::string::npos; at = html.find(ns)) {
            html.erase(at, std::string(ns).size());
        }
    }
    for (const char* forbidden :
         {"http:", "https:", "src=", "href=", "url(", "@import", "<script", "<link"}) {
        EXPECT_EQ(html.find(forbidden), std::string::npos) << forbidden;
    }
}

TEST_F(ReportTest, BinaryReportShowsPositiveClassAndYoudenPoint) {
    const auto input = make_input({"benign", "malignant"}, false);
    const std::string html = render_report(input);
    EXPECT_NE(html.find("ROC AUC (positive class)"), std::string::npos);
    EXPECT_NE(html.find("Youden point (threshold "), std::string::npos);
    EXPECT_NE(html.find("No training history was recorded"), std::string::npos);
    EXPECT_EQ(count_of(html, "<svg "), 5u);  // no training curves
    // The AUC in the table is the metric's, to four decimals.
    char expected[64];
    std::snprintf(expected, sizeof expected, "<td>%.4f</td>",
                  input.metrics.at("auc").get<double>());
    EXPECT_NE(html.find(expected), std::string::npos);
}

TEST_F(ReportTest, WriteReportReplacesTheFileWhole) {
    const auto path = work_ / "job" / "reports" / "evaluation_report.html";
    const auto input = make_input(kSkinClasses, true);
    write_report(path, input);
    write_report(path, input);
    EXPECT_EQ(read_all(path), render_report(input));
    EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
}

TEST_F(ReportTest, LoadsInHeadlessChromiumWithEveryPlot) {
    require_chromium();
    const auto page = work_ / "evaluation_report.html";
    write_report(page, make_input(kSkinClasses, true));
    const ChromiumRun run = dump_dom(page, work_);
    ASSERT_EQ(run.status, 0) << read_all(work_ / "chromium.log");
    EXPECT_EQ(count_of(run.dom, "<svg "), kPlotsWithHistory);
    EXPECT_NE(run.dom.find("Evaluation report: resnet50_attention_001"), std::string::npos);
    EXPECT_NE(run.dom.find("<section id=\"config\">"), std::string::npos);
}

TEST_F(ReportTest, ParsesAsWellFormedXmlInChromium) {
    require_chromium();
    // Served as XHTML, Chromium's XML parser reports any markup or escaping error in the DOM.
    const auto page = work_ / "evaluation_report.xhtml";
    auto input = make_input({"<ACK & co>", "BCC \"x\"", "MEL"}, true);
    write_report(page, input);
    const ChromiumRun run = dump_dom(page, work_);
    ASSERT_EQ(run.status, 0) << read_all(work_ / "chromium.log");
    EXPECT_EQ(run.dom.find("parsererror"), std::string::npos) << run.dom.substr(0, 2000);
    EXPECT_EQ(count_of(run.dom, "<svg "), kPlotsWithHistory);
}

}  // namespace
}  // namespace medfusion::train
