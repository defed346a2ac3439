#!/usr/bin/env bash
# sluice and the real Kafka Connect 4.3, in process, on the same generated events, in one
# run: each case's connector config comes from `sluice bench --print-config` and runs on both
# sides (Kafka's through engine/tests/oracle/Bench.java), alternating sluice and Kafka Connect
# per case so both see the same machine. Prints a markdown table (figures and ratios).
# Usage: perf/peer.sh [CASES]     (default "W3 W1 W2 W4 W4E"; AR is the Avro round trip
#                                  against Confluent's AvroConverter; RUNS=3; QUICK=1 for few records)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sluice/target}
RUNS=${RUNS:-3}
CASES=${1:-W3 W1 W2 W4 W4E}
cargo build --release -q -p sluice-engine
BIN=$CARGO_TARGET_DIR/release/sluice
scripts/kafka-connect.sh compile engine/tests/oracle >/dev/null
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for c in $CASES; do
  # AR: the events re-encoded by each side's AvroConverter before timing (Confluent's on the Java side).
  case $c in W2|W4E) n=300000; envelope=--envelope ;; AR) n=300000; envelope=--avro ;; *) n=1000000; envelope= ;; esac
  if [ -n "${QUICK:-}" ]; then n=$((n / 100)); fi
  "$BIN" bench --case "$c" --print-config >"$OUT/$c.config.json"
  echo "== $c: sluice, $n records" >&2
  "$BIN" bench --case "$c" --in-process --records "$n" --runs "$RUNS" --json >"$OUT/$c.sluice.json"
  echo "== $c: Kafka Connect, $n records" >&2
  # shellcheck disable=SC2086
  scripts/kafka-connect.sh bench --config "$OUT/$c.config.json" --records "$n" --runs "$RUNS" $envelope \
    >"$OUT/$c.kafka.json" 2>"$OUT/$c.kafka.log" || { tail -20 "$OUT/$c.kafka.log" >&2; exit 1; }
done
python3 perf/peer_table.py "$OUT" $CASES
