"""Processes the bench starts, and what it reads about them from /proc.

Every process is started in its own session (so a Ctrl-C in the terminal reaches only the harness, which then
stops them in order) and registered with a :class:`Registry`; ``Registry.close()`` stops each one by the PID it
was given, never by name. A process is identified by (pid, start time) so a recycled PID is never signalled.
"""

from __future__ import annotations

from collections.abc import Callable

import ctypes
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

HZ = os.sysconf("SC_CLK_TCK")
_LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_harness() -> None:
    """In the child before exec: SIGTERM when the harness dies, even if it is SIGKILLed (no leftovers)."""
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
NCPU = os.cpu_count() or 1


# ----------------------------------------------------------------------------------------------------------------
# /proc readers
# ----------------------------------------------------------------------------------------------------------------

def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (field 3 onwards), or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return s[s.rindex(")") + 2:].split()


def start_time(pid: int) -> int | None:
    f = _stat_fields(pid)
    return int(f[19]) if f else None


def cpu_ticks(pid: int) -> int:
    """utime + stime of a whole process (the kernel sums every thread, live and exited, into the leader's stat)."""
    f = _stat_fields(pid)
    return int(f[11]) + int(f[12]) if f else 0


def children_of(pid: int) -> list[int]:
    """Direct and indirect children (e.g. nginx workers)."""
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        f = _stat_fields(int(name))
        if f:
            parents.setdefault(int(f[1]), []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def status_kib(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def threads_of(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:
        return []


@dataclass
class HostCPU:
    """The aggregate "cpu" line of /proc/stat, in ticks."""
    user: int
    nice: int
    system: int
    idle: int
    iowait: int
    irq: int
    softirq: int
    steal: int

    @staticmethod
    def read() -> "HostCPU":
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return HostCPU(*v)

    def minus(self, o: "HostCPU") -> "HostCPU":
        return HostCPU(*(getattr(self, k) - getattr(o, k) for k in self.__dataclass_fields__))

    @property
    def task_ticks(self) -> int:
        """CPU charged to processes (user, nice, system). irq/softirq time is accounted apart from tasks here
        (IRQ time accounting), so it is kept out of the comparison with per-process figures."""
        return self.user + self.nice + self.system


def listening(ip: str, port: int) -> bool:
    """Whether some socket is in LISTEN state on ip:port (IPv4), read from /proc/net/tcp: no connect() side effect
    (a bare connect to an iperf3 server, say, would count as a failed test)."""
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(ip), "little"), port)
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[1] == want and parts[3] == "0A":
                    return True
    except FileNotFoundError:
        pass
    return False


def listeners_in(prefix: str) -> list[str]:
    """Every IPv4 LISTEN socket whose address starts with prefix (e.g. "127.0.40."), as "ip:port"."""
    out = []
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[3] != "0A":
                continue
            hexip, hexport = parts[1].split(":")
            ip = socket.inet_ntoa(int(hexip, 16).to_bytes(4, "little"))
            if ip.startswith(prefix):
                out.append(f"{ip}:{int(hexport, 16)}")
    return out


def set_affinity(pids: list[int], cpus: set[int]) -> None:
    """Pins every thread of every process (threads created later inherit their creator's mask)."""
    for pid in pids:
        for tid in threads_of(pid):
            try:
                os.sched_setaffinity(tid, cpus)
            except (ProcessLookupError, OSError):
                pass


# ----------------------------------------------------------------------------------------------------------------
# Long-running processes (peers, servers, weft nodes)
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class Proc:
    name: str
    argv: list[str]
    log: Path
    popen: subprocess.Popen
    started: int | None  # /proc start time, to recognise the process later
    children_at_stop: list[tuple[int, int | None]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def pids(self) -> list[int]:
        """The process and its descendants (nginx workers)."""
        return [self.pid, *children_of(self.pid)] if self.alive() else []

    def cpu_ticks(self) -> int:
        return sum(cpu_ticks(p) for p in self.pids())

    def peak_rss_kib(self) -> int:
        """VmHWM summed over the process and its descendants (one figure per process tree)."""
        return sum(status_kib(p, "VmHWM") or 0 for p in self.pids())

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Registry:
    """Owns every process the bench starts; close() stops them all (reverse start order), by PID."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.procs: list[Proc] = []
        self.clients: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], cwd: Path | None = None, env: dict | None = None) -> Proc:
        log = self.logdir / f"{name}.log"
        with open(log, "ab") as f:
            p = subprocess.Popen(
                argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                start_new_session=True, preexec_fn=_die_with_harness,
            )
        proc = Proc(name, argv, log, p, start_time(p.pid))
        self.procs.append(proc)
        return proc

    def stop(self, proc: Proc, grace: float = 5.0) -> None:
        # Remember the children (nginx workers) first: if the parent has to be killed they must go too.
        if proc.alive():
            proc.children_at_stop = [(c, start_time(c)) for c in children_of(proc.pid)]
        _terminate(proc.popen, proc.started, grace)
        for pid, started in proc.children_at_stop:
            _kill_if_same(pid, started, signal.SIGKILL)

    def close(self) -> None:
        for c in self.clients:
            _terminate(c, None, 1.0)
        self.clients.clear()
        for proc in reversed(self.procs):
            try:
                self.stop(proc)
            except Exception as e:  # noqa: BLE001 - keep stopping the rest
                print(f"bench: could not stop {proc.name} (pid {proc.pid}): {e}")
        self.procs.clear()


def _kill_if_same(pid: int, started: int | None, sig: int) -> None:
    if started is None or start_time(pid) != started:
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _terminate(p: subprocess.Popen, started: int | None, grace: float) -> None:
    if p.poll() is not None:
        return
    if started is not None and start_time(p.pid) != started:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            p.kill()
        except ProcessLookupError:
            pass
        p.wait(timeout=10)
    except ProcessLookupError:
        pass


# ----------------------------------------------------------------------------------------------------------------
# Short-lived clients (wrk, iperf3): run to completion, CPU from wait4's rusage
# ----------------------------------------------------------------------------------------------------------------

@dataclass
class ClientResult:
    rc: int
    stdout: str
    stderr: str
    cpu_s: float
    wall_s: float
    timed_out: bool


def run_client(registry: Registry, argv: list[str], outdir: Path, timeout: float) -> ClientResult:
    """Runs a client to completion. Output goes to files (iperf3 -J can outgrow a pipe while we sit in wait4)."""
    out_path, err_path = outdir / "client.out", outdir / "client.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
                             preexec_fn=_die_with_harness)
        registry.clients.append(p)
        timed_out = False
        try:
            deadline = t0 + timeout
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid == p.pid:
                    break
                if time.monotonic() > deadline:
                    timed_out = True
                    os.kill(p.pid, signal.SIGKILL)
                    _, status, ru = os.wait4(p.pid, 0)
                    break
                time.sleep(0.02)
            wall = time.monotonic() - t0
            p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
        finally:
            if p.returncode is None:
                _terminate(p, None, 1.0)
            registry.clients.remove(p)
    return ClientResult(
        p.returncode, out_path.read_text(errors="replace"), err_path.read_text(errors="replace"),
        ru.ru_utime + ru.ru_stime, wall, timed_out,
    )


def wait_for(missing: Callable[[], list[str]], procs: list[Proc], timeout: float, what: str,
             poll: float = 0.05) -> None:
    """Waits until `missing()` (descriptions of what does not listen yet) is empty; fails with the logs of `procs`
    if one of them exits first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        absent = missing()
        if not absent:
            return
        for p in procs:
            if not p.alive():
                raise RuntimeError(
                    f"{p.name} exited with status {p.popen.returncode} before {what} "
                    f"(not listening: {', '.join(absent)}):\n{p.log_tail()}"
                )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{what}: not listening after {timeout:.0f}s: {', '.join(absent)}\n"
                + "\n".join(f"--- {p.name} log:\n{p.log_tail()}" for p in procs)
            )
        time.sleep(poll)


def wait_listening(addrs: list[tuple[str, int]], procs: list[Proc], timeout: float) -> None:
    wait_for(lambda: [f"{i}:{port}" for i, port in addrs if not listening(i, port)], procs, timeout,
             "listening")
