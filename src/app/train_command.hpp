// `medfusion train --config FILE [--output-dir D]`: the trainer in the foreground.
#pragma once

#include <string>

namespace medfusion::app {

/// Reads FILE (YAML, or JSON by its .json extension; the schema of the API body's `config`, or
/// the whole body with `config` and `job_name`), resolves relative data paths from the working
/// directory and trains into `output_dir` (empty: outputs/<job id>). Draws a progress bar on
/// stderr; the first Ctrl-C stops cleanly with last.pth, a second one ends the process.
/// Returns the exit code: 0 completed, 1 failed or invalid config, 130 stopped.
int run_train_command(const std::string& config_path, const std::string& output_dir);

}  // namespace medfusion::app
