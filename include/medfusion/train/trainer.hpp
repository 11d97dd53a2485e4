// The training job: one entry point that the job manager and `medfusion train` call. Torch stays
// behind it; callers see only the plain types of core/events.hpp.
#pragma once

#include "medfusion/core/events.hpp"

namespace medfusion::train {

/// Trains the model of `context.config` on the calling thread, from scratch or (with
/// `context.resume`) from `<output_dir>/checkpoints/last.pth`.
///
/// Writes `checkpoints/{best,last}.pth`, `metrics.jsonl` and `train.log` under
/// `context.output_dir`. Emits `progress` every batch, then per epoch calls `on_epoch` and emits
/// `epoch_end` and `validation`, and ends with exactly one terminal event (`completed`,
/// `stopped` or `error`). Polls `context.stop` between batches. Never throws: every failure
/// (bad data, a NaN loss, out of memory) becomes a failed RunResult with a clear message.
core::RunResult run_training(const core::JobContext& context);

/// A JobRunner that calls run_training.
core::JobRunner make_job_runner();

}  // namespace medfusion::train
