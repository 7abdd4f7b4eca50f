"""Interoperability: an independent HBONE client (Node.js's own tls + http2, interop/hbone-client.js) against weft.

Loopback net 127.0.12.x: client pod 127.0.12.1 on node-a; echo-1 127.0.12.2 (with an echo server) and echo-2
127.0.12.3 (no server) on node-b. The JS client holds a weft-issued certificate for demo/interop.
"""

from __future__ import annotations

import shutil
import time

import pytest

from weftlab import Lab, Mesh, from_port, pick_free_port, pod_doc, run_js_client, start_mesh

ECHO_SAN = "spiffe://cluster.local/ns/demo/sa/echo"
CLIENT_ID = "spiffe://cluster.local/ns/demo/sa/interop"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")


@pytest.fixture(scope="module")
def mesh(module_lab: Lab) -> Mesh:
    extra = [pod_doc("echo-2", module_lab.ip(3), "node-b", "echo", labels={"app": "other"})]
    m = start_mesh(module_lab, extra_docs=extra, node_b_args={"wait": False})
    module_lab.wait_listening(m.node_b, [module_lab.ip(2), module_lab.ip(3)])
    return m


@pytest.fixture(scope="module")
def client_cert(module_lab: Lab, mesh: Mesh):
    return module_lab.issue(mesh.ca, CLIENT_ID, "interop")


def hbone(mesh: Mesh, cert, authority: str, **kw) -> dict:
    return run_js_client(mesh.echo.ip, authority, cert, **kw)


def expect_rejected(mesh: Mesh, cert, authority: str, status: int, reason_part: str, **kw) -> None:
    mark = mesh.node_b.log.mark()
    out = hbone(mesh, cert, authority, expect_san=ECHO_SAN, **kw)
    assert out["error"] is None, out
    assert out["status"] == status, out
    port = out["localPort"]
    rejected = mesh.node_b.log.wait_for(
        "hbone request rejected", since=mark, status=str(status), predicate=lambda r: from_port(r, port)
    )
    time.sleep(0.2)  # anything logged twice would show up by now
    rejected = [r for r in mesh.node_b.log.find("hbone request rejected", since=mark) if from_port(r, port)]
    assert len(rejected) == 1, [r.raw for r in rejected]
    assert reason_part in rejected[0]["reason"], rejected[0].raw
    assert rejected[0].get("peer") == CLIENT_ID, rejected[0].raw
    # A stream-level rejection is not a connection-level one: the TLS connection itself was fine.
    conn_rejects = [r for r in mesh.node_b.log.find("hbone connection rejected", since=mark) if from_port(r, port)]
    assert not conn_rejects, [r.raw for r in conn_rejects]
    # The daemon keeps serving the same client.
    ok = hbone(mesh, cert, f"{mesh.echo.ip}:{mesh.echo.port}", data=b"still ok", expect_san=ECHO_SAN)
    assert (ok["status"], ok["body"]) == (200, b"still ok"), ok


def test_connect_echo_through_node_js_client(mesh: Mesh, client_cert):
    mark = mesh.node_b.log.mark()
    payload = "hello from node.js http2 \u2014 HBONE interop\n".encode() * 50
    out = hbone(mesh, client_cert, f"{mesh.echo.ip}:{mesh.echo.port}", data=payload, expect_san=ECHO_SAN)
    assert out["error"] is None, out
    assert out["exit"] == 0, out
    assert out["alpn"] == "h2"
    assert out["peerSAN"] == f"URI:{ECHO_SAN}"
    assert out["status"] == 200
    assert out["body"] == payload
    done = mesh.node_b.log.wait_for("connection complete", since=mark, direction="inbound")
    assert done[0]["src.identity"] == CLIENT_ID, done[0].raw
    assert done[0].get("error") is None and done[0]["response_flags"] == "-", done[0].raw
    assert done[0]["bytes_recv"] == done[0]["bytes_sent"] == str(len(payload)), done[0].raw


def test_client_refuses_a_server_with_another_identity(mesh: Mesh, client_cert):
    """Negative control for the client's own SPIFFE check: expecting another SAN must fail the handshake."""
    out = hbone(
        mesh, client_cert, f"{mesh.echo.ip}:{mesh.echo.port}", data=b"x",
        expect_san="spiffe://cluster.local/ns/demo/sa/someone-else",
    )
    assert out["status"] is None and out["exit"] == 1, out
    assert "is not URI:spiffe://cluster.local/ns/demo/sa/someone-else" in out["error"], out


def test_get_is_rejected_with_400(mesh: Mesh, client_cert):
    expect_rejected(mesh, client_cert, f"{mesh.echo.ip}:{mesh.echo.port}", 400, "", method="GET")


@pytest.mark.parametrize("port", [15008, 15001, 15006, 15080])
def test_node_ports_are_rejected_with_400(mesh: Mesh, client_cert, port: int):
    expect_rejected(mesh, client_cert, f"{mesh.echo.ip}:{port}", 400, f"port {port}")


@pytest.mark.parametrize(
    "which", ["workload-on-other-node", "other-workload-on-this-node", "foreign-ip"]
)
def test_authority_not_this_workload_is_rejected_with_400(mesh: Mesh, client_cert, which: str):
    ip = {
        "workload-on-other-node": mesh.client_ip,  # demo/client runs on node-a
        "other-workload-on-this-node": mesh.lab.ip(3),  # demo/echo-2: on node-b, but not this listener's pod
        "foreign-ip": "192.0.2.7",
    }[which]
    expect_rejected(mesh, client_cert, f"{ip}:{mesh.echo.port}", 400, f"authority {ip}:{mesh.echo.port}")


def test_closed_destination_port_is_503(mesh: Mesh, client_cert):
    closed = pick_free_port([mesh.echo.ip])
    expect_rejected(mesh, client_cert, f"{mesh.echo.ip}:{closed}", 503, "")


def test_server_closes_after_client_goaway(mesh: Mesh, client_cert):
    out = hbone(
        mesh, client_cert, f"{mesh.echo.ip}:{mesh.echo.port}", data=b"bye", expect_san=ECHO_SAN, close_wait_ms=3000
    )
    assert (out["status"], out["body"]) == (200, b"bye"), out
    assert out["serverClosedMs"] is not None, "weft did not close the connection within 3 s of the client's close"
