"""Runs secrun_fake_cloud from a Python oracle test (like FakeCloudProcess in C++).

    with FakeCloud(binary, scenario_dict) as cloud:
        cloud.https_url, cloud.http_url, cloud.ca_file, cloud.stats()
"""
import json
import os
import signal
import subprocess
import tempfile
import time


class FakeCloud:
    def __init__(self, binary, scenario, certs_dir=None):
        self.binary = binary
        self.scenario = scenario
        self.work = tempfile.TemporaryDirectory(prefix="secrun-oracle-")
        self.certs_dir = certs_dir or os.path.join(self.work.name, "certs")
        self.process = None

    def __enter__(self):
        work = self.work.name
        scenario = os.path.join(work, "scenario.json")
        with open(scenario, "w") as f:
            json.dump(self.scenario, f)
        self.ready_file = os.path.join(work, "ready.json")
        self.stats_file = os.path.join(work, "stats.json")
        self.log_file = os.path.join(work, "server.log")
        with open(self.log_file, "w") as log:
            self.process = subprocess.Popen(
                [self.binary, "--certs", self.certs_dir, "--scenario", scenario,
                 "--stats", self.stats_file, "--ready", self.ready_file, "--log-requests"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while True:
            if os.path.exists(self.ready_file):
                try:
                    with open(self.ready_file) as f:
                        ready = json.load(f)
                    break
                except ValueError:
                    pass
            if self.process.poll() is not None:
                raise RuntimeError("secrun_fake_cloud exited with status %d:\n%s"
                                   % (self.process.returncode, self.log()))
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("secrun_fake_cloud was not ready after 15 s:\n" + self.log())
            time.sleep(0.01)
        self.https_port = ready["https_port"]
        self.http_port = ready["http_port"]
        self.https_url = "https://127.0.0.1:%d" % self.https_port
        self.http_url = "http://127.0.0.1:%d" % self.http_port
        self.ca_file = os.path.join(self.certs_dir, "ca.pem")
        return self

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.work.cleanup()
        return False

    def log(self):
        try:
            with open(self.log_file) as f:
                return f.read()
        except OSError:
            return ""

    def stats(self):
        with open(self.stats_file) as f:
            return json.load(f)

    def counter(self, name):
        return self.stats().get("vendor", {}).get(name, 0)


class Checks:
    """Collects named pass/fail results; a failure never stops the others."""

    def __init__(self):
        self.failed = []
        self.passed = 0

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print("ok - " + name)
        else:
            self.failed.append(name)
            print("FAIL - %s%s" % (name, (": " + detail) if detail else ""))

    def equal(self, name, got, want):
        self.check(name, got == want, "got %r, want %r" % (got, want))

    def finish(self):
        print("%d passed, %d failed" % (self.passed, len(self.failed)))
        return 1 if self.failed else 0
