"""L4 AuthorizationPolicy end to end in the network-namespace lab (root only): `weft lab up` builds two nodes with
two pods each (sa echo on pod 1, sa client on pod 2) and an outsider that is not in the mesh; policies are
appended to the lab's mesh.yaml, which every node polls and reloads. A denied HBONE stream is refused by the
destination's node (401), which the source's node turns into a reset for the captured connection; denied
plaintext inbound is reset. Every test gets a fresh lab, removed by `weft lab down` in teardown.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

# The lab's topology (Sources/WeftLab/LabPlan.swift).
ECHO_11 = ("weft-lab-n1-p1", "10.21.1.2")  # node-1, sa echo
ECHO_12 = ("weft-lab-n1-p2", "10.21.2.2")  # node-1, sa client
ECHO_21 = ("weft-lab-n2-p1", "10.22.1.2")  # node-2, sa echo
ECHO_22 = ("weft-lab-n2-p2", "10.22.2.2")  # node-2, sa client
OUTSIDER = ("weft-lab-n1-out", "10.21.99.2")  # node-1, opted out of the mesh: plaintext
SERVICE = "10.96.0.10:80"
PORT = 8080
SA_ECHO = "spiffe://cluster.local/ns/lab/sa/echo"
SA_CLIENT = "spiffe://cluster.local/ns/lab/sa/client"

RELOADED = "configuration reloaded"
REJECTED = "configuration rejected; the last good configuration stays in force"


def sh(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=timeout)


def lab_namespaces() -> list[str]:
    out = sh("ip", "netns", "list").stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith("weft-lab-")]


def policy(name: str, body: str, ns: str = "lab", kind: str = "AuthorizationPolicy") -> str:
    return f"apiVersion: security.istio.io/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{body}"


ALLOW_SA_ECHO = policy(
    "allow-echo", "  action: ALLOW\n  rules:\n  - from:\n    - source: {principals: [cluster.local/ns/lab/sa/echo]}\n"
)
DENY_LAB_NS = policy(
    "deny-lab",
    "  action: DENY\n  rules:\n  - from:\n    - source: {namespaces: [lab]}\n"
    "    to:\n    - operation: {ports: ['8080']}\n",
)
DENY_SA_CLIENT = policy(
    "deny-client", "  action: DENY\n  rules:\n  - from:\n    - source: {principals: [cluster.local/ns/lab/sa/client]}\n"
)
STRICT = policy("default", "  mtls: {mode: STRICT}\n", ns="istio-system", kind="PeerAuthentication")

_FIELD = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)')


def fields(line: str) -> dict[str, str]:
    """The key=value fields of a node log line (quoted values unquoted)."""
    return {k: (v[1:-1].replace('\\"', '"') if v.startswith('"') else v) for k, v in _FIELD.findall(line)}


# A long-lived connection from inside a pod: exchanges a line, prints `ready <greeting>`, then reports
# `closed <how>` as soon as the socket is closed under it, and answers `ping` on stdin with `pong`/`closed <how>`.
LIVE_CLIENT = r"""
import select, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
def exchange(line):
    s.sendall(line)
    data = b""
    while not data.endswith(line):
        chunk = s.recv(4096)
        if not chunk:
            raise EOFError("eof")
        data += chunk
    return data
print("ready", exchange(b"before\n").split(b"|")[0].decode(), flush=True)
while True:
    ready, _, _ = select.select([s, sys.stdin], [], [])
    try:
        if s in ready:
            data = s.recv(4096)
            print("closed eof" if not data else "unexpected %r" % data, flush=True)
            break
        if not sys.stdin.readline():
            break
        exchange(b"ping\n")
        print("pong", flush=True)
    except (OSError, EOFError) as e:
        print("closed", type(e).__name__, flush=True)
        break
"""


class LiveConnection:
    def __init__(self, ns: str, target_ip: str, port: int = PORT):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-c", LIVE_CLIENT, target_ip, str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("<exited>")

    def next_line(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return "<nothing>"

    def ping(self, timeout: float = 10) -> str:
        self.proc.stdin.write("ping\n")
        self.proc.stdin.flush()
        return self.next_line(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, 9)
        self.proc.wait(timeout=10)


@dataclass
class Mesh:
    weft: Path
    dir: Path
    original: str
    live: list[LiveConnection] = field(default_factory=list)

    @property
    def manifest(self) -> Path:
        return self.dir / "mesh.yaml"

    def log(self, node: str) -> Path:
        return self.dir / f"{node}.log"

    def mark(self) -> dict[str, int]:
        return {node: self.log(node).stat().st_size for node in ("node-1", "node-2")}

    def lines(self, node: str, text: str, since: dict[str, int]) -> list[str]:
        with open(self.log(node), "rb") as f:
            f.seek(since[node])
            content = f.read().decode(errors="replace")
        return [line for line in content.splitlines() if text in line]

    def wait_log(self, node: str, text: str, since: dict[str, int], count: int = 1, timeout: float = 20) -> list[str]:
        deadline = time.time() + timeout
        while True:
            found = self.lines(node, text, since)
            if len(found) >= count:
                return found
            if time.time() > deadline:
                with open(self.log(node), "rb") as f:
                    f.seek(since[node])
                    tail = f.read().decode(errors="replace")[-3000:]
                raise AssertionError(f"'{text}' x{count} not logged by {node} within {timeout}s; since the mark:\n"
                                     f"{tail}")
            time.sleep(0.1)

    def write(self, text: str) -> None:
        # Written whole and renamed into place, so a node never polls a half-written file.
        tmp = self.dir / "mesh.yaml.tmp"
        tmp.write_text(text)
        os.replace(tmp, self.manifest)

    def apply(self, *docs: str) -> dict[str, int]:
        """Writes the lab's own manifest plus `docs`; returns the log mark once both nodes reloaded it."""
        mark = self.mark()
        self.write(self.original + "".join("---\n" + d for d in docs))
        for node in ("node-1", "node-2"):
            self.wait_log(node, RELOADED, mark)
            assert not self.lines(node, REJECTED, mark)
        return mark

    def probe(self, source: tuple[str, str], target: str, payload: str = "hello") -> str:
        result = sh("ip", "netns", "exec", source[0], str(self.weft), "lab", "probe", "--to", target, "--payload",
                    payload, check=False, timeout=30)
        return result.stdout.strip()

    def connect(self, source: tuple[str, str], target_ip: str) -> LiveConnection:
        conn = LiveConnection(source[0], target_ip)
        self.live.append(conn)
        return conn


@pytest.fixture
def mesh(weft, tmp_path):
    # `weft lab up` first removes any lab on the host; never take down one that someone else is running.
    if lab_namespaces():
        pytest.fail(f"another lab is running ({', '.join(lab_namespaces())}); remove it with weft lab down --dir <dir>")
    lab_dir = tmp_path / "lab"
    up = sh(str(weft), "lab", "up", "--dir", str(lab_dir), check=False, timeout=180)
    m = Mesh(weft, lab_dir, "")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        m.original = m.manifest.read_text()
        yield m
    finally:
        for conn in m.live:
            conn.kill()
        # `lab down` removes the lab folder: keep the node logs next to it for a failed run.
        for log in lab_dir.glob("node-*.log"):
            shutil.copy(log, tmp_path / log.name)
        down = sh(str(weft), "lab", "down", "--dir", str(lab_dir), check=False)
        assert down.returncode == 0, down.stderr
        assert lab_namespaces() == []


def ok(answer: str, name: str, source: tuple[str, str]) -> bool:
    return answer.startswith(f"ok {name} src={source[1]} ")


def test_allow_by_principal_admits_sa_echo_and_refuses_sa_client_and_plaintext(mesh: Mesh):
    # Before any policy everyone gets in, so the refusals below are the policy's doing.
    assert ok(mesh.probe(ECHO_12, f"{ECHO_21[1]}:{PORT}"), "echo-2-1", ECHO_12)
    assert ok(mesh.probe(OUTSIDER, f"{ECHO_11[1]}:{PORT}"), "echo-1-1", OUTSIDER)

    mark = mesh.apply(ALLOW_SA_ECHO)
    # Across nodes, both ways: sa echo is admitted (the app sees the caller's pod IP), sa client is not.
    assert ok(mesh.probe(ECHO_11, f"{ECHO_21[1]}:{PORT}"), "echo-2-1", ECHO_11)
    assert ok(mesh.probe(ECHO_21, f"{ECHO_12[1]}:{PORT}"), "echo-1-2", ECHO_21)
    out = mesh.probe(ECHO_12, f"{ECHO_21[1]}:{PORT}", "WEFT-AUTHZ-DENIED")
    assert out.startswith("failed"), out
    out = mesh.probe(ECHO_22, f"{ECHO_11[1]}:{PORT}")
    assert out.startswith("failed"), out

    # node-2 (the destination) decided and refused the HBONE stream with 401; node-1 saw the 401.
    denied = [fields(l) for l in mesh.wait_log("node-2", "connection denied by policy", mark)]
    assert any(d["connection"] == f"{ECHO_12[1]} ({SA_CLIENT}) -> {ECHO_21[1]}:{PORT} Pod/lab/echo-2-1"
               and d["decision"] == "denied: no ALLOW policy matched; 1 ALLOW policy applies" for d in denied), denied
    rejected = [fields(l) for l in mesh.wait_log("node-2", "hbone request rejected", mark)]
    assert any(r["status"] == "401" and r["peer"] == SA_CLIENT for r in rejected), rejected
    assert mesh.wait_log("node-1", "HBONE 401", mark)
    # ...and no allowed caller was ever denied.
    for node in ("node-1", "node-2"):
        assert not [l for l in mesh.lines(node, "connection denied by policy", mark) if SA_ECHO in l]

    # The outsider has no identity: plaintext inbound under an ALLOW-by-principal policy is reset.
    out = mesh.probe(OUTSIDER, f"{ECHO_11[1]}:{PORT}")
    assert out.startswith("failed"), out
    plain = [fields(l) for l in mesh.wait_log("node-1", "connection denied by policy", mark)]
    assert any(d["connection"].startswith(f"{OUTSIDER[1]} (plaintext) -> {ECHO_11[1]}:{PORT}") for d in plain), plain

    # The plaintext marker of the denied probe never crossed the node link.
    dump = sh("tcpdump", "-r", str(mesh.dir / "link.pcap"), "-nn", "-A", check=False).stdout
    assert "WEFT-AUTHZ-DENIED" not in dump


def test_deny_by_namespace_then_removing_the_policy_restores_traffic(mesh: Mesh):
    mark = mesh.apply(DENY_LAB_NS)
    # Every mesh caller is in namespace lab: refused across nodes, on the same node and through the Service (whose
    # targetPort is the denied 8080).
    for source, target in ((ECHO_11, ECHO_21), (ECHO_22, ECHO_11), (ECHO_11, ECHO_12)):
        out = mesh.probe(source, f"{target[1]}:{PORT}")
        assert out.startswith("failed"), (source, target, out)
    out = mesh.probe(ECHO_11, SERVICE)
    assert out.startswith("failed"), out
    denied = [fields(l) for l in mesh.wait_log("node-2", "connection denied by policy", mark)]
    assert any(d["decision"].startswith("denied by DENY policy lab/deny-lab rule 0") for d in denied), denied
    assert any(d["connection"].startswith(f"{ECHO_11[1]} ({SA_ECHO}) -> {ECHO_21[1]}:{PORT}") for d in denied), denied
    # Plaintext has no namespace, so the namespace rule does not match it (Istio semantics): the outsider gets in.
    assert ok(mesh.probe(OUTSIDER, f"{ECHO_11[1]}:{PORT}"), "echo-1-1", OUTSIDER)

    # The policy removed: the nodes reload and traffic flows again.
    mark = mesh.mark()
    mesh.write(mesh.original)
    for node in ("node-1", "node-2"):
        mesh.wait_log(node, RELOADED, mark)
    assert ok(mesh.probe(ECHO_11, f"{ECHO_21[1]}:{PORT}"), "echo-2-1", ECHO_11)
    assert ok(mesh.probe(ECHO_22, f"{ECHO_11[1]}:{PORT}"), "echo-1-1", ECHO_22)
    assert mesh.probe(ECHO_11, SERVICE).startswith("ok echo-")
    assert not mesh.lines("node-2", "connection denied by policy", mark)


def test_policy_added_at_run_time_closes_the_now_denied_live_connection(mesh: Mesh):
    doomed = mesh.connect(ECHO_12, ECHO_21[1])  # sa client
    kept = mesh.connect(ECHO_11, ECHO_21[1])  # sa echo
    assert doomed.next_line(15) == f"ready echo-2-1;src={ECHO_12[1]}"
    assert kept.next_line(15) == f"ready echo-2-1;src={ECHO_11[1]}"
    assert doomed.ping() == "pong" and kept.ping() == "pong"

    started = time.time()
    mark = mesh.apply(DENY_SA_CLIENT)
    closed = [fields(l) for l in mesh.wait_log("node-2", "connection closed: no longer authorized", mark, timeout=15)]
    # The mesh closes the socket under the client, without the client sending anything.
    outcome = doomed.next_line(15)
    elapsed = time.time() - started
    # Reset, not a FIN: the caller must not mistake the cut for a complete transfer.
    assert outcome == "closed ConnectionResetError", outcome
    assert elapsed < 10, f"closed only after {elapsed:.1f}s"
    assert len(closed) == 1, closed
    assert closed[0]["connection"].startswith(f"{ECHO_12[1]} ({SA_CLIENT}) -> {ECHO_21[1]}:{PORT}"), closed
    assert closed[0]["decision"].startswith("denied by DENY policy lab/deny-client rule 0"), closed

    # The other identity's connection is untouched and still usable; new connections follow the policy.
    assert kept.ping() == "pong"
    assert kept.next_line(1) == "<nothing>"
    out = mesh.probe(ECHO_12, f"{ECHO_21[1]}:{PORT}")
    assert out.startswith("failed"), out
    assert ok(mesh.probe(ECHO_11, f"{ECHO_21[1]}:{PORT}"), "echo-2-1", ECHO_11)
    assert kept.ping() == "pong"


def test_strict_and_allow_policy_together(mesh: Mesh):
    assert ok(mesh.probe(OUTSIDER, f"{ECHO_11[1]}:{PORT}"), "echo-1-1", OUTSIDER)  # PERMISSIVE until now
    live_plaintext = mesh.connect(OUTSIDER, ECHO_11[1])
    assert live_plaintext.next_line(15).startswith("ready echo-1-1")
    mark = mesh.apply(STRICT, ALLOW_SA_ECHO)
    # A plaintext connection opened under PERMISSIVE is reset when STRICT takes effect.
    assert live_plaintext.next_line(15) == "closed ConnectionResetError"
    closed = [fields(l) for l in mesh.wait_log("node-1", "connection closed: no longer authorized", mark)]
    assert closed[0]["decision"].startswith("plaintext refused: STRICT mTLS by PeerAuthentication istio-system/"), closed
    out = mesh.probe(OUTSIDER, f"{ECHO_11[1]}:{PORT}")
    assert out.startswith("failed"), out
    mesh.wait_log("node-1", "plaintext connection refused (STRICT)", mark)
    for source, target in ((ECHO_12, ECHO_21), (ECHO_22, ECHO_11)):
        out = mesh.probe(source, f"{target[1]}:{PORT}")
        assert out.startswith("failed"), (source, out)
    assert ok(mesh.probe(ECHO_11, f"{ECHO_21[1]}:{PORT}"), "echo-2-1", ECHO_11)
    assert ok(mesh.probe(ECHO_21, f"{ECHO_11[1]}:{PORT}"), "echo-1-1", ECHO_21)
    denied = [fields(l) for l in mesh.wait_log("node-2", "connection denied by policy", mark)]
    assert all(SA_CLIENT in d["connection"] for d in denied), denied


def test_broken_manifest_keeps_the_policy_and_traffic_in_force(mesh: Mesh):
    mesh.apply(ALLOW_SA_ECHO)
    live = mesh.connect(ECHO_11, ECHO_21[1])
    assert live.next_line(15) == f"ready echo-2-1;src={ECHO_11[1]}"

    mark = mesh.mark()
    mesh.write(mesh.original + "---\n" + ALLOW_SA_ECHO + "---\nkind: [\n")
    for node in ("node-1", "node-2"):
        mesh.wait_log(node, REJECTED, mark)
        assert not mesh.lines(node, RELOADED, mark)
    # The old ALLOW is still in force both ways, and the established connection lives on.
    assert ok(mesh.probe(ECHO_11, f"{ECHO_21[1]}:{PORT}"), "echo-2-1", ECHO_11)
    out = mesh.probe(ECHO_12, f"{ECHO_21[1]}:{PORT}")
    assert out.startswith("failed"), out
    out = mesh.probe(OUTSIDER, f"{ECHO_11[1]}:{PORT}")
    assert out.startswith("failed"), out
    assert live.ping() == "pong"

    # Fixed (and the policy dropped): the next good manifest is taken and sa client gets in again.
    mark = mesh.mark()
    mesh.write(mesh.original)
    for node in ("node-1", "node-2"):
        mesh.wait_log(node, RELOADED, mark)
    assert ok(mesh.probe(ECHO_12, f"{ECHO_21[1]}:{PORT}"), "echo-2-1", ECHO_12)
    assert live.ping() == "pong"
