// LrSchedule and MetricMonitor against PyTorch's schedulers (values from torch 1.13's
// OneCycleLR, StepLR and ReduceLROnPlateau) and hand calculations.
#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

#include "lr_schedule.hpp"
#include "metric_monitor.hpp"

namespace medfusion::train {
namespace {

core::TrainingConfig schedule_config(const std::string& scheduler, int epochs) {
    core::TrainingConfig config;
    config.scheduler = scheduler;
    config.epochs = epochs;
    config.learning_rate = 0.1;
    return config;
}

TEST(LrScheduleTest, OneCycleMatchesPyTorch) {
    // torch.optim.lr_scheduler.OneCycleLR(max_lr=0.1, total_steps=12), lr before each step.
    const double expected[] = {0.0040000000000000036, 0.0349789654219583,    0.08792851591221287,
                               0.09944154354509119,   0.09330129698414118,   0.0811745653949763,
                               0.06473789976951033,   0.046263710266697504,  0.028306099820869922,
                               0.01334775301888306,   0.0034566987425395223, 4e-07};
    const LrSchedule schedule(schedule_config("onecycle", 3), 4);
    for (int step = 0; step < 12; ++step) {
        EXPECT_NEAR(schedule.learning_rate(step / 4 + 1, step % 4), expected[step], 1e-15)
            << "step " << step;
    }
}

TEST(LrScheduleTest, StepMatchesPyTorch) {
    auto config = schedule_config("step", 5);
    config.step_size = 2;
    config.gamma = 0.5;
    const LrSchedule schedule(config, 3);
    const double expected[] = {0.1, 0.1, 0.05, 0.05, 0.025};  // StepLR(step_size=2, gamma=0.5)
    for (int epoch = 1; epoch <= 5; ++epoch) {
        EXPECT_DOUBLE_EQ(schedule.learning_rate(epoch, 2), expected[epoch - 1]);
    }
}

TEST(LrScheduleTest, CosineWarmsUpLinearlyThenAnnealsToZero) {
    auto config = schedule_config("cosine", 4);
    config.warmup_epochs = 1;
    const LrSchedule schedule(config, 2);  // 8 steps, the first 2 warm up
    EXPECT_DOUBLE_EQ(schedule.learning_rate(1, 0), 0.05);
    EXPECT_DOUBLE_EQ(schedule.learning_rate(1, 1), 0.1);
    EXPECT_DOUBLE_EQ(schedule.learning_rate(2, 0), 0.1);
    EXPECT_NEAR(schedule.learning_rate(3, 1), 0.05, 1e-15);  // half way through the cosine
    const double last = 0.05 * (1.0 + std::cos(5.0 * std::numbers::pi / 6.0));
    EXPECT_NEAR(schedule.learning_rate(4, 1), last, 1e-15);
}

TEST(LrScheduleTest, PlateauMatchesPyTorchAndSurvivesItsState) {
    // ReduceLROnPlateau(factor=0.1, patience=3, threshold=0) on val_loss.
    auto config = schedule_config("plateau", 12);
    config.gamma = 0.1;
    LrSchedule schedule(config, 5);
    const double losses[] = {1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85};
    const double expected[] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.01, 0.001};
    for (int epoch = 1; epoch <= 11; ++epoch) {
        EXPECT_NEAR(schedule.learning_rate(epoch, 0), expected[epoch - 1], 1e-15) << epoch;
        schedule.on_epoch_end(epoch, losses[epoch - 1]);
        if (epoch == 8) {
            LrSchedule restored(config, 5);
            restored.load_state(schedule.state());
            schedule = restored;
        }
    }
    EXPECT_NEAR(schedule.learning_rate(12, 0), expected[11], 1e-15);
}

TEST(LrScheduleTest, UnknownSchedulerIsRejected) {
    EXPECT_THROW(LrSchedule(schedule_config("linear", 3), 2), std::invalid_argument);
}

TEST(MetricMonitorTest, AutoModeMinimizesLossesAndHonoursMinDelta) {
    MetricMonitor loss("val_loss", "auto", 0.05);
    EXPECT_TRUE(loss.minimizes());
    EXPECT_TRUE(loss.update(1, 1.0));
    EXPECT_FALSE(loss.update(2, 0.97));  // better, but by less than min_delta
    EXPECT_TRUE(loss.update(3, 0.90));
    EXPECT_FALSE(loss.update(4, std::nullopt));
    EXPECT_FALSE(loss.update(5, std::nan("")));
    EXPECT_EQ(loss.best_epoch(), 3);
    EXPECT_EQ(loss.epochs_without_improvement(), 2);

    MetricMonitor auc("val_auc", "auto", 0.0);
    EXPECT_FALSE(auc.minimizes());
    EXPECT_TRUE(auc.update(1, 0.7));
    EXPECT_FALSE(auc.update(2, 0.6));
    EXPECT_DOUBLE_EQ(*auc.best(), 0.7);
}

}  // namespace
}  // namespace medfusion::train
