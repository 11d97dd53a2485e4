// The synthetic demo dataset. Each case has two hidden factors: `a`, drawn as the brightness of
// a lesion-like blob in the image, and `b`, recorded (with noise) as a biomarker in the table.
// The label is "malignant" when a + b + noise > 0. A model that sees only the image or only the
// table can recover one factor; a fused model recovers both.
#include "app/demo_data.hpp"

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace medfusion::app {

namespace {

namespace fs = std::filesystem;

constexpr double kLabelNoise = 0.35;      // std-dev of the noise added to a + b
constexpr double kMissingRate = 0.06;     // share of empty cells in the optional columns
constexpr double kBiomarkerNoise = 0.15;  // measurement noise on b

/// Box-Muller over mt19937_64, so the data are identical on every standard library.
class Random {
public:
    explicit Random(std::uint64_t seed) : engine_(seed) {}

    double uniform() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1.0p-53; }
    double normal() {
        const double u1 = uniform();
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    }
    int below(int n) { return static_cast<int>(uniform() * n); }

private:
    std::mt19937_64 engine_;
};

struct Case {
    std::string image;
    double age;
    double biomarker;
    bool smoker;
    std::string site;
    double lesion_diameter;
    std::string label;
};

cv::Mat draw_image(Random& random, double a, int size) {
    // Skin-like background with texture.
    cv::Mat image(size, size, CV_8UC3);
    for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
            const double n = random.normal() * 8.0;
            image.at<cv::Vec3b>(y, x) =
                cv::Vec3b(cv::saturate_cast<uchar>(150 + n), cv::saturate_cast<uchar>(170 + n),
                          cv::saturate_cast<uchar>(205 + n));
        }
    }
    // The lesion: darker for low `a`, redder and brighter for high `a`.
    const double t = 1.0 / (1.0 + std::exp(-1.6 * a));
    const cv::Scalar colour(60 + 20 * t, 50 + 30 * t, 70 + 170 * t);
    const cv::Point centre(size / 2 + random.below(size / 4) - size / 8,
                           size / 2 + random.below(size / 4) - size / 8);
    const cv::Size axes(size / 6 + random.below(size / 8), size / 6 + random.below(size / 8));
    cv::ellipse(image, centre, axes, random.uniform() * 180.0, 0, 360, colour, cv::FILLED,
                cv::LINE_AA);
    return image;
}

Case make_case(Random& random, int index, int size, const fs::path& images) {
    const double a = random.normal();
    const double b = random.normal();
    Case c;
    c.image = "images/case_" + std::to_string(10000 + index).substr(1) + ".png";
    cv::imwrite((images.parent_path() / c.image).string(), draw_image(random, a, size));
    c.biomarker = std::round((4.0 + 1.5 * (b + kBiomarkerNoise * random.normal())) * 100) / 100;
    c.age = std::round(55 + 12 * random.normal());
    c.smoker = random.uniform() < 0.3;
    static const std::array<const char*, 4> kSites = {"arm", "back", "face", "leg"};
    c.site = kSites[static_cast<std::size_t>(random.below(4))];
    c.lesion_diameter = std::round((6 + 2 * random.normal()) * 10) / 10;
    c.label = a + b + kLabelNoise * random.normal() > 0 ? "malignant" : "benign";
    return c;
}

void write_csv(const fs::path& path, const std::vector<Case>& cases, Random& random) {
    std::ofstream out(path);
    out << "image_path,age,biomarker,smoker,site,lesion_diameter,label\n";
    auto maybe = [&](const std::string& text) {
        return random.uniform() < kMissingRate ? std::string() : text;
    };
    for (const auto& c : cases) {
        out << c.image << ',' << maybe(std::to_string(static_cast<int>(c.age))) << ','
            << c.biomarker << ',' << maybe(c.smoker ? "True" : "False") << ',' << maybe(c.site)
            << ',' << maybe(std::to_string(c.lesion_diameter).substr(0, 4)) << ',' << c.label
            << '\n';
    }
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
}

}  // namespace

int write_demo_data(const DemoDataOptions& options) {
    const fs::path root(options.out_dir);
    fs::create_directories(root / "images");
    Random random(options.seed);

    std::vector<Case> cases;
    for (int i = 0; i < options.cases; ++i) {
        cases.push_back(make_case(random, i, options.image_size, root / "images"));
    }
    const auto n_train = static_cast<std::size_t>(options.cases * 0.70);
    const auto n_val = static_cast<std::size_t>(options.cases * 0.15);
    const auto begin = cases.begin();
    write_csv(root / "train.csv", {begin, begin + n_train}, random);
    write_csv(root / "val.csv", {begin + n_train, begin + n_train + n_val}, random);
    write_csv(root / "test.csv", {begin + n_train + n_val, cases.end()}, random);

    std::cout << "demo data: " << options.cases << " cases (" << n_train << " train, " << n_val
              << " val, " << cases.size() - n_train - n_val << " test) in " << root.string()
              << "\n";
    return 0;
}

}  // namespace medfusion::app
