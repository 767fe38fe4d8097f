#!/usr/bin/env bash
# kafka-broker.sh: a real single-node Apache Kafka 4.x broker (KRaft, combined
# broker+controller) run from Maven-fetched jars (see pom.xml), no tarball.
#
#   scripts/kafka-broker.sh start [PORT [CONTROLLER_PORT]]   # format + start in background, wait until ready
#   scripts/kafka-broker.sh start --free-ports               # the same on free loopback ports (tests)
#   scripts/kafka-broker.sh stop  [WORK_DIR]                 # SIGTERM (controlled shutdown), then cleanup
#
# Four listeners: PLAINTEXT (PORT), CONTROLLER (CONTROLLER_PORT, default PORT+1), SASL_PLAINTEXT
# with PLAIN (KAFKA_SASL_PORT, default PORT+2) and SASL_SSL with PLAIN (KAFKA_SSL_PORT, default
# PORT+3), its throwaway CA and certificate made with openssl at start. --free-ports picks the four
# at random below the kernel's ephemeral range and starts again on other ports if one was taken
# between the check and the broker's bind (up to 5 tries).
#
# On success `start` prints (and writes to $WORK/broker.env, and to $KAFKA_ENV_FILE if set):
#   BOOTSTRAP_SERVERS=127.0.0.1:PORT  SASL_PLAINTEXT_SERVERS=...  SASL_SSL_SERVERS=...
#   KAFKA_SASL_USERNAME=nodus  KAFKA_SASL_PASSWORD=...  KAFKA_CA_FILE=WORK/tls/ca.pem
#   KAFKA_WORK_DIR=...  KAFKA_PID=...  KAFKA_READY_MS=... (listening)  KAFKA_START_MS=... (groups warm)
#
# Environment knobs (all optional):
#   KAFKA_LIBS            jar folder (default: ~/.cache/nodus/kafka-4.4.0/libs, outside the source
#                         tree; filled by mvn from tests/kafka-broker/pom.xml if missing)
#   KAFKA_MAVEN_REPO      Maven's local repository (default ~/.cache/nodus/maven-repository)
#   KAFKA_PORT            broker port (default 19092); KAFKA_CONTROLLER_PORT (default PORT+1)
#   KAFKA_SASL_PORT, KAFKA_SSL_PORT  the SASL_PLAINTEXT and SASL_SSL ports (default PORT+2, PORT+3)
#   KAFKA_ENV_FILE        also write the env lines to this file (the ctest fixture reads it)
#   KAFKA_HOST            bind/advertise address (default 127.0.0.1 — loopback only)
#   KAFKA_WORK_DIR        data+logs+config folder (default: fresh mktemp -d)
#   KAFKA_CLUSTER_ID      (default: the apache/kafka docker image's default id)
#   KAFKA_HEAP_OPTS       (default -Xms128m -Xmx512m; bin/kafka-server-start.sh uses -Xmx1G -Xms1G)
#   KAFKA_JVM_PERFORMANCE_OPTS  (default: kafka-run-class.sh's G1 flags)
#   KAFKA_FAST_START=1    use SerialGC + C1-only JIT instead (startup-oriented; unmeasured)
#   KAFKA_CDS_DIR=dir     AppCDS like the official docker image: first run dumps dir/kafka.jsa
#                         at broker exit (-XX:ArchiveClassesAtExit), later runs load it
#   KAFKA_START_TIMEOUT   seconds to wait for the broker port (default 90)
#   KAFKA_KEEP_DATA=1     `stop` keeps WORK_DIR
#   JAVA / JAVA_HOME      java to use (Java 17+ required by the 4.x broker)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/kafka-broker" && pwd)
LIBS=${KAFKA_LIBS:-${XDG_CACHE_HOME:-$HOME/.cache}/nodus/kafka-4.4.0/libs}
MAVEN_REPO=${KAFKA_MAVEN_REPO:-${XDG_CACHE_HOME:-$HOME/.cache}/nodus/maven-repository}
if [ -n "${JAVA:-}" ]; then :; elif [ -n "${JAVA_HOME:-}" ]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi
HOST=${KAFKA_HOST:-127.0.0.1}
TIMEOUT=${KAFKA_START_TIMEOUT:-90}
# Default cluster id of the apache/kafka docker image (docker/resources/common-scripts/configureDefaults).
# Any string is accepted by the 4.4 Formatter; avoid one that starts with '-' (CLI parsing).
CLUSTER_ID=${KAFKA_CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}

die() { echo "kafka-broker: $*" >&2; exit 1; }

# TCP connect via bash's /dev/tcp. For a listener with a fixed non-zero port the 4.x broker
# opens the server socket only when its Acceptor starts, i.e. after the broker is unfenced
# (kafka/network/SocketServer.scala, kafka/server/BrokerServer.scala), so "port answers"
# means "broker ready". This is NOT true of the controller port, which opens earlier.
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

ensure_libs() {
  if ! compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null || ! compgen -G "$LIBS/kafka-tools-*.jar" >/dev/null; then
    command -v mvn >/dev/null 2>&1 || die "no Kafka jars in $LIBS and no mvn on PATH"
    echo "kafka-broker: fetching jars into $LIBS (mvn dependency:copy-dependencies)" >&2
    # Maven's own repository under ~/.cache/nodus too (not ~/.m2): every cache in one place.
    (cd "$HERE" && mvn -q -B -Dmaven.repo.local="$MAVEN_REPO" dependency:copy-dependencies \
      -DoutputDirectory="$LIBS") \
      || die "mvn dependency:copy-dependencies failed"
  fi
  compgen -G "$LIBS/log4j-slf4j-impl-*.jar" >/dev/null \
    || echo "kafka-broker: warning: no log4j-slf4j-impl in $LIBS; broker logs will be silent" >&2
}

# The users of the two SASL listeners (PLAIN, checked by the broker against its JAAS config).
SASL_USERNAME=nodus
SASL_PASSWORD=nodus-secret
SASL_OTHER_USERNAME=alice
SASL_OTHER_PASSWORD=alice-secret

# A throwaway CA and a server certificate for 127.0.0.1 (and localhost), made fresh at every
# start: the broker reads key and chain as one PEM file (ssl.keystore.type=PEM), clients
# trust tls/ca.pem (librdkafka's ssl.ca.location; Java's ssl.truststore.type=PEM).
make_tls() {   # $1=WORK
  local T=$1/tls
  mkdir -p "$T"
  command -v openssl >/dev/null 2>&1 || die "no openssl on PATH (the SASL_SSL listener's certificate)"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 7 \
      -subj "/CN=nodus test CA" -keyout "$T/ca.key" -out "$T/ca.pem"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -subj "/CN=$HOST" \
      -keyout "$T/server.key" -out "$T/server.csr"
    printf '%s\n' "subjectAltName=IP:$HOST,DNS:localhost" "basicConstraints=CA:FALSE" \
      "keyUsage=digitalSignature" "extendedKeyUsage=serverAuth" >"$T/server.ext"
    openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
      -days 7 -extfile "$T/server.ext" -out "$T/server.crt"
  } >"$1/logs/openssl.out" 2>&1 || { cat "$1/logs/openssl.out" >&2; die "openssl could not make the certificates"; }
  cat "$T/server.key" "$T/server.crt" "$T/ca.pem" >"$T/server.pem"
}

write_configs() {   # $1=WORK $2=PORT $3=CPORT $4=SASL_PORT $5=SSL_PORT
  local W=$1 P=$2 C=$3 S=$4 T=$5
  local JAAS="org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USERNAME=\"$SASL_PASSWORD\" user_$SASL_OTHER_USERNAME=\"$SASL_OTHER_PASSWORD\";"
  cat >"$W/server.properties" <<EOF
# --- KRaft combined mode, single node (cf. config/server.properties of Kafka 4.x) ---
process.roles=broker,controller
node.id=1
# dynamic (KIP-853) quorum, formatted with --standalone; controller.quorum.voters is the
# deprecated static alternative (then format WITHOUT --standalone)
controller.quorum.bootstrap.servers=$HOST:$C
listeners=PLAINTEXT://$HOST:$P,CONTROLLER://$HOST:$C,SASL_PLAINTEXT://$HOST:$S,SASL_SSL://$HOST:$T
advertised.listeners=PLAINTEXT://$HOST:$P,CONTROLLER://$HOST:$C,SASL_PLAINTEXT://$HOST:$S,SASL_SSL://$HOST:$T
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
log.dirs=$W/data

# --- SASL/PLAIN on two listeners; the users are user_NAME="PASSWORD" options of the JAAS line ---
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=$JAAS
listener.name.sasl_ssl.plain.sasl.jaas.config=$JAAS
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$W/tls/server.pem

# --- single-replica internal topics (defaults are RF 3 / min.isr 2 -> would never be created) ---
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# --- test speed / small footprint ---
# default 50 partitions each; 1 makes first group/txn use much cheaper (testcontainers sets
# offsets.topic.num.partitions=1 too)
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.num.partitions=1
# default 3000 ms; 0 as in testcontainers, spring-kafka EmbeddedKafka, connect's EmbeddedKafkaCluster
group.initial.rebalance.delay.ms=0
group.streams.initial.rebalance.delay.ms=0
# default 128 MiB allocated ON HEAP by the cleaner thread at startup (SkimpyOffsetMap);
# 2 MiB is what KafkaClusterTestKit uses
log.cleaner.dedupe.buffer.size=2097152
num.partitions=1
num.recovery.threads.per.data.dir=1
num.network.threads=2
num.io.threads=2
EOF

  # log4j2 in *properties* format (no YAML parser needed); the tarball's config/log4j2.yaml
  # would also work because jackson-dataformat-yaml is a kafka_2.13 runtime dependency.
  cat >"$W/log4j2.properties" <<'EOF'
status = warn
name = kafka-broker
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.requestchannel.name = kafka.network.RequestChannel$
logger.requestchannel.level = WARN
EOF
  # = config/tools-log4j2.yaml: root WARN to stderr
  cat >"$W/tools-log4j2.properties" <<'EOF'
status = warn
name = kafka-tools
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
}

# N distinct loopback ports that are free now, between 20000 and 31999: below the kernel's
# ephemeral range, so that no test's port 0 lands on them while the broker starts. Another
# process may still bind one before the broker does: start_on then says so (status 3).
free_ports() {   # $1=N
  python3 - "$HOST" "$1" <<'PY'
import random, socket, sys
host, count, ports = sys.argv[1], int(sys.argv[2]), []
while len(ports) < count:
    port = random.randint(20000, 31999)
    with socket.socket() as s:
        try:
            s.bind((host, port))  # bound, never listened on: nothing left in TIME_WAIT
        except OSError:
            continue
    if port not in ports:
        ports.append(port)
print(*ports)
PY
}

now_ms() { date +%s%3N; }

# Formats and starts the broker on the given ports and waits until every broker listener answers.
# Returns 3 if the broker could not bind one of its ports; dies on any other failure.
start_on() {   # $1=WORK $2=PORT $3=CPORT $4=SASL_PORT $5=SSL_PORT
  local W=$1 PORT=$2 CPORT=$3 SPORT=$4 TPORT=$5 p
  for p in "$PORT" "$CPORT" "$SPORT" "$TPORT"; do
    port_open "$p" && { echo "kafka-broker: port $HOST:$p already answers" >&2; return 3; }
  done
  rm -rf "$W/data" && mkdir -p "$W/data"
  write_configs "$W" "$PORT" "$CPORT" "$SPORT" "$TPORT"

  local HEAP=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
  local PERF
  if [ "${KAFKA_FAST_START:-0}" = 1 ]; then
    PERF="-XX:+UseSerialGC -XX:TieredStopAtLevel=1"
  else
    # exactly kafka-run-class.sh's default in 4.2-4.4
    PERF=${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15}
  fi
  local CDS_FORMAT="" CDS_BROKER=""
  if [ -n "${KAFKA_CDS_DIR:-}" ]; then
    mkdir -p "$KAFKA_CDS_DIR"
    if [ -f "$KAFKA_CDS_DIR/kafka.jsa" ]; then CDS_BROKER="-XX:SharedArchiveFile=$KAFKA_CDS_DIR/kafka.jsa"
    else CDS_BROKER="-XX:ArchiveClassesAtExit=$KAFKA_CDS_DIR/kafka.jsa"; fi
    if [ -f "$KAFKA_CDS_DIR/storage.jsa" ]; then CDS_FORMAT="-XX:SharedArchiveFile=$KAFKA_CDS_DIR/storage.jsa"
    else CDS_FORMAT="-XX:ArchiveClassesAtExit=$KAFKA_CDS_DIR/storage.jsa"; fi
  fi

  # 1) format (= bin/kafka-storage.sh format --standalone -t ID -c server.properties)
  # shellcheck disable=SC2086
  "$JAVA" -Xmx256m $CDS_FORMAT -Dlog4j2.configurationFile="$W/tools-log4j2.properties" \
      -cp "$LIBS/*" kafka.tools.StorageTool format --standalone --ignore-formatted \
      -t "$CLUSTER_ID" -c "$W/server.properties" >"$W/logs/format.out" 2>&1 \
    || { cat "$W/logs/format.out" >&2; die "storage format failed"; }

  # 2) start (= bin/kafka-server-start.sh server.properties, minus JMX/GC-log options)
  # shellcheck disable=SC2086
  nohup "$JAVA" $HEAP $PERF $CDS_BROKER -XX:+ExitOnOutOfMemoryError \
      -Dkafka.logs.dir="$W/logs" -Dlog4j2.configurationFile="$W/log4j2.properties" \
      -cp "$LIBS/*" kafka.Kafka "$W/server.properties" \
      >"$W/logs/kafka.out" 2>&1 </dev/null &
  local PID=$!
  echo "$PID" >"$W/broker.pid"

  # 3) wait until every broker listener answers (== broker unfenced, acceptors started)
  local t0=$SECONDS
  for p in "$PORT" "$SPORT" "$TPORT"; do
    until port_open "$p"; do
      if ! kill -0 "$PID" 2>/dev/null; then
        wait "$PID" 2>/dev/null || true
        rm -f "$W/broker.pid"
        if grep -qs "Address already in use" "$W/logs/kafka.out" "$W/logs/server.log"; then
          echo "kafka-broker: one of ports $PORT $CPORT $SPORT $TPORT was taken meanwhile" >&2
          return 3
        fi
        tail -n 50 "$W/logs/kafka.out" "$W/logs/server.log" 2>/dev/null >&2 || true
        die "broker exited during startup (logs in $W/logs)"
      fi
      if (( SECONDS - t0 >= TIMEOUT )); then
        kill "$PID" 2>/dev/null || true
        die "broker did not open $HOST:$p within ${TIMEOUT}s (logs in $W/logs)"
      fi
      sleep 0.2
    done
  done
  STARTED="BOOTSTRAP_SERVERS=$HOST:$PORT
SASL_PLAINTEXT_SERVERS=$HOST:$SPORT
SASL_SSL_SERVERS=$HOST:$TPORT
KAFKA_SASL_MECHANISM=PLAIN
KAFKA_SASL_USERNAME=$SASL_USERNAME
KAFKA_SASL_PASSWORD=$SASL_PASSWORD
KAFKA_CA_FILE=$W/tls/ca.pem
KAFKA_CONTROLLER=$HOST:$CPORT
KAFKA_WORK_DIR=$W
KAFKA_PID=$PID
KAFKA_LIBS=$LIBS"
}

# Has one consumer group commit, so that the group coordinator (__consumer_offsets, 1 partition
# here) exists and is loaded before anyone else uses groups. Until then the broker answers
# OffsetFetch with COORDINATOR_LOAD_IN_PROGRESS / NOT_COORDINATOR, and librdkafka (2.0.2 in
# Debian 12, still in 2.4: confluentinc/librdkafka#5040) crashes handling that answer to an admin
# ListConsumerGroupOffsets on a handle without a group of its own, as nodus hub's index service
# makes: seen as a hub SIGSEGV on the first index read on a fresh broker. KAFKA_NO_WARMUP=1 skips it.
warm_groups() {   # $1=BOOTSTRAP
  [ "${KAFKA_NO_WARMUP:-0}" = 1 ] && return 0
  command -v kcat >/dev/null 2>&1 || { echo "kafka-broker: warning: no kcat, consumer groups not warmed up" >&2; return 0; }
  { echo warm | kcat -b "$1" -P -t kafka-broker-warmup &&
    timeout 60 kcat -b "$1" -G kafka-broker-warmup -X auto.offset.reset=earliest -e -q kafka-broker-warmup; } \
    >/dev/null || die "the warm-up consumer group could not commit on $1"
}

start() {
  local t0; t0=$(now_ms)
  ensure_libs
  local W=${KAFKA_WORK_DIR:-}
  if [ -z "$W" ]; then W=$(mktemp -d "${TMPDIR:-/tmp}/kafka-broker.XXXXXX"); fi
  mkdir -p "$W/data" "$W/logs"
  W=$(cd "$W" && pwd)
  make_tls "$W"
  local status=0
  if [ "${1:-}" = --free-ports ]; then
    local try
    for try in 1 2 3 4 5; do
      # shellcheck disable=SC2046
      start_on "$W" $(free_ports 4) && status=0 || status=$?
      [ "$status" = 3 ] || break
    done
  else
    local PORT=${1:-${KAFKA_PORT:-19092}}
    local CPORT=${2:-${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}}
    start_on "$W" "$PORT" "$CPORT" "${KAFKA_SASL_PORT:-$((PORT + 2))}" "${KAFKA_SSL_PORT:-$((PORT + 3))}" \
      && status=0 || status=$?
  fi
  [ "$status" = 0 ] || die "could not start the broker (logs in $W/logs)"
  local ready_ms=$(($(now_ms) - t0))
  warm_groups "$(echo "$STARTED" | sed -n 's/^BOOTSTRAP_SERVERS=//p')"
  STARTED="$STARTED
KAFKA_READY_MS=$ready_ms
KAFKA_START_MS=$(($(now_ms) - t0))"
  echo "$STARTED" | tee "$W/broker.env"
  if [ -n "${KAFKA_ENV_FILE:-}" ]; then   # written whole, then renamed: a reader never sees half
    echo "$STARTED" >"$KAFKA_ENV_FILE.tmp" && mv "$KAFKA_ENV_FILE.tmp" "$KAFKA_ENV_FILE"
  fi
  echo "kafka-broker: listening after $ready_ms ms (certificates, format, start), ready after $(($(now_ms) - t0)) ms (groups warmed up)" >&2
}

stop() {
  local W=${1:-${KAFKA_WORK_DIR:-}}
  [ -n "$W" ] && [ -f "$W/broker.pid" ] || die "usage: $0 stop WORK_DIR (with WORK_DIR/broker.pid)"
  local PID; PID=$(cat "$W/broker.pid")
  if kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"   # kafka.Kafka's shutdown hook runs a controlled shutdown
    for _ in $(seq 1 150); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$PID" 2>/dev/null && { echo "kafka-broker: SIGKILL $PID" >&2; kill -KILL "$PID"; }
  fi
  rm -f "$W/broker.pid"
  if [ "${KAFKA_KEEP_DATA:-0}" != 1 ]; then rm -rf "$W"; fi
}

case "${1:-start}" in
  start) shift || true; start "$@" ;;
  stop)  shift; stop "$@" ;;
  *) die "usage: $0 start [PORT [CONTROLLER_PORT]] | start --free-ports | stop WORK_DIR" ;;
esac
