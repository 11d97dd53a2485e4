// Column type inference and the tabular preprocessing fitted on the training split: numeric
// columns standardised with a missing indicator, boolean and categorical columns one-hot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace medfusion::data {

enum class ColumnType { kNumeric, kBoolean, kCategorical };

/// "numeric", "boolean", "categorical".
const char* column_type_name(ColumnType type);

/// True when `value` (already trimmed) is one of the configured missing-value tokens.
bool is_missing(const std::string& value, const std::vector<std::string>& missing_values);

/// A boolean token (true/false, yes/no, 0/1 in any case) as "true"/"false"; nullopt otherwise.
std::optional<std::string> parse_boolean(const std::string& value);

/// A number (integer or floating point, no trailing text); nullopt otherwise.
std::optional<double> parse_number(const std::string& value);

/// Infers a column's type from its non-missing values: boolean when every value is a boolean
/// token, numeric when every value parses as a number, else categorical. An all-missing column
/// is categorical (only its missing slot is ever set).
ColumnType infer_column_type(const std::vector<std::string>& values,
                             const std::vector<std::string>& missing_values);

/// The fitted encoding of one feature column.
struct ColumnEncoding {
    std::string name;
    ColumnType type = ColumnType::kNumeric;
    double mean = 0.0;                    // numeric: over non-missing training values
    double std = 1.0;                     // numeric: population std; 1 when the column is constant
    std::vector<std::string> categories;  // categorical: sorted; boolean: {"false", "true"}
};

/// Turns raw string cells into a fixed-width float row. Numeric: (x - mean) / std, missing
/// imputed with the mean (so 0), then a 0/1 missing indicator. Boolean and categorical: one-hot
/// over the categories plus a final missing slot; an unseen category sets the missing slot.
/// Immutable after fit(); transform() may be called from any thread.
class TabularPreprocessor {
public:
    /// Fits on the training split. `columns[i]` holds the values of `names[i]`.
    static TabularPreprocessor fit(const std::vector<std::string>& names,
                                   const std::vector<ColumnType>& types,
                                   const std::vector<std::vector<std::string>>& columns,
                                   const std::vector<std::string>& missing_values);

    /// Encodes one row; `cells[i]` is the raw value of column i (same order as the fit).
    std::vector<float> transform(const std::vector<std::string>& cells) const;

    std::int64_t num_features() const { return num_features_; }
    const std::vector<ColumnEncoding>& columns() const { return columns_; }
    const std::vector<std::string>& missing_values() const { return missing_values_; }

    /// The fitted state; from_json(to_json()) encodes every row identically.
    nlohmann::json to_json() const;
    /// Throws DataError when the state is malformed.
    static TabularPreprocessor from_json(const nlohmann::json& state);

private:
    void encode(const ColumnEncoding& column, const std::string& raw, float* out) const;
    static std::int64_t width_of(const ColumnEncoding& column);

    std::vector<ColumnEncoding> columns_;
    std::vector<std::string> missing_values_;
    std::int64_t num_features_ = 0;
};

}  // namespace medfusion::data
