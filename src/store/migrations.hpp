// The store's schema as an ordered list of migrations, each applied once in its own transaction
// and recorded in `schema_version`.
#pragma once

#include <vector>

namespace SQLite {
class Database;
}

namespace medfusion::store {

struct Migration {
    int version;
    const char* description;
    const char* sql;
};

/// Every migration, in version order (1, 2, 3, ...).
const std::vector<Migration>& migrations();

/// The version recorded in the file; 0 for a new, empty database.
int schema_version(SQLite::Database& db);

/// Applies the migrations above the file's version up to `target_version`. Throws
/// std::runtime_error when the file is newer than `target_version`.
void migrate(SQLite::Database& db, int target_version);

}  // namespace medfusion::store
