// Synthetic images and CSVs for the trainer tests, and a JobContext that records its run.
#include "trainer_test_data.hpp"

#include <fstream>
#include <random>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace medfusion::train::testing {
namespace fs = std::filesystem;
namespace {

constexpr int kImageSide = 32;

void write_split(const fs::path& dir, const std::string& name, int rows, std::mt19937& rng) {
    std::normal_distribution<double> noise(0.0, 0.3);
    std::uniform_int_distribution<int> pixel_noise(-20, 20);
    std::ofstream csv(dir / (name + ".csv"));
    csv << "image_path,score,site,label\n";
    for (int i = 0; i < rows; ++i) {
        const bool bright = i % 2 == 0;
        cv::Mat image(kImageSide, kImageSide, CV_8UC3);
        for (int y = 0; y < kImageSide; ++y) {
            for (int x = 0; x < kImageSide; ++x) {
                const int level = (bright ? 190 : 60) + pixel_noise(rng);
                image.at<cv::Vec3b>(y, x) = cv::Vec3b(level, level, level);
            }
        }
        const auto relative = "images/" + name + "_" + std::to_string(i) + ".png";
        cv::imwrite((dir / relative).string(), image);
        csv << relative << ',' << (bright ? 1.0 : -1.0) + noise(rng) << ','
            << (i % 3 == 0 ? "north" : "south") << ',' << (bright ? "bright" : "dark") << '\n';
    }
}

}  // namespace

ScratchDir::ScratchDir() {
    std::random_device device;
    path_ = fs::temp_directory_path() /
            ("medfusion-train-test-" + std::to_string(device()) + std::to_string(device()));
    fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

TinyDataset write_tiny_dataset(const fs::path& dir, int train_rows, int val_rows) {
    fs::create_directories(dir / "images");
    std::mt19937 rng(7);
    write_split(dir, "train", train_rows, rng);
    write_split(dir, "val", val_rows, rng);
    return {dir / "train.csv", dir / "val.csv"};
}

core::JobConfig tiny_job_config(const TinyDataset& dataset, int epochs,
                                const std::string& backbone) {
    core::JobConfig config;
    config.data.train_csv = dataset.train_csv.string();
    config.data.val_csv = dataset.val_csv.string();
    config.data.image_size = kImageSide;
    config.data.augmentation = "none";
    config.data.num_workers = 1;
    config.model.vision_backbone = backbone;
    config.model.feature_dim = 16;
    config.model.fusion_type = "concatenate";
    config.model.tabular_hidden = {16};
    config.model.fusion_dim = 16;
    config.model.classifier_hidden = {16};
    config.model.dropout = 0.0;
    config.training.epochs = epochs;
    config.training.batch_size = 8;
    config.training.learning_rate = 1e-3;
    config.training.scheduler = "none";
    config.training.device = "cpu";
    config.training.mixed_precision = "none";
    config.training.num_threads = 2;
    config.training.seed = 3;
    return config;
}

core::JobContext recording_context(const core::JobConfig& config, const fs::path& output_dir,
                                   RecordedRun& run) {
    core::JobContext context;
    context.job_id = "test-job";
    context.job_name = "tiny";
    context.config = config;
    context.output_dir = output_dir.string();
    context.stop = std::make_shared<core::StopToken>();
    context.on_event = [&run](const core::ProgressEvent& event) {
        run.events.push_back(event);
        run.order.push_back(std::string(core::event_type_name(event.type)) + ":" +
                            std::to_string(event.epoch));
    };
    context.on_epoch = [&run](const core::EpochRecord& record) {
        run.epochs.push_back(record);
        run.order.push_back("on_epoch:" + std::to_string(record.epoch));
    };
    return context;
}

std::vector<core::ProgressEvent> events_of(const RecordedRun& run, core::EventType type) {
    std::vector<core::ProgressEvent> out;
    for (const auto& event : run.events) {
        if (event.type == type) {
            out.push_back(event);
        }
    }
    return out;
}

}  // namespace medfusion::train::testing
