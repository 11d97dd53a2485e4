// BatchLoader tests: shapes and values on PAD-UFES-20, ordering, reproducibility across worker
// counts, balanced sampling, and a prompt stop.
#include "medfusion/data/batch_loader.hpp"

#include <gtest/gtest.h>

#include <set>

#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "data/data_test_support.hpp"

namespace medfusion::data {
namespace {

const PreparedData& pad_data() {
    static const PreparedData data = [] {
        const auto dir = testing::pad_ufes_dir();
        core::DataConfig config;
        config.train_csv = (dir / "train.csv").string();
        config.val_csv = (dir / "val.csv").string();
        config.test_csv = (dir / "test.csv").string();
        return prepare_data(config);
    }();
    return data;
}

// A synthetic split of `n` tiny images in a folder that lives as long as the test binary.
Split synthetic_split(std::size_t n, const std::vector<std::int64_t>& labels) {
    static testing::TempDir dir;
    Split split;
    for (std::size_t i = 0; i < n; ++i) {
        const auto path = dir.path() / ("img" + std::to_string(i) + ".png");
        cv::imwrite(path.string(), cv::Mat(12, 10, CV_8UC3, cv::Scalar::all(i * 7 % 256)));
        split.image_paths.push_back(path.string());
        split.features.push_back({static_cast<float>(i), 1.0f});
        split.labels.push_back(labels[i % labels.size()]);
        split.source_rows.push_back(static_cast<std::int64_t>(i) + 2);
    }
    return split;
}

std::vector<Batch> drain(BatchLoader& loader, int epoch) {
    loader.start_epoch(epoch);
    std::vector<Batch> batches;
    while (auto batch = loader.next()) {
        batches.push_back(std::move(*batch));
    }
    return batches;
}

void expect_well_formed(const Batch& batch, std::int64_t rows, std::int64_t size,
                        std::int64_t width) {
    EXPECT_EQ(batch.images.sizes(), (std::vector<std::int64_t>{rows, 3, size, size}));
    EXPECT_EQ(batch.tabular.sizes(), (std::vector<std::int64_t>{rows, width}));
    EXPECT_EQ(batch.labels.sizes(), (std::vector<std::int64_t>{rows}));
    EXPECT_EQ(batch.labels.scalar_type(), torch::kInt64);
    EXPECT_FALSE(batch.images.isnan().any().item<bool>());
    EXPECT_FALSE(batch.tabular.isnan().any().item<bool>());
}

TEST(BatchLoaderTest, PadUfesSplitsGiveWellFormedBatches) {
    const PreparedData& data = pad_data();
    ASSERT_EQ(data.class_names.size(), 6u);
    struct Case {
        const Split* split;
        std::size_t rows;
        const char* augmentation;
    };
    for (const Case& c : {Case{&data.train, 464, "light"}, Case{&data.val, 101, "none"},
                          Case{&data.test, 121, "none"}}) {
        ASSERT_EQ(c.split->size(), c.rows);
        LoaderOptions options;
        options.batch_size = 64;
        options.augmentation = c.augmentation;
        options.shuffle = true;
        BatchLoader loader(*c.split, options, nullptr);
        const auto batches = drain(loader, 1);
        ASSERT_EQ(static_cast<std::int64_t>(batches.size()), loader.batches_per_epoch());
        std::size_t seen = 0;
        for (const auto& batch : batches) {
            const auto rows = static_cast<std::int64_t>(batch.indices.size());
            expect_well_formed(batch, rows, 224, data.num_features);
            EXPECT_LT(batch.labels.max().item<std::int64_t>(), 6);
            seen += batch.indices.size();
        }
        EXPECT_EQ(seen, c.rows);
    }
}

TEST(BatchLoaderTest, BatchHoldsTheSplitRowsInOrder) {
    const Split split = synthetic_split(10, {0, 1});
    LoaderOptions options;
    options.batch_size = 4;
    options.image_size = 16;
    BatchLoader loader(split, options, nullptr);
    const auto batches = drain(loader, 1);
    ASSERT_EQ(batches.size(), 3u);
    EXPECT_EQ(batches[2].indices, (std::vector<std::int64_t>{8, 9}));
    EXPECT_FLOAT_EQ(batches[2].tabular[1][0].item<float>(), 9.0f);
    EXPECT_EQ(batches[2].labels[1].item<std::int64_t>(), 1);

    // Image 9 is a constant grey of 63: ImageNet-normalised red channel.
    const float expected = (63 / 255.0f - kImageNetMean[0]) / kImageNetStd[0];
    EXPECT_NEAR(batches[2].images[1][0][5][5].item<float>(), expected, 1e-5);
}

TEST(BatchLoaderTest, DropLastLeavesOutThePartialBatch) {
    const Split split = synthetic_split(10, {0});
    LoaderOptions options;
    options.batch_size = 4;
    options.image_size = 8;
    options.drop_last = true;
    BatchLoader loader(split, options, nullptr);
    EXPECT_EQ(loader.batches_per_epoch(), 2);
    EXPECT_EQ(drain(loader, 1).size(), 2u);
}

TEST(BatchLoaderTest, ShuffleIsSeededPerEpochAndCoversEveryRow) {
    const Split split = synthetic_split(50, {0});
    LoaderOptions options;
    options.shuffle = true;
    const BatchLoader loader(split, options, nullptr);
    const auto first = loader.epoch_order(1);
    EXPECT_EQ(first, loader.epoch_order(1));
    EXPECT_NE(first, loader.epoch_order(2));
    EXPECT_EQ(std::set<std::int64_t>(first.begin(), first.end()).size(), 50u);
}

TEST(BatchLoaderTest, AugmentedBatchesDoNotDependOnWorkerCount) {
    const Split split = synthetic_split(12, {0, 1, 2});
    LoaderOptions options;
    options.batch_size = 5;
    options.image_size = 16;
    options.augmentation = "heavy";
    options.shuffle = true;
    options.num_workers = 0;
    BatchLoader inline_loader(split, options, nullptr);
    options.num_workers = 3;
    BatchLoader threaded_loader(split, options, nullptr);
    const auto a = drain(inline_loader, 4);
    const auto b = drain(threaded_loader, 4);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_TRUE(torch::equal(a[i].images, b[i].images));
        EXPECT_EQ(a[i].indices, b[i].indices);
    }
}

TEST(BatchLoaderTest, BalancedSamplingEqualisesClasses) {
    // 90 rows of class 0, 10 of class 1: balanced draws give each class about half.
    std::vector<std::int64_t> labels(100, 0);
    std::fill(labels.begin() + 90, labels.end(), 1);
    Split split = synthetic_split(1, {0});
    split.labels = labels;
    split.image_paths.assign(100, split.image_paths[0]);
    split.features.assign(100, split.features[0]);
    split.source_rows.assign(100, 2);
    LoaderOptions options;
    options.balanced_sampling = true;
    const BatchLoader loader(split, options, nullptr);
    std::int64_t minority = 0;
    for (int epoch = 1; epoch <= 20; ++epoch) {
        for (auto index : loader.epoch_order(epoch)) {
            minority += labels[static_cast<std::size_t>(index)];
        }
    }
    // 2000 draws with p = 0.5: the mean is 1000, the std about 22.
    EXPECT_NEAR(static_cast<double>(minority), 1000.0, 110.0);
}

TEST(BatchLoaderTest, StopTokenEndsTheEpochAndJoinsWorkers) {
    const Split split = synthetic_split(40, {0});
    auto stop = std::make_shared<core::StopToken>();
    LoaderOptions options;
    options.batch_size = 2;
    options.image_size = 8;
    options.prefetch_batches = 2;
    {
        BatchLoader loader(split, options, stop);
        loader.start_epoch(1);
        ASSERT_TRUE(loader.next().has_value());
        stop->request_stop();
        EXPECT_FALSE(loader.next().has_value());
    }  // the destructor joins the workers; a leaked thread would terminate the process
    SUCCEED();
}

TEST(BatchLoaderTest, FileVanishingMidEpochIsADataError) {
    Split split = synthetic_split(3, {0});
    split.image_paths[2] = "/nonexistent/medfusion/gone.png";
    LoaderOptions options;
    options.batch_size = 1;
    options.image_size = 8;
    BatchLoader loader(split, options, nullptr);
    loader.start_epoch(1);
    EXPECT_THROW(
        {
            while (loader.next()) {
            }
        },
        DataError);
}

}  // namespace
}  // namespace medfusion::data
