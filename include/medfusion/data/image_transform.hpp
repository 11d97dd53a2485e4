// The image transform of the loader: resize (stretch | pad | center_crop), augmentation by
// level, ImageNet normalisation into a CHW float buffer. Torch-free so it is cheap to test.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

namespace medfusion::data {

inline constexpr std::array<float, 3> kImageNetMean = {0.485f, 0.456f, 0.406f};
inline constexpr std::array<float, 3> kImageNetStd = {0.229f, 0.224f, 0.225f};

/// Random parameters of one augmented sample; all neutral for augmentation "none".
struct AugmentParams {
    bool hflip = false;
    bool vflip = false;
    double rotation_deg = 0.0;
    double scale = 1.0;
    double translate_x = 0.0;  // fraction of the output size
    double translate_y = 0.0;
    double brightness = 1.0;  // multiplicative, as torchvision ColorJitter
    double contrast = 1.0;
    bool resized_crop = false;  // random resized crop instead of the resize mode
    cv::Rect2d crop;            // in source pixels when resized_crop
};

/// Resize, augment and normalise one image. Immutable; apply() is thread-safe. The random
/// draw depends only on (seed, epoch, sample index), so results do not depend on worker count.
class ImageTransform {
public:
    /// Throws DataError on an unknown augmentation level or resize mode.
    ImageTransform(int image_size, std::string resize_mode, std::string augmentation);

    /// Draws the augmentation of one sample for an image of `source_size`.
    AugmentParams draw(std::uint64_t seed, int epoch, std::int64_t index,
                       cv::Size source_size) const;

    /// RGB 8-bit → the resized, augmented RGB 8-bit image (image_size x image_size).
    cv::Mat augment(const cv::Mat& rgb, const AugmentParams& params) const;

    /// Writes `3 * image_size * image_size` floats, CHW, ImageNet-normalised, applying the
    /// brightness/contrast jitter of `params`.
    void normalize(const cv::Mat& rgb, const AugmentParams& params, float* out) const;

    /// draw + augment + normalize.
    void apply(const cv::Mat& rgb, std::uint64_t seed, int epoch, std::int64_t index,
               float* out) const;

    int image_size() const { return image_size_; }

private:
    cv::Mat resize(const cv::Mat& rgb) const;
    cv::Mat crop_and_resize(const cv::Mat& rgb, const cv::Rect2d& crop) const;
    cv::Mat warp(const cv::Mat& image, const AugmentParams& params) const;

    int image_size_;
    std::string resize_mode_;
    std::string augmentation_;
};

}  // namespace medfusion::data
