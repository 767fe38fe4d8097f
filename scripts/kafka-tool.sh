#!/usr/bin/env bash
# kafka-tool.sh NAME ARGS...: Apache Kafka's CLI tools (bin/kafka-*.sh of the tarball) from the jars
# scripts/kafka-broker.sh caches (Kafka 4.4.0, tests/kafka-broker/pom.xml), with their log4j2
# config (tests/kafka-broker/tools-log4j2.properties: warnings and errors on stderr).
#
#   scripts/kafka-tool.sh kafka-topics --bootstrap-server 127.0.0.1:PORT --create --topic t --partitions 3
#   echo hello | scripts/kafka-tool.sh kafka-console-producer --bootstrap-server 127.0.0.1:PORT --topic t
#   scripts/kafka-tool.sh kafka-console-consumer --bootstrap-server 127.0.0.1:PORT --topic t --from-beginning --max-messages 1
#
# NAME, with or without its kafka- prefix and .sh suffix: kafka-topics, kafka-console-producer,
# kafka-console-consumer, kafka-consumer-groups, kafka-producer-perf-test, kafka-consumer-perf-test,
# kafka-broker-api-versions, kafka-configs, kafka-get-offsets.
# Environment: KAFKA_LIBS (jar folder), JAVA or JAVA_HOME, KAFKA_HEAP_OPTS (default: the heap the
# tarball's script gives that tool), KAFKA_TOOL_JVM_OPTS (default: -XX:+UseSerialGC
# -XX:TieredStopAtLevel=1, which start a short-lived JVM sooner).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
libs=${KAFKA_LIBS:-${XDG_CACHE_HOME:-$HOME/.cache}/nodus/kafka-4.4.0/libs}
if [[ -n "${JAVA:-}" ]]; then :; elif [[ -n "${JAVA_HOME:-}" ]]; then JAVA=$JAVA_HOME/bin/java; else JAVA=java; fi

name=${1:?usage: kafka-tool.sh NAME ARGS... (kafka-topics, kafka-console-producer, ...)}
shift
name=${name%.sh}
name=${name#kafka-}
heap=-Xmx256M  # kafka-run-class.sh's default
case "$name" in
  topics) main=org.apache.kafka.tools.TopicCommand ;;
  console-producer) main=org.apache.kafka.tools.ConsoleProducer heap=-Xmx512M ;;
  console-consumer) main=org.apache.kafka.tools.consumer.ConsoleConsumer heap=-Xmx512M ;;
  consumer-groups) main=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  producer-perf-test) main=org.apache.kafka.tools.ProducerPerformance heap=-Xmx512M ;;
  consumer-perf-test) main=org.apache.kafka.tools.ConsumerPerformance heap=-Xmx512M ;;
  broker-api-versions) main=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
  configs) main=org.apache.kafka.tools.ConfigCommand ;;
  get-offsets) main=org.apache.kafka.tools.GetOffsetShell ;;
  *) echo "kafka-tool: unknown tool '$1'" >&2; exit 2 ;;
esac
if ! compgen -G "$libs/kafka-tools-*.jar" >/dev/null; then
  echo "kafka-tool: no Kafka jars in $libs: scripts/kafka-broker.sh start fetches them" >&2
  exit 2
fi
# shellcheck disable=SC2086
exec "$JAVA" ${KAFKA_HEAP_OPTS:-$heap} ${KAFKA_TOOL_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1} \
  -Dlog4j2.configurationFile="$here/../tests/kafka-broker/tools-log4j2.properties" \
  -cp "$libs/*" "$main" "$@"
