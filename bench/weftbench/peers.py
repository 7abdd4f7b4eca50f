"""The paths under test and the processes that make them: the backends, the CA and certificates, haproxy, stunnel,
nginx and the Weft pair. Everything listens on dedicated loopback addresses, 127.0.40.x by default (the integration
tests use 127.0.11-14.x), ports 8080 (HTTP) and 5201 (iperf3) on every entry address. The pod paths (pod → pod
direct, Weft captured) live in network namespaces of their own: captured.py.
"""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import captured
from .procs import Proc, Registry, listeners_in, wait_listening

CONF = Path(__file__).resolve().parent.parent / "conf"

HTTP_PORT = 8080
IPERF_PORT = 5201
HBONE_PORT = 15008
SOCKS_PORT = 15080
TRUST_DOMAIN = "cluster.local"
CIPHERSUITES = "TLS_AES_128_GCM_SHA256"  # what two BoringSSL (Weft) peers pick on AES-NI hardware
CURVES = "X25519"

# Addresses, set by set_net(): the /24 the bench owns (default 127.0.40; --net changes it).
NET = SERVER_IP = WEFT_CLIENT_IP = WEFT_COLD_CLIENT_IP = WEFT_WP_CLIENT_IP = WAYPOINT_IP = ""
SERVICE_VIP = "10.96.240.10"  # the bench Service behind the waypoint (never routed: node A-wp resolves it)
ADDR: dict[str, object] = {}


def set_net(prefix: str = "127.0.40") -> None:
    """Entry address (where the client connects) of each path; tuples = the two sides (A, B) of a pair."""
    global NET, SERVER_IP, WEFT_CLIENT_IP, WEFT_COLD_CLIENT_IP, WEFT_WP_CLIENT_IP, WAYPOINT_IP
    NET = prefix.rstrip(".") + "."
    SERVER_IP = NET + "2"              # nginx backend, iperf3 server; the Weft server workload (node B)
    WEFT_CLIENT_IP = NET + "1"         # Weft client workload on node A
    WEFT_COLD_CLIENT_IP = NET + "3"    # the same, on node A-cold (--hbone-pool off)
    WEFT_WP_CLIENT_IP = NET + "4"      # the client workload of node A-wp (the waypoint path)
    WAYPOINT_IP = NET + "31"           # the waypoint's pod
    ADDR.clear()
    ADDR.update({
        "direct": SERVER_IP,
        "haproxy-plain": (NET + "10", NET + "11"),
        "haproxy-mtls": (NET + "12", NET + "13"),
        "stunnel-mtls": (NET + "14", NET + "15"),
        "weft": NET + "16",
        "weft-cold": NET + "17",
        "haproxy-http": NET + "20",
        "nginx-proxy": NET + "21",
        "weft-waypoint": NET + "30",   # node A-wp's upstream listener to the Service VIP
    })


set_net()

REFERENCE = "haproxy-mtls"

INDEX_BODY = ("<!DOCTYPE html><html><head><title>weft bench</title></head><body>"
              + "<p>" + "weft bench static body. " * 22 + "</p></body></html>\n")


class Unavailable(Exception):
    """A path that cannot be set up (e.g. the weft binary lacks a flag); the rest of the bench goes on."""


@dataclass
class PathDef:
    key: str
    label: str
    layer: str  # "l4" or "l7"
    description: str


PATHS = [
    PathDef("direct", "direct", "l4", "client → server"),
    PathDef("haproxy-plain", "haproxy plain pair", "l4", "client → haproxy A → haproxy B → server, plain TCP"),
    PathDef("haproxy-mtls", "haproxy mTLS pair", "l4",
            "client → haproxy A ⇒ haproxy B → server; A⇒B TLS 1.3 mutual TLS, verify required"),
    PathDef("stunnel-mtls", "stunnel mTLS pair", "l4",
            "client → stunnel (client mode) ⇒ stunnel (server mode) → server; TLS 1.3, chain verified both ways"),
    PathDef("weft", "Weft pair", "l4",
            "client → weft node A upstream listener ⇒ HBONE (mTLS + HTTP/2 CONNECT, :15008, pooled) ⇒ weft node B → server"),
    PathDef("weft-cold", "Weft pair, --hbone-pool off", "l4",
            "as the Weft pair, but every connection opens its own HBONE (TLS) connection: the cold path"),
    PathDef("haproxy-http", "haproxy mode http (L7)", "l7", "client → haproxy mode http → server"),
    PathDef("nginx-proxy", "nginx proxy_pass (L7)", "l7", "client → nginx proxy_pass (keep-alive upstream) → server"),
    PathDef("weft-waypoint", "Weft mesh through a waypoint (L7)", "l7",
            "client → weft node A upstream listener ⇒ HBONE ⇒ weft waypoint (HTTPRoute) ⇒ HBONE ⇒ weft node B → server"),
]
POD_PATHS = [
    PathDef("pod-direct", "pod → pod direct", "l4",
            "client pod → server pod across two nodes (network namespaces joined by veth pairs and a bridge), "
            "not in the mesh: the same hops as the captured path, no Weft"),
    PathDef("weft-captured", "Weft captured (pod → pod)", "l4",
            "client pod → (nftables redirect to node A's :15001 in the pod) weft node A ⇒ HBONE (mTLS + HTTP/2 "
            "CONNECT to the server pod's :15008, pooled) ⇒ weft node B → server pod, source preserved; across the "
            "same two nodes as pod → pod direct"),
]
CAPTURED = POD_PATHS[1]
if captured.IMPLEMENTED:
    PATHS += POD_PATHS
PATH_BY_KEY = {p.key: p for p in PATHS + POD_PATHS}

# What "×direct" and "added latency" compare each path with: loopback direct, except the captured path, which is
# compared with pod → pod direct (the same namespaces and hops without Weft).
BASELINE = {"weft-captured": "pod-direct"}


def baseline(key: str) -> str:
    return BASELINE.get(key, "direct")

# Rows the table shows before they can be measured.
SLOTS = {
    "weft-captured": ("Weft captured path (pod → pod, network namespaces)",
                      "not measured yet: hook `weftbench/captured.py`"),
}


@dataclass
class Path_:
    """A running path: where clients connect, and the processes whose CPU and memory count as the path's."""
    key: str
    http: tuple[str, int] | None
    iperf: tuple[str, int] | None
    procs: list[Proc] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    client_prefix: list[str] = field(default_factory=list)  # e.g. ip netns exec <ns>, for the captured path
    http_server: Proc | None = None   # the path's own servers (pod paths); None: the loopback backends
    iperf_server: Proc | None = None


def render(template: str, dest: Path, **values: object) -> Path:
    text = (CONF / template).read_text()

    def sub(m: re.Match) -> str:
        k = m.group(1)
        if k not in values:
            raise KeyError(f"{template}: no value for {{{{{k}}}}}")
        return str(values[k])

    dest.write_text(re.sub(r"\{\{(\w+)\}\}", sub, text))
    return dest


def http_get(ip: str, port: int, timeout: float = 5.0) -> bytes:
    with socket.create_connection((ip, port), timeout=timeout) as s:
        s.sendall(f"GET / HTTP/1.1\r\nHost: {ip}\r\nConnection: close\r\n\r\n".encode())
        out = bytearray()
        while chunk := s.recv(65536):
            out += chunk
    return bytes(out)


def probe_http(ip: str, port: int, deadline_s: float = 10.0, prefix: list[str] | None = None) -> None:
    """The path carries an HTTP request end to end and returns the backend's body. With prefix (`ip netns exec
    <ns>`), the request is made from inside that namespace."""
    end = time.monotonic() + deadline_s
    last = ""
    while True:
        try:
            resp = captured.http_get_in(prefix, ip, port) if prefix else http_get(ip, port)
            head, _, body = resp.partition(b"\r\n\r\n")
            if head.startswith(b"HTTP/1.1 200") and body == INDEX_BODY.encode():
                return
            last = f"unexpected response {resp[:120]!r}"
        except OSError as e:
            last = f"{type(e).__name__}: {e}"
        if time.monotonic() > end:
            raise RuntimeError(f"no HTTP 200 with the backend's body through {ip}:{port} within {deadline_s:.0f}s: {last}")
        time.sleep(0.2)


class Lab:
    """Everything the bench sets up, in one temp dir; the Registry owns the processes."""

    def __init__(self, root: Path, registry: Registry, weft_bin: Path, *, weft_threads: int | None,
                 weft_log_level: str, workers: int, weft_args: list[str] = ()):
        self.root = root
        self.reg = registry
        self.weft_bin = weft_bin
        self.weft_threads = weft_threads
        self.weft_log_level = weft_log_level
        self.weft_args = list(weft_args)
        self.workers = workers
        self.ca_dir = root / "ca"
        self.certs: dict[str, Path] = {}
        self.backend: Proc | None = None
        self.iperf_server: Proc | None = None
        self.paths: dict[str, Path_] = {}
        self.unavailable: dict[str, str] = {}
        self.skipped: dict[str, str] = {}  # paths this host cannot build (e.g. no namespaces): not failures
        self.captured = None  # captured.State, what the pod paths made
        self.stunnel = shutil.which("stunnel4") or shutil.which("stunnel") or "stunnel4"

    # -- preflight, CA ---------------------------------------------------------------------------------------
    def preflight(self) -> None:
        busy = listeners_in(NET)
        if busy:
            raise RuntimeError(
                f"something already listens on the bench's addresses ({', '.join(sorted(busy))}); "
                f"another bench running, or a leftover process? (see `ss -ltnp src {NET}0/24`; --net picks another /24)"
            )

    def make_ca(self, names: list[str]) -> None:
        self._weft("ca", "init", "--dir", self.ca_dir, "--trust-domain", TRUST_DOMAIN)
        for name in names:
            out = self.root / "certs" / name
            self._weft("ca", "issue", "--ca-dir", self.ca_dir, "--identity",
                       f"spiffe://{TRUST_DOMAIN}/ns/bench/sa/{name}", "--out", out, "--ttl", "2h")
            combined = out / "combined.pem"  # haproxy's crt: certificate and key in one file
            combined.write_text((out / "cert.pem").read_text() + (out / "key.pem").read_text())
            combined.chmod(0o600)
            self.certs[name] = out

    def _weft(self, *args: object) -> str:
        r = subprocess.run([str(self.weft_bin), *map(str, args)], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"weft {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r.stdout

    # -- backends --------------------------------------------------------------------------------------------
    def start_backends(self) -> None:
        d = self.root / "nginx-backend"
        www = d / "www"
        www.mkdir(parents=True)
        (www / "index.html").write_text(INDEX_BODY)
        # nginx workers run as "nobody": the files they serve must be reachable.
        for p in (self.root, d, www):
            p.chmod(0o755)
        (www / "index.html").chmod(0o644)
        conf = render("nginx-backend.conf", d / "nginx.conf", dir=d, www=www, workers=self.workers,
                      listen_ip=SERVER_IP, http_port=HTTP_PORT)
        self.backend = self._nginx("nginx-backend", conf, d)
        self.iperf_server = self.reg.start(
            "iperf3-server", ["iperf3", "-s", "-B", SERVER_IP, "-p", str(IPERF_PORT)])
        wait_listening([(SERVER_IP, HTTP_PORT), (SERVER_IP, IPERF_PORT)], [self.backend, self.iperf_server], 15)
        probe_http(SERVER_IP, HTTP_PORT)
        self.paths["direct"] = Path_("direct", (SERVER_IP, HTTP_PORT), (SERVER_IP, IPERF_PORT))

    def server(self, key: str, tool: str) -> Proc:
        """The server a path's clients reach: its own (pod paths) or the loopback backends."""
        p = self.paths[key]
        own = p.http_server if tool == "wrk" else p.iperf_server
        return own or (self.backend if tool == "wrk" else self.iperf_server)

    def restart_iperf_server(self, key: str = "direct") -> None:
        """After a failed iperf3 run the server can stay busy with the dead test: start a fresh one."""
        if key in self.paths and self.paths[key].iperf_server is not None:
            captured.restart_iperf_server(self, key)
            return
        if self.iperf_server is not None:
            self.reg.stop(self.iperf_server)
            self.reg.procs.remove(self.iperf_server)
        self.iperf_server = self.reg.start(
            "iperf3-server", ["iperf3", "-s", "-B", SERVER_IP, "-p", str(IPERF_PORT)])
        wait_listening([(SERVER_IP, IPERF_PORT)], [self.iperf_server], 15)

    def _nginx(self, name: str, conf: Path, d: Path) -> Proc:
        return self.reg.start(name, ["nginx", "-p", str(d), "-e", str(d / "error.log"), "-c", str(conf)])

    def _haproxy(self, name: str, template: str, **values: object) -> Proc:
        cfg = render(template, self.root / f"{name}.cfg", **values)
        check = subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy rejects {cfg.name}:\n{check.stdout}{check.stderr}")
        return self.reg.start(name, ["haproxy", "-db", "-f", str(cfg)])

    def _stunnel(self, name: str, template: str, **values: object) -> Proc:
        conf = render(template, self.root / f"{name}.conf", **values)
        return self.reg.start(name, [self.stunnel, str(conf)])

    # -- pairs -----------------------------------------------------------------------------------------------
    def start_path(self, key: str) -> None:
        try:
            getattr(self, "_start_" + key.replace("-", "_"))()
        except Unavailable as e:
            self.unavailable[key] = str(e)

    def _l4_path(self, key: str, procs: list[Proc]) -> None:
        a = ADDR[key][0] if isinstance(ADDR[key], tuple) else ADDR[key]
        addrs = [(a, HTTP_PORT), (a, IPERF_PORT)]
        if isinstance(ADDR[key], tuple):
            addrs += [(ADDR[key][1], HTTP_PORT), (ADDR[key][1], IPERF_PORT)]
        wait_listening(addrs, procs, 20)
        self.paths[key] = Path_(key, (a, HTTP_PORT), (a, IPERF_PORT), procs)

    def _start_haproxy_plain(self) -> None:
        a, b = ADDR["haproxy-plain"]
        pb = self._haproxy("haproxy-plain-b", "haproxy-plain-b.cfg", listen_ip=b, server_ip=SERVER_IP,
                           http_port=HTTP_PORT, iperf_port=IPERF_PORT)
        pa = self._haproxy("haproxy-plain-a", "haproxy-plain-a.cfg", listen_ip=a, next_ip=b,
                           http_port=HTTP_PORT, iperf_port=IPERF_PORT)
        self._l4_path("haproxy-plain", [pa, pb])

    def _start_haproxy_mtls(self) -> None:
        a, b = ADDR["haproxy-mtls"]
        common = dict(http_port=HTTP_PORT, iperf_port=IPERF_PORT, ciphersuites=CIPHERSUITES)
        pb = self._haproxy("haproxy-mtls-b", "haproxy-mtls-b.cfg", listen_ip=b, server_ip=SERVER_IP,
                           crt=self.certs["haproxy-b"] / "combined.pem", ca=self.certs["haproxy-b"] / "ca.pem",
                           curves=CURVES, **common)
        pa = self._haproxy("haproxy-mtls-a", "haproxy-mtls-a.cfg", listen_ip=a, next_ip=b,
                           crt=self.certs["haproxy-a"] / "combined.pem", ca=self.certs["haproxy-a"] / "ca.pem",
                           **common)
        self._l4_path("haproxy-mtls", [pa, pb])

    def _start_stunnel_mtls(self) -> None:
        a, b = ADDR["stunnel-mtls"]
        common = dict(http_port=HTTP_PORT, iperf_port=IPERF_PORT, ciphersuites=CIPHERSUITES, curves=CURVES)
        cb, ca_ = self.certs["stunnel-b"], self.certs["stunnel-a"]
        pb = self._stunnel("stunnel-b", "stunnel-server.conf", listen_ip=b, server_ip=SERVER_IP,
                           cert=cb / "cert.pem", key=cb / "key.pem", ca=cb / "ca.pem", **common)
        pa = self._stunnel("stunnel-a", "stunnel-client.conf", listen_ip=a, next_ip=b,
                           cert=ca_ / "cert.pem", key=ca_ / "key.pem", ca=ca_ / "ca.pem", **common)
        self._l4_path("stunnel-mtls", [pa, pb])

    def _start_haproxy_http(self) -> None:
        a = ADDR["haproxy-http"]
        p = self._haproxy("haproxy-http", "haproxy-waypoint.cfg", listen_ip=a, server_ip=SERVER_IP,
                          http_port=HTTP_PORT)
        wait_listening([(a, HTTP_PORT)], [p], 20)
        self.paths["haproxy-http"] = Path_("haproxy-http", (a, HTTP_PORT), None, [p])

    def _start_nginx_proxy(self) -> None:
        a = ADDR["nginx-proxy"]
        d = self.root / "nginx-proxy"
        d.mkdir()
        d.chmod(0o755)
        conf = render("nginx-waypoint.conf", d / "nginx.conf", dir=d, workers=self.workers, listen_ip=a,
                      server_ip=SERVER_IP, http_port=HTTP_PORT)
        p = self._nginx("nginx-proxy", conf, d)
        wait_listening([(a, HTTP_PORT)], [p], 20)
        self.paths["nginx-proxy"] = Path_("nginx-proxy", (a, HTTP_PORT), None, [p])

    # -- the Weft pair ---------------------------------------------------------------------------------------
    def weft_node_help(self) -> str:
        r = subprocess.run([str(self.weft_bin), "node", "--help"], capture_output=True, text=True, timeout=30)
        return r.stdout + r.stderr

    def _weft_manifests(self) -> Path:
        d = self.root / "weft-config"
        d.mkdir(exist_ok=True)
        render("weft-mesh.yaml", d / "mesh.yaml", node_a="node-a", node_a_cold="node-a-cold", node_b="node-b",
               client_ip=WEFT_CLIENT_IP, client_cold_ip=WEFT_COLD_CLIENT_IP, server_ip=SERVER_IP,
               node_a_wp="node-a-wp", client_wp_ip=WEFT_WP_CLIENT_IP, waypoint_ip=WAYPOINT_IP,
               service_vip=SERVICE_VIP, http_port=HTTP_PORT)
        return d

    def _weft_node(self, name: str, node: str, extra: list[str]) -> Proc:
        argv = [str(self.weft_bin), "node", "--config", str(self.root / "weft-config"), "--ca-dir", str(self.ca_dir),
                "--node", node, "--log-level", self.weft_log_level,
                # Three nodes share this namespace; their HTTP endpoints are not part of the measurement.
                "--admin-address", "off", "--metrics-address", "off", "--readiness-address", "off"]
        if self.weft_threads:
            argv += ["--threads", str(self.weft_threads)]
        argv += self.weft_args
        return self.reg.start(name, argv + extra, cwd=self.root)

    def _upstreams(self, workload: str, listen_ip: str) -> list[str]:
        return [f"--upstream=bench/{workload}@{listen_ip}:{port}={SERVER_IP}:{port}" for port in (HTTP_PORT, IPERF_PORT)]

    def _weft_b(self) -> Proc:
        """Node B (the server's node) is shared by the Weft pair and the --hbone-pool off pair."""
        existing = [p for p in self.reg.procs if p.name == "weft-node-b" and p.alive()]
        if existing:
            return existing[0]
        self._weft_manifests()
        b = self._weft_node("weft-node-b", "node-b", [])
        wait_listening([(SERVER_IP, HBONE_PORT), (SERVER_IP, SOCKS_PORT)], [b], 30)
        return b

    def _check_weft_flags(self, *flags: str) -> None:
        text = self.weft_node_help()
        missing = [f for f in flags if f not in text]
        if missing:
            raise Unavailable(f"`{self.weft_bin} node` has no {' / '.join(missing)} option yet (binary too old?)")

    def _start_weft(self) -> None:
        self._check_weft_flags("--upstream")
        b = self._weft_b()
        a_ip = ADDR["weft"]
        a = self._weft_node("weft-node-a", "node-a", self._upstreams("client", a_ip))
        wait_listening([(a_ip, HTTP_PORT), (a_ip, IPERF_PORT), (WEFT_CLIENT_IP, HBONE_PORT)], [a, b], 30)
        self.paths["weft"] = Path_("weft", (a_ip, HTTP_PORT), (a_ip, IPERF_PORT), [a, b])

    def _start_weft_cold(self) -> None:
        self._check_weft_flags("--upstream", "--hbone-pool")
        b = self._weft_b()
        a_ip = ADDR["weft-cold"]
        a = self._weft_node("weft-node-a-cold", "node-a-cold",
                            self._upstreams("client-cold", a_ip) + ["--hbone-pool", "off"])
        wait_listening([(a_ip, HTTP_PORT), (a_ip, IPERF_PORT), (WEFT_COLD_CLIENT_IP, HBONE_PORT)], [a, b], 30)
        self.paths["weft-cold"] = Path_("weft-cold", (a_ip, HTTP_PORT), (a_ip, IPERF_PORT), [a, b])

    def _start_weft_waypoint(self) -> None:
        r = subprocess.run([str(self.weft_bin), "waypoint", "--help"], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise Unavailable(f"`{self.weft_bin} waypoint` does not exist (binary too old?)")
        b = self._weft_b()
        a_ip = ADDR["weft-waypoint"]
        argv = [str(self.weft_bin), "waypoint", "--config", str(self.root / "weft-config"), "--ca-dir", str(self.ca_dir),
                "--workload", "bench/waypoint", "--log-level", self.weft_log_level,
                "--metrics-address", "off", "--readiness-address", "off"]
        if self.weft_threads:
            argv += ["--threads", str(self.weft_threads)]
        w = self.reg.start("weft-waypoint", argv, cwd=self.root)
        a = self._weft_node("weft-node-a-wp", "node-a-wp",
                            [f"--upstream=bench/client-wp@{a_ip}:{HTTP_PORT}={SERVICE_VIP}:{HTTP_PORT}"])
        wait_listening([(a_ip, HTTP_PORT), (WAYPOINT_IP, HBONE_PORT), (WEFT_WP_CLIENT_IP, HBONE_PORT)], [a, w, b], 30)
        self.paths["weft-waypoint"] = Path_("weft-waypoint", (a_ip, HTTP_PORT), None, [a, w, b])

    # -- checks ----------------------------------------------------------------------------------------------
    def tls_checks(self) -> tuple[dict, list[str]]:
        """Each TLS server side really does what the table claims: TLS 1.3 only, client certificate required.
        Returns (details per server side, problems)."""
        sides = []
        if "haproxy-mtls" in self.paths:
            sides.append(("haproxy mTLS B", (ADDR["haproxy-mtls"][1], HTTP_PORT), None))
        if "stunnel-mtls" in self.paths:
            sides.append(("stunnel B", (ADDR["stunnel-mtls"][1], HTTP_PORT), None))
        if "weft" in self.paths:
            sides.append(("weft node B", (SERVER_IP, HBONE_PORT), ["h2"]))
        details, problems = {}, []
        for name, addr, alpn in sides:
            good = tls_probe(addr, self.certs["probe"], alpn)
            no_cert = tls_probe(addr, None, alpn, ca=self.certs["probe"] / "ca.pem")
            tls12 = tls_probe(addr, self.certs["probe"], alpn, tls12=True)
            details[name] = {"with_client_cert": good, "without_client_cert": no_cert, "tls1.2_offer": tls12}
            if good["result"] != "accepted":
                problems.append(f"{name} {addr[0]}:{addr[1]}: refuses a valid client certificate: {good['detail']}")
            if no_cert["result"] == "accepted":
                problems.append(f"{name} {addr[0]}:{addr[1]}: accepts a client without certificate")
            if tls12["result"] == "accepted":
                problems.append(f"{name} {addr[0]}:{addr[1]}: accepts TLS 1.2")
        return details, problems

    def probe(self, key: str) -> None:
        """One HTTP request through the path, end to end (the first one through Weft also warms its pool)."""
        p = self.paths[key]
        probe_http(*p.http, deadline_s=15.0, prefix=p.client_prefix or None)


def tls_probe(addr: tuple[str, int], cert_dir: Path | None, alpn: list[str] | None, *, ca: Path | None = None,
              tls12: bool = False) -> dict:
    """One TLS client connection (Python's OpenSSL); over plain HTTP sides it also sends a request, so a server that
    let the connection through is caught even when TLS 1.3 reports client-certificate failures late."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(str(ca or cert_dir / "ca.pem"))
    if cert_dir is not None:
        ctx.load_cert_chain(str(cert_dir / "cert.pem"), str(cert_dir / "key.pem"))
    if tls12:
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if alpn:
        ctx.set_alpn_protocols(alpn)
    try:
        with socket.create_connection(addr, timeout=5) as raw, ctx.wrap_socket(raw) as s:
            negotiated = f"{s.version()} {s.cipher()[0]}" + (f" ALPN {s.selected_alpn_protocol()}" if alpn else "")
            if alpn:
                s.settimeout(1.0)
                try:
                    data = s.recv(64)  # an h2 server speaks first (SETTINGS); a refusing one sends an alert
                except socket.timeout:
                    data = b""
                    return {"result": "accepted", "detail": negotiated + ", server silent"}
                if not data:
                    return {"result": "refused", "detail": "closed after the handshake"}
                return {"result": "accepted", "detail": negotiated}
            s.sendall(f"GET / HTTP/1.1\r\nHost: {addr[0]}\r\nConnection: close\r\n\r\n".encode())
            data = s.recv(64)
            if data.startswith(b"HTTP/1.1 200"):
                return {"result": "accepted", "detail": negotiated}
            return {"result": "refused", "detail": f"{negotiated}, then {data[:40]!r}"}
    except ssl.SSLError as e:
        return {"result": "refused", "detail": f"{e.reason or e}"}
    except OSError as e:
        return {"result": "refused", "detail": f"{type(e).__name__}: {e}"}
