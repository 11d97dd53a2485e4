#!/usr/bin/python3
"""Times forward+backward of torchvision backbone trunks (train mode), for models.sh.

Usage: models_bench.py THREADS BATCH IMAGE_SIZE ITERATIONS NAME... ; prints "NAME SECONDS".
The trunk is the same cut as the C++ backbones (tests/models/make_parity_fixtures.py).
"""
import os
import statistics
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "models"))
from make_parity_fixtures import trunk  # noqa: E402


def step_seconds(name, model, images):
    start = time.perf_counter()
    model.zero_grad()
    trunk(name, model, images).mean().backward()
    return time.perf_counter() - start


def main():
    threads, batch, size, iterations = (int(v) for v in sys.argv[1:5])
    torch.set_num_threads(threads)
    for name in sys.argv[5:]:
        torch.manual_seed(0)
        kwargs = {"image_size": size} if name.startswith("vit") else {}
        model = getattr(torchvision.models, name)(weights=None, **kwargs)
        model.train()
        images = torch.randn(batch, 3, size, size)
        step_seconds(name, model, images)
        times = [step_seconds(name, model, images) for _ in range(iterations)]
        print(f"{name} {statistics.median(times)}", flush=True)


if __name__ == "__main__":
    main()
