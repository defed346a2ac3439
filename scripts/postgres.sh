#!/usr/bin/env bash
# PostgreSQL (Debian's package) for the change-data-capture tests: installed if missing,
# a throwaway cluster with wal_level=logical on 127.0.0.1:${SLUICE_PG_PORT:-55432}, trust
# authentication for user postgres. PostgreSQL refuses to run as root, so it runs as postgres.
#   scripts/postgres.sh start|stop|status
set -euo pipefail

PORT=${SLUICE_PG_PORT:-55432}
RUN=${SLUICE_PG_DIR:-${TMPDIR:-/tmp}/sluice-pg-$PORT}

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install() {
  [ -n "$(bindir)" ] && [ -x "$(bindir)/initdb" ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) >&2 \
    || { echo "postgres.sh: apt-get install postgresql failed" >&2; exit 1; }
}

as_pg() {
  # From /: the postgres user may not be allowed into the caller's directory.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

ready() { as_pg "$(bindir)/pg_isready" -q -h 127.0.0.1 -p "$PORT"; }

start() {
  install
  local bin; bin=$(bindir)
  if ready 2>/dev/null; then echo "postgres already up on 127.0.0.1:$PORT"; return 0; fi
  mkdir -p "$RUN"
  [ "$(id -u)" = 0 ] && chown postgres "$RUN"
  if [ ! -f "$RUN/data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$RUN/data" -A trust -U postgres >/dev/null
  fi
  as_pg "$bin/pg_ctl" -w -s -D "$RUN/data" -l "$RUN/log" -o \
    "-p $PORT -k $RUN -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_wal_senders=4 -c max_replication_slots=4 -c fsync=off" start
  echo "postgres ready on 127.0.0.1:$PORT (data $RUN/data)"
}

stop() {
  if [ -f "$RUN/data/postmaster.pid" ]; then
    as_pg "$(bindir)/pg_ctl" -s -D "$RUN/data" -m fast stop || true
  fi
  rm -rf "$RUN"
  echo "postgres stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if ready; then echo "up on 127.0.0.1:$PORT"; else echo "down"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
