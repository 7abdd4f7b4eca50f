"""In-pod capture in real network namespaces (root only): `weft lab up/down`, fail-closed on SIGKILL, takeover
on restart, PERMISSIVE/STRICT, and bad enrolment input. Uses the lab's own topology (weft-lab-* namespaces,
10.2x.y.2 pod addresses); every namespace and process is removed by `weft lab down` in teardown."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

SRC_NS, SRC_IP = "weft-lab-n1-p1", "10.21.1.2"
DST_NS, DST_IP = "weft-lab-n2-p1", "10.22.1.2"
OUTSIDER_NS = "weft-lab-n1-out"


def sh(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=timeout)


def probe(weft: Path, ns: str, target: str, payload: str = "hello") -> str:
    result = sh("ip", "netns", "exec", ns, str(weft), "lab", "probe", "--to", target, "--payload", payload, check=False)
    return result.stdout.strip()


def lab_namespaces() -> list[str]:
    out = sh("ip", "netns", "list").stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith("weft-lab-")]


def node_pid(ns: str) -> int:
    for pid in sh("ip", "netns", "pids", ns).stdout.split():
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if len(cmdline) > 1 and cmdline[1] == b"node":
            return int(pid)
    raise AssertionError(f"no weft node in {ns}")


def start_node(weft: Path, lab_dir: Path, node: str, ns: str, log: str) -> subprocess.Popen:
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, str(weft), "node", "--config", str(lab_dir / "mesh.yaml"), "--ca-dir",
         str(lab_dir / "ca"), "--node", node],
        stdout=subprocess.DEVNULL, stderr=open(lab_dir / log, "w"))


def wait_for(path: Path, text: str, count: int = 1, timeout: float = 20) -> str:
    deadline = time.time() + timeout
    content = ""
    while time.time() < deadline:
        content = path.read_text(errors="replace") if path.exists() else ""
        if content.count(text) >= count:
            return content
        time.sleep(0.1)
    raise AssertionError(f"'{text}' x{count} not seen in {path}:\n{content[-3000:]}")


@pytest.fixture
def lab(weft, tmp_path):
    lab_dir = tmp_path / "lab"
    up = sh(str(weft), "lab", "up", "--dir", str(lab_dir), check=False, timeout=180)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield lab_dir, up.stdout
    finally:
        down = sh(str(weft), "lab", "down", "--dir", str(lab_dir), check=False)
        assert down.returncode == 0, down.stderr
        assert lab_namespaces() == []


def test_lab_up_reports_and_down_cleans(lab):
    _, report = lab
    assert "echo-1-1 -> echo-2-1 (across nodes)" in report
    assert re.search(r"Service echo 10\.96\.0\.10:80\s+20/20", report), report
    assert "other TCP: 0" in report
    assert "plaintext markers sent by the probes found on the link: none" in report
    assert "mTLS peers: spiffe://cluster.local/ns/lab/sa/" in report


def test_pod_to_pod_across_nodes_by_ip_and_vip(weft, lab):
    # The destination application sees the caller's pod IP as source (IP_TRANSPARENT + policy routing).
    assert probe(weft, SRC_NS, f"{DST_IP}:8080").startswith(f"ok echo-2-1 src={SRC_IP} ")
    answered = {probe(weft, SRC_NS, "10.96.0.10:80").split()[1] for _ in range(30)}
    assert len(answered) >= 3, answered


def test_sigkill_fails_closed_and_restart_takes_over(weft, lab):
    lab_dir, _ = lab
    pid = node_pid("weft-lab-n1")
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    # The redirect stays, nothing listens: the pod's connections are refused, never sent in plaintext.
    out = probe(weft, SRC_NS, f"{DST_IP}:8080", "WEFT-FAIL-CLOSED-MARKER")
    assert out.startswith("failed"), out
    assert "inet weft" in sh("ip", "netns", "exec", SRC_NS, "nft", "list", "tables").stdout
    # Restart: takes over the table (no duplicates) and traffic flows again without manual cleanup.
    proc = start_node(weft, lab_dir, "node-1", "weft-lab-n1", "node-1-restarted.log")
    try:
        wait_for(lab_dir / "node-1-restarted.log", "pod enrolled", count=2)
        assert probe(weft, SRC_NS, f"{DST_IP}:8080").startswith("ok echo-2-1")
        tables = sh("ip", "netns", "exec", SRC_NS, "nft", "list", "tables").stdout.split("\n")
        assert [t for t in tables if t.strip()] == ["table inet weft"]
        ruleset = sh("ip", "netns", "exec", SRC_NS, "nft", "list", "table", "inet", "weft").stdout
        assert ruleset.count("redirect to :15001") == 1
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    # The fail-closed marker never crossed the node link.
    dump = sh("tcpdump", "-r", str(lab_dir / "link.pcap"), "-nn", "-A", check=False).stdout
    assert "WEFT-FAIL-CLOSED-MARKER" not in dump


def test_permissive_then_strict(weft, lab):
    lab_dir, _ = lab
    assert probe(weft, OUTSIDER_NS, f"{SRC_IP}:8080").startswith("ok echo-1-1 src=10.21.99.2 ")
    os.kill(node_pid("weft-lab-n1"), signal.SIGTERM)
    time.sleep(1)
    with open(lab_dir / "mesh.yaml", "a") as f:
        f.write("---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
                "metadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n")
    proc = start_node(weft, lab_dir, "node-1", "weft-lab-n1", "node-1-strict.log")
    try:
        log = wait_for(lab_dir / "node-1-strict.log", "pod enrolled", count=2)
        assert probe(weft, OUTSIDER_NS, f"{SRC_IP}:8080").startswith("failed")
        wait_for(lab_dir / "node-1-strict.log", "plaintext connection refused (STRICT)")
        # Mesh traffic is unaffected.
        assert probe(weft, DST_NS, f"{SRC_IP}:8080").startswith("ok echo-1-1")
        assert "critical" not in log
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_bad_enrolment_input(weft, lab):
    lab_dir, _ = lab
    os.kill(node_pid("weft-lab-n1"), signal.SIGTERM)
    time.sleep(1)
    manifest = (lab_dir / "mesh.yaml").read_text()
    # echo-1-2 points at a namespace that does not exist; echo-1-1 claims an IP its namespace does not have.
    manifest = manifest.replace("weft.dev/netns: weft-lab-n1-p2", "weft.dev/netns: weft-lab-missing")
    manifest = manifest.replace("status: {podIP: 10.21.1.2}", "status: {podIP: 10.21.1.77}")
    (lab_dir / "broken.yaml").write_text(manifest)
    proc = subprocess.Popen(
        ["ip", "netns", "exec", "weft-lab-n1", str(weft), "node", "--config", str(lab_dir / "broken.yaml"),
         "--ca-dir", str(lab_dir / "ca"), "--node", "node-1"],
        stdout=subprocess.DEVNULL, stderr=open(lab_dir / "broken.log", "w"))
    try:
        log = wait_for(lab_dir / "broken.log", "pod not enrolled", count=2)
        assert "cannot enter network namespace /var/run/netns/weft-lab-missing" in log
        assert "pod IP 10.21.1.77 is not an address of network namespace weft-lab-n1-p1" in log
        assert proc.poll() is None, "the node must keep running"
        # The other pods of the node (the outsider is opted out) are unaffected; node-2 still serves.
        assert probe(weft, DST_NS, "10.22.2.2:8080").startswith("ok echo-2-2")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_enrolment_follows_manifest_changes_and_bad_reload_keeps_last_good(weft, lab):
    lab_dir, _ = lab
    manifest = lab_dir / "mesh.yaml"
    log = lab_dir / "node-1.log"
    original = manifest.read_text()
    opted_out = original.replace(
        "name: echo-1-2\n  namespace: lab\n  labels: {app: echo}",
        "name: echo-1-2\n  namespace: lab\n  labels: {app: echo, istio.io/dataplane-mode: none}")
    assert opted_out != original
    manifest.write_text(opted_out)
    wait_for(log, "redirect table deleted", timeout=10)
    assert "inet weft" not in sh("ip", "netns", "exec", "weft-lab-n1-p2", "nft", "list", "tables").stdout
    manifest.write_text(original)
    wait_for(log, "configuration reloaded", count=2, timeout=10)
    assert "inet weft" in sh("ip", "netns", "exec", "weft-lab-n1-p2", "nft", "list", "tables").stdout
    # A broken manifest saved during operation: rejected, the last good configuration and traffic stay.
    manifest.write_text(original + "---\nkind: [\n")
    wait_for(log, "configuration rejected; the last good configuration stays in force", timeout=10)
    assert probe(weft, SRC_NS, f"{DST_IP}:8080").startswith(f"ok echo-2-1 src={SRC_IP} ")


SCRAPE = """
import json, sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())
"""


def node_http(node_ns: str, url: str) -> str:
    return sh("ip", "netns", "exec", node_ns, "python3", "-c", SCRAPE, url).stdout


def tcp_metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_lab_metrics_and_config_dump_match_the_traffic(weft, lab):
    """Metrics scraped from each node's :15020 inside its namespace count exactly the probes sent."""
    mesh = dict(source_principal="spiffe://cluster.local/ns/lab/sa/echo", source_workload="echo-1-1",
                destination_workload="echo-2-1", destination_principal="spiffe://cluster.local/ns/lab/sa/echo",
                connection_security_policy="mutual_tls", response_flags="-")
    before_src = node_http("weft-lab-n1", "http://127.0.0.1:15020/metrics")
    before_dst = node_http("weft-lab-n2", "http://127.0.0.1:15020/metrics")
    for _ in range(5):
        assert probe(weft, SRC_NS, f"{DST_IP}:8080").startswith("ok echo-2-1")
    # Plaintext from the outsider into a captured pod (PERMISSIVE): counted with security policy "none".
    assert probe(weft, OUTSIDER_NS, f"{SRC_IP}:8080").startswith("ok echo-1-1")
    deadline = time.time() + 10
    while True:
        after_src = node_http("weft-lab-n1", "http://127.0.0.1:15020/metrics")
        after_dst = node_http("weft-lab-n2", "http://127.0.0.1:15020/metrics")
        closed = [tcp_metric(t, "istio_tcp_connections_closed_total", reporter=r, **mesh) for t, r in
                  ((after_src, "source"), (after_dst, "destination"), (before_src, "source"), (before_dst, "destination"))]
        if (closed[0] - closed[2], closed[1] - closed[3]) == (5, 5) or time.time() > deadline:
            break
        time.sleep(0.2)
    assert closed[0] - closed[2] == 5 and closed[1] - closed[3] == 5, closed
    opened = tcp_metric(after_dst, "istio_tcp_connections_opened_total", reporter="destination", **mesh) - \
        tcp_metric(before_dst, "istio_tcp_connections_opened_total", reporter="destination", **mesh)
    assert opened == 5
    plain = dict(reporter="destination", destination_workload="echo-1-1", connection_security_policy="none",
                 source_workload="unknown")
    assert tcp_metric(after_src, "istio_tcp_connections_closed_total", **plain) - \
        tcp_metric(before_src, "istio_tcp_connections_closed_total", **plain) == 1
    assert "\nweft_pods_enrolled 2.0\n" in after_src, after_src[-3000:]
    # /config_dump on the node's loopback admin port: valid JSON with certificate expiry, no key material.
    dump_text = node_http("weft-lab-n1", "http://127.0.0.1:15000/config_dump")
    dump = json.loads(dump_text)
    assert dump["node"] == "node-1"
    # One certificate per identity of the node's workloads (the opted-out outsider runs as sa default).
    assert {c["identity"] for c in dump["certificates"]} == {"spiffe://cluster.local/ns/lab/sa/echo",
                                                             "spiffe://cluster.local/ns/lab/sa/client",
                                                             "spiffe://cluster.local/ns/lab/sa/default"}
    assert all(c["state"] == "Available" and c["expiresInSeconds"] > 0 for c in dump["certificates"])
    assert {p["netns"] for p in dump["capturedPods"]} == {"weft-lab-n1-p1", "weft-lab-n1-p2"}
    assert "PRIVATE KEY" not in dump_text
    assert node_http("weft-lab-n1", "http://127.0.0.1:15021/healthz/ready").strip() == "ready"


def test_lab_with_a_waypoint_sends_service_traffic_through_it(weft, tmp_path):
    lab_dir = tmp_path / "lab-wp"
    up = sh(str(weft), "lab", "up", "--dir", str(lab_dir), "--waypoint", "lab", check=False, timeout=180)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert re.search(r"Service echo 10\.96\.0\.10:80\s+20/20", up.stdout), up.stdout
        assert "via waypoint" in up.stdout and "(saw src=" not in up.stdout, up.stdout
        assert "hbone to spiffe://cluster.local/ns/lab/sa/waypoint via 10.21.98.2:15008: 20" in up.stdout, up.stdout
        # Direct pod-to-pod traffic does not use the waypoint; the link still carries only HBONE.
        assert "echo-1-1 -> echo-2-1 (across nodes)                       3/3   echo-2-1 x3" in up.stdout
        assert "other TCP: 0" in up.stdout
        waypoint_log = (lab_dir / "waypoint.log").read_text()
        assert waypoint_log.count("tcp connection complete") == 20, waypoint_log[-2000:]
    finally:
        down = sh(str(weft), "lab", "down", "--dir", str(lab_dir), check=False)
        assert down.returncode == 0, down.stderr
        assert lab_namespaces() == []
    bad = sh(str(weft), "lab", "up", "--dir", str(lab_dir), "--waypoint", "shop", check=False)
    assert bad.returncode != 0 and "use --waypoint lab" in bad.stderr, bad.stderr
