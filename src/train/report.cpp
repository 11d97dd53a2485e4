// The self-contained HTML evaluation report: one document with inline CSS and SVG plots drawn
// from compute_metrics' JSON and the training history. Polyglot markup: it also parses as XML.
#include "medfusion/train/report.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include "report_files.hpp"
#include "svg_plot.hpp"

namespace medfusion::train {
namespace {

using nlohmann::json;
using svg::escape;

constexpr int kValueDecimals = 4;     // metric values in tables
constexpr int kMarkerMaxEpochs = 40;  // training curves get point markers up to this length
constexpr const char* kChanceColor = "#9a9a9a";
constexpr const char* kMacroColor = "#222222";

constexpr const char* kStyle = R"css(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f;
       margin: 0; background: #f5f6f8; }
main { max-width: 1120px; margin: 0 auto; padding: 24px; }
header { background: #12355b; color: #fff; padding: 20px 24px; border-radius: 8px; }
header h1 { margin: 0 0 10px 0; font-size: 22px; }
header dl { display: grid; grid-template-columns: repeat(4, max-content auto); gap: 4px 12px;
             margin: 0; }
header dt { opacity: 0.75; }
header dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
section { background: #fff; margin: 18px 0; padding: 16px 20px; border-radius: 8px;
          box-shadow: 0 1px 2px rgba(0, 0, 0, 0.08); }
h2 { font-size: 17px; margin: 0 0 12px 0; color: #12355b; }
table { border-collapse: collapse; }
th, td { padding: 4px 12px; border-bottom: 1px solid #e3e5e8; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef1f5; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
.note { color: #666; font-style: italic; }
pre { background: #f3f4f6; padding: 12px; border-radius: 6px; overflow: auto; font-size: 12px; }
svg.plot { background: #fff; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #222; }
.plot-title { font-size: 14px; font-weight: 600; }
.axis-label { font-size: 12px; }
.tick-label, .legend { font-size: 11px; }
.bar-label { font-size: 9px; fill: #555; }
.grid { stroke: #e6e6e6; stroke-width: 1; }
.tick { stroke: #444; stroke-width: 1; }
.frame { fill: none; stroke: #444; stroke-width: 1; }
.bar { fill-opacity: 0.75; stroke: #2b4a6f; stroke-width: 0.5; }
.cell { stroke: #fff; stroke-width: 1; }
.cell-text { font-size: 12px; }
.cell-text.small { font-size: 9px; }
.cell-text.on-dark { fill: #fff; }
footer { color: #777; font-size: 12px; text-align: center; margin: 12px 0 24px 0; }
)css";

double number_at(const json& object, const std::string& key) {
    if (!object.is_object() || !object.contains(key) || !object.at(key).is_number()) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    return object.at(key).get<double>();
}

std::vector<double> numbers(const json& array) {
    std::vector<double> out;
    if (array.is_array()) {
        for (const auto& v : array) {
            out.push_back(v.is_number() ? v.get<double>()
                                        : std::numeric_limits<double>::quiet_NaN());
        }
    }
    return out;
}

std::string value_text(double value) {
    return std::isfinite(value) ? svg::format_number(value, kValueDecimals) : "n/a";
}

std::string cell(const std::string& text) {
    return "<td>" + escape(text) + "</td>";
}

std::vector<std::string> class_names_of(const ReportInput& input) {
    if (!input.class_names.empty()) {
        return input.class_names;
    }
    std::vector<std::string> names;
    if (input.metrics.contains("class_names")) {
        for (const auto& n : input.metrics.at("class_names")) {
            names.push_back(n.get<std::string>());
        }
    }
    return names;
}

/// A stable colour per class: its index among the class names.
std::string class_color(const std::vector<std::string>& names, const std::string& name) {
    for (std::size_t k = 0; k < names.size(); ++k) {
        if (names[k] == name) {
            return svg::palette_color(k);
        }
    }
    return svg::palette_color(names.size());
}

std::string section(const std::string& id, const std::string& title, const std::string& body) {
    return "<section id=\"" + id + "\"><h2>" + escape(title) + "</h2>" + body + "</section>\n";
}

std::string note(const std::string& text) {
    return "<p class=\"note\">" + escape(text) + "</p>";
}

// ---- Header and tables --------------------------------------------------------------------

std::string document_head(const ReportInput& input) {
    return "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>"
           "<meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width\"/>"
           "<title>Evaluation report: " +
           escape(input.model_id) + "</title><style>" + kStyle + "</style></head>\n<body><main>\n";
}

std::string header_block(const ReportInput& input) {
    const auto item = [](const std::string& term, const std::string& value) {
        return "<dt>" + escape(term) + "</dt><dd>" + escape(value.empty() ? "-" : value) + "</dd>";
    };
    const double samples = number_at(input.metrics, "n_samples");
    return "<header><h1>Evaluation report: " + escape(input.model_id) + "</h1><dl>" +
           item("Model", input.model_id) + item("Dataset", input.dataset) +
           item("Architecture", input.architecture) + item("Split", input.split) +
           item("Fusion", input.fusion_type) + item("Date", input.created_at) +
           item("Classes", std::to_string(class_names_of(input).size())) +
           item("Samples", std::isfinite(samples) ? svg::format_number(samples, 0) : "") +
           "</dl></header>\n";
}

std::string interval_text(const json& metrics, const std::string& key) {
    const json* ci = nullptr;
    if (metrics.contains("confidence_intervals") &&
        metrics.at("confidence_intervals").contains(key)) {
        ci = &metrics.at("confidence_intervals").at(key);
    }
    if (ci == nullptr || ci->size() != 2 || !(*ci)[0].is_number() || !(*ci)[1].is_number()) {
        return "";
    }
    return value_text((*ci)[0].get<double>()) + " \u2013 " + value_text((*ci)[1].get<double>());
}

std::string metrics_table(const json& m) {
    const bool binary = number_at(m, "num_classes") == 2;
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"accuracy", "Accuracy"},
        {"balanced_accuracy", "Balanced accuracy"},
        {"auc", binary ? "ROC AUC (positive class)" : "ROC AUC (one-vs-rest, macro)"},
        {"auc_weighted", "ROC AUC (one-vs-rest, weighted)"},
        {"average_precision",
         binary ? "Average precision (positive class)" : "Average precision (macro)"},
        {"f1_score", binary ? "F1 (positive class)" : "F1 (macro)"},
        {"f1_macro", "F1 (macro)"},
        {"f1_weighted", "F1 (weighted)"},
        {"precision", "Precision (macro)"},
        {"recall", "Recall / sensitivity (macro)"},
        {"specificity", "Specificity (macro)"},
        {"kappa", "Cohen's kappa"},
        {"log_loss", "Log loss"},
        {"brier_score", "Brier score"},
        {"ece", "Expected calibration error"},
        {"youden_threshold", "Youden-optimal threshold"},
    };
    std::string body =
        "<table><thead><tr><th>Metric</th><th>Value</th><th>95% CI</th></tr>"
        "</thead><tbody>";
    for (const auto& [key, label] : rows) {
        // Binary tasks: the weighted AUC equals the AUC; multiclass: F1 already is macro.
        const bool repeated = binary ? key == "auc_weighted" : key == "f1_macro";
        if (m.contains(key) && !repeated) {
            body += "<tr>" + cell(label) + cell(value_text(number_at(m, key))) +
                    cell(interval_text(m, key)) + "</tr>";
        }
    }
    body += "</tbody></table>";
    const double resamples = number_at(m, "bootstrap_resamples");
    if (resamples > 0) {
        body += note("95% confidence intervals: percentile bootstrap over " +
                     svg::format_number(resamples, 0) + " resamples (seed " +
                     m.at("bootstrap_seed").dump() + ").");
    }
    return section("metrics", "Metrics", body);
}

std::string per_class_table(const json& m) {
    if (!m.contains("per_class")) {
        return "";
    }
    std::string body =
        "<table><thead><tr><th>Class</th><th>Support</th><th>Precision</th>"
        "<th>Recall</th><th>Specificity</th><th>F1</th><th>AUC</th>"
        "<th>Average precision</th></tr></thead><tbody>";
    for (const auto& row : m.at("per_class")) {
        body += "<tr>" + cell(row.value("class", "")) +
                cell(svg::format_number(number_at(row, "support"), 0));
        for (const char* key :
             {"precision", "recall", "specificity", "f1", "auc", "average_precision"}) {
            body += cell(value_text(number_at(row, key)));
        }
        body += "</tr>";
    }
    return section("per-class", "Per-class results", body + "</tbody></table>");
}

std::string config_block(const json& config) {
    if (config.is_null() || config.empty()) {
        return section("config", "Configuration", note("No configuration was recorded."));
    }
    return section("config", "Configuration", "<pre>" + escape(config.dump(2)) + "</pre>");
}

// ---- Plots --------------------------------------------------------------------------------

/// Which curves to draw: binary tasks show the positive class only.
bool draw_class(const json& m, const json& curve) {
    if (number_at(m, "num_classes") != 2) {
        return true;
    }
    const auto& names = m.at("class_names");
    return names.size() == 2 && curve.value("class", "") == names[1].get<std::string>();
}

svg::Series chance_line() {
    return {"chance", {0.0, 1.0}, {0.0, 1.0}, kChanceColor, svg::LineStyle::kDashed, false, 1.2};
}

std::string roc_plot(const json& m, const std::vector<std::string>& names) {
    svg::LinePlot plot("ROC curves", {"False positive rate", 0, 1}, {"True positive rate", 0, 1});
    plot.add_series(chance_line());
    for (const auto& curve : m.at("roc_curves")) {
        if (draw_class(m, curve)) {
            const std::string name = curve.value("class", "");
            plot.add_series({name + " (AUC " + value_text(number_at(curve, "auc")) + ")",
                             numbers(curve.at("fpr")), numbers(curve.at("tpr")),
                             class_color(names, name)});
        }
    }
    if (number_at(m, "num_classes") > 2 && m.contains("macro_roc_curve")) {
        const auto& macro = m.at("macro_roc_curve");
        plot.add_series({"macro average (AUC " + value_text(number_at(m, "auc")) + ")",
                         numbers(macro.at("fpr")), numbers(macro.at("tpr")), kMacroColor,
                         svg::LineStyle::kDashed, false, 2.2});
    }
    if (m.contains("youden_sensitivity")) {
        const double fpr = 1.0 - number_at(m, "youden_specificity");
        svg::Series point{
            "Youden point (threshold " + value_text(number_at(m, "youden_threshold")) + ")",
            {fpr},
            {number_at(m, "youden_sensitivity")},
            "#D55E00"};
        point.width = 0.0;  // a marker, no line
        point.markers = true;
        point.marker_radius = 5.0;
        plot.add_series(std::move(point));
    }
    return plot.render();
}

std::string pr_plot(const json& m, const std::vector<std::string>& names) {
    svg::LinePlot plot("Precision-recall curves", {"Recall", 0, 1}, {"Precision", 0, 1});
    for (const auto& curve : m.at("pr_curves")) {
        if (draw_class(m, curve)) {
            const std::string name = curve.value("class", "");
            plot.add_series(
                {name + " (AP " + value_text(number_at(curve, "average_precision")) + ")",
                 numbers(curve.at("recall")), numbers(curve.at("precision")),
                 class_color(names, name), svg::LineStyle::kStepPost});
        }
    }
    if (number_at(m, "num_classes") == 2 && m.contains("per_class")) {
        // A classifier without skill has precision equal to the prevalence.
        const double positives = number_at(m.at("per_class")[1], "support");
        const double prevalence = positives / number_at(m, "n_samples");
        plot.add_series({"prevalence " + value_text(prevalence),
                         {0.0, 1.0},
                         {prevalence, prevalence},
                         kChanceColor,
                         svg::LineStyle::kDashed,
                         false,
                         1.2});
    }
    return plot.render();
}

std::string curves_section(const json& m, const std::vector<std::string>& names) {
    if (!m.contains("roc_curves") || !m.contains("pr_curves")) {
        return section("curves", "ROC and precision-recall curves",
                       note("Curves were not computed for this evaluation."));
    }
    return section("curves", "ROC and precision-recall curves",
                   "<div class=\"plots\">" + roc_plot(m, names) + pr_plot(m, names) + "</div>");
}

std::string confusion_section(const json& m, const std::vector<std::string>& names) {
    if (!m.contains("confusion_matrix")) {
        return "";
    }
    svg::Heatmap counts{
        "Confusion matrix (counts)", names, names, {}, {}, 0.0, "True label", "Predicted label"};
    svg::Heatmap rates{"Confusion matrix (row-normalised)",
                       names,
                       names,
                       {},
                       {},
                       1.0,
                       "True label",
                       "Predicted label"};
    for (const auto& row : m.at("confusion_matrix")) {
        const std::vector<double> values = numbers(row);
        double total = 0.0;
        for (double v : values) {
            total += v;
            counts.max_value = std::max(counts.max_value, v);
        }
        counts.values.push_back(values);
        rates.values.emplace_back();
        counts.cell_text.emplace_back();
        rates.cell_text.emplace_back();
        for (double v : values) {
            const double rate = total > 0 ? v / total : 0.0;
            rates.values.back().push_back(rate);
            counts.cell_text.back().push_back(svg::format_number(v, 0));
            rates.cell_text.back().push_back(total > 0 ? svg::format_number(rate, 2) : "-");
        }
    }
    return section("confusion", "Confusion matrix",
                   "<div class=\"plots\">" + svg::render_heatmap(counts) +
                       svg::render_heatmap(rates) + "</div>");
}

std::string calibration_section(const json& m) {
    if (!m.contains("calibration")) {
        return "";
    }
    std::vector<svg::Bar> bars;
    for (const auto& bin : m.at("calibration")) {
        const double count = number_at(bin, "count");
        if (count > 0) {
            bars.push_back({number_at(bin, "lower"), number_at(bin, "upper"),
                            number_at(bin, "accuracy"), "n=" + svg::format_number(count, 0)});
        }
    }
    svg::LinePlot plot("Reliability diagram (ECE " + value_text(number_at(m, "ece")) + ")",
                       {"Confidence (top-label probability)", 0, 1}, {"Accuracy", 0, 1});
    plot.add_bars("accuracy per confidence bin", "#0072B2", std::move(bars));
    auto diagonal = chance_line();
    diagonal.name = "perfect calibration";
    plot.add_series(diagonal);
    return section("calibration", "Calibration",
                   "<div class=\"plots\">" + plot.render() + "</div>");
}

/// train_loss and val_loss share a colour; validation is dashed.
svg::Series history_series(const std::string& key, const std::vector<core::EpochRecord>& history,
                           std::size_t color_index) {
    svg::Series s{key, {}, {}, svg::palette_color(color_index)};
    s.style = key.rfind("val_", 0) == 0 ? svg::LineStyle::kDashed : svg::LineStyle::kSolid;
    s.markers = history.size() <= static_cast<std::size_t>(kMarkerMaxEpochs);
    for (const auto& record : history) {
        const auto it = record.metrics.find(key);
        if (it != record.metrics.end()) {
            s.x.push_back(record.epoch);
            s.y.push_back(it->second);
        }
    }
    return s;
}

std::string history_plot(const std::string& title, const std::string& y_label,
                         const std::vector<std::string>& keys,
                         const std::vector<core::EpochRecord>& history) {
    std::map<std::string, std::size_t> colors;
    std::vector<svg::Series> series;
    std::vector<double> xs, ys;
    for (const auto& key : keys) {
        const auto underscore = key.find('_');
        const std::string stem = underscore == std::string::npos ? key : key.substr(underscore);
        colors.try_emplace(stem, colors.size());
        series.push_back(history_series(key, history, colors[stem]));
        xs.insert(xs.end(), series.back().x.begin(), series.back().x.end());
        ys.insert(ys.end(), series.back().y.begin(), series.back().y.end());
    }
    svg::LinePlot plot(title, svg::nice_axis("Epoch", xs), svg::nice_axis(y_label, ys));
    for (auto& s : series) {
        plot.add_series(std::move(s));
    }
    return plot.render();
}

std::string training_section(const std::vector<core::EpochRecord>& history) {
    std::set<std::string> keys;
    for (const auto& record : history) {
        for (const auto& [key, value] : record.metrics) {
            keys.insert(key);
        }
    }
    if (keys.empty()) {
        return section("training", "Training curves",
                       note("No training history was recorded for this model."));
    }
    std::vector<std::string> losses, others;
    for (const auto& key : keys) {
        (key.find("loss") != std::string::npos ? losses : others).push_back(key);
    }
    std::string plots = "<div class=\"plots\">";
    if (!losses.empty()) {
        plots += history_plot("Loss", "Loss", losses, history);
    }
    if (!others.empty()) {
        plots += history_plot("Metrics", "Value", others, history);
    }
    return section("training", "Training curves", plots + "</div>");
}

}  // namespace

std::string render_report(const ReportInput& input) {
    const json& m = input.metrics.is_object() ? input.metrics : json::object();
    const std::vector<std::string> names = class_names_of(input);

    std::string html = document_head(input);
    html += header_block(input);
    html += metrics_table(m);
    html += curves_section(m, names);
    html += confusion_section(m, names);
    html += calibration_section(m);
    html += training_section(input.history);
    html += per_class_table(m);
    html += config_block(input.config);
    html +=
        "<footer>MedFusion evaluation report \u00b7 " + escape(input.created_at) + "</footer>\n";
    return html + "</main></body>\n</html>\n";
}

void write_report(const std::filesystem::path& path, const ReportInput& input) {
    write_file_atomically(path, render_report(input));
}

}  // namespace medfusion::train
