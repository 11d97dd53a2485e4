// RFC 4180 CSV reading: quoted fields with commas, newlines and doubled quotes, CRLF, a UTF-8
// byte-order mark. A ragged row is an error naming the file and the line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace medfusion::data {

/// A parsed CSV: the header, the records, and the 1-based line on which each record starts.
struct CsvTable {
    std::string source;  // file name used in messages
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::int64_t> lines;

    /// Index of a header column, or nullopt when absent.
    std::optional<std::size_t> column(const std::string& name) const;
};

/// Parses CSV text. Throws DataError (ragged row, unterminated quote, empty input) with
/// `source` and the line in the message. Blank lines between records are skipped.
CsvTable parse_csv(std::string_view text, const std::string& source);

/// Reads and parses a CSV file; a missing or unreadable file is a DataError.
CsvTable read_csv(const std::filesystem::path& path);

}  // namespace medfusion::data
