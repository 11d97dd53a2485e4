// The trainer: data, model and optimizer set up from the job config, then epochs of training
// and validation with checkpoints, events and the job's files. Every failure becomes a
// failed RunResult with one `error` event.
#include "medfusion/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <new>
#include <optional>
#include <thread>

#include <ATen/Context.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include "checkpoint_io.hpp"
#include "lr_schedule.hpp"
#include "medfusion/core/clock.hpp"
#include "medfusion/data/prepared_data.hpp"
#include "medfusion/train/checkpoint.hpp"
#include "medfusion/train/metrics.hpp"
#include "metric_monitor.hpp"
#include "precision.hpp"
#include "prediction.hpp"
#include "run_files.hpp"
#include "training_error.hpp"

namespace medfusion::train {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
using Metrics = std::map<std::string, double>;

// A progress line goes to train.log every this many batches (events go out every batch).
constexpr std::int64_t kLogEveryBatches = 50;

/// Running totals of one training epoch.
struct EpochStats {
    double loss_sum = 0.0;  // per-sample loss, summed
    std::int64_t correct = 0;
    std::int64_t samples = 0;
    std::int64_t batches = 0;
    double seconds = 0.0;
    bool stopped = false;

    double loss() const { return samples > 0 ? loss_sum / static_cast<double>(samples) : 0.0; }
    double accuracy() const {
        return samples > 0 ? static_cast<double>(correct) / static_cast<double>(samples) : 0.0;
    }
    double samples_per_second() const {
        return seconds > 0.0 ? static_cast<double>(samples) / seconds : 0.0;
    }
};

std::optional<double> lookup(const Metrics& metrics, const std::string& name) {
    auto it = metrics.find(name);
    return it == metrics.end() ? std::nullopt : std::optional<double>(it->second);
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

nlohmann::json to_json(const Metrics& metrics) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [name, value] : metrics) {
        out[name] = value;
    }
    return out;
}

Metrics metrics_from_json(const nlohmann::json& json) {
    Metrics out;
    for (const auto& [name, value] : json.items()) {
        if (value.is_number()) {
            out[name] = value.get<double>();
        }
    }
    return out;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

/// Everything one run owns. Not thread-safe: the job's worker thread runs it.
class Trainer {
public:
    explicit Trainer(const core::JobContext& context);

    core::RunResult run();

    /// The result and event for a failure that escaped run(); never throws.
    core::RunResult fail(const std::string& message);

private:
    void setup_runtime();
    void setup_data();
    void setup_model();
    void setup_optimizer();
    torch::Tensor make_class_weights() const;
    int resume_from_last();

    EpochStats train_epoch(int epoch);
    void train_step(int epoch, std::int64_t batch_index, std::int64_t total_batches,
                    const data::Batch& batch, EpochStats& stats);
    torch::Tensor loss_of(const models::ModelOutput& output, const torch::Tensor& labels) const;
    void step_optimizer();
    void set_learning_rate(double learning_rate);
    std::optional<Metrics> validate(int epoch);
    bool finish_epoch(int epoch, const EpochStats& stats, const Metrics& validation);

    nlohmann::json metadata() const;
    void save_last();
    core::RunResult stop_run(int epoch, std::int64_t batch);
    core::RunResult complete_run(bool stopped_early);
    core::RunResult result(core::RunOutcome outcome) const;
    core::ProgressEvent event(core::EventType type, int epoch) const;
    void emit(const core::ProgressEvent& event);
    void emit_progress(int epoch, std::int64_t batch, std::int64_t total_batches,
                       const EpochStats& stats);

    const core::JobContext& context_;
    const core::JobConfig& config_;
    const core::TrainingConfig& training_;
    fs::path job_dir_;
    std::shared_ptr<core::StopToken> stop_;
    std::shared_ptr<spdlog::logger> log_;
    MetricsJournal journal_;
    bool terminal_sent_ = false;

    torch::Device device_{torch::kCPU};
    Precision precision_ = Precision::kFloat32;
    data::PreparedData data_;
    std::unique_ptr<data::BatchLoader> train_loader_;
    std::unique_ptr<data::BatchLoader> val_loader_;
    models::MultimodalModel model_{nullptr};
    std::vector<torch::Tensor> trainable_;
    std::unique_ptr<torch::optim::Optimizer> optimizer_;
    std::unique_ptr<LrSchedule> schedule_;
    GradScaler scaler_{false};
    torch::Tensor class_weights_;  // undefined: every class weighs 1
    std::int64_t parameter_count_ = 0;

    MetricMonitor best_;   // training.checkpoint_monitor: best.pth
    MetricMonitor early_;  // training.early_stopping
    Metrics best_metrics_;
    Metrics last_metrics_;
    int last_epoch_ = 0;  // last completed epoch
    std::int64_t global_step_ = 0;
    double learning_rate_ = 0.0;
    Clock::time_point run_start_ = Clock::now();
    std::int64_t run_batches_ = 0;  // training batches run by this process, for the ETA
};

Trainer::Trainer(const core::JobContext& context)
    : context_(context),
      config_(context.config),
      training_(context.config.training),
      job_dir_(context.output_dir.empty() ? fs::current_path() : fs::path(context.output_dir)),
      stop_(context.stop ? context.stop : std::make_shared<core::StopToken>()),
      log_(make_job_logger(job_dir_, context.job_id)),
      journal_(job_dir_),
      best_(training_.checkpoint_monitor, "auto", 0.0),
      early_(training_.early_stopping.monitor, training_.early_stopping.mode,
             training_.early_stopping.min_delta) {}

core::RunResult Trainer::run() {
    log_->info("start name={} resume={} epochs={} torch={}", context_.job_name, context_.resume,
               training_.epochs, TORCH_VERSION);
    setup_runtime();
    setup_data();
    if (stop_->stop_requested()) {
        return stop_run(0, 0);
    }
    setup_model();
    setup_optimizer();
    const int first_epoch = context_.resume ? resume_from_last() : 1;
    journal_.truncate_after(first_epoch - 1);

    for (int epoch = first_epoch; epoch <= training_.epochs; ++epoch) {
        const auto stats = train_epoch(epoch);
        if (stats.stopped) {
            return stop_run(epoch, stats.batches);
        }
        const auto validation = validate(epoch);
        if (!validation) {
            return stop_run(epoch, stats.batches);
        }
        if (finish_epoch(epoch, stats, *validation)) {
            return complete_run(true);
        }
    }
    return complete_run(false);
}

void Trainer::setup_runtime() {
    const int threads = training_.num_threads > 0
                            ? training_.num_threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(threads);

    device_ = resolve_device(training_.device);
    precision_ = resolve_precision(training_.mixed_precision, device_);
    scaler_ = GradScaler(precision_ == Precision::kFloat16);

    torch::manual_seed(training_.seed);
    if (device_.is_cuda()) {
        torch::cuda::manual_seed_all(training_.seed);
    }
    // Process-wide switches: deterministic kernels (warn-only where none exists) and cuDNN
    // autotuning, which picks kernels by timing and so varies between runs.
    at::globalContext().setDeterministicCuDNN(training_.deterministic);
    at::globalContext().setBenchmarkCuDNN(!training_.deterministic);
    at::globalContext().setDeterministicAlgorithms(training_.deterministic, /*warn_only=*/true);
    log_->info("device={} precision={} threads={} seed={} deterministic={}", device_.str(),
               precision_name(precision_), threads, training_.seed, training_.deterministic);
}

void Trainer::setup_data() {
    const auto start = Clock::now();
    data_ = data::prepare_data(config_.data);
    if (data_.val.size() == 0) {
        throw TrainingError("the validation split (" + config_.data.val_csv + ") has no rows");
    }

    data::LoaderOptions options;
    options.batch_size = training_.batch_size;
    options.resize_mode = config_.data.resize_mode;
    options.image_size = config_.data.image_size;
    options.num_workers = config_.data.num_workers;
    options.seed = training_.seed;
    val_loader_ = std::make_unique<data::BatchLoader>(data_.val, options, stop_);

    // A last batch of one sample breaks BatchNorm in training mode; leave it out.
    options.shuffle = true;
    options.augmentation = config_.data.augmentation;
    options.balanced_sampling = config_.data.balanced_sampling;
    const auto rows = static_cast<std::int64_t>(data_.train.size());
    options.drop_last = rows > training_.batch_size && rows % training_.batch_size == 1;
    train_loader_ = std::make_unique<data::BatchLoader>(data_.train, options, stop_);

    log_->info("data train={} val={} features={} classes=[{}] skipped_rows={} seconds={:.1f}",
               data_.train.size(), data_.val.size(), data_.num_features, join(data_.class_names),
               data_.train.skipped_rows + data_.val.skipped_rows, seconds_since(start));
}

void Trainer::setup_model() {
    const auto num_classes = static_cast<std::int64_t>(data_.class_names.size());
    model_ = models::build_model(config_.model, data_.num_features, num_classes,
                                 config_.data.image_size);
    model_->to(device_);
    parameter_count_ = models::summarize(*model_).total_parameters;
    for (const auto& parameter : model_->parameters()) {
        if (parameter.requires_grad()) {
            trainable_.push_back(parameter);
        }
    }
    if (trainable_.empty()) {
        throw TrainingError("the model has no trainable parameters");
    }
    class_weights_ = make_class_weights();
    log_->info("model backbone={} fusion={} parameters={} trainable={}",
               config_.model.vision_backbone, config_.model.fusion_type, parameter_count_,
               models::summarize(*model_).trainable_parameters);
}

void Trainer::setup_optimizer() {
    const auto& name = training_.optimizer;
    const double lr = training_.learning_rate;
    const double decay = training_.weight_decay;
    if (name == "adamw") {
        optimizer_ = std::make_unique<torch::optim::AdamW>(
            trainable_, torch::optim::AdamWOptions(lr).weight_decay(decay));
    } else if (name == "adam") {
        optimizer_ = std::make_unique<torch::optim::Adam>(
            trainable_, torch::optim::AdamOptions(lr).weight_decay(decay));
    } else if (name == "sgd") {
        if (training_.nesterov && training_.momentum <= 0.0) {
            throw TrainingError("training.nesterov needs training.momentum > 0");
        }
        optimizer_ =
            std::make_unique<torch::optim::SGD>(trainable_, torch::optim::SGDOptions(lr)
                                                                .momentum(training_.momentum)
                                                                .nesterov(training_.nesterov)
                                                                .weight_decay(decay));
    } else {
        throw TrainingError("training.optimizer '" + name + "' is not adamw, adam or sgd");
    }
    schedule_ = std::make_unique<LrSchedule>(training_, train_loader_->batches_per_epoch());
}

// balanced: n / (K * count_k), scikit-learn's compute_class_weight("balanced").
torch::Tensor Trainer::make_class_weights() const {
    const auto& mode = training_.class_weights;
    const auto k = data_.class_names.size();
    std::vector<double> weights;
    if (mode == "none") {
        return {};
    }
    if (mode == "balanced") {
        std::vector<double> counts(k, 0.0);
        for (auto label : data_.train.labels) {
            counts[static_cast<std::size_t>(label)] += 1.0;
        }
        const auto n = static_cast<double>(data_.train.size());
        for (double count : counts) {
            weights.push_back(count > 0.0 ? n / (static_cast<double>(k) * count) : 1.0);
        }
    } else if (mode == "list") {
        weights = training_.class_weight_values;
        if (weights.size() != k) {
            throw TrainingError("training.class_weights has " + std::to_string(weights.size()) +
                                " values but the data has " + std::to_string(k) + " classes (" +
                                join(data_.class_names) + ")");
        }
    } else {
        throw TrainingError("training.class_weights '" + mode +
                            "' is not none, balanced or a list");
    }
    return torch::tensor(weights, torch::kFloat).to(device_);
}

int Trainer::resume_from_last() {
    const auto path = last_checkpoint_path(job_dir_);
    if (!fs::exists(path)) {
        log_->warn("resume: {} does not exist; training starts at epoch 1", path.string());
        return 1;
    }
    const auto metadata = load_checkpoint(path, *model_, optimizer_.get(), device_);
    const auto classes = metadata.at("class_names").get<std::vector<std::string>>();
    if (classes != data_.class_names) {
        throw TrainingError("cannot resume: last.pth was trained on classes [" + join(classes) +
                            "] but the data now has [" + join(data_.class_names) + "]");
    }
    last_epoch_ = metadata.at("epoch").get<int>();
    global_step_ = metadata.at("global_step").get<std::int64_t>();
    last_metrics_ = metrics_from_json(metadata.at("metrics"));
    best_metrics_ = metrics_from_json(metadata.at("best").at("metrics"));
    const auto& state = metadata.at("state");
    schedule_->load_state(state.at("scheduler"));
    best_.load_state(state.at("best"));
    early_.load_state(state.at("early_stopping"));
    scaler_.load_state(state.at("scaler"));
    log_->info("resume from={} epoch={} global_step={}", path.string(), last_epoch_, global_step_);
    return last_epoch_ + 1;
}

EpochStats Trainer::train_epoch(int epoch) {
    model_->train();
    train_loader_->start_epoch(epoch);
    const auto total = train_loader_->batches_per_epoch();
    const auto start = Clock::now();
    EpochStats stats;
    optimizer_->zero_grad();
    for (std::int64_t b = 0;; ++b) {
        // The token is polled between batches, so a stop lands within one batch.
        auto batch = stop_->stop_requested() ? std::nullopt : train_loader_->next();
        if (!batch) {
            stats.stopped = stop_->stop_requested();
            break;
        }
        set_learning_rate(schedule_->learning_rate(epoch, b));
        train_step(epoch, b, total, *batch, stats);
        stats.seconds = seconds_since(start);
        emit_progress(epoch, b + 1, total, stats);
    }
    stats.seconds = seconds_since(start);
    return stats;
}

void Trainer::train_step(int epoch, std::int64_t batch_index, std::int64_t total_batches,
                         const data::Batch& batch, EpochStats& stats) {
    // Forward under autocast; the loss in float32.
    const auto labels = batch.labels.to(device_, /*non_blocking=*/true);
    const auto output = forward_batch(model_, batch, device_, precision_);
    const auto loss = loss_of(output, labels);
    const double value = loss.item<double>();
    if (!std::isfinite(value)) {
        throw TrainingError(std::string("loss became ") + (std::isnan(value) ? "NaN" : "infinite") +
                            " at epoch " + std::to_string(epoch) + " batch " +
                            std::to_string(batch_index + 1));
    }

    // Backward; step once every accumulation_steps batches and at the end of the epoch.
    const int accumulation = std::max(training_.accumulation_steps, 1);
    scaler_.scale(loss / static_cast<double>(accumulation)).backward();
    if ((batch_index + 1) % accumulation == 0 || batch_index + 1 == total_batches) {
        step_optimizer();
    }

    const auto count = labels.size(0);
    stats.loss_sum += value * static_cast<double>(count);
    stats.correct += output.logits.argmax(1).eq(labels).sum().item<std::int64_t>();
    stats.samples += count;
    ++stats.batches;
    ++run_batches_;
}

torch::Tensor Trainer::loss_of(const models::ModelOutput& output,
                               const torch::Tensor& labels) const {
    namespace F = torch::nn::functional;
    const auto options = F::CrossEntropyFuncOptions()
                             .weight(class_weights_)
                             .label_smoothing(training_.label_smoothing);
    auto loss = F::cross_entropy(output.logits.to(torch::kFloat), labels, options);

    // Auxiliary heads make each branch predict on its own as well.
    const double aux_weight = model_->aux_loss_weight();
    for (const auto* aux : {&output.vision_logits, &output.tabular_logits}) {
        if (aux->defined()) {
            loss = loss + aux_weight * F::cross_entropy(aux->to(torch::kFloat), labels, options);
        }
    }
    return loss;
}

void Trainer::step_optimizer() {
    const bool finite = scaler_.unscale(trainable_);
    if (finite) {
        if (training_.gradient_clip > 0.0) {
            torch::nn::utils::clip_grad_norm_(trainable_, training_.gradient_clip);
        }
        optimizer_->step();
        ++global_step_;
    } else {
        log_->warn("fp16 gradients overflowed; step skipped");
    }
    scaler_.update(finite);
    optimizer_->zero_grad();
}

void Trainer::set_learning_rate(double learning_rate) {
    for (auto& group : optimizer_->param_groups()) {
        group.options().set_lr(learning_rate);
    }
    learning_rate_ = learning_rate;
}

std::optional<Metrics> Trainer::validate(int epoch) {
    model_->eval();
    const auto predictions = predict(*val_loader_, epoch, [this](const data::Batch& batch) {
        return forward_batch(model_, batch, device_, precision_).logits;
    });
    if (stop_->stop_requested()) {
        return std::nullopt;
    }

    // Only the cheap part of compute_metrics: no bootstrap, no curves.
    MetricsOptions options;
    options.bootstrap_resamples = 0;
    options.include_curves = false;
    const auto scores =
        compute_metrics(predictions.labels, predictions.probabilities, data_.class_names, options);
    Metrics out = {{"val_loss", predictions.loss}};
    const std::pair<const char*, const char*> names[] = {
        {"val_accuracy", "accuracy"},
        {"val_auc", "auc"},
        {"val_f1", "f1_macro"},
        {"val_balanced_accuracy", "balanced_accuracy"}};
    for (const auto& [ours, theirs] : names) {
        if (scores.contains(theirs) && scores[theirs].is_number()) {
            out[ours] = scores[theirs].get<double>();
        }
    }
    return out;
}

// Records the epoch everywhere, in this order: monitors, checkpoints, metrics.jsonl, on_epoch,
// epoch_end, validation. Returns true when early stopping ends the run.
bool Trainer::finish_epoch(int epoch, const EpochStats& stats, const Metrics& validation) {
    Metrics train = {{"train_loss", stats.loss()},
                     {"train_accuracy", stats.accuracy()},
                     {"samples_per_second", stats.samples_per_second()}};
    Metrics all = train;
    all.insert(validation.begin(), validation.end());

    const bool improved = best_.update(epoch, lookup(all, best_.metric()));
    if (improved) {
        best_metrics_ = all;
    }
    const bool early_stop =
        training_.early_stopping.enabled && !early_.update(epoch, lookup(all, early_.metric())) &&
        early_.epochs_without_improvement() >= training_.early_stopping.patience;
    schedule_->on_epoch_end(epoch, lookup(all, training_.checkpoint_monitor));
    last_epoch_ = epoch;
    last_metrics_ = all;

    save_last();
    if (improved) {
        copy_checkpoint(last_checkpoint_path(job_dir_), best_checkpoint_path(job_dir_));
    }
    const core::EpochRecord record{epoch, all, learning_rate_, stats.seconds};
    journal_.append(record);
    if (context_.on_epoch) {
        context_.on_epoch(record);
    }

    auto end = event(core::EventType::kEpochEnd, epoch);
    end.metrics = train;
    end.metrics["learning_rate"] = learning_rate_;
    end.metrics["seconds"] = stats.seconds;
    emit(end);
    auto val = event(core::EventType::kValidation, epoch);
    val.metrics = validation;
    emit(val);

    log_->info(
        "epoch={} train_loss={:.4f} train_accuracy={:.4f} val_loss={:.4f} "
        "val_accuracy={:.4f} lr={:.3g} samples_per_second={:.1f} seconds={:.1f}{}",
        epoch, stats.loss(), stats.accuracy(), validation.at("val_loss"),
        lookup(validation, "val_accuracy").value_or(0.0), learning_rate_,
        stats.samples_per_second(), stats.seconds, improved ? " best=true" : "");
    return early_stop;
}

nlohmann::json Trainer::metadata() const {
    return {{"format", kCheckpointFormat},
            {"version", kCheckpointVersion},
            {"job_id", context_.job_id},
            {"epoch", last_epoch_},
            {"global_step", global_step_},
            {"config", core::to_json(config_)},
            {"preprocessing", data_.preprocessing},
            {"class_names", data_.class_names},
            {"num_features", data_.num_features},
            {"metrics", to_json(last_metrics_)},
            {"best",
             {{"metric", best_.metric()},
              {"value", best_.best() ? nlohmann::json(*best_.best()) : nlohmann::json()},
              {"epoch", best_.best_epoch()},
              {"metrics", to_json(best_metrics_)}}},
            {"state",
             {{"scheduler", schedule_->state()},
              {"best", best_.state()},
              {"early_stopping", early_.state()},
              {"scaler", scaler_.state()}}},
            {"torch_version", TORCH_VERSION},
            {"created_at", core::iso8601_now()}};
}

void Trainer::save_last() {
    save_checkpoint(last_checkpoint_path(job_dir_), *model_, optimizer_.get(), metadata());
}

core::RunResult Trainer::stop_run(int epoch, std::int64_t batch) {
    // A stop mid-epoch keeps the weights as they are; a resumed run repeats that epoch.
    if (model_) {
        save_last();
    }
    log_->info("stopped epoch={} batch={} last_completed_epoch={}", epoch, batch, last_epoch_);
    auto stopped = event(core::EventType::kStopped, epoch);
    stopped.batch = static_cast<int>(batch);
    stopped.message = "stopped at epoch " + std::to_string(epoch) + " batch " +
                      std::to_string(batch) + (model_ ? "; last.pth saved" : "");
    stopped.metrics = last_metrics_;
    emit(stopped);
    return result(core::RunOutcome::kStopped);
}

core::RunResult Trainer::complete_run(bool stopped_early) {
    std::string message = "training completed";
    if (stopped_early) {
        message = "early stopping at epoch " + std::to_string(last_epoch_) + ": " +
                  early_.metric() + " did not improve for " +
                  std::to_string(early_.epochs_without_improvement()) + " epochs";
    }
    if (best_.best()) {
        message += fmt::format("; best {} {:.4f} at epoch {}", best_.metric(), *best_.best(),
                               best_.best_epoch());
    }
    log_->info("completed epochs={} {}", last_epoch_, message);
    auto completed = event(core::EventType::kCompleted, last_epoch_);
    completed.message = message;
    completed.metrics = best_metrics_;
    emit(completed);
    return result(core::RunOutcome::kCompleted);
}

core::RunResult Trainer::fail(const std::string& message) {
    core::RunResult out = result(core::RunOutcome::kFailed);
    out.error = message;
    try {
        log_->error("failed: {}", message);
        if (!terminal_sent_) {
            auto error = event(core::EventType::kError, last_epoch_ + 1);
            error.message = message;
            emit(error);
        }
    } catch (...) {
        // A failing sink must not turn a failed job into a crashed worker.
    }
    return out;
}

core::RunResult Trainer::result(core::RunOutcome outcome) const {
    core::RunResult out;
    out.outcome = outcome;
    out.epochs_completed = last_epoch_;
    const auto best = best_checkpoint_path(job_dir_);
    const auto last = last_checkpoint_path(job_dir_);
    out.best_checkpoint = fs::exists(best) ? fs::absolute(best).string() : "";
    out.last_checkpoint = fs::exists(last) ? fs::absolute(last).string() : "";
    out.best_epoch = best_.best_epoch();
    out.best_metric = best_.metric();
    out.best_value = best_.best().value_or(0.0);
    out.best_metrics = best_metrics_;
    out.class_names = data_.class_names;
    out.parameter_count = parameter_count_;
    return out;
}

core::ProgressEvent Trainer::event(core::EventType type, int epoch) const {
    core::ProgressEvent out;
    out.type = type;
    out.job_id = context_.job_id;
    out.epoch = epoch;
    out.total_epochs = training_.epochs;
    return out;
}

void Trainer::emit(const core::ProgressEvent& event) {
    terminal_sent_ = terminal_sent_ || core::is_terminal(event.type);
    if (context_.on_event) {
        context_.on_event(event);
    }
}

void Trainer::emit_progress(int epoch, std::int64_t batch, std::int64_t total_batches,
                            const EpochStats& stats) {
    // ETA from this process's pace so far, validation time included.
    const auto remaining = (total_batches - batch) +
                           static_cast<std::int64_t>(training_.epochs - epoch) * total_batches;
    const double per_batch = seconds_since(run_start_) / static_cast<double>(run_batches_);
    auto progress = event(core::EventType::kProgress, epoch);
    progress.batch = static_cast<int>(batch);
    progress.total_batches = static_cast<int>(total_batches);
    progress.metrics = {{"loss", stats.loss()},
                        {"accuracy", stats.accuracy()},
                        {"samples_per_second", stats.samples_per_second()},
                        {"learning_rate", learning_rate_},
                        {"eta_seconds", per_batch * static_cast<double>(remaining)}};
    emit(progress);
    if (batch % kLogEveryBatches == 0) {
        log_->info("epoch={} batch={}/{} loss={:.4f} accuracy={:.4f} samples_per_second={:.1f}",
                   epoch, batch, total_batches, stats.loss(), stats.accuracy(),
                   stats.samples_per_second());
    }
}

// A clear sentence for anything a run can throw; torch's backtraces stay out.
std::string describe_current_exception() {
    try {
        throw;
    } catch (const c10::Error& error) {
        const std::string text = error.what_without_backtrace();
        if (text.find("out of memory") != std::string::npos) {
            return "out of memory: " + text.substr(0, text.find('\n')) +
                   " (lower training.batch_size or data.image_size)";
        }
        return text;
    } catch (const std::bad_alloc&) {
        return "out of memory (host RAM): lower training.batch_size, data.image_size or "
               "data.num_workers";
    } catch (const std::exception& error) {
        return error.what();
    } catch (...) {
        return "unknown error";
    }
}

}  // namespace

core::RunResult run_training(const core::JobContext& context) {
    std::unique_ptr<Trainer> trainer;
    try {
        trainer = std::make_unique<Trainer>(context);
        return trainer->run();
    } catch (...) {
        const auto message = describe_current_exception();
        if (trainer) {
            return trainer->fail(message);
        }
        // No job log yet (its folder could not be written): report through the sink only.
        core::RunResult out;
        out.error = message;
        try {
            if (context.on_event) {
                core::ProgressEvent error;
                error.type = core::EventType::kError;
                error.job_id = context.job_id;
                error.total_epochs = context.config.training.epochs;
                error.message = message;
                context.on_event(error);
            }
        } catch (...) {
            spdlog::error("job={} error event could not be delivered", context.job_id);
        }
        return out;
    }
}

core::JobRunner make_job_runner() {
    return [](const core::JobContext& context) { return run_training(context); };
}

}  // namespace medfusion::train
