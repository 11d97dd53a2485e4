// Decodes an image file into 8-bit RGB: PNG (8/16-bit), JPEG (EXIF orientation applied), TIFF,
// BMP through OpenCV. Grayscale becomes 3 channels, alpha is dropped, 16-bit is rescaled.
#pragma once

#include <filesystem>
#include <string>

#include <opencv2/core.hpp>

namespace medfusion::data {

/// A decoded image and what the file held before conversion.
struct DecodedImage {
    cv::Mat rgb;               // CV_8UC3, RGB order
    int source_channels = 0;   // 1 gray, 2 gray+alpha, 3 colour, 4 colour+alpha
    int source_bit_depth = 0;  // 8 or 16 (32 for float TIFF)
    std::string mode() const;  // "L", "LA", "RGB", "RGBA", with "16" appended for 16-bit
};

/// Decodes `path`. Throws DataError with a short reason ("file not found", "cannot decode")
/// naming the path. 16-bit (and float) images are min-max scaled per image to 0..255, so the
/// full dynamic range survives instead of being truncated. Thread-safe.
DecodedImage decode_image(const std::filesystem::path& path);

/// Same as decode_image() without throwing: fills `out` and returns an empty string, or returns
/// the reason ("file not found", "cannot decode image") leaving `out` untouched.
std::string try_decode_image(const std::filesystem::path& path, DecodedImage& out);

/// Converts an already decoded OpenCV matrix (any depth, 1-4 channels, BGR order) to RGB 8-bit.
cv::Mat to_rgb8(const cv::Mat& image);

}  // namespace medfusion::data
