// RegNetY-400MF/800MF trunks (torchvision.models.regnet): output of `trunk_output`.
#include <cmath>
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

constexpr double kSeRatio = 0.25;
constexpr int64_t kStemWidth = 32;

/// Per-stage settings, as torchvision's BlockParams.from_init_params computes them.
struct RegNetStages {
    std::vector<int64_t> depths;
    std::vector<int64_t> widths;
    int64_t group_width;
};

/// 1x1, grouped 3x3 (strided), squeeze-excitation, 1x1 in `f`; projected skip in `proj`.
class ResBottleneckBlockImpl : public torch::nn::Module {
public:
    ResBottleneckBlockImpl(int64_t in, int64_t out, int64_t stride, int64_t group_width) {
        if (in != out || stride != 1) {
            proj_ = register_module(
                "proj", conv_norm_act(in, out, {.kernel = 1, .stride = stride, .act = Act::kNone}));
        }
        int64_t groups = out / group_width;
        auto se_width = static_cast<int64_t>(std::round(kSeRatio * static_cast<double>(in)));
        SequentialBlock f;
        f->push_back("a", conv_norm_act(in, out, {.kernel = 1}));
        f->push_back("b",
                     conv_norm_act(out, out, {.kernel = 3, .stride = stride, .groups = groups}));
        f->push_back("se", SqueezeExcitation(out, se_width, Act::kReLU, Act::kSigmoid));
        f->push_back("c", conv_norm_act(out, out, {.kernel = 1, .act = Act::kNone}));
        f_ = register_module("f", f);
    }

    torch::Tensor forward(torch::Tensor x) {
        auto skip = proj_ ? proj_->forward(x) : x;
        return torch::relu(skip + f_->forward(x));
    }

private:
    SequentialBlock proj_{nullptr};
    SequentialBlock f_{nullptr};
};
TORCH_MODULE(ResBottleneckBlock);

class RegNetImpl : public Backbone {
public:
    RegNetImpl(const std::string& name, const RegNetStages& stages)
        : Backbone(name, stages.widths.back(), {"fc."}) {
        stem_ = register_module("stem", conv_norm_act(3, kStemWidth, {.kernel = 3, .stride = 2}));
        SequentialBlock trunk;
        int64_t in = kStemWidth;
        for (size_t s = 0; s < stages.depths.size(); ++s) {
            auto stage_name = "block" + std::to_string(s + 1);
            SequentialBlock stage;
            for (int64_t i = 0; i < stages.depths[s]; ++i) {
                stage->push_back(
                    stage_name + "-" + std::to_string(i),
                    ResBottleneckBlock(i == 0 ? in : stages.widths[s], stages.widths[s],
                                       i == 0 ? 2 : 1, stages.group_width));
            }
            trunk->push_back(std::string(stage_name), stage);
            in = stages.widths[s];
        }
        trunk_output_ = register_module("trunk_output", trunk);
    }

    torch::Tensor forward(torch::Tensor images) override {
        return trunk_output_->forward(stem_->forward(images));
    }

private:
    SequentialBlock stem_{nullptr};
    SequentialBlock trunk_output_{nullptr};
};

}  // namespace

std::shared_ptr<Backbone> make_regnet(const std::string& name) {
    // From BlockParams.from_init_params(depth=16, w_0=48, w_a=27.89, w_m=2.09, group_width=8).
    if (name == "regnet_y_400mf") {
        return std::make_shared<RegNetImpl>(name,
                                            RegNetStages{{1, 3, 6, 6}, {48, 104, 208, 440}, 8});
    }
    // From BlockParams.from_init_params(depth=14, w_0=56, w_a=38.84, w_m=2.4, group_width=16).
    if (name == "regnet_y_800mf") {
        return std::make_shared<RegNetImpl>(name,
                                            RegNetStages{{1, 3, 8, 2}, {64, 144, 320, 784}, 16});
    }
    throw std::invalid_argument("not a regnet: " + name);
}

}  // namespace medfusion::models
