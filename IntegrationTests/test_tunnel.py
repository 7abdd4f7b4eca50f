"""The data path end to end: SOCKS5 → node-a → HBONE (mTLS + HTTP/2 CONNECT) → node-b → echo server.

Loopback net 127.0.11.x: client pod 127.0.11.1 on node-a, echo pods 127.0.11.2.. on node-b.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import random
import signal
import socket
import struct
import threading
import time
from collections import Counter

import pytest

from weftlab import (
    Lab,
    SOCKS_PORT,
    echo_roundtrip,
    established_to,
    recv_all,
    recv_exact,
    socks_connect,
    socks_request,
    start_mesh,
)

MiB = 1 << 20
GiB = 1 << 30
THREADS = 2  # --threads of every node in this module (start_node's default)


def pattern_blocks(seed: int, count: int = 16) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(MiB) for _ in range(count)]


@pytest.mark.slow
def test_one_gib_arrives_intact(lab: Lab, report):
    mesh = start_mesh(lab)
    blocks = pattern_blocks(0x5EF7)
    chunks = GiB // MiB

    sock, code = socks_connect(mesh.client_ip, *mesh.echo.addr, timeout=120)
    assert code == 0
    sent_hash, recv_hash = hashlib.sha256(), hashlib.sha256()
    received = 0
    errors: list[BaseException] = []

    def writer():
        try:
            for i in range(chunks):
                # Pseudo-random, and every chunk distinct (a counter up front), so loss/reorder/duplication shows.
                chunk = struct.pack(">Q", i) + blocks[i % len(blocks)][8:]
                sent_hash.update(chunk)
                sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def reader():
        nonlocal received
        buf = bytearray(MiB)
        view = memoryview(buf)
        try:
            while True:
                n = sock.recv_into(buf)
                if n == 0:
                    return
                recv_hash.update(view[:n])
                received += n
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    start = time.monotonic()
    threads = [threading.Thread(target=writer, daemon=True), threading.Thread(target=reader, daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    elapsed = time.monotonic() - start
    sock.close()
    assert not any(t.is_alive() for t in threads), f"transfer stuck: {received} of {GiB} bytes echoed"
    assert not errors, f"transfer failed after {received} bytes: {errors!r}"
    assert received == GiB
    assert recv_hash.hexdigest() == sent_hash.hexdigest()

    mbps = 2 * GiB / MiB / elapsed
    report(
        f"1 GiB echo through SOCKS→node-a→HBONE→node-b→echo: {elapsed:.1f} s, "
        f"{GiB / MiB / elapsed:.0f} MiB/s each way ({mbps:.0f} MiB/s both directions)"
    )

    # The node accounts for the whole transfer on both sides.
    for node, direction in ((mesh.node_a, "outbound"), (mesh.node_b, "inbound")):
        done = node.log.wait_for("connection complete", direction=direction, timeout=10)
        assert len(done) == 1, [r.raw for r in done]
        assert done[0]["bytes_sent"] == str(GiB) and done[0]["bytes_recv"] == str(GiB), done[0].raw
        assert done[0].get("error") is None and done[0]["response_flags"] == "-", done[0].raw


async def _open_socks(proxy_ip: str, dst: tuple[str, int]):
    reader, writer = await asyncio.open_connection(proxy_ip, SOCKS_PORT)
    writer.write(b"\x05\x01\x00")
    await writer.drain()
    assert await reader.readexactly(2) == b"\x05\x00"
    writer.write(socks_request(*dst))
    await writer.drain()
    reply = await reader.readexactly(10)
    return reader, writer, reply[1]


@pytest.mark.slow
def test_thousand_concurrent_connections_share_a_small_pool(lab: Lab, report):
    mesh = start_mesh(lab)
    total, per_conn = 1000, 100
    echo = mesh.echo

    async def main():
        opened = await asyncio.wait_for(
            asyncio.gather(*(_open_socks(mesh.client_ip, echo.addr) for _ in range(total)), return_exceptions=True),
            timeout=120,
        )
        failures = [o for o in opened if isinstance(o, BaseException) or o[2] != 0]
        conns = [o for o in opened if not isinstance(o, BaseException)]
        try:
            assert not failures, f"{len(failures)} of {total} SOCKS connects failed, e.g. {failures[:3]!r}"
            # All 1000 tunnels are up at once: node-b holds 1000 upstream connections to the echo server ...
            deadline = time.monotonic() + 10
            while (upstream := established_to(*echo.addr)) < total and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert upstream == total, f"only {upstream} connections reached the echo server"
            # ... carried by a handful of pooled HBONE connections from node-a.
            tls_conns = established_to(echo.ip, 15008)

            async def exchange(i, reader, writer):
                payload = f"conn {i:04d} {os.urandom(8).hex()}\n".encode() * 4
                writer.write(payload)
                await writer.drain()
                got = await reader.readexactly(len(payload))
                assert got == payload, f"connection {i} got someone else's bytes: {got!r}"

            await asyncio.wait_for(
                asyncio.gather(*(exchange(i, r, w) for i, (r, w, _) in enumerate(conns))), timeout=120
            )
            return tls_conns
        finally:
            for _, w, _ in conns:
                w.close()

    tls_conns = asyncio.run(main())
    limit = math.ceil(total / per_conn) + THREADS + 2
    opened = mesh.node_a.log.count("hbone connection opened")
    report(f"{total} concurrent tunnels: {tls_conns} TCP connections to :15008, {opened} pooled HBONE connections opened")
    assert 1 <= tls_conns <= limit, f"{tls_conns} TCP connections to {echo.ip}:15008 (limit {limit})"
    assert 1 <= opened <= limit, f"pool opened {opened} HBONE connections (limit {limit})"
    # Every stream completed on both sides.
    mesh.node_a.log.wait_for("connection complete", direction="outbound", count=total, timeout=20)


def test_service_vip_spreads_over_endpoints(lab: Lab):
    mesh = start_mesh(lab, echoes=3, named_echoes=True)
    hits: Counter[str] = Counter()
    total = 200
    for i in range(total):
        sock, code = socks_connect(mesh.client_ip, mesh.vip, mesh.vip_port)
        with sock:
            assert code == 0, f"connection {i} to the Service VIP got SOCKS reply {code}"
            name = b""
            while not name.endswith(b"\n"):
                chunk = sock.recv(64)
                assert chunk, f"connection {i}: EOF before the endpoint named itself ({name!r})"
                name += chunk
            payload = f"vip {i}\n".encode()
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            assert recv_all(sock) == payload
        hits[name.strip().decode()] += 1
    assert set(hits) == {"echo-1", "echo-2", "echo-3"}, hits
    for endpoint, n in hits.items():
        assert n >= 0.15 * total, f"{endpoint} got only {n} of {total} connections: {dict(hits)}"


def test_half_close_still_delivers_the_full_echo(lab: Lab):
    mesh = start_mesh(lab)
    payload = os.urandom(3 * MiB + 12345)
    sock, code = socks_connect(mesh.client_ip, *mesh.echo.addr)
    with sock:
        assert code == 0
        sent = threading.Thread(target=lambda: (sock.sendall(payload), sock.shutdown(socket.SHUT_WR)), daemon=True)
        sent.start()
        got = recv_all(sock)  # EOF arrives only after the echo server saw our FIN and answered everything.
        sent.join(10)
    assert len(got) == len(payload)
    assert got == payload

    # A client that half-closes and only then starts reading still gets everything.
    sock, code = socks_connect(mesh.client_ip, *mesh.echo.addr)
    with sock:
        assert code == 0
        sock.sendall(b"late reader\n")
        sock.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
        assert recv_all(sock) == b"late reader\n"


def test_passthrough_to_non_mesh_addresses(lab: Lab):
    mesh = start_mesh(lab)
    outside = [lab.start_echo("127.0.0.1"), lab.start_echo(lab.ip(200))]  # neither is in the manifests
    mark = mesh.node_a.log.mark()
    for echo in outside:
        payload = f"plain tcp to {echo.ip}\n".encode()
        assert echo_roundtrip(mesh.client_ip, echo.addr, payload) == payload
    # Plain TCP: no HBONE connection was opened for it.
    assert mesh.node_a.log.count("hbone connection opened", since=mark) == 0
    mesh.node_a.log.wait_for("connection complete", since=mark, count=2)


def test_sigterm_drains_open_connections(lab: Lab):
    drain = 3.0
    mesh = start_mesh(lab, node_a_args={"drain_timeout": f"{drain:g}s"})
    sock, code = socks_connect(mesh.client_ip, *mesh.echo.addr)
    with sock:
        assert code == 0
        sock.sendall(b"before\n")
        assert recv_exact(sock, 7) == b"before\n"

        mesh.node_a.signal(signal.SIGTERM)
        sent_at = time.monotonic()
        mesh.node_a.log.wait_for("draining", timeout=5)
        time.sleep(0.5)
        assert mesh.node_a.alive(), "node-a exited at once instead of draining"
        sock.sendall(b"during drain\n")
        assert recv_exact(sock, 13) == b"during drain\n"

        # New connections are no longer accepted while draining.
        with pytest.raises(OSError):
            socket.create_connection((mesh.client_ip, SOCKS_PORT), timeout=2).close()

        # At the deadline the node closes what is still open.
        sock.settimeout(drain + 5)
        try:
            leftover = recv_all(sock)
        except ConnectionResetError:
            leftover = b""
        closed_after = time.monotonic() - sent_at
    assert leftover == b""
    assert drain - 0.5 <= closed_after <= drain + 1.5, f"connection closed {closed_after:.2f}s after SIGTERM"
    mesh.node_a.log.wait_for("drain deadline reached; sockets closed", timeout=5)

    # Exit status 0. (How long the exit takes after the deadline is test_sigterm_exit_time's business.)
    rc = mesh.node_a.wait(timeout=drain + 5 + 10)
    assert rc == 0, mesh.node_a.log.text()[-3000:]
    mesh.node_a.log.wait_for("node stopped", timeout=1)
    assert mesh.node_b.alive()


@pytest.mark.parametrize("open_connection", [True, False], ids=["open-connection", "idle-pool"])
def test_sigterm_exit_time(lab: Lab, open_connection: bool):
    drain = 3.0
    mesh = start_mesh(lab, node_a_args={"drain_timeout": f"{drain:g}s"})
    assert mesh.roundtrip(b"warm the pool\n") == b"warm the pool\n"
    sock = None
    if open_connection:
        sock, code = socks_connect(mesh.client_ip, *mesh.echo.addr)
        assert code == 0
    try:
        mesh.node_a.signal(signal.SIGTERM)
        sent_at = time.monotonic()
        rc = mesh.node_a.wait(timeout=drain + 5 + 10)
        elapsed = time.monotonic() - sent_at
    finally:
        if sock is not None:
            sock.close()
    assert rc == 0
    # With a connection open: the drain deadline plus at most 5 s. With nothing open: no reason to wait at all.
    limit = drain + 5 if open_connection else 2.0
    assert elapsed <= limit, f"node-a took {elapsed:.2f}s to exit after SIGTERM (limit {limit}s)"
