// Swin-T trunk (torchvision.models.swin_transformer, V1): the last stage after `norm`, as a
// channel-first map [B, 768, h, w]. Stochastic depth is not applied.
#include <stdexcept>
#include <utility>
#include <vector>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

constexpr int64_t kWindow = 7;
constexpr double kNormEps = 1e-5;
constexpr double kMaskValue = -100.0;

torch::nn::LayerNorm layer_norm(int64_t dim) {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(kNormEps));
}

// Index into the relative position bias table for each (query, key) pair of a window.
torch::Tensor relative_position_index() {
    auto coords =
        torch::stack(torch::meshgrid({torch::arange(kWindow), torch::arange(kWindow)}, "ij"));
    auto flat = coords.flatten(1);
    auto relative = (flat.unsqueeze(2) - flat.unsqueeze(1)).permute({1, 2, 0}).contiguous();
    relative.select(2, 0).add_(kWindow - 1).mul_(2 * kWindow - 1);
    relative.select(2, 1).add_(kWindow - 1);
    return relative.sum(-1).flatten();
}

// Mask that keeps shifted windows from attending across the wrap-around seam.
torch::Tensor shift_mask(int64_t pad_h, int64_t pad_w, int64_t shift_h, int64_t shift_w,
                         const torch::TensorOptions& options) {
    // Python-style slice bounds, so that a zero shift behaves as torchvision's `-0:` does.
    auto bound = [](int64_t index, int64_t size) { return index < 0 ? size + index : index; };
    auto slices = [&](int64_t size, int64_t shift) {
        return std::vector<std::pair<int64_t, int64_t>>{
            {0, bound(-kWindow, size)},
            {bound(-kWindow, size), bound(-shift, size)},
            {bound(-shift, size), size}};
    };
    auto mask = torch::zeros({pad_h, pad_w}, options);
    int64_t region = 0;
    for (const auto& [h0, h1] : slices(pad_h, shift_h)) {
        for (const auto& [w0, w1] : slices(pad_w, shift_w)) {
            if (h1 > h0 && w1 > w0) {
                mask.slice(0, h0, h1).slice(1, w0, w1).fill_(static_cast<double>(region));
            }
            ++region;
        }
    }
    int64_t windows = (pad_h / kWindow) * (pad_w / kWindow);
    mask = mask.view({pad_h / kWindow, kWindow, pad_w / kWindow, kWindow})
               .permute({0, 2, 1, 3})
               .reshape({windows, kWindow * kWindow});
    mask = mask.unsqueeze(1) - mask.unsqueeze(2);
    return mask.masked_fill(mask != 0, kMaskValue).masked_fill(mask == 0, 0.0);
}

/// Window attention with a learned relative position bias; shifted when `shift` > 0.
class ShiftedWindowAttentionImpl : public torch::nn::Module {
public:
    ShiftedWindowAttentionImpl(int64_t dim, int64_t num_heads, int64_t shift)
        : num_heads_(num_heads), shift_(shift) {
        qkv_ = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
        proj_ = register_module("proj", torch::nn::Linear(dim, dim));
        relative_position_bias_table_ = register_parameter(
            "relative_position_bias_table",
            torch::randn({(2 * kWindow - 1) * (2 * kWindow - 1), num_heads}) * 0.02);
        relative_position_index_ =
            register_buffer("relative_position_index", relative_position_index());
    }

    torch::Tensor forward(torch::Tensor input) {
        int64_t batch = input.size(0), h = input.size(1), w = input.size(2), c = input.size(3);
        int64_t pad_h = h + (kWindow - h % kWindow) % kWindow;
        int64_t pad_w = w + (kWindow - w % kWindow) % kWindow;
        auto x = torch::constant_pad_nd(input, {0, 0, 0, pad_w - w, 0, pad_h - h});

        // No shift when one window already covers the padded map.
        int64_t shift_h = kWindow >= pad_h ? 0 : shift_;
        int64_t shift_w = kWindow >= pad_w ? 0 : shift_;
        bool shifted = shift_h + shift_w > 0;
        if (shifted) {
            x = torch::roll(x, {-shift_h, -shift_w}, {1, 2});
        }

        int64_t windows = (pad_h / kWindow) * (pad_w / kWindow);
        int64_t tokens = kWindow * kWindow;
        x = x.view({batch, pad_h / kWindow, kWindow, pad_w / kWindow, kWindow, c})
                .permute({0, 1, 3, 2, 4, 5})
                .reshape({batch * windows, tokens, c});
        auto [attention, values] = window_attention(x, c);
        if (shifted) {
            auto mask = shift_mask(pad_h, pad_w, shift_h, shift_w, x.options());
            attention = attention.view({batch, windows, num_heads_, tokens, tokens}) +
                        mask.unsqueeze(1).unsqueeze(0);
            attention = attention.view({-1, num_heads_, tokens, tokens});
        }
        attention = torch::softmax(attention, -1);

        x = torch::matmul(attention, values).transpose(1, 2).reshape({batch * windows, tokens, c});
        x = proj_->forward(x);
        x = x.view({batch, pad_h / kWindow, pad_w / kWindow, kWindow, kWindow, c})
                .permute({0, 1, 3, 2, 4, 5})
                .reshape({batch, pad_h, pad_w, c});
        if (shifted) {
            x = torch::roll(x, {shift_h, shift_w}, {1, 2});
        }
        return x.slice(1, 0, h).slice(2, 0, w).contiguous();
    }

private:
    // Scaled q·k plus the relative position bias, and v.
    std::pair<torch::Tensor, torch::Tensor> window_attention(const torch::Tensor& x, int64_t c) {
        auto qkv = qkv_->forward(x)
                       .reshape({x.size(0), x.size(1), 3, num_heads_, c / num_heads_})
                       .permute({2, 0, 3, 1, 4});
        auto q = qkv[0] * std::pow(static_cast<double>(c / num_heads_), -0.5);
        int64_t tokens = kWindow * kWindow;
        auto bias = relative_position_bias_table_.index({relative_position_index_})
                        .view({tokens, tokens, -1})
                        .permute({2, 0, 1})
                        .contiguous()
                        .unsqueeze(0);
        return {torch::matmul(q, qkv[1].transpose(-2, -1)) + bias, qkv[2]};
    }

    int64_t num_heads_;
    int64_t shift_;
    torch::nn::Linear qkv_{nullptr}, proj_{nullptr};
    torch::Tensor relative_position_bias_table_;
    torch::Tensor relative_position_index_;
};
TORCH_MODULE(ShiftedWindowAttention);

class SwinTransformerBlockImpl : public torch::nn::Module {
public:
    SwinTransformerBlockImpl(int64_t dim, int64_t num_heads, int64_t shift) {
        norm1_ = register_module("norm1", layer_norm(dim));
        attn_ = register_module("attn", ShiftedWindowAttention(dim, num_heads, shift));
        norm2_ = register_module("norm2", layer_norm(dim));
        mlp_ = register_module("mlp", gelu_mlp(dim, 4 * dim));
    }

    torch::Tensor forward(torch::Tensor x) {
        x = x + attn_->forward(norm1_->forward(x));
        return x + mlp_->forward(norm2_->forward(x));
    }

private:
    torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
    ShiftedWindowAttention attn_{nullptr};
    SequentialBlock mlp_{nullptr};
};
TORCH_MODULE(SwinTransformerBlock);

/// Concatenates each 2x2 neighbourhood (padding odd sizes), normalises, halves the width.
class PatchMergingImpl : public torch::nn::Module {
public:
    explicit PatchMergingImpl(int64_t dim) {
        reduction_ = register_module(
            "reduction", torch::nn::Linear(torch::nn::LinearOptions(4 * dim, 2 * dim).bias(false)));
        norm_ = register_module("norm", layer_norm(4 * dim));
    }

    torch::Tensor forward(torch::Tensor x) {
        int64_t h = x.size(-3), w = x.size(-2);
        x = torch::constant_pad_nd(x, {0, 0, 0, w % 2, 0, h % 2});
        using torch::indexing::Slice;
        auto x0 = x.index({"...", Slice(0, {}, 2), Slice(0, {}, 2), Slice()});
        auto x1 = x.index({"...", Slice(1, {}, 2), Slice(0, {}, 2), Slice()});
        auto x2 = x.index({"...", Slice(0, {}, 2), Slice(1, {}, 2), Slice()});
        auto x3 = x.index({"...", Slice(1, {}, 2), Slice(1, {}, 2), Slice()});
        return reduction_->forward(norm_->forward(torch::cat({x0, x1, x2, x3}, -1)));
    }

private:
    torch::nn::Linear reduction_{nullptr};
    torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(PatchMerging);

class SwinTransformerImpl : public Backbone {
public:
    SwinTransformerImpl(const std::string& name, int64_t embed_dim, std::vector<int64_t> depths,
                        std::vector<int64_t> heads)
        : Backbone(name, embed_dim << (depths.size() - 1), {"head."}) {
        SequentialBlock features;
        SequentialBlock stem;
        stem->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, embed_dim, 4).stride(4)));
        stem->push_back(make_permute({0, 2, 3, 1}));
        stem->push_back(layer_norm(embed_dim));
        features->push_back(stem);
        for (size_t stage = 0; stage < depths.size(); ++stage) {
            int64_t dim = embed_dim << stage;
            SequentialBlock blocks;
            for (int64_t i = 0; i < depths[stage]; ++i) {
                blocks->push_back(
                    SwinTransformerBlock(dim, heads[stage], i % 2 == 0 ? 0 : kWindow / 2));
            }
            features->push_back(blocks);
            if (stage + 1 < depths.size()) {
                features->push_back(PatchMerging(dim));
            }
        }
        features_ = register_module("features", features);
        norm_ = register_module("norm", layer_norm(trunk_width()));
    }

    torch::Tensor forward(torch::Tensor images) override {
        return norm_->forward(features_->forward(images)).permute({0, 3, 1, 2});
    }

private:
    SequentialBlock features_{nullptr};
    torch::nn::LayerNorm norm_{nullptr};
};

}  // namespace

std::shared_ptr<Backbone> make_swin(const std::string& name) {
    if (name == "swin_t") {
        return std::make_shared<SwinTransformerImpl>(name, 96, std::vector<int64_t>{2, 2, 6, 2},
                                                     std::vector<int64_t>{3, 6, 12, 24});
    }
    throw std::invalid_argument("not a swin transformer: " + name);
}

}  // namespace medfusion::models
