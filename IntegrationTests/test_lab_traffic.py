"""Waypoint traffic policy in the lab (real network namespaces, nftables capture in the pods, two nodes and a
waypoint pod): a VirtualService canary moved from v1 to v2 by editing the configuration while a pod sends
requests, with no failed request, and a fault abort. Uses `weft lab up --waypoint lab`; needs root.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from weftlab import HERE

HTTP_SERVER = HERE / "helpers" / "http_server.py"
CLIENT_NS = "weft-lab-n1-p1"
SERVERS = {"v1": ("weft-lab-n2-p1", "10.22.1.2", "echo-2-1"), "v2": ("weft-lab-n2-p2", "10.22.2.2", "echo-2-2")}
WEB_VIP = "10.96.0.20"

# Requests from inside a pod to the web Service (captured by the pod's redirect, sent to the waypoint): one line
# of JSON per request, `[status, served-by]`, keep-alive, until the deadline.
CLIENT = r"""
import http.client, json, sys, time
deadline = time.time() + float(sys.argv[2])
out = []
conn = http.client.HTTPConnection(sys.argv[1], 80, timeout=10)
while time.time() < deadline:
    try:
        conn.request("GET", "/canary", headers={"host": "web.lab.svc.cluster.local"})
        r = conn.getresponse()
        r.read()
        out.append([r.status, r.getheader("x-served-by")])
    except Exception as e:
        out.append([0, repr(e)])
        conn = http.client.HTTPConnection(sys.argv[1], 80, timeout=10)
    time.sleep(0.02)
print(json.dumps(out))
"""


FAULT_CLIENT = r"""
import http.client, sys
conn = http.client.HTTPConnection(sys.argv[1], 80, timeout=10)
conn.request("GET", "/x", headers={"host": "web.lab.svc.cluster.local", "x-fault": "abort"})
print(conn.getresponse().status)
"""


def sh(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=timeout)


def traffic_docs(v1: int, v2: int) -> str:
    return f"""---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: lab}}
spec:
  clusterIP: {WEB_VIP}
  selector: {{app: echo}}
  ports: [{{name: http, port: 80, targetPort: 9080}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: web, namespace: lab}}
spec:
  host: web
  subsets:
  - {{name: v1, labels: {{version: v1}}}}
  - {{name: v2, labels: {{version: v2}}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: web, namespace: lab}}
spec:
  hosts: [web]
  http:
  - match: [{{headers: {{x-fault: {{exact: abort}}}}}}]
    fault: {{abort: {{httpStatus: 418, percentage: {{value: 100}}}}}}
    route: [{{destination: {{host: web, subset: v1}}}}]
  - route:
    - {{destination: {{host: web, subset: v1}}, weight: {v1}}}
    - {{destination: {{host: web, subset: v2}}, weight: {v2}}}
"""


def wait_for(path: Path, text: str, count: int, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} ×{count} not in {path}:\n{path.read_text(errors='replace')[-3000:]}")


def apply(lab_dir: Path, base: str, v1: int, v2: int, reloads: int) -> None:
    (lab_dir / "mesh.yaml").write_text(base + traffic_docs(v1, v2))
    wait_for(lab_dir / "waypoint.log", "configuration reloaded", reloads)


def test_lab_canary_moves_by_editing_the_virtual_service_with_no_failed_request(weft, tmp_path):
    lab_dir = tmp_path / "lab-traffic"
    up = sh(str(weft), "lab", "up", "--dir", str(lab_dir), "--waypoint", "lab", check=False, timeout=180)
    servers: list[subprocess.Popen] = []
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        for name, (ns, ip, _) in SERVERS.items():
            p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, str(HTTP_SERVER), "--host", ip, "--port",
                                  "9080", "--name", name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            servers.append(p)
            assert p.stdout.readline().startswith("READY"), name
        base = (lab_dir / "mesh.yaml").read_text()
        for name, (_, _, pod) in SERVERS.items():
            block = f"  name: {pod}\n  namespace: lab\n  labels: {{app: echo}}"
            assert block in base, base
            base = base.replace(block, f"  name: {pod}\n  namespace: lab\n  labels: {{app: echo, version: {name}}}")
        apply(lab_dir, base, 100, 0, 1)
        time.sleep(1.5)  # the nodes reload too (the web Service VIP must be known to the client's node)
        client = subprocess.Popen(["ip", "netns", "exec", CLIENT_NS, sys.executable, "-c", CLIENT, WEB_VIP, "6"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        apply(lab_dir, base, 0, 100, 2)
        out, err = client.communicate(timeout=30)
        results = json.loads(out)
        assert len(results) > 50, (out, err)
        assert all(status == 200 for status, _ in results), [r for r in results if r[0] != 200][:5]
        served = [who for _, who in results]
        assert served[0] == "v1" and served[-1] == "v2", served
        # One switch, no flapping back: every v1 answer comes before every v2 answer.
        assert served == sorted(served), served
        fault = sh("ip", "netns", "exec", CLIENT_NS, sys.executable, "-c", FAULT_CLIENT, WEB_VIP, check=False)
        assert fault.stdout.strip() == "418", (fault.stdout, fault.stderr)
        log = (lab_dir / "waypoint.log").read_text()
        assert "response_flags=FI" in log and "upstream_cluster=outbound|80|v2|web.lab.svc.cluster.local" in log
    finally:
        for p in servers:
            p.kill()
            p.wait()
        down = sh(str(weft), "lab", "down", "--dir", str(lab_dir), check=False)
        assert down.returncode == 0, down.stderr
