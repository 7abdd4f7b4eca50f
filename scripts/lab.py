#!/usr/bin/env python3
"""The loopback lab: two Weft nodes, a client and three echo workloads, real HBONE between them.

Every process started here is stopped by PID on exit, even on error or Ctrl-C; the lab folder is removed
unless --keep is given.
"""
import argparse, hashlib, os, re, shutil, signal, socket, struct, subprocess, sys, threading, time

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo, labels: {app: client}}
spec: {serviceAccountName: client, nodeName: node-a}
status: {podIP: 127.0.10.1}
---
apiVersion: v1
kind: Pod
metadata: {name: echo-1, namespace: demo, labels: {app: echo, version: v1}}
spec: {serviceAccountName: echo, nodeName: node-b}
status: {podIP: 127.0.10.2}
---
apiVersion: v1
kind: Pod
metadata: {name: echo-2, namespace: demo, labels: {app: echo, version: v2}}
spec: {serviceAccountName: echo, nodeName: node-b}
status: {podIP: 127.0.10.3}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: echo-vm, namespace: demo, annotations: {weft.dev/node: node-a}}
spec: {address: 127.0.10.4, serviceAccount: echo-vm, labels: {app: echo, version: vm}}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: demo}
spec:
  clusterIP: 10.96.0.10
  selector: {app: echo}
  ports: [{name: tcp-echo, port: 80, targetPort: 9000}]
"""

ECHO_ADDRS = {"echo-1": "127.0.10.2", "echo-2": "127.0.10.3", "echo-vm": "127.0.10.4"}
OUTSIDE = ("127.0.10.50", 9000)  # an address that is not in the mesh


def echo_server(name, host, port, stop):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(256)
    srv.settimeout(0.2)

    def serve(conn):
        with conn:
            conn.sendall(f"{name}|".encode())
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)

    while not stop.is_set():
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
    srv.close()


def socks_connect(src_ip, dst_ip, port):
    s = socket.create_connection((src_ip, 15080), timeout=10)
    s.sendall(b"\x05\x01\x00")
    assert s.recv(2) == b"\x05\x00", "SOCKS5 method refused"
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(dst_ip) + struct.pack(">H", port))
    reply = b""
    while len(reply) < 10:
        chunk = s.recv(10 - len(reply))
        if not chunk:
            break
        reply += chunk
    return s, reply[1] if len(reply) > 1 else None


def exchange(src_ip, dst_ip, port, payload):
    s, code = socks_connect(src_ip, dst_ip, port)
    if code != 0:
        s.close()
        return None, code
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data, 0


def wait_listening(log, expected, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"weft node exited early:\n{open(log).read()}")
        text = open(log, errors="replace").read()
        if text.count("listening") >= expected:
            return
        time.sleep(0.1)
    raise SystemExit(f"weft node did not start in time:\n{open(log).read()}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the lab folder (logs, manifests, CA)")
    args = ap.parse_args()

    procs, stop = [], threading.Event()

    def cleanup(*_):
        stop.set()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    shutil.rmtree(args.dir, ignore_errors=True)
    os.makedirs(args.dir)
    try:
        run(args, procs, stop)
    finally:
        cleanup()


def run(args, procs, stop):
    d = args.dir
    manifest = os.path.join(d, "mesh.yaml")
    open(manifest, "w").write(MANIFEST)
    subprocess.run([args.weft, "ca", "init", "--dir", os.path.join(d, "ca")], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([args.weft, "check", manifest], check=True, stdout=subprocess.DEVNULL)
    for name, ip in list(ECHO_ADDRS.items()) + [("outside", OUTSIDE[0])]:
        threading.Thread(target=echo_server, args=(name, ip, 9000, stop), daemon=True).start()
    logs = {}
    for node, listeners in (("node-a", 4), ("node-b", 4)):
        logs[node] = os.path.join(d, f"{node}.log")
        p = subprocess.Popen(
            [args.weft, "node", "--config", manifest, "--ca-dir", os.path.join(d, "ca"), "--node", node,
             "--log-level", "debug"],
            stdout=subprocess.DEVNULL, stderr=open(logs[node], "w"))
        procs.append(p)
    for node, p in zip(("node-a", "node-b"), procs):
        wait_listening(logs[node], 4, p)

    print("\n== Weft loopback lab: 2 nodes, 4 workloads, trust domain cluster.local ==")
    print("node-a: demo/client 127.0.10.1, demo/echo-vm 127.0.10.4 (WorkloadEntry)")
    print("node-b: demo/echo-1 127.0.10.2, demo/echo-2 127.0.10.3")
    print("Service demo/echo 10.96.0.10:80 -> endpoints :9000\n")

    cases = [
        ("client -> echo-1 (pod IP, cross-node)", "127.0.10.2", 9000, 1),
        ("client -> echo-vm (pod IP, same node)", "127.0.10.4", 9000, 1),
        ("client -> Service echo 10.96.0.10:80", "10.96.0.10", 80, 60),
        ("client -> 127.0.10.50:9000 (not in mesh)", OUTSIDE[0], OUTSIDE[1], 1),
        ("client -> echo-1:9999 (nothing listens)", "127.0.10.2", 9999, 1),
    ]
    print(f"{'traffic':45} {'conns':>5} {'ok':>4}  answered by")
    for label, ip, port, n in cases:
        ok, seen = 0, {}
        for i in range(n):
            payload = hashlib.sha256(f"{label}{i}".encode()).digest() * 64
            data, code = exchange("127.0.10.1", ip, port, payload)
            if data is not None and data.endswith(payload):
                ok += 1
                who = data.split(b"|", 1)[0].decode()
                seen[who] = seen.get(who, 0) + 1
            elif data is None:
                seen[f"refused (SOCKS {code})"] = seen.get(f"refused (SOCKS {code})", 0) + 1
        print(f"{label:45} {n:>5} {ok:>4}  " + ", ".join(f"{k} x{v}" for k, v in sorted(seen.items())))

    hbone = subprocess.run(["ss", "-Htn", "state", "established", "( dport = :15008 and dst 127.0.10.0/24 )"],
                           capture_output=True, text=True).stdout.strip().splitlines()
    time.sleep(0.3)
    print("\n== what the nodes saw ==")
    for node in ("node-a", "node-b"):
        text = open(logs[node], errors="replace").read()
        done = [l for l in text.splitlines() if "connection complete" in l]
        identities = sorted(set(re.findall(r"src\.identity=(\S+)", text)))
        routes = {}
        for l in done:
            m = re.search(r'route="(\w+) ([^ "]+)', l)
            if m:
                routes[f"{m.group(1)} {m.group(2)}"] = routes.get(f"{m.group(1)} {m.group(2)}", 0) + 1
        sent = sum(int(x) for x in re.findall(r"bytes_sent=(\d+)", "\n".join(done)))
        recv = sum(int(x) for x in re.findall(r"bytes_recv=(\d+)", "\n".join(done)))
        print(f"{node}: {len(done)} connections complete, {sent} bytes sent, {recv} bytes received")
        for route, count in sorted(routes.items()):
            print(f"   outbound {route}: {count}")
        if identities:
            print(f"   inbound peers (mTLS identities): {', '.join(identities)}")
        opened = text.count("hbone connection opened")
        if opened:
            print(f"   pooled HBONE connections opened: {opened}")
        rejected = [l.split("reason=", 1)[1] for l in text.splitlines() if "rejected" in l]
        for r in rejected:
            print(f"   rejected: {r}")
    print(f"\nHBONE TLS connections on :15008 open now: {len(hbone)} (pooled per source, destination identity and event loop)")
    print("logs:", ", ".join(logs.values()), "(removed on exit; --keep keeps them)" if not args.keep else "")


if __name__ == "__main__":
    main()
