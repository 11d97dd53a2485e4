// The training loader: worker threads decode and augment images into a bounded queue of ready
// batches of tensors. Seeded shuffle per epoch, optional class-balanced sampling.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <torch/types.h>

#include "medfusion/core/events.hpp"
#include "medfusion/data/image_transform.hpp"
#include "medfusion/data/prepared_data.hpp"

namespace medfusion::data {

/// One batch. `indices` are positions in the Split, in batch order.
struct Batch {
    torch::Tensor images;   // [B,3,H,W] float, ImageNet-normalised
    torch::Tensor tabular;  // [B,F] float
    torch::Tensor labels;   // [B] int64
    std::vector<std::int64_t> indices;
};

struct LoaderOptions {
    std::int64_t batch_size = 32;
    bool shuffle = false;
    bool drop_last = false;
    std::string augmentation = "none";    // none | light | medium | heavy
    std::string resize_mode = "stretch";  // stretch | pad | center_crop
    std::int64_t image_size = 224;
    int num_workers = 2;  // 0: batches are built on the calling thread inside next()
    std::uint64_t seed = 42;
    bool balanced_sampling = false;    // draw with replacement, each class equally likely
    std::size_t prefetch_batches = 4;  // ready batches held ahead of the consumer
};

/// Multi-threaded batch loader over one Split (which must outlive it). One consumer thread
/// calls start_epoch() and next(); workers stop promptly when the stop token is set, when a new
/// epoch starts, or on destruction, and every worker is joined before those calls return.
class BatchLoader {
public:
    BatchLoader(const Split& split, LoaderOptions options, std::shared_ptr<core::StopToken> stop);
    ~BatchLoader();
    BatchLoader(const BatchLoader&) = delete;
    BatchLoader& operator=(const BatchLoader&) = delete;

    /// Orders the epoch's samples (seeded by (seed, epoch)) and starts the workers.
    void start_epoch(int epoch);
    /// The next batch in order; nullopt at the end of the epoch or on stop. Rethrows a worker's
    /// failure as DataError.
    std::optional<Batch> next();
    std::int64_t batches_per_epoch() const;

    /// The sample order of an epoch (positions in the Split); exposed for tests.
    std::vector<std::int64_t> epoch_order(int epoch) const;

private:
    Batch build_batch(std::int64_t batch_index) const;
    void load_sample(std::size_t index, std::int64_t position, float* out) const;
    void worker_loop();
    void stop_workers();
    bool stopping() const;

    const Split& split_;
    LoaderOptions options_;
    std::shared_ptr<core::StopToken> stop_;
    ImageTransform transform_;

    int epoch_ = 0;
    std::vector<std::int64_t> order_;
    std::int64_t num_batches_ = 0;

    mutable std::mutex mutex_;
    std::condition_variable ready_cv_;  // a batch arrived or a worker failed
    std::condition_variable space_cv_;  // the consumer took a batch
    std::map<std::int64_t, Batch> ready_;
    std::int64_t next_to_claim_ = 0;
    std::int64_t next_to_return_ = 0;
    bool abort_ = false;
    std::exception_ptr failure_;
    std::vector<std::thread> workers_;
};

}  // namespace medfusion::data
