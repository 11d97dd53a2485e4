// prepare_data and load_split: CSVs → typed columns → train-only fit → encoded splits, with the
// image pre-flight check that reports every bad row before training starts.
#include "medfusion/data/prepared_data.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "medfusion/data/csv_reader.hpp"
#include "medfusion/data/image_decoder.hpp"
#include "medfusion/data/tabular_preprocessor.hpp"

namespace medfusion::data {
namespace {

namespace fs = std::filesystem;

// Threads that decode images during the pre-flight check.
constexpr unsigned kPreflightThreads = 4;

/// One row that cannot be used, as reported to the user.
struct BadRow {
    std::string split;
    std::int64_t row = 0;
    std::string path;  // as written in the CSV
    std::string reason;
};

std::string trim(const std::string& value) {
    const auto begin = value.find_first_not_of(" \t");
    if (begin == std::string::npos) {
        return {};
    }
    const auto end = value.find_last_not_of(" \t");
    return value.substr(begin, end - begin + 1);
}

std::size_t require_column(const CsvTable& table, const std::string& name, const char* role) {
    const auto index = table.column(name);
    if (!index) {
        throw DataError(table.source + ": no " + role + " column '" + name + "'");
    }
    return *index;
}

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

/// The feature columns and their types, decided on the training split.
struct FeaturePlan {
    std::vector<std::string> names;
    std::vector<ColumnType> types;
    std::vector<std::string> sources;  // "inferred" | "configured"
};

std::vector<std::string> column_values(const CsvTable& table, std::size_t index) {
    std::vector<std::string> values;
    values.reserve(table.rows.size());
    for (const auto& row : table.rows) {
        values.push_back(trim(row[index]));
    }
    return values;
}

// Listed columns take the listed type; with both lists given only they are features,
// otherwise every remaining column is a feature with an inferred type.
FeaturePlan plan_features(const core::DataConfig& config, const CsvTable& train) {
    const auto& numerical = config.numerical_features;
    const auto& categorical = config.categorical_features;
    const bool explicit_only = numerical.has_value() && categorical.has_value();
    FeaturePlan plan;
    for (std::size_t i = 0; i < train.header.size(); ++i) {
        const std::string& name = train.header[i];
        if (name == config.image_column || name == config.label_column ||
            contains(config.exclude_columns, name)) {
            continue;
        }
        const bool is_numerical = numerical && contains(*numerical, name);
        const bool is_categorical = categorical && contains(*categorical, name);
        if (!is_numerical && !is_categorical && explicit_only) {
            continue;
        }
        plan.names.push_back(name);
        plan.sources.push_back(is_numerical || is_categorical ? "configured" : "inferred");
        plan.types.push_back(
            is_numerical     ? ColumnType::kNumeric
            : is_categorical ? ColumnType::kCategorical
                             : infer_column_type(column_values(train, i), config.missing_values));
    }
    for (const auto* list : {&numerical, &categorical}) {
        for (const auto& name : list->value_or(std::vector<std::string>{})) {
            require_column(train, name, "feature");
        }
    }
    return plan;
}

TabularPreprocessor fit_preprocessor(const core::DataConfig& config, const CsvTable& train,
                                     const FeaturePlan& plan) {
    std::vector<std::vector<std::string>> columns;
    for (const auto& name : plan.names) {
        columns.push_back(column_values(train, *train.column(name)));
    }
    return TabularPreprocessor::fit(plan.names, plan.types, columns, config.missing_values);
}

fs::path image_root_for(const core::DataConfig& config, const fs::path& csv_path) {
    return config.image_root.empty() ? csv_path.parent_path() : fs::path(config.image_root);
}

// Resolves a CSV image value under the root; empty when it is empty or escapes the root.
fs::path resolve_image(const fs::path& root, const std::string& value, std::string& reason) {
    if (value.empty()) {
        reason = "empty image path";
        return {};
    }
    const fs::path full = (root / value).lexically_normal();
    const fs::path relative = full.lexically_relative(root.lexically_normal());
    if (relative.empty() || *relative.begin() == "..") {
        reason = "image path leaves the image root";
        return {};
    }
    // A symlink inside the root may point anywhere: judge where it really leads.
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(full, ec);
    const fs::path real_root = fs::weakly_canonical(root, ec);
    const fs::path real_relative = real.lexically_relative(real_root);
    if (!ec && (real_relative.empty() || *real_relative.begin() == "..")) {
        reason = "image path leads outside the image root (symlink)";
        return {};
    }
    return full;
}

/// Everything needed to turn the rows of one CSV into a Split.
struct SplitSource {
    std::string name;  // train | val | test | the file name for load_split
    fs::path csv_path;
    CsvTable table;
};

/// A Split under construction: rows that passed the CSV checks, before the image check.
struct Candidate {
    Split split;
    std::vector<std::string> raw_paths;
};

Candidate encode_rows(const core::DataConfig& config, const SplitSource& source,
                      const TabularPreprocessor& preprocessor,
                      const std::map<std::string, std::int64_t>& class_index,
                      std::vector<BadRow>& bad_rows, std::vector<std::string>& unknown_labels) {
    const CsvTable& table = source.table;
    const std::size_t image_col = require_column(table, config.image_column, "image");
    const std::size_t label_col = require_column(table, config.label_column, "label");
    std::vector<std::size_t> feature_cols;
    for (const auto& column : preprocessor.columns()) {
        feature_cols.push_back(require_column(table, column.name, "feature"));
    }
    const fs::path root = image_root_for(config, source.csv_path);

    Candidate out;
    std::vector<std::string> cells(feature_cols.size());
    for (std::size_t r = 0; r < table.rows.size(); ++r) {
        const auto& row = table.rows[r];
        const std::int64_t line = table.lines[r];
        const std::string raw_path = trim(row[image_col]);
        const std::string label = trim(row[label_col]);
        if (is_missing(label, config.missing_values)) {
            bad_rows.push_back({source.name, line, raw_path, "missing label"});
            continue;
        }
        const auto found = class_index.find(label);
        if (found == class_index.end()) {
            unknown_labels.push_back(table.source + " line " + std::to_string(line) + ": '" +
                                     label + "'");
            continue;
        }
        std::string reason;
        const fs::path image = resolve_image(root, raw_path, reason);
        if (!reason.empty()) {
            bad_rows.push_back({source.name, line, raw_path, reason});
            continue;
        }
        for (std::size_t c = 0; c < feature_cols.size(); ++c) {
            cells[c] = trim(row[feature_cols[c]]);
        }
        out.split.image_paths.push_back(image.string());
        out.split.features.push_back(preprocessor.transform(cells));
        out.split.labels.push_back(found->second);
        out.split.source_rows.push_back(line);
        out.raw_paths.push_back(raw_path);
    }
    return out;
}

// Decodes every image of the candidate on a few threads; returns the reason per row (empty: ok).
std::vector<std::string> check_images(const Split& split) {
    std::vector<std::string> reasons(split.size());
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        DecodedImage image;
        for (std::size_t i = next++; i < reasons.size(); i = next++) {
            reasons[i] = try_decode_image(split.image_paths[i], image);
        }
    };
    const unsigned threads =
        std::clamp<unsigned>(std::thread::hardware_concurrency(), 1u, kPreflightThreads);
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) {
        pool.emplace_back(work);
    }
    work();
    for (auto& thread : pool) {
        thread.join();
    }
    return reasons;
}

// Keeps the rows whose image decodes; the others become bad rows.
Split drop_bad_images(Candidate&& candidate, const std::string& split_name,
                      std::vector<BadRow>& bad_rows) {
    const std::vector<std::string> reasons = check_images(candidate.split);
    Split kept;
    const Split& all = candidate.split;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (!reasons[i].empty()) {
            bad_rows.push_back(
                {split_name, all.source_rows[i], candidate.raw_paths[i], reasons[i]});
            continue;
        }
        kept.image_paths.push_back(all.image_paths[i]);
        kept.features.push_back(std::move(candidate.split.features[i]));
        kept.labels.push_back(all.labels[i]);
        kept.source_rows.push_back(all.source_rows[i]);
    }
    return kept;
}

void throw_unknown_labels(const std::vector<std::string>& unknown) {
    if (unknown.empty()) {
        return;
    }
    std::string message =
        std::to_string(unknown.size()) + " rows have a label never seen in the training split:";
    for (const auto& entry : unknown) {
        message += "\n  " + entry;
    }
    throw DataError(message);
}

void throw_bad_rows(const std::vector<BadRow>& bad_rows,
                    const std::map<std::string, std::string>& files) {
    std::string message =
        std::to_string(bad_rows.size()) + " bad rows (set data.bad_rows: skip to leave them out):";
    for (const auto& bad : bad_rows) {
        message += "\n  " + files.at(bad.split) + " line " + std::to_string(bad.row) + ": " +
                   (bad.path.empty() ? std::string("-") : bad.path) + ": " + bad.reason;
    }
    throw DataError(message);
}

nlohmann::json bad_rows_json(const std::vector<BadRow>& bad_rows) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& bad : bad_rows) {
        list.push_back(
            {{"split", bad.split}, {"row", bad.row}, {"path", bad.path}, {"reason", bad.reason}});
    }
    return list;
}

nlohmann::json split_json(const Split& split, const std::vector<std::string>& class_names) {
    std::vector<std::int64_t> counts(class_names.size(), 0);
    for (auto label : split.labels) {
        ++counts[static_cast<std::size_t>(label)];
    }
    nlohmann::json distribution = nlohmann::json::object();
    for (std::size_t c = 0; c < class_names.size(); ++c) {
        distribution[class_names[c]] = counts[c];
    }
    return {{"rows", split.size()},
            {"skipped_rows", split.skipped_rows},
            {"class_counts", std::move(distribution)}};
}

/// Builds every split from its candidate: image check, bad-row policy, skip counts.
std::vector<Split> finish_splits(const core::DataConfig& config,
                                 const std::vector<SplitSource>& sources,
                                 std::vector<Candidate>&& candidates, std::vector<BadRow>& bad_rows,
                                 const std::vector<std::string>& unknown_labels) {
    throw_unknown_labels(unknown_labels);
    std::vector<Split> splits;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        splits.push_back(drop_bad_images(std::move(candidates[i]), sources[i].name, bad_rows));
    }
    // Report in file order: split by split, row by row.
    auto split_position = [&](const std::string& name) {
        return std::find_if(sources.begin(), sources.end(),
                            [&](const SplitSource& s) { return s.name == name; }) -
               sources.begin();
    };
    std::stable_sort(bad_rows.begin(), bad_rows.end(), [&](const BadRow& a, const BadRow& b) {
        const auto pa = split_position(a.split);
        const auto pb = split_position(b.split);
        return pa != pb ? pa < pb : a.row < b.row;
    });
    if (!bad_rows.empty() && config.bad_rows != "skip") {
        std::map<std::string, std::string> files;
        for (const auto& source : sources) {
            files[source.name] = source.table.source;
        }
        throw_bad_rows(bad_rows, files);
    }
    for (std::size_t i = 0; i < splits.size(); ++i) {
        const auto& name = sources[i].name;
        splits[i].skipped_rows = static_cast<std::size_t>(std::count_if(
            bad_rows.begin(), bad_rows.end(), [&](const BadRow& b) { return b.split == name; }));
    }
    return splits;
}

std::map<std::string, std::int64_t> index_classes(const std::vector<std::string>& class_names) {
    std::map<std::string, std::int64_t> index;
    for (std::size_t i = 0; i < class_names.size(); ++i) {
        index[class_names[i]] = static_cast<std::int64_t>(i);
    }
    return index;
}

std::vector<std::string> training_labels(const core::DataConfig& config, const CsvTable& train) {
    const std::size_t label_col = require_column(train, config.label_column, "label");
    std::set<std::string> labels;
    for (const auto& value : column_values(train, label_col)) {
        if (!is_missing(value, config.missing_values)) {
            labels.insert(value);
        }
    }
    if (labels.empty()) {
        throw DataError(train.source + ": no labelled rows in column '" + config.label_column +
                        "'");
    }
    return sorted_class_names({labels.begin(), labels.end()});
}

nlohmann::json columns_json(const FeaturePlan& plan) {
    nlohmann::json columns = nlohmann::json::array();
    for (std::size_t i = 0; i < plan.names.size(); ++i) {
        columns.push_back({{"name", plan.names[i]},
                           {"type", column_type_name(plan.types[i])},
                           {"source", plan.sources[i]}});
    }
    return columns;
}

std::vector<SplitSource> read_sources(const core::DataConfig& config) {
    std::vector<SplitSource> sources;
    sources.push_back({"train", config.train_csv, read_csv(config.train_csv)});
    sources.push_back({"val", config.val_csv, read_csv(config.val_csv)});
    if (!config.test_csv.empty()) {
        sources.push_back({"test", config.test_csv, read_csv(config.test_csv)});
    }
    return sources;
}

}  // namespace

std::vector<std::string> sorted_class_names(std::vector<std::string> labels) {
    const bool all_integers = std::all_of(labels.begin(), labels.end(), [](const auto& label) {
        const auto number = parse_number(label);
        return number && label.find_first_of(".eE") == std::string::npos;
    });
    std::sort(labels.begin(), labels.end(), [&](const auto& a, const auto& b) {
        return all_integers ? *parse_number(a) < *parse_number(b) : a < b;
    });
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    return labels;
}

PreparedData prepare_data(const core::DataConfig& config) {
    std::vector<SplitSource> sources = read_sources(config);
    const CsvTable& train = sources[0].table;
    if (train.rows.empty()) {
        throw DataError(train.source + ": the training split has no rows");
    }

    // Everything learned from data is learned from the training split only.
    const FeaturePlan plan = plan_features(config, train);
    const TabularPreprocessor preprocessor = fit_preprocessor(config, train, plan);
    PreparedData prepared;
    prepared.class_names = training_labels(config, train);
    prepared.preprocessing = preprocessor.to_json();
    prepared.num_features = preprocessor.num_features();

    const auto class_index = index_classes(prepared.class_names);
    std::vector<BadRow> bad_rows;
    std::vector<std::string> unknown_labels;
    std::vector<Candidate> candidates;
    for (const auto& source : sources) {
        candidates.push_back(
            encode_rows(config, source, preprocessor, class_index, bad_rows, unknown_labels));
    }
    std::vector<Split> splits =
        finish_splits(config, sources, std::move(candidates), bad_rows, unknown_labels);
    prepared.train = std::move(splits[0]);
    prepared.val = std::move(splits[1]);
    if (splits.size() > 2) {
        prepared.test = std::move(splits[2]);
    }
    if (prepared.train.size() == 0) {
        throw DataError(train.source + ": no usable rows left in the training split");
    }

    nlohmann::json split_report = {{"train", split_json(prepared.train, prepared.class_names)},
                                   {"val", split_json(prepared.val, prepared.class_names)}};
    if (splits.size() > 2) {
        split_report["test"] = split_json(prepared.test, prepared.class_names);
    }
    prepared.report = {
        {"columns", columns_json(plan)},       {"excluded_columns", config.exclude_columns},
        {"image_column", config.image_column}, {"label_column", config.label_column},
        {"class_names", prepared.class_names}, {"num_features", prepared.num_features},
        {"splits", std::move(split_report)},   {"skipped_rows", bad_rows_json(bad_rows)}};
    return prepared;
}

Split load_split(const core::DataConfig& config, const std::string& csv_path,
                 const nlohmann::json& preprocessing, const std::vector<std::string>& class_names) {
    const TabularPreprocessor preprocessor = TabularPreprocessor::from_json(preprocessing);
    std::vector<SplitSource> sources;
    sources.push_back({fs::path(csv_path).filename().string(), csv_path, read_csv(csv_path)});

    std::vector<BadRow> bad_rows;
    std::vector<std::string> unknown_labels;
    std::vector<Candidate> candidates;
    candidates.push_back(encode_rows(config, sources[0], preprocessor, index_classes(class_names),
                                     bad_rows, unknown_labels));
    return std::move(
        finish_splits(config, sources, std::move(candidates), bad_rows, unknown_labels)[0]);
}

}  // namespace medfusion::data
