// dataset_profile tests: the summary and the profile of PAD-UFES-20 and of a broken folder.
#include "medfusion/data/dataset_profile.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "data/data_test_support.hpp"
#include "medfusion/data/data_error.hpp"

namespace medfusion::data {
namespace {

const nlohmann::json* find_column(const nlohmann::json& profile, const std::string& name) {
    for (const auto& column : profile["columns"]) {
        if (column["name"] == name) {
            return &column;
        }
    }
    return nullptr;
}

TEST(DatasetProfileTest, SummarizesPadUfes) {
    const auto summary = summarize_dataset(testing::pad_ufes_dir());
    EXPECT_EQ(summary["name"], "pad_ufes_20");
    EXPECT_EQ(summary["splits"]["train"]["rows"], 464);
    EXPECT_EQ(summary["splits"]["val"]["rows"], 101);
    EXPECT_EQ(summary["splits"]["test"]["rows"], 121);
    EXPECT_EQ(summary["num_classes"], 6);
    EXPECT_EQ(summary["num_features"], 21);
    EXPECT_EQ(summary["encoded_features"], 84);
    EXPECT_GT(summary["size_bytes"].get<std::uint64_t>(), 90'000'000u);  // du: 90 MB of PNGs
    EXPECT_EQ(summary["id"], dataset_id(testing::pad_ufes_dir()));
}

TEST(DatasetProfileTest, ProfilesPadUfesColumnsAndImages) {
    const auto profile = profile_dataset(testing::pad_ufes_dir(), 16);
    EXPECT_EQ(profile["splits"]["val"]["class_distribution"]["SCC"], 3);
    EXPECT_EQ(profile["splits"]["train"]["class_distribution"]["BCC"], 129);

    // Reference values from Python over train.csv.
    const auto* age = find_column(profile, "age");
    ASSERT_NE(age, nullptr);
    EXPECT_EQ((*age)["type"], "numeric");
    EXPECT_EQ((*age)["min"], 8.0);
    EXPECT_EQ((*age)["max"], 92.0);
    EXPECT_NEAR((*age)["mean"].get<double>(), 56.002155172413794, 1e-9);
    EXPECT_EQ((*age)["distinct"], 80);
    const auto* gender = find_column(profile, "gender");
    EXPECT_EQ((*gender)["type"], "categorical");
    EXPECT_DOUBLE_EQ((*gender)["missing_pct"].get<double>(), 37.5);
    const auto* grew = find_column(profile, "grew");
    EXPECT_EQ((*grew)["type"], "boolean");
    EXPECT_NEAR((*grew)["missing_pct"].get<double>(), 16.8103, 1e-4);
    EXPECT_EQ((*find_column(profile, "label"))["role"], "label");

    const auto& images = profile["images"];
    EXPECT_EQ(images["checked"], 16);
    EXPECT_EQ(images["decodable"], 16);
    EXPECT_EQ(images["sizes"]["300x300"], 16);
    EXPECT_EQ(images["modes"]["RGBA"], 16);
    EXPECT_TRUE(images["bad_rows"].empty());
}

TEST(DatasetProfileTest, ListsBadImageRows) {
    testing::TempDir dir;
    cv::imwrite((dir.path() / "ok.png").string(), cv::Mat(5, 7, CV_8UC1, cv::Scalar(9)));
    dir.write("train.csv", "image_path,label\nok.png,A\nnope.png,B\n");
    const auto profile = profile_dataset(dir.path());
    EXPECT_EQ(profile["splits"].size(), 1u);
    EXPECT_EQ(profile["images"]["decodable"], 1);
    EXPECT_EQ(profile["images"]["sizes"]["7x5"], 1);
    EXPECT_EQ(profile["images"]["modes"]["L"], 1);
    ASSERT_EQ(profile["images"]["bad_rows"].size(), 1u);
    EXPECT_EQ(profile["images"]["bad_rows"][0]["row"], 3);
    EXPECT_EQ(profile["images"]["bad_rows"][0]["path"], "nope.png");
    EXPECT_EQ(profile["images"]["bad_rows"][0]["reason"], "file not found");
}

TEST(DatasetProfileTest, FolderWithoutTrainCsvIsADataError) {
    testing::TempDir dir;
    EXPECT_THROW(summarize_dataset(dir.path()), DataError);
}

TEST(DatasetProfileTest, IdsDifferForSameNameInDifferentRoots) {
    EXPECT_NE(dataset_id("/data/a/skin"), dataset_id("/data/b/skin"));
    EXPECT_EQ(dataset_id("/data/a/Skin Set").substr(0, 9), "skin-set-");
}

}  // namespace
}  // namespace medfusion::data
