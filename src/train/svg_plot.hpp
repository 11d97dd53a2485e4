// Small SVG chart builders for the evaluation report: line/step plots with axes, ticks, grid and
// a legend, bar overlays, and annotated heat maps. Output is well-formed XML (XHTML-safe).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace medfusion::train::svg {

/// Escapes & < > " ' for HTML text and attribute values.
std::string escape(std::string_view text);

/// Shortens to at most `max_chars` code points, with an ellipsis when cut.
std::string shorten(std::string_view text, std::size_t max_chars);

/// `value` with `decimals` digits after the point ("-" when not finite).
std::string format_number(double value, int decimals);

/// The k-th colour of a colour-blind-friendly categorical palette (cycles).
std::string palette_color(std::size_t k);

/// A numeric axis: its title and the range drawn.
struct Axis {
    std::string label;
    double min = 0.0;
    double max = 1.0;
};

/// An axis over `values` widened to round tick steps (finite values only; [0, 1] when none).
Axis nice_axis(std::string label, const std::vector<double>& values);

enum class LineStyle { kSolid, kDashed, kStepPost };

struct Series {
    std::string name;  // empty: not in the legend
    std::vector<double> x;
    std::vector<double> y;
    std::string color;
    LineStyle style = LineStyle::kSolid;
    bool markers = false;
    double width = 2.0;  // 0: markers only, no line
    double marker_radius = 3.0;
};

/// A vertical bar from x0 to x1 and 0 to height, with an optional label above it.
struct Bar {
    double x0 = 0, x1 = 0, height = 0;
    std::string label;
};

/// A plot over fixed axes. Build it, then render() once; not thread-safe while building.
class LinePlot {
public:
    LinePlot(std::string title, Axis x, Axis y);

    void add_series(Series series);
    void add_bars(std::string name, std::string color, std::vector<Bar> bars);
    std::string render() const;

private:
    struct BarGroup {
        std::string name;
        std::string color;
        std::vector<Bar> bars;
    };

    double to_px_x(double x) const;
    double to_px_y(double y) const;
    void render_axes(std::string& out) const;
    void render_bars(std::string& out) const;
    void render_series(std::string& out, const Series& series) const;
    void render_legend(std::string& out) const;
    int legend_rows() const;

    std::string title_;
    Axis x_;
    Axis y_;
    std::vector<Series> series_;
    std::vector<BarGroup> bar_groups_;
};

/// A matrix drawn as coloured cells with the value text in each cell.
struct Heatmap {
    std::string title;
    std::vector<std::string> row_labels;     // y axis, top to bottom
    std::vector<std::string> column_labels;  // x axis, left to right
    std::vector<std::vector<double>> values;
    std::vector<std::vector<std::string>> cell_text;
    double max_value = 1.0;  // value drawn with the darkest colour
    std::string row_title;
    std::string column_title;
};

std::string render_heatmap(const Heatmap& heatmap);

}  // namespace medfusion::train::svg
