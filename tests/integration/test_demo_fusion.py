"""The built-in demo dataset: deterministic, and built so that fusion beats either modality.
Trains the fused model and both unimodal baselines briefly with `medfusion train` and compares
their best validation AUC."""
import filecmp
import glob
import json
import os
import subprocess
import sys
import tempfile
import unittest

BINARY = sys.argv.pop(1) if len(sys.argv) > 1 else "medfusion"


def run(*args):
    out = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=1200)
    if out.returncode != 0:
        raise AssertionError(f"{args} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out.stdout


def best_val_auc(output_dir):
    files = glob.glob(os.path.join(output_dir, "**", "metrics.jsonl"), recursive=True)
    assert len(files) == 1, files
    with open(files[0]) as f:
        epochs = [json.loads(line) for line in f if line.strip()]
    values = []
    for e in epochs:
        metrics = e.get("metrics", e)
        values.append(metrics["val_auc"])
    return max(values)


class DemoDataTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="mf_demo_")
        cls.data = os.path.join(cls.root, "data")
        run("demo-data", "--out", cls.data, "--cases", "400", "--seed", "3", "--image-size", "32")

    def test_same_seed_gives_identical_files(self):
        again = os.path.join(self.root, "again")
        run("demo-data", "--out", again, "--cases", "400", "--seed", "3", "--image-size", "32")
        for name in ("train.csv", "val.csv", "test.csv", "images/case_0000.png", "images/case_0399.png"):
            self.assertTrue(filecmp.cmp(os.path.join(self.data, name), os.path.join(again, name),
                                        shallow=False), name)

    def test_splits_and_columns(self):
        with open(os.path.join(self.data, "train.csv")) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "image_path,age,biomarker,smoker,site,lesion_diameter,label")
        self.assertEqual(len(lines) - 1, 280)
        self.assertTrue(any(",," in line for line in lines[1:]), "some cells are empty")

    def test_fusion_beats_both_unimodal_baselines(self):
        auc = {}
        for fusion in ("concatenate", "image_only", "tabular_only"):
            config = {
                "data": {"train_csv": os.path.join(self.data, "train.csv"),
                         "val_csv": os.path.join(self.data, "val.csv"),
                         "image_size": 32, "augmentation": "none", "num_workers": 2},
                "model": {"vision_backbone": "resnet18", "fusion_type": fusion,
                          "feature_dim": 32, "fusion_dim": 32, "dropout": 0.1},
                "training": {"epochs": 8, "batch_size": 32, "learning_rate": 0.002,
                             "seed": 1, "scheduler": "cosine"},
            }
            path = os.path.join(self.root, f"{fusion}.json")
            with open(path, "w") as f:
                json.dump(config, f)
            out = os.path.join(self.root, f"out_{fusion}")
            run("train", "--config", path, "--output-dir", out)
            auc[fusion] = best_val_auc(out)
        print("best val AUC:", auc)
        self.assertGreater(auc["concatenate"], auc["image_only"])
        self.assertGreater(auc["concatenate"], auc["tabular_only"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
