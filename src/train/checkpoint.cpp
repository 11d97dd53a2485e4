// Checkpoint archives: {model, optimizer, metadata} where metadata is a JSON string, so one file
// carries the weights, the training state, the config, the preprocessing and the class names.
#include "medfusion/train/checkpoint.hpp"

#include <stdexcept>
#include <system_error>

#include "checkpoint_io.hpp"

namespace medfusion::train {
namespace fs = std::filesystem;
namespace {

constexpr const char* kModelKey = "model";
constexpr const char* kOptimizerKey = "optimizer";
constexpr const char* kMetadataKey = "metadata";

fs::path temporary_path(const fs::path& path) {
    return fs::path(path.string() + ".tmp");
}

void rename_into_place(const fs::path& from, const fs::path& to) {
    std::error_code error;
    fs::rename(from, to, error);
    if (error) {
        fs::remove(from, error);
        throw std::runtime_error("cannot write checkpoint " + to.string() + ": " + error.message());
    }
}

torch::serialize::InputArchive open_archive(const fs::path& path, const torch::Device& device) {
    if (!fs::is_regular_file(path)) {
        throw std::runtime_error("checkpoint " + path.string() + " does not exist");
    }
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path.string(), device);
    } catch (const c10::Error& error) {
        throw std::runtime_error("checkpoint " + path.string() +
                                 " cannot be read: " + error.what_without_backtrace());
    }
    return archive;
}

nlohmann::json read_metadata(torch::serialize::InputArchive& archive, const fs::path& path) {
    c10::IValue value;
    if (!archive.try_read(kMetadataKey, value) || !value.isString()) {
        throw std::runtime_error(path.string() + " is not a MedFusion checkpoint (no metadata)");
    }
    auto metadata = nlohmann::json::parse(value.toStringRef(), nullptr, false);
    if (!metadata.is_object() || metadata.value("format", "") != kCheckpointFormat) {
        throw std::runtime_error(path.string() + " is not a MedFusion checkpoint");
    }
    return metadata;
}

std::map<std::string, double> metric_map(const nlohmann::json& metrics) {
    std::map<std::string, double> out;
    for (const auto& [name, value] : metrics.items()) {
        if (value.is_number()) {
            out[name] = value.get<double>();
        }
    }
    return out;
}

}  // namespace

fs::path best_checkpoint_path(const fs::path& job_dir) {
    return job_dir / kCheckpointFolder / kBestCheckpointName;
}

fs::path last_checkpoint_path(const fs::path& job_dir) {
    return job_dir / kCheckpointFolder / kLastCheckpointName;
}

void save_checkpoint(const fs::path& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer* optimizer, const nlohmann::json& metadata) {
    fs::create_directories(path.parent_path());
    torch::serialize::OutputArchive archive;

    torch::serialize::OutputArchive model_archive;
    model.save(model_archive);
    archive.write(kModelKey, model_archive);
    if (optimizer != nullptr) {
        torch::serialize::OutputArchive optimizer_archive;
        optimizer->save(optimizer_archive);
        archive.write(kOptimizerKey, optimizer_archive);
    }
    archive.write(kMetadataKey, c10::IValue(metadata.dump()));

    const auto tmp = temporary_path(path);
    archive.save_to(tmp.string());
    rename_into_place(tmp, path);
}

CheckpointReader::CheckpointReader(const fs::path& path, const torch::Device& device)
    : path_(path), archive_(open_archive(path, device)), metadata_(read_metadata(archive_, path)) {}

void CheckpointReader::load_model(torch::nn::Module& model) {
    try {
        torch::serialize::InputArchive model_archive;
        archive_.read(kModelKey, model_archive);
        model.load(model_archive);
    } catch (const c10::Error& error) {
        throw std::runtime_error("checkpoint " + path_.string() +
                                 " does not match its model: " + error.what_without_backtrace());
    }
}

bool CheckpointReader::load_optimizer(torch::optim::Optimizer& optimizer) {
    torch::serialize::InputArchive optimizer_archive;
    if (!archive_.try_read(kOptimizerKey, optimizer_archive)) {
        return false;
    }
    try {
        optimizer.load(optimizer_archive);
    } catch (const c10::Error& error) {
        throw std::runtime_error("checkpoint " + path_.string() + " has an optimizer state " +
                                 "that does not fit: " + error.what_without_backtrace());
    }
    return true;
}

nlohmann::json load_checkpoint(const fs::path& path, torch::nn::Module& model,
                               torch::optim::Optimizer* optimizer, const torch::Device& device) {
    CheckpointReader reader(path, device);
    reader.load_model(model);
    if (optimizer != nullptr) {
        reader.load_optimizer(*optimizer);
    }
    return reader.metadata();
}

void copy_checkpoint(const fs::path& source, const fs::path& target) {
    const auto tmp = temporary_path(target);
    fs::copy_file(source, tmp, fs::copy_options::overwrite_existing);
    rename_into_place(tmp, target);
}

CheckpointInfo checkpoint_info(const nlohmann::json& metadata, const fs::path& path) {
    CheckpointInfo info;
    info.metadata = metadata;
    const auto& m = info.metadata;
    try {
        info.epoch = m.at("epoch").get<int>();
        info.global_step = m.at("global_step").get<std::int64_t>();
        info.config = m.at("config");
        info.preprocessing = m.at("preprocessing");
        info.class_names = m.at("class_names").get<std::vector<std::string>>();
        info.num_features = m.at("num_features").get<std::int64_t>();
        info.metrics = metric_map(m.at("metrics"));
        const auto& best = m.at("best");
        info.best_metric = best.at("metric").get<std::string>();
        info.best_value = best.at("value").is_number() ? best.at("value").get<double>() : 0.0;
        info.best_epoch = best.at("epoch").get<int>();
        info.torch_version = m.value("torch_version", "");
        info.created_at = m.value("created_at", "");
    } catch (const nlohmann::json::exception& error) {
        throw std::runtime_error("checkpoint " + path.string() +
                                 " has incomplete metadata: " + error.what());
    }
    return info;
}

CheckpointInfo read_checkpoint_info(const fs::path& path) {
    return checkpoint_info(CheckpointReader(path, torch::Device(torch::kCPU)).metadata(), path);
}

}  // namespace medfusion::train
