// predictions.csv and atomic file writes for the evaluation outputs.
#include "report_files.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "medfusion/train/report.hpp"

namespace medfusion::train {
namespace {

/// RFC 4180: quote a field holding a comma, quote or line break; double the quotes inside.
std::string csv_field(const std::string& value) {
    if (value.find_first_of(",\"\r\n") == std::string::npos) {
        return value;
    }
    std::string out = "\"";
    for (char c : value) {
        out += c == '"' ? "\"\"" : std::string(1, c);
    }
    return out + "\"";
}

/// 17 significant digits: the text reads back as the same double.
std::string exact_number(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    return buffer;
}

void validate(const std::vector<std::int64_t>& rows, const std::vector<std::int64_t>& labels,
              const std::vector<std::vector<double>>& probabilities,
              const std::vector<std::string>& class_names) {
    if (rows.size() != labels.size() || labels.size() != probabilities.size()) {
        throw std::invalid_argument("predictions need one row id and probability row per label");
    }
    const auto num_classes = static_cast<std::int64_t>(class_names.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0 || labels[i] >= num_classes ||
            static_cast<std::int64_t>(probabilities[i].size()) != num_classes) {
            throw std::invalid_argument("prediction " + std::to_string(i) +
                                        " does not match the class names");
        }
    }
}

std::string header_line(const std::vector<std::string>& class_names) {
    std::string line = "row,true_label,predicted_label";
    for (const auto& name : class_names) {
        line += "," + csv_field("prob_" + name);
    }
    return line + "\n";
}

std::size_t first_argmax(const std::vector<double>& row) {
    std::size_t best = 0;
    for (std::size_t k = 1; k < row.size(); ++k) {
        best = row[k] > row[best] ? k : best;
    }
    return best;
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
    if (path.has_parent_path()) {
        std::filesystem::create_directories(path.parent_path());
    }
    const std::filesystem::path temporary = path.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << content;
        if (!out.flush()) {
            throw std::runtime_error("cannot write " + temporary.string());
        }
    }
    std::filesystem::rename(temporary, path);
}

void write_predictions_csv(const std::filesystem::path& path, const std::vector<std::int64_t>& rows,
                           const std::vector<std::int64_t>& labels,
                           const std::vector<std::vector<double>>& probabilities,
                           const std::vector<std::string>& class_names) {
    validate(rows, labels, probabilities, class_names);
    std::string content = header_line(class_names);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        content += std::to_string(rows[i]) + "," + csv_field(class_names[labels[i]]) + "," +
                   csv_field(class_names[first_argmax(probabilities[i])]);
        for (double p : probabilities[i]) {
            content += "," + exact_number(p);
        }
        content += "\n";
    }
    write_file_atomically(path, content);
}

}  // namespace medfusion::train
