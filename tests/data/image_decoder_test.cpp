// ImageDecoder tests: 16-bit scaling, EXIF orientation, RGBA and grayscale conversion, errors.
#include "medfusion/data/image_decoder.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "data/data_test_support.hpp"
#include "medfusion/data/data_error.hpp"

namespace medfusion::data {
namespace {

// An EXIF APP1 segment (big-endian TIFF) holding only Orientation = `orientation`.
std::vector<unsigned char> exif_segment(unsigned char orientation) {
    return {0xFF, 0xE1, 0x00, 0x22, 'E',  'x',         'i',  'f',  0x00, 0x00, 'M',  'M',
            0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,        0x00, 0x01, 0x01, 0x12, 0x00, 0x03,
            0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
}

// A 40x20 JPEG, left half red and right half blue, tagged with an EXIF orientation.
std::filesystem::path write_oriented_jpeg(const testing::TempDir& dir, unsigned char orientation) {
    cv::Mat bgr(20, 40, CV_8UC3, cv::Scalar(0, 0, 255));
    bgr(cv::Rect(20, 0, 20, 20)).setTo(cv::Scalar(255, 0, 0));
    std::vector<unsigned char> jpeg;
    cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95});
    const auto exif = exif_segment(orientation);
    jpeg.insert(jpeg.begin() + 2, exif.begin(), exif.end());
    return dir.write("oriented.jpg", std::string(jpeg.begin(), jpeg.end()));
}

TEST(ImageDecoderTest, ExifOrientationIsApplied) {
    // Orientation 6 means "rotate 90 degrees clockwise to display" (PIL's exif_transpose): the
    // left (red) half ends on top.
    testing::TempDir dir;
    const DecodedImage image = decode_image(write_oriented_jpeg(dir, 6));
    ASSERT_EQ(image.rgb.size(), cv::Size(20, 40));
    const cv::Vec3b top = image.rgb.at<cv::Vec3b>(5, 10);
    const cv::Vec3b bottom = image.rgb.at<cv::Vec3b>(35, 10);
    EXPECT_GT(top[0], 200);  // red
    EXPECT_LT(top[2], 60);
    EXPECT_GT(bottom[2], 200);  // blue
    EXPECT_LT(bottom[0], 60);
}

TEST(ImageDecoderTest, SixteenBitPngIsScaledNotTruncated) {
    // Values 0, 1000, 4095 in a 16-bit PNG: min-max scaling gives 0, 62, 255
    // (1000 * 255 / 4095 = 62.3); truncation would saturate 1000 to 255.
    testing::TempDir dir;
    cv::Mat gray(1, 3, CV_16UC1);
    gray.at<std::uint16_t>(0, 0) = 0;
    gray.at<std::uint16_t>(0, 1) = 1000;
    gray.at<std::uint16_t>(0, 2) = 4095;
    const auto path = dir.path() / "u16.png";
    cv::imwrite(path.string(), gray);

    const DecodedImage image = decode_image(path);
    EXPECT_EQ(image.mode(), "L16");
    EXPECT_EQ(image.rgb.type(), CV_8UC3);
    EXPECT_EQ(image.rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));
    EXPECT_EQ(image.rgb.at<cv::Vec3b>(0, 1), cv::Vec3b(62, 62, 62));
    EXPECT_EQ(image.rgb.at<cv::Vec3b>(0, 2), cv::Vec3b(255, 255, 255));
}

TEST(ImageDecoderTest, RealSixteenBitCtKeepsItsRange) {
    // The manifest gives stored values min=128, max=2191 for this 128x128 CT slice.
    const auto path = testing::shared_data_dir() / "medical_format_samples" / "png16" /
                      "CT_small_stored_values_u16.png";
    const cv::Mat raw = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
    const DecodedImage image = decode_image(path);
    ASSERT_EQ(image.rgb.size(), cv::Size(128, 128));
    EXPECT_EQ(image.mode(), "L16");

    double lo = 0.0;
    double hi = 0.0;
    cv::minMaxLoc(raw, &lo, &hi);
    EXPECT_EQ(lo, 128.0);
    EXPECT_EQ(hi, 2191.0);
    const double stored = raw.at<std::uint16_t>(64, 64);
    const int expected = static_cast<int>(std::lround((stored - 128.0) * 255.0 / 2063.0));
    EXPECT_NEAR(image.rgb.at<cv::Vec3b>(64, 64)[0], expected, 1);
}

TEST(ImageDecoderTest, RgbaBecomesRgbWithChannelsInOrder) {
    testing::TempDir dir;
    const cv::Mat bgra(4, 4, CV_8UC4, cv::Scalar(10, 20, 30, 128));  // B, G, R, A
    const auto path = dir.path() / "rgba.png";
    cv::imwrite(path.string(), bgra);

    const DecodedImage image = decode_image(path);
    EXPECT_EQ(image.mode(), "RGBA");
    EXPECT_EQ(image.rgb.at<cv::Vec3b>(1, 1), cv::Vec3b(30, 20, 10));
}

TEST(ImageDecoderTest, PadUfesImageIsRgba300) {
    const DecodedImage image =
        decode_image(testing::pad_ufes_dir() / "images" / "PAT_1008_59_297.png");
    EXPECT_EQ(image.mode(), "RGBA");
    EXPECT_EQ(image.rgb.size(), cv::Size(300, 300));
    EXPECT_EQ(image.rgb.type(), CV_8UC3);
}

TEST(ImageDecoderTest, GrayscaleBmpBecomesThreeEqualChannels) {
    testing::TempDir dir;
    const cv::Mat gray(3, 3, CV_8UC1, cv::Scalar(77));
    const auto path = dir.path() / "gray.bmp";
    cv::imwrite(path.string(), gray);
    const DecodedImage image = decode_image(path);
    EXPECT_EQ(image.rgb.at<cv::Vec3b>(2, 2), cv::Vec3b(77, 77, 77));
}

TEST(ImageDecoderTest, SixteenBitTiffIsDecoded) {
    testing::TempDir dir;
    cv::Mat gray(2, 2, CV_16UC1, cv::Scalar(300));
    gray.at<std::uint16_t>(0, 0) = 100;
    const auto path = dir.path() / "scan.tiff";
    cv::imwrite(path.string(), gray);
    const DecodedImage image = decode_image(path);
    EXPECT_EQ(image.mode(), "L16");
    EXPECT_EQ(image.rgb.at<cv::Vec3b>(0, 0)[0], 0);
    EXPECT_EQ(image.rgb.at<cv::Vec3b>(1, 1)[0], 255);
}

TEST(ImageDecoderTest, MissingAndCorruptFilesGiveReasons) {
    testing::TempDir dir;
    DecodedImage image;
    EXPECT_EQ(try_decode_image(dir.path() / "absent.png", image), "file not found");
    EXPECT_EQ(try_decode_image(dir.write("bad.png", "not a png"), image), "cannot decode image");
    EXPECT_THROW(decode_image(dir.path() / "absent.png"), DataError);
}

#ifdef MEDFUSION_WITH_GDCM
std::filesystem::path dicom_sample(const std::string& name) {
    return testing::shared_data_dir() / "medical_format_samples" / "dicom" / name;
}

TEST(ImageDecoderTest, DicomMatchesItsSixteenBitPngExport) {
    // The PNG holds CT_small.dcm's stored values unchanged, so both scale identically.
    const DecodedImage dicom = decode_image(dicom_sample("CT_small.dcm"));
    const DecodedImage png = decode_image(testing::shared_data_dir() / "medical_format_samples" /
                                          "png16" / "CT_small_stored_values_u16.png");
    EXPECT_EQ(dicom.mode(), "L16");
    ASSERT_EQ(dicom.rgb.size(), cv::Size(128, 128));
    EXPECT_EQ(cv::norm(dicom.rgb, png.rgb, cv::NORM_INF), 0.0);
}

TEST(ImageDecoderTest, CompressedDicomDecodesLikeUncompressed) {
    const DecodedImage reference = decode_image(dicom_sample("MR_small.dcm"));
    ASSERT_EQ(reference.rgb.size(), cv::Size(64, 64));
    for (const char* name :
         {"MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm"}) {
        const DecodedImage image = decode_image(dicom_sample(name));
        EXPECT_EQ(cv::norm(image.rgb, reference.rgb, cv::NORM_INF), 0.0) << name;
    }
}

TEST(ImageDecoderTest, TruncatedDicomIsUndecodable) {
    DecodedImage image;
    EXPECT_EQ(try_decode_image(dicom_sample("MR_truncated.dcm"), image), "cannot decode image");
}
#endif

}  // namespace
}  // namespace medfusion::data
