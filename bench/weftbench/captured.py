"""The captured path: pod → pod across two lab-like nodes, directly and through Weft with transparent capture.

Topology (built like `weft lab up`, Sources/WeftLab/LabPlan.swift, with its own names and addresses):

    weft-bcap-sw  (switch: bridge br0)
      ├─ veth ─ weft-bcap-n1  (node-1, 10.240.0.1/24, forwards; routes 10.242.0.0/16 via 10.240.0.2)
      │           ├─ veth ─ weft-bcap-n1-p1  client pod, 10.241.1.2  (in the mesh: captured by weft node-1)
      │           └─ veth ─ weft-bcap-n1-p2  client pod, 10.241.2.2  (not in the mesh)
      └─ veth ─ weft-bcap-n2  (node-2, 10.240.0.2/24, forwards; routes 10.241.0.0/16 via 10.240.0.1)
                  ├─ veth ─ weft-bcap-n2-p1  server pod, 10.242.1.2  (in the mesh: captured by weft node-2)
                  └─ veth ─ weft-bcap-n2-p2  server pod, 10.242.2.2  (not in the mesh)

Both server pods run the same nginx (the bench's static body) and `iperf3 -s`, on the pod's address. Two paths:

- ``pod-direct``: client pod p2 → server pod p2. The same hops (pod veth, node forwarding, the bridge, node
  forwarding, pod veth) and nothing else: no Weft in the path. The captured row's baseline.
- ``weft-captured``: client pod p1 → server pod p1. Both pods are enrolled (namespace `istio.io/dataplane-mode:
  ambient`, `weft.dev/netns` annotations); `weft node` runs inside each node's namespace as in the lab. The
  client's connection is redirected to node-1's :15001 in pod p1, carried over HBONE (pooled mTLS + HTTP/2
  CONNECT to 10.242.1.2:15008, node-2's listener in pod p1) and delivered to the server with the client pod's
  address as source. Path CPU and memory: both weft nodes.

Every namespace is named with the prefix ``weft-bcap-`` (never ``weft-lab-``, which belongs to `weft lab`); addresses
exist only inside them. Every process is registered with the harness's Registry and stopped by PID; stop() stops
them and deletes every namespace this run made, also after a failure or Ctrl-C. Namespaces with the prefix left by
a run that was killed (SIGKILL gives no chance to clean up) are deleted at the next start if no process is in them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .procs import Proc, wait_for

IMPLEMENTED = True
KEY = "weft-captured"
DIRECT_KEY = "pod-direct"
KEYS = (DIRECT_KEY, KEY)

PREFIX = "weft-bcap-"
SWITCH = PREFIX + "sw"
NAMESPACE = "bench"  # the Kubernetes namespace of the manifests
CAPTURE_PORTS = (15001, 15006, 15008)  # what node opens in each enrolled pod (outbound, inbound plaintext, HBONE)


class NotHere(Exception):
    """This host cannot make network namespaces (not root, no `ip`): the pod rows are skipped, not failed."""


@dataclass(frozen=True)
class Pod:
    name: str
    netns: str
    ip: str
    gateway: str
    host_veth: str  # in the node's namespace
    mesh: bool


@dataclass(frozen=True)
class Node:
    index: int
    name: str
    netns: str
    link_ip: str
    pod_range: str
    switch_veth: str  # in the switch namespace
    pods: tuple[Pod, ...]


def _node(i: int) -> Node:
    pods = tuple(
        Pod(name=f"{'client' if i == 1 else 'server'}-{'mesh' if j == 1 else 'direct'}", netns=f"{PREFIX}n{i}-p{j}",
            ip=f"10.24{i}.{j}.2", gateway=f"10.24{i}.{j}.1", host_veth=f"wbc{i}p{j}h", mesh=j == 1)
        for j in (1, 2))
    return Node(i, f"node-{i}", f"{PREFIX}n{i}", f"10.240.0.{i}", f"10.24{i}.0.0/16", f"wbcsw{i}", pods)


NODES = (_node(1), _node(2))
CLIENT_MESH, CLIENT_DIRECT = NODES[0].pods
SERVER_MESH, SERVER_DIRECT = NODES[1].pods
NAMESPACES = [SWITCH] + [ns for n in NODES for ns in [n.netns] + [p.netns for p in n.pods]]
ROOT_VETHS = [n.switch_veth for n in NODES] + [p.host_veth for n in NODES for p in n.pods]

TOPOLOGY = ("two nodes (network namespaces, each forwarding) on a bridge in a switch namespace, two pods behind each "
            "node, all joined by veth pairs (MTU 1500) as `weft lab` builds them; client pods on node-1, server "
            "pods (nginx + iperf3 -s) on node-2")


@dataclass
class State:
    """What this run made, for stop()."""
    made: list[str] = field(default_factory=list)     # namespaces, in creation order
    procs: list[Proc] = field(default_factory=list)   # servers and nodes, registered with lab.reg too
    config: Path | None = None
    link: dict | None = None  # the node-to-node link during the setup probes (set by bench.py)


def describe() -> dict:
    """The topology, for the JSON results and the report."""
    return {
        "topology": TOPOLOGY,
        "namespaces": NAMESPACES,
        "nodes": {n.name: {"netns": n.netns, "link_ip": n.link_ip} for n in NODES},
        "pods": {p.name: {"netns": p.netns, "ip": p.ip, "node": n.name, "in_mesh": p.mesh}
                 for n in NODES for p in n.pods},
        "paths": {DIRECT_KEY: f"{CLIENT_DIRECT.name} {CLIENT_DIRECT.ip} → {SERVER_DIRECT.name} {SERVER_DIRECT.ip}",
                  KEY: f"{CLIENT_MESH.name} {CLIENT_MESH.ip} → {SERVER_MESH.name} {SERVER_MESH.ip}"},
    }


def in_ns(ns: str) -> list[str]:
    """How a command runs inside a namespace."""
    return ["ip", "netns", "exec", ns]


def client_prefix(pod: Pod = CLIENT_MESH) -> list[str]:
    """How a client command runs inside a pod (by default the captured path's client pod)."""
    return in_ns(pod.netns)


# ------------------------------------------------------------------------------------------------------------
# Namespaces
# ------------------------------------------------------------------------------------------------------------

def _run(argv: list[str], timeout: float = 20) -> str:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` failed ({r.returncode}): {(r.stderr or r.stdout).strip()}")
    return r.stdout


def existing_namespaces() -> list[str]:
    try:
        return sorted(n for n in os.listdir("/var/run/netns") if n.startswith(PREFIX))
    except FileNotFoundError:
        return []


def _pids_in(ns: str) -> list[int]:
    r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, timeout=10)
    return [int(x) for x in r.stdout.split()] if r.returncode == 0 else []


def _clear_leftovers(log: Callable[[str], None]) -> None:
    """Namespaces of a run that was killed before it could clean up: deleted if nothing runs in them."""
    left = existing_namespaces()
    if not left:
        return
    busy = {ns: pids for ns in left if (pids := _pids_in(ns))}
    if busy:
        raise RuntimeError(
            "network namespaces " + ", ".join(f"{ns} (pids {' '.join(map(str, p))})" for ns, p in busy.items())
            + " already exist and have processes in them: another bench running? If not, stop those processes and "
              f"run `ip netns del` for each {PREFIX}* namespace")
    log(f"    removing {len(left)} namespace(s) left by an earlier run that did not finish: {', '.join(left)}")
    for ns in left:
        _run(["ip", "netns", "del", ns])


def setup_commands() -> list[list[str]]:
    """The `ip` commands that build the topology (namespace creation apart), in order; as LabPlan.setupCommands."""
    c: list[list[str]] = [
        ["ip", "-n", SWITCH, "link", "add", "br0", "type", "bridge"],
        ["ip", "-n", SWITCH, "link", "set", "br0", "up"],
    ]
    for node in NODES:
        c += [
            ["ip", "link", "add", node.switch_veth, "netns", SWITCH, "type", "veth", "peer", "name", "eth0",
             "netns", node.netns],
            ["ip", "-n", SWITCH, "link", "set", node.switch_veth, "master", "br0", "up"],
            ["ip", "-n", node.netns, "addr", "add", f"{node.link_ip}/24", "dev", "eth0"],
            ["ip", "-n", node.netns, "link", "set", "eth0", "up"],
            ["ip", "-n", node.netns, "link", "set", "lo", "up"],
            ["ip", "netns", "exec", node.netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
        ]
        for pod in node.pods:
            c += [
                ["ip", "link", "add", pod.host_veth, "netns", node.netns, "type", "veth", "peer", "name", "eth0",
                 "netns", pod.netns],
                ["ip", "-n", node.netns, "addr", "add", f"{pod.gateway}/24", "dev", pod.host_veth],
                ["ip", "-n", node.netns, "link", "set", pod.host_veth, "up"],
                ["ip", "-n", pod.netns, "addr", "add", f"{pod.ip}/24", "dev", "eth0"],
                ["ip", "-n", pod.netns, "link", "set", "eth0", "up"],
                ["ip", "-n", pod.netns, "link", "set", "lo", "up"],
                ["ip", "-n", pod.netns, "route", "add", "default", "via", pod.gateway],
            ]
        for other in NODES:
            if other.index != node.index:
                c.append(["ip", "-n", node.netns, "route", "add", other.pod_range, "via", other.link_ip])
    return c


def manifests() -> str:
    """The mesh: one ambient namespace with the two enrolled pods. The direct pods are not in it at all."""
    docs = [f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NAMESPACE}, labels: {{istio.io/dataplane-mode: "
            f"ambient}}}}"]
    for node in NODES:
        for pod in node.pods:
            if pod.mesh:
                docs.append(
                    f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {pod.name}\n  namespace: {NAMESPACE}\n"
                    f"  labels: {{app: {pod.name}}}\n  annotations: {{weft.dev/netns: {pod.netns}}}\n"
                    f"spec: {{serviceAccountName: {pod.name.split('-')[0]}, nodeName: {node.name}}}\n"
                    f"status: {{podIP: {pod.ip}}}")
    return "# The captured path's mesh (bench/weftbench/captured.py).\n" + "\n---\n".join(docs) + "\n"


# ------------------------------------------------------------------------------------------------------------
# Inside a namespace: listeners, HTTP probe
# ------------------------------------------------------------------------------------------------------------

def listening_ports(ns: str) -> set[int]:
    """TCP ports in LISTEN state in a namespace (any address), from its /proc/net/tcp."""
    r = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/tcp"], capture_output=True, text=True,
                       timeout=10)
    ports = set()
    for line in r.stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) > 3 and parts[3] == "0A":
            ports.add(int(parts[1].split(":")[1], 16))
    return ports


def wait_ports(ns: str, ports: tuple[int, ...], procs: list[Proc], timeout: float, what: str) -> None:
    wait_for(lambda: [f"{ns} port {port}" for port in sorted(set(ports) - listening_ports(ns))], procs, timeout,
             what, poll=0.2)


# One GET from inside a namespace: peers.http_get, run by a python3 started there.
_GET = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r}); "
        "from weftbench.peers import http_get; sys.stdout.buffer.write(http_get(sys.argv[1], int(sys.argv[2])))")


def http_get_in(prefix: list[str], ip: str, port: int, timeout: float = 10.0) -> bytes:
    """One HTTP/1.1 GET from inside a namespace (prefix: `ip netns exec <ns>`); OSError on failure."""
    try:
        r = subprocess.run(prefix + ["python3", "-c", _GET, ip, str(port)], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise OSError(f"no answer within {timeout:.0f}s") from e
    if r.returncode != 0:
        err = r.stderr.decode(errors="replace").strip().splitlines()
        raise OSError(err[-1] if err else f"exit status {r.returncode}")
    return r.stdout


# ------------------------------------------------------------------------------------------------------------
# Start, stop
# ------------------------------------------------------------------------------------------------------------

def available() -> str | None:
    """Why this host cannot build the pod paths, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if not shutil.which("ip"):
        return "needs `ip` (iproute2)"
    return None


def _state(lab) -> State:
    if lab.captured is None:
        lab.captured = State()
    return lab.captured


def _start_servers(lab, pod: Pod) -> tuple[Proc, Proc]:
    """nginx (the bench's static body) and iperf3 -s inside a server pod."""
    from .peers import HTTP_PORT, IPERF_PORT, render
    st = _state(lab)
    d = lab.root / f"nginx-{pod.name}"
    d.mkdir()
    d.chmod(0o755)
    conf = render("nginx-backend.conf", d / "nginx.conf", dir=d, www=lab.root / "nginx-backend" / "www",
                  workers=lab.workers, listen_ip=pod.ip, http_port=HTTP_PORT)
    nginx = lab.reg.start(f"nginx-{pod.name}", client_prefix(pod) + [
        "nginx", "-p", str(d), "-e", str(d / "error.log"), "-c", str(conf)])
    st.procs.append(nginx)
    iperf = _start_iperf(lab, pod)
    wait_ports(pod.netns, (HTTP_PORT, IPERF_PORT), [nginx, iperf], 15, f"the servers in pod {pod.name}")
    return nginx, iperf


def _start_iperf(lab, pod: Pod) -> Proc:
    from .peers import IPERF_PORT
    p = lab.reg.start(f"iperf3-{pod.name}", client_prefix(pod) + ["iperf3", "-s", "-B", pod.ip, "-p", str(IPERF_PORT)])
    _state(lab).procs.append(p)
    return p


def _weft_node(lab, node: Node) -> Proc:
    argv = in_ns(node.netns) + [
        str(lab.weft_bin), "node", "--config", str(_state(lab).config), "--ca-dir", str(lab.ca_dir),
        "--node", node.name, "--log-level", lab.weft_log_level,
        # Not part of the measurement (and the same as the Weft pair's nodes).
        "--admin-address", "off", "--metrics-address", "off", "--readiness-address", "off"]
    if lab.weft_threads:
        argv += ["--threads", str(lab.weft_threads)]
    p = lab.reg.start(f"weft-bcap-{node.name}", argv + lab.weft_args, cwd=lab.root)
    _state(lab).procs.append(p)
    return p


def start(lab, log: Callable[[str], None] = print, with_weft: bool = True) -> None:
    """Builds the topology and starts the servers (and, with_weft, the two weft nodes); each path goes into
    lab.paths as soon as it is up (pod-direct first, then weft-captured). Raises NotHere when this host cannot host
    namespaces, RuntimeError (naming what failed) otherwise; stop() cleans up either way."""
    from .peers import HTTP_PORT, IPERF_PORT, Path_
    why = available()
    if why:
        raise NotHere(why)
    st = _state(lab)
    _clear_leftovers(log)
    log(f"    {len(NAMESPACES)} network namespaces ({PREFIX}*): switch, 2 nodes, 4 pods")
    for ns in NAMESPACES:
        st.made.append(ns)  # first: a Ctrl-C right after `ip netns add` must not leave it behind
        try:
            _run(["ip", "netns", "add", ns])
        except RuntimeError as e:
            if "exists" in str(e):  # someone else's after all: not ours to delete
                st.made.remove(ns)
            raise
    for cmd in setup_commands():
        _run(cmd)

    nginx_d, iperf_d = _start_servers(lab, SERVER_DIRECT)
    lab.paths[DIRECT_KEY] = Path_(DIRECT_KEY, (SERVER_DIRECT.ip, HTTP_PORT), (SERVER_DIRECT.ip, IPERF_PORT),
                                  client_prefix=client_prefix(CLIENT_DIRECT), http_server=nginx_d,
                                  iperf_server=iperf_d)
    if not with_weft:
        return

    nginx_m, iperf_m = _start_servers(lab, SERVER_MESH)
    d = lab.root / "weft-bcap-config"
    d.mkdir()
    (d / "mesh.yaml").write_text(manifests())
    st.config = d
    nodes = [_weft_node(lab, n) for n in NODES]
    try:
        for pod in (CLIENT_MESH, SERVER_MESH):
            wait_ports(pod.netns, CAPTURE_PORTS, nodes, 30, f"weft enrolled pod {pod.name}")
    except RuntimeError:
        for p in nodes:  # their logs are in the error; they must not be reported again as "exited during the run"
            lab.reg.stop(p)
            lab.reg.procs.remove(p)
            st.procs.remove(p)
        raise
    lab.paths[KEY] = Path_(KEY, (SERVER_MESH.ip, HTTP_PORT), (SERVER_MESH.ip, IPERF_PORT), nodes,
                           client_prefix=client_prefix(CLIENT_MESH), http_server=nginx_m, iperf_server=iperf_m)


def restart_iperf_server(lab, key: str) -> None:
    """After a failed iperf3 run the pod's server can stay busy with the dead test: start a fresh one."""
    from .peers import IPERF_PORT
    path = lab.paths[key]
    pod = SERVER_MESH if key == KEY else SERVER_DIRECT
    old = path.iperf_server
    if old is not None:
        lab.reg.stop(old)
        lab.reg.procs.remove(old)
        _state(lab).procs.remove(old)
    path.iperf_server = _start_iperf(lab, pod)
    wait_ports(pod.netns, (IPERF_PORT,), [path.iperf_server], 15, f"iperf3 -s in pod {pod.name}")


def stop(lab) -> None:
    """Stops every process this module started (by PID, through the Registry), then deletes every namespace this
    run made. Safe to call more than once, and when start() failed half-way."""
    st = lab.captured
    if st is None:
        return
    for p in reversed(st.procs):
        try:
            lab.reg.stop(p)
        except Exception as e:  # noqa: BLE001 - keep going
            print(f"bench: could not stop {p.name} (pid {p.pid}): {e}")
        if p in lab.reg.procs:
            lab.reg.procs.remove(p)
    st.procs.clear()
    problems = []
    for ns in reversed(st.made):
        r = subprocess.run(["ip", "netns", "del", ns], capture_output=True, text=True, timeout=20)
        if r.returncode != 0 and ns in existing_namespaces():
            problems.append(f"{ns}: {r.stderr.strip()}")
    st.made.clear()
    # A veth whose move into a namespace failed half-way would stay in the root namespace: remove our own names.
    for name in ROOT_VETHS:
        if Path(f"/sys/class/net/{name}").exists():
            subprocess.run(["ip", "link", "del", name], capture_output=True, timeout=10)
    if problems:
        print("bench: could not delete network namespace(s): " + "; ".join(problems)
              + " (remove them with `ip netns del`)")


# ------------------------------------------------------------------------------------------------------------
# The node-to-node link, during the setup probes: HBONE only, and the ServerHellos
# ------------------------------------------------------------------------------------------------------------

def link_capture_argv(pcap: Path) -> list[str]:
    """tcpdump on the switch's bridge, every TCP segment between the two enrolled pods (headers and a little
    payload: enough for the ServerHello)."""
    return ["ip", "netns", "exec", SWITCH, "tcpdump", "-i", "br0", "-n", "-U", "--immediate-mode", "-s", "4000",
            "-w", str(pcap), f"tcp and host {CLIENT_MESH.ip} and host {SERVER_MESH.ip}"]


def link_proof(pcap: Path) -> tuple[int, int]:
    """(TCP segments between the enrolled pods on the link, of which outside port 15008). With capture working the
    link carries HBONE only; anything else there means the traffic bypassed Weft."""
    def count(expr: str) -> int:
        r = subprocess.run(["tcpdump", "-r", str(pcap), "-nn", expr], capture_output=True, text=True, timeout=30)
        return len(r.stdout.splitlines())
    return count("tcp"), count("tcp and not port 15008")
