// Resize, seeded augmentation and ImageNet normalisation of one decoded RGB image.
#include "medfusion/data/image_transform.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <opencv2/imgproc.hpp>

#include "medfusion/data/data_error.hpp"

namespace medfusion::data {
namespace {

/// Ranges of one augmentation level; zero ranges switch a transform off.
struct AugmentLevel {
    bool hflip = false;
    bool vflip = false;
    double rotation_deg = 0.0;   // uniform in [-r, r]
    double scale = 0.0;          // uniform in [1 - s, 1 + s]
    double translate = 0.0;      // uniform in [-t, t] of the output size, per axis
    double jitter = 0.0;         // brightness and contrast factors uniform in [1 - j, 1 + j]
    double crop_min_area = 0.0;  // random resized crop when > 0: area fraction in [a, 1]
};

AugmentLevel level_of(const std::string& name) {
    if (name == "none") {
        return {};
    }
    if (name == "light") {
        return {true, false, 10.0, 0.0, 0.0, 0.1, 0.0};
    }
    if (name == "medium") {
        return {true, true, 20.0, 0.1, 0.05, 0.2, 0.0};
    }
    if (name == "heavy") {
        return {true, true, 30.0, 0.15, 0.1, 0.3, 0.6};
    }
    throw DataError("unknown augmentation '" + name + "' (none | light | medium | heavy)");
}

// SplitMix64 finaliser: decorrelates nearby (seed, epoch, index) triples.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

double uniform(std::mt19937_64& rng, double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
}

// torchvision RandomResizedCrop's draw: area fraction and log-uniform aspect ratio, ten tries,
// then the whole image.
cv::Rect2d draw_crop(std::mt19937_64& rng, double min_area, cv::Size size) {
    const double area = static_cast<double>(size.area());
    for (int attempt = 0; attempt < 10; ++attempt) {
        const double target = area * uniform(rng, min_area, 1.0);
        const double ratio = std::exp(uniform(rng, std::log(3.0 / 4.0), std::log(4.0 / 3.0)));
        const double w = std::round(std::sqrt(target * ratio));
        const double h = std::round(std::sqrt(target / ratio));
        if (w > 0 && h > 0 && w <= size.width && h <= size.height) {
            const double x = std::floor(uniform(rng, 0.0, size.width - w + 1.0));
            const double y = std::floor(uniform(rng, 0.0, size.height - h + 1.0));
            return {x, y, w, h};
        }
    }
    return {0.0, 0.0, static_cast<double>(size.width), static_cast<double>(size.height)};
}

int interpolation_for(cv::Size from, cv::Size to) {
    return to.width < from.width || to.height < from.height ? cv::INTER_AREA : cv::INTER_LINEAR;
}

}  // namespace

ImageTransform::ImageTransform(int image_size, std::string resize_mode, std::string augmentation)
    : image_size_(image_size),
      resize_mode_(std::move(resize_mode)),
      augmentation_(std::move(augmentation)) {
    if (image_size_ <= 0) {
        throw DataError("image_size must be positive");
    }
    if (resize_mode_ != "stretch" && resize_mode_ != "pad" && resize_mode_ != "center_crop") {
        throw DataError("unknown resize_mode '" + resize_mode_ + "' (stretch | pad | center_crop)");
    }
    level_of(augmentation_);
}

AugmentParams ImageTransform::draw(std::uint64_t seed, int epoch, std::int64_t index,
                                   cv::Size source_size) const {
    const AugmentLevel level = level_of(augmentation_);
    AugmentParams params;
    if (augmentation_ == "none") {
        return params;
    }
    std::mt19937_64 rng(mix(
        seed ^ mix(static_cast<std::uint64_t>(epoch) ^ mix(static_cast<std::uint64_t>(index)))));
    if (level.crop_min_area > 0.0) {
        params.resized_crop = true;
        params.crop = draw_crop(rng, level.crop_min_area, source_size);
    }
    params.hflip = level.hflip && uniform(rng, 0.0, 1.0) < 0.5;
    params.vflip = level.vflip && uniform(rng, 0.0, 1.0) < 0.5;
    params.rotation_deg = uniform(rng, -level.rotation_deg, level.rotation_deg);
    params.scale = 1.0 + uniform(rng, -level.scale, level.scale);
    params.translate_x = uniform(rng, -level.translate, level.translate);
    params.translate_y = uniform(rng, -level.translate, level.translate);
    params.brightness = 1.0 + uniform(rng, -level.jitter, level.jitter);
    params.contrast = 1.0 + uniform(rng, -level.jitter, level.jitter);
    return params;
}

cv::Mat ImageTransform::resize(const cv::Mat& rgb) const {
    const cv::Size target(image_size_, image_size_);
    if (resize_mode_ == "stretch") {
        cv::Mat out;
        cv::resize(rgb, out, target, 0, 0, interpolation_for(rgb.size(), target));
        return out;
    }

    // pad: the longest side fits; center_crop: the shortest side fits and the rest is cut.
    const bool pad = resize_mode_ == "pad";
    const double factor = pad ? static_cast<double>(image_size_) / std::max(rgb.cols, rgb.rows)
                              : static_cast<double>(image_size_) / std::min(rgb.cols, rgb.rows);
    const cv::Size scaled(std::max(1, static_cast<int>(std::lround(rgb.cols * factor))),
                          std::max(1, static_cast<int>(std::lround(rgb.rows * factor))));
    cv::Mat resized;
    cv::resize(rgb, resized, scaled, 0, 0, interpolation_for(rgb.size(), scaled));
    const int dx = (scaled.width - image_size_) / 2;
    const int dy = (scaled.height - image_size_) / 2;
    if (!pad) {
        return resized(cv::Rect(dx, dy, image_size_, image_size_)).clone();
    }
    cv::Mat out(target, CV_8UC3, cv::Scalar::all(0));
    resized.copyTo(out(cv::Rect(-dx, -dy, scaled.width, scaled.height)));
    return out;
}

cv::Mat ImageTransform::crop_and_resize(const cv::Mat& rgb, const cv::Rect2d& crop) const {
    const cv::Rect box = cv::Rect(crop) & cv::Rect(0, 0, rgb.cols, rgb.rows);
    const cv::Size target(image_size_, image_size_);
    cv::Mat out;
    cv::resize(rgb(box), out, target, 0, 0, interpolation_for(box.size(), target));
    return out;
}

cv::Mat ImageTransform::warp(const cv::Mat& image, const AugmentParams& params) const {
    const bool identity = params.rotation_deg == 0.0 && params.scale == 1.0 &&
                          params.translate_x == 0.0 && params.translate_y == 0.0;
    if (identity) {
        return image;
    }
    const cv::Point2f center(image.cols / 2.0f, image.rows / 2.0f);
    cv::Mat matrix = cv::getRotationMatrix2D(center, params.rotation_deg, params.scale);
    matrix.at<double>(0, 2) += params.translate_x * image.cols;
    matrix.at<double>(1, 2) += params.translate_y * image.rows;
    cv::Mat out;
    cv::warpAffine(image, out, matrix, image.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                   cv::Scalar::all(0));
    return out;
}

cv::Mat ImageTransform::augment(const cv::Mat& rgb, const AugmentParams& params) const {
    cv::Mat image = params.resized_crop ? crop_and_resize(rgb, params.crop) : resize(rgb);
    image = warp(image, params);
    if (params.hflip || params.vflip) {
        const int code = params.hflip && params.vflip ? -1 : (params.hflip ? 1 : 0);
        cv::Mat flipped;
        cv::flip(image, flipped, code);
        image = flipped;
    }
    return image;
}

void ImageTransform::normalize(const cv::Mat& rgb, const AugmentParams& params, float* out) const {
    const int plane = rgb.rows * rgb.cols;
    const float brightness = static_cast<float>(params.brightness);
    const float contrast = static_cast<float>(params.contrast);

    // Brightness as torchvision: scale and clamp to [0, 1]; the contrast pivot is the mean
    // grey level of the brightened image.
    std::vector<float> values(static_cast<std::size_t>(plane) * 3);
    double grey_sum = 0.0;
    for (int y = 0; y < rgb.rows; ++y) {
        const auto* row = rgb.ptr<cv::Vec3b>(y);
        for (int x = 0; x < rgb.cols; ++x) {
            float* v = &values[(static_cast<std::size_t>(y) * rgb.cols + x) * 3];
            for (int c = 0; c < 3; ++c) {
                v[c] = std::min(1.0f, row[x][c] / 255.0f * brightness);
            }
            grey_sum += 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
        }
    }
    const float pivot = static_cast<float>(grey_sum / plane);

    for (int i = 0; i < plane; ++i) {
        for (int c = 0; c < 3; ++c) {
            float v = values[static_cast<std::size_t>(i) * 3 + c];
            if (contrast != 1.0f) {
                v = std::clamp((v - pivot) * contrast + pivot, 0.0f, 1.0f);
            }
            out[c * plane + i] = (v - kImageNetMean[c]) / kImageNetStd[c];
        }
    }
}

void ImageTransform::apply(const cv::Mat& rgb, std::uint64_t seed, int epoch, std::int64_t index,
                           float* out) const {
    const AugmentParams params = draw(seed, epoch, index, rgb.size());
    normalize(augment(rgb, params), params, out);
}

}  // namespace medfusion::data
