"""Hostile or broken input: each case gets its exact outcome, one understandable log line, and the daemon keeps
serving (a SOCKS → HBONE echo succeeds after every case).

Loopback net 127.0.13.x: client pod 127.0.13.1 on node-a, echo pod 127.0.13.2 on node-b. The manifest-only cases
use 127.0.13.100+ so a node that wrongly started could not take over the running mesh's addresses.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import ssl
import stat
import time

import pytest

from weftlab import (
    crash_excerpt,
    Lab,
    Mesh,
    forge_client_cert,
    from_port,
    join_docs,
    namespace_doc,
    pick_free_port,
    pod_doc,
    recv_all,
    run_js_client,
    service_doc,
    socks_connect,
    start_mesh,
    tls_client_context,
)

ECHO_SAN = "spiffe://cluster.local/ns/demo/sa/echo"
CLIENT_ID = "spiffe://cluster.local/ns/demo/sa/tester"
EMPTY_VIP = "10.96.13.20"


@pytest.fixture(scope="module")
def shared_mesh(module_lab: Lab) -> Mesh:
    empty = service_doc("empty", EMPTY_VIP, {"app": "nobody"}, 80, 8080)
    return start_mesh(module_lab, extra_docs=[empty])


@pytest.fixture
def mesh(shared_mesh: Mesh, module_lab: Lab) -> Mesh:
    """The module's mesh; a node that an earlier case crashed is restarted, so one crash fails only its own case."""
    for attr in ("node_a", "node_b"):
        node = getattr(shared_mesh, attr)
        if not node.alive():
            setattr(shared_mesh, attr, module_lab.restart_node(node))
    return shared_mesh


@pytest.fixture(scope="module")
def good_cert(module_lab: Lab, shared_mesh: Mesh):
    return module_lab.issue(shared_mesh.ca, CLIENT_ID, "tester")


def assert_still_serving(mesh: Mesh) -> None:
    """After a case: both nodes alive, and node-b still accepts a normal tunnel from node-a."""
    for node in (mesh.node_a, mesh.node_b):
        assert node.alive(), f"{node.name} died (exit {node.proc.returncode}):\n{crash_excerpt(node.log.text())}"
    payload = f"still serving {os.urandom(4).hex()}\n".encode()
    assert mesh.roundtrip(payload) == payload


def hbone_addr(mesh: Mesh) -> tuple[str, int]:
    return (mesh.echo.ip, 15008)


def expect_connection_rejection(mesh: Mesh, mark: int, port: int, code: str, reason_part: str = "") -> str:
    """Exactly one 'hbone connection rejected' line for the client's source port, with this code."""
    log = mesh.node_b.log
    log.wait_for("hbone connection rejected", since=mark, predicate=lambda r: from_port(r, port), proc=mesh.node_b.proc)
    time.sleep(0.3)  # a duplicate report would show up by now
    lines = [r for r in log.find("hbone connection rejected", since=mark) if from_port(r, port)]
    assert len(lines) == 1, "expected exactly one rejection line:\n" + "\n".join(r.raw for r in lines)
    rec = lines[0]
    assert rec["code"] == code, rec.raw
    assert reason_part.lower() in rec["reason"].lower(), rec.raw
    assert len(rec["reason"]) > 10, f"reason is not helpful: {rec.raw}"
    return rec["reason"]


def tls_attempt(mesh: Mesh, ctx: ssl.SSLContext, send: bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") -> tuple[int, dict]:
    """TLS to node-b's HBONE port; returns (client source port, outcome). The server must end the connection."""
    outcome = {"handshake": False, "alpn": None, "error": None, "received": b"", "closed": False}
    raw = socket.create_connection(hbone_addr(mesh), timeout=10)
    port = raw.getsockname()[1]
    try:
        s = ctx.wrap_socket(raw)
    except (ssl.SSLError, OSError) as e:
        raw.close()
        outcome["error"] = repr(e)
        outcome["closed"] = not isinstance(e, socket.timeout)
        return port, outcome
    with s:
        outcome["handshake"] = True
        outcome["alpn"] = s.selected_alpn_protocol()
        try:
            s.sendall(send)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                outcome["received"] += chunk
            outcome["closed"] = True
        except socket.timeout as e:
            outcome["error"] = repr(e)
        except (ssl.SSLError, OSError) as e:
            outcome["error"] = repr(e)
            outcome["closed"] = True
    return port, outcome


def assert_refused_without_service(outcome: dict) -> None:
    assert outcome["closed"], f"server did not close the connection: {outcome}"
    # Not a single HTTP/2 byte (SETTINGS) may reach a client that was refused.
    assert outcome["received"] == b"", outcome


# ---------------------------------------------------------------------------------------------------------------
# TLS / connection level
# ---------------------------------------------------------------------------------------------------------------



@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"GET / HTTP/1.1\r\nHost: 127.0.13.2\r\n\r\n", id="http-get"),
        pytest.param(b"hello, anyone there?\r\n", id="text"),
        pytest.param(
            b"CONNECT 127.0.13.2:80 HTTP/1.1\r\nHost: 127.0.13.2:80\r\n\r\n",
            id="http-connect",
        ),
    ],
)
def test_plaintext_to_hbone_port(mesh: Mesh, payload: bytes):
    mark = mesh.node_b.log.mark()
    with socket.create_connection(hbone_addr(mesh), timeout=10) as s:
        port = s.getsockname()[1]
        s.sendall(payload)
        try:
            got = recv_all(s)
        except ConnectionResetError:
            got = b""
    assert b"HTTP/1.1 200" not in got
    reason = expect_connection_rejection(mesh, mark, port, "plaintext")
    assert "plaintext" in reason
    assert_still_serving(mesh)


def test_tls_without_client_certificate(mesh: Mesh):
    mark = mesh.node_b.log.mark()
    port, outcome = tls_attempt(mesh, tls_client_context(None))
    assert_refused_without_service(outcome)
    expect_connection_rejection(mesh, mark, port, "no_client_cert", "no certificate")
    assert_still_serving(mesh)


def test_certificate_from_another_ca(mesh: Mesh, module_lab: Lab):
    other_ca = module_lab.init_ca("other-ca")
    cert = module_lab.issue(other_ca, CLIENT_ID, "other-ca-client")
    mark = mesh.node_b.log.mark()
    port, outcome = tls_attempt(mesh, tls_client_context(cert))
    assert_refused_without_service(outcome)
    expect_connection_rejection(mesh, mark, port, "untrustedChain", "not signed by this mesh's root CA")
    assert_still_serving(mesh)


def test_certificate_from_another_trust_domain(mesh: Mesh, module_lab: Lab):
    cert = forge_client_cert(mesh.ca, module_lab.root / "certs" / "other-td", uri="spiffe://other.domain/ns/x/sa/y")
    mark = mesh.node_b.log.mark()
    port, outcome = tls_attempt(mesh, tls_client_context(cert))
    assert_refused_without_service(outcome)
    reason = expect_connection_rejection(mesh, mark, port, "trustDomainMismatch", "trust domain")
    assert "other.domain" in reason
    assert_still_serving(mesh)


def test_expired_certificate(mesh: Mesh, module_lab: Lab):
    now = dt.datetime.now(dt.timezone.utc)
    cert = forge_client_cert(
        mesh.ca, module_lab.root / "certs" / "expired",
        not_before=now - dt.timedelta(days=2), not_after=now - dt.timedelta(days=1),
    )
    mark = mesh.node_b.log.mark()
    port, outcome = tls_attempt(mesh, tls_client_context(cert))
    assert_refused_without_service(outcome)
    expect_connection_rejection(mesh, mark, port, "expired", "expired")
    assert_still_serving(mesh)


def test_forged_certificate_control(mesh: Mesh, module_lab: Lab):
    """Control for the forged-cert cases: a cert made the same way but valid is accepted (the HTTP/2 server speaks)."""
    cert = forge_client_cert(mesh.ca, module_lab.root / "certs" / "forged-ok", uri="spiffe://cluster.local/ns/x/sa/y")
    out = run_js_client(mesh.echo.ip, f"{mesh.echo.ip}:{mesh.echo.port}", cert, data=b"forged but fine")
    assert (out["status"], out["body"]) == (200, b"forged but fine"), out
    assert_still_serving(mesh)


@pytest.mark.parametrize("alpn", [["http/1.1"], None], ids=["http1.1-only", "no-alpn"])
def test_alpn_other_than_h2(mesh: Mesh, good_cert, alpn):
    mark = mesh.node_b.log.mark()
    port, outcome = tls_attempt(mesh, tls_client_context(good_cert, alpn=alpn), send=b"GET / HTTP/1.1\r\n\r\n")
    assert_refused_without_service(outcome)
    assert outcome["alpn"] != "h2", outcome
    expect_connection_rejection(mesh, mark, port, "alpn", "h2")
    assert_still_serving(mesh)


def test_tls_1_2_is_refused(mesh: Mesh, good_cert):
    mark = mesh.node_b.log.mark()
    ctx = tls_client_context(good_cert, min_version=ssl.TLSVersion.TLSv1_2, max_version=ssl.TLSVersion.TLSv1_2)
    port, outcome = tls_attempt(mesh, ctx)
    assert not outcome["handshake"], outcome
    assert outcome["closed"], outcome
    expect_connection_rejection(mesh, mark, port, "tls_version", "TLS 1.3")
    assert_still_serving(mesh)


# ---------------------------------------------------------------------------------------------------------------
# HTTP/2 level (the Node.js client from interop/)
# ---------------------------------------------------------------------------------------------------------------

def expect_stream_rejection(mesh: Mesh, cert, authority: str, status: int, reason_part: str, **kw) -> str:
    """The JS client gets ``status``; node-b logs exactly one 'hbone request rejected' for it; node-b still serves."""
    mark = mesh.node_b.log.mark()
    out = run_js_client(mesh.echo.ip, authority, cert, expect_san=ECHO_SAN, **kw)
    assert out["error"] is None and out["status"] == status, out
    port = out["localPort"]
    mesh.node_b.log.wait_for(
        "hbone request rejected", since=mark, predicate=lambda r: from_port(r, port), proc=mesh.node_b.proc
    )
    time.sleep(0.3)
    lines = [r for r in mesh.node_b.log.find("hbone request rejected", since=mark) if from_port(r, port)]
    assert len(lines) == 1, "\n".join(r.raw for r in lines)
    assert lines[0]["status"] == str(status), lines[0].raw
    assert reason_part in lines[0]["reason"], lines[0].raw
    assert lines[0]["peer"] == CLIENT_ID, lines[0].raw
    assert_still_serving(mesh)
    return lines[0]["reason"]


@pytest.fixture
def js():
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")


def test_get_instead_of_connect(mesh: Mesh, good_cert, js):
    expect_stream_rejection(mesh, good_cert, f"{mesh.echo.ip}:{mesh.echo.port}", 400, "CONNECT", method="GET")


@pytest.mark.parametrize(
    "authority",
    ["127.0.13.2", "echo.demo.svc:80", "127.0.13.2:99999", "127.0.13.2:", "[::1:80", "127.0.13.2:80:80"],
)
def test_malformed_authority(mesh: Mesh, good_cert, js, authority):
    reason = expect_stream_rejection(mesh, good_cert, authority, 400, "")
    assert authority in reason, reason


def test_authority_not_a_local_workload(mesh: Mesh, good_cert, js):
    # demo/client is a workload, but on node-a; 198.51.100.9 is nobody.
    expect_stream_rejection(mesh, good_cert, f"{mesh.client_ip}:{mesh.echo.port}", 400, mesh.client_ip)
    expect_stream_rejection(mesh, good_cert, f"198.51.100.9:{mesh.echo.port}", 400, "198.51.100.9")


@pytest.mark.parametrize("port", [15001, 15006, 15008, 15080])
def test_forbidden_port(mesh: Mesh, good_cert, js, port):
    expect_stream_rejection(mesh, good_cert, f"{mesh.echo.ip}:{port}", 400, f"port {port}")


# ---------------------------------------------------------------------------------------------------------------
# SOCKS5 level
# ---------------------------------------------------------------------------------------------------------------

def test_socks_destination_refused_is_reply_5(mesh: Mesh):
    closed = pick_free_port([mesh.echo.ip])
    sock, code = socks_connect(mesh.client_ip, mesh.echo.ip, closed)
    sock.close()
    assert code == 0x05
    assert_still_serving(mesh)


def test_socks_service_without_endpoints_is_reply_4(mesh: Mesh):
    sock, code = socks_connect(mesh.client_ip, EMPTY_VIP, 80)
    sock.close()
    assert code == 0x04
    assert_still_serving(mesh)


def test_socks_domain_name_is_not_supported(mesh: Mesh):
    with socket.create_connection((mesh.client_ip, 15080), timeout=10) as s:
        s.sendall(b"\x05\x01\x00")
        assert s.recv(2) == b"\x05\x00"
        name = b"echo.demo.svc.cluster.local"
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + b"\x00\x50")
        reply = s.recv(10)
    assert reply[:2] == b"\x05\x08", reply
    assert_still_serving(mesh)


# ---------------------------------------------------------------------------------------------------------------
# Manifests and the CA
# ---------------------------------------------------------------------------------------------------------------

def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in manifest")


def _manifest_cases(lab: Lab) -> dict[str, tuple[str, int, str]]:
    """name -> (manifest text, expected line, expected message fragment)."""
    ip = lab.ip
    syntax = join_docs([
        namespace_doc("demo"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken: yes\n  namespace: demo\n",
    ])
    no_name = join_docs([
        namespace_doc("demo"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: demo\n  labels: {app: x}\n"
        f"spec: {{serviceAccountName: x, nodeName: node-z}}\nstatus: {{podIP: {ip(100)}}}\n",
    ])
    dup = join_docs([
        namespace_doc("demo"),
        pod_doc("first", ip(101), "node-z", "x"),
        pod_doc("second", ip(101), "node-z", "x"),
    ])
    return {
        "yaml-syntax": (syntax, _line_of(syntax, "name: broken: yes"), "invalid YAML"),
        "pod-without-name": (no_name, _line_of(no_name, "metadata:", 2), "metadata.name"),
        "duplicate-pod-ip": (dup, _line_of(dup, f"podIP: {ip(101)}", 2), f"{ip(101)} is already used by Pod/demo/first"),
    }


@pytest.mark.parametrize("case", ["yaml-syntax", "pod-without-name", "duplicate-pod-ip"])
def test_bad_manifest(lab: Lab, case: str):
    text, line, fragment = _manifest_cases(lab)[case]
    path = lab.write(f"{case}.yaml", text)

    r = lab.run_weft("check", path)
    assert r.returncode == 1, r
    problems = [l for l in r.stdout.splitlines() if l.startswith(f"{path}:")]
    assert problems, f"no file:line diagnostic in:\n{r.stdout}{r.stderr}"
    assert any(l.startswith(f"{path}:{line}: ") and fragment in l for l in problems), (
        f"expected {path}:{line}: ...{fragment}... in:\n{r.stdout}"
    )
    if case == "pod-without-name":
        assert any(": metadata.name: " in l for l in problems), problems  # field path is named

    ca = lab.init_ca()
    r = lab.run_weft("node", "--config", path, "--ca-dir", ca.dir, "--node", "node-z", timeout=20)
    assert r.returncode == 1, r
    assert f"{path}:{line}:" in r.stderr and fragment in r.stderr, r.stderr
    assert "cannot start" in r.stderr, r.stderr
    assert "listening" not in r.stderr


def test_clean_manifest_passes_check(lab: Lab):
    text = join_docs([namespace_doc("demo"), pod_doc("ok", lab.ip(102), "node-z", "x")])
    r = lab.run_weft("check", lab.write("ok.yaml", text))
    assert r.returncode == 0, r
    assert r.stdout.startswith("ok:"), r.stdout


def test_ca_init_refuses_to_overwrite_and_protects_the_key(lab: Lab):
    ca = lab.init_ca()
    assert stat.S_IMODE(ca.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(ca.cert.stat().st_mode) == 0o644
    before = (ca.cert.read_bytes(), ca.key.read_bytes())

    r = lab.run_weft("ca", "init", "--dir", ca.dir)
    assert r.returncode == 1
    assert f"a CA already exists in {ca.dir}; pass --force to replace it" in r.stderr + r.stdout
    assert (ca.cert.read_bytes(), ca.key.read_bytes()) == before

    r = lab.run_weft("ca", "init", "--dir", ca.dir, "--force")
    assert r.returncode == 0, r
    assert ca.cert.read_bytes() != before[0] and ca.key.read_bytes() != before[1]
    assert stat.S_IMODE(ca.key.stat().st_mode) == 0o600

    issued = lab.issue(ca, CLIENT_ID, "issued")
    assert stat.S_IMODE(issued.key.stat().st_mode) == 0o600
    # The issued leaf chains to the CA (checked with openssl-independent Python ssl).
    ctx = ssl.create_default_context(cafile=str(issued.ca))
    ctx.load_cert_chain(str(issued.cert), str(issued.key))
