// Helpers shared by the data tests: where the shared data lives, and a scratch folder that
// removes itself.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace medfusion::data::testing {

/// MEDFUSION_SHARED_DATA, else <MEDFUSION_SOURCE_DIR>/../shared/data.
inline std::filesystem::path shared_data_dir() {
    if (const char* dir = std::getenv("MEDFUSION_SHARED_DATA")) {
        return dir;
    }
    const char* source = std::getenv("MEDFUSION_SOURCE_DIR");
    return std::filesystem::path(source ? source : ".") / ".." / "shared" / "data";
}

inline std::filesystem::path pad_ufes_dir() {
    return shared_data_dir() / "pad_ufes_20";
}

/// A fresh folder under the system temp dir, removed with its contents on destruction.
class TempDir {
public:
    TempDir() {
        std::random_device device;
        path_ = std::filesystem::temp_directory_path() /
                ("medfusion-data-test-" + std::to_string(device()) + std::to_string(device()));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

    std::filesystem::path write(const std::string& name, const std::string& text) const {
        const auto file = path_ / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }

private:
    std::filesystem::path path_;
};

}  // namespace medfusion::data::testing
