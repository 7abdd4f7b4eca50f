"""Support library for Weft's integration tests: processes, manifests, SOCKS5, HBONE-side clients, logs, certs.

Everything that starts a process registers it with a :class:`Lab`; ``Lab.close()`` kills each one by PID.
"""

from __future__ import annotations

import base64
import datetime as _dt
import ipaddress
import json
import os
import re
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ECHO_SERVER = HERE / "helpers" / "echo_server.py"
HBONE_CLIENT_JS = HERE / "interop" / "hbone-client.js"

STARTUP_TIMEOUT = 20.0
ADMIN_PORT, METRICS_PORT, READINESS_PORT = 15000, 15020, 15021
TRUST_DOMAIN = "cluster.local"


def weft_binary() -> Path:
    env = os.environ.get("WEFT_BIN")
    return Path(env) if env else REPO / ".build" / "debug" / "weft"


# --------------------------------------------------------------------------------------------------------------
# Logs
# --------------------------------------------------------------------------------------------------------------

_LINE_RE = re.compile(r"^(\S+) (trace|debug|info|notice|warning|error|critical) (.*)$")
_KV_RE = re.compile(r'([A-Za-z_][\w.\-]*)=("(?:[^"\\]|\\.)*"|\S*)')
_FIRST_KV_RE = re.compile(r'(?:^|\s)[A-Za-z_][\w.\-]*=')


@dataclass
class LogRecord:
    time: str
    level: str
    message: str
    fields: dict[str, str]
    raw: str

    def __getitem__(self, key: str) -> str:
        return self.fields[key]

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.fields.get(key, default)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_log_line(line: str) -> LogRecord | None:
    m = _LINE_RE.match(line.rstrip("\n"))
    if not m:
        return None
    ts, level, rest = m.groups()
    first = _FIRST_KV_RE.search(rest)
    if first:
        message, kv = rest[: first.start()].strip(), rest[first.start():]
    else:
        message, kv = rest.strip(), ""
    fields = {k: _unquote(v) for k, v in _KV_RE.findall(kv)}
    return LogRecord(ts, level, message, fields, line.rstrip("\n"))


def from_port(record: LogRecord, port: int, key: str = "peer_addr") -> bool:
    """Whether a record's address field (e.g. ``[IPv4]127.0.0.1/127.0.0.1:34906``) has this port."""
    return record.get(key, "").endswith(f":{port}")


def crash_excerpt(text: str) -> str:
    """The interesting part of a log: around a Swift crash if there is one, else the last non-debug lines."""
    keep = [line for line in text.splitlines() if " debug " not in line and line.strip()]
    for i, line in enumerate(keep):
        if "Precondition failed" in line or "Fatal error" in line or "Program crashed" in line:
            return "\n".join(keep[max(0, i - 3): i + 12])
    return "\n".join(keep[-20:])


def parse_log(text: str) -> list[LogRecord]:
    return [r for r in (parse_log_line(line) for line in text.splitlines()) if r is not None]


class LogFile:
    """A process's stderr log; ``mark()`` returns an offset so a test can look only at lines written after it."""

    def __init__(self, path: Path):
        self.path = path

    def text(self, since: int = 0) -> str:
        try:
            with open(self.path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def mark(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def records(self, since: int = 0) -> list[LogRecord]:
        return parse_log(self.text(since))

    def find(self, message: str, since: int = 0, **fields: str) -> list[LogRecord]:
        return [
            r for r in self.records(since)
            if r.message == message and all(r.fields.get(k) == str(v) for k, v in fields.items())
        ]

    def count(self, message: str, since: int = 0, **fields: str) -> int:
        return len(self.find(message, since, **fields))

    def wait_for(
        self,
        message: str,
        since: int = 0,
        count: int = 1,
        timeout: float = 10.0,
        predicate: Callable[[LogRecord], bool] | None = None,
        proc: subprocess.Popen | None = None,
        **fields: str,
    ) -> list[LogRecord]:
        """Polls until ``count`` matching lines exist. With ``proc``, fails at once if that process has exited."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.find(message, since, **fields) if predicate is None or predicate(r)]
            if len(found) >= count:
                return found
            if proc is not None and proc.poll() is not None:
                raise AssertionError(
                    f"process {proc.pid} exited ({proc.returncode}) while waiting for {message!r} {fields}. "
                    f"Log since mark:\n{crash_excerpt(self.text(since))}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count}x {message!r} {fields} in {self.path}; "
                    f"found {len(found)}. Log since mark:\n{self.text(since)[-6000:]}"
                )
            time.sleep(0.05)


# --------------------------------------------------------------------------------------------------------------
# Manifests
# --------------------------------------------------------------------------------------------------------------

def _flow(d: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in d.items()) + "}"


def namespace_doc(name: str = "demo", ambient: bool = True) -> str:
    labels = ", labels: {istio.io/dataplane-mode: ambient}" if ambient else ""
    return f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}{labels}}}\n"


def pod_doc(name: str, ip: str, node: str, sa: str, ns: str = "demo", labels: dict[str, str] | None = None) -> str:
    labels = labels or {"app": name}
    return (
        "apiVersion: v1\nkind: Pod\n"
        f"metadata: {{name: {name}, namespace: {ns}, labels: {_flow(labels)}}}\n"
        f"spec: {{serviceAccountName: {sa}, nodeName: {node}}}\n"
        f"status: {{podIP: {ip}}}\n"
    )


def workload_entry_doc(
    name: str, ip: str, node: str, sa: str, ns: str = "demo", labels: dict[str, str] | None = None, weight: int | None = None
) -> str:
    labels = labels or {"app": name}
    weight_line = f"  weight: {weight}\n" if weight is not None else ""
    return (
        "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
        f"metadata: {{name: {name}, namespace: {ns}, annotations: {{weft.dev/node: {node}}}}}\n"
        "spec:\n"
        f"  address: {ip}\n  labels: {_flow(labels)}\n  serviceAccount: {sa}\n{weight_line}"
    )


def service_doc(name: str, cluster_ip: str, selector: dict[str, str], port: int, target_port: int, ns: str = "demo") -> str:
    return (
        "apiVersion: v1\nkind: Service\n"
        f"metadata: {{name: {name}, namespace: {ns}}}\n"
        "spec:\n"
        f"  clusterIP: {cluster_ip}\n"
        f"  selector: {_flow(selector)}\n"
        f"  ports: [{{name: tcp-{name}, port: {port}, targetPort: {target_port}}}]\n"
    )


def join_docs(docs: Iterable[str]) -> str:
    return "---\n".join(docs)


# --------------------------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------------------------

@dataclass
class CA:
    dir: Path
    trust_domain: str = TRUST_DOMAIN

    @property
    def cert(self) -> Path:
        return self.dir / "ca-cert.pem"

    @property
    def key(self) -> Path:
        return self.dir / "ca-key.pem"


@dataclass
class ClientCert:
    dir: Path

    @property
    def cert(self) -> Path:
        return self.dir / "cert.pem"

    @property
    def key(self) -> Path:
        return self.dir / "key.pem"

    @property
    def ca(self) -> Path:
        return self.dir / "ca.pem"


@dataclass
class Echo:
    ip: str
    port: int
    name: str | None
    proc: subprocess.Popen

    @property
    def addr(self) -> tuple[str, int]:
        return (self.ip, self.port)


@dataclass
class NodeProc:
    name: str
    proc: subprocess.Popen
    log: LogFile
    args: list[str]
    ips: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)


def pick_free_port(ips: Iterable[str]) -> int:
    """A TCP port that is currently free on every one of ``ips``."""
    ips = list(ips)
    for _ in range(200):
        with socket.socket() as s:
            s.bind((ips[0], 0))
            port = s.getsockname()[1]
        ok = True
        for ip in ips:
            with socket.socket() as t:
                try:
                    t.bind((ip, port))
                except OSError:
                    ok = False
                    break
        if ok:
            return port
    raise RuntimeError(f"no common free port on {ips}")


def listening_on(ip: str, port: int) -> bool:
    out = subprocess.run(
        ["ss", "-Hltn", f"( src = {ip} and sport = :{port} )"], capture_output=True, text=True, check=False
    ).stdout
    return bool(out.strip())


def established_to(ip: str, port: int) -> int:
    """Established TCP connections whose destination is ip:port (client side only)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( dst {ip} and dport = :{port} )"],
        capture_output=True, text=True, check=False,
    ).stdout
    return len([line for line in out.splitlines() if line.strip()])


class Lab:
    """A directory with a CA, manifests, logs, and the processes of one test (or one module)."""

    def __init__(self, root: Path, weft: Path, net: str):
        self.root = root
        self.weft = weft
        self.net = net  # e.g. "127.0.11"
        self.procs: list[subprocess.Popen] = []
        self._files = []
        self.nodes: list[NodeProc] = []

    def ip(self, host: int) -> str:
        return f"{self.net}.{host}"

    # -- weft CLI ------------------------------------------------------------------------------------------------
    def run_weft(self, *args: str | Path, timeout: float = 60, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.weft), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd or self.root
        )

    def init_ca(self, name: str = "ca", trust_domain: str = TRUST_DOMAIN) -> CA:
        d = self.root / name
        r = self.run_weft("ca", "init", "--dir", d, "--trust-domain", trust_domain)
        assert r.returncode == 0, f"weft ca init failed: {r.stdout}{r.stderr}"
        return CA(d, trust_domain)

    def issue(self, ca: CA, identity: str, name: str, ttl: str = "1h") -> ClientCert:
        out = self.root / "certs" / name
        r = self.run_weft("ca", "issue", "--ca-dir", ca.dir, "--identity", identity, "--out", out, "--ttl", ttl)
        assert r.returncode == 0, f"weft ca issue failed: {r.stdout}{r.stderr}"
        return ClientCert(out)

    def write(self, name: str, text: str) -> Path:
        """Writes atomically (a temporary file renamed over the old one), as a deployment tool would: a watching
        daemon never sees a half-written manifest."""
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, p)
        return p

    # -- processes -----------------------------------------------------------------------------------------------
    def _spawn(self, args: list[str], **kw) -> subprocess.Popen:
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def start_echo(self, ip: str, port: int = 0, name: str | None = None, timeout: float = STARTUP_TIMEOUT) -> Echo:
        args = [sys.executable, str(ECHO_SERVER), "--host", ip, "--port", str(port)]
        if name:
            args += ["--name", name]
        p = self._spawn(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([p.stdout], [], [], timeout)
        if not ready:
            raise AssertionError(f"echo server on {ip}:{port} did not start within {timeout}s")
        line = p.stdout.readline()
        if not line.startswith("READY "):
            p.wait(5)
            raise AssertionError(f"echo server on {ip}:{port} failed: {line!r} {p.stderr.read()}")
        return Echo(ip, int(line.split()[1]), name, p)

    def start_node(
        self,
        node: str,
        config: Path | list[Path],
        ca: CA,
        ips: list[str],
        *,
        extra: list[str] = (),
        log_level: str = "debug",
        threads: int | None = 2,
        drain_timeout: str | None = None,
        wait: bool = True,
    ) -> NodeProc:
        configs = config if isinstance(config, list) else [config]
        for ip in ips:
            for port in (15008, 15080):
                # The node binds with SO_REUSEPORT: a leftover process on the same address would silently share it.
                assert not listening_on(ip, port), f"something already listens on {ip}:{port}; a leaked process?"
        args = [str(self.weft), "node"]
        for c in configs:
            args += ["--config", str(c)]
        args += ["--ca-dir", str(ca.dir), "--node", node, "--log-level", log_level]
        if threads is not None:
            args += ["--threads", str(threads)]
        if drain_timeout is not None:
            args += ["--drain-timeout", drain_timeout]
        # Several nodes share the host's namespace here: each gets its admin, metrics and readiness endpoints on
        # its first address (all loopback), or none.
        for flag, port in (("--admin-address", ADMIN_PORT), ("--metrics-address", METRICS_PORT),
                           ("--readiness-address", READINESS_PORT)):
            if not any(str(e).startswith(flag) for e in extra):
                args += [flag, f"{ips[0]}:{port}" if ips else "off"]
        args += list(extra)
        n = 1
        while (self.root / f"{node}.{n}.log").exists():
            n += 1
        log_path = self.root / f"{node}.{n}.log"
        f = open(log_path, "wb")
        self._files.append(f)
        p = self._spawn(args, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.root)
        np = NodeProc(node, p, LogFile(log_path), args, list(ips))
        self.nodes.append(np)
        if wait:
            self.wait_listening(np, ips)
        return np

    def restart_node(self, np: NodeProc) -> NodeProc:
        """Starts a node again with the same arguments (after it died); returns the new process."""
        self.kill(np.proc)
        i = 1
        while (self.root / f"{np.name}.{i}.log").exists():
            i += 1
        log_path = self.root / f"{np.name}.{i}.log"
        f = open(log_path, "wb")
        self._files.append(f)
        p = self._spawn(np.args, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.root)
        new = NodeProc(np.name, p, LogFile(log_path), np.args, np.ips)
        self.nodes.append(new)
        self.wait_listening(new, np.ips)
        return new

    def wait_listening(self, np: NodeProc, ips: list[str], timeout: float = STARTUP_TIMEOUT) -> None:
        expected = {f"{ip}:{port}" for ip in ips for port in (15008, 15080)}
        deadline = time.monotonic() + timeout
        while True:
            seen = set()
            for r in np.log.find("listening"):
                addr = r.get("addr", "")
                seen.add(re.sub(r"^\[IPv[46]\]", "", addr))
            if expected <= seen:
                return
            if np.proc.poll() is not None:
                raise AssertionError(f"weft node {np.name} exited with {np.proc.returncode}:\n{np.log.text()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"weft node {np.name} not listening on {sorted(expected - seen)} after {timeout}s:\n{np.log.text()[-4000:]}"
                )
            time.sleep(0.05)

    def kill(self, p: subprocess.Popen, grace: float = 3.0) -> None:
        if p.poll() is not None:
            return
        try:
            os.kill(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=10)

    def close(self) -> None:
        for p in reversed(self.procs):
            self.kill(p)
        for p in self.procs:
            for s in (p.stdout, p.stderr):
                if s is not None:
                    s.close()
        self.procs.clear()
        for f in self._files:
            f.close()
        self._files.clear()


# --------------------------------------------------------------------------------------------------------------
# SOCKS5
# --------------------------------------------------------------------------------------------------------------

SOCKS_PORT = 15080


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_all(sock: socket.socket) -> bytes:
    out = bytearray()
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return bytes(out)
        out += chunk


def socks_request(dst_ip: str, dst_port: int) -> bytes:
    addr = ipaddress.ip_address(dst_ip)
    if addr.version == 4:
        return b"\x05\x01\x00\x01" + addr.packed + struct.pack(">H", dst_port)
    return b"\x05\x01\x00\x04" + addr.packed + struct.pack(">H", dst_port)


def socks_connect(proxy_ip: str, dst_ip: str, dst_port: int, timeout: float = 15.0) -> tuple[socket.socket, int]:
    """Opens a SOCKS5 CONNECT through the workload's listener; returns (socket, reply code). The client socket is
    bound to the workload's address, as an application running on that workload's address would be."""
    s = socket.create_connection((proxy_ip, SOCKS_PORT), timeout=timeout, source_address=(proxy_ip, 0))
    try:
        s.sendall(b"\x05\x01\x00")
        greeting = recv_exact(s, 2)
        assert greeting == b"\x05\x00", f"unexpected SOCKS greeting reply {greeting!r}"
        s.sendall(socks_request(dst_ip, dst_port))
        head = recv_exact(s, 4)
        assert head[0] == 5, f"bad SOCKS reply {head!r}"
        code, atyp = head[1], head[3]
        rest = {1: 4, 4: 16}.get(atyp)
        if rest is None and atyp == 3:
            rest = recv_exact(s, 1)[0]
        if rest is None:
            raise AssertionError(f"bad SOCKS reply address type {atyp}")
        recv_exact(s, rest + 2)
        return s, code
    except BaseException:
        s.close()
        raise


def echo_roundtrip(proxy_ip: str, dst: tuple[str, int], payload: bytes = b"ping through weft\n", timeout: float = 15.0) -> bytes:
    """SOCKS → weft → destination echo; sends payload, half-closes, returns everything received."""
    s, code = socks_connect(proxy_ip, dst[0], dst[1], timeout=timeout)
    with s:
        assert code == 0, f"SOCKS reply code {code} for {dst}"
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        return recv_all(s)


# --------------------------------------------------------------------------------------------------------------
# TLS / HBONE clients
# --------------------------------------------------------------------------------------------------------------

def tls_client_context(
    cert: ClientCert | tuple[Path, Path] | None,
    alpn: list[str] | None = ("h2",),
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
    max_version: ssl.TLSVersion | None = None,
    ca: Path | None = None,
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    ctx.check_hostname = False
    if ca is not None:
        ctx.load_verify_locations(str(ca))
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        c, k = (cert.cert, cert.key) if isinstance(cert, ClientCert) else cert
        ctx.load_cert_chain(str(c), str(k))
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def run_js_client(
    host: str,
    authority: str,
    cert: ClientCert,
    *,
    port: int = 15008,
    method: str = "CONNECT",
    data: bytes = b"",
    expect_san: str | None = None,
    close_wait_ms: int | None = None,
    timeout: float = 20.0,
) -> dict:
    """Runs interop/hbone-client.js; returns its JSON result.

    Keys: status (None if no response), body (bytes), error, alpn, peerSAN, localPort, serverClosedMs, exit, stderr.
    """
    args = [
        "node", str(HBONE_CLIENT_JS),
        "--host", host, "--port", str(port), "--authority", authority, "--method", method,
        "--cert", str(cert.cert), "--key", str(cert.key), "--ca", str(cert.ca),
        "--data-base64", base64.b64encode(data).decode(),
    ]
    if expect_san:
        args += ["--expect-san", expect_san]
    if close_wait_ms is not None:
        args += ["--close-wait-ms", str(close_wait_ms)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
    assert lines, f"hbone-client.js printed no result (exit {r.returncode}):\nstdout={r.stdout}\nstderr={r.stderr}"
    out = json.loads(lines[-1])
    out["exit"] = r.returncode
    out["stderr"] = r.stderr
    if out.get("bodyBase64") is not None:
        out["body"] = base64.b64decode(out["bodyBase64"])
    return out


# --------------------------------------------------------------------------------------------------------------
# Certificates made outside weft (expired, foreign trust domain)
# --------------------------------------------------------------------------------------------------------------

def forge_client_cert(
    ca: CA,
    out: Path,
    uri: str = "spiffe://cluster.local/ns/x/sa/y",
    not_before: _dt.datetime | None = None,
    not_after: _dt.datetime | None = None,
) -> ClientCert:
    """A workload-style leaf signed by ``ca``'s key, with chosen validity and URI SAN (for negative tests)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = _dt.datetime.now(_dt.timezone.utc)
    not_before = not_before or now - _dt.timedelta(minutes=5)
    not_after = not_after or now + _dt.timedelta(hours=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]), critical=True)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = out / "key.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(key_path, 0o600)
    (out / "ca.pem").write_bytes(ca.cert.read_bytes())
    return ClientCert(out)


# --------------------------------------------------------------------------------------------------------------
# The usual topology: client pod on node-a, N echo pods on node-b behind a Service
# --------------------------------------------------------------------------------------------------------------

@dataclass
class Mesh:
    lab: Lab
    ca: CA
    config: Path
    client_ip: str
    echoes: list[Echo]
    vip: str
    vip_port: int
    target_port: int
    node_a: NodeProc
    node_b: NodeProc

    @property
    def echo(self) -> Echo:
        return self.echoes[0]

    def roundtrip(self, payload: bytes = b"ping through weft\n") -> bytes:
        return echo_roundtrip(self.client_ip, self.echo.addr, payload)


def start_mesh(
    lab: Lab,
    *,
    echoes: int = 1,
    named_echoes: bool = False,
    ca: CA | None = None,
    node_a_args: dict | None = None,
    node_b_args: dict | None = None,
    extra_docs: list[str] = (),
) -> Mesh:
    ca = ca or lab.init_ca()
    client_ip = lab.ip(1)
    echo_ips = [lab.ip(2 + i) for i in range(echoes)]
    port = pick_free_port(echo_ips)
    servers = [
        lab.start_echo(ip, port, name=f"echo-{i + 1}" if named_echoes else None) for i, ip in enumerate(echo_ips)
    ]
    third = lab.net.split(".")[2]
    vip = f"10.96.{third}.10"
    docs = [namespace_doc("demo"), pod_doc("client", client_ip, "node-a", "client", labels={"app": "client"})]
    docs += [
        pod_doc(f"echo-{i + 1}", ip, "node-b", "echo", labels={"app": "echo"}) for i, ip in enumerate(echo_ips)
    ]
    docs.append(service_doc("echo", vip, {"app": "echo"}, 80, port))
    docs += list(extra_docs)
    config = lab.write("mesh.yaml", join_docs(docs))
    node_b = lab.start_node("node-b", config, ca, echo_ips, **(node_b_args or {}))
    node_a = lab.start_node("node-a", config, ca, [client_ip], **(node_a_args or {}))
    return Mesh(lab, ca, config, client_ip, servers, vip, 80, port, node_a, node_b)
