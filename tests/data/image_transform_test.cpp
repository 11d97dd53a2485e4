// ImageTransform tests: normalisation values, resize modes, flips and seeded reproducibility.
#include "medfusion/data/image_transform.hpp"

#include <gtest/gtest.h>

#include "medfusion/data/data_error.hpp"

namespace medfusion::data {
namespace {

constexpr int kSize = 8;

std::vector<float> run(const ImageTransform& transform, const cv::Mat& rgb,
                       const AugmentParams& params = {}) {
    std::vector<float> out(3 * kSize * kSize);
    transform.normalize(transform.augment(rgb, params), params, out.data());
    return out;
}

float at(const std::vector<float>& chw, int c, int y, int x) {
    return chw[static_cast<std::size_t>(c * kSize * kSize + y * kSize + x)];
}

// (value / 255 - mean) / std for channel c: the ImageNet normalisation of torchvision.
float imagenet(int value, int c) {
    return (value / 255.0f - kImageNetMean[c]) / kImageNetStd[c];
}

TEST(ImageTransformTest, NormalisesWithImageNetStatistics) {
    const ImageTransform transform(kSize, "stretch", "none");
    const cv::Mat rgb(16, 16, CV_8UC3, cv::Scalar(128, 64, 255));
    const auto out = run(transform, rgb);
    EXPECT_NEAR(at(out, 0, 3, 3), imagenet(128, 0), 1e-5);  // (0.50196-0.485)/0.229 = 0.07406
    EXPECT_NEAR(at(out, 1, 3, 3), imagenet(64, 1), 1e-5);
    EXPECT_NEAR(at(out, 2, 3, 3), imagenet(255, 2), 1e-5);
    EXPECT_NEAR(at(out, 0, 3, 3), 0.07406f, 1e-4);
}

TEST(ImageTransformTest, PadKeepsAspectWithBlackBars) {
    // 32x16 white → 8x4 centred in 8x8: rows 0-1 and 6-7 are black.
    const ImageTransform transform(kSize, "pad", "none");
    const cv::Mat rgb(16, 32, CV_8UC3, cv::Scalar::all(255));
    const auto out = run(transform, rgb);
    EXPECT_NEAR(at(out, 0, 0, 4), imagenet(0, 0), 1e-5);
    EXPECT_NEAR(at(out, 0, 1, 4), imagenet(0, 0), 1e-5);
    EXPECT_NEAR(at(out, 0, 3, 4), imagenet(255, 0), 1e-5);
    EXPECT_NEAR(at(out, 0, 7, 4), imagenet(0, 0), 1e-5);
}

TEST(ImageTransformTest, CenterCropCutsTheLongSide) {
    // 32x16, columns 0-7 black, 8-23 white, 24-31 black: scaled to 16x8 the crop keeps
    // columns 4-11 of the scaled image, i.e. exactly the white middle.
    const ImageTransform transform(kSize, "center_crop", "none");
    cv::Mat rgb(16, 32, CV_8UC3, cv::Scalar::all(0));
    rgb(cv::Rect(8, 0, 16, 16)).setTo(cv::Scalar::all(255));
    const auto out = run(transform, rgb);
    EXPECT_NEAR(at(out, 1, 4, 0), imagenet(255, 1), 1e-5);
    EXPECT_NEAR(at(out, 1, 4, 7), imagenet(255, 1), 1e-5);
}

TEST(ImageTransformTest, HorizontalFlipMirrorsColumns) {
    const ImageTransform transform(kSize, "stretch", "none");
    cv::Mat rgb(kSize, kSize, CV_8UC3, cv::Scalar::all(0));
    rgb(cv::Rect(0, 0, 1, kSize)).setTo(cv::Scalar::all(255));
    AugmentParams params;
    params.hflip = true;
    const auto out = run(transform, rgb, params);
    EXPECT_NEAR(at(out, 2, 2, kSize - 1), imagenet(255, 2), 1e-5);
    EXPECT_NEAR(at(out, 2, 2, 0), imagenet(0, 2), 1e-5);
}

TEST(ImageTransformTest, BrightnessScalesAndClamps) {
    // torchvision adjust_brightness(0.5): 200 → 100 (in 0..255 units); factor 2: 200 → 255.
    const ImageTransform transform(kSize, "stretch", "none");
    const cv::Mat rgb(kSize, kSize, CV_8UC3, cv::Scalar::all(200));
    AugmentParams darker;
    darker.brightness = 0.5;
    EXPECT_NEAR(at(run(transform, rgb, darker), 0, 1, 1), imagenet(100, 0), 1e-5);
    AugmentParams brighter;
    brighter.brightness = 2.0;
    EXPECT_NEAR(at(run(transform, rgb, brighter), 0, 1, 1), imagenet(255, 0), 1e-5);
}

TEST(ImageTransformTest, NoneDrawsNeutralParameters) {
    const ImageTransform transform(kSize, "stretch", "none");
    const AugmentParams params = transform.draw(42, 3, 17, cv::Size(300, 300));
    EXPECT_FALSE(params.hflip || params.vflip || params.resized_crop);
    EXPECT_EQ(params.rotation_deg, 0.0);
    EXPECT_EQ(params.brightness, 1.0);
}

TEST(ImageTransformTest, DrawIsReproducibleFromSeedEpochAndIndex) {
    const ImageTransform transform(kSize, "stretch", "heavy");
    const auto a = transform.draw(42, 1, 5, cv::Size(300, 300));
    const auto b = transform.draw(42, 1, 5, cv::Size(300, 300));
    const auto other_epoch = transform.draw(42, 2, 5, cv::Size(300, 300));
    EXPECT_EQ(a.rotation_deg, b.rotation_deg);
    EXPECT_EQ(a.crop, b.crop);
    EXPECT_NE(a.rotation_deg, other_epoch.rotation_deg);
    EXPECT_LE(std::abs(a.rotation_deg), 30.0);
    EXPECT_GE(a.crop.area(), 0.6 * 300 * 300 - 600);  // rounding of width and height
}

TEST(ImageTransformTest, UnknownLevelOrModeIsADataError) {
    EXPECT_THROW(ImageTransform(kSize, "stretch", "extreme"), DataError);
    EXPECT_THROW(ImageTransform(kSize, "fit", "none"), DataError);
}

}  // namespace
}  // namespace medfusion::data
