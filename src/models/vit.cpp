// ViT-B/16 and ViT-B/32 trunks (torchvision.models.vision_transformer): the class token after
// the encoder's final LayerNorm. The image size is a parameter; position embeddings from a
// state dict made for another size are resized as torchvision's interpolate_embeddings does.
#include <cmath>
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

constexpr double kNormEps = 1e-6;
constexpr int64_t kHidden = 768;
constexpr int64_t kMlp = 3072;
constexpr int64_t kLayers = 12;
constexpr int64_t kHeads = 12;

torch::nn::LayerNorm layer_norm(int64_t dim) {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(kNormEps));
}

/// Pre-norm transformer block: x + attention(ln_1(x)), then + mlp(ln_2(x)).
class EncoderBlockImpl : public torch::nn::Module {
public:
    EncoderBlockImpl() {
        ln_1_ = register_module("ln_1", layer_norm(kHidden));
        self_attention_ = register_module("self_attention", MultiheadAttention(kHidden, kHeads));
        ln_2_ = register_module("ln_2", layer_norm(kHidden));
        mlp_ = register_module("mlp", gelu_mlp(kHidden, kMlp));
    }

    torch::Tensor forward(torch::Tensor input) {
        auto x = ln_1_->forward(input);
        x = self_attention_->forward(x, x).first + input;
        return x + mlp_->forward(ln_2_->forward(x));
    }

private:
    torch::nn::LayerNorm ln_1_{nullptr}, ln_2_{nullptr};
    MultiheadAttention self_attention_{nullptr};
    SequentialBlock mlp_{nullptr};
};
TORCH_MODULE(EncoderBlock);

class EncoderImpl : public torch::nn::Module {
public:
    explicit EncoderImpl(int64_t seq_length) {
        pos_embedding_ =
            register_parameter("pos_embedding", torch::randn({1, seq_length, kHidden}) * 0.02);
        SequentialBlock layers;
        for (int64_t i = 0; i < kLayers; ++i) {
            layers->push_back("encoder_layer_" + std::to_string(i), EncoderBlock());
        }
        layers_ = register_module("layers", layers);
        ln_ = register_module("ln", layer_norm(kHidden));
    }

    torch::Tensor forward(torch::Tensor x) {
        return ln_->forward(layers_->forward(x + pos_embedding_));
    }

private:
    torch::Tensor pos_embedding_;
    SequentialBlock layers_{nullptr};
    torch::nn::LayerNorm ln_{nullptr};
};
TORCH_MODULE(Encoder);

class VisionTransformerImpl : public Backbone {
public:
    VisionTransformerImpl(const std::string& name, int64_t patch_size, int64_t image_size)
        : Backbone(name, kHidden, {"heads."}, false),
          patch_size_(patch_size),
          image_size_(image_size) {
        if (image_size <= 0 || image_size % patch_size != 0) {
            throw std::invalid_argument(name + " needs an image size divisible by " +
                                        std::to_string(patch_size) + ", got " +
                                        std::to_string(image_size));
        }
        int64_t side = image_size / patch_size;
        conv_proj_ = register_module(
            "conv_proj",
            torch::nn::Conv2d(torch::nn::Conv2dOptions(3, kHidden, patch_size).stride(patch_size)));
        class_token_ = register_parameter("class_token", torch::zeros({1, 1, kHidden}));
        encoder_ = register_module("encoder", Encoder(side * side + 1));
    }

    torch::Tensor forward(torch::Tensor images) override {
        TORCH_CHECK(images.size(2) == image_size_ && images.size(3) == image_size_, name(),
                    " was built for ", image_size_, " px images, got ", images.sizes());
        auto x = conv_proj_->forward(images).flatten(2).transpose(1, 2);
        x = torch::cat({class_token_.expand({x.size(0), -1, -1}), x}, 1);
        return encoder_->forward(x).select(1, 0);
    }

    void adapt_state_dict(StateDict& state) const override {
        auto found = state.find("encoder.pos_embedding");
        int64_t side = image_size_ / patch_size_;
        if (found == state.end() || found->second.dim() != 3 ||
            found->second.size(1) == side * side + 1) {
            return;
        }
        found->second = resize_pos_embedding(found->second, side);
    }

private:
    // Bicubic resize of the patch grid, class token kept (torchvision's interpolate_embeddings).
    static torch::Tensor resize_pos_embedding(const torch::Tensor& pos, int64_t side) {
        int64_t old_side = static_cast<int64_t>(std::lround(std::sqrt(pos.size(1) - 1)));
        if (old_side * old_side != pos.size(1) - 1) {
            return pos;  // not a square grid: left for the shape check to report
        }
        auto grid =
            pos.slice(1, 1).permute({0, 2, 1}).reshape({1, pos.size(2), old_side, old_side});
        namespace F = torch::nn::functional;
        grid = F::interpolate(grid, F::InterpolateFuncOptions()
                                        .size(std::vector<int64_t>{side, side})
                                        .mode(torch::kBicubic)
                                        .align_corners(true));
        grid = grid.reshape({1, pos.size(2), side * side}).permute({0, 2, 1});
        return torch::cat({pos.slice(1, 0, 1), grid}, 1);
    }

    int64_t patch_size_;
    int64_t image_size_;
    torch::nn::Conv2d conv_proj_{nullptr};
    torch::Tensor class_token_;
    Encoder encoder_{nullptr};
};

}  // namespace

std::shared_ptr<Backbone> make_vit(const std::string& name, int64_t image_size) {
    if (name == "vit_b_16")
        return std::make_shared<VisionTransformerImpl>(name, 16, image_size);
    if (name == "vit_b_32")
        return std::make_shared<VisionTransformerImpl>(name, 32, image_size);
    throw std::invalid_argument("not a vision transformer: " + name);
}

}  // namespace medfusion::models
