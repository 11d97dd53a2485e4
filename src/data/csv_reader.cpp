// RFC 4180 CSV parser over the whole file held in memory: one pass, no regex, no copies of
// unquoted fields beyond the final string.
#include "medfusion/data/csv_reader.hpp"

#include <fstream>
#include <sstream>

#include "medfusion/data/data_error.hpp"

namespace medfusion::data {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Incremental state of one pass over the text.
class CsvParser {
public:
    CsvParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

    CsvTable parse() {
        if (text_.substr(0, kUtf8Bom.size()) == kUtf8Bom) {
            pos_ = kUtf8Bom.size();
        }
        CsvTable table;
        table.source = source_;
        std::vector<std::string> record;
        std::int64_t start_line = 0;
        while (read_record(record, start_line)) {
            add_record(table, std::move(record), start_line);
            record.clear();
        }
        if (table.header.empty()) {
            throw DataError(source_ + ": empty file, expected a header row");
        }
        return table;
    }

private:
    void add_record(CsvTable& table, std::vector<std::string>&& record, std::int64_t line) {
        // A lone empty field is a blank line; blank lines carry no record.
        if (record.size() == 1 && record[0].empty()) {
            return;
        }
        if (table.header.empty()) {
            table.header = std::move(record);
            return;
        }
        if (record.size() != table.header.size()) {
            throw DataError(source_ + " line " + std::to_string(line) + ": expected " +
                            std::to_string(table.header.size()) + " fields, found " +
                            std::to_string(record.size()));
        }
        table.rows.push_back(std::move(record));
        table.lines.push_back(line);
    }

    // Reads one record (which may span lines inside quotes); false at the end of the text.
    bool read_record(std::vector<std::string>& record, std::int64_t& start_line) {
        if (pos_ >= text_.size()) {
            return false;
        }
        start_line = line_;
        while (true) {
            record.push_back(read_field());
            if (pos_ >= text_.size()) {
                return true;
            }
            const char c = text_[pos_];
            if (c == ',') {
                ++pos_;
                continue;
            }
            skip_line_end();
            return true;
        }
    }

    std::string read_field() {
        if (pos_ < text_.size() && text_[pos_] == '"') {
            return read_quoted();
        }
        const std::size_t begin = pos_;
        while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' &&
               text_[pos_] != '\r') {
            ++pos_;
        }
        return std::string(text_.substr(begin, pos_ - begin));
    }

    std::string read_quoted() {
        const std::int64_t opened_at = line_;
        ++pos_;
        std::string field;
        while (pos_ < text_.size()) {
            const char c = text_[pos_++];
            if (c == '"') {
                if (pos_ < text_.size() && text_[pos_] == '"') {
                    field.push_back('"');
                    ++pos_;
                    continue;
                }
                expect_field_end();
                return field;
            }
            if (c == '\n') {
                ++line_;
            }
            field.push_back(c);
        }
        throw DataError(source_ + " line " + std::to_string(opened_at) +
                        ": quoted field is never closed");
    }

    // After a closing quote only a separator or a line end may follow.
    void expect_field_end() {
        if (pos_ >= text_.size() || text_[pos_] == ',' || text_[pos_] == '\n' ||
            text_[pos_] == '\r') {
            return;
        }
        throw DataError(source_ + " line " + std::to_string(line_) +
                        ": unexpected character after a closing quote");
    }

    void skip_line_end() {
        if (text_[pos_] == '\r') {
            ++pos_;
        }
        if (pos_ < text_.size() && text_[pos_] == '\n') {
            ++pos_;
        }
        ++line_;
    }

    std::string_view text_;
    const std::string& source_;
    std::size_t pos_ = 0;
    std::int64_t line_ = 1;
};

}  // namespace

std::optional<std::size_t> CsvTable::column(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i] == name) {
            return i;
        }
    }
    return std::nullopt;
}

CsvTable parse_csv(std::string_view text, const std::string& source) {
    return CsvParser(text, source).parse();
}

CsvTable read_csv(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw DataError(path.string() + ": cannot open CSV file");
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return parse_csv(buffer.str(), path.filename().string());
}

}  // namespace medfusion::data
