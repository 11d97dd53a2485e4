// train.log through a per-job spdlog file sink; metrics.jsonl appended a line per epoch.
#include "run_files.hpp"

#include <fstream>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/basic_file_sink.h>

namespace medfusion::train {
namespace fs = std::filesystem;
namespace {

// spdlog patterns treat '%' as a flag; a literal one is written "%%".
std::string escape_pattern(const std::string& text) {
    std::string out;
    for (char c : text) {
        out += c;
        if (c == '%') {
            out += '%';
        }
    }
    return out;
}

}  // namespace

std::shared_ptr<spdlog::logger> make_job_logger(const fs::path& job_dir,
                                                const std::string& job_id) {
    fs::create_directories(job_dir);
    auto sink =
        std::make_shared<spdlog::sinks::basic_file_sink_mt>((job_dir / kTrainLogName).string());
    auto logger = std::make_shared<spdlog::logger>("job-" + job_id, std::move(sink));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ job=" + escape_pattern(job_id) + " %v");
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::info);
    return logger;
}

MetricsJournal::MetricsJournal(const fs::path& job_dir) : path_(job_dir / kMetricsJournalName) {}

void MetricsJournal::truncate_after(int last_epoch) {
    std::vector<std::string> kept;
    {
        std::ifstream in(path_);
        std::string line;
        while (std::getline(in, line)) {
            const auto entry = nlohmann::json::parse(line, nullptr, false);
            if (entry.is_object() && entry.value("epoch", 0) >= 1 &&
                entry.value("epoch", 0) <= last_epoch) {
                kept.push_back(line);
            }
        }
    }
    std::ofstream out(path_, std::ios::trunc);
    for (const auto& line : kept) {
        out << line << '\n';
    }
}

void MetricsJournal::append(const core::EpochRecord& record) {
    nlohmann::json line = {{"epoch", record.epoch},
                           {"learning_rate", record.learning_rate},
                           {"seconds", record.seconds}};
    for (const auto& [name, value] : record.metrics) {
        line[name] = value;
    }
    std::ofstream out(path_, std::ios::app);
    out << line.dump() << '\n';
    out.flush();
    if (!out) {
        throw std::runtime_error("cannot write " + path_.string());
    }
}

}  // namespace medfusion::train
