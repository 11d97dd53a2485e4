#!/usr/bin/python3
"""Converts a torchvision checkpoint into the plain-dict state dict MedFusion loads.

torchvision checkpoints (`.pth`) are OrderedDicts, which LibTorch's pickle loader cannot read;
a plain `dict` of tensors saved with torch.save can. This script also unwraps checkpoints that
nest the weights under "state_dict" or "model", strips a DataParallel "module." prefix, renames
the legacy DenseNet keys ("norm.1" -> "norm1") as torchvision does, adds BatchNorm step counters
that older checkpoints lack (as PyTorch does on load), and, with --arch, checks the
keys and shapes against a freshly built torchvision model before writing.

Usage:
    /usr/bin/python3 scripts/convert_torchvision_weights.py resnet50-0676ba61.pth resnet50.pt \
        --arch resnet50
"""
import argparse
import re
import sys

import torch

DENSENET_LEGACY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$")


def unwrap(checkpoint):
    for key in ("state_dict", "model"):
        if isinstance(checkpoint, dict) and key in checkpoint and isinstance(checkpoint[key], dict):
            return checkpoint[key]
    return checkpoint


def normalise_keys(state):
    out = {}
    for key, value in state.items():
        if key.startswith("module."):
            key = key[len("module."):]
        match = DENSENET_LEGACY.match(key)
        if match:
            key = match.group(1) + match.group(2)
        out[key] = value.detach().contiguous()

    # Older checkpoints predate BatchNorm's step counter; PyTorch fills it in on load, so do we.
    for key in [k for k in out if k.endswith(".running_var")]:
        counter = key[: -len("running_var")] + "num_batches_tracked"
        out.setdefault(counter, torch.tensor(0, dtype=torch.long))
    return out


def check_against(arch, state):
    """Lists keys the torchvision model has and the file lacks, and the reverse."""
    import torchvision

    reference = getattr(torchvision.models, arch)(weights=None).state_dict()
    missing = sorted(set(reference) - set(state))
    unexpected = sorted(set(state) - set(reference))
    mismatched = sorted(k for k in set(reference) & set(state)
                        if reference[k].shape != state[k].shape)
    problems = []
    if missing:
        problems.append("missing: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected: " + ", ".join(unexpected))
    if mismatched:
        problems.append("shape mismatch: " + ", ".join(mismatched))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="torchvision checkpoint (.pth)")
    parser.add_argument("output", help="plain-dict state dict to write")
    parser.add_argument("--arch", help="torchvision model name to check keys against, e.g. resnet50")
    args = parser.parse_args()

    checkpoint = torch.load(args.input, map_location="cpu")
    state = unwrap(checkpoint)
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        sys.exit(f"{args.input}: not a state dict of tensors")
    state = normalise_keys(state)

    if args.arch:
        problems = check_against(args.arch, state)
        if problems:
            sys.exit(f"{args.input} does not match torchvision {args.arch}:\n  " + "\n  ".join(problems))

    torch.save(dict(state), args.output)
    print(f"wrote {args.output}: {len(state)} tensors, "
          f"{sum(v.numel() for v in state.values()):,} values")


if __name__ == "__main__":
    main()
