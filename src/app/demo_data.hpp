// `medfusion demo-data`: the built-in synthetic multimodal dataset.
#pragma once

#include <cstdint>
#include <string>

namespace medfusion::app {

struct DemoDataOptions {
    std::string out_dir;
    int cases = 600;
    std::uint64_t seed = 7;
    int image_size = 64;
};

/// Writes images/case_NNNN.png and train/val/test.csv (70/15/15) under out_dir. The label
/// depends on a lesion's brightness in the image and on a biomarker in the table, each carrying
/// half of the signal, so either modality alone reaches only part of what fusion reaches.
/// Deterministic for a given (cases, seed, image_size). Returns the process exit code.
int write_demo_data(const DemoDataOptions& options);

}  // namespace medfusion::app
