"""AuthorizationPolicy at L4, enforced by the destination's node (loopback net 127.0.16.x).

Node-a runs two clients with different identities: `client` (namespace demo, sa client) and `intruder`
(namespace other, sa intruder). Node-b runs the echo workload. A denied connection is refused by node-b with
HBONE 401, which node-a turns into a SOCKS "not allowed" reply (a reset for captured traffic).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

from weftlab import (
    CA,
    Echo,
    Lab,
    NodeProc,
    join_docs,
    namespace_doc,
    pick_free_port,
    pod_doc,
    socks_connect,
)

NOT_ALLOWED = 2  # SOCKS5 reply "connection not allowed by ruleset"


@dataclass
class AuthzMesh:
    lab: Lab
    ca: CA
    config: Path
    client_ip: str
    intruder_ip: str
    echo: Echo
    node_a: NodeProc
    node_b: NodeProc
    base_docs: list[str]

    def write_policies(self, *policies: str) -> None:
        self.lab.write("mesh.yaml", join_docs(self.base_docs + list(policies)))

    def connect(self, source_ip: str) -> tuple[socket.socket, int]:
        return socks_connect(source_ip, *self.echo.addr)

    def code(self, source_ip: str) -> int:
        s, code = self.connect(source_ip)
        with s:
            if code == 0:
                s.sendall(b"hello\n")
                assert s.recv(100) == b"hello\n"
        return code


def start(lab: Lab, *policies: str) -> AuthzMesh:
    ca = lab.init_ca()
    client_ip, echo_ip, intruder_ip = lab.ip(1), lab.ip(2), lab.ip(3)
    echo = lab.start_echo(echo_ip, pick_free_port([echo_ip]))
    docs = [
        namespace_doc("demo"),
        namespace_doc("other"),
        pod_doc("client", client_ip, "node-a", "client", labels={"app": "client"}),
        pod_doc("intruder", intruder_ip, "node-a", "intruder", ns="other", labels={"app": "intruder"}),
        pod_doc("echo", echo_ip, "node-b", "echo", labels={"app": "echo", "version": "v1"}),
    ]
    config = lab.write("mesh.yaml", join_docs(docs + list(policies)))
    node_b = lab.start_node("node-b", config, ca, [echo_ip])
    node_a = lab.start_node("node-a", config, ca, [client_ip, intruder_ip])
    return AuthzMesh(lab, ca, config, client_ip, intruder_ip, echo, node_a, node_b, docs)


def policy(name: str, ns: str, body: str) -> str:
    return (
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
        f"metadata: {{name: {name}, namespace: {ns}}}\nspec:\n{body}"
    )


ALLOW_CLIENT = policy(
    "allow-client",
    "demo",
    "  selector: {matchLabels: {app: echo}}\n  action: ALLOW\n"
    "  rules:\n  - from:\n    - source: {principals: [cluster.local/ns/demo/sa/client]}\n",
)
DENY_OTHER_NS = policy(
    "deny-other", "demo", "  action: DENY\n  rules:\n  - from:\n    - source: {namespaces: [other]}\n"
)
DENY_ALL_CLIENTS = policy(
    "deny-client", "demo", "  action: DENY\n  rules:\n  - from:\n    - source: {principals: ['*/sa/client']}\n"
)


def test_no_policy_allows_everyone(lab: Lab):
    mesh = start(lab)
    assert mesh.code(mesh.client_ip) == 0
    assert mesh.code(mesh.intruder_ip) == 0


def test_allow_by_principal_lets_one_in_and_keeps_the_other_out(lab: Lab):
    mesh = start(lab, ALLOW_CLIENT)
    assert mesh.code(mesh.client_ip) == 0
    assert mesh.code(mesh.intruder_ip) == NOT_ALLOWED
    denied = mesh.node_b.log.wait_for("connection denied by policy")[0]
    assert "spiffe://cluster.local/ns/other/sa/intruder" in denied["connection"]
    assert "no ALLOW policy matched" in denied["decision"] or "allow-client" in denied["decision"], denied.raw
    rejected = mesh.node_b.log.wait_for("hbone request rejected", status="401")[0]
    assert rejected["peer"] == "spiffe://cluster.local/ns/other/sa/intruder"


def test_deny_by_namespace(lab: Lab):
    mesh = start(lab, DENY_OTHER_NS)
    assert mesh.code(mesh.client_ip) == 0
    assert mesh.code(mesh.intruder_ip) == NOT_ALLOWED
    denied = mesh.node_b.log.wait_for("connection denied by policy")[0]
    assert "DENY policy demo/deny-other rule 0" in denied["decision"], denied.raw


def test_deny_wins_over_allow(lab: Lab):
    mesh = start(lab, ALLOW_CLIENT, DENY_ALL_CLIENTS)
    assert mesh.code(mesh.client_ip) == NOT_ALLOWED
    assert mesh.code(mesh.intruder_ip) == NOT_ALLOWED


def test_empty_spec_denies_all_and_allow_all_rule_allows(lab: Lab):
    mesh = start(lab, policy("deny-all", "demo", "  {}\n"))
    assert mesh.code(mesh.client_ip) == NOT_ALLOWED
    mark = mesh.node_b.log.mark()
    mesh.write_policies(policy("deny-all", "demo", "  rules: [{}]\n"))
    mesh.node_b.log.wait_for("configuration reloaded", since=mark)
    assert mesh.code(mesh.client_ip) == 0


def test_policy_added_at_run_time_closes_a_now_denied_live_connection(lab: Lab):
    mesh = start(lab)
    live, code = mesh.connect(mesh.intruder_ip)
    allowed, code2 = mesh.connect(mesh.client_ip)
    with live, allowed:
        assert code == 0 and code2 == 0
        live.sendall(b"before\n")
        assert live.recv(100) == b"before\n"
        mark = mesh.node_b.log.mark()
        mesh.write_policies(DENY_OTHER_NS)
        closed = mesh.node_b.log.wait_for("connection closed: no longer authorized", since=mark, timeout=15)[0]
        assert "ns/other/sa/intruder" in closed["connection"]
        # The intruder's connection is gone (reset or EOF); the client's still works.
        live.settimeout(10)
        try:
            live.sendall(b"after\n")
            data = live.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        assert data == b""
        allowed.sendall(b"still here\n")
        assert allowed.recv(100) == b"still here\n"
    assert mesh.code(mesh.intruder_ip) == NOT_ALLOWED


def test_broken_manifest_keeps_the_old_policy_and_traffic(lab: Lab):
    mesh = start(lab, DENY_OTHER_NS)
    live, code = mesh.connect(mesh.client_ip)
    with live:
        assert code == 0
        mark = mesh.node_b.log.mark()
        broken = policy("deny-other", "demo", "  action: DENY\n  rules:\n  - from:\n    - source: {ipBlocks: [10.0.0.0/33]}\n")
        mesh.write_policies(broken)
        rejected = mesh.node_b.log.wait_for("configuration rejected; the last good configuration stays in force", since=mark)
        assert rejected
        text = mesh.node_b.log.text(mark)
        assert "mesh.yaml:" in text and "10.0.0.0/33" in text, text[-2000:]
        live.sendall(b"still alive\n")
        assert live.recv(100) == b"still alive\n"
    # The old DENY is still in force, and the allowed client still gets in.
    assert mesh.code(mesh.intruder_ip) == NOT_ALLOWED
    assert mesh.code(mesh.client_ip) == 0


def test_strict_and_policy_together(lab: Lab):
    strict = (
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
        "metadata: {name: default, namespace: demo}\nspec: {mtls: {mode: STRICT}}\n"
    )
    mesh = start(lab, strict, ALLOW_CLIENT)
    assert mesh.code(mesh.client_ip) == 0
    assert mesh.code(mesh.intruder_ip) == NOT_ALLOWED


def test_check_warns_about_http_fields(lab: Lab):
    text = policy(
        "l7", "demo",
        "  action: ALLOW\n  rules:\n  - to:\n    - operation: {methods: [GET], paths: [/api/*]}\n",
    )
    path = lab.write("l7.yaml", join_docs([namespace_doc("demo"), text]))
    result = lab.run_weft("check", path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "l7.yaml:" in out and "AuthorizationPolicy/demo/l7" in out and "waypoint" in out, out


def explain(mesh: AuthzMesh, source: str) -> tuple[int, str]:
    result = mesh.lab.run_weft(
        "explain", "--config", mesh.config, "--from", source, "--to", f"{mesh.echo.addr[0]}:{mesh.echo.addr[1]}"
    )
    return result.returncode, result.stdout + result.stderr


def test_explain_agrees_with_the_data_path(lab: Lab):
    mesh = start(lab)
    cases = [
        [],
        [ALLOW_CLIENT],
        [DENY_OTHER_NS],
        [ALLOW_CLIENT, DENY_ALL_CLIENTS],
        [policy("deny-all", "demo", "  {}\n")],
    ]
    for policies in cases:
        mark = mesh.node_b.log.mark()
        mesh.write_policies(*policies)
        mesh.node_b.log.wait_for("configuration reloaded", since=mark)
        for name, ip in (("demo/client", mesh.client_ip), ("other/intruder", mesh.intruder_ip)):
            actual = mesh.code(ip)
            status, text = explain(mesh, name)
            assert status in (0, 3), text
            predicted = 0 if status == 0 else NOT_ALLOWED
            assert predicted == actual, f"policies {policies}: explain said {status} for {name}, the data path {actual}:\n{text}"
            assert text.startswith("destination: Pod demo/echo"), text
            assert ("ALLOW: " if status == 0 else "DENY: ") in text, text


def test_explain_names_the_deciding_rule_and_handles_plaintext(lab: Lab):
    mesh = start(lab, DENY_OTHER_NS)
    status, text = explain(mesh, "other/intruder")
    assert status == 3
    assert "DENY policy demo/deny-other rule 0" in text and "mesh.yaml:" in text, text
    plain = mesh.lab.run_weft(
        "explain", "--config", mesh.config, "--from", "plaintext", "--from-ip", "192.0.2.7",
        "--to", f"{mesh.echo.addr[0]}:{mesh.echo.addr[1]}",
    )
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "mTLS mode for plaintext: PERMISSIVE" in plain.stdout
    bad = mesh.lab.run_weft("explain", "--config", mesh.config, "--from", "demo/ghost", "--to", "10.0.0.1:80")
    assert bad.returncode not in (0, 3) and "demo/ghost" in bad.stderr
