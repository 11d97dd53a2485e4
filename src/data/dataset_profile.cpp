// Dataset summaries and profiles for the Datasets API, computed from the default data config
// (image_path / label columns, default missing-value tokens).
#include "medfusion/data/dataset_profile.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "medfusion/core/job_config.hpp"
#include "medfusion/data/csv_reader.hpp"
#include "medfusion/data/data_error.hpp"
#include "medfusion/data/image_decoder.hpp"
#include "medfusion/data/prepared_data.hpp"
#include "medfusion/data/tabular_preprocessor.hpp"

namespace medfusion::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSplitNames[] = {"train", "val", "test"};

std::string trim(const std::string& value) {
    const auto begin = value.find_first_not_of(" \t");
    if (begin == std::string::npos) {
        return {};
    }
    return value.substr(begin, value.find_last_not_of(" \t") - begin + 1);
}

/// The CSVs of a dataset folder; val and test appear only when their file exists.
struct DatasetFiles {
    std::map<std::string, CsvTable> splits;  // by split name
};

DatasetFiles read_files(const fs::path& dir) {
    DatasetFiles files;
    for (const char* name : kSplitNames) {
        const fs::path csv = dir / (std::string(name) + ".csv");
        std::error_code ec;
        if (std::string(name) == "train" || fs::is_regular_file(csv, ec)) {
            files.splits.emplace(name, read_csv(csv));
        }
    }
    return files;
}

std::vector<std::string> values_of(const CsvTable& table, std::size_t column) {
    std::vector<std::string> values;
    values.reserve(table.rows.size());
    for (const auto& row : table.rows) {
        values.push_back(trim(row[column]));
    }
    return values;
}

std::vector<std::string> feature_names(const CsvTable& train, const core::DataConfig& config) {
    std::vector<std::string> names;
    for (const auto& name : train.header) {
        if (name != config.image_column && name != config.label_column) {
            names.push_back(name);
        }
    }
    return names;
}

std::map<std::string, std::int64_t> label_counts(const CsvTable& table,
                                                 const core::DataConfig& config) {
    std::map<std::string, std::int64_t> counts;
    const auto label = table.column(config.label_column);
    if (!label) {
        return counts;
    }
    for (const auto& value : values_of(table, *label)) {
        if (!is_missing(value, config.missing_values)) {
            ++counts[value];
        }
    }
    return counts;
}

std::uintmax_t folder_size(const fs::path& dir) {
    std::uintmax_t total = 0;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code size_ec;
        if (it->is_regular_file(size_ec)) {
            const auto size = it->file_size(size_ec);
            total += size_ec ? 0 : size;
        }
    }
    return total;
}

// The feature width after preprocessing, as a training job with default settings would see it.
std::int64_t encoded_width(const CsvTable& train, const core::DataConfig& config) {
    std::vector<std::string> names = feature_names(train, config);
    std::vector<ColumnType> types;
    std::vector<std::vector<std::string>> columns;
    for (const auto& name : names) {
        columns.push_back(values_of(train, *train.column(name)));
        types.push_back(infer_column_type(columns.back(), config.missing_values));
    }
    return TabularPreprocessor::fit(names, types, columns, config.missing_values).num_features();
}

nlohmann::json summary_of(const fs::path& dir, const DatasetFiles& files) {
    const core::DataConfig config;
    const CsvTable& train = files.splits.at("train");
    nlohmann::json splits = nlohmann::json::object();
    for (const auto& [name, table] : files.splits) {
        splits[name] = {{"rows", table.rows.size()}};
    }
    return {{"id", dataset_id(dir)},
            {"name", dir.filename().string()},
            {"path", dir.string()},
            {"splits", std::move(splits)},
            {"num_classes", label_counts(train, config).size()},
            {"num_features", feature_names(train, config).size()},
            {"encoded_features", encoded_width(train, config)},
            {"size_bytes", folder_size(dir)}};
}

nlohmann::json column_profile(const CsvTable& train, std::size_t index,
                              const core::DataConfig& config) {
    const std::string& name = train.header[index];
    const std::vector<std::string> values = values_of(train, index);
    const ColumnType type = infer_column_type(values, config.missing_values);
    std::size_t missing = 0;
    std::set<std::string> distinct;
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    double sum = 0.0;
    std::size_t numbers = 0;
    for (const auto& value : values) {
        if (is_missing(value, config.missing_values)) {
            ++missing;
            continue;
        }
        distinct.insert(value);
        if (const auto number = parse_number(value); number && type == ColumnType::kNumeric) {
            lo = std::min(lo, *number);
            hi = std::max(hi, *number);
            sum += *number;
            ++numbers;
        }
    }
    const std::string role = name == config.image_column   ? "image"
                             : name == config.label_column ? "label"
                                                           : "feature";
    nlohmann::json profile = {
        {"name", name},
        {"role", role},
        {"type", column_type_name(type)},
        {"missing_pct", values.empty() ? 0.0 : 100.0 * missing / values.size()},
        {"distinct", distinct.size()}};
    if (numbers > 0) {
        profile["min"] = lo;
        profile["mean"] = sum / numbers;
        profile["max"] = hi;
    }
    return profile;
}

nlohmann::json image_check(const fs::path& dir, const CsvTable& train, std::size_t sample) {
    const core::DataConfig config;
    const auto column = train.column(config.image_column);
    nlohmann::json check = {{"column", config.image_column}, {"checked", 0}, {"decodable", 0}};
    if (!column || train.rows.empty() || sample == 0) {
        return check;
    }

    // Rows spread evenly over the split, so a bad tail is seen as well as a bad head.
    const std::size_t n = train.rows.size();
    const std::size_t count = std::min(sample, n);
    std::map<std::string, std::int64_t> sizes;
    std::map<std::string, std::int64_t> modes;
    nlohmann::json bad_rows = nlohmann::json::array();
    std::int64_t decodable = 0;
    for (std::size_t k = 0; k < count; ++k) {
        const std::size_t r = k * n / count;
        const std::string value = trim(train.rows[r][*column]);
        DecodedImage image;
        const std::string reason =
            value.empty() ? "empty image path" : try_decode_image(dir / value, image);
        if (!reason.empty()) {
            bad_rows.push_back({{"row", train.lines[r]}, {"path", value}, {"reason", reason}});
            continue;
        }
        ++decodable;
        ++sizes[std::to_string(image.rgb.cols) + "x" + std::to_string(image.rgb.rows)];
        ++modes[image.mode()];
    }
    check["checked"] = count;
    check["decodable"] = decodable;
    check["sizes"] = sizes;
    check["modes"] = modes;
    check["bad_rows"] = std::move(bad_rows);
    return check;
}

}  // namespace

std::string dataset_id(const fs::path& dir) {
    std::string slug;
    for (unsigned char c : dir.filename().string()) {
        slug.push_back(std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '-');
    }
    // FNV-1a over the whole path keeps same-named folders in different roots apart.
    std::uint32_t hash = 2166136261u;
    for (unsigned char c : dir.lexically_normal().string()) {
        hash = (hash ^ c) * 16777619u;
    }
    char suffix[9];
    std::snprintf(suffix, sizeof(suffix), "%08x", hash);
    return slug + "-" + suffix;
}

nlohmann::json summarize_dataset(const fs::path& dir) {
    return summary_of(dir, read_files(dir));
}

nlohmann::json profile_dataset(const fs::path& dir, std::size_t image_sample) {
    const core::DataConfig config;
    const DatasetFiles files = read_files(dir);
    nlohmann::json profile = summary_of(dir, files);
    for (const auto& [name, table] : files.splits) {
        profile["splits"][name]["class_distribution"] = label_counts(table, config);
    }
    const CsvTable& train = files.splits.at("train");
    nlohmann::json columns = nlohmann::json::array();
    for (std::size_t i = 0; i < train.header.size(); ++i) {
        columns.push_back(column_profile(train, i, config));
    }
    profile["columns"] = std::move(columns);
    profile["class_names"] = sorted_class_names([&] {
        std::vector<std::string> names;
        for (const auto& [label, count] : label_counts(train, config)) {
            names.push_back(label);
        }
        return names;
    }());
    profile["images"] = image_check(dir, train, image_sample);
    return profile;
}

}  // namespace medfusion::data
