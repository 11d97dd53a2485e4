// Confines paths that come from requests and configs to configured roots.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace medfusion::core {

/// Resolves user-supplied paths against a base directory and checks that the result (with
/// symlinks followed as far as they exist) lies inside one of the allowed roots.
/// Immutable after construction; safe to share between threads.
class PathPolicy {
public:
    PathPolicy(std::filesystem::path base_dir, std::vector<std::filesystem::path> roots);

    /// The absolute, normalised path, or nullopt when it falls outside every root.
    std::optional<std::filesystem::path> resolve(const std::string& user_path) const;

    /// Same as resolve() for a path relative to `relative_to` instead of the base directory.
    std::optional<std::filesystem::path> resolve_from(const std::filesystem::path& relative_to,
                                                      const std::string& user_path) const;

    bool contains(const std::filesystem::path& absolute) const;

    const std::filesystem::path& base_dir() const { return base_dir_; }
    const std::vector<std::filesystem::path>& roots() const { return roots_; }

private:
    std::filesystem::path base_dir_;
    std::vector<std::filesystem::path> roots_;
};

}  // namespace medfusion::core
