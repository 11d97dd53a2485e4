// `medfusion evaluate --checkpoint FILE --csv FILE [--out DIR]`: one evaluation, then a summary.
#pragma once

#include <string>

namespace medfusion::app {

/// Evaluates `checkpoint` on `csv` and writes `<out_dir>/reports/{evaluation_report.html,
/// predictions.csv}`; an empty `out_dir` means the checkpoint's job folder (the parent of its
/// checkpoints/ folder). Prints the headline metrics; returns 0, or 1 with the error on stderr.
int run_evaluate_command(const std::string& checkpoint, const std::string& csv,
                         const std::string& out_dir);

}  // namespace medfusion::app
