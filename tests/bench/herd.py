#!/usr/bin/env python3
"""The herd benchmark: many secrun processes start at once against a
rate-limited backend. Python 3 standard library only.

    tests/bench/herd.sh [--smoke] [options]      (builds what it needs, then runs this)
    python3 tests/bench/herd.py --build-dir build/ci [--smoke] [--vendor aws|azure] ...

Method:
* secrun_fake_cloud runs with a token-bucket rate limit in front of the
  vendor's secret reads (`rate_limit` in the scenario: --rps tokens a second,
  --burst at most; a refused request gets the vendor's real throttle answer:
  AWS 400 ThrottlingException, Azure 429 Throttled + Retry-After).
* One secrun runs alone first (the bucket is full): its request count is the
  minimum one process needs; the herd's minimum is that times --processes.
  Then the bench waits until the bucket is full again.
* --processes children are spawned, each blocked reading a pipe; closing the
  pipe releases them all at once, and each execs
  `secrun -m MANIFEST -t TIMEOUT -- /usr/bin/env` (its output checked: every
  value delivered). A process's start time is the wall time from the release
  to its exit.
* The fake's counters (requests, throttled answers, connections, TLS
  handshakes) are differences of its stats file before and after the herd;
  its CPU time comes from /proc: when it is close to the herd's wall time,
  the single-threaded fake, not the rate limit, was the bottleneck.
* The exit status is non-zero only when a process failed or delivered wrong
  values; the goals (every process starts, requests <= 1.5x the minimum, none
  past its deadline) are printed as pass / short.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (tests/bench/bench.py: FakeCloud, the backend specs, helpers)

TARGET_REQUESTS_VS_MIN = 1.5


def clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a running process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / clock_ticks()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100])."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


class HerdSpec:
    """A vendor for the herd: the bench's backend spec plus the path its
    rate limit covers."""

    def __init__(self, vendor: str, secrets: int):
        if vendor == "aws":
            self.spec = bench.AwsSpec([secrets])
            self.limit_path = "/"  # every Secrets Manager call is POST /
        else:
            self.spec = bench.AzureSpec([secrets])
            self.limit_path = "/secrets/"  # Key Vault reads; the token endpoint is Entra's
        self.vendor = vendor
        self.secrets = secrets

    def scenario(self, rps: int, burst: int) -> dict:
        return {"rate_limit": {"rps": rps, "burst": burst, "vendor": self.vendor,
                               "path": self.limit_path},
                "vendors": {self.spec.vendor: self.spec.scenario()}}


def spawn_held(argv: list[str], env: dict[str, str], gate_fd: int, out: Path, err: Path) -> int:
    """Starts argv behind a gate: the child blocks reading `gate_fd` (its
    stdin) until the parent closes the pipe's write end, then execs."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [
        (os.POSIX_SPAWN_DUP2, gate_fd, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(out), flags, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, str(err), flags, 0o600),
    ]
    # `read` returns at end of file; then stdin becomes /dev/null for secrun.
    script = 'read -r _; exec "$@" </dev/null'
    return os.posix_spawn("/bin/sh", ["/bin/sh", "-c", script, "herd"] + argv, env,
                          file_actions=actions)


def run_herd(args, hs: HerdSpec, secrun: Path, fake: bench.FakeCloud, work: Path,
             processes: int) -> dict:
    manifest = work / "herd.manifest"
    manifest.write_text(hs.spec.manifest(hs.secrets))
    env = bench.base_env() | hs.spec.secrun_env(fake, hs.secrets)
    expected = hs.spec.values[hs.secrets]
    check = bench.expect_env(expected)
    argv = [str(secrun), "-m", str(manifest), "-t", f"{args.timeout}s", "--", "/usr/bin/env"]

    # One process alone, the bucket full: what one start needs at least.
    before = fake.stats()
    alone = bench.spawn(argv, env, work / "alone.out", work / "alone.err")
    after = fake.stats()
    if alone.status != 0 or check((work / "alone.out").read_text()):
        raise bench.BenchError("a single secrun failed against the fake: "
                               + (work / "alone.err").read_text()[-2000:])
    per_process = after["requests_total"] - before["requests_total"]
    if after["throttled"] != before["throttled"]:
        raise bench.BenchError("a single secrun was throttled: raise --burst")
    (work / "alone.out").write_bytes(b"")
    time.sleep(args.burst / args.rps + 0.2)  # the bucket refills

    procs = work / "procs"
    procs.mkdir(exist_ok=True)
    gate_read, gate_write = os.pipe()
    pids: dict[int, int] = {}
    try:
        for i in range(processes):
            pids[spawn_held(argv, env, gate_read, procs / f"{i}.out", procs / f"{i}.err")] = i
    finally:
        os.close(gate_read)
    time.sleep(0.2)  # every shell is blocked in read
    before = fake.stats()
    cpu_before = cpu_seconds(fake.proc.pid)
    start = time.perf_counter()
    os.close(gate_write)
    walls: dict[int, float] = {}
    statuses: dict[int, int] = {}
    # The fake's counters each second: when the requests and refusals came.
    timeline: list[tuple[int, int]] = []
    next_sample = 1.0
    while len(walls) < processes:
        pid, status, _ = os.wait4(-1, os.WNOHANG)
        if pid == 0:
            now = time.perf_counter() - start
            if now >= next_sample:
                stats = fake.stats()
                timeline.append((stats["requests_total"] - before["requests_total"],
                                 stats["throttled"] - before["throttled"]))
                next_sample += 1.0
            time.sleep(0.005)
            continue
        if pid not in pids:
            continue
        walls[pids[pid]] = time.perf_counter() - start
        statuses[pids[pid]] = os.waitstatus_to_exitcode(status)
    herd_wall = time.perf_counter() - start
    cpu_fake = cpu_seconds(fake.proc.pid) - cpu_before
    after = fake.stats()

    failed = []
    for i in range(processes):
        out, err = procs / f"{i}.out", procs / f"{i}.err"
        problem = None
        if statuses[i] != 0:
            problem = f"exit {statuses[i]}: {err.read_text(errors='replace').strip()[-300:]}"
        else:
            problem = check(out.read_text(errors="replace"))
        out.write_bytes(b"")  # fake values only, but no need to keep them
        if problem:
            failed.append((i, problem))

    def delta(key: str) -> int:
        return after[key] - before[key]

    requests = delta("requests_total")
    minimum = per_process * processes
    values = list(walls.values())
    return {
        "vendor": hs.vendor, "processes": processes, "secrets": hs.secrets,
        "rps": args.rps, "burst": args.burst, "timeout_s": args.timeout,
        "ok": processes - len(failed), "failed": len(failed),
        "failures": [f"process {i}: {p}" for i, p in failed[:5]],
        "requests": requests, "minimum": minimum, "ratio": requests / minimum,
        "throttled": delta("throttled"),
        "connections": after["connections"]["https"] - before["connections"]["https"],
        "handshakes": delta("tls_handshakes"),
        "p50": percentile(values, 50), "p99": percentile(values, 99), "max": max(values),
        "past_deadline": sum(1 for v in values if v > args.timeout),
        "herd_wall": herd_wall, "fake_cpu": cpu_fake,
        "timeline": timeline + [(requests, delta("throttled"))],
        # The rate limit alone allows no faster drain than this.
        "drain_floor": max(0.0, (minimum - args.burst) / args.rps),
    }


def render(info: dict, rows: list[dict], args) -> str:
    lines = []
    load = info["load"]
    lines.append(f"secrun herd benchmark — {info['date']}; {info['nproc']} cores, {info['cpu']}; "
                 f"load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
                 f"{'; SMOKE MODE' if args.smoke else ''}")
    lines.append("")
    lines.append("| vendor | processes × secrets | rate limit | ok / failed | requests (min) | "
                 "ratio | throttled | connections / handshakes | p50 | p99 | max | "
                 "drain floor | fake CPU | deadline | past it |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        lines.append(
            f"| {r['vendor']} | {r['processes']} × {r['secrets']} | {r['rps']}/s, burst "
            f"{r['burst']} | {r['ok']} / {r['failed']} | {r['requests']} ({r['minimum']}) | "
            f"{r['ratio']:.2f}× | {r['throttled']} | {r['connections']} / {r['handshakes']} | "
            f"{bench.fmt_time(r['p50'])} | {bench.fmt_time(r['p99'])} | "
            f"{bench.fmt_time(r['max'])} | {bench.fmt_time(r['drain_floor'])} | "
            f"{bench.fmt_time(r['fake_cpu'])} of {bench.fmt_time(r['herd_wall'])} | "
            f"{r['timeout_s']} s | {r['past_deadline']} |")
    lines.append("")
    lines.append("Goals: every process starts; requests ≤ "
                 f"{TARGET_REQUESTS_VS_MIN}× the minimum; no process past its deadline.")
    lines.append("")
    lines.append("| run | every process starts | requests ≤ 1.5× minimum | none past the deadline |")
    lines.append("|---|---|---|---|")
    for n, r in enumerate(rows, 1):
        lines.append(f"| {n} ({r['vendor']}) | {bench.verdict(r['failed'] == 0)} | "
                     f"{bench.verdict(r['ratio'] <= TARGET_REQUESTS_VS_MIN)} "
                     f"{r['ratio']:.2f}× | {bench.verdict(r['past_deadline'] == 0)} |")
    lines.append("")
    lines.append("Requests / throttled answers per second of the herd:")
    lines.append("")
    for n, r in enumerate(rows, 1):
        steps, previous = [], (0, 0)
        for total in r["timeline"]:
            steps.append(f"{total[0] - previous[0]}/{total[1] - previous[1]}")
            previous = total
        lines.append(f"- run {n}: " + " ".join(steps))
    lines.append("")
    for n, r in enumerate(rows, 1):
        for f in r["failures"]:
            lines.append(f"- run {n}: {f}")
    end = info.get("load_end")
    if end:
        lines.append(f"Load average at the end: {end[0]:.2f} / {end[1]:.2f} / {end[2]:.2f}.")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default="build/ci", help="CMake binary dir (ci preset)")
    parser.add_argument("--out", default=None, help="results directory (default BUILD/herd)")
    parser.add_argument("--smoke", action="store_true",
                        help="10 processes × 3 secrets, a gentle limit: fails only when a "
                             "process fails (CI)")
    parser.add_argument("--vendor", nargs="+", default=["aws"], choices=["aws", "azure"])
    parser.add_argument("--processes", type=int, default=200)
    parser.add_argument("--secrets", type=int, default=10)
    parser.add_argument("--rps", type=int, default=300)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--timeout", type=int, default=30, help="secrun --timeout, seconds")
    parser.add_argument("--runs", type=int, default=1, help="herds per vendor")
    parser.add_argument("--secrun", default=None, help="default BUILD/src/secrun")
    parser.add_argument("--fake-cloud", default=None,
                        help="default BUILD/tests/fakes/secrun_fake_cloud")
    args = parser.parse_args()
    if args.smoke:
        args.processes, args.secrets, args.rps, args.burst = 10, 3, 50, 10
        args.runs = 1

    build = Path(args.build_dir).resolve()
    out = Path(args.out).resolve() if args.out else build / "herd"
    out.mkdir(parents=True, exist_ok=True)
    secrun = Path(args.secrun).resolve() if args.secrun else build / "src" / "secrun"
    fake_exe = (Path(args.fake_cloud).resolve() if args.fake_cloud
                else build / "tests" / "fakes" / "secrun_fake_cloud")
    for exe in (secrun, fake_exe):
        if not os.access(exe, os.X_OK):
            print(f"herd: {exe} is missing: build the ci preset's secrun and secrun_fake_cloud "
                  "targets first (tests/bench/herd.sh does)", file=sys.stderr)
            return 2

    info = bench.machine_info()
    rows = []
    try:
        for vendor in args.vendor:
            hs = HerdSpec(vendor, args.secrets)
            for run in range(args.runs):
                work = out / f"{vendor}-{run}"
                fake = bench.FakeCloud(fake_exe, work / "fake", hs.scenario(args.rps, args.burst))
                try:
                    rows.append(run_herd(args, hs, secrun, fake, work, args.processes))
                finally:
                    fake.stop()
    except bench.BenchError as e:
        print(f"herd: {e}", file=sys.stderr)
        return 1
    info["load_end"] = os.getloadavg()
    text = render(info, rows, args)
    print(text)
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps({"machine": info, "runs": rows}, indent=1,
                                                 default=str))
    failed = sum(r["failed"] for r in rows)
    if failed:
        print(f"herd: {failed} process(es) failed or delivered wrong values", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
