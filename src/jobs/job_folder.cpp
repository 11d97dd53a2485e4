// config.yaml of a job's folder.
#include "jobs/job_folder.hpp"

#include <cmath>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace medfusion::jobs {
namespace {

using nlohmann::json;

void emit(YAML::Emitter& out, const json& value) {
    if (value.is_object()) {
        out << YAML::BeginMap;
        for (const auto& [key, item] : value.items()) {
            out << YAML::Key << key << YAML::Value;
            emit(out, item);
        }
        out << YAML::EndMap;
    } else if (value.is_array()) {
        out << YAML::BeginSeq;
        for (const json& item : value) {
            emit(out, item);
        }
        out << YAML::EndSeq;
    } else if (value.is_string()) {
        out << YAML::DoubleQuoted << value.get<std::string>();
    } else if (value.is_boolean()) {
        out << value.get<bool>();
    } else if (value.is_number_integer()) {
        out << value.get<std::int64_t>();
    } else if (value.is_number()) {
        out << value.get<double>();
    } else {
        out << YAML::Null;
    }
}

}  // namespace

std::string to_yaml(const json& value) {
    YAML::Emitter out;
    out.SetDoublePrecision(17);
    emit(out, value);
    return std::string(out.c_str()) + "\n";
}

void write_job_folder(const std::filesystem::path& job_dir, const json& config) {
    std::filesystem::create_directories(job_dir);

    // Written beside and renamed, so a crash never leaves half a config.
    const auto final_path = job_dir / kConfigFileName;
    const auto temp_path = job_dir / (std::string(kConfigFileName) + ".tmp");
    {
        std::ofstream file(temp_path, std::ios::trunc);
        file << to_yaml(config);
        if (!file.flush()) {
            throw std::runtime_error("cannot write " + temp_path.string());
        }
    }
    std::filesystem::rename(temp_path, final_path);
}

}  // namespace medfusion::jobs
