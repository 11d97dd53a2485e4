// The multimodal model and its factory.
#include "medfusion/models/multimodal_model.hpp"

#include <algorithm>
#include <stdexcept>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

void check_choice(const std::string& key, const std::string& value,
                  const std::vector<std::string>& choices) {
    if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
        throw std::invalid_argument("unknown " + key + " '" + value +
                                    "'; valid choices: " + join_names(choices));
    }
}

// Cheap checks first, so that a bad config fails before any backbone is allocated.
void validate(const core::ModelConfig& config, const ModelShape& shape) {
    check_choice("vision_backbone", config.vision_backbone, backbone_names());
    check_choice("fusion_type", config.fusion_type, fusion_names());
    check_choice("tabular_encoder", config.tabular_encoder, tabular_encoder_names());
    check_choice("attention", config.attention, cnn_attention_names());
    activation_from_name(config.activation);
    if (shape.num_classes < 2) {
        throw std::invalid_argument("a classifier needs at least 2 classes, got " +
                                    std::to_string(shape.num_classes));
    }
    if (config.fusion_type != "image_only" && shape.num_tabular_features <= 0) {
        throw std::invalid_argument("fusion_type '" + config.fusion_type +
                                    "' needs tabular features; the data has none (use image_only)");
    }
    if (config.feature_dim <= 0) {
        throw std::invalid_argument("feature_dim must be positive");
    }
    if (config.dropout < 0.0 || config.dropout >= 1.0) {
        throw std::invalid_argument("dropout must be in [0, 1)");
    }
    if (std::any_of(config.classifier_hidden.begin(), config.classifier_hidden.end(),
                    [](int width) { return width <= 0; })) {
        throw std::invalid_argument("classifier_hidden widths must be positive");
    }
}

}  // namespace

MultimodalModelImpl::MultimodalModelImpl(const core::ModelConfig& config, const ModelShape& shape)
    : freeze_backbone_(config.freeze_backbone), aux_loss_weight_(config.aux_loss_weight) {
    validate(config, shape);
    bool use_vision = config.fusion_type != "tabular_only";
    bool use_tabular = config.fusion_type != "image_only";

    FusionOptions fusion{.type = config.fusion_type,
                         .fusion_dim = config.fusion_dim,
                         .num_heads = config.num_heads,
                         .bilinear_rank = config.bilinear_rank,
                         .dropout = config.dropout};
    if (use_vision) {
        vision_ = register_module(
            "vision", VisionEncoder(VisionEncoderOptions{.backbone = config.vision_backbone,
                                                         .image_size = shape.image_size,
                                                         .attention = config.attention,
                                                         .feature_dim = config.feature_dim,
                                                         .dropout = config.dropout}));
        fusion.vision_dim = vision_->output_dim();
    }
    if (use_tabular) {
        TabularEncoderOptions options{
            .type = config.tabular_encoder,
            .num_features = shape.num_tabular_features,
            .hidden = {config.tabular_hidden.begin(), config.tabular_hidden.end()},
            .activation = config.activation,
            .dropout = config.dropout,
            .num_heads = config.num_heads};
        tabular_ = register_module("tabular", make_tabular_encoder(options));
        fusion.tabular_dim = tabular_->output_dim();
    }
    fusion_ = register_module("fusion", make_fusion(fusion));
    build_classifier(config, fusion_->output_dim(), shape.num_classes);

    if (config.aux_heads && use_vision) {
        vision_head_ =
            register_module("vision_head", torch::nn::Linear(fusion.vision_dim, shape.num_classes));
    }
    if (config.aux_heads && use_tabular) {
        tabular_head_ = register_module("tabular_head",
                                        torch::nn::Linear(fusion.tabular_dim, shape.num_classes));
    }
    if (freeze_backbone_ && use_vision) {
        for (auto& parameter : vision_->backbone().parameters()) {
            parameter.set_requires_grad(false);
        }
        vision_->backbone().eval();
    }
}

void MultimodalModelImpl::build_classifier(const core::ModelConfig& config, int64_t in,
                                           int64_t num_classes) {
    Act act = activation_from_name(config.activation);
    torch::nn::Sequential classifier;
    for (int width : config.classifier_hidden) {
        classifier->push_back(torch::nn::Linear(in, width));
        classifier->push_back(make_activation(act));
        classifier->push_back(torch::nn::Dropout(config.dropout));
        in = width;
    }
    classifier->push_back(torch::nn::Linear(in, num_classes));
    classifier_ = register_module("classifier", classifier);
}

ModelOutput MultimodalModelImpl::forward(const torch::Tensor& images,
                                         const torch::Tensor& tabular) {
    torch::Tensor v = vision_ ? vision_->forward(images) : torch::Tensor();
    torch::Tensor t = tabular_ ? tabular_->forward(tabular) : torch::Tensor();
    auto fused = fusion_->forward(v, t);

    ModelOutput output;
    output.logits = classifier_->forward(fused.fused);
    output.fusion_weights = std::move(fused.weights);
    if (vision_head_) {
        output.vision_logits = vision_head_->forward(v);
    }
    if (tabular_head_) {
        output.tabular_logits = tabular_head_->forward(t);
    }
    return output;
}

void MultimodalModelImpl::train(bool on) {
    torch::nn::Module::train(on);
    if (on && freeze_backbone_ && vision_) {
        vision_->backbone().eval();
    }
}

MultimodalModel build_model(const core::ModelConfig& config, int64_t num_tabular_features,
                            int64_t num_classes, int64_t image_size) {
    MultimodalModel model(config, ModelShape{.num_tabular_features = num_tabular_features,
                                             .num_classes = num_classes,
                                             .image_size = image_size});
    if (!config.pretrained_weights.empty() && model->has_vision()) {
        load_backbone_weights(model->vision()->backbone(), config.pretrained_weights);
    }
    return model;
}

ModelSummary summarize(MultimodalModelImpl& model) {
    ModelSummary summary{0, 0};
    for (const auto& parameter : model.parameters()) {
        summary.total_parameters += parameter.numel();
        if (parameter.requires_grad()) {
            summary.trainable_parameters += parameter.numel();
        }
    }
    return summary;
}

}  // namespace medfusion::models
