"""Writes the generated section of perf/RESULTS.md from `sluice bench --json` outputs.

Usage: render_results.py DIR RESULTS.md. DIR holds NAME.json (the report) and NAME.cmd (the
command) per run of perf/regenerate.sh; the text between the BEGIN/END markers of RESULTS.md
is replaced, everything else is kept.
"""
import json
import os
import platform
import subprocess
import sys

BEGIN = "<!-- BEGIN GENERATED: perf/regenerate.sh -->"
END = "<!-- END GENERATED -->"
KAFKA = {"W1": "200k / 222k", "W2": "83k / 89k", "W3": "267k / 272k"}
TITLES = {
    "W1": "schemaless JSON → 5 SMTs → JSON",
    "W2": "W1 with envelopes",
    "W3": "JsonConverter round trip",
    "BA": "ByteArray pass-through",
    "P1": "Kafka → Parquet (zstd)",
    "FS": "quickstart FileStreamSource → Kafka → FileStreamSink",
}


def load(d, name):
    with open(os.path.join(d, name + ".json")) as f:
        report = json.load(f)
    with open(os.path.join(d, name + ".cmd")) as f:
        cmd = f.read().strip()
    return report, cmd


def k(x):
    return f"{x / 1e3:.0f}k"


def rate(r):
    """Records per CPU-second, or a lower bound when the run used less CPU than /proc's tick."""
    if r["cpu_seconds"] <= 0.011:
        return f"> {r['records'] / 0.01 / 1e6:.0f}M (under 10 ms CPU)"
    return k(r["records_per_cpu_second"])


def bound(r):
    """'> ' when the run's CPU time was below /proc's tick, so per-CPU figures are bounds."""
    return "> " if r["cpu_seconds"] <= 0.011 else ""


def ms(x):
    if x is None:
        return "-"
    return f"{x:.1f}" if x >= 1 else f"{x:.3f}"


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!perf"], capture_output=True, text=True).stdout.strip()
    return model, os.cpu_count(), platform.release(), rustc, commit + (" + local changes" if dirty else "")


def case_table(d, names, lines):
    lines.append("| case | records | records/CPU-s, median (all runs) | records/s wall | MB/CPU-s | CPU s/GB | p50 / p99 batch ms | peak RSS | noisy | Kafka Connect 3.8 (rec/CPU-s) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    cmds = []
    for name in names:
        r, cmd = load(d, name)
        runs = ", ".join(rate(x) for x in r["runs"])
        gb = r["bytes_in"] / 1e9
        lines.append(
            f"| {r['case']} ({TITLES.get(r['case'], '')}) | {r['records']:,} | **{rate(r)}** ({runs}) "
            f"| {k(r['records_per_second'])} | {bound(r)}{r['mb_per_cpu_second']:.1f} | {'< ' if bound(r) else ''}{r['cpu_seconds'] / gb:.2f} "
            f"| {ms(r['batch_latency_p50_ms'])} / {ms(r['batch_latency_p99_ms'])} | {r['peak_rss_bytes'] / 1e6:.0f} MB "
            f"| {'yes' if r['noisy'] else 'no'} | {KAFKA.get(r['case'], '—') if r['mode'] == 'in-process' else '—'} |"
        )
        cmds.append(f"- {r['case']}: `{cmd}`")
    lines.append("")
    lines.append("Commands (release build, `sluice` = `$CARGO_TARGET_DIR/release/sluice`):")
    lines.extend(cmds)
    lines.append("")
    lines.append("Where the time goes (median run; wall seconds per stage summed over tasks, share of the staged time):")
    lines.append("")
    lines.append("| case | fetch | convert in | transforms | convert out | write | commit |")
    lines.append("|---|---|---|---|---|---|---|")
    for name in names:
        r, _ = load(d, name)
        st = r["stage_seconds"]
        order = ["fetch", "convert_in", "transforms", "convert_out", "write", "commit"]
        total = sum(st[s] for s in order) or 1.0
        lines.append(f"| {r['case']} | " + " | ".join(f"{st[s]:.2f} s ({st[s] * 100 / total:.0f}%)" for s in order) + " |")
    lines.append("")


def sweep_table(d, name, plot, lines):
    r, cmd = load(d, name)
    key = r["sweep"]
    lines.append(f"`{cmd}` — best: **{key}={r['best']}** (most records per CPU-second)")
    lines.append("")
    lines.append(f"| {key} | records/CPU-s (median) | records/s wall | MB/CPU-s | p50 / p99 batch ms | peak RSS | noisy |")
    lines.append("|---|---|---|---|---|---|---|")
    for p in r["points"]:
        v = p["settings"][key]
        mark = " **best**" if v == r["best"] else ""
        lines.append(
            f"| {v}{mark} | {rate(p)} | {k(p['records_per_second'])} | {p['mb_per_cpu_second']:.1f} "
            f"| {ms(p['batch_latency_p50_ms'])} / {ms(p['batch_latency_p99_ms'])} | {p['peak_rss_bytes'] / 1e6:.0f} MB | {'yes' if p['noisy'] else 'no'} |"
        )
    lines.append("")
    lines.append(f"![{r['case']} throughput against {key}]({plot})")
    lines.append("")


def main():
    d, results = sys.argv[1], sys.argv[2]
    model, cores, kernel, rustc, commit = machine()
    lines = [BEGIN, "", "## End-to-end cases (`perf/regenerate.sh`)", ""]
    lines.append(
        f"Machine: {cores} vCPU `{model}`, Linux {kernel}, shared and noisy. {rustc}; release build "
        "(thin LTO, no `target-cpu`; simd-json with `runtime-detection`, so its AVX2 path is picked at run time). "
        f"Commit `{commit}`. CPU is the measuring process's user+sys from `/proc` (in process: event generation "
        "subtracted; against the broker: the worker inside `sluice bench`, not the broker nor the producer). "
        "Each figure is the median of the runs listed; runs more than 25% apart are flagged noisy. "
        "Regenerate everything in this section with `perf/regenerate.sh`."
    )
    lines.append("")
    lines.append("### In process (no Kafka: generator → pipeline)")
    lines.append("")
    case_table(d, ["inproc-W1", "inproc-W2", "inproc-W3", "inproc-BA"], lines)
    peer = os.path.join(d, "peer.md")
    if os.path.exists(peer):
        lines.append("### In process, side by side with Kafka Connect 4.3 (`perf/peer.sh`, same run)")
        lines.append("")
        with open(peer) as f:
            lines.extend(f.read().rstrip("\n").split("\n"))
        lines.append("")
    lines.append("### Against the broker (Tansu on 127.0.0.1; events produced before the clock starts)")
    lines.append("")
    case_table(d, ["broker-P1", "broker-BA", "broker-FS", "broker-W1", "broker-W2", "broker-W3"], lines)
    lines.append("### Sweeps")
    lines.append("")
    sweep_table(d, "sweep-W1-batch", "plots/w1-batch-size.svg", lines)
    sweep_table(d, "sweep-W1-smts", "plots/w1-smt-count.svg", lines)
    sweep_table(d, "sweep-W3-event", "plots/w3-event.svg", lines)
    sweep_table(d, "sweep-P1-batch", "plots/p1-batch-size.svg", lines)
    lines.append(END)
    generated = "\n".join(lines)
    with open(results) as f:
        text = f.read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + generated + tail
    else:
        text = text.rstrip("\n") + "\n\n" + generated + "\n"
    with open(results, "w") as f:
        f.write(text)


main()
