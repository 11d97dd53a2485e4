// TabularPreprocessor tests: type inference, the train-only fit, encodings and the JSON state.
#include "medfusion/data/tabular_preprocessor.hpp"

#include <gtest/gtest.h>

#include "medfusion/data/data_error.hpp"

namespace medfusion::data {
namespace {

const std::vector<std::string> kMissing = {"", "NA", "N/A", "NaN", "nan", "null", "None", "UNK"};

TEST(TabularPreprocessorTest, InfersBooleanFromTrueFalseWithUnknownTokens) {
    EXPECT_EQ(infer_column_type({"True", "False", "UNK", "", "TRUE"}, kMissing),
              ColumnType::kBoolean);
    EXPECT_EQ(infer_column_type({"yes", "No", "YES"}, kMissing), ColumnType::kBoolean);
    EXPECT_EQ(infer_column_type({"0", "1", "1"}, kMissing), ColumnType::kBoolean);
}

TEST(TabularPreprocessorTest, InfersNumericAndCategorical) {
    EXPECT_EQ(infer_column_type({"1.0", "2.0", "", "5"}, kMissing), ColumnType::kNumeric);
    EXPECT_EQ(infer_column_type({"0", "1", "2"}, kMissing), ColumnType::kNumeric);
    EXPECT_EQ(infer_column_type({"-3.5e2", "+4"}, kMissing), ColumnType::kNumeric);
    EXPECT_EQ(infer_column_type({"FACE", "ARM", "1"}, kMissing), ColumnType::kCategorical);
    EXPECT_EQ(infer_column_type({"12abc"}, kMissing), ColumnType::kCategorical);
    EXPECT_EQ(infer_column_type({"", "UNK"}, kMissing), ColumnType::kCategorical);
}

TEST(TabularPreprocessorTest, ScalerIsFittedOnTrainingValuesOnly) {
    // Training ages 1..4: mean 2.5, population std sqrt(1.25) (sklearn StandardScaler).
    const auto preprocessor =
        TabularPreprocessor::fit({"age"}, {ColumnType::kNumeric}, {{"1", "2", "3", "4"}}, kMissing);
    EXPECT_DOUBLE_EQ(preprocessor.columns()[0].mean, 2.5);
    EXPECT_DOUBLE_EQ(preprocessor.columns()[0].std, std::sqrt(1.25));

    // A validation value of 100 is encoded with the training statistics, never refitted.
    const auto row = preprocessor.transform({"100"});
    EXPECT_NEAR(row[0], (100.0 - 2.5) / std::sqrt(1.25), 1e-4);
    EXPECT_FLOAT_EQ(row[1], 0.0f);
}

TEST(TabularPreprocessorTest, MissingNumberIsMeanImputedWithIndicator) {
    const auto preprocessor =
        TabularPreprocessor::fit({"d"}, {ColumnType::kNumeric}, {{"2", "", "4", "UNK"}}, kMissing);
    EXPECT_DOUBLE_EQ(preprocessor.columns()[0].mean, 3.0);
    EXPECT_EQ(preprocessor.transform({"UNK"}), (std::vector<float>{0.0f, 1.0f}));
    EXPECT_EQ(preprocessor.transform({"not a number"}), (std::vector<float>{0.0f, 1.0f}));
    EXPECT_EQ(preprocessor.transform({"4"}), (std::vector<float>{1.0f, 0.0f}));
}

TEST(TabularPreprocessorTest, ConstantColumnKeepsUnitScale) {
    const auto preprocessor =
        TabularPreprocessor::fit({"c"}, {ColumnType::kNumeric}, {{"7", "7"}}, kMissing);
    EXPECT_DOUBLE_EQ(preprocessor.columns()[0].std, 1.0);
    EXPECT_FLOAT_EQ(preprocessor.transform({"9"})[0], 2.0f);
}

TEST(TabularPreprocessorTest, CategoricalIsOneHotWithMissingSlotForUnseen) {
    const auto preprocessor = TabularPreprocessor::fit({"region"}, {ColumnType::kCategorical},
                                                       {{"FACE", "ARM", "FACE", ""}}, kMissing);
    EXPECT_EQ(preprocessor.columns()[0].categories, (std::vector<std::string>{"ARM", "FACE"}));
    EXPECT_EQ(preprocessor.num_features(), 3);
    EXPECT_EQ(preprocessor.transform({"FACE"}), (std::vector<float>{0, 1, 0}));
    EXPECT_EQ(preprocessor.transform({"NOSE"}), (std::vector<float>{0, 0, 1}));
    EXPECT_EQ(preprocessor.transform({""}), (std::vector<float>{0, 0, 1}));
}

TEST(TabularPreprocessorTest, BooleanTokensShareOneEncoding) {
    const auto preprocessor = TabularPreprocessor::fit({"itch"}, {ColumnType::kBoolean},
                                                       {{"True", "False", "UNK"}}, kMissing);
    EXPECT_EQ(preprocessor.transform({"True"}), (std::vector<float>{0, 1, 0}));
    EXPECT_EQ(preprocessor.transform({"yes"}), (std::vector<float>{0, 1, 0}));
    EXPECT_EQ(preprocessor.transform({"0"}), (std::vector<float>{1, 0, 0}));
    EXPECT_EQ(preprocessor.transform({"UNK"}), (std::vector<float>{0, 0, 1}));
}

TEST(TabularPreprocessorTest, JsonRoundTripEncodesIdentically) {
    const std::vector<std::vector<std::string>> columns = {
        {"0.1", "0.7", "13.25", ""}, {"B", "A", "C", "A"}, {"True", "False", "True", "UNK"}};
    const auto fitted = TabularPreprocessor::fit(
        {"x", "site", "flag"},
        {ColumnType::kNumeric, ColumnType::kCategorical, ColumnType::kBoolean}, columns, kMissing);

    // Through text, as a checkpoint stores it.
    const auto reloaded =
        TabularPreprocessor::from_json(nlohmann::json::parse(fitted.to_json().dump()));
    EXPECT_EQ(reloaded.num_features(), 2 + 4 + 3);
    for (const auto& row : std::vector<std::vector<std::string>>{
             {"0.3", "C", "False"}, {"", "Z", "UNK"}, {"1e3", "A", "true"}}) {
        EXPECT_EQ(reloaded.transform(row), fitted.transform(row));
    }
}

TEST(TabularPreprocessorTest, MalformedStateIsADataError) {
    EXPECT_THROW(TabularPreprocessor::from_json({{"columns", 3}}), DataError);
}

}  // namespace
}  // namespace medfusion::data
