"""Stop, kill and resume a real job on PAD-UFES-20 (CC BY 4.0, Pacheco et al. 2020)."""
import asyncio
import json
import signal
import sys
import threading
import time
import unittest

import websockets

from server_process import Server, shared_data

BINARY = sys.argv.pop(1) if len(sys.argv) > 1 else "medfusion"


def job(epochs, name):
    return {
        "job_name": name,
        "config": {
            "data": {"train_csv": "pad_ufes_20/train.csv", "val_csv": "pad_ufes_20/val.csv",
                     "image_size": 64, "augmentation": "none", "num_workers": 2},
            "model": {"vision_backbone": "mobilenet_v3_small", "fusion_type": "concatenate",
                      "feature_dim": 32, "fusion_dim": 32},
            "training": {"epochs": epochs, "batch_size": 16},
        },
    }


def status_of(server, job_id):
    return server.json("GET", f"/api/training/{job_id}/status")[1]


def wait_until(predicate, timeout=600, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out")


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        data = shared_data()
        self.env = {"MEDFUSION_DATA_ROOTS": data, "MEDFUSION_DATA_BASE_DIR": data}
        self.server = Server(BINARY, env=self.env).start()

    def tearDown(self):
        if self.server.proc.poll() is None:
            self.server.terminate()

    def test_stop_mid_epoch_ends_within_seconds_with_stopped_event(self):
        status, body = self.server.json("POST", "/api/training/start", job(20, "stop-me"))
        job_id = body["job_id"]
        messages = []

        async def follow():
            uri = f"ws://127.0.0.1:{self.server.port}/ws/training/{job_id}"
            async with websockets.connect(uri) as ws:
                async for message in ws:
                    messages.append(json.loads(message))
        follower = threading.Thread(target=lambda: asyncio.run(follow()))
        follower.start()

        wait_until(lambda: status_of(self.server, job_id).get("batch", 0) >= 2)
        asked = time.time()
        status, body = self.server.json("POST", f"/api/training/{job_id}/stop")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "stopped")
        self.assertLess(time.time() - asked, 15)
        follower.join(timeout=30)
        self.assertEqual(messages[-1]["type"], "stopped")

        status, body = self.server.json("POST", f"/api/training/{job_id}/stop")
        self.assertEqual((status, body["code"]), (409, "CONFLICT"))

    def test_kill_restart_resume_gives_continuous_history(self):
        status, body = self.server.json("POST", "/api/training/start", job(3, "resume-me"))
        job_id = body["job_id"]
        wait_until(lambda: status_of(self.server, job_id)["epoch"] >= 1 and
                   len(self.server.json("GET", f"/api/training/{job_id}/history")[1]["history"]) >= 1)
        self.server.terminate(signal.SIGKILL)

        self.server = Server(BINARY, env=self.env, workdir=self.server.workdir).start()
        self.assertEqual(status_of(self.server, job_id)["status"], "interrupted")
        status, body = self.server.json("POST", f"/api/training/{job_id}/resume")
        self.assertEqual(status, 200, body)
        final = wait_until(lambda: (lambda s: s if s["status"] in ("completed", "failed") else None)(
            status_of(self.server, job_id)))
        self.assertEqual(final["status"], "completed", final.get("error"))
        history = self.server.json("GET", f"/api/training/{job_id}/history")[1]["history"]
        self.assertEqual([e["epoch"] for e in history], [1, 2, 3])


if __name__ == "__main__":
    unittest.main(verbosity=2)
