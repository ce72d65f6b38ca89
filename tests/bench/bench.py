#!/usr/bin/env python3
"""secrun benchmarks: start-up overhead, remote fetch against the network floor,
and footprint, side by side in one run. Python 3 standard library only.

    tests/bench/run.sh [--smoke]          (builds what it needs, then runs this)
    python3 tests/bench/bench.py --build-dir build/ci [--smoke] [--out DIR] ...

Method (README "Performance" says the same for readers):
* Every contender is a process started with posix_spawn and reaped with wait4;
  its wall time is perf_counter around both. Its peak RSS comes from extra runs
  under tests/helpers/peak_rss (wait4's ru_maxrss, which Linux keeps across
  execve: secrun's own peak counts even though it becomes /bin/true).
* Contenders run interleaved: round after round, each contender once per
  round in a shuffled order, after warm-up rounds that are thrown away. A noisy
  neighbour then slows every contender alike instead of one of them.
* Ratios are medians of per-round ratios (A's time / B's time in the same
  round); min / median / max of each contender are shown too.
* Part 2 runs secrun_fake_cloud with a fixed latency added to every request;
  each secrun run's requests, connections and TLS handshakes are the
  difference of the fake's counters before and after it. The floor of a run is
  H + (T + ceil(R / C)) x L: H one TCP connect + TLS handshake to the fake
  (measured here), T the token requests the run had to make before reading
  secrets, R its secret requests, C its connections, L the latency.
* Targets are printed as pass / short; they never change the exit status.
  The exit status is non-zero only when something did not work (a contender
  failed, or the values a contender delivered were not the expected ones).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

LATENCY_MS = 20
OVERHEAD_ENTRIES = 50
PEER_PACKAGES = {"dotenvx": "@dotenvx/dotenvx", "dotenv-cli": "dotenv-cli"}

# Targets of the issue (printed, never enforced).
TARGET_OVERHEAD_VS_ENV = 1.3
TARGET_DOTENVX_FACTOR = 100.0
TARGET_REMOTE_VS_FLOOR = 1.5
TARGET_SDK_FACTOR = 10.0
TARGET_RSS_MB = 10.0


class BenchError(Exception):
    """Something did not work: the bench stops with a non-zero status."""


# --------------------------------------------------------------------------
# Running and timing processes


@dataclass
class Sample:
    wall: float  # seconds
    status: int  # exit code, or -signal
    cpu: float = 0.0  # seconds of CPU (user + system) of the process and its reaped children
    # Seconds its main task waited on a run queue, runnable but not running
    # (/proc/PID/schedstat; None where unavailable). Covers a command that
    # execs another (secrun, env) from start to exit, not a child it forks.
    queued: Optional[float] = None
    fetch: Optional[float] = None  # SDK scripts: seconds spent in their fetch loop


def spawn(argv: list[str], env: dict[str, str], stdout: Path, stderr: Path) -> Sample:
    """Runs argv once (argv[0] searched in env's PATH) and measures it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(stdout), flags, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, str(stderr), flags, 0o600),
    ]
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions, setpgroup=0)
    try:
        # Exited, not yet reaped: its /proc/PID/schedstat is still there.
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        wall = time.perf_counter() - start
        queued = run_queue_wait(pid)
        _, wait_status, usage = os.wait4(pid, 0)
    except BaseException:
        # Interrupted (SIGINT, SIGTERM): the contender and whatever it
        # started (a shell loop's aws processes) go too, not left behind.
        os.killpg(pid, signal.SIGKILL)
        os.wait4(pid, 0)
        raise
    return Sample(wall, os.waitstatus_to_exitcode(wait_status),
                  cpu=usage.ru_utime + usage.ru_stime, queued=queued)


def schedstat(path: str) -> Optional[tuple[float, float]]:
    """(seconds on a CPU, seconds waiting on a run queue) of one task."""
    try:
        on_cpu, waiting = Path(path).read_text().split()[:2]
        return int(on_cpu) / 1e9, int(waiting) / 1e9
    except (OSError, ValueError):
        return None


def run_queue_wait(pid: int) -> Optional[float]:
    stat = schedstat(f"/proc/{pid}/schedstat")
    return stat[1] if stat else None


@dataclass
class Contender:
    """One command measured repeatedly. `check` validates the first run's
    output (stdout text) and returns an error message or None."""

    name: str
    argv: list[str]
    env: dict[str, str]
    workdir: Path
    group: str = ""  # which part/case it belongs to
    kind: str = ""  # "secrun", "floor", "baseline", "peer", "sdk", "shell"
    check: Optional[Callable[[str], Optional[str]]] = None
    before: Optional[Callable[[], None]] = None  # called before every run
    after: Optional[Callable[[Sample], None]] = None  # called after every run
    budget_s: float = 1e9  # stop adding runs once this much time was spent
    samples: list[Sample] = field(default_factory=list)
    max_runs: int = 0
    checked: bool = False
    rss_kb: int = 0  # from measure_rss, or from every run when rss_via is set
    # Slow contenders (seconds per run) run through the peak_rss helper every
    # time instead of in extra runs: its ~1 ms is lost in their time.
    rss_via: Optional[Path] = None

    def _paths(self) -> tuple[Path, Path]:
        slug = "".join(c if c.isalnum() else "_" for c in f"{self.group}_{self.name}")
        return self.workdir / f"{slug}.out", self.workdir / f"{slug}.err"

    def run_once(self) -> Sample:
        out, err = self._paths()
        if self.before:
            self.before()
        report = self.workdir / "peak_rss_inline.txt"
        argv = [str(self.rss_via), str(report)] + self.argv if self.rss_via else self.argv
        sample = spawn(argv, self.env, out, err)
        if self.rss_via and sample.status == 0:
            self.rss_kb = max(self.rss_kb, int(report.read_text().strip()))
        if sample.status != 0:
            text = err.read_text(errors="replace").strip()
            raise BenchError(f"{self.group}: {self.name} exited with {sample.status}: "
                             f"{text[-2000:] or '(no stderr)'}\n  command: {' '.join(self.argv)}")
        if not self.checked:
            self.checked = True
            if self.check:
                problem = self.check(out.read_text(errors="replace"))
                if problem:
                    raise BenchError(f"{self.group}: {self.name} did not deliver the expected "
                                     f"values: {problem}")
        if self.kind == "sdk":
            sample.fetch = json.loads(out.read_text().strip().splitlines()[-1])["fetch_s"]
        out.write_bytes(b"")  # fake values only, but no need to keep them
        if self.after:
            self.after(sample)
        return sample


def measure_rss(c: Contender, peak_rss: Path, runs: int) -> None:
    """Peak RSS of `runs` extra runs started through the peak_rss helper
    (see tests/helpers/peak_rss.cpp for why); seconds-long contenders once."""
    out, err = c._paths()
    if c.rss_via:
        return  # measured in every run
    report = c.workdir / "peak_rss.txt"
    if c.samples and median_wall(c) > 2.0:
        runs = 1
    for _ in range(runs):
        sample = spawn([str(peak_rss), str(report)] + c.argv, c.env, out, err)
        if sample.status != 0:
            raise BenchError(f"{c.group}: {c.name} under peak_rss exited with {sample.status}: "
                             f"{err.read_text(errors='replace').strip()[-2000:]}")
        out.write_bytes(b"")
        c.rss_kb = max(c.rss_kb, int(report.read_text().strip()))


def run_interleaved(contenders: list[Contender], warmup: int, runs: int,
                    rng: random.Random, slow_s: float = 2.0) -> None:
    """Warm-up rounds (discarded), then `runs` rounds in shuffled order.

    A contender whose first warm-up run took longer than `slow_s` keeps that
    run as a sample (seconds-long runs are past cache effects), skips further
    warm-up, and runs at most as often as its time budget allows (at least
    once)."""
    for c in contenders:
        c.samples.clear()
        c.max_runs = runs
    for round_no in range(warmup):
        for c in rng.sample(contenders, len(contenders)):
            if round_no > 0 and c.samples:
                continue  # a slow contender: its first run was kept
            sample = c.run_once()
            if round_no == 0 and sample.wall > slow_s:
                c.samples.append(sample)
                c.max_runs = max(1, min(runs, int(c.budget_s / sample.wall)))
    for _ in range(runs):
        for c in rng.sample(contenders, len(contenders)):
            if len(c.samples) < c.max_runs:
                c.samples.append(c.run_once())


def median_wall(c: Contender) -> float:
    return statistics.median(s.wall for s in c.samples)


def paired_ratio(a: Contender, b: Contender) -> float:
    """Median over the rounds both ran of a.wall / b.wall (falls back to the
    ratio of medians when they did not run equally often)."""
    if len(a.samples) == len(b.samples) and a.samples:
        return statistics.median(x.wall / y.wall for x, y in zip(a.samples, b.samples))
    return median_wall(a) / median_wall(b)


def median_queued(c: Contender) -> Optional[float]:
    waits = [s.queued for s in c.samples if s.queued is not None]
    return statistics.median(waits) if waits else None


def paired_uncontended_ratio(a: Contender, b: Contender) -> Optional[float]:
    """As paired_ratio, of wall time less the run-queue wait: what the ratio
    would be if no other process had wanted the CPUs (exact for commands
    that run in one task, as secrun and env do; others fork)."""
    pairs = [(x.wall - x.queued, y.wall - y.queued) for x, y in zip(a.samples, b.samples)
             if x.queued is not None and y.queued is not None]
    if len(a.samples) != len(b.samples) or not pairs:
        return None
    return statistics.median(x / y for x, y in pairs)


def median_cpu(c: Contender) -> float:
    return statistics.median(s.cpu for s in c.samples)


def paired_cpu_ratio(a: Contender, b: Contender) -> float:
    """As paired_ratio, of CPU time (user + system, from wait4): what the
    process cost the machine, much less disturbed by a busy run queue than
    its wall time (a process that waits for a CPU is not charged)."""
    if len(a.samples) == len(b.samples) and a.samples:
        return statistics.median(x.cpu / max(y.cpu, 1e-6) for x, y in zip(a.samples, b.samples))
    return median_cpu(a) / max(median_cpu(b), 1e-6)


def peak_rss_kb(c: Contender) -> int:
    return c.rss_kb


# --------------------------------------------------------------------------
# Formatting


def fmt_time(seconds: float) -> str:
    ms = seconds * 1000.0
    if ms < 10:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def fmt_mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def verdict(ok: bool) -> str:
    return "**pass**" if ok else "**short**"


def md_code(text: str) -> str:
    return f"`{text}`"


# --------------------------------------------------------------------------
# Machine description


def machine_info() -> dict:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": os.cpu_count() or 0,
        "kernel": platform.release(),
        "load": os.getloadavg(),
    }


# --------------------------------------------------------------------------
# Part 1: wrapper overhead on the env backend


def secret_value(tag: str, index: int) -> str:
    """A distinctive, deterministic fake value (no spaces: the shell peer's
    `export $(... | xargs)` splits on them)."""
    digest = hashlib.sha256(f"{tag}-{index}".encode()).hexdigest()[:24]
    return f"bench-{tag}-{index:03d}-{digest}"


def env_lines(text: str) -> dict[str, str]:
    """NAME=value lines of `env` output (other lines, such as a banner, ignored)."""
    out = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.isidentifier():
            out[name] = value
    return out


def expect_env(expected: dict[str, str]) -> Callable[[str], Optional[str]]:
    def check(text: str) -> Optional[str]:
        seen = env_lines(text)
        wrong = [k for k, v in expected.items() if seen.get(k) != v]
        if wrong:
            return f"{len(wrong)} of {len(expected)} variables missing or wrong (first: {wrong[0]})"
        return None
    return check


def base_env() -> dict[str, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env


def overhead_part(args, secrun: Path, out: Path, rng: random.Random, notes: list[str]) -> dict:
    work = out / "overhead"
    work.mkdir(parents=True, exist_ok=True)
    names = [f"APP_VAR_{i:02d}" for i in range(1, OVERHEAD_ENTRIES + 1)]
    values = {n: secret_value("env", i) for i, n in enumerate(names, 1)}
    dotenv = work / "env.local"
    dotenv.write_text("".join(f"{n}={v}\n" for n, v in values.items()))
    dotenv.chmod(0o600)  # as a user keeps it (secrun warns about a world-readable one)
    manifest = work / "bench.manifest"
    manifest.write_text("".join(f"{n}\n" for n in names))
    env = base_env()

    def command(argv_head: list[str], verify: bool) -> list[str]:
        return argv_head + (["/usr/bin/env"] if verify else ["/bin/true"])

    secrun_head = [str(secrun), "-m", str(manifest), "-e", str(dotenv), "--"]
    specs = [
        ("/bin/true", "baseline", lambda v: ["/usr/bin/env"] if v else ["/bin/true"], None),
        ("env A=1 /bin/true", "floor", lambda v: ["/usr/bin/env", "A=1", "/usr/bin/env" if v else "/bin/true"], None),
        ("secrun", "secrun", lambda v: command(secrun_head, v), values),
    ]
    # The seed document's way: export $(grep -v '^#' env.local | xargs)
    shell_line = f"export $(grep -v '^#' {dotenv} | xargs)\n"
    specs.append(("bash: export $(grep | xargs)", "peer",
                  lambda v: ["/bin/bash", "-c", shell_line + ("/usr/bin/env" if v else "/bin/true")],
                  values))
    if not args.smoke:
        peers = Path(args.peers_dir) / "node_modules" / ".bin"
        for tool, package in PEER_PACKAGES.items():
            exe = peers / ("dotenv" if tool == "dotenv-cli" else tool)
            if not exe.exists():
                notes.append(f"{tool} skipped: {exe} not found (run.sh installs {package} with npm; "
                             "npm missing or offline?)")
                continue
            head = [str(exe), "run", "-f", str(dotenv), "--"] if tool == "dotenvx" else \
                   [str(exe), "-e", str(dotenv), "--"]
            specs.append((f"{tool}{' run' if tool == 'dotenvx' else ''}", "peer",
                          (lambda h: lambda v: command(h, v))(head), values))

    contenders = []
    for name, kind, make, expected in specs:
        # Correctness first: the same wrapper with `env` as the command must
        # deliver every value.
        if expected is not None:
            probe = Contender(name, make(True), env, work, group="overhead-verify",
                              check=expect_env(expected))
            probe.run_once()
        contenders.append(Contender(name, make(False), env, work, group="overhead", kind=kind))

    run_interleaved(contenders, args.warmup, args.runs, rng)
    for c in contenders:
        measure_rss(c, args.peak_rss, args.rss_runs)
    by_kind = {c.name: c for c in contenders}
    floor = by_kind["env A=1 /bin/true"]
    rows = []
    for c in contenders:
        rows.append({
            "name": c.name, "kind": c.kind, "runs": len(c.samples),
            "min": min(s.wall for s in c.samples), "median": median_wall(c),
            "max": max(s.wall for s in c.samples),
            "vs_floor": paired_ratio(c, floor), "vs_secrun": paired_ratio(c, by_kind["secrun"]),
            "cpu": median_cpu(c), "cpu_vs_floor": paired_cpu_ratio(c, floor),
            "queued": median_queued(c), "uncontended_vs_floor": paired_uncontended_ratio(c, floor),
            "rss_kb": peak_rss_kb(c),
        })
    return {"rows": rows, "entries": OVERHEAD_ENTRIES,
            "hyperfine": None if args.smoke else hyperfine_check(args, contenders, work, notes)}


def hyperfine_check(args, contenders: list[Contender], work: Path, notes: list[str]):
    """The floor, the baseline and secrun once more with hyperfine (each
    command's runs in a block, not interleaved): an independent timer."""
    hyperfine = shutil.which("hyperfine")
    if not hyperfine:
        notes.append("hyperfine cross-check skipped: hyperfine not installed")
        return None
    chosen = [c for c in contenders if c.kind in ("baseline", "floor", "secrun")]
    report = work / "hyperfine.json"
    argv = [hyperfine, "-N", "--style", "none", "--warmup", "5", "--runs", str(max(20, args.runs)),
            "--export-json", str(report)] + [" ".join(c.argv) for c in chosen]
    done = subprocess.run(argv, env=chosen[0].env, capture_output=True, text=True)
    if done.returncode != 0:
        notes.append(f"hyperfine cross-check failed: {done.stderr.strip()[-300:]}")
        return None
    results = json.loads(report.read_text())["results"]
    return [{"name": c.name, "median": r["median"], "min": r["min"], "max": r["max"],
             "runs": len(r["times"])} for c, r in zip(chosen, results)]


# --------------------------------------------------------------------------
# The fake cloud


class FakeCloud:
    """secrun_fake_cloud with a scenario; counters read from its stats file."""

    def __init__(self, exe: Path, work: Path, scenario: dict):
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.certs = work / "certs"
        # The fake rewrites its counters file (write + rename) twice per
        # request. On a disk file system each rename of a replaced file
        # starts a write-back (ext4's auto_da_alloc): most of the fake's CPU
        # time and a wait that no real service has. In memory it is cheap.
        self.scratch = Path(tempfile.mkdtemp(prefix="secrun-bench-", dir="/dev/shm")) \
            if os.access("/dev/shm", os.W_OK) else None
        self.stats_path = (self.scratch or work) / "stats.json"
        ready = work / "ready.json"
        for stale in (ready, self.stats_path):
            stale.unlink(missing_ok=True)
        scenario_path = work / "scenario.json"
        scenario_path.write_text(json.dumps(scenario))
        self.log_path = work / "server.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(exe), "--certs", str(self.certs), "--scenario", str(scenario_path),
                 "--stats", str(self.stats_path), "--ready", str(ready)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while not ready.exists():
            if self.proc.poll() is not None:
                if self.scratch:
                    shutil.rmtree(self.scratch, ignore_errors=True)
                raise FakeCloudExit(self.proc.returncode, self.log())
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError("secrun_fake_cloud did not start within 30 s:\n" + self.log())
            time.sleep(0.01)
        ports = json.loads(ready.read_text())
        self.https_port = int(ports["https_port"])
        self.http_port = int(ports["http_port"])
        self.https_url = f"https://127.0.0.1:{self.https_port}"
        self.ca_file = self.certs / "ca.pem"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stats(self) -> dict:
        return json.loads(self.stats_path.read_text())

    def schedstat(self) -> Optional[tuple[float, float]]:
        """(CPU seconds, run-queue wait seconds) of all the fake's threads."""
        total = [0.0, 0.0]
        try:
            tasks = os.listdir(f"/proc/{self.proc.pid}/task")
        except OSError:
            return None
        for task in tasks:
            stat = schedstat(f"/proc/{self.proc.pid}/task/{task}/schedstat")
            if stat is None:
                return None
            total[0] += stat[0]
            total[1] += stat[1]
        return total[0], total[1]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


class FakeCloudExit(BenchError):
    def __init__(self, status: int, log: str):
        super().__init__(f"secrun_fake_cloud exited with {status}: {log.strip()}")
        self.status = status
        self.log = log


def measure_handshake(port: int, ca_file: Path, count: int) -> float:
    """Median wall time of one TCP connect + TLS handshake to the fake."""
    context = ssl.create_default_context(cafile=str(ca_file))
    times = []
    for _ in range(count):
        start = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port)) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1"):
                times.append(time.perf_counter() - start)
    return statistics.median(times)


# --------------------------------------------------------------------------
# Part 2: backends against the fake cloud
#
# A backend spec knows its part of the scenario, the environment and manifest
# that point secrun at the fake, which of the fake's requests are token
# requests, and the "what users write today" contenders.


class BackendSpec:
    name = ""
    vendor = ""  # the fake's vendor name

    def __init__(self, ns: list[int]):
        self.ns = ns
        self.values = {n: {self.secret_name(i): secret_value(self.name, i)
                           for i in range(1, n + 1)} for n in ns}

    def secret_name(self, i: int) -> str:
        return f"SECRET_{i:03d}"

    def scenario(self) -> dict:
        raise NotImplementedError

    def secrun_env(self, fake: FakeCloud, n: int) -> dict[str, str]:
        raise NotImplementedError

    def manifest(self, n: int) -> str:
        return "".join(f"{name}\n" for name in self.values[n])

    def token_requests(self, delta: dict) -> int:
        return 0

    def user_contenders(self, fake: FakeCloud, n: int, work: Path, env: dict[str, str],
                        notes: list[str], tools: "Tools") -> list[Contender]:
        return []


class DopplerSpec(BackendSpec):
    name = "doppler"
    vendor = "doppler"

    def config(self, n: int) -> str:
        return f"n{n}"

    def token(self, n: int) -> str:
        return f"dp.st.{self.config(n)}.bench"

    def scenario(self) -> dict:
        return {
            "projects": {"bench": {self.config(n): {"secrets": self.values[n]} for n in self.ns}},
            "tokens": {self.token(n): {"project": "bench", "config": self.config(n)}
                       for n in self.ns},
        }

    def secrun_env(self, fake: FakeCloud, n: int) -> dict[str, str]:
        return {"SECRETS_BACKEND": "doppler", "DOPPLER_TOKEN": self.token(n),
                "DOPPLER_API_HOST": fake.https_url, "SSL_CERT_FILE": str(fake.ca_file)}


@dataclass
class Tools:
    boto3_python: Optional[str]
    azure_python: Optional[str]
    aws_cli: Optional[str]
    budget: float = 30.0  # seconds a slow contender may take per case


def python_with(module: str) -> Optional[str]:
    """The first python3 that can import `module` (PATH's, then Debian's)."""
    candidates = []
    for exe in (shutil.which("python3"), "/usr/bin/python3"):
        if exe and exe not in candidates:
            candidates.append(exe)
    for exe in candidates:
        # The interpreter itself, not a wrapper script (a pyenv shim costs
        # ~100 ms per start).
        probe = subprocess.run([exe, "-c", f"import {module}, sys; print(sys.executable)"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            return probe.stdout.strip()
    return None


def real_command(name: str) -> Optional[str]:
    """`name` on PATH, seen through a pyenv shim to the program itself."""
    found = shutil.which(name)
    if found and "/shims/" in found and shutil.which("pyenv"):
        probe = subprocess.run(["pyenv", "which", name], capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip():
            return probe.stdout.strip()
    return found


def sdk_check(expected: dict[str, str]) -> Callable[[str], Optional[str]]:
    """SDK scripts print {"count": N, "sha256": ...} over the values they got."""
    digest = hashlib.sha256()
    for value in expected.values():
        digest.update(value.encode() + b"\0")

    def check(text: str) -> Optional[str]:
        try:
            report = json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return f"unreadable report {text[-200:]!r}"
        if report.get("count") != len(expected) or report.get("sha256") != digest.hexdigest():
            return f"got {report.get('count')} values, digest mismatch"
        return None
    return check


def shell_check(expected: dict[str, str]) -> Callable[[str], Optional[str]]:
    """The shell loop prints one value per line."""
    def check(text: str) -> Optional[str]:
        got = text.splitlines()
        if got != list(expected.values()):
            return f"got {len(got)} lines, expected {len(expected)} values in order"
        return None
    return check


def part2(args, secrun: Path, fake_exe: Path, out: Path, rng: random.Random,
          notes: list[str], tools: Tools) -> dict:
    ns = [1] if args.smoke else [1, 10, 100]
    specs: list[BackendSpec] = [cls(ns) for cls in BACKENDS]
    wanted = [s for s in specs if not args.backends or s.name in args.backends]
    work = out / "remote"
    scenario_of = lambda active: {"latency_ms": args.latency_ms,
                                  "vendors": {s.vendor: s.scenario() for s in active}}
    active = list(wanted)
    while True:
        try:
            fake = FakeCloud(fake_exe, work / "fake", scenario_of(active))
            break
        except FakeCloudExit as e:
            missing = [s for s in active if f"unknown vendor '{s.vendor}'" in e.log]
            if e.status != 2 or not missing:
                raise
            for s in missing:
                notes.append(f"{s.name} skipped: this build's secrun_fake_cloud has no "
                             f"'{s.vendor}' vendor fake")
                active.remove(s)
            if not active:
                return {"cases": [], "handshake": None, "latency_ms": args.latency_ms}

    cases = []
    try:
        handshake = measure_handshake(fake.https_port, fake.ca_file, 5 if args.smoke else 30)
        latency = args.latency_ms / 1000.0
        for spec in active:
            for n in ns:
                cases.append(remote_case(args, spec, n, secrun, fake, work, rng, notes, tools,
                                         handshake, latency))
    finally:
        fake.stop()
    return {"cases": cases, "handshake": handshake, "latency_ms": args.latency_ms,
            "backends": [s.name for s in active]}


def remote_case(args, spec: BackendSpec, n: int, secrun: Path, fake: FakeCloud, work: Path,
                rng: random.Random, notes: list[str], tools: Tools, handshake: float,
                latency: float) -> dict:
    case_dir = work / f"{spec.name}-{n}"
    case_dir.mkdir(parents=True, exist_ok=True)
    manifest = case_dir / "bench.manifest"
    manifest.write_text(spec.manifest(n))
    env = base_env() | spec.secrun_env(fake, n)
    expected = spec.values[n]

    # Per-run counters of the fake (requests, connections, handshakes, tokens).
    runs: list[dict] = []
    before: dict = {}

    def snapshot() -> None:
        before.clear()
        before.update(fake.stats())
        before["_sched"] = fake.schedstat()

    def record(sample: Sample) -> None:
        now = fake.stats()
        sched = fake.schedstat()
        delta = {
            # The fake's own CPU time and run-queue wait during the run: the
            # floor counts neither, and on a busy machine both grow.
            "fake_cpu": sched[0] - before["_sched"][0] if sched and before["_sched"] else None,
            "fake_queued": sched[1] - before["_sched"][1] if sched and before["_sched"] else None,
            "requests": now["requests_total"] - before["requests_total"],
            "connections": sum(now["connections"].values()) - sum(before["connections"].values()),
            "handshakes": now["tls_handshakes"] - before["tls_handshakes"],
            "tokens": spec.token_requests({k: now["requests"].get(k, 0) -
                                           before["requests"].get(k, 0)
                                           for k in now["requests"]}),
        }
        runs.append(delta)

    group = f"{spec.name} N={n}"
    probe = Contender("secrun", [str(secrun), "-m", str(manifest), "--", "/usr/bin/env"], env,
                      case_dir, group=group + " verify", check=expect_env(expected))
    probe.run_once()
    secrun_c = Contender("secrun", [str(secrun), "-m", str(manifest), "--", "/bin/true"], env,
                         case_dir, group=group, kind="secrun", before=snapshot, after=record)
    # What starting any program through any wrapper costs on this machine,
    # measured in the same rounds: added to the network floor, it is the
    # floor of a whole run of `wrapper -- /bin/true`.
    exec_c = Contender("env A=1 /bin/true", ["/usr/bin/env", "A=1", "/bin/true"], base_env(),
                       case_dir, kind="baseline")
    contenders = [secrun_c, exec_c]
    if not args.smoke:
        for c in spec.user_contenders(fake, n, case_dir, base_env(), notes, tools):
            c.rss_via = args.peak_rss
            contenders.append(c)
    for c in contenders:
        c.group = group
    warmup = args.warmup
    run_interleaved(contenders, warmup, args.remote_runs, rng)
    # Only the measured runs' counters (warm-up runs were recorded too).
    runs = runs[-len(secrun_c.samples):]
    for c in contenders:
        measure_rss(c, args.peak_rss, args.rss_runs)

    floors = []
    for r in runs:
        data_requests = r["requests"] - r["tokens"]
        connections = max(1, r["connections"])
        floors.append(handshake + (r["tokens"] + math.ceil(data_requests / connections)) * latency)
    secrun_ratio = statistics.median(s.wall / f for s, f in zip(secrun_c.samples, floors))
    secrun_ratio_exec = statistics.median(
        s.wall / (f + e.wall) for s, f, e in zip(secrun_c.samples, floors, exec_c.samples))

    def summary(values: list[int]) -> str:
        lo, hi = min(values), max(values)
        return str(lo) if lo == hi else f"{lo}–{hi}"

    rows = [{
        "name": "floor", "kind": "floor", "runs": len(floors), "min": min(floors),
        "median": statistics.median(floors), "max": max(floors), "vs_floor": 1.0,
        "formula": f"H + ({summary([r['tokens'] for r in runs])} + "
                   f"⌈{summary([r['requests'] - r['tokens'] for r in runs])} / "
                   f"{summary([r['connections'] for r in runs])}⌉) × {args.latency_ms} ms",
    }]
    for c in contenders:
        row = {"name": c.name, "kind": c.kind, "runs": len(c.samples),
               "min": min(s.wall for s in c.samples), "median": median_wall(c),
               "max": max(s.wall for s in c.samples), "rss_kb": peak_rss_kb(c)}
        if c is exec_c:
            row["vs_floor"] = None
            row["vs_secrun"] = paired_ratio(c, secrun_c)
        elif c is secrun_c:
            row["vs_floor"] = secrun_ratio
            row["vs_floor_exec"] = secrun_ratio_exec
            row["cpu"] = median_cpu(c)
            row["queued"] = median_queued(c)
            fake_cpu = [r["fake_cpu"] for r in runs if r.get("fake_cpu") is not None]
            fake_queued = [r["fake_queued"] for r in runs if r.get("fake_queued") is not None]
            row["fake_cpu"] = statistics.median(fake_cpu) if fake_cpu else None
            row["fake_queued"] = statistics.median(fake_queued) if fake_queued else None
            row["requests"] = summary([r["requests"] for r in runs])
            row["connections"] = summary([r["connections"] for r in runs])
            row["handshakes"] = summary([r["handshakes"] for r in runs])
        else:
            row["vs_secrun"] = paired_ratio(c, secrun_c)
            row["vs_floor"] = median_wall(c) / statistics.median(floors)
            if c.kind == "sdk":
                row["fetch_median"] = statistics.median(s.fetch for s in c.samples)
                row["vs_secrun_fetch"] = row["fetch_median"] / median_wall(secrun_c)
        rows.append(row)
    return {"backend": spec.name, "n": n, "rows": rows}


SDK_SCRIPT = r"""
# Written by tests/bench/bench.py: what users write today, fetching secrets
# one after another with the vendor's official Python SDK. Prints a digest of
# the values (never the values) and how long the fetch loop took.
import hashlib, json, os, sys, time

start = time.perf_counter()
mode, names = sys.argv[1], sys.argv[2:]
env = os.environ
if mode == "aws":
    import boto3
    client = boto3.client("secretsmanager", endpoint_url=env["BENCH_ENDPOINT"],
                          verify=env["BENCH_CA"], region_name=env["AWS_REGION"])
    get = lambda name: client.get_secret_value(SecretId=name)["SecretString"]
elif mode == "azure":
    import requests
    from azure.core.credentials import AccessToken
    from azure.keyvault.secrets import SecretClient

    # ClientSecretCredential's one token request, made directly: MSAL would
    # first fetch the authority's OpenID discovery documents, which the fake
    # does not serve (tests/e2e/azure_sdk_reader.py does the same). The real
    # credential makes more requests, not fewer.
    class ClientSecret:

        def get_token(self, *scopes, tenant_id=None, **kwargs):
            tenant = tenant_id or env["AZURE_TENANT_ID"]
            answer = requests.post(
                f"{env['AZURE_AUTHORITY_HOST']}/{tenant}/oauth2/v2.0/token",
                data={"client_id": env["AZURE_CLIENT_ID"],
                      "client_secret": env["AZURE_CLIENT_SECRET"],
                      "scope": " ".join(scopes), "grant_type": "client_credentials"},
                timeout=10, verify=env["BENCH_CA"])
            answer.raise_for_status()
            body = answer.json()
            return AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))

    client = SecretClient(vault_url=env["AZURE_KEYVAULT_URL"], credential=ClientSecret(),
                          verify_challenge_resource=False, connection_verify=env["BENCH_CA"])
    get = lambda name: client.get_secret(name.replace("_", "-")).value
else:
    sys.exit("unknown mode " + mode)
ready = time.perf_counter()
digest = hashlib.sha256()
for name in names:
    digest.update(get(name).encode() + b"\0")
done = time.perf_counter()
print(json.dumps({"count": len(names), "sha256": digest.hexdigest(),
                  "import_s": ready - start, "fetch_s": done - ready}))
"""


def sdk_env(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """The SDK contenders' environment. A proxy that does not exist, except
    for loopback, makes sure no SDK request leaves the machine (instance
    metadata, discovery documents): such a request fails instead."""
    env = dict(base) | extra
    env |= {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost", "AWS_EC2_METADATA_DISABLED": "true"}
    return env


def sdk_contender(name: str, python: str, mode: str, names: list[str], env: dict[str, str],
                  work: Path, expected: dict[str, str], budget: float) -> Contender:
    script = work / "sdk_fetch.py"
    script.write_text(SDK_SCRIPT)
    return Contender(name, [python, str(script), mode] + names, env, work, kind="sdk",
                     check=sdk_check(expected), budget_s=budget)


class AwsSpec(BackendSpec):
    name = "aws"
    vendor = "aws"
    key_id = "AKIDBENCHKEY"
    secret_key = "bench-secret-access-key"

    def scenario(self) -> dict:
        top = self.values[max(self.ns)]
        return {"account": "111122223333",
                "credentials": {self.key_id: {"secret": self.secret_key}},
                "secrets": {name: {"string": value} for name, value in top.items()}}

    def credentials(self, fake: FakeCloud, work: Path) -> dict[str, str]:
        return {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": self.key_id,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "HOME": str(work),
                "AWS_EC2_METADATA_DISABLED": "true"}

    def secrun_env(self, fake: FakeCloud, n: int) -> dict[str, str]:
        return self.credentials(fake, fake.work) | {
            "SECRETS_BACKEND": "aws_secrets", "AWS_ENDPOINT_URL_SECRETS_MANAGER": fake.https_url,
            "SSL_CERT_FILE": str(fake.ca_file)}

    def user_contenders(self, fake, n, work, env, notes, tools):
        out = []
        names = list(self.values[n])
        extra = self.credentials(fake, work) | {"BENCH_ENDPOINT": fake.https_url,
                                                "BENCH_CA": str(fake.ca_file)}
        if tools.boto3_python:
            out.append(sdk_contender("boto3 get_secret_value loop", tools.boto3_python, "aws",
                                     names, sdk_env(env, extra), work, self.values[n],
                                     tools.budget))
        elif n == self.ns[0]:
            notes.append("aws: boto3 loop skipped: no python3 with boto3 (run.sh installs "
                         "python3-boto3 as root)")
        if tools.aws_cli:
            loop = ('for id in "$@"; do aws secretsmanager get-secret-value --secret-id "$id" '
                    '--endpoint-url "$BENCH_ENDPOINT" --query SecretString --output text '
                    '|| exit 1; done')
            path = os.path.dirname(tools.aws_cli) + ":" + env["PATH"]
            out.append(Contender("shell loop of aws secretsmanager get-secret-value",
                                 ["/bin/sh", "-c", loop, "sh"] + names,
                                 sdk_env(env, extra | {"AWS_CA_BUNDLE": str(fake.ca_file),
                                                       "PATH": path}),
                                 work, kind="shell", check=shell_check(self.values[n]),
                                 budget_s=tools.budget))
        elif n == self.ns[0]:
            notes.append("aws: shell loop skipped: the aws CLI is not installed (run.sh "
                         "installs awscli as root)")
        return out


class AzureSpec(BackendSpec):
    name = "azure"
    vendor = "azure"
    tenant = "bench-tenant"
    client_id = "bench-client"
    client_secret = "bench-client-secret"

    def scenario(self) -> dict:
        top = self.values[max(self.ns)]
        return {"tenant": self.tenant,
                "principals": {self.client_id: {"secret": self.client_secret}},
                "secrets": {name.replace("_", "-"): value for name, value in top.items()}}

    def credentials(self, fake: FakeCloud) -> dict[str, str]:
        return {"AZURE_TENANT_ID": self.tenant, "AZURE_CLIENT_ID": self.client_id,
                "AZURE_CLIENT_SECRET": self.client_secret,
                "AZURE_AUTHORITY_HOST": fake.https_url,
                "AZURE_KEYVAULT_URL": fake.https_url + "/"}

    def secrun_env(self, fake: FakeCloud, n: int) -> dict[str, str]:
        return self.credentials(fake) | {"SECRETS_BACKEND": "azure_keyvault",
                                         "SSL_CERT_FILE": str(fake.ca_file)}

    def token_requests(self, delta: dict) -> int:
        return sum(v for k, v in delta.items()
                   if k.startswith("POST ") and k.endswith("/oauth2/v2.0/token"))

    def user_contenders(self, fake, n, work, env, notes, tools):
        if not tools.azure_python:
            if n == self.ns[0]:
                notes.append("azure: SecretClient loop skipped: no python3 with "
                             "azure-keyvault-secrets (run.sh installs python3-azure as root)")
            return []
        extra = self.credentials(fake) | {"BENCH_CA": str(fake.ca_file),
                                          "REQUESTS_CA_BUNDLE": str(fake.ca_file)}
        return [sdk_contender("SecretClient.get_secret loop", tools.azure_python, "azure",
                              list(self.values[n]), sdk_env(env, extra), work, self.values[n],
                              tools.budget)]


BACKENDS: list[type[BackendSpec]] = [DopplerSpec, AwsSpec, AzureSpec]


# --------------------------------------------------------------------------
# Part 3 and the report


def binary_sizes(secrun: Path, out: Path) -> dict:
    sizes = {"file": secrun.stat().st_size}
    strip = shutil.which("strip")
    if strip:
        stripped = out / "secrun.stripped"
        if subprocess.run([strip, "-o", str(stripped), str(secrun)]).returncode == 0:
            sizes["stripped"] = stripped.stat().st_size
            stripped.unlink()
    return sizes


def render(info: dict, overhead: dict, remote: dict, sizes: dict, notes: list[str],
           args) -> tuple[str, list[tuple[str, bool, str]]]:
    lines: list[str] = []
    targets: list[tuple[str, bool, str]] = []
    load = info["load"]
    lines.append(f"secrun benchmark — {info['date']}; {info['nproc']} cores, {info['cpu']}, "
                 f"Linux {info['kernel']}; load average at start "
                 f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
                 f"{'; SMOKE MODE (one run, N = 1)' if args.smoke else ''}")
    lines.append("")

    rows = overhead["rows"]
    by_name = {r["name"]: r for r in rows}
    lines.append(f"### 1. Wrapper overhead: `env` backend, {overhead['entries']}-entry manifest "
                 f"over a {overhead['entries']}-line dotenv file")
    lines.append("")
    lines.append("| command | runs | min | median | max | × `env A=1 /bin/true` | "
                 "CPU median | CPU × floor | run-queue wait | (wall − wait) × floor | "
                 "peak RSS |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        single_task = r["kind"] in ("baseline", "floor", "secrun")
        lines.append(f"| {md_code(r['name'])} | {r['runs']} | {fmt_time(r['min'])} | "
                     f"{fmt_time(r['median'])} | {fmt_time(r['max'])} | "
                     f"{fmt_ratio(r['vs_floor'])} | {fmt_time(r['cpu'])} | "
                     f"{fmt_ratio(r['cpu_vs_floor'])} | "
                     f"{fmt_time(r['queued']) if r.get('queued') is not None else '–'} | "
                     f"{fmt_ratio(r['uncontended_vs_floor']) if single_task and r.get('uncontended_vs_floor') else '–'} | "
                     f"{fmt_mb(r['rss_kb'])} |")
    lines.append("")
    lines.append("CPU: user + system time of the process and the children it reaped (wait4). "
                 "Run-queue wait: time its task was runnable but waiting for a CPU "
                 "(/proc/PID/schedstat), which other processes on the machine cause; "
                 "(wall − wait) × floor takes it out of both sides of the ratio (shown for "
                 "commands that run in one task: a shell's or node's children are not counted).")
    lines.append("")
    if overhead.get("hyperfine"):
        hf = overhead["hyperfine"]
        floor_hf = next(r for r in hf if r["name"] == "env A=1 /bin/true")["median"]
        lines.append("Cross-check with hyperfine (`-N`, each command's runs in one block): "
                     + "; ".join(f"{md_code(r['name'])} {fmt_time(r['median'])} "
                                 f"({fmt_ratio(r['median'] / floor_hf)})" for r in hf) + ".")
        lines.append("")
    s = by_name["secrun"]
    extra = f" (CPU {fmt_ratio(s['cpu_vs_floor'])}"
    if s.get("uncontended_vs_floor"):
        extra += f", wall − run-queue wait {fmt_ratio(s['uncontended_vs_floor'])}"
    targets.append((f"overhead: secrun ≤ {TARGET_OVERHEAD_VS_ENV}× `env A=1 /bin/true`",
                    s["vs_floor"] <= TARGET_OVERHEAD_VS_ENV, fmt_ratio(s["vs_floor"]) + extra + ")"))
    if "dotenvx run" in by_name:
        d = by_name["dotenvx run"]
        targets.append((f"overhead: secrun ≥ {TARGET_DOTENVX_FACTOR:.0f}× faster than "
                        "`dotenvx run`", d["vs_secrun"] >= TARGET_DOTENVX_FACTOR,
                        fmt_ratio(d["vs_secrun"]) +
                        f" (CPU {fmt_ratio(d['cpu'] / max(s['cpu'], 1e-6))})"))

    lines.append(f"### 2. Remote fetch: fake cloud with {remote['latency_ms']} ms added to every "
                 "request")
    lines.append("")
    if remote.get("handshake") is not None:
        lines.append(f"H (one TCP connect + TLS handshake to the fake, median) = "
                     f"{fmt_time(remote['handshake'])}. secrun's ratio: its time over its own "
                     "run's network floor, and over that floor plus the same round's "
                     "`env A=1 /bin/true` (the exec floor: starting any program through any "
                     "wrapper); other contenders: their time over secrun's.")
        lines.append("")
        lines.append("| backend | N | contender | runs | min | median | max | ratio | "
                     "requests | connections | handshakes | peak RSS |")
        lines.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for case in remote["cases"]:
            for r in case["rows"]:
                if r["kind"] == "floor":
                    ratio = r["formula"]
                elif r["kind"] == "secrun":
                    ratio = (f"{fmt_ratio(r['vs_floor'])} floor, "
                             f"{fmt_ratio(r['vs_floor_exec'])} floor + exec")
                elif r["kind"] == "baseline":
                    ratio = "exec floor"
                else:
                    ratio = fmt_ratio(r["vs_secrun"]) + " secrun"
                lines.append(
                    f"| {case['backend']} | {case['n']} | {r['name']} | {r['runs']} | "
                    f"{fmt_time(r['min'])} | {fmt_time(r['median'])} | {fmt_time(r['max'])} | "
                    f"{ratio} | {r.get('requests', '')} | {r.get('connections', '')} | "
                    f"{r.get('handshakes', '')} | "
                    f"{fmt_mb(r['rss_kb']) if 'rss_kb' in r else ''} |")
                if r.get("fetch_median"):
                    lines.append(
                        f"| {case['backend']} | {case['n']} | {r['name']}, fetch loop only "
                        f"(no interpreter start) | {r['runs']} | | {fmt_time(r['fetch_median'])} "
                        f"| | {fmt_ratio(r['vs_secrun_fetch'])} secrun | | | | |")
        lines.append("")
    if remote.get("cases"):
        lines.append("Where secrun's time went (medians per run): its CPU time (user + system, "
                     "with the `/bin/true` it becomes), the time its task waited for a CPU, "
                     "and the fake's CPU time and wait during the run (TLS handshakes, SigV4 "
                     "or token checks, its counters file).")
        lines.append("")
        lines.append("| backend | N | secrun wall | secrun CPU | secrun run-queue wait | "
                     "fake CPU | fake run-queue wait | network floor |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        opt = lambda v: fmt_time(v) if v is not None else "–"
        for case in remote["cases"]:
            s = next(r for r in case["rows"] if r["kind"] == "secrun")
            f = next(r for r in case["rows"] if r["kind"] == "floor")
            lines.append(f"| {case['backend']} | {case['n']} | {fmt_time(s['median'])} | "
                         f"{opt(s.get('cpu'))} | {opt(s.get('queued'))} | "
                         f"{opt(s.get('fake_cpu'))} | {opt(s.get('fake_queued'))} | "
                         f"{fmt_time(f['median'])} |")
        lines.append("")
    for case in remote["cases"]:
        if case["n"] != max(c["n"] for c in remote["cases"]) or case["n"] < 100:
            continue
        s = next(r for r in case["rows"] if r["kind"] == "secrun")
        targets.append((f"remote {case['backend']} N={case['n']}: secrun ≤ "
                        f"{TARGET_REMOTE_VS_FLOOR}× the network floor",
                        s["vs_floor"] <= TARGET_REMOTE_VS_FLOOR, fmt_ratio(s["vs_floor"])))
        targets.append((f"remote {case['backend']} N={case['n']}: secrun ≤ "
                        f"{TARGET_REMOTE_VS_FLOOR}× the network floor + exec floor",
                        s["vs_floor_exec"] <= TARGET_REMOTE_VS_FLOOR,
                        fmt_ratio(s["vs_floor_exec"])))
        for r in case["rows"]:
            if r["kind"] == "sdk":
                factor = r.get("vs_secrun_fetch") or r["vs_secrun"]
                targets.append((f"remote {case['backend']} N={case['n']}: secrun ≥ "
                                f"{TARGET_SDK_FACTOR:.0f}× faster than {r['name']} "
                                "(its fetch loop alone)", factor >= TARGET_SDK_FACTOR,
                                f"{fmt_ratio(factor)} (whole process: "
                                f"{fmt_ratio(r['vs_secrun'])})"))
        targets.append((f"peak RSS {case['backend']} N={case['n']} ≤ {TARGET_RSS_MB:.0f} MB",
                        s["rss_kb"] / 1024 <= TARGET_RSS_MB, fmt_mb(s["rss_kb"])))

    lines.append("### 3. Footprint")
    lines.append("")
    lines.append(f"secrun binary: {sizes['file'] / 1e6:.2f} MB"
                 + (f" ({sizes['stripped'] / 1e6:.2f} MB stripped)" if "stripped" in sizes else "")
                 + f"; peak RSS on the env backend: {fmt_mb(by_name['secrun']['rss_kb'])}.")
    lines.append("")
    lines.append("### Targets")
    lines.append("")
    lines.append("| target | measured | |")
    lines.append("|---|---:|---|")
    for what, ok, measured in targets:
        lines.append(f"| {what} | {measured} | {verdict(ok)} |")
    lines.append("")
    if notes:
        lines.append("Skipped / notes:")
        lines.append("")
        lines.extend(f"- {n}" for n in notes)
        lines.append("")
    return "\n".join(lines), targets


def svg_chart(overhead: dict, remote: dict, info: dict) -> str:
    """One panel per part: each contender's median time as a multiple of the
    part's floor (`env A=1 /bin/true` for the overhead, the network floor for
    remote fetches), log scale, with the floor (1×) and the target marked."""
    colours = {"secrun": "#1f6fd1", "floor": "#4d9a4d", "baseline": "#aaaaaa",
               "peer": "#d9822b", "sdk": "#c0504d", "shell": "#8064a2"}
    # (title, target ratio, [(label, ratio, median seconds, kind)])
    panels: list[tuple[str, float, list[tuple[str, float, float, str]]]] = []
    rows = overhead["rows"]
    panels.append((f"1. Start-up overhead, env backend, {overhead['entries']} variables "
                   "(× env A=1 /bin/true)", TARGET_OVERHEAD_VS_ENV,
                   [(r["name"], r["vs_floor"], r["median"], r["kind"]) for r in rows]))
    top_n = max((c["n"] for c in remote["cases"]), default=0)
    for case in remote["cases"]:
        if case["n"] != top_n:
            continue
        floor = next(r for r in case["rows"] if r["kind"] == "floor")
        bars = [("network floor", 1.0, floor["median"], "floor")]
        for r in case["rows"]:
            if r["kind"] in ("floor", "baseline"):
                continue
            ratio = r["vs_floor"] if r["kind"] == "secrun" else r["median"] / floor["median"]
            bars.append((r["name"], ratio, r["median"], r["kind"]))
        panels.append((f"2. {case['backend']}: {case['n']} secrets, {remote['latency_ms']} ms "
                       "per request (× network floor)", TARGET_REMOTE_VS_FLOOR, bars))
    every = [ratio for _, _, bars in panels for _, ratio, _, _ in bars] + [1.0]
    lo = 10 ** math.floor(math.log10(min(every) * 0.9))
    hi = 10 ** math.ceil(math.log10(max(every) * 1.1))
    width, label_w, bar_h, gap, title_h = 900, 290, 18, 6, 26
    plot_w = width - label_w - 150
    x_of = lambda r: label_w + plot_w * (math.log10(r) - math.log10(lo)) / \
        (math.log10(hi) - math.log10(lo))
    height = 70 + sum(title_h + len(b) * (bar_h + gap) + 22 for _, _, b in panels) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="14" font-weight="bold">secrun benchmark: median time '
           f'as a multiple of the floor (log scale; lower is better)</text>',
           f'<text x="10" y="38" fill="#555555">{esc(info["date"])}, {info["nproc"]} cores, '
           f'{esc(info["cpu"])}. Red dashes: the target. Numbers: ratio (median time).</text>']
    y = 56
    for title, target, bars in panels:
        out.append(f'<text x="10" y="{y + 16}" font-weight="bold">{esc(title)}</text>')
        y += title_h
        top = y
        for label, ratio, median, kind in bars:
            if len(label) > 38:  # the label column is 290 px wide
                label = label.replace("shell loop of aws secretsmanager", "sh loop: aws sm")
            x1 = x_of(ratio)
            x0 = x_of(lo)
            out.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end">'
                       f'{esc(label)}</text>')
            out.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(1.0, x1 - x0):.1f}" '
                       f'height="{bar_h}" fill="{colours.get(kind, "#999999")}"/>')
            out.append(f'<text x="{x1 + 5:.1f}" y="{y + 13}">'
                       f'{esc(fmt_ratio(ratio))} ({esc(fmt_time(median))})</text>')
            y += bar_h + gap
        bottom = y - gap + 2
        decade = lo
        while decade <= hi * 1.0001:
            x = x_of(decade)
            out.append(f'<line x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{bottom}" '
                       'stroke="#999999" stroke-width="0.5" stroke-dasharray="2,2"/>')
            out.append(f'<text x="{x:.1f}" y="{bottom + 12}" text-anchor="middle" '
                       f'fill="#555555" font-size="10">{esc(fmt_ratio(decade))}</text>')
            decade *= 10
        x = x_of(target)
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" '
                   'stroke="#d62728" stroke-width="1.5" stroke-dasharray="5,3"/>')
        out.append(f'<text x="{x + 3:.1f}" y="{top - 5}" fill="#d62728" font-size="10">'
                   f'target {esc(fmt_ratio(target))}</text>')
        y += 22
    out.append("</svg>")
    return "\n".join(out) + "\n"


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------


def interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default="build/ci", help="CMake binary dir (ci preset)")
    parser.add_argument("--out", default=None, help="results directory (default BUILD/bench)")
    parser.add_argument("--smoke", action="store_true",
                        help="N = 1, one run, no warm-up, no third-party tools (CI)")
    parser.add_argument("--runs", type=int, default=40, help="measured rounds, part 1")
    parser.add_argument("--remote-runs", type=int, default=15, help="measured rounds, part 2")
    parser.add_argument("--warmup", type=int, default=3, help="discarded rounds")
    parser.add_argument("--latency-ms", type=int, default=LATENCY_MS)
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds a slow contender may take per case")
    parser.add_argument("--backends", nargs="*", help="only these backends in part 2")
    parser.add_argument("--peers-dir", default=None,
                        help="npm prefix holding dotenvx and dotenv-cli (default OUT/npm)")
    parser.add_argument("--secrun", default=None, help="default BUILD/src/secrun")
    parser.add_argument("--fake-cloud", default=None,
                        help="default BUILD/tests/fakes/secrun_fake_cloud")
    parser.add_argument("--peak-rss", default=None,
                        help="the peak_rss helper (default BUILD/tests/helpers/peak_rss)")
    parser.add_argument("--rss-runs", type=int, default=3, help="runs through peak_rss")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chart", default=None,
                        help="also write the chart here (the README's is tests/bench/latest.svg)")
    args = parser.parse_args()
    if args.smoke:
        args.runs = args.remote_runs = 1
        args.warmup = 0
        args.rss_runs = 1

    build = Path(args.build_dir).resolve()
    out = Path(args.out).resolve() if args.out else build / "bench"
    out.mkdir(parents=True, exist_ok=True)
    args.peers_dir = args.peers_dir or str(out / "npm")
    secrun = Path(args.secrun).resolve() if args.secrun else build / "src" / "secrun"
    fake_exe = (Path(args.fake_cloud).resolve() if args.fake_cloud
                else build / "tests" / "fakes" / "secrun_fake_cloud")
    args.peak_rss = (Path(args.peak_rss).resolve() if args.peak_rss
                     else build / "tests" / "helpers" / "peak_rss")
    for exe in (secrun, fake_exe, args.peak_rss):
        if not os.access(exe, os.X_OK):
            print(f"bench: {exe} is missing: build the ci preset's secrun, "
                  "secrun_fake_cloud and peak_rss targets first (tests/bench/run.sh does)", file=sys.stderr)
            return 2

    # SIGTERM as SIGINT: the finally clauses stop the fake cloud and the
    # contender running (spawn), nothing is left behind.
    signal.signal(signal.SIGTERM, interrupted)
    rng = random.Random(args.seed)
    notes: list[str] = []
    info = machine_info()
    tools = Tools(None, None, None)
    if not args.smoke:
        tools = Tools(python_with("boto3"), python_with("azure.keyvault.secrets"),
                      real_command("aws"), args.budget)
    try:
        overhead = overhead_part(args, secrun, out, rng, notes)
        remote = part2(args, secrun, fake_exe, out, rng, notes, tools)
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    info["load_end"] = os.getloadavg()
    sizes = binary_sizes(secrun, out)
    text, targets = render(info, overhead, remote, sizes, notes, args)
    end = info["load_end"]
    text += (f"Load average at the end: {end[0]:.2f} / {end[1]:.2f} / {end[2]:.2f}.\n")
    print(text)
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps(
        {"machine": info, "overhead": overhead, "remote": remote, "sizes": sizes,
         "notes": notes, "targets": [{"target": t, "pass": ok, "measured": m}
                                     for t, ok, m in targets]}, indent=1, default=str))
    chart = svg_chart(overhead, remote, info)
    (out / "latest.svg").write_text(chart)
    if args.chart:
        Path(args.chart).write_text(chart)
        print(f"bench: wrote {args.chart}", file=sys.stderr)
    print(f"bench: wrote {out / 'results.md'}, {out / 'results.json'}, {out / 'latest.svg'}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
