"""Fixtures for Weft's integration tests.

Every test module gets its own loopback /24 (127.0.11.x, 127.0.12.x, ...) so modules never collide with each other
or with a developer's nodes on 127.0.10.x. Every process is started through a :class:`weftlab.Lab`, which kills
it by PID at teardown (and at interpreter exit, should teardown be skipped).
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from weftlab import CA, Lab, weft_binary  # noqa: E402

# One loopback /24 per test module.
MODULE_NETS = {
    "test_tunnel": "127.0.11",
    "test_interop_node": "127.0.12",
    "test_bad_input": "127.0.13",
    "test_upstream": "127.0.15",
    "test_authz": "127.0.16",
    "test_telemetry": "127.0.17",
    "test_waypoint": "127.0.18",
}
_FALLBACK_BASE = 20

_open_labs: list[Lab] = []


@atexit.register
def _kill_leftovers() -> None:
    for lab in list(_open_labs):
        lab.close()


def _net_for(module_name: str) -> str:
    short = module_name.rsplit(".", 1)[-1]
    if short in MODULE_NETS:
        return MODULE_NETS[short]
    # Unknown modules get a stable net of their own above the declared ones.
    return f"127.0.{_FALLBACK_BASE + sum(map(ord, short)) % 200}"


@pytest.fixture(scope="session")
def weft() -> Path:
    path = weft_binary()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"weft binary not found at {path}; build it or set WEFT_BIN")
    return path


@pytest.fixture(scope="module")
def net(request) -> str:
    return _net_for(request.module.__name__)


def _make_lab(root: Path, weft: Path, net: str):
    lab = Lab(root, weft, net)
    _open_labs.append(lab)
    return lab


@pytest.fixture
def lab(tmp_path: Path, weft: Path, net: str):
    """A per-test lab directory; processes started through it die with the test."""
    lab = _make_lab(tmp_path, weft, net)
    try:
        yield lab
    finally:
        lab.close()
        _open_labs.remove(lab)


@pytest.fixture(scope="module")
def module_lab(tmp_path_factory, weft: Path, net: str, request):
    """A lab shared by one module (for a mesh that many cheap cases reuse)."""
    root = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    lab = _make_lab(root, weft, net)
    try:
        yield lab
    finally:
        lab.close()
        _open_labs.remove(lab)


@pytest.fixture
def ca(lab: Lab) -> CA:
    return lab.init_ca()


# Measurements that tests want shown even without -s (e.g. the 1 GiB throughput).
_REPORT_LINES: list[str] = []


@pytest.fixture
def report():
    """report(line): print a measurement now (visible with -s) and again in the terminal summary."""

    def add(line: str) -> None:
        print(line)
        _REPORT_LINES.append(line)

    return add


def pytest_terminal_summary(terminalreporter):
    if _REPORT_LINES:
        terminalreporter.section("weft measurements")
        for line in _REPORT_LINES:
            terminalreporter.write_line(line)
