// predictions.csv: exact content, RFC 4180 quoting checked with Python's csv module, and
// round-trip exact probabilities.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "medfusion/train/report.hpp"

namespace medfusion::train {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
    const auto dir =
        fs::temp_directory_path() / ("medfusion_" + name + "_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
}

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

TEST(PredictionsCsvTest, WritesOneLinePerSampleWithTheFirstArgmax) {
    const auto dir = temp_dir("predictions");
    const auto path = dir / "reports" / "predictions.csv";
    write_predictions_csv(path, {10, 11, 12}, {0, 1, 1}, {{0.7, 0.3}, {0.5, 0.5}, {0.1, 0.9}},
                          {"benign", "malignant"});
    EXPECT_EQ(read_all(path),
              "row,true_label,predicted_label,prob_benign,prob_malignant\n"
              "10,benign,benign,0.69999999999999996,0.29999999999999999\n"
              "11,malignant,benign,0.5,0.5\n"
              "12,malignant,malignant,0.10000000000000001,0.90000000000000002\n");
    EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
    fs::remove_all(dir);
}

TEST(PredictionsCsvTest, QuotesNamesAsPythonCsvReadsThem) {
    const auto dir = temp_dir("predictions_quoting");
    const auto path = dir / "predictions.csv";
    const std::vector<std::string> names = {"nevus, atypical", "say \"melanoma\"", "line\nbreak"};
    const double third = 1.0 / 3.0;
    write_predictions_csv(path, {0, 1}, {0, 2}, {{0.2, 0.5, 0.3}, {third, third, third}}, names);

    // Python's csv module is the RFC 4180 reader of reference.
    const auto out = dir / "parsed.json";
    const std::string command =
        "/usr/bin/python3 -c \"import csv, json, sys; "
        "json.dump(list(csv.reader(open(sys.argv[1], newline=''))), "
        "open(sys.argv[2], 'w'))\" '" +
        path.string() + "' '" + out.string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
    const auto rows = nlohmann::json::parse(read_all(out));
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0][3], "prob_nevus, atypical");
    EXPECT_EQ(rows[0][4], "prob_say \"melanoma\"");
    EXPECT_EQ(rows[0][5], "prob_line\nbreak");
    EXPECT_EQ(rows[1][2], "say \"melanoma\"");
    EXPECT_EQ(rows[2][1], "line\nbreak");
    EXPECT_EQ(rows[2][2], "nevus, atypical");  // a three-way tie goes to the first class
    EXPECT_EQ(std::stod(rows[2][3].get<std::string>()), third);
    fs::remove_all(dir);
}

TEST(PredictionsCsvTest, RejectsMismatchedSizes) {
    const auto path = fs::temp_directory_path() / "medfusion_never_written.csv";
    EXPECT_THROW(write_predictions_csv(path, {0}, {0, 1}, {{1, 0}, {0, 1}}, {"a", "b"}),
                 std::invalid_argument);
    EXPECT_THROW(write_predictions_csv(path, {0}, {2}, {{1, 0}}, {"a", "b"}),
                 std::invalid_argument);
    EXPECT_THROW(write_predictions_csv(path, {0}, {0}, {{1, 0, 0}}, {"a", "b"}),
                 std::invalid_argument);
    EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace medfusion::train
