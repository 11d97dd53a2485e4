// Timestamps and identifiers.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace medfusion::core {

/// ISO-8601 UTC with second precision: "2026-03-15T10:30:00Z".
std::string iso8601(std::chrono::system_clock::time_point when);
std::string iso8601_now();

/// A random RFC 4122 version-4 UUID, e.g. "550e8400-e29b-41d4-a716-446655440000".
std::string new_uuid();

/// "24GB", "1TB", "512MB": the contract's human-readable sizes (powers of 1024, whole units
/// when >= 10, one decimal below).
std::string human_bytes(std::uint64_t bytes);

}  // namespace medfusion::core
