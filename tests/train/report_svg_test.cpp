// The SVG chart builders: escaping, number and axis formatting, and the elements each chart draws.
#include "train/svg_plot.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace medfusion::train::svg {
namespace {

std::size_t count_of(const std::string& haystack, const std::string& needle) {
    std::size_t count = 0;
    for (auto at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + 1)) {
        ++count;
    }
    return count;
}

TEST(SvgPlotTest, EscapesMarkupCharacters) {
    EXPECT_EQ(escape("<b class=\"x\">Tom & Jerry's</b>"),
              "&lt;b class=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;");
}

TEST(SvgPlotTest, ShortensByCodePointsWithAnEllipsis) {
    EXPECT_EQ(shorten("melanoma", 8), "melanoma");
    EXPECT_EQ(shorten("melanoma", 3), "mel\u2026");
    EXPECT_EQ(shorten("n\u00e6vus", 2), "n\u00e6\u2026");  // never splits the two-byte letter
}

TEST(SvgPlotTest, FormatsNumbersWithFixedDecimals) {
    EXPECT_EQ(format_number(0.87654, 3), "0.877");
    EXPECT_EQ(format_number(-0.0001, 2), "0.00");
    EXPECT_EQ(format_number(12.0, 0), "12");
    EXPECT_EQ(format_number(std::nan(""), 2), "-");
}

TEST(SvgPlotTest, NiceAxisWidensToRoundTicks) {
    const Axis loss = nice_axis("Loss", {0.23, 0.91, 0.5});
    EXPECT_DOUBLE_EQ(loss.min, 0.2);
    EXPECT_DOUBLE_EQ(loss.max, 1.0);
    const Axis epochs = nice_axis("Epoch", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    EXPECT_DOUBLE_EQ(epochs.min, 0.0);
    EXPECT_DOUBLE_EQ(epochs.max, 12.0);  // span 11: step 2
    const Axis flat = nice_axis("Value", {0.5});
    EXPECT_LT(flat.min, 0.5);
    EXPECT_GT(flat.max, 0.5);
}

TEST(SvgPlotTest, LinePlotDrawsTicksSeriesAndLegend) {
    LinePlot plot("ROC <curves>", {"False positive rate", 0, 1}, {"True positive rate", 0, 1});
    plot.add_series({"class A", {0, 0.5, 1}, {0, 0.8, 1}, "#0072B2"});
    plot.add_series({"chance", {0, 1}, {0, 1}, "#999999", LineStyle::kDashed});
    const std::string svg = plot.render();

    // Six ticks per axis (0, 0.2, ..., 1), each with a label.
    EXPECT_EQ(count_of(svg, "class=\"tick\""), 12u);
    EXPECT_NE(svg.find(">0.6</text>"), std::string::npos);
    EXPECT_EQ(count_of(svg, "<polyline"), 2u);
    EXPECT_EQ(count_of(svg, "stroke-dasharray"), 2u);  // the dashed series and its legend line
    EXPECT_NE(svg.find(">class A</text>"), std::string::npos);
    EXPECT_NE(svg.find("ROC &lt;curves&gt;"), std::string::npos);
    // (0.5, 0.8) maps to x = 58 + 0.5 * 404, y = 34 + 290 - 0.8 * 290.
    EXPECT_NE(svg.find("260.0,92.0"), std::string::npos);
}

TEST(SvgPlotTest, StepPostSeriesAddsTheCornerPoints) {
    LinePlot plot("PR", {"Recall", 0, 1}, {"Precision", 0, 1});
    plot.add_series({"", {1.0, 0.5, 0.0}, {0.5, 1.0, 1.0}, "#000", LineStyle::kStepPost});
    const std::string svg = plot.render();
    // (1, 0.5) then the corner (0.5, 0.5) before (0.5, 1).
    EXPECT_NE(svg.find("462.0,179.0 260.0,179.0 260.0,34.0"), std::string::npos);
}

TEST(SvgPlotTest, HeatmapDrawsOneCellAndTextPerEntry) {
    Heatmap h{
        "Confusion", {"a", "b"},   {"a", "b"},       {{5, 1}, {0, 4}}, {{"5", "1"}, {"0", "4"}},
        5.0,         "True label", "Predicted label"};
    const std::string svg = render_heatmap(h);
    EXPECT_EQ(count_of(svg, "class=\"cell\""), 4u);
    EXPECT_EQ(count_of(svg, "cell-text on-dark"), 2u);  // 5/5 and 4/5 are dark cells
    EXPECT_NE(svg.find(">Predicted label</text>"), std::string::npos);
    EXPECT_NE(svg.find("fill=\"#08306b\""), std::string::npos);  // the maximum, darkest blue
}

}  // namespace
}  // namespace medfusion::train::svg
