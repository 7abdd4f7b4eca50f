"""Hook for the captured-path cell: pod → pod through Weft with transparent capture in network namespaces.

Not measured yet. To add it, set IMPLEMENTED = True and make start() build the path: create the namespaces (names
must not start with "weft-lab-", which belong to `weft lab`), register every process with lab.reg, and return a
peers.Path_ whose http/iperf addresses the client can reach and whose procs are the weft nodes. The cells run the
client through `client_prefix()` (e.g. ["ip", "netns", "exec", "<client pod ns>"]) so it starts inside the client
pod; stop() must remove every namespace it created (it is called from the harness's cleanup, even on Ctrl-C).
"""

from __future__ import annotations

IMPLEMENTED = False
KEY = "weft-captured"


def start(lab):  # -> peers.Path_
    from .peers import Unavailable
    raise Unavailable("captured path not implemented yet")


def client_prefix() -> list[str]:
    return []


def stop(lab) -> None:
    pass
