#!/usr/bin/python3
"""Writes torchvision reference fixtures for the backbone parity tests.

For each backbone: <name>.state.pt, torchvision's state dict as a plain dict (what LibTorch's
pickle loader reads), and <name>.io.pt, a fixed input with the trunk output torchvision computes
for it in eval mode. BatchNorm statistics and ConvNeXt layer scales are set to seeded random
values first, so that the comparison exercises them rather than their identity defaults.

Usage: make_parity_fixtures.py OUTPUT_DIR [NAME ...]
"""
import os
import sys

import torch
import torch.nn.functional as F
import torchvision
from torchvision.models.convnext import CNBlock
from torchvision.models.vision_transformer import interpolate_embeddings

CNN_SIZE = 64
TRANSFORMER_SIZE = 224
VIT_RESIZED = 64

NAMES = [
    "resnet18", "resnet34", "resnet50", "resnet101", "mobilenet_v2", "mobilenet_v3_small",
    "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "densenet121",
    "convnext_tiny", "convnext_small", "regnet_y_400mf", "regnet_y_800mf", "vit_b_16", "vit_b_32",
    "swin_t",
]


def trunk(name, model, x):
    """The features before torchvision's classifier, as the C++ backbones define them."""
    if name.startswith("resnet"):
        x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        return model.layer4(model.layer3(model.layer2(model.layer1(x))))
    if name.startswith("densenet"):
        return F.relu(model.features(x))
    if name.startswith("regnet"):
        return model.trunk_output(model.stem(x))
    if name.startswith("vit"):
        x = model._process_input(x)
        x = torch.cat([model.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return model.encoder(x)[:, 0]
    if name.startswith("swin"):
        return model.permute(model.norm(model.features(x)))
    return model.features(x)


def perturb(model, generator):
    """Seeded non-trivial BatchNorm statistics and affine terms, and ConvNeXt layer scales."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(n, generator=generator) * 0.5 + 0.75)
                module.weight.copy_(torch.rand(n, generator=generator) * 0.5 + 0.75)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.1)
            elif isinstance(module, CNBlock):
                shape = module.layer_scale.shape
                module.layer_scale.copy_(torch.rand(shape, generator=generator) * 0.2 + 0.1)


def make(name, out_dir):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    perturb(model, torch.Generator().manual_seed(1))
    model.eval()

    size = TRANSFORMER_SIZE if name.startswith(("vit", "swin")) else CNN_SIZE
    images = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(2))
    state = dict(model.state_dict())
    io = {"input": images}
    with torch.no_grad():
        io["output"] = trunk(name, model, images).contiguous()
        if name == "vit_b_16":
            io.update(resized_vit(name, state))
    torch.save(state, os.path.join(out_dir, name + ".state.pt"))
    torch.save(io, os.path.join(out_dir, name + ".io.pt"))
    print(f"{name}: input {tuple(images.shape)} output {tuple(io['output'].shape)} "
          f"max|y| {io['output'].abs().max().item():.3f}")


def resized_vit(name, state):
    """The same weights at VIT_RESIZED px, position embeddings interpolated by torchvision."""
    model = getattr(torchvision.models, name)(weights=None, image_size=VIT_RESIZED)
    resized = interpolate_embeddings(VIT_RESIZED, 16, dict(state))
    model.load_state_dict(resized)
    model.eval()
    images = torch.randn(2, 3, VIT_RESIZED, VIT_RESIZED, generator=torch.Generator().manual_seed(3))
    return {"input_resized": images, "output_resized": trunk(name, model, images).contiguous()}


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(2)
    for name in sys.argv[2:] or NAMES:
        make(name, out_dir)


if __name__ == "__main__":
    main()
