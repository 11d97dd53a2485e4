// The Dataset API: datasets found under the data roots (any folder holding train.csv) and
// those registered by name, with summaries and full profiles.
#include <filesystem>

#include <spdlog/spdlog.h>

#include "medfusion/core/api_error.hpp"
#include "medfusion/data/dataset_profile.hpp"
#include "medfusion/server/api_routes.hpp"
#include "medfusion/store/store.hpp"
#include "server/json_views.hpp"

namespace medfusion::server {

using core::ApiError;
using core::ErrorCode;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int kScanDepth = 4;                  // folder levels searched below each data root
constexpr std::size_t kMaxScannedDirs = 5000;  // bound on a scan of a huge tree
constexpr std::size_t kMaxNameBytes = 200;

struct DatasetEntry {
    std::string id;
    std::string name;
    fs::path path;
    bool registered = false;
};

void scan(const fs::path& root, std::vector<fs::path>& found) {
    std::error_code ec;
    std::size_t visited = 0;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (++visited > kMaxScannedDirs) {
            break;
        }
        if (!it->is_directory(ec)) {
            continue;
        }
        if (it.depth() >= kScanDepth || it->path().filename().string().starts_with(".")) {
            it.disable_recursion_pending();
        }
        if (fs::is_regular_file(it->path() / "train.csv", ec)) {
            found.push_back(it->path());
        }
    }
    if (fs::is_regular_file(root / "train.csv", ec)) {
        found.push_back(root);
    }
}

/// The CSVs themselves may be symlinks: a dataset counts only when each one really lies inside
/// the data roots.
bool csvs_inside_roots(const ApiDeps& deps, const fs::path& dir) {
    for (const char* name : {"train.csv", "val.csv", "test.csv"}) {
        std::error_code ec;
        const fs::path file = dir / name;
        if (!fs::exists(file, ec)) {
            continue;
        }
        const fs::path real = fs::weakly_canonical(file, ec);
        if (ec || !deps.data_paths.contains(real)) {
            return false;
        }
    }
    return true;
}

std::vector<DatasetEntry> all_datasets(const ApiDeps& deps) {
    std::vector<DatasetEntry> entries;
    for (const auto& record : deps.store.list_datasets()) {
        if (csvs_inside_roots(deps, record.path)) {
            entries.push_back({record.id, record.name, record.path, true});
        }
    }
    std::vector<fs::path> found;
    for (const auto& root : deps.data_paths.roots()) {
        scan(root, found);
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    for (const auto& dir : found) {
        if (!csvs_inside_roots(deps, dir)) {
            continue;
        }
        const bool known = std::any_of(entries.begin(), entries.end(),
                                       [&](const auto& e) { return e.path == dir; });
        if (!known) {
            entries.push_back({data::dataset_id(dir), dir.filename().string(), dir, false});
        }
    }
    return entries;
}

json entry_json(const DatasetEntry& entry) {
    json out = data::summarize_dataset(entry.path);
    out["id"] = entry.id;
    out["name"] = entry.name;
    out["path"] = entry.path.string();
    out["registered"] = entry.registered;
    return out;
}

Response list(const ApiDeps& deps, const Request& request) {
    const auto limit = request.query_int("limit", 50, 1, 1000);
    const auto offset = request.query_int("offset", 0, 0, 1'000'000'000);
    const auto entries = all_datasets(deps);
    json datasets = json::array();
    for (auto i = static_cast<std::size_t>(offset);
         i < entries.size() && datasets.size() < static_cast<std::size_t>(limit); ++i) {
        try {
            datasets.push_back(entry_json(entries[i]));
        } catch (const std::exception& e) {
            // One unreadable dataset must not hide the others.
            datasets.push_back({{"id", entries[i].id},
                                {"name", entries[i].name},
                                {"path", entries[i].path.string()},
                                {"error", e.what()}});
        }
    }
    return Response::json(
        {{"datasets", datasets}, {"total", entries.size()}, {"limit", limit}, {"offset", offset}});
}

/// A dataset whose files do not parse is the user's to fix: 400 with the reason.
json profile_or_400(const fs::path& dir) {
    try {
        return data::profile_dataset(dir);
    } catch (const std::exception& e) {
        throw ApiError(ErrorCode::kValidationError, "The dataset cannot be read", e.what());
    }
}

Response get(const ApiDeps& deps, const Request& request) {
    const auto& id = request.params.at("dataset_id");
    for (const auto& entry : all_datasets(deps)) {
        if (entry.id == id || (entry.registered && entry.name == id)) {
            json profile = profile_or_400(entry.path);
            profile["id"] = entry.id;
            profile["name"] = entry.name;
            profile["path"] = entry.path.string();
            profile["registered"] = entry.registered;
            return Response::json(profile);
        }
    }
    throw ApiError(ErrorCode::kNotFound, "Dataset not found", id);
}

Response add(const ApiDeps& deps, const Request& request) {
    const json body = request.json_object();
    json problems = unknown_keys(body, {"name", "path"});
    for (const char* key : {"name", "path"}) {
        if (!body.contains(key) || !body.at(key).is_string() ||
            body.at(key).get<std::string>().empty() ||
            body.at(key).get<std::string>().size() > kMaxNameBytes * 20) {
            problems.push_back({{"path", key}, {"message", "is required (a non-empty string)"}});
        }
    }
    if (!problems.empty()) {
        throw ApiError(ErrorCode::kValidationError, "Invalid dataset", problems);
    }
    const auto name = body.at("name").get<std::string>();
    if (!valid_name(name)) {
        throw ApiError(ErrorCode::kValidationError, "Invalid dataset",
                       json::array({{{"path", "name"},
                                     {"message", "letters, digits, '.', '_' and '-' only"}}}));
    }
    auto dir = deps.data_paths.resolve(body.at("path").get<std::string>());
    if (!dir) {
        throw ApiError(ErrorCode::kPathNotAllowed, "Path is outside the allowed data roots",
                       body.at("path").get<std::string>());
    }
    if (!fs::is_regular_file(*dir / "train.csv") || !csvs_inside_roots(deps, *dir)) {
        throw ApiError(
            ErrorCode::kValidationError, "Invalid dataset",
            json::array({{{"path", "path"}, {"message", "no train.csv in " + dir->string()}}}));
    }
    if (deps.store.find_dataset(name)) {
        throw ApiError(ErrorCode::kConflict, "A dataset with this name exists", name);
    }
    try {
        data::summarize_dataset(*dir);
    } catch (const std::exception& e) {
        throw ApiError(ErrorCode::kValidationError, "The dataset cannot be read", e.what());
    }
    const auto record = deps.store.add_dataset({"", name, dir->string(), ""});
    json out = entry_json({record.id, record.name, record.path, true});
    out["created_at"] = record.created_at;
    return Response::json(out, 201);
}

}  // namespace

void add_dataset_routes(Router& router, const ApiDeps& deps) {
    const ApiDeps* d = &deps;
    router.add(
        "GET", "/api/datasets", [d](const Request& r) { return list(*d, r); },
        Execution::kBlocking);
    router.add(
        "GET", "/api/datasets/{dataset_id}", [d](const Request& r) { return get(*d, r); },
        Execution::kBlocking);
    router.add(
        "POST", "/api/datasets", [d](const Request& r) { return add(*d, r); },
        Execution::kBlocking);
}

}  // namespace medfusion::server
