// Data loading benchmark: decode-only and decode+augment images per second, single-threaded,
// beside the BatchLoader with 1 and 2 workers, on one dataset's training split.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medfusion/data/batch_loader.hpp"
#include "medfusion/data/image_decoder.hpp"
#include "medfusion/data/image_transform.hpp"

namespace {

using medfusion::data::BatchLoader;
using medfusion::data::LoaderOptions;
using medfusion::data::Split;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

void report(const char* name, std::size_t images, double seconds) {
    std::printf("%-34s %6zu images %8.3f s %9.1f images/s\n", name, images, seconds,
                images / seconds);
}

void bench_decode(const Split& split) {
    const auto start = Clock::now();
    for (const auto& path : split.image_paths) {
        medfusion::data::decode_image(path);
    }
    report("decode only, 1 thread", split.size(), seconds_since(start));
}

void bench_inline(const Split& split, int size, const std::string& augmentation) {
    const medfusion::data::ImageTransform transform(size, "stretch", augmentation);
    std::vector<float> out(3 * static_cast<std::size_t>(size) * size);
    const auto start = Clock::now();
    for (std::size_t i = 0; i < split.size(); ++i) {
        const auto image = medfusion::data::decode_image(split.image_paths[i]);
        transform.apply(image.rgb, 42, 1, static_cast<std::int64_t>(i), out.data());
    }
    const std::string name = "decode+" + augmentation + ", 1 thread";
    report(name.c_str(), split.size(), seconds_since(start));
}

void bench_loader(const Split& split, int size, const std::string& augmentation, int workers) {
    LoaderOptions options;
    options.batch_size = 32;
    options.image_size = size;
    options.augmentation = augmentation;
    options.num_workers = workers;
    options.shuffle = true;
    BatchLoader loader(split, options, nullptr);
    const auto start = Clock::now();
    loader.start_epoch(1);
    std::size_t images = 0;
    while (auto batch = loader.next()) {
        images += batch->indices.size();
    }
    const std::string name =
        "loader " + augmentation + ", " + std::to_string(workers) + " worker(s)";
    report(name.c_str(), images, seconds_since(start));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: data_bench <dataset dir> [image_size] [augmentation]\n");
        return 2;
    }
    const std::string dir = argv[1];
    const int size = argc > 2 ? std::atoi(argv[2]) : 224;
    const std::string augmentation = argc > 3 ? argv[3] : "medium";
    torch::set_num_threads(1);

    medfusion::core::DataConfig config;
    config.train_csv = dir + "/train.csv";
    config.val_csv = dir + "/val.csv";
    const auto prepare_start = Clock::now();
    const auto data = medfusion::data::prepare_data(config);
    std::printf("prepare_data (CSV + fit + image pre-flight): %.3f s, %zu train rows\n",
                seconds_since(prepare_start), data.train.size());
    std::printf("image_size=%d augmentation=%s hardware_threads=%u\n", size, augmentation.c_str(),
                std::thread::hardware_concurrency());

    bench_decode(data.train);
    bench_inline(data.train, size, "none");
    bench_inline(data.train, size, augmentation);
    bench_loader(data.train, size, augmentation, 1);
    bench_loader(data.train, size, augmentation, 2);
    return 0;
}
