// Batched inference over a loader: the trainer's validation pass and the evaluator share it.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "medfusion/data/batch_loader.hpp"
#include "medfusion/models/multimodal_model.hpp"
#include "precision.hpp"

namespace medfusion::train {

/// The predictions of one pass, in loader order.
struct Predictions {
    std::vector<std::int64_t> indices;  // positions in the Split
    std::vector<std::int64_t> labels;
    std::vector<std::vector<double>> probabilities;
    double loss = 0.0;  // mean cross-entropy (no weights, no smoothing)

    std::size_t size() const { return labels.size(); }
};

/// Moves a batch to `device` and runs the model on it under autocast for `precision`.
models::ModelOutput forward_batch(models::MultimodalModel& model, const data::Batch& batch,
                                  const torch::Device& device, Precision precision);

/// Maps a batch to float logits [B, K]; it runs under NoGradGuard, in whatever mode the model
/// was put.
using LogitsFunction = std::function<torch::Tensor(const data::Batch& batch)>;

/// Runs one epoch of `loader` (started here as epoch `epoch`) through `logits_of`. Stops early
/// when the loader does (its stop token); the caller checks the token afterwards.
Predictions predict(data::BatchLoader& loader, int epoch, const LogitsFunction& logits_of);

}  // namespace medfusion::train
