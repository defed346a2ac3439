#!/usr/bin/env bash
# P1: Kafka topic of standard order events (schemaless JSON) -> Parquet (zstd) on local disk.
# Produces N events to a fresh 3-partition topic, runs `sluice standalone` with
# connector.json until every row is in committed files (counted by duckdb), and reports
# the worker's CPU seconds (user+sys from /proc), MB of input per CPU-second and peak RSS.
# Usage: [PARTITIONS=3] perf/cases/P1/run.sh [N]   (release build; broker from scripts/broker.sh)
# PROFILE=FILE records the worker with `perf record` into FILE (its log in FILE.log);
# PERF_CG sets perf's call-graph flags (default -g, e.g. PERF_CG="--call-graph dwarf,16384").
set -euo pipefail
cd "$(dirname "$0")/../../.."
N=${1:-1000000}
# PARTITIONS=1000 runs the open-partitions memory case (one open file per partition).
PARTITIONS=${PARTITIONS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sluice/target}
PYLIB=${SLUICE_PYLIB:-$HOME/.cache/sluice/pylib}
cargo build --release -q -p sluice-engine
BIN=$CARGO_TARGET_DIR/release/sluice
scripts/broker.sh start >/dev/null
WORK=$(mktemp -d)
TOPIC=p1-$(date +%s)
scripts/broker.sh create-topic "$TOPIC" "$PARTITIONS" >/dev/null
"$BIN" produce --topic "$TOPIC" --records "$N" --partitions "$PARTITIONS" 2>"$WORK/produce.log"
BYTES=$(( $(grep -o '([0-9.]* MB)' "$WORK/produce.log" | tr -dc '0-9.' | cut -d. -f1) ))
sed -e "s#@TOPIC@#$TOPIC#" -e "s#@OUT@#$WORK/out#" perf/cases/P1/connector.json >"$WORK/connector.json"
cat >"$WORK/worker.properties" <<PROPS
bootstrap.servers=127.0.0.1:${SLUICE_BROKER_PORT:-9092}
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=false
offset.storage.file.filename=$WORK/offsets
offset.flush.interval.ms=5000
listeners=http://127.0.0.1:0
consumer.session.timeout.ms=6000
PROPS
"$BIN" standalone "$WORK/worker.properties" "$WORK/connector.json" 2>"$WORK/sluice.log" &
PID=$!
if [ -n "${PROFILE:-}" ]; then perf record -F 499 ${PERF_CG:--g} -p $PID -o "$PROFILE" 2>"$PROFILE.log" & PERF=$!; fi
START=$(date +%s.%N)
count() { PYTHONPATH=$PYLIB python3 -c "import duckdb,sys; print(duckdb.connect().execute(\"select count(*) from read_parquet('$WORK/out/**/*.parquet')\").fetchone()[0])" 2>/dev/null || echo 0; }
while [ "$(count)" -lt "$N" ]; do sleep 0.5; done
END=$(date +%s.%N)
read -r UT ST < <(awk '{print $14, $15}' /proc/$PID/stat)
HZ=$(getconf CLK_TCK)
RSS=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
if [ -n "${PERF:-}" ]; then kill -INT $PERF; wait $PERF || true; fi
kill -TERM $PID; wait $PID || true
FILES=$(find "$WORK/out" -name '*.parquet' | wc -l)
OUT_BYTES=$(find "$WORK/out" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s+0}')
python3 - "$N" "$BYTES" "$UT" "$ST" "$HZ" "$RSS" "$START" "$END" "$FILES" "$OUT_BYTES" <<'PY'
import json, sys
n, mb, ut, st, hz, rss, start, end, files, out_bytes = sys.argv[1:]
cpu = (int(ut) + int(st)) / int(hz)
wall = float(end) - float(start)
print(json.dumps({"case": "P1", "partitions": int(__import__("os").environ.get("PARTITIONS", "3")), "records": int(n), "mb_in": int(mb), "cpu_seconds": round(cpu, 2),
  "wall_seconds_incl_startup": round(wall, 2), "records_per_cpu_second": round(int(n) / cpu),
  "mb_per_cpu_second": round(int(mb) / cpu, 1), "peak_rss_mb": round(int(rss) / 1024, 1),
  "files": int(files), "parquet_mb": round(int(out_bytes) / 1e6, 1)}))
PY
rm -rf "$WORK"
