// The backbone registry and strict loading of torchvision state dicts.
#include "medfusion/models/backbone.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>

#include <torch/script.h>

#include "models/layers.hpp"

namespace medfusion::models {
namespace {

bool starts_with_any(const std::string& key, const std::vector<std::string>& prefixes) {
    for (const auto& prefix : prefixes) {
        if (key.rfind(prefix, 0) == 0) {
            return true;
        }
    }
    return false;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += out.empty() ? item : ", " + item;
    }
    return out;
}

std::string shape_of(const torch::Tensor& tensor) {
    std::ostringstream out;
    out << tensor.sizes();
    return out.str();
}

// Collects every problem between the module's tensors and the state dict before copying any.
std::vector<std::string> check_state(const StateDict& own, const StateDict& state,
                                     const std::vector<std::string>& ignored) {
    std::vector<std::string> missing, unexpected, mismatched;
    for (const auto& [key, tensor] : own) {
        auto found = state.find(key);
        if (found == state.end()) {
            missing.push_back(key);
        } else if (found->second.sizes() != tensor.sizes()) {
            mismatched.push_back(key + " (expected " + shape_of(tensor) + ", file has " +
                                 shape_of(found->second) + ")");
        }
    }
    for (const auto& [key, tensor] : state) {
        if (own.count(key) == 0 && !starts_with_any(key, ignored)) {
            unexpected.push_back(key);
        }
    }

    std::vector<std::string> problems;
    if (!missing.empty())
        problems.push_back("missing keys: " + join(missing));
    if (!unexpected.empty())
        problems.push_back("unexpected keys: " + join(unexpected));
    if (!mismatched.empty())
        problems.push_back("shape mismatches: " + join(mismatched));
    return problems;
}

StateDict own_state(torch::nn::Module& module) {
    StateDict own;
    for (const auto& item : module.named_parameters(true)) {
        own.emplace(item.key(), item.value());
    }
    for (const auto& item : module.named_buffers(true)) {
        own.emplace(item.key(), item.value());
    }
    return own;
}

}  // namespace

Backbone::Backbone(std::string name, int64_t trunk_width,
                   std::vector<std::string> classifier_prefixes, bool returns_feature_map)
    : torch::nn::Module(std::move(name)),
      trunk_width_(trunk_width),
      classifier_prefixes_(std::move(classifier_prefixes)),
      returns_feature_map_(returns_feature_map) {}

void Backbone::adapt_state_dict(StateDict& /*state*/) const {}

const std::vector<std::string>& backbone_names() {
    static const std::vector<std::string> kNames = {
        "resnet18",           "resnet34",        "resnet50",
        "resnet101",          "mobilenet_v2",    "mobilenet_v3_small",
        "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1",
        "efficientnet_b2",    "densenet121",     "convnext_tiny",
        "convnext_small",     "regnet_y_400mf",  "regnet_y_800mf",
        "vit_b_16",           "vit_b_32",        "swin_t"};
    return kNames;
}

std::shared_ptr<Backbone> make_backbone(const std::string& name, int64_t image_size) {
    auto family = [&name](const char* prefix) { return name.rfind(prefix, 0) == 0; };
    const auto& names = backbone_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
        throw std::invalid_argument("unknown vision_backbone '" + name +
                                    "'; valid choices: " + join(names));
    }
    if (family("resnet"))
        return make_resnet(name);
    if (family("mobilenet"))
        return make_mobilenet(name);
    if (family("efficientnet"))
        return make_efficientnet(name);
    if (family("densenet"))
        return make_densenet(name);
    if (family("convnext"))
        return make_convnext(name);
    if (family("regnet"))
        return make_regnet(name);
    if (family("vit"))
        return make_vit(name, image_size);
    return make_swin(name);
}

StateDict read_state_dict(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw std::runtime_error("cannot open state dict '" + path + "'");
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                            std::istreambuf_iterator<char>());

    auto value = torch::pickle_load(bytes);
    if (!value.isGenericDict()) {
        throw std::runtime_error("'" + path +
                                 "' is not a plain dict of tensors; convert it with "
                                 "scripts/convert_torchvision_weights.py");
    }
    StateDict state;
    for (const auto& entry : value.toGenericDict()) {
        if (!entry.key().isString() || !entry.value().isTensor()) {
            throw std::runtime_error("'" + path + "' holds a non-tensor entry");
        }
        state.emplace(entry.key().toStringRef(), entry.value().toTensor());
    }
    return state;
}

void load_backbone_weights(Backbone& backbone, StateDict state) {
    backbone.adapt_state_dict(state);
    auto own = own_state(backbone);
    auto problems = check_state(own, state, backbone.classifier_prefixes());
    if (!problems.empty()) {
        throw std::runtime_error("state dict does not match backbone '" + backbone.name() +
                                 "': " + join(problems));
    }

    torch::NoGradGuard no_grad;
    for (auto& [key, tensor] : own) {
        tensor.copy_(state.at(key));
    }
}

void load_backbone_weights(Backbone& backbone, const std::string& path) {
    try {
        load_backbone_weights(backbone, read_state_dict(path));
    } catch (const c10::Error& error) {
        throw std::runtime_error("cannot read state dict '" + path +
                                 "': " + error.what_without_backtrace());
    } catch (const std::runtime_error& error) {
        throw std::runtime_error("pretrained_weights '" + path + "': " + error.what());
    }
}

}  // namespace medfusion::models
