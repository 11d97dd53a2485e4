// What the Datasets API shows about a dataset folder: a cheap summary for listings and a full
// profile (per-split class distribution, per-column statistics, an image check over a sample).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace medfusion::data {

/// Rows checked by the image part of profile_dataset() unless the caller asks otherwise.
inline constexpr std::size_t kProfileImageSample = 64;

/// A stable id for a dataset folder: its name as a slug plus a short hash of the path.
std::string dataset_id(const std::filesystem::path& dir);

/// Summary row for GET /api/datasets: {id, name, path, splits:{train:{rows},val:{rows},
/// test:{rows}}, num_classes, num_features, size_bytes}. `dir` holds train.csv (+ val.csv,
/// test.csv optional). Reads only the CSVs. Throws DataError when train.csv is unreadable.
/// Blocking (file I/O): call it off the I/O thread.
nlohmann::json summarize_dataset(const std::filesystem::path& dir);

/// Full profile for GET /api/datasets/{id}: the summary plus, per split, rows and class
/// distribution; per column the inferred type, missing %, distinct count and numeric
/// min/mean/max (training split); an image check over up to `image_sample` training rows spread
/// evenly (decodable count, sizes, channel modes, bad rows with row, path, reason).
/// Blocking (decodes images): call it off the I/O thread.
nlohmann::json profile_dataset(const std::filesystem::path& dir,
                               std::size_t image_sample = kProfileImageSample);

}  // namespace medfusion::data
