// CsvReader tests: each RFC 4180 oddity, error messages, and a 100,000-row file.
#include "medfusion/data/csv_reader.hpp"

#include <gtest/gtest.h>

#include "data/data_test_support.hpp"
#include "medfusion/data/data_error.hpp"

namespace medfusion::data {
namespace {

std::string error_of(const std::string& text) {
    try {
        parse_csv(text, "train.csv");
    } catch (const DataError& e) {
        return e.what();
    }
    return "no error";
}

TEST(CsvReaderTest, QuotedFieldHoldsCommas) {
    const CsvTable table = parse_csv("a,b\n\"1,5\",x\n", "t.csv");
    ASSERT_EQ(table.rows.size(), 1u);
    EXPECT_EQ(table.rows[0][0], "1,5");
    EXPECT_EQ(table.rows[0][1], "x");
}

TEST(CsvReaderTest, QuotedFieldHoldsNewlineAndLinesStayCounted) {
    const CsvTable table = parse_csv("a,b\n\"line one\nline two\",x\n3,y\n", "t.csv");
    ASSERT_EQ(table.rows.size(), 2u);
    EXPECT_EQ(table.rows[0][0], "line one\nline two");
    EXPECT_EQ(table.lines[0], 2);
    EXPECT_EQ(table.lines[1], 4);
}

TEST(CsvReaderTest, DoubledQuotesBecomeOneQuote) {
    const CsvTable table = parse_csv("a\n\"say \"\"hi\"\"\"\n", "t.csv");
    EXPECT_EQ(table.rows[0][0], "say \"hi\"");
}

TEST(CsvReaderTest, CrlfLineEndingsAreStripped) {
    const CsvTable table = parse_csv("a,b\r\n1,2\r\n3,4\r\n", "t.csv");
    ASSERT_EQ(table.rows.size(), 2u);
    EXPECT_EQ(table.header[1], "b");
    EXPECT_EQ(table.rows[1][1], "4");
}

TEST(CsvReaderTest, Utf8ByteOrderMarkIsSkipped) {
    const CsvTable table = parse_csv("\xEF\xBB\xBFimage_path,label\nx.png,A\n", "t.csv");
    EXPECT_EQ(table.header[0], "image_path");
    EXPECT_EQ(table.column("image_path"), 0u);
}

TEST(CsvReaderTest, EmptyFieldsAndMissingTrailingNewlineAreKept) {
    const CsvTable table = parse_csv("a,b,c\n,,\n1,,3", "t.csv");
    ASSERT_EQ(table.rows.size(), 2u);
    EXPECT_EQ(table.rows[0], (std::vector<std::string>{"", "", ""}));
    EXPECT_EQ(table.rows[1], (std::vector<std::string>{"1", "", "3"}));
}

TEST(CsvReaderTest, BlankLinesAreSkipped) {
    const CsvTable table = parse_csv("a,b\n1,2\n\n3,4\n\n", "t.csv");
    ASSERT_EQ(table.rows.size(), 2u);
    EXPECT_EQ(table.lines[1], 4);
}

TEST(CsvReaderTest, RaggedRowNamesFileAndLine) {
    EXPECT_EQ(error_of("a,b\n1,2\n3\n"), "train.csv line 3: expected 2 fields, found 1");
}

TEST(CsvReaderTest, UnterminatedQuoteNamesTheLineItOpened) {
    EXPECT_EQ(error_of("a\n1\n\"open\nnever closed\n"),
              "train.csv line 3: quoted field is never closed");
}

TEST(CsvReaderTest, EmptyInputIsAnError) {
    EXPECT_EQ(error_of(""), "train.csv: empty file, expected a header row");
}

TEST(CsvReaderTest, MissingFileIsADataError) {
    EXPECT_THROW(read_csv("/nonexistent/medfusion/train.csv"), DataError);
}

TEST(CsvReaderTest, ReadsHundredThousandRows) {
    std::string text = "image_path,age,label\n";
    for (int i = 0; i < 100000; ++i) {
        text += "img_" + std::to_string(i) + ".png," + std::to_string(i % 90) + ",\"c,1\"\n";
    }
    testing::TempDir dir;
    const CsvTable table = read_csv(dir.write("big.csv", text));
    ASSERT_EQ(table.rows.size(), 100000u);
    EXPECT_EQ(table.rows[99999][0], "img_99999.png");
    EXPECT_EQ(table.rows[99999][1], "9");
    EXPECT_EQ(table.rows[99999][2], "c,1");
    EXPECT_EQ(table.lines[99999], 100001);
    EXPECT_EQ(table.source, "big.csv");
}

TEST(CsvReaderTest, ReadsPadUfesTrainingSplit) {
    const CsvTable table = read_csv(testing::pad_ufes_dir() / "train.csv");
    EXPECT_EQ(table.rows.size(), 464u);
    EXPECT_EQ(table.header.size(), 23u);
    EXPECT_EQ(table.rows[0][0], "images/PAT_1008_59_297.png");
    EXPECT_EQ(table.rows[0][22], "SEK");
}

}  // namespace
}  // namespace medfusion::data
