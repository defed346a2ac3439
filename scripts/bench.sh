#!/usr/bin/env bash
# `sluice bench` from a fresh clone in one command: builds the release binary, starts the
# local broker (installing it if needed) and runs the harness with the given arguments, e.g.
#   scripts/bench.sh --case P1 --records 1000000 --runs 3
#   scripts/bench.sh --case W1 --records 1000000 --runs 3 --json
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sluice/target}
cargo build --release --quiet -p sluice-engine --bin sluice
scripts/broker.sh start >/dev/null
exec "$CARGO_TARGET_DIR/release/sluice" bench "$@"
