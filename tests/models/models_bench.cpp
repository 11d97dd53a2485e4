// Times forward+backward of each backbone trunk (train mode) for scripts/bench/models.sh.
// Usage: models_bench THREADS BATCH IMAGE_SIZE ITERATIONS NAME... ; prints "NAME SECONDS".
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "medfusion/models/backbone.hpp"

namespace {

double step_seconds(medfusion::models::Backbone& backbone, const torch::Tensor& images) {
    auto start = std::chrono::steady_clock::now();
    backbone.zero_grad();
    backbone.forward(images).mean().backward();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::cerr << "usage: models_bench THREADS BATCH IMAGE_SIZE ITERATIONS NAME...\n";
        return 2;
    }
    torch::set_num_threads(std::atoi(argv[1]));
    int64_t batch = std::atoll(argv[2]);
    int64_t size = std::atoll(argv[3]);
    int iterations = std::atoi(argv[4]);

    for (int i = 5; i < argc; ++i) {
        torch::manual_seed(0);
        auto backbone = medfusion::models::make_backbone(argv[i], size);
        backbone->train();
        auto images = torch::randn({batch, 3, size, size});

        // One warm-up step, then the median of the timed ones.
        step_seconds(*backbone, images);
        std::vector<double> times;
        for (int k = 0; k < iterations; ++k)
            times.push_back(step_seconds(*backbone, images));
        std::sort(times.begin(), times.end());
        std::cout << argv[i] << " " << times[times.size() / 2] << std::endl;
    }
    return 0;
}
