"""The cells (one measurement type each) and one run of one cell over one path, with its CPU accounting.

CPU accounting of a run: utime+stime of the path's processes (all threads; nginx workers included) and of the
server, read from /proc/<pid>/stat just before the client starts and just after it exits; the client's own CPU
from wait4's rusage; the harness's from os.times(). The host's task CPU (user+nice+system from /proc/stat) over
the same window, minus all of those, is what other processes used meanwhile: the run's "noise".
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .procs import HZ, HostCPU, Proc, Registry, run_client, set_affinity

L4 = ("direct", "haproxy-plain", "haproxy-mtls", "stunnel-mtls", "weft")
L7 = ("haproxy-http", "nginx-proxy", "weft-waypoint")
POD = ("pod-direct", "weft-captured")  # pod → pod across two nodes (network namespaces): weftbench/captured.py
LUA = Path(__file__).resolve().parent.parent / "conf" / "wrk-report.lua"


@dataclass(frozen=True)
class Cell:
    key: str
    title: str
    tool: str  # "iperf" or "wrk"
    paths: tuple[str, ...]
    streams: int = 1
    threads: int = 1
    conns: int = 1
    close: bool = False
    pinned: bool = False


CELLS = [
    Cell("iperf1", "iperf3, 1 stream", "iperf", L4 + POD, streams=1),
    Cell("iperf8", "iperf3, 8 streams (-P 8)", "iperf", L4 + POD, streams=8),
    Cell("lat", "latency, wrk -t1 -c1, unpinned", "wrk", L4 + POD, threads=1, conns=1),
    Cell("lat_pinned", "latency, wrk -t1 -c1, client + server + path pinned to CPU 0", "wrk", L4 + L7 + POD,
         threads=1, conns=1, pinned=True),
    Cell("rps64", "requests, wrk -t2 -c64 (keep-alive)", "wrk", L4 + L7 + POD, threads=2, conns=64),
    Cell("cps", "new connections, wrk -t2 -c16, Connection: close", "wrk", L4 + ("weft-cold",) + POD,
         threads=2, conns=16, close=True),
]
CELL_BY_KEY = {c.key: c for c in CELLS}
SMOKE_CELLS = ("iperf1", "lat", "rps64", "cps")


@dataclass
class Sample:
    cell: str
    path: str
    round: int
    ok: bool
    error: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    wall_s: float = 0.0
    path_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    harness_cpu_s: float = 0.0
    host_task_cpu_s: float = 0.0
    host_softirq_s: float = 0.0
    host_steal_s: float = 0.0
    other_cpu_s: float = 0.0   # host task CPU not used by anything the bench started
    noise: float = 0.0         # other_cpu_s + steal, per second of wall time (in cores)
    reruns: int = 0
    noise_of_attempts: list[float] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def _self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def _ticks(procs: list[Proc]) -> int:
    return sum(p.cpu_ticks() for p in procs)


def client_argv(cell: Cell, target: tuple[str, int], duration: int) -> list[str]:
    ip, port = target
    if cell.tool == "iperf":
        return ["iperf3", "-c", ip, "-p", str(port), "-t", str(duration), "-P", str(cell.streams), "-J",
                "--connect-timeout", "5000"]
    argv = ["wrk", "-t", str(cell.threads), "-c", str(cell.conns), "-d", f"{duration}s", "--timeout", "5s",
            "-s", str(LUA)]
    if cell.close:
        argv += ["-H", "Connection: close"]
    return argv + [f"http://{ip}:{port}/"]


def parse_iperf(out: str, path_cpu_s: float) -> tuple[dict, str | None, dict]:
    try:
        j = json.loads(out)
    except json.JSONDecodeError:
        return {}, f"iperf3 printed no JSON: {out[-300:]!r}", {}
    if j.get("error"):
        return {}, f"iperf3: {j['error']}", {}
    recv = j.get("end", {}).get("sum_received", {})
    nbytes = recv.get("bytes", 0)
    secs = recv.get("seconds") or 0
    if not nbytes or not secs:
        return {}, "iperf3 moved no data", {}
    gbit = nbytes * 8 / 1e9
    raw = {"bytes": nbytes, "seconds": secs, "retransmits": j.get("end", {}).get("sum_sent", {}).get("retransmits")}
    return {
        "gbps": gbit / secs,
        "gbit_per_cpu_s": gbit / path_cpu_s if path_cpu_s > 0 else None,
    }, None, raw


def parse_wrk(out: str, err: str, cell: Cell, path_cpu_s: float, has_path: bool) -> tuple[dict, str | None, dict]:
    lines = [line for line in out.splitlines() if line.startswith("WRKJSON ")]
    if not lines:
        return {}, f"wrk printed no result: {(out + err)[-300:]!r}", {}
    r = json.loads(lines[-1][len("WRKJSON "):])
    n = r["requests"]
    errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["status_errors"] + r["timeouts"]
    if n == 0:
        return {}, f"wrk completed no request ({errors} errors: {r})", r
    if errors > max(5, 0.01 * n):
        return {}, (f"wrk: {errors} errors in {n} requests (connect {r['connect_errors']}, read {r['read_errors']}, "
                    f"write {r['write_errors']}, status {r['status_errors']}, timeout {r['timeouts']})"), r
    secs = r["duration_us"] / 1e6
    m: dict[str, float | None] = {"rps": n / secs}
    m["cpu_us_per_req"] = path_cpu_s / n * 1e6 if has_path else None
    if cell.conns == 1:
        m.update(p50_us=float(r["p50_us"]), p90_us=float(r["p90_us"]), p99_us=float(r["p99_us"]))
    return m, None, r


def run_one(reg: Registry, workdir: Path, cell: Cell, path, server: Proc, round_no: int, duration: int,
            all_cpus: set[int]) -> Sample:
    """One run of a cell over a path. path is a peers.Path_; server is the process the client reaches (its CPU is
    the server's); the client runs behind path.client_prefix (inside the client pod for the pod paths)."""
    target = path.iperf if cell.tool == "iperf" else path.http
    argv = path.client_prefix + client_argv(cell, target, duration)
    measured = list(path.procs) + [server]
    if cell.pinned:
        argv = ["taskset", "-c", "0"] + argv
        set_affinity([pid for p in measured for pid in p.pids()], {0})
    try:
        host0, path0, server0, self0 = HostCPU.read(), _ticks(path.procs), server.cpu_ticks(), _self_cpu()
        res = run_client(reg, argv, workdir, timeout=duration + 30)
        host1, path1, server1, self1 = HostCPU.read(), _ticks(path.procs), server.cpu_ticks(), _self_cpu()
    finally:
        if cell.pinned:
            set_affinity([pid for p in measured for pid in p.pids()], all_cpus)

    s = Sample(cell.key, path.key, round_no, ok=False)
    s.wall_s = res.wall_s
    s.path_cpu_s = (path1 - path0) / HZ
    s.server_cpu_s = (server1 - server0) / HZ
    s.client_cpu_s = res.cpu_s
    s.harness_cpu_s = self1 - self0
    host = host1.minus(host0)
    s.host_task_cpu_s = host.task_ticks / HZ
    s.host_softirq_s = (host.irq + host.softirq) / HZ
    s.host_steal_s = host.steal / HZ
    s.other_cpu_s = s.host_task_cpu_s - (s.path_cpu_s + s.server_cpu_s + s.client_cpu_s + s.harness_cpu_s)
    s.noise = (max(0.0, s.other_cpu_s) + s.host_steal_s) / max(s.wall_s, 1e-3)

    if res.timed_out:
        s.error = f"{argv[0]} did not finish within {duration + 30}s"
        return s
    if cell.tool == "iperf":
        m, err, raw = parse_iperf(res.stdout, s.path_cpu_s)
    else:
        m, err, raw = parse_wrk(res.stdout, res.stderr, cell, s.path_cpu_s, bool(path.procs))
    if err is None and res.rc != 0:
        err = f"{argv[0]} exited with {res.rc}: {res.stderr[-300:]}"
    s.raw = raw
    if err:
        s.error = err
        return s
    if not path.procs:  # direct: no path processes to charge
        m = {k: (None if k in ("gbit_per_cpu_s", "cpu_us_per_req") else v) for k, v in m.items()}
    s.metrics = m
    s.ok = True
    return s


def wait_quiet(threshold: float, max_wait: float, measure_only: bool = False) -> float:
    """Waits (bounded) until the host's task CPU, minus the harness's, is under threshold cores; returns the wait.
    With measure_only: samples once for max_wait seconds and returns that load (in cores)."""
    t0 = time.monotonic()
    while True:
        h0, s0, w0 = HostCPU.read(), _self_cpu(), time.monotonic()
        time.sleep(max_wait if measure_only else 0.5)
        busy = (HostCPU.read().minus(h0).task_ticks / HZ - (_self_cpu() - s0)) / (time.monotonic() - w0)
        if measure_only:
            return max(0.0, busy)
        if busy <= threshold or time.monotonic() - t0 >= max_wait:
            return time.monotonic() - t0
