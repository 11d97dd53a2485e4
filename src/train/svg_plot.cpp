// SVG chart builders for the evaluation report. Geometry is in CSS pixels; styling of text and
// lines comes from the report's stylesheet through the class names used here.
#include "svg_plot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace medfusion::train::svg {
namespace {

constexpr double kWidth = 480;                  // whole line plot
constexpr double kPlotHeight = 290;             // inner plot area
constexpr double kMarginLeft = 58;              // room for y tick labels and the y title
constexpr double kMarginRight = 18;             // keeps the last x tick label inside
constexpr double kMarginTop = 34;               // the title
constexpr double kMarginBottom = 46;            // x tick labels and the x title
constexpr double kLegendRow = 17;               // height of one legend line
constexpr int kTargetTicks = 5;                 // tick count nice_step aims at
constexpr std::size_t kHeatmapLabelChars = 16;  // longer class names are shortened
constexpr double kCharWidth = 6.4;              // average glyph width of 11px sans-serif

std::string px(double value) {
    return format_number(value, 1);
}

double nice_step(double span) {
    if (!(span > 0)) {
        return 1.0;
    }
    const double rough = span / kTargetTicks;
    const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
    const double normalised = rough / magnitude;
    const double factor = normalised < 1.5   ? 1.0
                          : normalised < 3.0 ? 2.0
                          : normalised < 7.0 ? 5.0
                                             : 10.0;
    return factor * magnitude;
}

int decimals_for(double step) {
    return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
}

std::vector<double> ticks(const Axis& axis) {
    const double step = nice_step(axis.max - axis.min);
    std::vector<double> out;
    for (double t = std::ceil(axis.min / step - 1e-9) * step; t <= axis.max + step * 1e-9;
         t += step) {
        out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    }
    return out;
}

std::string text(double x, double y, std::string_view content, std::string_view css_class,
                 std::string_view extra = {}) {
    std::string out =
        "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" class=\"" + std::string(css_class) + "\"";
    if (!extra.empty()) {
        out += " " + std::string(extra);
    }
    return out + ">" + escape(content) + "</text>";
}

std::string line(double x1, double y1, double x2, double y2, std::string_view css_class) {
    return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" +
           px(y2) + "\" class=\"" + std::string(css_class) + "\"/>";
}

std::string svg_open(double width, double height, std::string_view title) {
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"" + px(width) +
           "\" height=\"" + px(height) + "\" viewBox=\"0 0 " + px(width) + " " + px(height) +
           "\" role=\"img\" aria-label=\"" + escape(title) + "\"><title>" + escape(title) +
           "</title>";
}

/// Blues colour ramp: t = 0 is near white, t = 1 dark blue.
std::string ramp_color(double t) {
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
    const auto mix = [t](int a, int b) { return static_cast<int>(std::lround(a + (b - a) * t)); };
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", mix(247, 8), mix(251, 48), mix(255, 107));
    return buffer;
}

enum class Swatch { kLine, kDashed, kBar, kMarker };

struct LegendEntry {
    std::string name;
    std::string color;
    Swatch swatch;
};

/// The 18 px sample drawn before a legend entry's name, centred on y.
std::string legend_swatch(const LegendEntry& e, double x, double y) {
    const std::string color = escape(e.color);
    switch (e.swatch) {
        case Swatch::kBar:
            return "<rect x=\"" + px(x) + "\" y=\"" + px(y - 5) +
                   "\" width=\"18\" height=\"10\" fill=\"" + color + "\" class=\"bar\"/>";
        case Swatch::kMarker:
            return "<circle cx=\"" + px(x + 9) + "\" cy=\"" + px(y) + "\" r=\"5\" fill=\"" + color +
                   "\"/>";
        case Swatch::kDashed:
        case Swatch::kLine:
            break;
    }
    const std::string dash = e.swatch == Swatch::kDashed ? " stroke-dasharray=\"5 3\"" : "";
    return "<line x1=\"" + px(x) + "\" y1=\"" + px(y) + "\" x2=\"" + px(x + 18) + "\" y2=\"" +
           px(y) + "\" stroke=\"" + color + "\" stroke-width=\"2.5\"" + dash + "/>";
}

}  // namespace

std::string escape(std::string_view input) {
    std::string out;
    out.reserve(input.size());
    for (char c : input) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string shorten(std::string_view input, std::size_t max_chars) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < input.size(); ++i) {
        const bool starts_char = (static_cast<unsigned char>(input[i]) & 0xC0) != 0x80;
        if (starts_char && ++chars > max_chars) {
            return std::string(input.substr(0, i)) + "\u2026";
        }
    }
    return std::string(input);
}

std::string format_number(double value, int decimals) {
    if (!std::isfinite(value)) {
        return "-";
    }
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    const std::string out = buffer;
    // A negative value that rounds to zero reads "0", not "-0.00".
    const bool negative_zero = out[0] == '-' && out.find_first_not_of("-0.") == std::string::npos;
    return negative_zero ? out.substr(1) : out;
}

std::string palette_color(std::size_t k) {
    // Okabe-Ito, then a few Tableau tones for larger class counts.
    static constexpr std::array<const char*, 10> kColors = {
        "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
        "#D55E00", "#F0E442", "#000000", "#8C564B", "#7F7F7F"};
    return kColors[k % kColors.size()];
}

Axis nice_axis(std::string label, const std::vector<double>& values) {
    double lo = INFINITY;
    double hi = -INFINITY;
    for (double v : values) {
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    if (lo > hi) {
        return {std::move(label), 0.0, 1.0};
    }
    if (hi - lo < 1e-12) {
        const double pad = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
        lo -= pad;
        hi += pad;
    }
    // Round the bounds to the tick step; widening can change the step, so settle it.
    double step = nice_step(hi - lo);
    for (int round = 0; round < 4; ++round) {
        lo = std::floor(lo / step + 1e-9) * step;
        hi = std::ceil(hi / step - 1e-9) * step;
        const double settled = nice_step(hi - lo);
        if (settled == step) {
            break;
        }
        step = settled;
    }
    return {std::move(label), lo, hi};
}

// ---- LinePlot -----------------------------------------------------------------------------

LinePlot::LinePlot(std::string title, Axis x, Axis y)
    : title_(std::move(title)), x_(std::move(x)), y_(std::move(y)) {}

void LinePlot::add_series(Series series) {
    series_.push_back(std::move(series));
}

void LinePlot::add_bars(std::string name, std::string color, std::vector<Bar> bars) {
    bar_groups_.push_back({std::move(name), std::move(color), std::move(bars)});
}

double LinePlot::to_px_x(double x) const {
    const double width = kWidth - kMarginLeft - kMarginRight;
    return kMarginLeft + (x - x_.min) / (x_.max - x_.min) * width;
}

double LinePlot::to_px_y(double y) const {
    return kMarginTop + kPlotHeight - (y - y_.min) / (y_.max - y_.min) * kPlotHeight;
}

int LinePlot::legend_rows() const {
    int entries = 0;
    for (const auto& s : series_) {
        entries += s.name.empty() ? 0 : 1;
    }
    entries += static_cast<int>(bar_groups_.size());
    const int columns = entries > 3 ? 2 : 1;
    return (entries + columns - 1) / columns;
}

std::string LinePlot::render() const {
    const double height = kMarginTop + kPlotHeight + kMarginBottom + legend_rows() * kLegendRow;
    std::string out = svg_open(kWidth, height, title_);
    out += text(kWidth / 2, 20, title_, "plot-title", "text-anchor=\"middle\"");
    render_axes(out);
    render_bars(out);
    for (const auto& series : series_) {
        render_series(out, series);
    }
    render_legend(out);
    return out + "</svg>";
}

void LinePlot::render_axes(std::string& out) const {
    const double left = kMarginLeft;
    const double right = kWidth - kMarginRight;
    const double top = kMarginTop;
    const double bottom = kMarginTop + kPlotHeight;

    // Grid lines and tick labels, then the frame over them.
    const int x_decimals = decimals_for(nice_step(x_.max - x_.min));
    for (double t : ticks(x_)) {
        out += line(to_px_x(t), top, to_px_x(t), bottom, "grid");
        out += line(to_px_x(t), bottom, to_px_x(t), bottom + 5, "tick");
        out += text(to_px_x(t), bottom + 17, format_number(t, x_decimals), "tick-label",
                    "text-anchor=\"middle\"");
    }
    const int y_decimals = decimals_for(nice_step(y_.max - y_.min));
    for (double t : ticks(y_)) {
        out += line(left, to_px_y(t), right, to_px_y(t), "grid");
        out += line(left - 5, to_px_y(t), left, to_px_y(t), "tick");
        out += text(left - 8, to_px_y(t) + 4, format_number(t, y_decimals), "tick-label",
                    "text-anchor=\"end\"");
    }
    out += "<rect x=\"" + px(left) + "\" y=\"" + px(top) + "\" width=\"" + px(right - left) +
           "\" height=\"" + px(kPlotHeight) + "\" class=\"frame\"/>";

    // Axis titles.
    out += text((left + right) / 2, bottom + 36, x_.label, "axis-label", "text-anchor=\"middle\"");
    const double mid_y = (top + bottom) / 2;
    out += text(16, mid_y, y_.label, "axis-label",
                "text-anchor=\"middle\" transform=\"rotate(-90 16 " + px(mid_y) + ")\"");
}

void LinePlot::render_bars(std::string& out) const {
    for (const auto& group : bar_groups_) {
        for (const auto& bar : group.bars) {
            const double x0 = to_px_x(bar.x0) + 1;
            const double x1 = to_px_x(bar.x1) - 1;
            const double y0 = to_px_y(std::max(y_.min, 0.0));
            const double y1 = to_px_y(bar.height);
            out += "<rect x=\"" + px(x0) + "\" y=\"" + px(std::min(y0, y1)) + "\" width=\"" +
                   px(std::max(x1 - x0, 0.0)) + "\" height=\"" + px(std::abs(y0 - y1)) +
                   "\" fill=\"" + escape(group.color) + "\" class=\"bar\"/>";
            if (!bar.label.empty()) {
                out += text((x0 + x1) / 2, std::min(y0, y1) - 3, bar.label, "bar-label",
                            "text-anchor=\"middle\"");
            }
        }
    }
}

void LinePlot::render_series(std::string& out, const Series& series) const {
    std::string points;
    for (std::size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
        if (!std::isfinite(series.x[i]) || !std::isfinite(series.y[i])) {
            continue;
        }
        if (series.style == LineStyle::kStepPost && i > 0 && std::isfinite(series.y[i - 1])) {
            points += px(to_px_x(series.x[i])) + "," + px(to_px_y(series.y[i - 1])) + " ";
        }
        points += px(to_px_x(series.x[i])) + "," + px(to_px_y(series.y[i])) + " ";
    }
    const std::string dash =
        series.style == LineStyle::kDashed ? " stroke-dasharray=\"6 4\"" : std::string();
    if (series.width > 0) {
        out += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" +
               escape(series.color) + "\" stroke-width=\"" + px(series.width) + "\"" + dash +
               " class=\"series\"/>";
    }
    if (series.markers) {
        for (std::size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
            if (std::isfinite(series.x[i]) && std::isfinite(series.y[i])) {
                out += "<circle cx=\"" + px(to_px_x(series.x[i])) + "\" cy=\"" +
                       px(to_px_y(series.y[i])) + "\" r=\"" + px(series.marker_radius) +
                       "\" fill=\"" + escape(series.color) + "\"/>";
            }
        }
    }
}

void LinePlot::render_legend(std::string& out) const {
    std::vector<LegendEntry> entries;
    for (const auto& s : series_) {
        if (!s.name.empty()) {
            const Swatch swatch = s.width <= 0                    ? Swatch::kMarker
                                  : s.style == LineStyle::kDashed ? Swatch::kDashed
                                                                  : Swatch::kLine;
            entries.push_back({s.name, s.color, swatch});
        }
    }
    for (const auto& g : bar_groups_) {
        entries.push_back({g.name, g.color, Swatch::kBar});
    }

    // One or two columns under the plot.
    const int columns = entries.size() > 3 ? 2 : 1;
    const double column_width = (kWidth - kMarginLeft - kMarginRight) / columns;
    const double top = kMarginTop + kPlotHeight + kMarginBottom;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const double x = kMarginLeft + static_cast<double>(i % columns) * column_width;
        const double y = top + static_cast<double>(i / columns) * kLegendRow + 4;
        out += legend_swatch(entries[i], x, y);
        const std::size_t max_chars = columns == 2 ? 32 : 64;
        out += text(x + 24, y + 4, shorten(entries[i].name, max_chars), "legend");
    }
}

// ---- Heatmap ------------------------------------------------------------------------------

namespace {

/// Where a heat map's parts go, in pixels.
struct HeatmapLayout {
    double cell = 0, left = 0, top = 34, grid_w = 0, grid_h = 0, width = 0, height = 0;
};

HeatmapLayout heatmap_layout(const Heatmap& h) {
    const std::size_t rows = h.values.size();
    const std::size_t columns = h.column_labels.size();
    std::size_t longest = 1;
    for (const auto* labels : {&h.row_labels, &h.column_labels}) {
        for (const auto& label : *labels) {
            longest = std::max(longest, std::min(label.size(), kHeatmapLabelChars));
        }
    }
    const double label_px = static_cast<double>(longest) * kCharWidth;
    HeatmapLayout l;
    l.cell = std::clamp(300.0 / static_cast<double>(std::max(rows, columns)), 22.0, 64.0);
    l.left = 34 + label_px + 8;
    l.grid_w = l.cell * static_cast<double>(columns);
    l.grid_h = l.cell * static_cast<double>(rows);
    l.width = std::max(l.left + l.grid_w + 80, 300.0);
    l.height = l.top + l.grid_h + 12 + 0.6 * label_px + 34;  // slanted labels, then the title
    return l;
}

/// Cells with their values; dark cells get light text.
void render_cells(std::string& out, const Heatmap& h, const HeatmapLayout& l) {
    const std::string font = l.cell >= 36 ? "cell-text" : "cell-text small";
    for (std::size_t r = 0; r < h.values.size(); ++r) {
        for (std::size_t c = 0; c < h.values[r].size(); ++c) {
            const double x = l.left + l.cell * static_cast<double>(c);
            const double y = l.top + l.cell * static_cast<double>(r);
            const double t = h.max_value > 0 ? h.values[r][c] / h.max_value : 0.0;
            out += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(l.cell) +
                   "\" height=\"" + px(l.cell) + "\" fill=\"" + ramp_color(t) +
                   "\" class=\"cell\"/>";
            out += text(x + l.cell / 2, y + l.cell / 2 + 4, h.cell_text[r][c],
                        font + (t > 0.55 ? " on-dark" : ""), "text-anchor=\"middle\"");
        }
    }
}

/// Row labels left, column labels below (slanted), then the axis titles.
void render_heatmap_labels(std::string& out, const Heatmap& h, const HeatmapLayout& l) {
    for (std::size_t r = 0; r < h.row_labels.size(); ++r) {
        const double y = l.top + l.cell * (static_cast<double>(r) + 0.5) + 4;
        out += text(l.left - 6, y, shorten(h.row_labels[r], kHeatmapLabelChars), "tick-label",
                    "text-anchor=\"end\"");
    }
    for (std::size_t c = 0; c < h.column_labels.size(); ++c) {
        const double x = l.left + l.cell * (static_cast<double>(c) + 0.5);
        const double y = l.top + l.grid_h + 14;
        out += text(x, y, shorten(h.column_labels[c], kHeatmapLabelChars), "tick-label",
                    "text-anchor=\"end\" transform=\"rotate(-35 " + px(x) + " " + px(y) + ")\"");
    }
    const double mid_y = l.top + l.grid_h / 2;
    out += text(14, mid_y, h.row_title, "axis-label",
                "text-anchor=\"middle\" transform=\"rotate(-90 14 " + px(mid_y) + ")\"");
    out += text(l.left + l.grid_w / 2, l.height - 8, h.column_title, "axis-label",
                "text-anchor=\"middle\"");
}

/// Colour scale: ten steps from 0 (bottom) to max_value (top).
void render_color_scale(std::string& out, const Heatmap& h, const HeatmapLayout& l) {
    constexpr int kSteps = 10;
    const double x = l.left + l.grid_w + 14;
    for (int s = 0; s < kSteps; ++s) {
        const double y = l.top + l.grid_h * (kSteps - 1 - s) / kSteps;
        out += "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"12\" height=\"" +
               px(l.grid_h / kSteps + 0.5) + "\" fill=\"" + ramp_color((s + 0.5) / kSteps) + "\"/>";
    }
    const int decimals = h.max_value > 1.0 ? 0 : 1;
    out += text(x + 16, l.top + 8, format_number(h.max_value, decimals), "tick-label");
    out += text(x + 16, l.top + l.grid_h, "0", "tick-label");
}

}  // namespace

std::string render_heatmap(const Heatmap& h) {
    const HeatmapLayout layout = heatmap_layout(h);
    std::string out = svg_open(layout.width, layout.height, h.title);
    out += text(layout.width / 2, 20, h.title, "plot-title", "text-anchor=\"middle\"");
    render_cells(out, h, layout);
    render_heatmap_labels(out, h, layout);
    render_color_scale(out, h, layout);
    return out + "</svg>";
}

}  // namespace medfusion::train::svg
