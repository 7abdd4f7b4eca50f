"""Machine and software description for the report."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path


def _run(argv: list[str], cwd: Path | None = None) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=20, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (r.stdout + r.stderr).strip()


def _first(pattern: str, text: str) -> str:
    m = re.search(pattern, text)
    return m.group(1) if m else "?"


def portable(arg: str, repo: Path, tmp: Path | None = None) -> str:
    """An argument as results may record it: paths inside the repository relative to it, the run's temporary
    directory as $BENCH_DIR, so a committed result names nothing of the machine it ran on."""
    if tmp is not None:
        arg = arg.replace(str(tmp), "$BENCH_DIR")
    for root in {str(repo.resolve()), str(repo)}:
        if arg.startswith(root + "/"):
            return arg[len(root) + 1:]
    return arg


def describe(repo: Path, weft_bin: Path, stunnel: str) -> dict:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    commit = _run(["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"]) or "?"
    dirty = bool(_run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no", "--", "Sources",
                       "Package.swift"]))
    try:
        st = weft_bin.stat()
        mtime = dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except OSError:
        mtime = "?"
    build = "release" if "/release/" in str(weft_bin.resolve()) else ("debug" if "/debug/" in str(weft_bin.resolve())
                                                                       else "unknown")
    versions = {
        "haproxy": _first(r"HAProxy version (\S+)", _run(["haproxy", "-v"])),
        "stunnel": _first(r"stunnel (\S+)", _run([stunnel, "-version"])),
        "OpenSSL": _first(r"OpenSSL (\S+)", _run(["openssl", "version"])) if shutil.which("openssl") else "?",
        "nginx": _first(r"nginx/(\S+)", _run(["nginx", "-v"])),
        "iperf3": _first(r"iperf (\S+)", _run(["iperf3", "-v"])),
        "wrk": _first(r"wrk (\S+)", _run(["wrk", "-v"])),
    }
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "hostname": platform.node(),
        "kernel": platform.release(),
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "mem_gib": mem_kib / 1024 / 1024,
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
        "weft_commit": commit,
        "weft_dirty": dirty,
        "weft_bin": portable(str(weft_bin), repo),
        "weft_bin_mtime": mtime,
        "weft_build": build,
        "versions": versions,
    }
