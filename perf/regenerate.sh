#!/usr/bin/env bash
# Regenerates the end-to-end section of perf/RESULTS.md and the charts in perf/plots/:
# every case of perf/cases (in process and against the broker), each the median of RUNS runs
# with noisy runs flagged, plus the throughput sweeps over batch size and chain length, and
# the in-process cases side by side with Kafka Connect 4.3 (perf/peer.sh).
# Usage: perf/regenerate.sh            (RUNS=3; QUICK=1 for a smoke run with few records)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sluice/target}
RUNS=${RUNS:-3}
scale() { if [ -n "${QUICK:-}" ]; then echo $(($1 / 100)); else echo "$1"; fi; }
cargo build --release -q -p sluice-engine
BIN=$CARGO_TARGET_DIR/release/sluice
scripts/broker.sh start >/dev/null
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
mkdir -p perf/plots

run() { # name, then sluice bench arguments
  local name=$1; shift
  echo "== $name: sluice bench $*" >&2
  echo "sluice bench $*" >"$OUT/$name.cmd"
  "$BIN" bench "$@" --json >"$OUT/$name.json" 2>"$OUT/$name.log" || { tail -20 "$OUT/$name.log" >&2; exit 1; }
}

for c in W1 W3 BA; do run "inproc-$c" --case $c --in-process --records "$(scale 2000000)" --runs "$RUNS"; done
run inproc-W2 --case W2 --in-process --records "$(scale 1000000)" --runs "$RUNS"
for c in P1 BA FS W1 W3; do run "broker-$c" --case $c --records "$(scale 1000000)" --runs "$RUNS"; done
run broker-W2 --case W2 --records "$(scale 300000)" --runs "$RUNS"
run sweep-W1-batch --case W1 --in-process --records "$(scale 1000000)" --runs "$RUNS" \
  --sweep batch.size=128,512,2048,8192,32768 --plot perf/plots/w1-batch-size.svg
run sweep-W1-smts --case W1 --in-process --records "$(scale 1000000)" --runs "$RUNS" \
  --sweep smt.count=0,1,2,3,4,5 --plot perf/plots/w1-smt-count.svg
run sweep-W3-event --case W3 --in-process --records "$(scale 200000)" --runs "$RUNS" \
  --sweep event=standard,wide50,wide200,1k,10k --plot perf/plots/w3-event.svg
run sweep-P1-batch --case P1 --records "$(scale 500000)" --runs "$RUNS" \
  --sweep batch.size=500,2000,8192,32768 --plot perf/plots/p1-batch-size.svg

# Kafka Connect 4.3 on the same events in the same run: the in-process figures as ratios.
perf/peer.sh >"$OUT/peer.md"

python3 perf/render_results.py "$OUT" perf/RESULTS.md
echo "perf/RESULTS.md and perf/plots/ regenerated" >&2
