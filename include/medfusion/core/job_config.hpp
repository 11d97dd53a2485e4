// The job config: the `config` object of POST /api/training/start and of `medfusion train`.
// Plain C++ types only, so the server, the job manager and the trainer all share it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "medfusion/core/result.hpp"

namespace medfusion::core {

class PathPolicy;

/// The `data` section: where the CSVs and images are and how to read them.
struct DataConfig {
    std::string train_csv;  // resolved, absolute after validation
    std::string val_csv;
    std::string test_csv;  // optional; empty when absent
    std::string image_column = "image_path";
    std::string label_column = "label";
    std::string image_root;                                        // empty: the folder of each CSV
    std::optional<std::vector<std::string>> numerical_features;    // empty optional: inferred
    std::optional<std::vector<std::string>> categorical_features;  // empty optional: inferred
    std::vector<std::string> exclude_columns;
    std::vector<std::string> missing_values = {"",    "NA",   "N/A",  "NaN",
                                               "nan", "null", "None", "UNK"};
    int image_size = 224;
    std::string resize_mode = "stretch";  // stretch | pad | center_crop
    std::string augmentation = "light";   // none | light | medium | heavy
    int num_workers = 2;
    std::string bad_rows = "error";  // error | skip
    bool balanced_sampling = false;
};

/// The `model` section: which backbone, tabular encoder and fusion to build.
struct ModelConfig {
    std::string vision_backbone = "resnet18";
    std::string fusion_type = "concatenate";
    int feature_dim = 128;
    std::string tabular_encoder = "mlp";  // mlp | resmlp | ft_transformer
    std::vector<int> tabular_hidden = {128, 64};
    std::string activation = "relu";  // relu | gelu | silu
    int fusion_dim = 128;
    int num_heads = 4;
    int bilinear_rank = 16;
    double dropout = 0.2;
    std::vector<int> classifier_hidden = {64};
    std::string attention = "none";  // cnn attention: cbam | se | eca | none
    bool freeze_backbone = false;
    std::string pretrained_weights;  // empty: random init
    bool aux_heads = false;
    double aux_loss_weight = 0.3;
};

struct EarlyStoppingConfig {
    bool enabled = false;
    std::string monitor = "val_loss";  // val_loss | val_accuracy | val_auc | val_f1
    std::string mode = "auto";         // min | max | auto (min for loss, max otherwise)
    int patience = 10;
    double min_delta = 0.0;
};

/// The `training` section: the optimisation loop.
struct TrainingConfig {
    int epochs = 10;
    int batch_size = 32;
    std::string optimizer = "adamw";  // adamw | adam | sgd
    double learning_rate = 1e-3;
    double weight_decay = 1e-4;
    double momentum = 0.9;
    bool nesterov = false;
    std::string scheduler = "cosine";  // cosine | step | plateau | onecycle | none
    int warmup_epochs = 0;
    int step_size = 10;
    double gamma = 0.1;
    double label_smoothing = 0.0;
    std::string class_weights = "none";  // none | balanced | list (then class_weight_values)
    std::vector<double> class_weight_values;
    double gradient_clip = 0.0;  // 0: off
    int accumulation_steps = 1;
    std::string mixed_precision = "auto";  // auto | bf16 | fp16 | none
    EarlyStoppingConfig early_stopping;
    std::uint64_t seed = 42;
    bool deterministic = false;
    std::string device = "auto";  // auto | cpu | cuda | cuda:N
    int num_threads = 0;          // 0: all cores
    std::string checkpoint_monitor = "val_loss";
};

struct JobConfig {
    DataConfig data;
    ModelConfig model;
    TrainingConfig training;
};

/// One problem found in a config, named by its key path (`training.epochs`).
struct FieldError {
    std::string path;
    std::string message;
    std::string code = "VALIDATION_ERROR";  // or PATH_NOT_ALLOWED
};

/// Parses and validates a job config; reports every problem at once. Relative data paths are
/// resolved by `paths` and must land inside its data roots. `paths` may be null (no checks).
Result<JobConfig, std::vector<FieldError>> parse_job_config(const nlohmann::json& config,
                                                            const PathPolicy* paths);

/// The resolved config as JSON (every key, defaults included).
nlohmann::json to_json(const JobConfig& config);

}  // namespace medfusion::core
