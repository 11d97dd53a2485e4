// Image decoding through OpenCV, normalised to 8-bit RGB whatever the file held.
#include "medfusion/data/image_decoder.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "medfusion/data/data_error.hpp"

#ifdef MEDFUSION_WITH_GDCM
#include <gdcmImageReader.h>
#include <gdcmTrace.h>
#endif

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

std::string lower_extension(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

// JPEG: ANYDEPTH | ANYCOLOR, so OpenCV applies the EXIF orientation (it does not under
// IMREAD_UNCHANGED). Other formats: UNCHANGED, which keeps alpha so the source mode is known.
int read_flags(const std::filesystem::path& path) {
    const std::string ext = lower_extension(path);
    const bool jpeg = ext == ".jpg" || ext == ".jpeg" || ext == ".jpe" || ext == ".jfif";
    return jpeg ? (cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR) : cv::IMREAD_UNCHANGED;
}

#ifdef MEDFUSION_WITH_GDCM
int cv_depth_of(const gdcm::PixelFormat& format) {
    switch (format.GetScalarType()) {
        case gdcm::PixelFormat::UINT8:
            return CV_8U;
        case gdcm::PixelFormat::INT8:
            return CV_8S;
        case gdcm::PixelFormat::UINT16:
            return CV_16U;
        case gdcm::PixelFormat::INT16:
            return CV_16S;
        case gdcm::PixelFormat::INT32:
            return CV_32S;
        case gdcm::PixelFormat::FLOAT32:
            return CV_32F;
        case gdcm::PixelFormat::FLOAT64:
            return CV_64F;
        default:
            return -1;  // 12-bit packed, UINT32 and others are not handled
    }
}

// GDCM zero-pads uncompressed pixel data cut short by a truncated file. The first Pixel Data
// tag bytes (little or big endian) are followed by its header, then `length` bytes. Taking the
// first match errs towards "not truncated" when the bytes also occur inside pixel values.
bool pixel_data_truncated(const std::filesystem::path& path, std::uint64_t length) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t tag = std::min(bytes.find(std::string("\xE0\x7F\x10\x00", 4)),
                                     bytes.find(std::string("\x7F\xE0\x00\x10", 4)));
    if (tag == std::string::npos) {
        return false;
    }
    // Explicit VR OB/OW: tag, VR, 2 reserved, 4-byte length (12 bytes); implicit VR: 8 bytes.
    const bool explicit_vr =
        bytes.compare(tag + 4, 2, "OW") == 0 || bytes.compare(tag + 4, 2, "OB") == 0;
    const std::size_t start = tag + (explicit_vr ? 12 : 8);
    return start > bytes.size() || bytes.size() - start < length;
}

// The first frame of a DICOM file through GDCM (which decompresses JPEG, JPEG-LS, JPEG 2000 and
// RLE), in OpenCV's channel order. Empty when the file cannot be decoded.
cv::Mat read_dicom(const std::filesystem::path& path) {
    // A bad file is reported as a bad row; GDCM's own warnings on stderr would only be noise.
    static const bool quiet = (gdcm::Trace::WarningOff(), true);
    (void)quiet;
    gdcm::ImageReader reader;
    reader.SetFileName(path.string().c_str());
    if (!reader.Read()) {
        return {};
    }
    const gdcm::Image& image = reader.GetImage();
    const int depth = cv_depth_of(image.GetPixelFormat());
    const int channels = image.GetPixelFormat().GetSamplesPerPixel();
    std::vector<char> buffer(image.GetBufferLength());
    if (depth < 0 || (channels != 1 && channels != 3) || !image.GetBuffer(buffer.data())) {
        return {};
    }
    // Uncompressed pixel data cut short: a truncated file, not a dark image.
    const gdcm::ByteValue* stored =
        reader.GetFile().GetDataSet().GetDataElement(gdcm::Tag(0x7fe0, 0x0010)).GetByteValue();
    if (stored != nullptr && pixel_data_truncated(path, stored->GetLength())) {
        return {};
    }
    const int cols = static_cast<int>(image.GetDimension(0));
    const int rows = static_cast<int>(image.GetDimension(1));
    const cv::Mat frame(rows, cols, CV_MAKETYPE(depth, channels), buffer.data());
    if (frame.total() * frame.elemSize() > buffer.size()) {
        return {};
    }
    cv::Mat out;
    if (channels == 3) {
        cv::cvtColor(frame, out, cv::COLOR_RGB2BGR);
    } else {
        out = frame.clone();
    }
    // MONOCHROME1: low values are white. Inverting keeps "bright = dense" after scaling.
    if (image.GetPhotometricInterpretation() == gdcm::PhotometricInterpretation::MONOCHROME1) {
        double lo = 0.0;
        double hi = 0.0;
        cv::minMaxLoc(out, &lo, &hi);
        out.convertTo(out, out.depth(), -1.0, lo + hi);
    }
    return out;
}
#endif

bool is_dicom(const std::filesystem::path& path) {
    const std::string ext = lower_extension(path);
    return ext == ".dcm" || ext == ".dicom";
}

// Without GDCM a DICOM file is simply undecodable.
cv::Mat read_dicom_or_empty(const std::filesystem::path& path) {
#ifdef MEDFUSION_WITH_GDCM
    return read_dicom(path);
#else
    (void)path;
    return {};
#endif
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
        raw = is_dicom(path) ? read_dicom_or_empty(path)
                             : cv::imread(path.string(), read_flags(path));
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
