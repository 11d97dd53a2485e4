"""Starts the real `medfusion serve` on 127.0.0.1 with a free port and talks to it."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


def shared_data():
    default = os.path.join(os.environ.get("MEDFUSION_SOURCE_DIR", "."), "..", "shared", "data")
    return os.path.abspath(os.environ.get("MEDFUSION_SHARED_DATA", default))


class Server:
    """One server process with its own data and output folders."""

    def __init__(self, binary, env=None, workdir=None, args=()):
        self.workdir = workdir or tempfile.mkdtemp(prefix="medfusion_it_")
        self.binary = binary
        self.env = dict(os.environ)
        self.env.update({
            "MEDFUSION_DATA_DIR": os.path.join(self.workdir, "state"),
            "MEDFUSION_OUTPUT_DIR": os.path.join(self.workdir, "outputs"),
            "MEDFUSION_ACCESS_LOG": "false",
        })
        self.env.update(env or {})
        self.args = list(args)
        self.proc = None
        self.port = None

    def start(self):
        self.log_path = os.path.join(self.workdir, f"server-{time.time_ns()}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary, "serve", "--port", "0", *self.args],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env,
                                     cwd=self.workdir)
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(self.log_path) as f:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + open(self.log_path).read())
            time.sleep(0.05)
        raise RuntimeError("server did not start: " + open(self.log_path).read())

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method, path, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url(path), data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=120) as res:
                return res.status, dict(res.headers), res.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method, path, body=None, headers=None, raw=None):
        status, headers, data = self.request(method, path, body, headers, raw)
        return status, (json.loads(data) if data else None)

    def terminate(self, sig=signal.SIGTERM, timeout=60):
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self.log.close()
        return code

    def output(self):
        with open(self.log_path) as f:
            return f.read()
