// Timestamps, UUIDs and human-readable sizes.
#include "medfusion/core/clock.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <random>

namespace medfusion::core {

std::string iso8601(std::chrono::system_clock::time_point when) {
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm utc{};
    gmtime_r(&t, &utc);
    std::array<char, 32> buffer{};
    std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer.data();
}

std::string iso8601_now() {
    return iso8601(std::chrono::system_clock::now());
}

std::string new_uuid() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uint64_t hi = rng();
    std::uint64_t lo = rng();

    // Version 4 and the RFC 4122 variant.
    hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
    lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;

    std::array<char, 40> out{};
    std::snprintf(out.data(), out.size(), "%08x-%04x-%04x-%04x-%012llx",
                  static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xFFFF),
                  static_cast<unsigned>(hi & 0xFFFF), static_cast<unsigned>(lo >> 48),
                  static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
    return out.data();
}

std::string human_bytes(std::uint64_t bytes) {
    constexpr std::array<const char*, 6> kUnits = {"B", "KB", "MB", "GB", "TB", "PB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < kUnits.size()) {
        value /= 1024.0;
        ++unit;
    }
    std::array<char, 32> out{};
    if (value >= 10.0 || unit == 0) {
        std::snprintf(out.data(), out.size(), "%.0f%s", value, kUnits[unit]);
    } else {
        std::snprintf(out.data(), out.size(), "%.1f%s", value, kUnits[unit]);
    }
    return out.data();
}

}  // namespace medfusion::core
