// Writing and loading checkpoint tensors: model weights, optimizer state and a JSON metadata
// string, in one torch archive written atomically.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "medfusion/train/checkpoint.hpp"

namespace medfusion::train {

// The metadata's format marker and version; read_checkpoint_info refuses other files.
inline constexpr const char* kCheckpointFormat = "medfusion-checkpoint";
inline constexpr int kCheckpointVersion = 1;

/// Writes `path` as <path>.tmp then renames it, so readers never see a half-written file.
/// `optimizer` may be null. `metadata` must hold what CheckpointInfo reads.
void save_checkpoint(const std::filesystem::path& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer* optimizer, const nlohmann::json& metadata);

/// An opened checkpoint: the metadata first (to build the model it describes), then tensors.
/// Reads the file once. Not thread-safe.
class CheckpointReader {
public:
    /// Throws std::runtime_error naming the file when it is missing or not a MedFusion checkpoint.
    CheckpointReader(const std::filesystem::path& path, const torch::Device& device);

    const nlohmann::json& metadata() const { return metadata_; }

    /// Copies the stored weights into `model`; throws std::runtime_error when they do not fit.
    void load_model(torch::nn::Module& model);

    /// Restores the optimizer state; false when the file holds none.
    bool load_optimizer(torch::optim::Optimizer& optimizer);

private:
    std::filesystem::path path_;
    torch::serialize::InputArchive archive_;
    nlohmann::json metadata_;
};

/// Loads weights into `model` (and the optimizer state when `optimizer` is not null), with
/// tensors placed on `device`; returns the metadata. Throws std::runtime_error naming the file.
nlohmann::json load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, const torch::Device& device);

/// The CheckpointInfo view of a checkpoint's metadata; `path` names the file in errors.
CheckpointInfo checkpoint_info(const nlohmann::json& metadata, const std::filesystem::path& path);

/// Copies a finished checkpoint to `target` atomically (copy to <target>.tmp, rename).
void copy_checkpoint(const std::filesystem::path& source, const std::filesystem::path& target);

}  // namespace medfusion::train
