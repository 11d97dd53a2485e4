// Path confinement: resolve, normalise, follow existing symlinks, then check the roots.
#include "medfusion/core/paths.hpp"

#include <algorithm>

namespace medfusion::core {

namespace fs = std::filesystem;

namespace {

// weakly_canonical follows symlinks for the part of the path that exists, so a link inside a
// root that points outside it is caught.
fs::path normalise(const fs::path& p) {
    std::error_code ec;
    fs::path out = fs::weakly_canonical(p, ec);
    if (ec) {
        out = p.lexically_normal();
    }
    return out;
}

bool is_within(const fs::path& child, const fs::path& root) {
    auto [root_end, child_it] = std::mismatch(root.begin(), root.end(), child.begin(), child.end());
    if (root_end == root.end()) {
        return true;
    }
    // A trailing empty element ("dir/") on the root still counts as a match.
    return std::next(root_end) == root.end() && root_end->empty();
}

}  // namespace

PathPolicy::PathPolicy(fs::path base_dir, std::vector<fs::path> roots)
    : base_dir_(normalise(fs::absolute(base_dir))) {
    for (const auto& root : roots) {
        fs::path absolute = root.is_absolute() ? root : base_dir_ / root;
        roots_.push_back(normalise(absolute));
    }
}

std::optional<fs::path> PathPolicy::resolve(const std::string& user_path) const {
    return resolve_from(base_dir_, user_path);
}

std::optional<fs::path> PathPolicy::resolve_from(const fs::path& relative_to,
                                                 const std::string& user_path) const {
    if (user_path.empty() || user_path.find('\0') != std::string::npos) {
        return std::nullopt;
    }
    fs::path p(user_path);
    fs::path absolute = normalise(p.is_absolute() ? p : relative_to / p);
    if (!contains(absolute)) {
        return std::nullopt;
    }
    return absolute;
}

bool PathPolicy::contains(const fs::path& absolute) const {
    return std::any_of(roots_.begin(), roots_.end(),
                       [&](const fs::path& root) { return is_within(absolute, root); });
}

}  // namespace medfusion::core
