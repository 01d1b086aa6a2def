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


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


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
        ratios[f"{w} ktls-serve/{c} throughput"] = ratio(get(w, "ktls-serve", metric), get(w, c, metric))
        if get(w, c, "cpu_s_per_gib") and not w.startswith("handshake"):
            # CPU: how many times less ktls-serve spends (>1 is better)
            ratios[f"{w} {c}/ktls-serve cpu"] = ratio(get(w, c, "cpu_s_per_gib"),
                                                      get(w, "ktls-serve", "cpu_s_per_gib"))
# the simulated NIC: what device offload takes off the server's CPU
# (software kTLS against the device with the NIC's own work taken out), and
# each bound across repetitions
def spread(w, c, m):
    v = samples.get((w, c, m))
    return (min(v), max(v)) if v else (None, None)


nic = {}
if get("nic-offload", "device", "host_cpu_s_per_gib") and get("nic-offload", "software", "cpu_s_per_gib"):
    nic = {
        "software/device server cpu": ratio(get("nic-offload", "software", "cpu_s_per_gib"),
                                            get("nic-offload", "device", "cpu_s_per_gib")),
        "software/device host cpu (the NIC's work taken out)":
            ratio(get("nic-offload", "software", "cpu_s_per_gib"),
                  get("nic-offload", "device", "host_cpu_s_per_gib")),
        "device/software throughput": ratio(get("nic-offload", "device", "mbps"),
                                            get("nic-offload", "software", "mbps")),
    }
    for k, v in nic.items():
        ratios[f"nic-offload {k}"] = v
# the kernel's own TLS consumers: NFS with TLS (through the agent's answer
# to the handshake upcall) against NFS without
if get("nfs-read", "nfs-tls", "mbps") and get("nfs-read", "nfs-plain", "mbps"):
    ratios["nfs-read nfs-tls/nfs-plain throughput"] = ratio(get("nfs-read", "nfs-tls", "mbps"),
                                                           get("nfs-read", "nfs-plain", "mbps"))
    ratios["nfs-read nfs-tls/nfs-plain cpu per GiB"] = ratio(
        get("nfs-read", "nfs-tls", "cpu_s_per_gib"), get("nfs-read", "nfs-plain", "cpu_s_per_gib"))
if get("nfs-mount", "nfs-tls", "rps") and get("nfs-mount", "nfs-plain", "rps"):
    ratios["nfs-mount nfs-tls/nfs-plain mounts per second"] = ratio(
        get("nfs-mount", "nfs-tls", "rps"), get("nfs-mount", "nfs-plain", "rps"))
result["ratios"] = ratios

# the project's targets
floor = None
if get("big", "plain", "cpu_s_per_gib") is not None and get("crypto", "kernel-aes-256-gcm", "cpu_s_per_gib"):
    floor = get("big", "plain", "cpu_s_per_gib") + get("crypto", "kernel-aes-256-gcm", "cpu_s_per_gib")
targets = [
    ("ktls-serve >= 1.1x nginx+kTLS throughput (1 GiB)", ratio(get("big", "ktls-serve", "mbps"), get("big", "nginx-ktls", "mbps")), 1.1),
    ("ktls-serve >= 1.1x nginx+kTLS in CPU per GiB (1 GiB)", ratio(get("big", "nginx-ktls", "cpu_s_per_gib"), get("big", "ktls-serve", "cpu_s_per_gib")), 1.1),
    ("ktls-serve >= 1.4x nginx userspace TLS throughput (1 GiB)", ratio(get("big", "ktls-serve", "mbps"), get("big", "nginx", "mbps")), 1.4),
    ("ktls-serve >= 1.4x nginx userspace TLS in CPU per GiB (1 GiB)", ratio(get("big", "nginx", "cpu_s_per_gib"), get("big", "ktls-serve", "cpu_s_per_gib")), 1.4),
    ("server CPU per GiB within 1.25x of the floor (plain sendfile + kernel AES-GCM)",
     ratio(get("big", "ktls-serve", "cpu_s_per_gib"), floor), None),
    ("agent handoff (module) >= 0.9x the in-process handshake rate",
     ratio(get("handshake", "ktls-serve", "rps"), get("handshake", "in-process", "rps")), 0.9),
    ("agent handoff (UNIX socket) >= 0.9x the in-process handshake rate",
     ratio(get("handshake", "ktls-serve-socket", "rps"), get("handshake", "in-process", "rps")), 0.9),
    ("RSS per idle connection below nginx's (KiB)", ratio(get("idle", "nginx", "kib_per_conn"), get("idle", "ktls-serve", "kib_per_conn")), 1.0),
]
result["targets"] = [{"target": t, "value": v, "goal": g} for t, v, g in targets]

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
    for c, m in result["workloads"][w].items():
        if c == "runs":
            continue
        hs = w.startswith("handshake")
        md.append(f"| {w} | {c} | {fmt(None if hs else m.get('mbps'))} | {fmt(m.get('rps'))} | "
                  f"{fmt(None if hs else m.get('cpu_s_per_gib'), 3)} | {fmt(m.get('cpu_ms_per_req'), 3)} | "
                  f"{fmt(m.get('p50_ms'), 2)} | "
                  f"{fmt(m.get('p99_ms'), 2)} | {result['workloads'][w]['runs']} |")
md += ["", "| ratio (ktls-serve against each; NFS: with TLS against without) | value |",
       "|---|---|"]
md += [f"| {k} | {fmt(v, 2)} |" for k, v in sorted(ratios.items())]
md += ["", "| target | stands at | goal |", "|---|---|---|"]
for t, v, g in targets:
    if v is None:
        state = ""
    elif g is None:		# at most 1.25 times the floor
        state = " (met)" if v <= 1.25 else " (missed)"
    else:
        state = " (met)" if v >= g else " (missed)"
    md.append(f"| {t} | {fmt(v, 2)}{state} | {fmt(g, 2) if g else '<= 1.25'} |")
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
