"""What the TLS pairs negotiate, read off the wire: the ServerHello of each handshake (cipher suite, key-exchange
group, whether the session was resumed) from a tcpdump capture of the setup probes. TLS 1.3 sends the ServerHello
in the clear; everything after it is encrypted.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

CIPHERS = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384", 0x1303: "TLS_CHACHA20_POLY1305_SHA256"}
GROUPS = {0x001D: "x25519", 0x0017: "secp256r1", 0x0018: "secp384r1", 0x001E: "x448", 0x11EC: "X25519MLKEM768"}
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
LINK_HEADER = {0: 4, 1: 14, 12: 0, 101: 0, 113: 16, 276: 20}


def available() -> bool:
    return shutil.which("tcpdump") is not None


def tcpdump_argv(pcap: Path, server_sides: list[tuple[str, int]]) -> list[str]:
    """Captures only what the TLS server sides send (where the ServerHello is), headers and a little payload."""
    terms = " or ".join(f"(src host {ip} and src port {port})" for ip, port in server_sides)
    return ["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-s", "4000", "-w", str(pcap), f"tcp and ({terms})"]


def _server_hello(payload: bytes) -> dict | None:
    if len(payload) < 48 or payload[0] != 0x16 or payload[5] != 0x02:
        return None
    p = 5 + 4 + 2 + 32  # record header, handshake header, legacy_version, random
    sid_len = payload[p]
    p += 1 + sid_len
    cipher = struct.unpack_from(">H", payload, p)[0]
    p += 3  # cipher suite, compression method
    ext_len = struct.unpack_from(">H", payload, p)[0]
    p += 2
    end = min(len(payload), p + ext_len)
    out = {"cipher": CIPHERS.get(cipher, f"0x{cipher:04x}"), "group": None,
           "version": "TLS 1.3" if cipher >> 8 == 0x13 else "TLS 1.2 or older", "resumed": False,
           "hello_retry": payload[11:43] == HRR_RANDOM}
    while p + 4 <= end:
        etype, elen = struct.unpack_from(">HH", payload, p)
        body = payload[p + 4:p + 4 + elen]
        if etype == 0x002B and len(body) == 2:  # supported_versions
            out["version"] = "TLS 1.3" if body == b"\x03\x04" else f"0x{body.hex()}"
        elif etype == 0x0033 and len(body) >= 2:  # key_share (in a HelloRetryRequest: just the group wanted)
            g = struct.unpack_from(">H", body, 0)[0]
            out["group"] = GROUPS.get(g, f"0x{g:04x}")
        elif etype == 0x0029:  # pre_shared_key: the server accepted a resumption ticket
            out["resumed"] = True
        p += 4 + elen
    return out


def server_hellos(pcap: Path) -> list[dict]:
    """Every ServerHello in a pcap file, with the client's address (the packet's destination)."""
    try:
        data = pcap.read_bytes()
    except FileNotFoundError:
        return []
    if len(data) < 24:
        return []
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    link = struct.unpack_from(endian + "I", data, 20)[0]
    skip = LINK_HEADER.get(link)
    if skip is None:
        return []
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl = struct.unpack_from(endian + "III", data, off)
        ts = sec + frac / (1e9 if nano else 1e6)
        pkt = data[off + 16: off + 16 + incl]
        off += 16 + incl
        ip = pkt[skip:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 0x0F) * 4
        tcp = ip[ihl:]
        if len(tcp) < 20:
            continue
        thl = (tcp[12] >> 4) * 4
        sport, dport = struct.unpack_from(">HH", tcp, 0)
        hello = _server_hello(tcp[thl:])
        if hello:
            hello.update(time=ts, server=f"{'.'.join(map(str, ip[12:16]))}:{sport}", client=f"{'.'.join(map(str, ip[16:20]))}:{dport}")
            out.append(hello)
    return out
