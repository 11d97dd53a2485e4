"""System API and HTTP behaviour of the real server binary."""
import os
import signal
import socket
import sys
import unittest

from server_process import Server

BINARY = sys.argv.pop(1) if len(sys.argv) > 1 else "medfusion"


class SystemApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(BINARY).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()

    def test_health(self):
        status, body = self.server.json("GET", "/api/system/health")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "healthy")
        self.assertRegex(body["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_info_disk_equals_statvfs(self):
        status, body = self.server.json("GET", "/api/system/info")
        self.assertEqual(status, 200)
        st = os.statvfs(os.path.join(self.server.workdir, "outputs"))
        self.assertEqual(body["disk"]["total_bytes"], st.f_blocks * st.f_frsize)
        self.assertAlmostEqual(body["disk"]["free_bytes"], st.f_bavail * st.f_frsize,
                               delta=64 << 20)
        for key in ("total", "used", "free"):
            self.assertRegex(body["disk"][key], r"^\d+(\.\d)?(B|KB|MB|GB|TB|PB)$")
        self.assertIn("available", body["gpu"])
        self.assertEqual(body["gpu"]["count"], len(body["gpu"]["devices"]))
        self.assertIsNone(body["python_version"])
        import torch  # the reference: Debian's python3-torch is built from the same release
        self.assertEqual(body["pytorch_version"].split(".")[:2], torch.__version__.split(".")[:2])
        self.assertEqual(body["cpu"]["cores"], len(os.sched_getaffinity(0)))
        self.assertEqual(body["jobs"], {"running": 0, "queued": 0})

    def test_ready(self):
        status, body = self.server.json("GET", "/api/system/ready")
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "ready")

    def test_not_found_and_method_not_allowed(self):
        status, body = self.server.json("GET", "/api/nothing/here")
        self.assertEqual((status, body["code"]), (404, "NOT_FOUND"))
        status, headers, data = self.server.request("DELETE", "/api/system/health")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD, OPTIONS")

    def test_invalid_json(self):
        status, body = self.server.json("POST", "/api/training/start", raw=b'{"config": ')
        self.assertEqual((status, body["code"]), (400, "INVALID_JSON"))
        self.assertEqual(set(body), {"error", "code", "details"})

    def test_oversized_body(self):
        status, body = self.server.json("POST", "/api/training/start", raw=b" " * (2 << 20))
        self.assertEqual((status, body["code"]), (413, "PAYLOAD_TOO_LARGE"))

    def test_unknown_job_is_404(self):
        status, body = self.server.json("GET", "/api/training/no-such-job/status")
        self.assertEqual((status, body["code"]), (404, "NOT_FOUND"))

    def test_start_reports_every_config_problem(self):
        status, body = self.server.json("POST", "/api/training/start", {
            "config": {"data": {}, "model": {"vision_backbone": "resnet9000"},
                       "training": {"epochs": -1}}})
        self.assertEqual((status, body["code"]), (400, "VALIDATION_ERROR"))
        paths = {d["path"] for d in body["details"]}
        self.assertTrue({"config.data.train_csv", "config.data.val_csv",
                         "config.model.vision_backbone", "config.training.epochs"} <= paths)

    def test_path_outside_roots(self):
        status, body = self.server.json("POST", "/api/training/start", {
            "config": {"data": {"train_csv": "/etc/passwd", "val_csv": "../x.csv"}}})
        self.assertEqual((status, body["code"]), (400, "PATH_NOT_ALLOWED"))


class AuthTest(unittest.TestCase):
    def test_token_required_when_set(self):
        server = Server(BINARY, env={"MEDFUSION_AUTH_TOKEN": "t0ken"}).start()
        try:
            self.assertEqual(server.json("GET", "/api/system/health")[0], 200)
            status, headers, _ = server.request("GET", "/api/system/info")
            self.assertEqual(status, 401)
            self.assertTrue(headers["WWW-Authenticate"].startswith("Bearer"))
            ok = server.json("GET", "/api/system/info", headers={"Authorization": "Bearer t0ken"})
            self.assertEqual(ok[0], 200)
            bad = server.json("GET", "/api/models", headers={"Authorization": "Bearer nope"})
            self.assertEqual((bad[0], bad[1]["code"]), (401, "UNAUTHORIZED"))
        finally:
            self.assertEqual(server.terminate(), 0)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_exits_zero_with_idle_connection(self):
        server = Server(BINARY).start()
        idle = socket.create_connection(("127.0.0.1", server.port))
        self.assertEqual(server.terminate(signal.SIGTERM, timeout=30), 0)
        idle.close()

    def test_bad_config_value_stops_startup_naming_the_key(self):
        server = Server(BINARY, env={"MEDFUSION_LIMITS_MAX_BODY_BYTES": "lots"})
        with self.assertRaises(RuntimeError) as ctx:
            server.start()
        self.assertIn("limits.max_body_bytes", str(ctx.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
