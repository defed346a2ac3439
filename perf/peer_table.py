"""Renders perf/peer.sh's results: per case, sluice's and Kafka Connect's records per
CPU-second and per wall-second (medians of the same run) and their ratios."""
import json
import sys
from pathlib import Path

out, cases = Path(sys.argv[1]), sys.argv[2:]
print("| case | records | sluice rec/CPU-s | Kafka Connect rec/CPU-s | ratio (CPU) | sluice rec/s | Kafka Connect rec/s | ratio (wall) | output bytes sluice / Kafka |")
print("|---|---|---|---|---|---|---|---|---|")
for c in cases:
    s = json.loads((out / f"{c}.sluice.json").read_text())
    k = json.loads((out / f"{c}.kafka.json").read_text())
    sc, kc = s["records_per_cpu_second"], k["median_records_per_cpu_second"]
    sw, kw = s["records_per_second"], k["median_records_per_wall_second"]
    print(
        f"| {c} | {s['records']:,} | {sc:,.0f} | {kc:,.0f} | {sc / kc:.1f}x | {sw:,.0f} | {kw:,.0f} "
        f"| {sw / kw:.1f}x | {s['bytes_out']:,} / {k['output_value_bytes']:,} |"
    )
print()
print(f"Kafka Connect {k['kafka']} on Java {k['java']}; sluice `--in-process`, median of {len(k['runs'])} runs each.")
