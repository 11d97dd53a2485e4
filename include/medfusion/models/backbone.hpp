// Vision backbones: the trunk of a torchvision classifier, with torchvision's parameter names,
// so that torchvision weights load directly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace medfusion::models {

/// Parameter and buffer tensors by their dotted name, as in a torchvision state dict.
using StateDict = std::map<std::string, torch::Tensor>;

/// A vision trunk: images [B, 3, H, W] to the features before torchvision's classifier.
/// CNN and Swin trunks return the last feature map [B, C, h, w]; ViT returns its class token
/// [B, C]. C is `trunk_width()`.
class Backbone : public torch::nn::Module {
public:
    virtual torch::Tensor forward(torch::Tensor images) = 0;

    int64_t trunk_width() const { return trunk_width_; }
    bool returns_feature_map() const { return returns_feature_map_; }

    /// Name prefixes of torchvision's classifier (`fc.`, `classifier.`, ...): a torchvision
    /// state dict carries them, this trunk does not.
    const std::vector<std::string>& classifier_prefixes() const { return classifier_prefixes_; }

    /// Rewrites a torchvision state dict for this instance (ViT resizes its position
    /// embeddings to the image size). The default leaves it as it is.
    virtual void adapt_state_dict(StateDict& state) const;

protected:
    Backbone(std::string name, int64_t trunk_width, std::vector<std::string> classifier_prefixes,
             bool returns_feature_map = true);

private:
    int64_t trunk_width_;
    std::vector<std::string> classifier_prefixes_;
    bool returns_feature_map_;
};

/// The backbone names `make_backbone` accepts, in the order the docs list them.
const std::vector<std::string>& backbone_names();

/// Builds a backbone by torchvision name, randomly initialised. `image_size` matters only to
/// ViT (its position embeddings); throws std::invalid_argument listing the valid names.
std::shared_ptr<Backbone> make_backbone(const std::string& name, int64_t image_size = 224);

/// Reads a plain-dict state dict written by `torch.save(dict(state_dict), path)` (what
/// scripts/convert_torchvision_weights.py writes). Throws std::runtime_error.
StateDict read_state_dict(const std::string& path);

/// Copies a torchvision state dict into `backbone`, strictly: every missing key, unexpected key
/// and shape mismatch is listed in one std::runtime_error. Classifier keys are ignored.
void load_backbone_weights(Backbone& backbone, StateDict state);

/// `read_state_dict` then `load_backbone_weights`; the error names the file.
void load_backbone_weights(Backbone& backbone, const std::string& path);

}  // namespace medfusion::models
