"""Certificate rotation end to end: with --cert-ttl 4s a node renews every certificate at half-life, keeps live
connections untouched, and new connections use the new certificate. Loopback 127.0.14.x."""

from __future__ import annotations

import re
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from weftlab import weft_binary

NET = "127.0.14"
MANIFEST = f"""\
apiVersion: v1
kind: Pod
metadata: {{name: client, namespace: demo}}
spec: {{serviceAccountName: client, nodeName: node-a}}
status: {{podIP: {NET}.1}}
---
apiVersion: v1
kind: Pod
metadata: {{name: echo, namespace: demo}}
spec: {{serviceAccountName: echo, nodeName: node-b}}
status: {{podIP: {NET}.2}}
"""


def echo_server(stop: threading.Event) -> socket.socket:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((f"{NET}.2", 0))
    srv.listen(16)
    srv.settimeout(0.2)

    def serve(conn):
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def loop():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return srv


def socks(port: int) -> socket.socket:
    s = socket.create_connection((f"{NET}.1", 15080), timeout=10)
    s.sendall(b"\x05\x01\x00")
    assert s.recv(2) == b"\x05\x00"
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(f"{NET}.2") + struct.pack(">H", port))
    reply = s.recv(10)
    assert reply[1] == 0, reply
    return s


def roundtrip(s: socket.socket, data: bytes) -> bytes:
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        got += s.recv(65536)
    return got


def test_rotation_keeps_live_connections(tmp_path: Path):
    weft = str(weft_binary())
    (tmp_path / "mesh.yaml").write_text(MANIFEST)
    subprocess.run([weft, "ca", "init", "--dir", str(tmp_path / "ca")], check=True, capture_output=True)
    stop = threading.Event()
    srv = echo_server(stop)
    port = srv.getsockname()[1]
    procs = []
    try:
        for node in ("node-a", "node-b"):
            procs.append(subprocess.Popen(
                [weft, "node", "--config", str(tmp_path / "mesh.yaml"), "--ca-dir", str(tmp_path / "ca"), "--node", node,
                 "--cert-ttl", "4s", "--admin-address", "off", "--metrics-address", "off", "--readiness-address", "off"],
                stderr=open(tmp_path / f"{node}.log", "w")))
        deadline = time.time() + 20
        while time.time() < deadline and not all((tmp_path / f"{n}.log").read_text().count("listening") >= 2 for n in ("node-a", "node-b")):
            time.sleep(0.1)
        live = socks(port)
        assert roundtrip(live, b"before rotation") == b"before rotation"
        deadline = time.time() + 15
        while time.time() < deadline and (tmp_path / "node-b.log").read_text().count("certificate rotated") < 2:
            time.sleep(0.2)
        rotated = re.findall(r"certificate rotated .*serial=(\S+)", (tmp_path / "node-b.log").read_text())
        assert len(rotated) >= 2 and len(set(rotated)) == len(rotated), rotated
        # The connection made with the first certificate is untouched; new ones work with the new certificate.
        assert roundtrip(live, b"after rotation") == b"after rotation"
        fresh = socks(port)
        assert roundtrip(fresh, b"new connection") == b"new connection"
        live.close()
        fresh.close()
        for p in procs:
            assert p.poll() is None
    finally:
        stop.set()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        srv.close()
