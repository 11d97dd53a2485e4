// Writing the evaluation's files: atomic replacement of a whole file.
#pragma once

#include <filesystem>
#include <string>

namespace medfusion::train {

/// Writes `content` to `path` through a temporary file in the same folder and a rename, so a
/// reader sees the old file or the new one, never a part. Creates missing parent folders.
/// Throws std::runtime_error or std::filesystem::filesystem_error on failure.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

}  // namespace medfusion::train
