// DenseNet-121 trunk (torchvision.models.densenet): relu(features(x)).
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

constexpr int64_t kGrowthRate = 32;
constexpr int64_t kBottleneckSize = 4;

/// BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 producing `kGrowthRate` new channels.
class DenseLayerImpl : public torch::nn::Module {
public:
    explicit DenseLayerImpl(int64_t in) {
        int64_t width = kBottleneckSize * kGrowthRate;
        norm1_ = register_module("norm1", torch::nn::BatchNorm2d(in));
        conv1_ = register_module("conv1", conv2d(in, width, 1));
        norm2_ = register_module("norm2", torch::nn::BatchNorm2d(width));
        conv2_ = register_module("conv2", conv2d(width, kGrowthRate, 3));
    }

    torch::Tensor forward(torch::Tensor x) {
        auto out = conv1_->forward(torch::relu(norm1_->forward(x)));
        return conv2_->forward(torch::relu(norm2_->forward(out)));
    }

private:
    torch::nn::BatchNorm2d norm1_{nullptr}, norm2_{nullptr};
    torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(DenseLayer);

/// Each layer sees the concatenation of the block input and all earlier layers' outputs.
class DenseBlockImpl : public torch::nn::Module {
public:
    DenseBlockImpl(int64_t in, int64_t layers) {
        for (int64_t i = 0; i < layers; ++i) {
            layers_.push_back(register_module("denselayer" + std::to_string(i + 1),
                                              DenseLayer(in + i * kGrowthRate)));
        }
    }

    torch::Tensor forward(torch::Tensor x) {
        std::vector<torch::Tensor> features{x};
        for (auto& layer : layers_) {
            features.push_back(layer->forward(torch::cat(features, 1)));
        }
        return torch::cat(features, 1);
    }

private:
    std::vector<DenseLayer> layers_;
};
TORCH_MODULE(DenseBlock);

/// BN-ReLU-Conv1x1 halving the channels, then 2x2 average pooling.
SequentialBlock transition(int64_t in, int64_t out) {
    SequentialBlock block;
    block->push_back("norm", torch::nn::BatchNorm2d(in));
    block->push_back("relu", torch::nn::ReLU(torch::nn::ReLUOptions(true)));
    block->push_back("conv", conv2d(in, out, 1));
    block->push_back("pool", torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(2).stride(2)));
    return block;
}

class DenseNetImpl : public Backbone {
public:
    DenseNetImpl(const std::string& name, std::vector<int64_t> block_layers, int64_t init_features)
        : Backbone(name, final_width(block_layers, init_features), {"classifier."}) {
        SequentialBlock features;
        features->push_back(
            "conv0",
            torch::nn::Conv2d(
                torch::nn::Conv2dOptions(3, init_features, 7).stride(2).padding(3).bias(false)));
        features->push_back("norm0", torch::nn::BatchNorm2d(init_features));
        features->push_back("relu0", torch::nn::ReLU(torch::nn::ReLUOptions(true)));
        features->push_back(
            "pool0", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
        int64_t channels = init_features;
        for (size_t i = 0; i < block_layers.size(); ++i) {
            auto index = std::to_string(i + 1);
            features->push_back("denseblock" + index, DenseBlock(channels, block_layers[i]));
            channels += block_layers[i] * kGrowthRate;
            if (i + 1 < block_layers.size()) {
                features->push_back("transition" + index, transition(channels, channels / 2));
                channels /= 2;
            }
        }
        features->push_back("norm5", torch::nn::BatchNorm2d(channels));
        features_ = register_module("features", features);
    }

    torch::Tensor forward(torch::Tensor images) override {
        return torch::relu(features_->forward(images));
    }

private:
    static int64_t final_width(const std::vector<int64_t>& block_layers, int64_t channels) {
        for (size_t i = 0; i < block_layers.size(); ++i) {
            channels += block_layers[i] * kGrowthRate;
            if (i + 1 < block_layers.size()) {
                channels /= 2;
            }
        }
        return channels;
    }

    SequentialBlock features_{nullptr};
};

}  // namespace

std::shared_ptr<Backbone> make_densenet(const std::string& name) {
    if (name == "densenet121") {
        return std::make_shared<DenseNetImpl>(name, std::vector<int64_t>{6, 12, 24, 16}, 64);
    }
    throw std::invalid_argument("not a densenet: " + name);
}

}  // namespace medfusion::models
