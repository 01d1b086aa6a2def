#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Turns the benchmark's raw samples (lines "WORKLOAD CONTENDER METRIC
VALUE") into bench.json, bench.md and bench.png: medians over repetitions,
ratios of ktls-serve against every other contender, and where each target
of the project stands.  Usage: report.py RAW OUTDIR [ENVIRONMENT-TEXT]"""
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict

raw, outdir = sys.argv[1], sys.argv[2]
env = sys.argv[3] if len(sys.argv) > 3 else ""
samples = defaultdict(list)
for line in open(raw):
    parts = line.split()
    if len(parts) != 4 or line.startswith("#"):
        continue
    try:
        samples[(parts[0], parts[1], parts[2])].append(float(parts[3]))
    except ValueError:
        pass
med = {k: statistics.median(v) for k, v in samples.items()}


def get(w, c, m):
    return med.get((w, c, m))


def rr(w, a, ma, b, mb=None, wb=None):
    """The ratio of contender a's metric to b's, repetition by repetition
    (the samples of an interleaved run pair up in order): (median, min,
    max), or None.  b may also be a number (a fixed reference)."""
    xs = samples.get((w, a, ma))
    ys = [b] * len(xs or []) if isinstance(b, (int, float)) else samples.get((wb or w, b, mb or ma))
    if not xs or not ys:
        return None
    rs = [x / y for x, y in zip(xs, ys) if y]
    if not rs:
        return None
    return (round(statistics.median(rs), 3), round(min(rs), 3), round(max(rs), 3))


workloads = sorted({k[0] for k in med})
result = {"environment": env, "workloads": {}}
for w in workloads:
    cs = sorted({k[1] for k in med if k[0] == w})
    result["workloads"][w] = {
        c: {m: med[(w2, c2, m)] for (w2, c2, m) in med if w2 == w and c2 == c} for c in cs}
    result["workloads"][w]["runs"] = max(len(samples[k]) for k in samples if k[0] == w)

# ratios of ktls-serve against each other contender, throughput and CPU
ratios = {}
for w in workloads:
    if not get(w, "ktls-serve", "mbps") and not get(w, "ktls-serve", "rps"):
        continue
    for c in result["workloads"][w]:
        if c in ("ktls-serve", "runs"):
            continue
        metric = "rps" if w.startswith("handshake") else "mbps"
        ratios[f"{w} ktls-serve/{c} throughput"] = rr(w, "ktls-serve", metric, c)
        if get(w, c, "cpu_s_per_gib") and not w.startswith("handshake"):
            # CPU: how many times less ktls-serve spends (>1 is better)
            ratios[f"{w} {c}/ktls-serve cpu"] = rr(w, c, "cpu_s_per_gib", "ktls-serve")
# the simulated NIC: what device offload takes off the server's CPU
# (software kTLS against the device with the NIC's own work taken out), and
# each bound across repetitions
def spread(w, c, m):
    v = samples.get((w, c, m))
    return (min(v), max(v)) if v else (None, None)


nic = {}
if get("nic-offload", "device", "host_cpu_s_per_gib") and get("nic-offload", "software", "cpu_s_per_gib"):
    nic = {
        "software/device server cpu": rr("nic-offload", "software", "cpu_s_per_gib", "device"),
        "software/device host cpu (the NIC's work taken out)":
            rr("nic-offload", "software", "cpu_s_per_gib", "device", "host_cpu_s_per_gib"),
        "device/software throughput": rr("nic-offload", "device", "mbps", "software"),
    }
    for k, v in nic.items():
        ratios[f"nic-offload {k}"] = v
# the kernel's own TLS consumers: NFS with TLS (through the agent's answer
# to the handshake upcall) against NFS without
if get("nfs-read", "nfs-tls", "mbps") and get("nfs-read", "nfs-plain", "mbps"):
    ratios["nfs-read nfs-tls/nfs-plain throughput"] = rr("nfs-read", "nfs-tls", "mbps", "nfs-plain")
    ratios["nfs-read nfs-tls/nfs-plain cpu per GiB"] = rr("nfs-read", "nfs-tls", "cpu_s_per_gib",
                                                          "nfs-plain")
if get("nfs-mount", "nfs-tls", "rps") and get("nfs-mount", "nfs-plain", "rps"):
    ratios["nfs-mount nfs-tls/nfs-plain mounts per second"] = rr("nfs-mount", "nfs-tls", "rps",
                                                                 "nfs-plain")
ratios = {k: v for k, v in ratios.items() if v is not None}
# the median in "ratios", its bounds across repetitions beside it
result["ratios"] = {k: v[0] for k, v in ratios.items()}
result["ratio_bounds"] = {k: [v[1], v[2]] for k, v in ratios.items()}

# the project's targets
floor = None
if get("big", "plain", "cpu_s_per_gib") is not None and get("crypto", "kernel-aes-256-gcm", "cpu_s_per_gib"):
    floor = get("big", "plain", "cpu_s_per_gib") + get("crypto", "kernel-aes-256-gcm", "cpu_s_per_gib")
# each as (median, min, max) across repetitions; a target is met only if
# its worse bound meets it
targets = [
    ("ktls-serve >= 1.1x nginx+kTLS throughput (large file)", rr("big", "ktls-serve", "mbps", "nginx-ktls"), 1.1),
    ("ktls-serve >= 1.1x nginx+kTLS in CPU per GiB (large file)", rr("big", "nginx-ktls", "cpu_s_per_gib", "ktls-serve"), 1.1),
    ("ktls-serve >= 1.4x nginx userspace TLS throughput (large file)", rr("big", "ktls-serve", "mbps", "nginx"), 1.4),
    ("ktls-serve >= 1.4x nginx userspace TLS in CPU per GiB (large file)", rr("big", "nginx", "cpu_s_per_gib", "ktls-serve"), 1.4),
    ("server CPU per GiB within 1.25x of the floor (plain sendfile + kernel AES-GCM)",
     rr("big", "ktls-serve", "cpu_s_per_gib", floor) if floor else None, None),
    ("agent handoff (module, 1 worker) >= 0.9x the in-process handshake rate",
     rr("handshake", "ktls-serve", "rps", "in-process"), 0.9),
    ("agent handoff (module, 2 workers) >= 0.9x the in-process handshake rate",
     rr("handshake", "ktls-serve-2w", "rps", "in-process"), 0.9),
    ("agent handoff (UNIX socket, 1 worker) >= 0.9x the in-process handshake rate",
     rr("handshake", "ktls-serve-socket", "rps", "in-process"), 0.9),
    ("agent handoff (UNIX socket, 2 workers) >= 0.9x the in-process handshake rate",
     rr("handshake", "ktls-serve-socket-2w", "rps", "in-process"), 0.9),
    ("agent handoff (module, 1 worker) >= 1.0x nginx+kTLS's handshake rate",
     rr("handshake", "ktls-serve", "rps", "nginx-ktls"), 1.0),
    ("agent handoff (module, 2 workers) >= 1.0x nginx+kTLS's handshake rate",
     rr("handshake", "ktls-serve-2w", "rps", "nginx-ktls"), 1.0),
    ("RSS per idle connection below nginx's (nginx's / ktls-serve's, KiB per connection)", rr("idle", "nginx", "kib_per_conn", "ktls-serve"), 1.0),
]


def met(v, g):
    if v is None:
        return None
    return v[2] <= 1.25 if g is None else v[1] >= g	# the worse bound


result["targets"] = [{"target": t, "value": v and v[0], "min": v and v[1], "max": v and v[2],
                      "goal": g, "met": met(v, g)} for t, v, g in targets]

with open(os.path.join(outdir, "bench.json"), "w") as f:
    json.dump(result, f, indent=1, sort_keys=True)


def fmt(v, nd=1):
    return "-" if v is None else (f"{v:.{nd}f}" if isinstance(v, float) else str(v))


md = [f"Environment: {env}", "",
      "Medians over repetitions. Throughput in MB/s of bytes received, responses "
      "unfinished at the end of a run included (requests/s for handshakes); "
      "server CPU in CPU-seconds per GiB served (ktls-serve's includes ktls-agent's); "
      "req/s, CPU per request and latency count finished responses.", ""]
md.append("| workload | contender | MB/s | req/s | server CPU s/GiB | server CPU ms/req | p50 ms | p99 ms | runs |")
md.append("|---|---|---|---|---|---|---|---|---|")
for w in workloads:
    if w == "switch":
        continue	# a line of its own below
    for c, m in result["workloads"][w].items():
        if c == "runs":
            continue
        hs = w.startswith("handshake")
        md.append(f"| {w} | {c} | {fmt(None if hs else m.get('mbps'))} | {fmt(m.get('rps'))} | "
                  f"{fmt(None if hs else m.get('cpu_s_per_gib'), 3)} | {fmt(m.get('cpu_ms_per_req'), 3)} | "
                  f"{fmt(m.get('p50_ms'), 2)} | "
                  f"{fmt(m.get('p99_ms'), 2)} | {result['workloads'][w]['runs']} |")
md += ["", "| ratio (ktls-serve against each; NFS: with TLS against without) | median | min-max |",
       "|---|---|---|"]
md += [f"| {k} | {fmt(v[0], 2)} | {fmt(v[1], 2)}-{fmt(v[2], 2)} |" for k, v in sorted(ratios.items())]
md += ["", "A target is met only if its worse bound across repetitions meets it.", "",
       "| target | median | min-max | goal |", "|---|---|---|---|"]
for t, v, g in targets:
    m = met(v, g)
    state = "" if m is None else " (met)" if m else " (missed)"
    md.append(f"| {t} | {fmt(v and v[0], 2)}{state} | "
              f"{fmt(v and v[1], 2)}-{fmt(v and v[2], 2)} | {fmt(g, 2) if g else '<= 1.25'} |")
hs = result["workloads"].get("handshake", {})
if any(get("handshake", c, "agent_ms_per_req") is not None for c in hs):
    # the server side's CPU per handshake, and the agent's part of it
    md += ["", "CPU per handshake on the server's vCPU, ms (median; the agent's part in "
           "brackets): " + ", ".join(
               f"{c} {fmt(get('handshake', c, 'cpu_ms_per_req'), 2)}" +
               (f" ({fmt(get('handshake', c, 'agent_ms_per_req'), 2)})"
                if get("handshake", c, "agent_ms_per_req") is not None else "")
               for c in hs if c != "runs")]
if any(get("handshake", c, "client_vcpu_pct") is not None for c in hs):
    # a client vCPU near 100% means the client's work bounds every rate:
    # the server with the lower CPU per handshake then gains little rate
    md += ["", "vCPUs busy during the handshake runs, % (median; server vCPU 0 / client "
           "vCPU 1): " + ", ".join(
               f"{c} {fmt(get('handshake', c, 'server_vcpu_pct'))} / "
               f"{fmt(get('handshake', c, 'client_vcpu_pct'))}" for c in hs if c != "runs")]
if get("switch", "extra", "us_per_switch") is not None:
    md += ["", "One switch of address space on the server's vCPU (two tasks handing a token "
           "back and forth, 4 MiB touched per side per turn): "
           f"{fmt(get('switch', 'threads', 'us_per_handover'))} us per hand-over between two "
           f"threads, {fmt(get('switch', 'processes', 'us_per_handover'))} us between two "
           f"processes: {fmt(get('switch', 'extra', 'us_per_switch'))} us more per switch."]
if nic:
    md += ["", "Simulated TLS-offload NIC (ktls_nicsim), TLS 1.2 AES-256-GCM, server CPU s/GiB "
           "(median, min-max): " + "; ".join(
               f"{c} {fmt(get('nic-offload', c, m), 3)} ({fmt(spread('nic-offload', c, m)[0], 3)}-"
               f"{fmt(spread('nic-offload', c, m)[1], 3)}) {m.replace('_s_per_gib', '')}"
               for c, ms in (("software", ("cpu_s_per_gib",)),
                             ("device", ("cpu_s_per_gib", "nic_cpu_s_per_gib", "host_cpu_s_per_gib")))
               for m in ms)]
if get("nfs-mount", "nfs-tls", "upcall_hs_per_s") is not None:
    lo, hi = spread("nfs-mount", "nfs-tls", "upcall_hs_per_s")
    md += ["", "Kernel TLS consumers through the handshake upcall (NFS over loopback, one "
           f"agent worker, both ends): {fmt(get('nfs-mount', 'nfs-tls', 'upcall_hs_per_s'), 2)} "
           f"handshakes/s ({fmt(lo, 2)}-{fmt(hi, 2)}); mounts/s with TLS "
           f"{fmt(get('nfs-mount', 'nfs-tls', 'rps'), 2)}, without "
           f"{fmt(get('nfs-mount', 'nfs-plain', 'rps'), 2)}; read MB/s with TLS "
           f"{fmt(get('nfs-read', 'nfs-tls', 'mbps'))}, without "
           f"{fmt(get('nfs-read', 'nfs-plain', 'mbps'))}."]
if get("idle", "ktls-serve", "kib_per_conn") is not None:
    md.append("")
    md.append("Memory per idle TLS connection (KiB): " + ", ".join(
        f"{c} {fmt(get('idle', c, 'kib_per_conn'), 2)}" for c in result["workloads"].get("idle", {}) if c != "runs"))
with open(os.path.join(outdir, "bench.md"), "w") as f:
    f.write("\n".join(md) + "\n")

# chart: throughput of each contender per workload
rows = [(w, c, get(w, c, "mbps")) for w in workloads for c in result["workloads"][w]
        if c != "runs" and get(w, c, "mbps") is not None and w != "crypto"
        and not w.startswith("handshake")]
data = os.path.join(outdir, "bench.dat")
cs = sorted({c for _, c, _ in rows})
ws = [w for w in workloads if any(r[0] == w for r in rows)]
with open(data, "w") as f:
    f.write("workload " + " ".join(cs) + "\n")
    for w in ws:
        f.write(w + " " + " ".join(fmt(get(w, c, "mbps")) if get(w, c, "mbps") is not None else "0"
                                   for c in cs) + "\n")
plot = f"""set terminal pngcairo size 1000,560
set output '{os.path.join(outdir, "bench.png")}'
set title 'Throughput, MB/s (emulated guest: compare, do not quote)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set ylabel 'MB/s'
set xtics rotate by -20
plot for [i=2:{len(cs) + 1}] '{data}' using i:xtic(1) title columnhead(i)
"""
try:
    subprocess.run(["gnuplot"], input=plot, text=True, check=True, capture_output=True)
except (OSError, subprocess.CalledProcessError) as e:
    print(f"report: no chart: {e}", file=sys.stderr)
print("\n".join(md))
