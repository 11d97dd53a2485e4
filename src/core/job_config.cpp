// Parsing and validation of the job config. Every problem is collected with its key path, so a
// user sees all of them in one 400 response instead of fixing them one at a time.
#include "medfusion/core/job_config.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "medfusion/core/paths.hpp"

namespace medfusion::core {

using nlohmann::json;

namespace {

const std::vector<std::string> kBackbones = {
    "resnet18",           "resnet34",        "resnet50",
    "resnet101",          "mobilenet_v2",    "mobilenet_v3_small",
    "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1",
    "efficientnet_b2",    "densenet121",     "convnext_tiny",
    "convnext_small",     "regnet_y_400mf",  "regnet_y_800mf",
    "vit_b_16",           "vit_b_32",        "swin_t"};
const std::vector<std::string> kFusionTypes = {"concatenate",     "gated",    "attention",
                                               "cross_attention", "bilinear", "image_only",
                                               "tabular_only"};
const std::vector<std::string> kTabularEncoders = {"mlp", "resmlp", "ft_transformer"};
const std::vector<std::string> kCnnAttention = {"none", "cbam", "se", "eca"};
const std::vector<std::string> kActivations = {"relu", "gelu", "silu"};
const std::vector<std::string> kAugmentations = {"none", "light", "medium", "heavy"};
const std::vector<std::string> kResizeModes = {"stretch", "pad", "center_crop"};
const std::vector<std::string> kBadRows = {"error", "skip"};
const std::vector<std::string> kOptimizers = {"adamw", "adam", "sgd"};
const std::vector<std::string> kSchedulers = {"cosine", "step", "plateau", "onecycle", "none"};
const std::vector<std::string> kPrecisions = {"auto", "bf16", "fp16", "none"};
const std::vector<std::string> kMonitors = {"val_loss", "val_accuracy", "val_auc", "val_f1"};
const std::vector<std::string> kModes = {"auto", "min", "max"};

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

/// Reads one section of the config, recording every problem instead of stopping at the first.
class SectionReader {
public:
    SectionReader(const json& root, std::string section, std::vector<FieldError>& errors,
                  std::string prefix = {})
        : section_(std::move(section)), prefix_(std::move(prefix)), errors_(errors) {
        if (!root.contains(section_)) {
            return;
        }
        if (!root.at(section_).is_object()) {
            fail(prefix_ + section_, "must be an object");
            return;
        }
        node_ = &root.at(section_);
        for (const auto& [key, unused] : node_->items()) {
            seen_.insert(key);
        }
    }

    template <typename T>
    void read(const std::string& key, T& out) {
        const json* value = take(key);
        if (value == nullptr) {
            return;
        }
        try {
            out = value->get<T>();
        } catch (const json::exception&) {
            fail(path(key), std::string("has the wrong type (got ") + value->type_name() + ")");
        }
    }

    template <typename T>
    void read(const std::string& key, std::optional<T>& out) {
        T value{};
        const bool present = take_peek(key);
        read(key, value);
        if (present) {
            out = std::move(value);
        }
    }

    bool take_peek(const std::string& key) const {
        return node_ != nullptr && node_->contains(key) && !node_->at(key).is_null();
    }

    void read_int(const std::string& key, int& out, int min, int max) {
        const json* value = take(key);
        if (value == nullptr) {
            return;
        }
        if (!value->is_number_integer()) {
            fail(path(key), "must be an integer");
            return;
        }
        const auto v = value->get<long long>();
        if (v < min || v > max) {
            fail(path(key),
                 "must be between " + std::to_string(min) + " and " + std::to_string(max));
            return;
        }
        out = static_cast<int>(v);
    }

    void read_double(const std::string& key, double& out, double min, double max) {
        const json* value = take(key);
        if (value == nullptr) {
            return;
        }
        if (!value->is_number()) {
            fail(path(key), "must be a number");
            return;
        }
        const double v = value->get<double>();
        if (!(v >= min && v <= max)) {
            fail(path(key), "must be between " + json(min).dump() + " and " + json(max).dump());
            return;
        }
        out = v;
    }

    void read_choice(const std::string& key, std::string& out,
                     const std::vector<std::string>& choices) {
        std::string value = out;
        read(key, value);
        if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
            fail(path(key), "unknown value '" + value + "'; valid choices: " + join(choices));
            return;
        }
        out = value;
    }

    const json* take(const std::string& key) {
        if (node_ == nullptr || !node_->contains(key)) {
            return nullptr;
        }
        seen_.erase(key);
        const json* value = &node_->at(key);
        return value->is_null() ? nullptr : value;
    }

    /// Keys nobody read are typos more often than not: report them.
    void reject_unknown_keys() {
        for (const auto& key : seen_) {
            fail(path(key), "unknown key");
        }
    }

    std::string path(const std::string& key) const { return prefix_ + section_ + "." + key; }
    void fail(const std::string& at, const std::string& message) {
        errors_.push_back({at, message});
    }

private:
    std::string section_;
    std::string prefix_;
    std::vector<FieldError>& errors_;
    const json* node_ = nullptr;
    std::set<std::string> seen_;
};

void resolve_data_path(SectionReader& reader, const std::string& key, std::string& value,
                       bool required, const PathPolicy* paths, std::vector<FieldError>& errors) {
    if (value.empty()) {
        if (required) {
            errors.push_back({reader.path(key), "is required"});
        }
        return;
    }
    if (paths == nullptr) {
        return;
    }
    auto resolved = paths->resolve(value);
    if (!resolved) {
        errors.push_back({reader.path(key), "'" + value + "' is outside the allowed data roots",
                          "PATH_NOT_ALLOWED"});
        return;
    }
    value = resolved->string();
}

void parse_data(const json& root, const PathPolicy* paths, DataConfig& data,
                std::vector<FieldError>& errors) {
    SectionReader r(root, "data", errors);
    r.read("train_csv", data.train_csv);
    r.read("val_csv", data.val_csv);
    r.read("test_csv", data.test_csv);
    r.read("image_column", data.image_column);
    r.read("label_column", data.label_column);
    r.read("image_root", data.image_root);
    r.read("numerical_features", data.numerical_features);
    r.read("categorical_features", data.categorical_features);
    r.read("exclude_columns", data.exclude_columns);
    r.read("missing_values", data.missing_values);
    r.read_int("image_size", data.image_size, 16, 1024);
    r.read_choice("resize_mode", data.resize_mode, kResizeModes);
    r.read_choice("augmentation", data.augmentation, kAugmentations);
    r.read_int("num_workers", data.num_workers, 0, 64);
    r.read_choice("bad_rows", data.bad_rows, kBadRows);
    r.read("balanced_sampling", data.balanced_sampling);
    r.reject_unknown_keys();

    resolve_data_path(r, "train_csv", data.train_csv, true, paths, errors);
    resolve_data_path(r, "val_csv", data.val_csv, true, paths, errors);
    resolve_data_path(r, "test_csv", data.test_csv, false, paths, errors);
    resolve_data_path(r, "image_root", data.image_root, false, paths, errors);
}

void parse_model(const json& root, const PathPolicy* paths, ModelConfig& model,
                 std::vector<FieldError>& errors) {
    SectionReader r(root, "model", errors);
    r.read_choice("vision_backbone", model.vision_backbone, kBackbones);
    r.read_choice("fusion_type", model.fusion_type, kFusionTypes);
    r.read_int("feature_dim", model.feature_dim, 1, 8192);
    r.read_choice("tabular_encoder", model.tabular_encoder, kTabularEncoders);
    r.read("tabular_hidden", model.tabular_hidden);
    r.read_choice("activation", model.activation, kActivations);
    r.read_int("fusion_dim", model.fusion_dim, 1, 8192);
    r.read_int("num_heads", model.num_heads, 1, 64);
    r.read_int("bilinear_rank", model.bilinear_rank, 1, 1024);
    r.read_double("dropout", model.dropout, 0.0, 0.99);
    r.read("classifier_hidden", model.classifier_hidden);
    r.read_choice("attention", model.attention, kCnnAttention);
    r.read("freeze_backbone", model.freeze_backbone);
    r.read("pretrained_weights", model.pretrained_weights);
    r.read("aux_heads", model.aux_heads);
    r.read_double("aux_loss_weight", model.aux_loss_weight, 0.0, 10.0);
    r.reject_unknown_keys();

    resolve_data_path(r, "pretrained_weights", model.pretrained_weights, false, paths, errors);
    if (model.fusion_dim % model.num_heads != 0 &&
        (model.fusion_type == "attention" || model.fusion_type == "cross_attention")) {
        errors.push_back({"model.num_heads", "must divide model.fusion_dim"});
    }
    for (int width : model.tabular_hidden) {
        if (width <= 0) {
            errors.push_back({"model.tabular_hidden", "widths must be positive"});
            break;
        }
    }
}

void parse_early_stopping(const json& training, EarlyStoppingConfig& es,
                          std::vector<FieldError>& errors) {
    SectionReader r(training, "early_stopping", errors, "training.");
    if (training.contains("early_stopping") && training.at("early_stopping").is_object()) {
        es.enabled = true;
    }
    r.read("enabled", es.enabled);
    r.read_choice("monitor", es.monitor, kMonitors);
    r.read_choice("mode", es.mode, kModes);
    r.read_int("patience", es.patience, 1, 10000);
    r.read_double("min_delta", es.min_delta, 0.0, 1e9);
    r.reject_unknown_keys();
}

void parse_class_weights(SectionReader& r, TrainingConfig& training) {
    const json* value = r.take("class_weights");
    if (value == nullptr) {
        return;
    }
    if (value->is_array()) {
        training.class_weights = "list";
        for (const auto& w : *value) {
            if (!w.is_number() || w.get<double>() < 0) {
                r.fail(r.path("class_weights"), "must hold non-negative numbers");
                return;
            }
            training.class_weight_values.push_back(w.get<double>());
        }
        return;
    }
    if (!value->is_string() || (*value != "none" && *value != "balanced")) {
        r.fail(r.path("class_weights"), "must be none, balanced or a list of numbers");
        return;
    }
    training.class_weights = value->get<std::string>();
}

void parse_training(const json& root, TrainingConfig& t, std::vector<FieldError>& errors) {
    SectionReader r(root, "training", errors);
    r.read_int("epochs", t.epochs, 1, 100000);
    r.read_int("batch_size", t.batch_size, 1, 65536);
    r.read_choice("optimizer", t.optimizer, kOptimizers);
    r.read_double("learning_rate", t.learning_rate, 1e-12, 10.0);
    r.read_double("weight_decay", t.weight_decay, 0.0, 10.0);
    r.read_double("momentum", t.momentum, 0.0, 1.0);
    r.read("nesterov", t.nesterov);
    r.read_choice("scheduler", t.scheduler, kSchedulers);
    r.read_int("warmup_epochs", t.warmup_epochs, 0, 100000);
    r.read_int("step_size", t.step_size, 1, 100000);
    r.read_double("gamma", t.gamma, 0.0, 1.0);
    r.read_double("label_smoothing", t.label_smoothing, 0.0, 0.99);
    parse_class_weights(r, t);
    r.read_double("gradient_clip", t.gradient_clip, 0.0, 1e9);
    r.read_int("accumulation_steps", t.accumulation_steps, 1, 4096);
    r.read_choice("mixed_precision", t.mixed_precision, kPrecisions);
    r.take("early_stopping");
    r.read("seed", t.seed);
    r.read("deterministic", t.deterministic);
    r.read("device", t.device);
    r.read_int("num_threads", t.num_threads, 0, 1024);
    r.read_choice("checkpoint_monitor", t.checkpoint_monitor, kMonitors);
    r.reject_unknown_keys();

    if (root.contains("training") && root.at("training").is_object()) {
        parse_early_stopping(root.at("training"), t.early_stopping, errors);
    }
    const bool device_ok = t.device == "auto" || t.device == "cpu" || t.device == "cuda" ||
                           (t.device.rfind("cuda:", 0) == 0 && t.device.size() > 5 &&
                            std::all_of(t.device.begin() + 5, t.device.end(), ::isdigit));
    if (!device_ok) {
        errors.push_back({"training.device", "must be auto, cpu, cuda or cuda:N"});
    }
    if (t.warmup_epochs >= t.epochs && t.warmup_epochs > 0) {
        errors.push_back({"training.warmup_epochs", "must be smaller than training.epochs"});
    }
}

}  // namespace

Result<JobConfig, std::vector<FieldError>> parse_job_config(const json& config,
                                                            const PathPolicy* paths) {
    std::vector<FieldError> errors;
    if (!config.is_object()) {
        errors.push_back({"config", "must be an object"});
        return errors;
    }
    JobConfig out;
    parse_data(config, paths, out.data, errors);
    parse_model(config, paths, out.model, errors);
    parse_training(config, out.training, errors);
    for (const auto& [key, unused] : config.items()) {
        if (key != "data" && key != "model" && key != "training") {
            errors.push_back({key, "unknown section; expected data, model or training"});
        }
    }
    if (!config.contains("data")) {
        errors.push_back({"data", "is required"});
    }
    if (!errors.empty()) {
        return errors;
    }
    return out;
}

json to_json(const JobConfig& c) {
    const auto& d = c.data;
    const auto& m = c.model;
    const auto& t = c.training;
    json data = {{"train_csv", d.train_csv},
                 {"val_csv", d.val_csv},
                 {"test_csv", d.test_csv},
                 {"image_column", d.image_column},
                 {"label_column", d.label_column},
                 {"image_root", d.image_root},
                 {"exclude_columns", d.exclude_columns},
                 {"missing_values", d.missing_values},
                 {"image_size", d.image_size},
                 {"resize_mode", d.resize_mode},
                 {"augmentation", d.augmentation},
                 {"num_workers", d.num_workers},
                 {"bad_rows", d.bad_rows},
                 {"balanced_sampling", d.balanced_sampling}};
    data["numerical_features"] = d.numerical_features ? json(*d.numerical_features) : json(nullptr);
    data["categorical_features"] =
        d.categorical_features ? json(*d.categorical_features) : json(nullptr);
    json model = {{"vision_backbone", m.vision_backbone},
                  {"fusion_type", m.fusion_type},
                  {"feature_dim", m.feature_dim},
                  {"tabular_encoder", m.tabular_encoder},
                  {"tabular_hidden", m.tabular_hidden},
                  {"activation", m.activation},
                  {"fusion_dim", m.fusion_dim},
                  {"num_heads", m.num_heads},
                  {"bilinear_rank", m.bilinear_rank},
                  {"dropout", m.dropout},
                  {"classifier_hidden", m.classifier_hidden},
                  {"attention", m.attention},
                  {"freeze_backbone", m.freeze_backbone},
                  {"pretrained_weights", m.pretrained_weights},
                  {"aux_heads", m.aux_heads},
                  {"aux_loss_weight", m.aux_loss_weight}};
    json early = {{"enabled", t.early_stopping.enabled},
                  {"monitor", t.early_stopping.monitor},
                  {"mode", t.early_stopping.mode},
                  {"patience", t.early_stopping.patience},
                  {"min_delta", t.early_stopping.min_delta}};
    json class_weights =
        t.class_weights == "list" ? json(t.class_weight_values) : json(t.class_weights);
    json training = {{"epochs", t.epochs},
                     {"batch_size", t.batch_size},
                     {"optimizer", t.optimizer},
                     {"learning_rate", t.learning_rate},
                     {"weight_decay", t.weight_decay},
                     {"momentum", t.momentum},
                     {"nesterov", t.nesterov},
                     {"scheduler", t.scheduler},
                     {"warmup_epochs", t.warmup_epochs},
                     {"step_size", t.step_size},
                     {"gamma", t.gamma},
                     {"label_smoothing", t.label_smoothing},
                     {"class_weights", class_weights},
                     {"gradient_clip", t.gradient_clip},
                     {"accumulation_steps", t.accumulation_steps},
                     {"mixed_precision", t.mixed_precision},
                     {"early_stopping", early},
                     {"seed", t.seed},
                     {"deterministic", t.deterministic},
                     {"device", t.device},
                     {"num_threads", t.num_threads},
                     {"checkpoint_monitor", t.checkpoint_monitor}};
    return {{"data", data}, {"model", model}, {"training", training}};
}

}  // namespace medfusion::core
