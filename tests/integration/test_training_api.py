"""A user's path through the API on real data (PAD-UFES-20, CC BY 4.0, Pacheco et al. 2020):
train, follow live over WebSocket, list the model, evaluate it, read the report."""
import asyncio
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import numpy as np
import websockets
from sklearn import metrics as skm

from server_process import Server, shared_data

BINARY = sys.argv.pop(1) if len(sys.argv) > 1 else "medfusion"

JOB = {
    "job_name": "pad-it",
    "config": {
        "data": {"train_csv": "pad_ufes_20/train.csv", "val_csv": "pad_ufes_20/val.csv",
                 "image_size": 64, "augmentation": "none", "num_workers": 2},
        "model": {"vision_backbone": "resnet18", "fusion_type": "attention",
                  "feature_dim": 64, "fusion_dim": 64},
        "training": {"epochs": 2, "batch_size": 32},
    },
}


def follow(uri, out):
    """The contract's example client, collecting instead of printing."""
    async def monitor():
        async with websockets.connect(uri) as websocket:
            async for message in websocket:
                data = json.loads(message)
                print(f"Epoch {data['epoch']}: Loss={data['metrics']['loss']:.4f}")
                out.append(data)
    asyncio.run(monitor())


def wait_for(server, job_id, statuses, timeout=900):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, body = server.json("GET", f"/api/training/{job_id}/status")
        if body["status"] in statuses:
            return body
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} never reached {statuses}: {body}")


class TrainingApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        data = shared_data()
        cls.server = Server(BINARY, env={"MEDFUSION_DATA_ROOTS": data,
                                         "MEDFUSION_DATA_BASE_DIR": data}).start()
        status, body = cls.server.json("POST", "/api/training/start", JOB)
        assert status == 200, body
        cls.start_body = body
        cls.job_id = body["job_id"]
        cls.messages = []
        uri = f"ws://127.0.0.1:{cls.server.port}/ws/training/{cls.job_id}"
        cls.follower = threading.Thread(target=follow, args=(uri, cls.messages))
        cls.follower.start()
        cls.final = wait_for(cls.server, cls.job_id, {"completed", "failed"})
        cls.follower.join(timeout=60)

    @classmethod
    def tearDownClass(cls):
        assert cls.server.terminate() == 0

    def test_start_answers_the_contract_shape(self):
        self.assertEqual(self.start_body["status"], "started")
        self.assertEqual(self.start_body["message"], "Training job started successfully")

    def test_job_completes_with_sane_metrics(self):
        final = self.final
        self.assertEqual(final["status"], "completed", final.get("error"))
        self.assertEqual((final["epoch"], final["total_epochs"]), (2, 2))
        m = final["metrics"]
        for key in ("train_loss", "val_loss"):
            self.assertTrue(0 < m[key] < 5, m)
        self.assertTrue(0 <= m["val_accuracy"] <= 1)
        # Six classes: a model that learnt anything beats the 1/6 of guessing on accuracy.
        self.assertGreater(m["val_accuracy"], 1 / 6)

    def test_history_and_files_on_disk(self):
        status, body = self.server.json("GET", f"/api/training/{self.job_id}/history")
        self.assertEqual([e["epoch"] for e in body["history"]], [1, 2])
        folder = self.final["output_dir"]
        for name in ("checkpoints/best.pth", "checkpoints/last.pth", "metrics.jsonl", "train.log"):
            self.assertTrue(os.path.isfile(os.path.join(folder, name)), name)
        with open(os.path.join(folder, "metrics.jsonl")) as f:
            self.assertEqual(len([line for line in f if line.strip()]), 2)
        status, logs = self.server.json("GET", f"/api/training/{self.job_id}/logs?tail=5")
        self.assertEqual(status, 200)
        self.assertLessEqual(len(logs["lines"]), 5)

    def test_websocket_stream_in_order(self):
        types = [m["type"] for m in self.messages]
        self.assertIn("progress", types)
        self.assertEqual(types[-1], "completed")
        first_epoch_end = types.index("epoch_end")
        self.assertLess(types.index("progress"), first_epoch_end)
        self.assertLess(first_epoch_end, types.index("validation"))
        seqs = [m["seq"] for m in self.messages]
        self.assertEqual(seqs, sorted(seqs))
        for m in self.messages:
            self.assertEqual(m["job_id"], self.job_id)

    def test_late_client_gets_snapshot_then_terminal_and_normal_close(self):
        late = []
        follow(f"ws://127.0.0.1:{self.server.port}/ws/training/{self.job_id}", late)
        self.assertGreaterEqual(len(late), 2)
        self.assertEqual(late[-1]["type"], "completed")

    def test_model_registered_evaluated_equal_to_sklearn(self):
        status, body = self.server.json("GET", "/api/models")
        models = [m for m in body["models"] if m["job_id"] == self.job_id]
        self.assertEqual(len(models), 1)
        model = models[0]
        self.assertRegex(model["model_id"], r"^resnet18_attention_\d{3}$")
        self.assertIn("val_accuracy", model["metrics"])

        status, result = self.server.json("POST", f"/api/models/{model['model_id']}/evaluate",
                                          {"test_csv": "pad_ufes_20/test.csv", "split": "test"})
        self.assertEqual(status, 200, result)
        predictions = os.path.join(os.path.dirname(result["report_path"]), "predictions.csv")
        with open(predictions) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 121)
        classes = model["class_names"]
        y = np.array([classes.index(r["true_label"]) for r in rows])
        proba = np.array([[float(r[f"prob_{c}"]) for c in classes] for r in rows])
        pred = proba.argmax(axis=1)
        m = result["metrics"]
        self.assertAlmostEqual(m["accuracy"], skm.accuracy_score(y, pred), places=9)
        self.assertAlmostEqual(m["f1_score"], skm.f1_score(y, pred, average="macro",
                                                           labels=range(len(classes))), places=9)
        present = sorted(set(y))
        sub = proba[:, present] / proba[:, present].sum(axis=1, keepdims=True)
        if len(present) == len(classes):
            ref_auc = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro")
            self.assertAlmostEqual(m["auc"], ref_auc, places=9)

        status, headers, html = self.server.request("GET", f"/api/models/{model['model_id']}/report")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn(b"<svg", html)
        self.check_renders_in_chromium(result["report_path"])

    def check_renders_in_chromium(self, path):
        profile = tempfile.mkdtemp(prefix="mf_chromium_")
        out = subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", f"file://{path}"],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr[-2000:])
        self.assertIn("<svg", out.stdout)
        self.assertIn("</html>", out.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
