// ResNet-18/34/50/101 trunks (torchvision.models.resnet): output of layer4.
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

torch::nn::BatchNorm2d batch_norm(int64_t channels) {
    return torch::nn::BatchNorm2d(channels);
}

SequentialBlock downsample(int64_t in, int64_t out, int64_t stride) {
    SequentialBlock block;
    block->push_back(conv2d(in, out, 1, stride));
    block->push_back(batch_norm(out));
    return block;
}

/// Two 3x3 convolutions with a skip connection (resnet18/34).
class BasicBlockImpl : public torch::nn::Module {
public:
    static constexpr int64_t kExpansion = 1;

    BasicBlockImpl(int64_t in, int64_t planes, int64_t stride) {
        conv1_ = register_module("conv1", conv2d(in, planes, 3, stride));
        bn1_ = register_module("bn1", batch_norm(planes));
        conv2_ = register_module("conv2", conv2d(planes, planes, 3));
        bn2_ = register_module("bn2", batch_norm(planes));
        if (stride != 1 || in != planes) {
            downsample_ = register_module("downsample", downsample(in, planes, stride));
        }
    }

    torch::Tensor forward(torch::Tensor x) {
        auto identity = downsample_ ? downsample_->forward(x) : x;
        auto out = torch::relu(bn1_->forward(conv1_->forward(x)));
        out = bn2_->forward(conv2_->forward(out));
        return torch::relu(out + identity);
    }

private:
    torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
    torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
    SequentialBlock downsample_{nullptr};
};
TORCH_MODULE(BasicBlock);

/// 1x1, 3x3 (strided), 1x1 convolutions with a skip connection (resnet50/101).
class BottleneckImpl : public torch::nn::Module {
public:
    static constexpr int64_t kExpansion = 4;

    BottleneckImpl(int64_t in, int64_t planes, int64_t stride) {
        int64_t out = planes * kExpansion;
        conv1_ = register_module("conv1", conv2d(in, planes, 1));
        bn1_ = register_module("bn1", batch_norm(planes));
        conv2_ = register_module("conv2", conv2d(planes, planes, 3, stride));
        bn2_ = register_module("bn2", batch_norm(planes));
        conv3_ = register_module("conv3", conv2d(planes, out, 1));
        bn3_ = register_module("bn3", batch_norm(out));
        if (stride != 1 || in != out) {
            downsample_ = register_module("downsample", downsample(in, out, stride));
        }
    }

    torch::Tensor forward(torch::Tensor x) {
        auto identity = downsample_ ? downsample_->forward(x) : x;
        auto out = torch::relu(bn1_->forward(conv1_->forward(x)));
        out = torch::relu(bn2_->forward(conv2_->forward(out)));
        out = bn3_->forward(conv3_->forward(out));
        return torch::relu(out + identity);
    }

private:
    torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
    torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
    SequentialBlock downsample_{nullptr};
};
TORCH_MODULE(Bottleneck);

/// The ResNet trunk: stem, then four stages of residual blocks.
class ResNetImpl : public Backbone {
public:
    ResNetImpl(const std::string& name, bool bottleneck, std::vector<int64_t> depths)
        : Backbone(name, bottleneck ? 2048 : 512, {"fc."}) {
        conv1_ = register_module(
            "conv1",
            torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
        bn1_ = register_module("bn1", batch_norm(64));
        int64_t in = 64;
        for (size_t stage = 0; stage < depths.size(); ++stage) {
            int64_t planes = 64 << stage;
            int64_t stride = stage == 0 ? 1 : 2;
            SequentialBlock layer;
            for (int64_t i = 0; i < depths[stage]; ++i) {
                if (bottleneck) {
                    layer->push_back(Bottleneck(in, planes, i == 0 ? stride : 1));
                    in = planes * BottleneckImpl::kExpansion;
                } else {
                    layer->push_back(BasicBlock(in, planes, i == 0 ? stride : 1));
                    in = planes;
                }
            }
            layers_.push_back(register_module("layer" + std::to_string(stage + 1), layer));
        }
    }

    torch::Tensor forward(torch::Tensor images) override {
        auto x = torch::relu(bn1_->forward(conv1_->forward(images)));
        x = torch::max_pool2d(x, 3, 2, 1);
        for (auto& layer : layers_) {
            x = layer->forward(x);
        }
        return x;
    }

private:
    torch::nn::Conv2d conv1_{nullptr};
    torch::nn::BatchNorm2d bn1_{nullptr};
    std::vector<SequentialBlock> layers_;
};

}  // namespace

std::shared_ptr<Backbone> make_resnet(const std::string& name) {
    if (name == "resnet18")
        return std::make_shared<ResNetImpl>(name, false, std::vector<int64_t>{2, 2, 2, 2});
    if (name == "resnet34")
        return std::make_shared<ResNetImpl>(name, false, std::vector<int64_t>{3, 4, 6, 3});
    if (name == "resnet50")
        return std::make_shared<ResNetImpl>(name, true, std::vector<int64_t>{3, 4, 6, 3});
    if (name == "resnet101")
        return std::make_shared<ResNetImpl>(name, true, std::vector<int64_t>{3, 4, 23, 3});
    throw std::invalid_argument("not a resnet: " + name);
}

}  // namespace medfusion::models
