"""Integration tests of /ws/training/{job_id} against ws_test_server (the real HTTP server and
stream, fed by scripted jobs), with the `websockets` client the API contract's example uses.

    /usr/bin/python3 ws_training_stream_test.py path/to/ws_test_server
"""
import asyncio
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import unittest
import urllib.request

import websockets
import websockets.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ws_client import follow, order_problems  # noqa: E402

SERVER = None  # the server executable, from the command line


class Server:
    """ws_test_server on 127.0.0.1 with an ephemeral port."""

    def __init__(self, *flags, token=None):
        self.token = token
        if token:
            flags = (*flags, "--token", token)
        self.process = subprocess.Popen([SERVER, *flags], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        self.port = int(line.strip().split("=")[1])

    def url(self, job_id):
        return f"ws://127.0.0.1:{self.port}/ws/training/{job_id}"

    def post(self, path, body=None):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                         data=json.dumps(body or {}).encode(), method="POST",
                                         headers=self.headers())
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def headers(self):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def stats(self):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/test/stats",
                                         headers=self.headers())
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def start_job(self, job_id, **script):
        return self.post("/api/test/jobs", {"job_id": job_id, **script})

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=30)
        self.process.stdout.close()
        return code


async def monitor_training(uri):
    """The contract's example, with the address as a parameter."""
    async with websockets.connect(uri) as websocket:
        async for message in websocket:
            data = json.loads(message)
            print(f"Epoch {data['epoch']}: Loss={data['metrics']['loss']:.4f}")


class TrainingStreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_contract_example_prints_every_message(self):
        self.server.start_job("contract", epochs=2, batches=4, batch_ms=5,
                              wait_for_subscribers=1)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            asyncio.run(monitor_training(self.server.url("contract")))

        lines = printed.getvalue().splitlines()
        self.assertEqual(lines[0], "Epoch 0: Loss=0.0000")
        # 2 epochs: their last batches (always sent), epoch_end and validation, then completed.
        self.assertGreaterEqual(len(lines), 1 + 2 * 3 + 1)
        self.assertTrue(lines[-1].startswith("Epoch 2: Loss="))

    def test_follows_a_job_in_order_to_completed(self):
        self.server.start_job("follow", epochs=3, batches=10, batch_ms=10,
                              wait_for_subscribers=1)
        messages, code, _ = asyncio.run(follow(self.server.url("follow")))

        types = [m["type"] for m in messages]
        self.assertEqual(order_problems(messages), [])
        self.assertEqual(types.count("epoch_end"), 3)
        self.assertEqual(types.count("validation"), 3)
        self.assertEqual(types[-1], "completed")
        self.assertEqual(code, 1000)
        last_batches = [m for m in messages if m["type"] == "progress" and m["batch"] == 10]
        self.assertEqual([m["epoch"] for m in last_batches], [1, 2, 3])

    def test_late_client_gets_the_snapshot_first(self):
        self.server.start_job("late", epochs=3, batches=10, batch_ms=20, wait_for_subscribers=1)

        async def scenario():
            first_epoch_done = asyncio.Event()

            def on_message(data):
                if data["type"] == "epoch_end":
                    first_epoch_done.set()

            early = asyncio.create_task(follow(self.server.url("late"), on_message=on_message))
            await first_epoch_done.wait()
            late = await follow(self.server.url("late"))
            return await early, late

        (early, _, _), (late, code, _) = asyncio.run(scenario())

        snapshot = late[0]
        self.assertEqual(snapshot["type"], "status")
        self.assertEqual(snapshot["status"], "running")
        self.assertGreaterEqual(snapshot["epoch"], 1)
        self.assertGreater(snapshot["metrics"]["loss"], 0.0)
        self.assertEqual(order_problems(late), [])
        self.assertEqual(late[-1]["seq"], early[-1]["seq"])
        # Everything the late client saw after its snapshot, the early one saw too.
        early_seqs = {m["seq"] for m in early}
        self.assertTrue(all(m["seq"] in early_seqs for m in late[1:]))
        self.assertEqual(code, 1000)

    def test_finished_job_gives_its_terminal_message_and_a_normal_close(self):
        self.server.start_job("done", epochs=1, batches=3, batch_ms=5, wait_for_subscribers=1)
        live, _, _ = asyncio.run(follow(self.server.url("done")))

        messages, code, _ = asyncio.run(follow(self.server.url("done")))

        self.assertEqual([m["type"] for m in messages], ["status", "completed"])
        self.assertEqual(messages[0]["status"], "completed")
        self.assertEqual(messages[1]["seq"], live[-1]["seq"])
        self.assertEqual(code, 1000)

    def test_stored_failed_job_gives_status_then_error(self):
        self.server.post("/api/test/stored", {"job_id": "old", "status": "failed", "epoch": 4,
                                              "total_epochs": 10, "metrics": {"val_loss": 0.3},
                                              "message": "CUDA error"})

        messages, code, _ = asyncio.run(follow(self.server.url("old")))

        self.assertEqual([m["type"] for m in messages], ["status", "error"])
        self.assertEqual(messages[0]["status"], "failed")
        self.assertEqual(messages[1]["message"], "CUDA error")
        self.assertEqual(messages[1]["epoch"], 4)
        self.assertAlmostEqual(messages[1]["metrics"]["loss"], 0.3)
        self.assertEqual(code, 1000)

    def test_unknown_job_gets_an_error_then_a_policy_close(self):
        async def scenario():
            received = []
            with self.assertRaises(websockets.exceptions.ConnectionClosedError) as closed:
                async with websockets.connect(self.server.url("nope")) as websocket:
                    async for message in websocket:
                        received.append(json.loads(message))
            return received, closed.exception

        received, closed = asyncio.run(scenario())

        self.assertEqual([m["type"] for m in received], ["error"])
        self.assertEqual(received[0]["metrics"]["loss"], 0.0)
        self.assertEqual(closed.code, 1008)

    def test_stop_mid_epoch_ends_with_stopped(self):
        self.server.start_job("stop", epochs=5, batches=50, batch_ms=10, wait_for_subscribers=1)

        def on_message(data):
            if data["type"] == "progress" and data["batch"] >= 3 and not stopping:
                stopping.append(self.server.post("/api/test/jobs/stop/stop"))

        stopping = []
        messages, code, _ = asyncio.run(follow(self.server.url("stop"), on_message=on_message))

        self.assertEqual(messages[-1]["type"], "stopped")
        self.assertEqual(messages[-1]["epoch"], 1)
        self.assertLess(messages[-1]["batch"], 50)
        self.assertEqual(order_problems(messages), [])
        self.assertEqual(code, 1000)


class TrainingStreamLimitsTest(unittest.TestCase):
    def test_subscribers_over_the_limit_get_a_1013_close(self):
        server = Server("--subscribers", "2")
        self.addCleanup(server.close)
        server.start_job("busy", epochs=100, batches=10, batch_ms=50)

        async def scenario():
            first = await websockets.connect(server.url("busy"))
            second = await websockets.connect(server.url("busy"))
            await first.recv()
            await second.recv()
            third = await websockets.connect(server.url("busy"))
            with self.assertRaises(websockets.exceptions.ConnectionClosedError) as closed:
                await third.recv()
            await first.close()
            await second.close()
            return closed.exception

        closed = asyncio.run(scenario())

        self.assertEqual(closed.code, 1013)
        self.assertIn("too many subscribers", closed.reason)
        self.assertEqual(server.stats()["rejected"], 1)

    def test_bearer_token_is_required_on_the_upgrade(self):
        server = Server(token="s3cret")
        self.addCleanup(server.close)
        server.post("/api/test/stored", {"job_id": "old", "status": "completed"})

        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
            asyncio.run(follow(server.url("old")))
        messages, code, _ = asyncio.run(follow(server.url("old"), token="s3cret"))

        self.assertEqual(refused.exception.status_code, 401)
        self.assertEqual([m["type"] for m in messages], ["status", "completed"])
        self.assertEqual(code, 1000)

    def test_stalled_client_is_closed_while_another_gets_everything(self):
        server = Server("--queue-messages", "8")
        self.addCleanup(server.close)
        # ~10 kB epoch messages: the kernel's socket buffers (up to 4 MiB) fill within the run.
        server.start_job("stall", epochs=500, batches=1, batch_ms=2, wait_for_subscribers=2,
                         extra_metrics=400)

        stalled = stalled_connection(server.port, "/ws/training/stall")
        self.addCleanup(stalled.close)
        messages, code, _ = asyncio.run(follow(server.url("stall")))

        types = [m["type"] for m in messages]
        self.assertEqual(types.count("epoch_end"), 500)
        self.assertEqual(types.count("validation"), 500)
        self.assertEqual(types[-1], "completed")
        self.assertEqual(code, 1000)
        self.assertEqual(server.stats()["overflowed"], 1)

    def test_shutdown_sends_a_final_status_then_going_away(self):
        server = Server()
        self.addCleanup(server.close)
        server.start_job("long", epochs=100, batches=10, batch_ms=20, wait_for_subscribers=1)

        def on_message(data):
            if data["type"] == "progress" and not asked:
                asked.append(server.post("/api/test/shutdown"))

        asked = []
        messages, code, reason = asyncio.run(follow(server.url("long"), on_message=on_message))

        self.assertEqual(messages[-1]["type"], "status")
        self.assertEqual(messages[-1]["message"], "server shutting down")
        self.assertEqual(code, 1001)
        self.assertEqual(server.process.wait(timeout=30), 0)


def stalled_connection(port, path):
    """A WebSocket upgrade with a tiny receive buffer, after which nothing is ever read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert b" 101 " in response, response
    return sock


if __name__ == "__main__":
    SERVER = sys.argv.pop(1)
    unittest.main(verbosity=2)
