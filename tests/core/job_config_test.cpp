#include "medfusion/core/job_config.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "medfusion/core/paths.hpp"

namespace medfusion::core {

using nlohmann::json;

namespace {

json contract_example() {
    return json::parse(R"({
        "data": {"train_csv": "data/train.csv", "val_csv": "data/val.csv"},
        "model": {"vision_backbone": "resnet50", "fusion_type": "attention"},
        "training": {"epochs": 50, "batch_size": 32}})");
}

bool has_error(const std::vector<FieldError>& errors, const std::string& path,
               const std::string& code = "VALIDATION_ERROR") {
    for (const auto& e : errors) {
        if (e.path == path && e.code == code) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST(JobConfigTest, ContractExampleParsesWithDefaults) {
    auto result = parse_job_config(contract_example(), nullptr);
    ASSERT_TRUE(result.ok());
    const auto& config = result.value();
    EXPECT_EQ(config.model.vision_backbone, "resnet50");
    EXPECT_EQ(config.model.fusion_type, "attention");
    EXPECT_EQ(config.training.epochs, 50);
    EXPECT_EQ(config.training.batch_size, 32);
    EXPECT_EQ(config.data.label_column, "label");
    EXPECT_EQ(config.training.optimizer, "adamw");
}

TEST(JobConfigTest, ReportsEveryProblemWithItsPath) {
    auto config = contract_example();
    config["model"]["vision_backbone"] = "resnet5000";
    config["training"]["epochs"] = 0;
    config["training"]["batch_size"] = "big";
    config["training"]["early_stopping"] = {{"monitor", "val_magic"}};
    config["data"]["augmentation"] = "extreme";
    config["data"]["typo"] = 1;
    config.erase("data");
    config["data"] = {{"augmentation", "extreme"}, {"typo", 1}};
    auto result = parse_job_config(config, nullptr);
    ASSERT_FALSE(result.ok());
    const auto& errors = result.error();
    EXPECT_TRUE(has_error(errors, "model.vision_backbone"));
    EXPECT_TRUE(has_error(errors, "training.epochs"));
    EXPECT_TRUE(has_error(errors, "training.batch_size"));
    EXPECT_TRUE(has_error(errors, "training.early_stopping.monitor"));
    EXPECT_TRUE(has_error(errors, "data.augmentation"));
    EXPECT_TRUE(has_error(errors, "data.typo"));
    EXPECT_TRUE(has_error(errors, "data.train_csv"));
    EXPECT_TRUE(has_error(errors, "data.val_csv"));
}

TEST(JobConfigTest, UnknownChoiceListsTheValidOnes) {
    auto config = contract_example();
    config["model"]["fusion_type"] = "magic";
    auto result = parse_job_config(config, nullptr);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error().at(0).message.find("cross_attention"), std::string::npos);
}

TEST(JobConfigTest, PathsOutsideTheRootsAreNotAllowed) {
    namespace fs = std::filesystem;
    const auto base = fs::temp_directory_path() / "mf_jobcfg";
    fs::create_directories(base / "data");
    PathPolicy policy(base, {"data"});
    auto config = contract_example();
    config["data"]["val_csv"] = "../../etc/passwd";
    auto result = parse_job_config(config, &policy);
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(has_error(result.error(), "data.val_csv", "PATH_NOT_ALLOWED"));
    EXPECT_EQ(result.error().size(), 1u);

    config = contract_example();
    auto ok = parse_job_config(config, &policy);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok.value().data.train_csv, (fs::canonical(base) / "data/train.csv").string());
}

TEST(JobConfigTest, PretrainedWeightsMustLieInsideTheRoots) {
    const auto base = std::filesystem::temp_directory_path() / "mf_jobcfg_weights";
    std::filesystem::create_directories(base / "data");
    PathPolicy policy(base, {"data"});
    auto config = contract_example();
    config["model"]["pretrained_weights"] = "/etc/passwd";
    auto result = parse_job_config(config, &policy);
    ASSERT_FALSE(result.ok());
    EXPECT_TRUE(has_error(result.error(), "model.pretrained_weights", "PATH_NOT_ALLOWED"));
}

TEST(JobConfigTest, ClassWeightsAcceptListOrName) {
    auto config = contract_example();
    config["training"]["class_weights"] = {1.0, 2.5};
    auto result = parse_job_config(config, nullptr);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.value().training.class_weights, "list");
    EXPECT_EQ(result.value().training.class_weight_values, (std::vector<double>{1.0, 2.5}));

    config["training"]["class_weights"] = "sometimes";
    EXPECT_FALSE(parse_job_config(config, nullptr).ok());
}

TEST(JobConfigTest, ResolvedConfigRoundTripsThroughJson) {
    auto first = parse_job_config(contract_example(), nullptr);
    ASSERT_TRUE(first.ok());
    const json dumped = to_json(first.value());
    auto second = parse_job_config(dumped, nullptr);
    ASSERT_TRUE(second.ok()) << second.error().at(0).path << ": " << second.error().at(0).message;
    EXPECT_EQ(to_json(second.value()), dumped);
}

}  // namespace medfusion::core
