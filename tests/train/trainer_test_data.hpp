// Tiny synthetic jobs for the trainer, checkpoint and evaluator tests: 32×32 PNGs whose
// brightness and one tabular column both carry the label, written to a scratch folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "medfusion/core/events.hpp"
#include "medfusion/core/job_config.hpp"

namespace medfusion::train::testing {

/// A fresh folder under the system temp dir, removed with its contents on destruction.
class ScratchDir {
public:
    ScratchDir();
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

/// `train.csv` and `val.csv` (image_path, score, site, label) with images under `images/`.
/// Label "bright" images are light and have a high score; "dark" ones the opposite.
struct TinyDataset {
    std::filesystem::path train_csv;
    std::filesystem::path val_csv;
};

TinyDataset write_tiny_dataset(const std::filesystem::path& dir, int train_rows = 32,
                               int val_rows = 8);

// The smallest trunk: for tests of the run's mechanics rather than of learning.
inline constexpr const char* kFastBackbone = "mobilenet_v3_small";

/// A small job on `dataset`: 32 px, narrow heads, batch 8, CPU, 2 threads. resnet18 learns the
/// task within three epochs; kFastBackbone is about five times cheaper.
core::JobConfig tiny_job_config(const TinyDataset& dataset, int epochs,
                                const std::string& backbone = "resnet18");

/// Every event and epoch record of one run, in arrival order.
struct RecordedRun {
    std::vector<core::ProgressEvent> events;
    std::vector<core::EpochRecord> epochs;
    std::vector<std::string> order;  // "on_epoch:E" and event names "epoch_end:E", ...
};

/// A JobContext whose callbacks append to `run`.
core::JobContext recording_context(const core::JobConfig& config,
                                   const std::filesystem::path& output_dir, RecordedRun& run);

/// The events of `run` with this type.
std::vector<core::ProgressEvent> events_of(const RecordedRun& run, core::EventType type);

}  // namespace medfusion::train::testing
