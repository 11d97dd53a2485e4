"""Training throughput of the same model and input pipeline in PyTorch, for scripts/bench/train.sh.

resnet18 trunk + projection, MLP tabular encoder, attention fusion over [CLS, v, t] and the
classifier, laid out as MedFusion's models component builds them, trained with AdamW on
PAD-UFES-20 images (decoded, resized to the bench size, ImageNet-normalised) in a DataLoader.
Prints one line per worker count and the best as `python_samples_per_second`.
"""
import argparse
import csv
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.io import ImageReadMode, read_image

MISSING = {"", "NA", "N/A", "NaN", "nan", "null", "None", "UNK"}
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def encode_tabular(rows, columns):
    """Standardised numerics with a missing flag; one-hot booleans/categoricals plus a missing slot."""
    encoders = []
    for name in columns:
        values = [r[name] for r in rows if r[name] not in MISSING]
        if values and all(is_number(v) for v in values):
            numbers = [float(v) for v in values]
            mean = sum(numbers) / len(numbers)
            std = math.sqrt(sum((x - mean) ** 2 for x in numbers) / len(numbers)) or 1.0
            encoders.append((name, "numeric", mean, std))
        else:
            encoders.append((name, "onehot", sorted(set(values)), None))
    features = []
    for r in rows:
        row = []
        for name, kind, a, b in encoders:
            value = r[name]
            if kind == "numeric":
                missing = value in MISSING
                row += [0.0 if missing else (float(value) - a) / b, 1.0 if missing else 0.0]
            else:
                row += [1.0 if value == c else 0.0 for c in a] + [1.0 if value not in a else 0.0]
        features.append(row)
    return torch.tensor(features, dtype=torch.float32)


class PadUfes(torch.utils.data.Dataset):
    def __init__(self, folder, image_size):
        with open(os.path.join(folder, "train.csv"), newline="") as f:
            rows = list(csv.DictReader(f))
        self.paths = [os.path.join(folder, r["image_path"]) for r in rows]
        classes = sorted({r["label"] for r in rows})
        self.labels = torch.tensor([classes.index(r["label"]) for r in rows])
        columns = [c for c in rows[0] if c not in ("image_path", "label")]
        self.tabular = encode_tabular(rows, columns)
        self.num_classes = len(classes)
        self.image_size = image_size

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        image = read_image(self.paths[i], ImageReadMode.RGB).float().div_(255.0)
        image = F.interpolate(image.unsqueeze(0), size=(self.image_size, self.image_size),
                              mode="bilinear", align_corners=False).squeeze(0)
        return (image - MEAN) / STD, self.tabular[i], self.labels[i]


class AttentionFusion(nn.Module):
    def __init__(self, vision_dim, tabular_dim, dim, heads, dropout):
        super().__init__()
        self.vision = nn.Linear(vision_dim, dim)
        self.tabular = nn.Linear(tabular_dim, dim)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, v, t):
        tokens = torch.cat([self.cls_token.expand(v.size(0), -1, -1),
                            self.vision(v).unsqueeze(1), self.tabular(t).unsqueeze(1)], 1)
        attended, _ = self.attention(tokens, tokens, tokens)
        return self.norm(tokens + self.dropout(attended))[:, 0]


class Multimodal(nn.Module):
    """MedFusion's defaults: feature_dim 128, tabular_hidden [128, 64], fusion_dim 128, 4 heads,
    classifier_hidden [64], dropout 0.2."""

    def __init__(self, num_features, num_classes):
        super().__init__()
        trunk = torchvision.models.resnet18()
        trunk.fc = nn.Identity()
        self.backbone = trunk
        self.projection = nn.Sequential(nn.Linear(512, 128), nn.ReLU(), nn.BatchNorm1d(128),
                                        nn.Dropout(0.2))
        layers, width = [], num_features
        for hidden in (128, 64):
            layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.2)]
            width = hidden
        self.tabular = nn.Sequential(*layers)
        self.fusion = AttentionFusion(128, 64, 128, 4, 0.2)
        self.classifier = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2),
                                        nn.Linear(64, num_classes))

    def forward(self, images, tabular):
        v = self.projection(self.backbone(images))
        return self.classifier(self.fusion(v, self.tabular(tabular)))


def measure(dataset, model, workers, batch_size, warmup, measured):
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                         num_workers=workers, persistent_workers=False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    model.train()
    start = None
    for index, (images, tabular, labels) in enumerate(loader, 1):
        loss = F.cross_entropy(model(images, tabular), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if index == warmup:
            start = time.perf_counter()
        elif index == warmup + measured:
            return measured * batch_size / (time.perf_counter() - start)
    raise SystemExit("the epoch is shorter than the benchmark window")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--measured", type=int, default=12)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--workers", default="0,1,2")
    args = parser.parse_args()

    torch.manual_seed(42)
    torch.set_num_threads(args.threads)
    dataset = PadUfes(args.data, args.image_size)
    model = Multimodal(dataset.tabular.shape[1], dataset.num_classes)
    print(f"python parameters {sum(p.numel() for p in model.parameters())} "
          f"features {dataset.tabular.shape[1]} torch {torch.__version__} threads {args.threads}")
    best = 0.0
    for workers in [int(w) for w in args.workers.split(",")]:
        rate = measure(dataset, model, workers, args.batch_size, args.warmup, args.measured)
        print(f"python workers {workers}: {rate:.2f} samples/s", flush=True)
        best = max(best, rate)
    print(f"python_samples_per_second {best:.2f}")


if __name__ == "__main__":
    main()
