// BatchLoader: an epoch's batches are claimed in order by worker threads, built (decode,
// transform, copy into tensors) outside the lock, and handed to the consumer in order.
#include "medfusion/data/batch_loader.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include <torch/torch.h>

#include "medfusion/data/image_decoder.hpp"

namespace medfusion::data {
namespace {

// How often blocked threads look at the stop token, which has no wake-up of its own.
constexpr auto kStopPollInterval = std::chrono::milliseconds(20);

std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// Each class equally likely, samples within a class equally likely, drawn with replacement.
std::vector<std::int64_t> balanced_order(const Split& split, std::mt19937_64& rng) {
    std::map<std::int64_t, double> counts;
    for (auto label : split.labels) {
        counts[label] += 1.0;
    }
    std::vector<double> weights;
    weights.reserve(split.size());
    for (auto label : split.labels) {
        weights.push_back(1.0 / counts[label]);
    }
    std::discrete_distribution<std::int64_t> pick(weights.begin(), weights.end());
    std::vector<std::int64_t> order(split.size());
    for (auto& index : order) {
        index = pick(rng);
    }
    return order;
}

}  // namespace

BatchLoader::BatchLoader(const Split& split, LoaderOptions options,
                         std::shared_ptr<core::StopToken> stop)
    : split_(split),
      options_(std::move(options)),
      stop_(stop ? std::move(stop) : std::make_shared<core::StopToken>()),
      transform_(static_cast<int>(options_.image_size), options_.resize_mode,
                 options_.augmentation) {
    if (options_.batch_size <= 0) {
        throw DataError("batch_size must be positive");
    }
    options_.prefetch_batches = std::max<std::size_t>(options_.prefetch_batches, 1);
}

BatchLoader::~BatchLoader() {
    stop_workers();
}

std::int64_t BatchLoader::batches_per_epoch() const {
    const auto n = static_cast<std::int64_t>(split_.size());
    const std::int64_t b = options_.batch_size;
    return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<std::int64_t> BatchLoader::epoch_order(int epoch) const {
    std::mt19937_64 rng(mix(options_.seed ^ mix(static_cast<std::uint64_t>(epoch))));
    if (options_.balanced_sampling && split_.size() > 0) {
        return balanced_order(split_, rng);
    }
    std::vector<std::int64_t> order(split_.size());
    std::iota(order.begin(), order.end(), 0);
    if (options_.shuffle) {
        std::shuffle(order.begin(), order.end(), rng);
    }
    return order;
}

void BatchLoader::start_epoch(int epoch) {
    stop_workers();
    epoch_ = epoch;
    order_ = epoch_order(epoch);
    num_batches_ = batches_per_epoch();
    {
        std::lock_guard lock(mutex_);
        ready_.clear();
        next_to_claim_ = 0;
        next_to_return_ = 0;
        abort_ = false;
        failure_ = nullptr;
    }
    for (int i = 0; i < options_.num_workers; ++i) {
        workers_.emplace_back([this] { worker_loop(); });
    }
}

bool BatchLoader::stopping() const {
    return abort_ || stop_->stop_requested();
}

void BatchLoader::worker_loop() {
    while (true) {
        std::int64_t index = 0;
        {
            // Claim the next batch only while fewer than prefetch_batches are ahead of the
            // consumer; that bounds the memory held in ready batches.
            std::unique_lock lock(mutex_);
            const auto limit = static_cast<std::int64_t>(options_.prefetch_batches);
            while (!stopping() && failure_ == nullptr && next_to_claim_ < num_batches_ &&
                   next_to_claim_ >= next_to_return_ + limit) {
                space_cv_.wait_for(lock, kStopPollInterval);
            }
            if (stopping() || failure_ != nullptr || next_to_claim_ >= num_batches_) {
                return;
            }
            index = next_to_claim_++;
        }
        try {
            Batch batch = build_batch(index);
            std::lock_guard lock(mutex_);
            ready_.emplace(index, std::move(batch));
        } catch (...) {
            std::lock_guard lock(mutex_);
            failure_ = std::current_exception();
        }
        ready_cv_.notify_all();
    }
}

std::optional<Batch> BatchLoader::next() {
    if (stop_->stop_requested() || next_to_return_ >= num_batches_) {
        return std::nullopt;
    }
    if (options_.num_workers <= 0) {
        return build_batch(next_to_return_++);
    }
    std::unique_lock lock(mutex_);
    while (ready_.count(next_to_return_) == 0 && failure_ == nullptr) {
        if (stop_->stop_requested()) {
            return std::nullopt;
        }
        ready_cv_.wait_for(lock, kStopPollInterval);
    }
    if (failure_ != nullptr) {
        std::rethrow_exception(failure_);
    }
    auto node = ready_.extract(next_to_return_++);
    lock.unlock();
    space_cv_.notify_all();
    return std::move(node.mapped());
}

Batch BatchLoader::build_batch(std::int64_t batch_index) const {
    const std::int64_t begin = batch_index * options_.batch_size;
    const std::int64_t end = std::min<std::int64_t>(begin + options_.batch_size,
                                                    static_cast<std::int64_t>(order_.size()));
    const std::int64_t count = end - begin;
    const std::int64_t size = options_.image_size;
    const std::int64_t width =
        split_.features.empty() ? 0 : static_cast<std::int64_t>(split_.features.front().size());

    Batch batch;
    batch.images = torch::empty({count, 3, size, size}, torch::kFloat32);
    batch.tabular = torch::zeros({count, width}, torch::kFloat32);
    batch.labels = torch::empty({count}, torch::kInt64);
    float* images = batch.images.data_ptr<float>();
    float* tabular = batch.tabular.data_ptr<float>();
    auto* labels = batch.labels.data_ptr<std::int64_t>();
    for (std::int64_t k = 0; k < count; ++k) {
        const auto i = static_cast<std::size_t>(order_[static_cast<std::size_t>(begin + k)]);
        load_sample(i, begin + k, images + k * 3 * size * size);
        std::copy(split_.features[i].begin(), split_.features[i].end(), tabular + k * width);
        labels[k] = split_.labels[i];
        batch.indices.push_back(static_cast<std::int64_t>(i));
    }
    return batch;
}

void BatchLoader::load_sample(std::size_t index, std::int64_t position, float* out) const {
    DecodedImage image;
    const std::string reason = try_decode_image(split_.image_paths[index], image);
    if (!reason.empty()) {
        throw DataError("row " + std::to_string(split_.source_rows[index]) + ": " +
                        split_.image_paths[index] + ": " + reason);
    }
    // Seeded by the position in the epoch's order, so a sample drawn twice by balanced
    // sampling gets two different augmentations.
    transform_.apply(image.rgb, options_.seed, epoch_, position, out);
}

void BatchLoader::stop_workers() {
    {
        std::lock_guard lock(mutex_);
        abort_ = true;
    }
    space_cv_.notify_all();
    ready_cv_.notify_all();
    for (auto& worker : workers_) {
        worker.join();
    }
    workers_.clear();
}

}  // namespace medfusion::data
