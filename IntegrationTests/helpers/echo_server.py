#!/usr/bin/env python3
"""A threaded TCP echo server for Weft's integration tests.

Usage: echo_server.py --host 127.0.11.2 [--port 0] [--name echo-1]

Binds host:port (port 0 = a free port), prints ``READY <port>`` on stdout, then for every connection: optionally
sends ``<name>\\n`` first (so a client can tell which endpoint answered), echoes every byte it receives, and after
the client's EOF half-closes its own side (shutdown(SHUT_WR)) once everything has been echoed.
Runs until killed (SIGTERM / SIGKILL).
"""

import argparse
import os
import signal
import socket
import sys
import threading

CHUNK = 1 << 20


def serve_one(conn: socket.socket, name: bytes | None) -> None:
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if name is not None:
            conn.sendall(name + b"\n")
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while True:
            n = conn.recv_into(buf)
            if n == 0:
                break
            conn.sendall(view[:n])
        conn.shutdown(socket.SHUT_WR)
        # Wait for the peer to close too, so the FIN is not followed by a RST.
        conn.settimeout(30)
        while conn.recv(65536):
            pass
    except OSError:
        pass
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--name")
    args = parser.parse_args()

    threading.stack_size(512 * 1024)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(4096)
    name = args.name.encode() if args.name else None

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(f"READY {listener.getsockname()[1]}", flush=True)

    while True:
        try:
            conn, _ = listener.accept()
        except InterruptedError:
            continue
        threading.Thread(target=serve_one, args=(conn, name), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
