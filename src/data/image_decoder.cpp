// Image decoding through OpenCV, normalised to 8-bit RGB whatever the file held.
#include "medfusion/data/image_decoder.hpp"

#include <algorithm>
#include <cctype>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "medfusion/data/data_error.hpp"

namespace medfusion::data {
namespace {

// Any channel count → 3 channels RGB, keeping the depth. Alpha is dropped, not composited:
// medical images with alpha carry it fully opaque.
cv::Mat to_three_channels(const cv::Mat& image) {
    cv::Mat rgb;
    switch (image.channels()) {
        case 1:
            cv::cvtColor(image, rgb, cv::COLOR_GRAY2RGB);
            break;
        case 2: {
            cv::Mat gray;
            cv::extractChannel(image, gray, 0);
            cv::cvtColor(gray, rgb, cv::COLOR_GRAY2RGB);
            break;
        }
        case 3:
            cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);
            break;
        case 4:
            cv::cvtColor(image, rgb, cv::COLOR_BGRA2RGB);
            break;
        default:
            throw DataError("unsupported channel count " + std::to_string(image.channels()));
    }
    return rgb;
}

// Deeper than 8 bits: stretch the image's own min..max to 0..255 so a 12-bit scan stored in
// 16 bits uses the full range instead of collapsing to a few grey levels.
cv::Mat scale_to_8bit(const cv::Mat& image) {
    if (image.depth() == CV_8U) {
        return image;
    }
    double lo = 0.0;
    double hi = 0.0;
    cv::minMaxLoc(image.reshape(1), &lo, &hi);
    const double range = hi - lo;
    const double alpha = range > 0.0 ? 255.0 / range : 0.0;
    cv::Mat out;
    image.convertTo(out, CV_8U, alpha, -lo * alpha);
    return out;
}

int bit_depth(int depth) {
    switch (depth) {
        case CV_8U:
        case CV_8S:
            return 8;
        case CV_16U:
        case CV_16S:
            return 16;
        case CV_64F:
            return 64;
        default:
            return 32;
    }
}

// JPEG: ANYDEPTH | ANYCOLOR, so OpenCV applies the EXIF orientation (it does not under
// IMREAD_UNCHANGED). Other formats: UNCHANGED, which keeps alpha so the source mode is known.
int read_flags(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool jpeg = ext == ".jpg" || ext == ".jpeg" || ext == ".jpe" || ext == ".jfif";
    return jpeg ? (cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR) : cv::IMREAD_UNCHANGED;
}

}  // namespace

std::string DecodedImage::mode() const {
    static const char* const kNames[] = {"", "L", "LA", "RGB", "RGBA"};
    const std::string base = source_channels >= 1 && source_channels <= 4
                                 ? kNames[source_channels]
                                 : std::to_string(source_channels) + "ch";
    return source_bit_depth == 8 ? base : base + std::to_string(source_bit_depth);
}

cv::Mat to_rgb8(const cv::Mat& image) {
    cv::Mat source = image;
    if (image.depth() != CV_8U && image.depth() != CV_16U && image.depth() != CV_32F) {
        image.convertTo(source, CV_32F);
    }
    return scale_to_8bit(to_three_channels(source));
}

std::string try_decode_image(const std::filesystem::path& path, DecodedImage& out) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return "file not found";
    }
    cv::Mat raw;
    try {
        raw = cv::imread(path.string(), read_flags(path));
    } catch (const cv::Exception&) {
        raw.release();
    }
    if (raw.empty()) {
        return "cannot decode image";
    }
    out.source_channels = raw.channels();
    out.source_bit_depth = bit_depth(raw.depth());
    out.rgb = to_rgb8(raw);
    return {};
}

DecodedImage decode_image(const std::filesystem::path& path) {
    DecodedImage decoded;
    const std::string reason = try_decode_image(path, decoded);
    if (!reason.empty()) {
        throw DataError(path.string() + ": " + reason);
    }
    return decoded;
}

}  // namespace medfusion::data
