#!/usr/bin/env bash
# The ctest fixture around scripts/kafka-broker.sh: one real broker per ctest run.
#   fixture.sh start ENV_FILE   starts it on free loopback ports; its addresses go to ENV_FILE
#   fixture.sh stop  ENV_FILE   stops it by its PID and removes its work dir
# Where Java 17+ is missing, or the jars are not cached and Maven is missing, `start` writes
# KAFKA_SKIPPED=<reason> to ENV_FILE, prints the reason and exits 77 (ctest's SKIP_RETURN_CODE),
# and the tests that need the broker skip with the same reason (tests/integration/kafka_broker.py).
# With Java and Maven there, a broker that does not start is a failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
broker=$here/../../scripts/kafka-broker.sh
libs=${KAFKA_LIBS:-${XDG_CACHE_HOME:-$HOME/.cache}/nodus/kafka-4.4.0/libs}
verb=${1:?usage: fixture.sh start|stop ENV_FILE}
env_file=${2:?usage: fixture.sh start|stop ENV_FILE}

value() { [[ -f "$env_file" ]] && sed -n "s/^$1=//p" "$env_file" | head -n 1 || true; }

# Stops the broker ENV_FILE names, if its PID is still that broker (a run that was cut short
# leaves it behind; a PID reused by another program is left alone).
stop_named() {
  local work pid
  work=$(value KAFKA_WORK_DIR)
  [[ -n "$work" && -f "$work/broker.pid" ]] || return 0
  pid=$(cat "$work/broker.pid")
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $work/server.properties"; then
    "$broker" stop "$work"
  else
    rm -rf "$work"
  fi
}

skip() {
  mkdir -p "$(dirname "$env_file")"
  echo "KAFKA_SKIPPED=$1" >"$env_file"
  echo "SKIPPED: no real Kafka broker for this run: $1"
  exit 77
}

java_major() {
  java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1
}

case "$verb" in
  start)
    stop_named
    rm -f "$env_file"
    mkdir -p "$(dirname "$env_file")"
    command -v java >/dev/null 2>&1 || skip "no java on PATH (scripts/install-deps.sh installs openjdk-17-jdk-headless)"
    major=$(java_major)
    [[ "${major:-0}" -ge 17 ]] || skip "java is version ${major:-unknown}; Kafka 4.4 needs 17 or newer"
    if ! compgen -G "$libs/kafka_2.13-*.jar" >/dev/null && ! command -v mvn >/dev/null 2>&1; then
      skip "no Kafka jars in $libs and no mvn on PATH to fetch them (scripts/install-deps.sh installs maven)"
    fi
    KAFKA_ENV_FILE=$env_file "$broker" start --free-ports
    ;;
  stop)
    if [[ -n "$(value KAFKA_SKIPPED)" ]]; then
      echo "SKIPPED: $(value KAFKA_SKIPPED)"
      exit 77
    fi
    stop_named
    rm -f "$env_file"
    echo "broker stopped"
    ;;
  *) echo "usage: fixture.sh start|stop ENV_FILE" >&2; exit 2 ;;
esac
