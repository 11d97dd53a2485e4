// prepare_data / load_split tests on generated folders and on the real PAD-UFES-20 subset.
#include "medfusion/data/prepared_data.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "data/data_test_support.hpp"
#include "medfusion/data/tabular_preprocessor.hpp"

namespace medfusion::data {
namespace {

// A small dataset: images/a.png .. images/d.png, train and val CSVs written by each test.
class SmallDataset {
public:
    SmallDataset() {
        std::filesystem::create_directories(dir_.path() / "images");
        for (const char* name : {"a", "b", "c", "d"}) {
            const cv::Mat image(8, 8, CV_8UC3, cv::Scalar(40, 80, 120));
            cv::imwrite((dir_.path() / "images" / (std::string(name) + ".png")).string(), image);
        }
    }

    core::DataConfig config(const std::string& train, const std::string& val) const {
        core::DataConfig config;
        config.train_csv = dir_.write("train.csv", train).string();
        config.val_csv = dir_.write("val.csv", val).string();
        return config;
    }

    const testing::TempDir& dir() const { return dir_; }

private:
    testing::TempDir dir_;
};

std::string error_of(const core::DataConfig& config) {
    try {
        prepare_data(config);
    } catch (const DataError& e) {
        return e.what();
    }
    return "no error";
}

core::DataConfig pad_config() {
    const auto dir = testing::pad_ufes_dir();
    core::DataConfig config;
    config.train_csv = (dir / "train.csv").string();
    config.val_csv = (dir / "val.csv").string();
    config.test_csv = (dir / "test.csv").string();
    return config;
}

// Prepared once: the pre-flight check decodes all 686 images.
const PreparedData& pad_data() {
    static const PreparedData data = prepare_data(pad_config());
    return data;
}

TEST(PreparedDataTest, LoadsPadUfesWithoutCleaning) {
    const PreparedData& data = pad_data();
    EXPECT_EQ(data.train.size(), 464u);
    EXPECT_EQ(data.val.size(), 101u);
    EXPECT_EQ(data.test.size(), 121u);
    EXPECT_EQ(data.class_names,
              (std::vector<std::string>{"ACK", "BCC", "MEL", "NEV", "SCC", "SEK"}));

    // Reference: 4 numeric x 2 + 13 boolean x 3 + gender 3, background_father 10,
    // background_mother 9, region 15 (categories + missing slot), computed in Python.
    EXPECT_EQ(data.num_features, 84);
    EXPECT_EQ(data.report["splits"]["train"]["class_counts"]["SCC"], 15);
    EXPECT_EQ(data.report["splits"]["test"]["class_counts"]["NEV"], 37);
}

TEST(PreparedDataTest, PadUfesTypesAndScalerMatchScikitLearn) {
    const PreparedData& data = pad_data();
    const auto preprocessor = TabularPreprocessor::from_json(data.preprocessing);
    std::map<std::string, ColumnEncoding> columns;
    for (const auto& column : preprocessor.columns()) {
        columns[column.name] = column;
    }
    EXPECT_EQ(columns["age"].type, ColumnType::kNumeric);
    EXPECT_EQ(columns["fitspatrick"].type, ColumnType::kNumeric);
    EXPECT_EQ(columns["itch"].type, ColumnType::kBoolean);
    EXPECT_EQ(columns["region"].type, ColumnType::kCategorical);
    EXPECT_EQ(columns["region"].categories.size(), 14u);

    // sklearn StandardScaler().fit(train.age): mean_, scale_.
    EXPECT_NEAR(columns["age"].mean, 56.002155172413794, 1e-9);
    EXPECT_NEAR(columns["age"].std, 18.23830505330199, 1e-9);
    EXPECT_NEAR(columns["diameter_1"].mean, 11.873103448275861, 1e-9);
    EXPECT_NEAR(columns["diameter_1"].std, 8.584663592086672, 1e-9);

    // First training row: age 64 → (64 - mean) / scale.
    EXPECT_NEAR(data.train.features[0][0], (64 - 56.002155172413794) / 18.23830505330199, 1e-5);
    EXPECT_EQ(data.train.source_rows[0], 2);
}

TEST(PreparedDataTest, LoadSplitReproducesFeaturesFromStoredState) {
    const core::DataConfig config = pad_config();
    const PreparedData& data = pad_data();
    const nlohmann::json stored = nlohmann::json::parse(data.preprocessing.dump());
    const Split test = load_split(config, config.test_csv, stored, data.class_names);
    ASSERT_EQ(test.size(), data.test.size());
    EXPECT_EQ(test.features, data.test.features);
    EXPECT_EQ(test.labels, data.test.labels);
    EXPECT_EQ(test.image_paths, data.test.image_paths);
}

TEST(PreparedDataTest, ValidationStatisticsDoNotLeakIntoScaler) {
    SmallDataset dataset;
    const auto config = dataset.config("image_path,x,label\nimages/a.png,1,A\nimages/b.png,3,B\n",
                                       "image_path,x,label\nimages/c.png,1000,A\n");
    const PreparedData data = prepare_data(config);
    // Train mean 2, population std 1: the val value 1000 encodes to 998.
    EXPECT_FLOAT_EQ(data.val.features[0][0], 998.0f);
    EXPECT_FLOAT_EQ(data.train.features[0][0], -1.0f);
}

TEST(PreparedDataTest, UnseenValidationLabelIsAClearError) {
    SmallDataset dataset;
    const auto config = dataset.config("image_path,label\nimages/a.png,A\nimages/b.png,B\n",
                                       "image_path,label\nimages/c.png,Z\n");
    EXPECT_EQ(error_of(config),
              "1 rows have a label never seen in the training split:\n  val.csv line 2: 'Z'");
}

TEST(PreparedDataTest, BadImagesAreAllListedAtOnce) {
    SmallDataset dataset;
    dataset.dir().write("images/broken.png", "garbage");
    const auto config = dataset.config(
        "image_path,label\nimages/a.png,A\nimages/missing.png,B\nimages/broken.png,A\n",
        "image_path,label\nimages/c.png,A\n../outside.png,B\n");
    EXPECT_EQ(error_of(config),
              "3 bad rows (set data.bad_rows: skip to leave them out):\n"
              "  train.csv line 3: images/missing.png: file not found\n"
              "  train.csv line 4: images/broken.png: cannot decode image\n"
              "  val.csv line 3: ../outside.png: image path leaves the image root");
}

TEST(PreparedDataTest, SkipDropsAndCountsBadRows) {
    SmallDataset dataset;
    auto config = dataset.config(
        "image_path,label\nimages/a.png,A\nimages/missing.png,B\nimages/b.png,B\n,A\n",
        "image_path,label\nimages/c.png,A\n");
    config.bad_rows = "skip";
    const PreparedData data = prepare_data(config);
    EXPECT_EQ(data.train.size(), 2u);
    EXPECT_EQ(data.train.skipped_rows, 2u);
    EXPECT_EQ(data.train.source_rows, (std::vector<std::int64_t>{2, 4}));
    EXPECT_EQ(data.report["skipped_rows"].size(), 2u);
    EXPECT_EQ(data.report["skipped_rows"][0]["reason"], "file not found");
    EXPECT_EQ(data.report["skipped_rows"][1]["reason"], "empty image path");
}

TEST(PreparedDataTest, IntegerLabelsAreSortedNumerically) {
    SmallDataset dataset;
    const auto config =
        dataset.config("image_path,label\nimages/a.png,10\nimages/b.png,2\nimages/c.png,1\n",
                       "image_path,label\nimages/d.png,2\n");
    const PreparedData data = prepare_data(config);
    EXPECT_EQ(data.class_names, (std::vector<std::string>{"1", "2", "10"}));
    EXPECT_EQ(data.train.labels, (std::vector<std::int64_t>{2, 1, 0}));
    EXPECT_EQ(data.val.labels, (std::vector<std::int64_t>{1}));
}

TEST(PreparedDataTest, ConfiguredColumnsOverrideInference) {
    SmallDataset dataset;
    auto config = dataset.config(
        "image_path,code,site,note,label\nimages/a.png,1,X,n,A\nimages/b.png,0,Y,m,B\n",
        "image_path,code,site,note,label\nimages/c.png,1,X,k,A\n");
    config.categorical_features = std::vector<std::string>{"code"};
    config.exclude_columns = {"note"};
    const PreparedData data = prepare_data(config);
    const auto& columns = data.report["columns"];
    ASSERT_EQ(columns.size(), 2u);
    EXPECT_EQ(columns[0]["name"], "code");
    EXPECT_EQ(columns[0]["type"], "categorical");
    EXPECT_EQ(columns[0]["source"], "configured");
    EXPECT_EQ(columns[1]["name"], "site");
    EXPECT_EQ(columns[1]["source"], "inferred");
    EXPECT_EQ(data.num_features, 3 + 3);
}

TEST(PreparedDataTest, MissingColumnsNameTheFile) {
    SmallDataset dataset;
    const auto config = dataset.config("image_path,label\nimages/a.png,A\n",
                                       "image_path,diagnosis\nimages/c.png,A\n");
    EXPECT_EQ(error_of(config), "val.csv: no label column 'label'");
}

TEST(PreparedDataTest, ImageRootOverridesCsvFolder) {
    SmallDataset dataset;
    auto config = dataset.config("image_path,label\na.png,A\n", "image_path,label\nb.png,A\n");
    config.image_root = (dataset.dir().path() / "images").string();
    const PreparedData data = prepare_data(config);
    EXPECT_EQ(data.train.image_paths[0], (dataset.dir().path() / "images" / "a.png").string());
}

}  // namespace
}  // namespace medfusion::data
