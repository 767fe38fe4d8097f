#!/usr/bin/env bash
# README command 1: installs what is missing, builds, and runs the main demo on embedded
# defaults: the Rust guide's Alice and Bob (examples/kafka) talking through a secure channel
# carried by two Kafka topics on a hub node (`nodus hub`, with its embedded Kafka). Then both
# topics are read straight from Kafka with kcat and with kafka-python, to show that only
# ciphertext is there. Every process started here is ended by its PID; exits 0 only if every
# echo came back and no plaintext line is in Kafka.
set -euo pipefail
cd "$(dirname "$0")/.."

# ./scripts/demo.sh kafka-portal: seed 004, end-to-end encrypted Kafka through portals
# (scripts/demo-kafka-portal.sh). No argument: the main demo below.
case "${1-}" in
  "") ;;
  kafka-portal) shift; exec ./scripts/demo-kafka-portal.sh "$@" ;;
  *) echo "demo.sh: unknown demo '$1': none for the main demo, or kafka-portal" >&2; exit 2 ;;
esac

./scripts/build.sh
build=${NODUS_BUILD_DIR:-build}
bin=$build/examples
nodus=$build/cli/nodus
export NODUS_LOG=${NODUS_LOG:-warn}

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# wait_for FILE PATTERN: the first line of FILE matching PATTERN, waiting at most 20 s.
wait_for() {
  for _ in $(seq 200); do
    if grep -m1 -E "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "demo: no line matching '$2' in $1 within 20 s" >&2
  return 1
}
fail() { echo "demo: $*" >&2; exit 1; }

printf '=== The hub: TCP listener, relays, and Kafka-backed streams (embedded Kafka) ===\n'
"$nodus" hub --listen 127.0.0.1:0 >"$work/hub.out" 2>"$work/hub.log" &
pids+=($!)
hub=$(wait_for "$work/hub.out" '^nodus hub listening on ' | awk '{ print $5 }')
kafka=$(wait_for "$work/hub.out" '^kafka bootstrap ' | awk '{ print $3 }')
echo "hub:   listening on $hub; Kafka (embedded) at $kafka"

printf '\n=== Alice and Bob: an identity each, in a vault of their own ===\n'
for who in alice bob; do
  "$nodus" identity create "$who" --vault "$work/$who.vault" >"$work/$who.id" || fail "cannot create $who's identity"
done
alice_id=$(awk '{ print $2 }' "$work/alice.id")
bob_id=$(awk '{ print $2 }' "$work/bob.id")
echo "alice: identifier $alice_id"
echo "bob:   identifier $bob_id"

printf '\n=== Bob: a secure channel listener (trusting only Alice) and an echoer, reachable through a stream ===\n'
"$bin/bob" --hub "$hub" --identity bob --vault "$work/bob.vault" --trust "$alice_id" >"$work/bob.out" 2>"$work/bob.log" &
pids+=($!)
sender=$(wait_for "$work/bob.out" '^Stream sender name is: ' | awk '{ print $5 }')
receiver=$(wait_for "$work/bob.out" '^Stream receiver name is: ' | awk '{ print $5 }')
echo "bob:   stream sender name $sender, receiver name $receiver"

printf '\n=== Alice: the two names, then three lines through the channel (trusting only Bob) ===\n'
lines=('Hello Bob, only you can read this.' 'Kafka keeps this, but cannot read it.' 'Nor change it unnoticed.')
printf '%s\n' "$sender" "$receiver" "${lines[@]}" | "$bin/alice" --hub "$hub" --identity alice --vault "$work/alice.vault" --trust "$bob_id" >"$work/alice.out" 2>"$work/alice.log" ||
  fail "alice failed: $(cat "$work/alice.log")"
# Her progress lines through the handshake ("alice: ..."), the channel, the echoes.
grep -E '^alice: |^\[✓\] End-to-end|^Alice received an echo' "$work/alice.out" | sed -E 's/^(alice: )?/alice: /'
for line in "${lines[@]}"; do
  grep -qxF "Alice received an echo: $line" "$work/alice.out" || fail "no echo of '$line'"
  wait_for "$work/bob.out" "Received: $line\$" >/dev/null
done
echo "bob:   received and echoed all ${#lines[@]} lines"

printf '\n=== What Kafka holds: the two topics, read with kcat and with kafka-python ===\n'
for topic in "$receiver" "$sender"; do
  kcat -b "$kafka" -C -t "$topic" -p 0 -o beginning -e -q >"$work/$topic.kcat" || fail "kcat could not read $topic"
  count=$(kcat -b "$kafka" -C -t "$topic" -p 0 -o beginning -e -q -f '%o\n' | wc -l)
  echo "kcat:  $topic: $count records"
done
/usr/bin/python3 - "$kafka" "$receiver" "$sender" "${lines[@]}" <<'PY' || fail "kafka-python found plaintext or no records"
import sys
from kafka import KafkaConsumer, TopicPartition
bootstrap, topics, lines = sys.argv[1], sys.argv[2:4], sys.argv[4:]
consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000)
values = []
for topic in topics:
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek(partition, 0)
    values += [record.value for record in consumer]
consumer.close()
found = [line for line in lines if any(line.encode() in value for value in values)]
last = values[-1] if values else b""
shown = "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02x}" for b in last[-48:])
print(f"kafka-python: the last record, {len(last)} bytes, ends with: {shown}")
print(f"kafka-python: {len(values)} records in both topics; plaintext lines among them: {len(found)}")
sys.exit(1 if found or not values else 0)
PY
for line in "${lines[@]}"; do
  if grep -qF "$line" "$work/$receiver.kcat" "$work/$sender.kcat"; then fail "Kafka holds Alice's line '$line'"; fi
done
echo "kcat:  none of Alice's lines is in either topic: Kafka only ever saw ciphertext"

printf '\nDemo finished: Alice and Bob talked end to end encrypted through Kafka.\n'
