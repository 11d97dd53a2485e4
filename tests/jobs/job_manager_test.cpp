// Tests of the job manager with fake runners: the state machine, FIFO order, stop, resume,
// restart recovery, the terminal event of each run, failures and model registration.
#include "medfusion/jobs/job_manager.hpp"

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "medfusion/core/api_error.hpp"
#include "medfusion/jobs/broadcast_channel.hpp"

namespace medfusion::jobs {
namespace {

namespace fs = std::filesystem;
using core::EventType;
using core::RunOutcome;
using store::JobStatus;
using namespace std::chrono_literals;

// Generous bound for a fake job to finish; only a hung manager comes near it.
constexpr auto kWait = 30s;

/// A fresh folder, removed at the end of the test.
class TempDir {
public:
    TempDir() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        path_ = fs::temp_directory_path() /
                (std::string("medfusion_jobs_") + info->name() + "_" + std::to_string(::getpid()));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

/// A one-shot signal between a test and a runner thread.
class Signal {
public:
    void notify() {
        std::lock_guard lock(mutex_);
        set_ = true;
        cv_.notify_all();
    }
    bool wait() {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, kWait, [this] { return set_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool set_ = false;
};

/// Every event the manager publishes, in order.
class EventLog {
public:
    void add(const core::ProgressEvent& event) {
        std::lock_guard lock(mutex_);
        events_.push_back(event);
    }
    std::vector<EventType> types(const std::string& job_id) const {
        std::lock_guard lock(mutex_);
        std::vector<EventType> out;
        for (const auto& event : events_) {
            if (event.job_id == job_id) {
                out.push_back(event.type);
            }
        }
        return out;
    }
    std::vector<core::ProgressEvent> terminals(const std::string& job_id) const {
        std::lock_guard lock(mutex_);
        std::vector<core::ProgressEvent> out;
        for (const auto& event : events_) {
            if (event.job_id == job_id && core::is_terminal(event.type)) {
                out.push_back(event);
            }
        }
        return out;
    }

private:
    mutable std::mutex mutex_;
    std::vector<core::ProgressEvent> events_;
};

core::ProgressEvent make_event(EventType type, const core::JobContext& context, int epoch,
                               std::map<std::string, double> metrics = {}, int batch = 1,
                               int total_batches = 1) {
    core::ProgressEvent event;
    event.type = type;
    event.job_id = context.job_id;
    event.epoch = epoch;
    event.total_epochs = context.config.training.epochs;
    event.batch = batch;
    event.total_batches = total_batches;
    event.metrics = std::move(metrics);
    return event;
}

core::JobConfig make_config(int epochs, const std::string& backbone = "resnet18",
                            const std::string& fusion = "concatenate") {
    core::JobConfig config;
    config.data.train_csv = "/data/pad_ufes_20/train.csv";
    config.data.val_csv = "/data/pad_ufes_20/val.csv";
    config.model.vision_backbone = backbone;
    config.model.fusion_type = fusion;
    config.training.epochs = epochs;
    return config;
}

/// The epoch a fake run continues after: what its fake last.pth says.
int resume_epoch(const core::JobContext& context) {
    std::ifstream file(fs::path(context.output_dir) / "checkpoints" / "last.pth");
    int epoch = 0;
    return context.resume && (file >> epoch) ? epoch : 0;
}

void save_last(const core::JobContext& context, int epoch) {
    fs::create_directories(fs::path(context.output_dir) / "checkpoints");
    std::ofstream(fs::path(context.output_dir) / "checkpoints" / "last.pth") << epoch;
}

/// A well-behaved fake trainer: per epoch a progress event, the history record, epoch_end and
/// validation; honours the stop token between epochs; `pause_after` blocks after that epoch
/// until stop is requested (and notifies `paused`).
struct FakeTrainer {
    int pause_after = 0;
    Signal* paused = nullptr;
    std::function<void(const core::JobContext&)> on_start;

    core::RunResult operator()(const core::JobContext& context) const {
        if (on_start) {
            on_start(context);
        }
        const int epochs = context.config.training.epochs;
        for (int epoch = resume_epoch(context) + 1; epoch <= epochs; ++epoch) {
            run_epoch(context, epoch);
            save_last(context, epoch);
            if (epoch == pause_after) {
                wait_for_stop(context);
            }
            if (context.stop->stop_requested()) {
                context.on_event(make_event(EventType::kStopped, context, epoch));
                core::RunResult stopped;
                stopped.outcome = RunOutcome::kStopped;
                stopped.epochs_completed = epoch;
                return stopped;
            }
        }
        context.on_event(make_event(EventType::kCompleted, context, epochs));
        return completed(context, epochs);
    }

    static void run_epoch(const core::JobContext& context, int epoch) {
        const double loss = 1.0 / epoch;
        context.on_event(make_event(EventType::kProgress, context, epoch, {{"loss", loss}}));
        context.on_epoch({epoch, {{"train_loss", loss}, {"val_loss", loss + 0.1}}, 1e-3, 0.5});
        context.on_event(make_event(EventType::kEpochEnd, context, epoch, {{"train_loss", loss}}));
        context.on_event(
            make_event(EventType::kValidation, context, epoch,
                       {{"val_loss", loss + 0.1}, {"val_accuracy", 0.5 + 0.1 * epoch}}));
    }

    void wait_for_stop(const core::JobContext& context) const {
        if (paused != nullptr) {
            paused->notify();
        }
        while (!context.stop->stop_requested()) {
            std::this_thread::sleep_for(1ms);
        }
    }

    static core::RunResult completed(const core::JobContext& context, int epochs) {
        core::RunResult result;
        result.outcome = RunOutcome::kCompleted;
        result.epochs_completed = epochs;
        result.best_checkpoint = context.output_dir + "/checkpoints/best.pth";
        result.last_checkpoint = context.output_dir + "/checkpoints/last.pth";
        result.best_epoch = epochs;
        result.best_metric = "val_loss";
        result.best_value = 1.0 / epochs + 0.1;
        result.best_metrics = {{"val_accuracy", 0.5 + 0.1 * epochs}, {"val_auc", 0.9}};
        result.class_names = {"BCC", "MEL", "NEV"};
        result.parameter_count = 1234;
        return result;
    }
};

FakeTrainer pausing(int pause_after, Signal* paused) {
    FakeTrainer trainer;
    trainer.pause_after = pause_after;
    trainer.paused = paused;
    return trainer;
}

JobManagerOptions one_worker() {
    JobManagerOptions options;
    options.max_concurrent_jobs = 1;
    return options;
}

/// A store, a channel registry, an event log and a manager over one temporary folder.
class Harness {
public:
    explicit Harness(core::JobRunner runner, JobManagerOptions options = {}) {
        open(std::move(runner), std::move(options));
    }

    void open(core::JobRunner runner, JobManagerOptions options = {}) {
        manager.reset();
        store = std::make_unique<store::Store>(dir.path() / "data");
        options.output_dir = dir.path() / "outputs";
        options.event_observer = [this](const core::ProgressEvent& event) { events.add(event); };
        manager = std::make_unique<JobManager>(*store, std::move(runner), channels, options);
    }

    std::string submit(const std::string& name, const core::JobConfig& config) {
        return manager->submit(name, config, core::to_json(config));
    }

    JobStatus wait(const std::string& job_id) {
        EXPECT_TRUE(manager->wait_until_finished(job_id, kWait)) << "job " << job_id;
        return manager->status(job_id).record.status;
    }

    TempDir dir;
    ChannelRegistry channels;
    EventLog events;
    std::unique_ptr<store::Store> store;
    std::unique_ptr<JobManager> manager;
};

core::ErrorCode error_code_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const core::ApiError& error) {
        return error.code();
    }
    ADD_FAILURE() << "no ApiError thrown";
    return core::ErrorCode::kInternalError;
}

std::vector<int> epochs_of(const std::vector<core::EpochRecord>& history) {
    std::vector<int> out;
    for (const auto& record : history) {
        out.push_back(record.epoch);
    }
    return out;
}

TEST(JobManagerTest, SubmitCommitsRowAndFolderBeforeReturning) {
    Harness h(FakeTrainer{});
    const std::string id = h.submit("experiment_001", make_config(3));

    const auto row = h.store->find_job(id);
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->status, JobStatus::kQueued);
    EXPECT_EQ(row->name, "experiment_001");
    EXPECT_EQ(row->total_epochs, 3);
    EXPECT_EQ(fs::path(row->output_dir), h.dir.path() / "outputs" / id);

    const YAML::Node config = YAML::LoadFile((fs::path(row->output_dir) / "config.yaml").string());
    EXPECT_EQ(config["training"]["epochs"].as<int>(), 3);
    EXPECT_EQ(config["model"]["vision_backbone"].as<std::string>(), "resnet18");
    EXPECT_EQ(config["data"]["train_csv"].as<std::string>(), "/data/pad_ufes_20/train.csv");
    EXPECT_EQ(h.manager->counts().queued, 1);
    EXPECT_EQ(h.manager->counts().running, 0);
}

TEST(JobManagerTest, CompletesJobAndRegistersItsModel) {
    Harness h(FakeTrainer{});
    h.manager->start();
    const std::string id = h.submit("run", make_config(3));
    ASSERT_EQ(h.wait(id), JobStatus::kCompleted);

    const JobSnapshot done = h.manager->status(id);
    EXPECT_EQ(done.record.epoch, 3);
    EXPECT_DOUBLE_EQ(done.progress, 1.0);
    EXPECT_EQ(done.record.best_epoch, 3);
    EXPECT_DOUBLE_EQ(done.record.last_metrics["val_accuracy"].get<double>(), 0.8);
    EXPECT_FALSE(done.record.started_at.empty());
    EXPECT_FALSE(done.record.finished_at.empty());
    EXPECT_EQ(done.model_id, "resnet18_concatenate_001");
    EXPECT_EQ(epochs_of(h.manager->history(id)), (std::vector<int>{1, 2, 3}));

    const auto model = h.store->find_model("resnet18_concatenate_001");
    ASSERT_TRUE(model.has_value());
    EXPECT_EQ(model->job_id, id);
    EXPECT_EQ(model->dataset, "pad_ufes_20");
    EXPECT_EQ(model->best_checkpoint, done.record.output_dir + "/checkpoints/best.pth");
    EXPECT_DOUBLE_EQ(model->metrics["val_accuracy"].get<double>(), 0.8);
    EXPECT_EQ(model->class_names, (std::vector<std::string>{"BCC", "MEL", "NEV"}));
    EXPECT_EQ(model->parameter_count, 1234);
}

TEST(JobManagerTest, PublishesStatusEpochAndOneTerminalEvent) {
    Harness h(FakeTrainer{});
    h.manager->start();
    const std::string id = h.submit("run", make_config(2));
    ASSERT_EQ(h.wait(id), JobStatus::kCompleted);

    const std::vector<EventType> expected = {
        EventType::kStatus,   EventType::kStatus,     EventType::kProgress,
        EventType::kEpochEnd, EventType::kValidation, EventType::kProgress,
        EventType::kEpochEnd, EventType::kValidation, EventType::kCompleted};
    EXPECT_EQ(h.events.types(id), expected);
}

TEST(JobManagerTest, RunsJobsInFifoOrderWithOneWorker) {
    std::mutex mutex;
    std::vector<std::string> order;
    FakeTrainer trainer;
    trainer.on_start = [&](const core::JobContext& context) {
        std::lock_guard lock(mutex);
        order.push_back(context.job_name);
    };
    Harness h(trainer, one_worker());
    std::vector<std::string> ids;
    for (const char* name : {"first", "second", "third", "fourth"}) {
        ids.push_back(h.submit(name, make_config(1)));
    }
    h.manager->start();
    for (const auto& id : ids) {
        EXPECT_EQ(h.wait(id), JobStatus::kCompleted);
    }
    EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "third", "fourth"}));
}

TEST(JobManagerTest, StopsQueuedJobAtOnce) {
    Signal paused;
    std::mutex mutex;
    std::vector<std::string> started;
    FakeTrainer trainer = pausing(1, &paused);
    trainer.on_start = [&](const core::JobContext& context) {
        std::lock_guard lock(mutex);
        started.push_back(context.job_name);
    };
    Harness h(trainer, one_worker());
    h.manager->start();
    const std::string blocker = h.submit("blocker", make_config(2));
    ASSERT_TRUE(paused.wait());
    const std::string waiting = h.submit("waiting", make_config(2));
    EXPECT_EQ(h.manager->counts().running, 1);
    EXPECT_EQ(h.manager->counts().queued, 1);

    EXPECT_EQ(h.manager->stop(waiting), JobStatus::kStopped);
    EXPECT_EQ(h.manager->status(waiting).record.status, JobStatus::kStopped);
    EXPECT_EQ(h.manager->counts().queued, 0);
    ASSERT_EQ(h.events.terminals(waiting).size(), 1u);
    EXPECT_EQ(h.events.terminals(waiting)[0].type, EventType::kStopped);

    h.manager->stop(blocker);
    EXPECT_EQ(h.wait(blocker), JobStatus::kStopped);
    EXPECT_EQ(started, (std::vector<std::string>{"blocker"}));
}

TEST(JobManagerTest, StopsRunningJobWithOneStoppedEvent) {
    Signal paused;
    Harness h(pausing(1, &paused));
    h.manager->start();
    const std::string id = h.submit("run", make_config(5));
    ASSERT_TRUE(paused.wait());
    EXPECT_EQ(h.manager->status(id).record.status, JobStatus::kRunning);

    EXPECT_EQ(h.manager->stop(id), JobStatus::kRunning);
    ASSERT_EQ(h.wait(id), JobStatus::kStopped);
    EXPECT_EQ(h.manager->status(id).record.epoch, 1);
    EXPECT_TRUE(h.manager->status(id).record.error.empty());
    EXPECT_EQ(epochs_of(h.manager->history(id)), (std::vector<int>{1}));
    ASSERT_EQ(h.events.terminals(id).size(), 1u);
    EXPECT_EQ(h.events.terminals(id)[0].type, EventType::kStopped);
    EXPECT_TRUE(h.store->list_models().empty());
}

TEST(JobManagerTest, RejectsStopAndResumeInWrongStates) {
    Harness h(FakeTrainer{});
    const std::string queued = h.submit("queued", make_config(1));
    EXPECT_EQ(error_code_of([&] { h.manager->stop("no-such-job"); }), core::ErrorCode::kNotFound);
    EXPECT_EQ(error_code_of([&] { h.manager->resume("no-such-job"); }), core::ErrorCode::kNotFound);
    EXPECT_EQ(error_code_of([&] { h.manager->status("no-such-job"); }), core::ErrorCode::kNotFound);
    EXPECT_EQ(error_code_of([&] { h.manager->resume(queued); }), core::ErrorCode::kConflict);

    h.manager->start();
    ASSERT_EQ(h.wait(queued), JobStatus::kCompleted);
    EXPECT_EQ(error_code_of([&] { h.manager->stop(queued); }), core::ErrorCode::kConflict);
    EXPECT_EQ(error_code_of([&] { h.manager->resume(queued); }), core::ErrorCode::kConflict);
    EXPECT_EQ(core::http_status(core::ErrorCode::kConflict), 409);
}

TEST(JobManagerTest, ResumeContinuesTheEpochAxis) {
    Signal paused;
    std::vector<bool> resume_flags;
    FakeTrainer trainer = pausing(2, &paused);
    trainer.on_start = [&](const core::JobContext& context) {
        resume_flags.push_back(context.resume);
    };
    Harness h(trainer);
    h.manager->start();
    const std::string id = h.submit("run", make_config(4));
    ASSERT_TRUE(paused.wait());
    h.manager->stop(id);
    ASSERT_EQ(h.wait(id), JobStatus::kStopped);

    h.manager->resume(id);
    ASSERT_EQ(h.wait(id), JobStatus::kCompleted);
    EXPECT_EQ(resume_flags, (std::vector<bool>{false, true}));
    EXPECT_EQ(epochs_of(h.manager->history(id)), (std::vector<int>{1, 2, 3, 4}));

    const auto terminals = h.events.terminals(id);
    ASSERT_EQ(terminals.size(), 2u);  // one per run
    EXPECT_EQ(terminals[0].type, EventType::kStopped);
    EXPECT_EQ(terminals[1].type, EventType::kCompleted);
}

TEST(JobManagerTest, RestartMarksRunningInterruptedAndRequeuesQueued) {
    Harness h(FakeTrainer{});
    const std::string was_running = h.submit("was_running", make_config(3));
    const std::string queued_a = h.submit("queued_a", make_config(1));
    const std::string queued_b = h.submit("queued_b", make_config(1));

    // The process "dies" mid-job: the row says running and last.pth holds epoch 2.
    h.store->set_job_status(was_running, JobStatus::kRunning);
    h.store->append_epoch(was_running, {1, {{"train_loss", 1.0}}, 1e-3, 1.0});
    h.store->append_epoch(was_running, {2, {{"train_loss", 0.5}}, 1e-3, 1.0});
    fs::create_directories(h.dir.path() / "outputs" / was_running / "checkpoints");
    std::ofstream(h.dir.path() / "outputs" / was_running / "checkpoints" / "last.pth") << 2;

    std::mutex mutex;
    std::vector<std::string> order;
    FakeTrainer trainer;
    trainer.on_start = [&](const core::JobContext& context) {
        std::lock_guard lock(mutex);
        order.push_back(context.job_name);
    };
    h.open(trainer, one_worker());
    h.manager->start();
    const JobSnapshot interrupted = h.manager->status(was_running);
    EXPECT_EQ(interrupted.record.status, JobStatus::kInterrupted);
    EXPECT_NE(interrupted.record.error.find("interrupted"), std::string::npos);
    EXPECT_EQ(h.wait(queued_a), JobStatus::kCompleted);
    EXPECT_EQ(h.wait(queued_b), JobStatus::kCompleted);
    EXPECT_EQ(h.manager->status(was_running).record.status, JobStatus::kInterrupted);

    h.manager->resume(was_running);
    ASSERT_EQ(h.wait(was_running), JobStatus::kCompleted);
    EXPECT_EQ(order, (std::vector<std::string>{"queued_a", "queued_b", "was_running"}));
    EXPECT_EQ(epochs_of(h.manager->history(was_running)), (std::vector<int>{1, 2, 3}));
}

TEST(JobManagerTest, ShutdownLeavesRunningJobInterruptedAndResumable) {
    Signal paused;
    Harness h(pausing(1, &paused), one_worker());
    h.manager->start();
    const std::string running = h.submit("running", make_config(3));
    ASSERT_TRUE(paused.wait());
    const std::string waiting = h.submit("waiting", make_config(1));
    h.manager->shutdown();

    EXPECT_EQ(h.store->find_job(running)->status, JobStatus::kInterrupted);
    EXPECT_EQ(h.store->find_job(waiting)->status, JobStatus::kQueued);
    EXPECT_EQ(error_code_of([&] { h.submit("late", make_config(1)); }),
              core::ErrorCode::kServiceUnavailable);

    h.open(FakeTrainer{}, one_worker());
    h.manager->start();
    EXPECT_EQ(h.wait(waiting), JobStatus::kCompleted);
    h.manager->resume(running);
    EXPECT_EQ(h.wait(running), JobStatus::kCompleted);
    EXPECT_EQ(epochs_of(h.manager->history(running)), (std::vector<int>{1, 2, 3}));
}

TEST(JobManagerTest, ThrowingRunnerFailsJobAndWorkerLivesOn) {
    auto runner = [](const core::JobContext& context) -> core::RunResult {
        if (context.job_name == "bad") {
            throw std::runtime_error("CUDA out of memory");
        }
        return FakeTrainer{}(context);
    };
    Harness h(runner, one_worker());
    h.manager->start();
    const std::string bad = h.submit("bad", make_config(1));
    const std::string good = h.submit("good", make_config(1));

    ASSERT_EQ(h.wait(bad), JobStatus::kFailed);
    EXPECT_EQ(h.manager->status(bad).record.error, "CUDA out of memory");
    ASSERT_EQ(h.events.terminals(bad).size(), 1u);
    EXPECT_EQ(h.events.terminals(bad)[0].type, EventType::kError);
    EXPECT_EQ(h.events.terminals(bad)[0].message, "CUDA out of memory");
    EXPECT_EQ(h.wait(good), JobStatus::kCompleted);
}

TEST(JobManagerTest, AddsTerminalEventWhenRunnerEmitsNone) {
    auto runner = [](const core::JobContext&) {
        core::RunResult result;
        result.error = "NaN loss at epoch 1, batch 3";
        return result;
    };
    Harness h(runner);
    h.manager->start();
    const std::string id = h.submit("nan", make_config(1));
    ASSERT_EQ(h.wait(id), JobStatus::kFailed);
    EXPECT_EQ(h.manager->status(id).record.error, "NaN loss at epoch 1, batch 3");
    const auto terminals = h.events.terminals(id);
    ASSERT_EQ(terminals.size(), 1u);
    EXPECT_EQ(terminals[0].type, EventType::kError);
    EXPECT_EQ(terminals[0].message, "NaN loss at epoch 1, batch 3");
}

TEST(JobManagerTest, DropsExtraTerminalEventsFromRunner) {
    auto runner = [](const core::JobContext& context) {
        context.on_event(make_event(EventType::kCompleted, context, 1));
        context.on_event(make_event(EventType::kCompleted, context, 1));
        context.on_event(make_event(EventType::kError, context, 1));
        return FakeTrainer::completed(context, 1);
    };
    Harness h(runner);
    h.manager->start();
    const std::string id = h.submit("noisy", make_config(1));
    ASSERT_EQ(h.wait(id), JobStatus::kCompleted);
    const auto terminals = h.events.terminals(id);
    ASSERT_EQ(terminals.size(), 1u);
    EXPECT_EQ(terminals[0].type, EventType::kCompleted);
}

TEST(JobManagerTest, NumbersModelsPerBackboneAndFusion) {
    Harness h(FakeTrainer{}, one_worker());
    h.manager->start();
    const std::string a = h.submit("a", make_config(1, "resnet50", "attention"));
    const std::string b = h.submit("b", make_config(1, "resnet50", "attention"));
    const std::string c = h.submit("c", make_config(1, "efficientnet_b0", "attention"));
    const std::string d = h.submit("d", make_config(1, "resnet50", "concatenate"));
    for (const auto& id : {a, b, c, d}) {
        ASSERT_EQ(h.wait(id), JobStatus::kCompleted);
    }
    EXPECT_EQ(h.manager->status(a).model_id, "resnet50_attention_001");
    EXPECT_EQ(h.manager->status(b).model_id, "resnet50_attention_002");
    EXPECT_EQ(h.manager->status(c).model_id, "efficientnet_b0_attention_001");
    EXPECT_EQ(h.manager->status(d).model_id, "resnet50_concatenate_001");
}

TEST(JobManagerTest, RejectsSubmitWhenQueueIsFull) {
    JobManagerOptions options;
    options.max_queued_jobs = 2;
    Harness h(FakeTrainer{}, options);
    h.submit("one", make_config(1));
    h.submit("two", make_config(1));
    EXPECT_EQ(error_code_of([&] { h.submit("three", make_config(1)); }),
              core::ErrorCode::kTooManyRequests);
    EXPECT_EQ(core::http_status(core::ErrorCode::kTooManyRequests), 429);
    EXPECT_EQ(h.store->count_jobs(), 2);
}

TEST(JobManagerTest, StatusMergesLiveProgress) {
    Signal reported;
    Signal release;
    auto runner = [&](const core::JobContext& context) {
        context.on_event(make_event(EventType::kProgress, context, 2,
                                    {{"loss", 0.42}, {"samples_per_second", 123.0}}, 5, 10));
        reported.notify();
        release.wait();
        return FakeTrainer::completed(context, 4);
    };
    Harness h(runner);
    h.manager->start();
    const std::string id = h.submit("live", make_config(4));
    ASSERT_TRUE(reported.wait());

    const JobSnapshot live = h.manager->status(id);
    EXPECT_EQ(live.record.status, JobStatus::kRunning);
    EXPECT_EQ(live.record.epoch, 2);
    EXPECT_EQ(live.batch, 5);
    EXPECT_EQ(live.total_batches, 10);
    EXPECT_DOUBLE_EQ(live.progress, 1.5 / 4);  // one epoch and half of the second
    EXPECT_DOUBLE_EQ(live.samples_per_second.value_or(0.0), 123.0);
    EXPECT_DOUBLE_EQ(live.record.last_metrics["loss"].get<double>(), 0.42);
    EXPECT_TRUE(live.eta_seconds.has_value());
    EXPECT_EQ(h.manager->list(JobStatus::kRunning).size(), 1u);
    EXPECT_EQ(h.manager->counts().running, 1);

    release.notify();
    EXPECT_EQ(h.wait(id), JobStatus::kCompleted);
}

TEST(JobManagerTest, ListsJobsNewestFirst) {
    Harness h(FakeTrainer{});
    const std::string first = h.submit("first", make_config(1));
    const std::string second = h.submit("second", make_config(1));
    const std::string third = h.submit("third", make_config(1));
    h.manager->stop(second);

    const auto all = h.manager->list();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].record.id, third);
    EXPECT_EQ(all[2].record.id, first);
    const auto stopped = h.manager->list(JobStatus::kStopped);
    ASSERT_EQ(stopped.size(), 1u);
    EXPECT_EQ(stopped[0].record.id, second);
    EXPECT_EQ(h.manager->list(std::nullopt, 1, 1).at(0).record.id, second);
}

}  // namespace
}  // namespace medfusion::jobs
