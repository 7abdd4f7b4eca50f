"""Medians over rounds, ratios, and the markdown/JSON report."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from . import captured
from .cells import CELL_BY_KEY, POD, Sample
from .peers import PATH_BY_KEY, REFERENCE, SLOTS, baseline

# metric key -> (column title, format, higher is better)
METRICS = {
    "gbps": ("Gbit/s", "{:.2f}", True),
    "gbit_per_cpu_s": ("Gbit per path CPU-s", "{:.2f}", True),
    "p50_us": ("p50 µs", "{:.0f}", False),
    "p90_us": ("p90 µs", "{:.0f}", False),
    "p99_us": ("p99 µs", "{:.0f}", False),
    "added_p50_us": ("added p50 µs", "{:+.0f}", False),
    "added_p90_us": ("added p90 µs", "{:+.0f}", False),
    "added_p99_us": ("added p99 µs", "{:+.0f}", False),
    "rps": ("req/s", "{:,.0f}", True),
    "cpu_us_per_req": ("path CPU µs/req", "{:.1f}", False),
}
CELL_METRICS = {
    "iperf1": ["gbps", "gbit_per_cpu_s"],
    "iperf8": ["gbps", "gbit_per_cpu_s"],
    "lat": ["p50_us", "p90_us", "p99_us", "added_p50_us", "added_p90_us", "added_p99_us"],
    "lat_pinned": ["p50_us", "p90_us", "p99_us", "added_p50_us", "added_p90_us", "added_p99_us"],
    "rps64": ["rps", "cpu_us_per_req"],
    "cps": ["rps", "cpu_us_per_req"],
}
# Ratios are not shown for added latency (a difference already) nor, to direct, for path CPU (direct has none).
NO_RATIO = {"added_p50_us", "added_p90_us", "added_p99_us"}
NO_DIRECT_RATIO = {"gbit_per_cpu_s", "cpu_us_per_req"}
# The pod paths run over veths, the reference on loopback: only their CPU figures compare with it.
POD_REFERENCE_RATIO = NO_DIRECT_RATIO


def _median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


@dataclass
class Agg:
    cell: str
    path: str
    medians: dict[str, float | None]
    rounds_ok: int
    rounds: int
    errors: list[str]
    noise_median: float | None
    noise_max: float | None
    reruns: int
    still_noisy: int


def aggregate(samples: list[Sample], threshold: float) -> dict[str, dict[str, Agg]]:
    by: dict[tuple[str, str], list[Sample]] = {}
    for s in samples:
        by.setdefault((s.cell, s.path), []).append(s)
    # Added latency: path minus its baseline (direct; pod → pod direct for the captured path), paired by round (the
    # same stretch of time), then the median.
    ok_by = {(s.path, s.cell, s.round): s for s in samples if s.ok}
    out: dict[str, dict[str, Agg]] = {}
    for (cell, path), ss in by.items():
        ok = [s for s in ss if s.ok]
        med = {}
        for k in CELL_METRICS[cell]:
            if k.startswith("added_"):
                base = k[len("added_"):]
                b = baseline(path)
                diffs = [s.metrics[base] - ok_by[(b, cell, s.round)].metrics[base]
                         for s in ok if (b, cell, s.round) in ok_by and s.metrics.get(base) is not None]
                med[k] = _median(diffs) if path != "direct" else None
            else:
                med[k] = _median([s.metrics.get(k) for s in ok])
        noises = [s.noise for s in ss]
        out.setdefault(cell, {})[path] = Agg(
            cell, path, med, len(ok), len(ss), [s.error for s in ss if s.error],
            _median(noises), max(noises) if noises else None, sum(s.reruns for s in ss),
            sum(1 for s in ss if s.noise > threshold),
        )
    return out


def ratios(aggs: dict[str, dict[str, Agg]]) -> dict[str, dict[str, dict[str, dict[str, float | None]]]]:
    """cell -> path -> metric -> {"direct": r, "reference": r}. "direct" is the path's baseline (peers.baseline:
    pod → pod direct for the captured path); the pod paths get a reference ratio for CPU figures only."""
    out: dict = {}
    for cell, paths in aggs.items():
        for path, a in paths.items():
            for k, v in a.medians.items():
                r = {"direct": None, "reference": None}
                if v is not None and k not in NO_RATIO:
                    for name, base_path in (("direct", baseline(path)), ("reference", REFERENCE)):
                        if name == "direct" and k in NO_DIRECT_RATIO:
                            continue
                        if name == "reference" and path in POD and k not in POD_REFERENCE_RATIO:
                            continue
                        b = paths.get(base_path)
                        bv = b.medians.get(k) if b else None
                        if bv:
                            r[name] = v / bv
                out.setdefault(cell, {}).setdefault(path, {})[k] = r
    return out


# ------------------------------------------------------------------------------------------------------------
# Markdown
# ------------------------------------------------------------------------------------------------------------

def _fmt(k: str, v: float | None) -> str:
    if v is None:
        return "—"
    return METRICS[k][1].format(v)


def _ratio(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}×"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def _table(cell: str, paths: list[str], aggs: dict, rats: dict, unavailable: dict[str, str],
           extra_rows: list[tuple[str, str]] = ()) -> list[str]:
    metrics = CELL_METRICS[cell]
    head = ["path"]
    for k in metrics:
        head.append(METRICS[k][0])
        if k not in NO_RATIO:
            if k not in NO_DIRECT_RATIO:
                head.append("×direct")
            head.append("×hap-mTLS")
    head += ["noise", "re-runs"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for p in paths:
        if p == next((q for q in paths if q in POD), None):
            lines.append("| *pod → pod, two nodes (netns); Weft captured ×direct = ÷ pod → pod direct* |"
                         + " |" * (len(head) - 1))
        label = PATH_BY_KEY[p].label
        a = aggs.get(cell, {}).get(p)
        if a is None:
            reason = unavailable.get(p, "not run")
            lines.append(f"| {label} | " + " | ".join([f"**{reason}**"] + [""] * (len(head) - 2)) + " |")
            continue
        if a.rounds_ok == 0:
            err = a.errors[0] if a.errors else "failed"
            lines.append(f"| {label} | " + " | ".join([f"**FAILED**: {err}"] + [""] * (len(head) - 2)) + " |")
            continue
        row = [label + (f" ({a.rounds_ok}/{a.rounds} rounds ok)" if a.rounds_ok < a.rounds else "")]
        for k in metrics:
            row.append(_fmt(k, a.medians.get(k)))
            if k not in NO_RATIO:
                r = rats[cell][p][k]
                if k not in NO_DIRECT_RATIO:
                    row.append(_ratio(r["direct"]))
                row.append(_ratio(r["reference"]))
        noisy = f" ({a.still_noisy} over)" if a.still_noisy else ""
        row += [f"{_pct(a.noise_median)}{noisy}", str(a.reruns)]
        lines.append("| " + " | ".join(row) + " |")
    for label, text in extra_rows:
        lines.append(f"| {label} | " + " | ".join([f"*{text}*"] + [""] * (len(head) - 2)) + " |")
    return lines


def _wire_line(hs: dict) -> str:
    if not hs:
        return "not captured (tcpdump missing?)"
    parts = []
    for key, hellos in hs.items():
        kinds = sorted({f"{h['version']} {h['cipher']} {h['group']}" for h in hellos if not h.get("hello_retry")})
        resumed = sum(1 for h in hellos if h["resumed"])
        retries = sum(1 for h in hellos if h.get("hello_retry"))
        parts.append(f"{PATH_BY_KEY[key].label}: {len(hellos) - retries} handshake(s), {' / '.join(kinds)}, "
                     f"{resumed} resumed" + (f", {retries} HelloRetryRequest(s)" if retries else ""))
    return "; ".join(parts)


def _tls_line(checks: dict) -> str:
    if not checks:
        return "none run"
    parts = []
    for side, c in checks.items():
        ok = c["with_client_cert"]
        parts.append(
            f"{side}: valid client cert {ok['result']} ({ok['detail']}), "
            f"no client cert {c['without_client_cert']['result']}, TLS 1.2 {c['tls1.2_offer']['result']}")
    return "; ".join(parts)


POD_NOTE = ("Pod rows (under \"pod → pod\" in each table): ×direct and added latency of pod → pod direct are "
            "relative to (loopback) direct: what the veths, the two forwarding nodes and the bridge cost; those of "
            "Weft captured are relative to pod → pod direct: what Weft costs on the same hops. ×hap-mTLS only for "
            "path CPU (the reference runs on loopback).")


def _pod_line(pp: dict) -> str:
    link = pp.get("link_during_probes")
    proof = (f"; during the setup probes the node-to-node link carried {link['tcp_segments']} TCP segments between "
             f"the enrolled pods, {link['outside_hbone']} outside HBONE" if link else "")
    return (f"- Pod → pod: {pp['topology']}. pod → pod direct: {pp['paths']['pod-direct']} (not in the mesh); Weft "
            f"captured: {pp['paths'].get('weft-captured', '—')} (both pods enrolled, in-pod capture, HBONE between "
            f"the two weft nodes){proof}.")


def markdown(result: dict, aggs: dict, rats: dict) -> str:
    m = result["machine"]
    st = result["settings"]
    unavailable = {**result["unavailable"], **result.get("skipped", {})}
    out = [f"# Weft bench — {m['date']}", ""]
    if st["mode"] == "smoke":
        out += ["**Smoke run** (1 round, ~1 s per cell, subset of cells): it checks that every path carries traffic; "
                "its figures are not measurements.", ""]
    noises = [a.noise_median for paths in aggs.values() for a in paths.values() if a.noise_median is not None]
    if noises and statistics.median(noises) > st["noise_threshold"]:
        out += [f"**Noisy run**: other processes used a median {100 * statistics.median(noises):.0f}% of a core while "
                f"the cells ran ({100 * st.get('other_load_at_start', 0):.0f}% at the start): every figure here is "
                "disturbed; run again on a quiet machine.", ""]
    if m.get("weft_build") == "debug":
        out += ["**Weft is a debug build here**: its figures are far below a release build's.", ""]
    out += [
        f"- Machine: {m['cpu_model']}, {m['cores']} cores, {m['mem_gib']:.0f} GiB, kernel {m['kernel']}",
        f"- Weft: commit {m['weft_commit']}{' (uncommitted changes in the tree)' if m.get('weft_dirty') else ''}, "
        f"binary `{m['weft_bin']}` ({m['weft_build']} build, {m['weft_bin_mtime']})",
        f"- Peers: {', '.join(f'{k} {v}' for k, v in m['versions'].items())}",
        f"- Method: {st['rounds']} round(s) × {st['duration_s']} s per cell, medians over rounds; paths interleaved "
        f"within each round; TLS 1.3 only ({st['ciphersuites']}, {st['curves']}), ECDSA P-256 leaves from one "
        f"`weft ca` CA for every TLS peer; Weft threads: {st['weft_threads'] or 'default (one per core)'}, "
        f"nginx workers: {st['nginx_workers']}, haproxy threads: default (one per CPU); "
        f"noise threshold {100 * st['noise_threshold']:.0f}% of a core, at most {st['max_reruns']} re-run(s) per cell",
        f"- TLS checks (a Python/OpenSSL client, with its own cipher preference, against each TLS server side): {_tls_line(result.get('tls_checks', {}))}",
        f"- On the wire (ServerHello of each handshake of two setup requests per path, tcpdump): "
        f"{_wire_line(result.get('handshakes_on_the_wire', {}))}",
        *([_pod_line(result["pod_paths"])] if result.get("pod_paths") else []),
        f"- Took {result['elapsed_s'] / 60:.1f} min.",
        "",
        "×direct = path ÷ direct (Weft captured: ÷ pod → pod direct); ×hap-mTLS = path ÷ haproxy mTLS pair (the "
        "reference peer). Path CPU = CPU of the "
        "path's own processes (both sides of a pair, every thread), not the client's or the server's. "
        "noise = median CPU used meanwhile by processes the bench did not start, in % of one core "
        "(\"(n over)\": rounds still above the threshold after re-runs). See bench/README.md.",
        "",
        *([POD_NOTE, ""] if result.get("pod_paths") else []),
    ]
    order4 = ["direct", "haproxy-plain", "haproxy-mtls", "stunnel-mtls", "weft"]
    for cell in result["cells_run"]:
        c = CELL_BY_KEY[cell]
        paths = [p for p in c.paths if p in aggs.get(cell, {}) or p in unavailable]
        if cell in ("lat_pinned", "rps64"):
            paths = [p for p in paths if PATH_BY_KEY[p].layer == "l4"]
        if cell == "cps":
            paths = [p for p in order4 + ["weft-cold", *POD] if p in paths]
        extra = [SLOTS["weft-captured"]] if not captured.IMPLEMENTED else []
        out += [f"## {c.title}", ""]
        out += _table(cell, paths, aggs, rats, unavailable, extra)
        out.append("")
        if cell == "cps":
            out += ["req/s here = new connections per second (one request per connection); path CPU µs/req = per "
                    "connection.", ""]
    # Waypoint (L7) peers.
    l7 = [p for p in ("haproxy-http", "nginx-proxy", "weft-waypoint") if any(p in aggs.get(c, {}) or p in unavailable
                                                            for c in ("rps64", "lat_pinned"))]
    if l7:
        out += ["## Waypoint (L7) peers, in front of the same nginx backend", ""]
        head = ["peer", "req/s c64", "×direct", "×hap-mTLS", "CPU µs/req", "×hap-mTLS",
                "pinned p50 µs", "×direct", "pinned p99 µs", "×direct", "noise"]
        out += ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        for p in ["direct"] + l7:
            r64 = aggs.get("rps64", {}).get(p)
            lp = aggs.get("lat_pinned", {}).get(p)
            if p in unavailable:
                out.append(f"| {PATH_BY_KEY[p].label} | **{unavailable[p]}** |" + " |" * (len(head) - 2))
                continue

            def val(a, cell, k):
                return _fmt(k, a.medians.get(k)) if a and a.rounds_ok else ("FAILED" if a else "—")

            def rat(a, cell, k, which):
                return _ratio(rats[cell][p][k][which]) if a and a.rounds_ok else "—"
            noises = [a.noise_median for a in (r64, lp) if a and a.noise_median is not None]
            out.append("| " + " | ".join([
                PATH_BY_KEY[p].label,
                val(r64, "rps64", "rps"), rat(r64, "rps64", "rps", "direct"), rat(r64, "rps64", "rps", "reference"),
                val(r64, "rps64", "cpu_us_per_req"), rat(r64, "rps64", "cpu_us_per_req", "reference"),
                val(lp, "lat_pinned", "p50_us"), rat(lp, "lat_pinned", "p50_us", "direct"),
                val(lp, "lat_pinned", "p99_us"), rat(lp, "lat_pinned", "p99_us", "direct"),
                _pct(max(noises)) if noises else "—",
            ]) + " |")
        out.append("")
    # Memory.
    out += ["## Peak RSS (VmHWM at the end of the run)", "",
            "| path | process | peak RSS MiB | path total MiB | ×hap-mTLS |", "|---|---|---:|---:|---:|"]
    ref_total = sum(result["rss_kib"].get(REFERENCE, {}).values()) or None
    for p, procs in result["rss_kib"].items():
        total = sum(procs.values())
        for i, (name, kib) in enumerate(procs.items()):
            t = f"{total / 1024:.1f}" if i == 0 else ""
            r = _ratio(total / ref_total) if i == 0 and ref_total else ""
            out.append(f"| {PATH_BY_KEY[p].label if i == 0 else ''} | {name} | {kib / 1024:.1f} | {t} | {r} |")
    out += ["", "nginx figures are the master plus its workers. weft-node-b serves both Weft pair rows; the captured "
            "path has its own two nodes (weft-bcap-node-1 and -2, each in its node's namespace).", ""]
    if result["failures"]:
        out += ["## Failures", ""] + [f"- {f}" for f in result["failures"]] + [""]
    if result.get("notes"):
        out += ["## Notes", ""] + [f"- {n}" for n in result["notes"]] + [""]
    return "\n".join(out)
