#!/usr/bin/env bash
# Seed 004, end-to-end encrypted Kafka through portals, played on a real broker (`./scripts/demo.sh
# kafka-portal` runs this). The hub is the project's authority: it issues three one-time tickets;
# each host creates its identity, enrolls with its ticket and runs its node as a member, so every
# secure channel carries credentials and no identifier is typed anywhere. A hub node with the
# Kafka outlet (members only) and a relay service; a consumer node
# whose kafka-consumer inlet (127.0.0.1:4000, brokers 4001-4100) opens records and keeps the keys
# (its key custodian, giving keys to members whose credential says kafka=producer); two producer nodes whose kafka-producer inlets
# (5000 and 6000, brokers 5001-5100 and 6001-6100) seal every record value and get their keys from
# the custodian through the hub's relay. Then Kafka's own tools: kafka-topics creates demo-topic
# (3 partitions) through the consumer's inlet, a console producer sends a few lines through each
# producer's inlet, the console consumer reads them all through the consumer's inlet. Last, kcat
# reads the topic straight from the broker: only ciphertext is there.
#
#   scripts/demo-kafka-portal.sh [--nodus PATH] [--free-ports] [--embedded]
#
# --nodus: the nodus binary (default: build it, build/cli/nodus). --free-ports: free loopback ports
# instead of the seed's (a seed port that is taken is replaced by a free one anyway, said in one
# line). --embedded: the embedded broker even when Java is there. Without Java (or without the
# broker's jars and Maven to fetch them) the demo falls back to the embedded broker of `nodus hub`
# (librdkafka's mock cluster) and to kcat for the Java tools, and says so. Every process it starts
# is ended by its PID; every wait is bounded. Exit 0 only if every line came back through the
# consumer's inlet and no plaintext line is in the topic; 77 if kcat is missing; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

nodus=
free_ports=0
embedded=0
while (($#)); do
  case "$1" in
    --nodus) nodus=${2:?--nodus needs a path}; shift 2 ;;
    --free-ports) free_ports=1; shift ;;
    --embedded) embedded=1; shift ;;
    *) echo "demo-kafka-portal: unknown option '$1' (--nodus PATH, --free-ports, --embedded)" >&2; exit 2 ;;
  esac
done

if ! command -v kcat >/dev/null 2>&1; then
  echo "demo-kafka-portal: SKIP: kcat is missing (apt-get install kcat): it reads the topic from the broker" >&2
  exit 77
fi
if [[ -z "$nodus" ]]; then
  ./scripts/install-deps.sh >/dev/null
  build=${NODUS_BUILD_DIR:-build}
  [[ -f "$build/build.ninja" ]] || cmake -S . -B "$build" -G Ninja >/dev/null
  cmake --build "$build" --target nodus >/dev/null
  nodus=$build/cli/nodus
fi
[[ -x "$nodus" ]] || { echo "demo-kafka-portal: no nodus binary at $nodus" >&2; exit 1; }
nodus=$(cd "$(dirname "$nodus")" && pwd)/$(basename "$nodus")
export NODUS_LOG=${NODUS_LOG:-warn}

# The real broker needs Java 17+ and the broker's jars (fetched with Maven on first use).
libs=${KAFKA_LIBS:-${XDG_CACHE_HOME:-$HOME/.cache}/nodus/kafka-4.4.0/libs}
why_embedded=
if ((embedded)); then
  why_embedded="--embedded was given"
elif ! command -v "${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}" >/dev/null 2>&1; then
  why_embedded="Java is missing"
elif ! compgen -G "$libs/kafka-tools-*.jar" >/dev/null && ! command -v mvn >/dev/null 2>&1; then
  why_embedded="the Kafka jars are not in $libs and Maven is missing to fetch them"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nodus-demo-kafka.XXXXXX")
export NODUS_HOME=$work/home
pids=()
broker_dir=
cleanup() {
  local code=$?
  set +e
  # The node daemons write their own pid files; every PID is ended by its number.
  for f in "$NODUS_HOME"/nodes/*/pid; do [[ -f "$f" ]] && pids+=("$(cat "$f")"); done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  [[ -n "$broker_dir" ]] && "$root/scripts/kafka-broker.sh" stop "$broker_dir" >/dev/null 2>&1
  wait 2>/dev/null
  if ((code != 0)) && [[ -d "$NODUS_HOME/nodes" ]]; then
    for log in "$NODUS_HOME"/nodes/*/node.log; do
      echo "---- the end of $log ----" >&2
      tail -n 15 "$log" >&2
    done
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "demo-kafka-portal: $*" >&2; exit 1; }
# The transcript: each command as a user would type it, values replaced by the names they were
# given (`nodus` for the binary, $HUB for the hub's identifier, ...).
subst=()
shown() {
  local text="$*" i
  for ((i = 0; i < ${#subst[@]}; i += 2)); do text=${text//"${subst[i]}"/"${subst[i + 1]}"}; done
  printf '$ %s\n' "$text"
}
say() { printf '\n=== %s ===\n' "$*"; }
# run CMD...: shows the command, runs it, shows its output indented.
run() {
  shown "$@"
  local out
  out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; fail "'$(shown "$@")' failed"; }
  [[ -z "$out" ]] || printf '%s\n' "$out" | sed 's/^/  /'
}
# wait_lines FILE N SECONDS: until FILE has N lines, at most SECONDS.
wait_lines() {
  local deadline=$((SECONDS + $3))
  while (($(wc -l <"$1" 2>/dev/null || echo 0) < $2)); do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Ports: the seed's (4000, 5000, 6000 and the hundred after each) unless one is taken or
# --free-ports; then three free blocks of 101 below the ephemeral range.
read -r consumer_port producer1_port producer2_port < <(/usr/bin/python3 - "$free_ports" <<'PY'
import random, socket, sys
def free(first, count=101):
    for port in range(first, first + count):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True
seed = [4000, 5000, 6000]
if sys.argv[1] == "0" and all(free(p) for p in seed):
    print(*seed)
    sys.exit(0)
chosen = []
for _ in range(500):
    first = random.randrange(10000, 32000 - 101)
    if all(abs(first - c) > 101 for c in chosen) and free(first):
        chosen.append(first)
        if len(chosen) == 3:
            break
print(*chosen)
PY
)
[[ -n "$producer2_port" ]] || fail "no three free blocks of 101 loopback ports"
if ((consumer_port != 4000)); then
  ((free_ports)) && why="--free-ports" || why="a port of 4000-4100, 5000-5100 or 6000-6100 is taken"
  echo "demo-kafka-portal: $why: the inlets listen on $consumer_port, $producer1_port and $producer2_port instead"
fi
range() { echo "$(($1 + 1))-$(($1 + 100))"; }
consumer_at=127.0.0.1:$consumer_port
producer1_at=127.0.0.1:$producer1_port
producer2_at=127.0.0.1:$producer2_port

subst+=("$nodus" nodus "java_tool" "scripts/kafka-tool.sh" "$root/scripts/" "scripts/" "$work/" "")
echo "(nodus is $nodus; NODUS_HOME=$NODUS_HOME: the nodes' state, gone at the end)"

say "The broker"
if [[ -z "$why_embedded" ]]; then
  shown "scripts/kafka-broker.sh start --free-ports"
  KAFKA_ENV_FILE=$work/broker.env ./scripts/kafka-broker.sh start --free-ports >"$work/broker.out" 2>"$work/broker.err" ||
    fail "the broker did not start: $(tail -n 5 "$work/broker.err")"
  bootstrap=$(sed -n 's/^BOOTSTRAP_SERVERS=//p' "$work/broker.env")
  broker_dir=$(sed -n 's/^KAFKA_WORK_DIR=//p' "$work/broker.env")
  echo "  Apache Kafka 4.4.0 (KRaft, one broker) at $bootstrap, pid $(sed -n 's/^KAFKA_PID=//p' "$work/broker.env")"
else
  echo "demo-kafka-portal: $why_embedded: the embedded broker of \`nodus hub\` (librdkafka's mock cluster) and kcat instead of Kafka's Java tools"
  shown "nodus hub --listen 127.0.0.1:0 &"
  "$nodus" hub --listen 127.0.0.1:0 >"$work/embedded.out" 2>"$work/embedded.log" &
  pids+=($!)
  for _ in $(seq 200); do
    bootstrap=$(awk '/^kafka bootstrap / { print $3; exit }' "$work/embedded.out")
    [[ -n "$bootstrap" ]] && break
    sleep 0.1
  done
  [[ -n "$bootstrap" ]] || fail "nodus hub printed no Kafka bootstrap within 20 s: $(cat "$work/embedded.log")"
  echo "  kafka bootstrap $bootstrap (embedded, in memory)"
fi
echo "  BROKER=$bootstrap"
subst+=("$bootstrap" "\$BROKER")

say "The project: the hub is its authority"
declare -A id
run "$nodus" node create hub --relay-service
id[hub]=$("$nodus" node list | awk '$1 == "hub" { print $NF }')
[[ ${id[hub]} =~ ^I[0-9a-f]{40}$ ]] || fail "no identifier for the hub"
subst+=("${id[hub]}" "\$HUB")
run "$nodus" project create --at hub --credential-validity 10m
shown "nodus project show --at hub --output json > project.json"
"$nodus" project show --at hub --output json >"$work/project.json" || fail "project show failed"
sed 's/^/  /' "$work/project.json"

say "Three one-time tickets: the consumer may take the relay 'consumer', the producers may produce"
shown "nodus project ticket --at hub --attribute role=member --attribute kafka=consumer --relay consumer > consumer.ticket"
"$nodus" project ticket --at hub --attribute role=member --attribute kafka=consumer --relay consumer \
  >"$work/consumer.ticket" || fail "project ticket failed"
for p in 1 2; do
  shown "nodus project ticket --at hub --attribute role=member --attribute kafka=producer > producer$p.ticket"
  "$nodus" project ticket --at hub --attribute role=member --attribute kafka=producer >"$work/producer$p.ticket" ||
    fail "project ticket failed"
done
echo "  (each ticket is one line: the authority's identifier and route, and a one-time secret)"

say "Each host: its identity, enrolled with its ticket, and a node that runs as it"
for node in consumer producer1 producer2; do
  run "$nodus" identity create "$node"
  run "$nodus" project enroll "$work/$node.ticket" --identity "$node"
  run "$nodus" node create "$node" --identity "$node" --project "$work/project.json"
  id[$node]=$("$nodus" node list | awk -v n="$node" '$1 == n { print $NF }')
  [[ ${id[$node]} =~ ^I[0-9a-f]{40}$ ]] || fail "no identifier for node $node"
  subst+=("${id[$node]}" "\$${node^^}")
done
run "$nodus" project member list --at hub

say "The hub: the Kafka outlet (members only), a listener for members, the consumer's relay through it"
run "$nodus" kafka-outlet create --at hub --bootstrap-server "$bootstrap" --allow 'subject.role = "member"'
run "$nodus" secure-channel-listener create listener --at hub
run "$nodus" relay create consumer --at /node/hub/secure/listener --to consumer

say "The consumer: a listener for members, the kafka-consumer inlet keeping the keys for producers"
run "$nodus" secure-channel-listener create listener --at consumer
outlet=/node/hub/secure/listener/service/kafka_outlet
run "$nodus" kafka-consumer create --at consumer --from "$consumer_at" --brokers-port-range "$(range "$consumer_port")" \
  --to "$outlet" --allow-producer 'subject.kafka = "producer"'

say "The producers: kafka-producer inlets that seal, keys from the consumer's custodian"
custodian=/node/hub/service/forward_to_consumer/secure/listener/service/kafka_custodian
for p in 1 2; do
  port_var=producer${p}_port
  at_var=producer${p}_at
  run "$nodus" kafka-producer create --at "producer$p" --from "${!at_var}" --brokers-port-range "$(range "${!port_var}")" \
    --to "$outlet" --custodian "$custodian"
done
echo "  (no --authorized anywhere: every secure channel is between members of the project, each"
echo "   presenting its credential; the custodian gives keys to members whose credential says kafka=producer)"

java_tool() { timeout 90 "$root/scripts/kafka-tool.sh" "$@"; }
lines1=("producer1: the order ships on Monday" "producer1: card ending 4242 was charged" "producer1: a third secret line")
lines2=("producer2: sensor 7 reads 21.5 C" "producer2: the vault code is 1234" "producer2: good night")
expected=$((${#lines1[@]} + ${#lines2[@]}))

if [[ -z "$why_embedded" ]]; then
  say "demo-topic, 3 partitions, created through the consumer's inlet"
  run java_tool kafka-topics --bootstrap-server "$consumer_at" --create --topic demo-topic --partitions 3
  run java_tool kafka-topics --bootstrap-server "$consumer_at" --describe --topic demo-topic
else
  say "demo-topic"
  echo "  (the embedded broker has no CreateTopics: demo-topic is made on first use, with its 4 partitions)"
fi

say "The console consumer, through the consumer's inlet (in the background)"
if [[ -z "$why_embedded" ]]; then
  shown "scripts/kafka-tool.sh kafka-console-consumer --bootstrap-server $consumer_at --topic demo-topic --from-beginning &"
  timeout 150 "$root/scripts/kafka-tool.sh" kafka-console-consumer --bootstrap-server "$consumer_at" --topic demo-topic --from-beginning \
    --max-messages "$expected" --timeout-ms 90000 >"$work/consumed" 2>"$work/consumer.err" &
else
  shown "kcat -C -b $consumer_at -G demo-group demo-topic &"
  timeout 150 kcat -C -b "$consumer_at" -G demo-group -X auto.offset.reset=earliest -c "$expected" -q demo-topic \
    >"$work/consumed" 2>"$work/consumer.err" &
fi
consumer_pid=$!
pids+=("$consumer_pid")

say "The console producers, a few lines through each producer's inlet"
for p in 1 2; do
  at_var=producer${p}_at
  lines_var=lines$p[@]
  printf '%s\n' "${!lines_var}" >"$work/lines$p"
  if [[ -z "$why_embedded" ]]; then
    shown "scripts/kafka-tool.sh kafka-console-producer --bootstrap-server ${!at_var} --topic demo-topic <<EOF"
  else
    shown "kcat -P -b ${!at_var} -t demo-topic <<EOF"
  fi
  sed 's/^/  /' "$work/lines$p"
  echo "  EOF"
  if [[ -z "$why_embedded" ]]; then
    timeout 90 "$root/scripts/kafka-tool.sh" kafka-console-producer --bootstrap-server "${!at_var}" \
      --topic demo-topic <"$work/lines$p" >"$work/producer$p.out" 2>&1 || fail "producer$p's console producer: $(cat "$work/producer$p.out")"
  else
    timeout 60 kcat -P -b "${!at_var}" -t demo-topic <"$work/lines$p" >"$work/producer$p.out" 2>&1 ||
      fail "producer$p's kcat: $(cat "$work/producer$p.out")"
  fi
done

say "What the console consumer printed"
if ! wait_lines "$work/consumed" "$expected" 90; then
  cat "$work/consumed" "$work/consumer.err" >&2
  fail "the console consumer printed $(wc -l <"$work/consumed") of $expected lines within 90 s"
fi
sed 's/^/  /' "$work/consumed"
for line in "${lines1[@]}" "${lines2[@]}"; do
  grep -qxF "$line" "$work/consumed" || fail "the line '$line' did not come back through the consumer's inlet"
done
echo "  every one of the $expected lines came back, opened by the consumer's node"

say "What the broker holds: demo-topic read straight from it, with kcat (no portal)"
shown "kcat -C -b \$BROKER -t demo-topic -o beginning -e -f '%p %o %h %S bytes\\n'"
timeout 60 kcat -C -b "$bootstrap" -t demo-topic -o beginning -e -q -f '%p %o %h %S bytes\n' >"$work/direct.list" ||
  fail "kcat could not read demo-topic from the broker"
sed 's/^/  partition /' "$work/direct.list"
stored=$(wc -l <"$work/direct.list")
((stored == expected)) || fail "the broker holds $stored records of demo-topic, not $expected"
timeout 60 kcat -C -b "$bootstrap" -t demo-topic -o beginning -e -q -f '%s' >"$work/direct.values" ||
  fail "kcat could not read demo-topic's values"
first_partition=$(awk 'NR == 1 { print $1 }' "$work/direct.list")
shown "kcat -C -b \$BROKER -t demo-topic -p $first_partition -o beginning -c 1 -f '%s' | xxd | head -n 6"
timeout 60 kcat -C -b "$bootstrap" -t demo-topic -p "$first_partition" -o beginning -c 1 -q -f '%s' |
  xxd | head -n 6 | sed 's/^/  /'
first_key=$(timeout 60 kcat -C -b "$bootstrap" -t demo-topic -p "$first_partition" -o beginning -c 1 -q -f '%s' | xxd -p -s 3 -l 16)
echo "  bytes 3-18 name the data key, $first_key: the custodian's key list below says whose it is"
for line in "${lines1[@]}" "${lines2[@]}"; do
  if grep -qaF "${line#*: }" "$work/direct.values"; then fail "the broker holds the plaintext '$line'"; fi
done
echo "  none of the $expected lines is in the topic: each value is an envelope (NK, key name, sequence,"
echo "  nonce, AES-256-GCM ciphertext), and each record has the header nodus.e2e=1"

say "The keys, kept on the consumer's node: one per topic and producer"
run "$nodus" kafka-custodian key list --at consumer

kill "$consumer_pid" 2>/dev/null || true
printf '\nDemo finished: two producers and a consumer, end-to-end encrypted through Kafka; the broker saw only ciphertext.\n'
