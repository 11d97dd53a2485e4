// Type inference and the fitted tabular encoding (standardise + indicator, one-hot + missing).
#include "medfusion/data/tabular_preprocessor.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "medfusion/data/data_error.hpp"

namespace medfusion::data {
namespace {

constexpr int kStateVersion = 1;

std::string lower(std::string value) {
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return value;
}

ColumnType type_from_name(const std::string& name) {
    if (name == "numeric") {
        return ColumnType::kNumeric;
    }
    if (name == "boolean") {
        return ColumnType::kBoolean;
    }
    if (name == "categorical") {
        return ColumnType::kCategorical;
    }
    throw DataError("preprocessing state: unknown column type '" + name + "'");
}

// Population mean and std of the non-missing numeric values, as sklearn's StandardScaler.
void fit_numeric(ColumnEncoding& column, const std::vector<std::string>& values,
                 const std::vector<std::string>& missing_values) {
    std::vector<double> numbers;
    for (const auto& value : values) {
        if (is_missing(value, missing_values)) {
            continue;
        }
        if (auto number = parse_number(value)) {
            numbers.push_back(*number);
        }
    }
    if (numbers.empty()) {
        return;
    }

    // Two passes: the mean first, then the variance around it (numerically stable).
    double sum = 0.0;
    for (double x : numbers) {
        sum += x;
    }
    column.mean = sum / static_cast<double>(numbers.size());
    double squares = 0.0;
    for (double x : numbers) {
        squares += (x - column.mean) * (x - column.mean);
    }
    const double std = std::sqrt(squares / static_cast<double>(numbers.size()));
    column.std = std > 1e-12 ? std : 1.0;
}

void fit_categories(ColumnEncoding& column, const std::vector<std::string>& values,
                    const std::vector<std::string>& missing_values) {
    if (column.type == ColumnType::kBoolean) {
        column.categories = {"false", "true"};
        return;
    }
    std::set<std::string> seen;
    for (const auto& value : values) {
        if (!is_missing(value, missing_values)) {
            seen.insert(value);
        }
    }
    column.categories.assign(seen.begin(), seen.end());
}

}  // namespace

const char* column_type_name(ColumnType type) {
    switch (type) {
        case ColumnType::kNumeric:
            return "numeric";
        case ColumnType::kBoolean:
            return "boolean";
        case ColumnType::kCategorical:
            return "categorical";
    }
    return "categorical";
}

bool is_missing(const std::string& value, const std::vector<std::string>& missing_values) {
    return std::find(missing_values.begin(), missing_values.end(), value) != missing_values.end();
}

std::optional<std::string> parse_boolean(const std::string& value) {
    const std::string v = lower(value);
    if (v == "true" || v == "yes" || v == "1") {
        return "true";
    }
    if (v == "false" || v == "no" || v == "0") {
        return "false";
    }
    return std::nullopt;
}

std::optional<double> parse_number(const std::string& value) {
    const char* begin = value.data();
    const char* end = begin + value.size();
    if (begin != end && *begin == '+') {
        ++begin;
    }
    double number = 0.0;
    const auto [ptr, ec] = std::from_chars(begin, end, number);
    if (ec != std::errc() || ptr != end || begin == end || !std::isfinite(number)) {
        return std::nullopt;
    }
    return number;
}

ColumnType infer_column_type(const std::vector<std::string>& values,
                             const std::vector<std::string>& missing_values) {
    bool all_boolean = true;
    bool all_numeric = true;
    std::size_t present = 0;
    for (const auto& value : values) {
        if (is_missing(value, missing_values)) {
            continue;
        }
        ++present;
        all_boolean = all_boolean && parse_boolean(value).has_value();
        all_numeric = all_numeric && parse_number(value).has_value();
        if (!all_boolean && !all_numeric) {
            return ColumnType::kCategorical;
        }
    }
    if (present == 0) {
        return ColumnType::kCategorical;
    }
    return all_boolean ? ColumnType::kBoolean : ColumnType::kNumeric;
}

TabularPreprocessor TabularPreprocessor::fit(const std::vector<std::string>& names,
                                             const std::vector<ColumnType>& types,
                                             const std::vector<std::vector<std::string>>& columns,
                                             const std::vector<std::string>& missing_values) {
    TabularPreprocessor preprocessor;
    preprocessor.missing_values_ = missing_values;
    for (std::size_t i = 0; i < names.size(); ++i) {
        ColumnEncoding column;
        column.name = names[i];
        column.type = types[i];
        if (column.type == ColumnType::kNumeric) {
            fit_numeric(column, columns[i], missing_values);
        } else {
            fit_categories(column, columns[i], missing_values);
        }
        preprocessor.num_features_ += width_of(column);
        preprocessor.columns_.push_back(std::move(column));
    }
    return preprocessor;
}

std::int64_t TabularPreprocessor::width_of(const ColumnEncoding& column) {
    if (column.type == ColumnType::kNumeric) {
        return 2;
    }
    return static_cast<std::int64_t>(column.categories.size()) + 1;
}

std::vector<float> TabularPreprocessor::transform(const std::vector<std::string>& cells) const {
    if (cells.size() != columns_.size()) {
        throw DataError("tabular row has " + std::to_string(cells.size()) + " values, expected " +
                        std::to_string(columns_.size()));
    }
    std::vector<float> row(static_cast<std::size_t>(num_features_), 0.0f);
    float* out = row.data();
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        encode(columns_[i], cells[i], out);
        out += width_of(columns_[i]);
    }
    return row;
}

void TabularPreprocessor::encode(const ColumnEncoding& column, const std::string& raw,
                                 float* out) const {
    const bool missing = is_missing(raw, missing_values_);
    if (column.type == ColumnType::kNumeric) {
        // A value that is not a number is treated as missing: imputed with the mean.
        const auto number = missing ? std::nullopt : parse_number(raw);
        out[0] = number ? static_cast<float>((*number - column.mean) / column.std) : 0.0f;
        out[1] = number ? 0.0f : 1.0f;
        return;
    }
    std::string value = raw;
    if (!missing && column.type == ColumnType::kBoolean) {
        value = parse_boolean(raw).value_or(std::string());
    }
    const auto found = std::lower_bound(column.categories.begin(), column.categories.end(), value);
    const bool known = !missing && found != column.categories.end() && *found == value;
    const auto slot = known ? found - column.categories.begin()
                            : static_cast<std::ptrdiff_t>(column.categories.size());
    out[slot] = 1.0f;
}

nlohmann::json TabularPreprocessor::to_json() const {
    nlohmann::json columns = nlohmann::json::array();
    for (const auto& column : columns_) {
        nlohmann::json entry = {{"name", column.name}, {"type", column_type_name(column.type)}};
        if (column.type == ColumnType::kNumeric) {
            entry["mean"] = column.mean;
            entry["std"] = column.std;
        } else {
            entry["categories"] = column.categories;
        }
        columns.push_back(std::move(entry));
    }
    return {{"version", kStateVersion},
            {"columns", std::move(columns)},
            {"missing_values", missing_values_},
            {"num_features", num_features_}};
}

TabularPreprocessor TabularPreprocessor::from_json(const nlohmann::json& state) {
    try {
        TabularPreprocessor preprocessor;
        preprocessor.missing_values_ = state.at("missing_values").get<std::vector<std::string>>();
        for (const auto& entry : state.at("columns")) {
            ColumnEncoding column;
            column.name = entry.at("name").get<std::string>();
            column.type = type_from_name(entry.at("type").get<std::string>());
            if (column.type == ColumnType::kNumeric) {
                column.mean = entry.at("mean").get<double>();
                column.std = entry.at("std").get<double>();
            } else {
                column.categories = entry.at("categories").get<std::vector<std::string>>();
                std::sort(column.categories.begin(), column.categories.end());
            }
            preprocessor.num_features_ += width_of(column);
            preprocessor.columns_.push_back(std::move(column));
        }
        return preprocessor;
    } catch (const nlohmann::json::exception& e) {
        throw DataError(std::string("preprocessing state is malformed: ") + e.what());
    }
}

}  // namespace medfusion::data
