// Checkpoint files: a reloaded model predicts bit-identically, metadata survives, writes are
// atomic, and files that are not checkpoints are refused by name.
#include "medfusion/train/checkpoint.hpp"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "checkpoint_io.hpp"
#include "medfusion/models/multimodal_model.hpp"
#include "trainer_test_data.hpp"

namespace medfusion::train {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

models::MultimodalModel tiny_model(std::uint64_t seed) {
    torch::manual_seed(seed);
    core::ModelConfig config;
    config.vision_backbone = "resnet18";
    config.feature_dim = 8;
    config.tabular_hidden = {8};
    config.fusion_dim = 8;
    config.classifier_hidden = {8};
    return models::build_model(config, 3, 2, 32);
}

nlohmann::json tiny_metadata() {
    return {{"format", kCheckpointFormat},
            {"version", kCheckpointVersion},
            {"epoch", 7},
            {"global_step", 42},
            {"config", {{"model", {{"vision_backbone", "resnet18"}}}}},
            {"preprocessing", {{"numerical", {"score"}}}},
            {"class_names", {"bright", "dark"}},
            {"num_features", 3},
            {"metrics", {{"val_loss", 0.25}, {"val_accuracy", 0.75}}},
            {"best", {{"metric", "val_loss"}, {"value", 0.25}, {"epoch", 7}, {"metrics", {}}}},
            {"torch_version", "1.13.0"},
            {"created_at", "2026-03-15T10:30:00Z"}};
}

TEST(CheckpointTest, ReloadedModelPredictsIdentically) {
    testing::ScratchDir scratch;
    const auto path = scratch.path() / "checkpoints" / "last.pth";
    auto saved = tiny_model(1);
    torch::optim::AdamW optimizer(saved->parameters(), torch::optim::AdamWOptions(1e-3));
    // One optimizer step, so BatchNorm statistics and Adam moments are not at their defaults.
    saved->train();
    const auto images = torch::rand({4, 3, 32, 32});
    const auto tabular = torch::randn({4, 3});
    saved->forward(images, tabular).logits.sum().backward();
    optimizer.step();
    save_checkpoint(path, *saved, &optimizer, tiny_metadata());
    EXPECT_FALSE(fs::exists(path.string() + ".tmp"));

    auto loaded = tiny_model(2);
    torch::optim::AdamW loaded_optimizer(loaded->parameters(), torch::optim::AdamWOptions(1e-3));
    const auto metadata = load_checkpoint(path, *loaded, &loaded_optimizer, torch::kCPU);
    saved->eval();
    loaded->eval();
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(saved->forward(images, tabular).logits,
                             loaded->forward(images, tabular).logits));
    EXPECT_EQ(metadata["global_step"], 42);
    const auto& state = loaded_optimizer.state();
    EXPECT_EQ(state.size(), optimizer.state().size());
}

TEST(CheckpointTest, InfoReadsEveryMetadataField) {
    testing::ScratchDir scratch;
    const auto path = scratch.path() / "best.pth";
    save_checkpoint(path, *tiny_model(1), nullptr, tiny_metadata());

    const auto info = read_checkpoint_info(path);
    EXPECT_EQ(info.epoch, 7);
    EXPECT_EQ(info.global_step, 42);
    EXPECT_EQ(info.class_names, (std::vector<std::string>{"bright", "dark"}));
    EXPECT_EQ(info.num_features, 3);
    EXPECT_EQ(info.preprocessing["numerical"][0], "score");
    EXPECT_EQ(info.config["model"]["vision_backbone"], "resnet18");
    EXPECT_DOUBLE_EQ(info.metrics.at("val_accuracy"), 0.75);
    EXPECT_EQ(info.best_metric, "val_loss");
    EXPECT_DOUBLE_EQ(info.best_value, 0.25);
    EXPECT_EQ(info.best_epoch, 7);
    EXPECT_EQ(info.created_at, "2026-03-15T10:30:00Z");
}

TEST(CheckpointTest, CopyReplacesTheTargetAtomically) {
    testing::ScratchDir scratch;
    const auto last = scratch.path() / "last.pth";
    const auto best = scratch.path() / "best.pth";
    std::ofstream(best) << "stale";
    save_checkpoint(last, *tiny_model(1), nullptr, tiny_metadata());
    copy_checkpoint(last, best);
    EXPECT_EQ(fs::file_size(best), fs::file_size(last));
    EXPECT_FALSE(fs::exists(best.string() + ".tmp"));
    EXPECT_EQ(read_checkpoint_info(best).epoch, 7);
}

TEST(CheckpointTest, RefusesMissingAndForeignFilesByName) {
    testing::ScratchDir scratch;
    const auto missing = scratch.path() / "nope.pth";
    try {
        read_checkpoint_info(missing);
        FAIL() << "no exception";
    } catch (const std::runtime_error& error) {
        EXPECT_THAT(error.what(), HasSubstr("nope.pth does not exist"));
    }

    const auto foreign = scratch.path() / "weights.pth";
    std::ofstream(foreign) << "not a torch archive";
    EXPECT_THROW(read_checkpoint_info(foreign), std::runtime_error);

    // A torch archive without MedFusion metadata.
    const auto bare = scratch.path() / "bare.pth";
    torch::serialize::OutputArchive archive;
    tiny_model(1)->save(archive);
    archive.save_to(bare.string());
    try {
        read_checkpoint_info(bare);
        FAIL() << "no exception";
    } catch (const std::runtime_error& error) {
        EXPECT_THAT(error.what(), HasSubstr("is not a MedFusion checkpoint"));
    }
}

TEST(CheckpointTest, PathsFollowTheJobLayout) {
    EXPECT_EQ(best_checkpoint_path("/out/job1"), fs::path("/out/job1/checkpoints/best.pth"));
    EXPECT_EQ(last_checkpoint_path("/out/job1"), fs::path("/out/job1/checkpoints/last.pth"));
}

}  // namespace
}  // namespace medfusion::train
