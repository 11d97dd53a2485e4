// predict(): softmax probabilities and summed cross-entropy, gathered batch by batch on the CPU.
#include "prediction.hpp"

namespace medfusion::train {
namespace {

void append_batch(Predictions& out, const data::Batch& batch, const torch::Tensor& logits) {
    const auto probabilities =
        torch::softmax(logits, 1).to(torch::kCPU, torch::kDouble).contiguous();
    const auto rows = probabilities.size(0);
    const auto classes = probabilities.size(1);
    const auto* data = probabilities.data_ptr<double>();
    const auto labels = batch.labels.to(torch::kCPU).contiguous();
    const auto* label_data = labels.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < rows; ++i) {
        out.probabilities.emplace_back(data + i * classes, data + (i + 1) * classes);
        out.labels.push_back(label_data[i]);
        out.indices.push_back(batch.indices[static_cast<std::size_t>(i)]);
    }
}

}  // namespace

models::ModelOutput forward_batch(models::MultimodalModel& model, const data::Batch& batch,
                                  const torch::Device& device, Precision precision) {
    const auto images = batch.images.to(device, /*non_blocking=*/true);
    const auto tabular = batch.tabular.to(device, /*non_blocking=*/true);
    AutocastScope autocast(precision, device.type());
    return model->forward(images, tabular);
}

Predictions predict(data::BatchLoader& loader, int epoch, const LogitsFunction& logits_of) {
    torch::NoGradGuard no_grad;
    Predictions out;
    double loss_sum = 0.0;
    loader.start_epoch(epoch);
    while (auto batch = loader.next()) {
        const auto logits = logits_of(*batch).to(torch::kFloat);
        const auto labels = batch->labels.to(logits.device());
        loss_sum += torch::nn::functional::cross_entropy(
                        logits, labels,
                        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                        .item<double>();
        append_batch(out, *batch, logits);
    }
    out.loss = out.size() > 0 ? loss_sum / static_cast<double>(out.size()) : 0.0;
    return out;
}

}  // namespace medfusion::train
