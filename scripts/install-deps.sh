#!/usr/bin/env bash
# Installs every build and test dependency from Debian packages.
# Quick when everything is already there: it only calls apt when a package is missing.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --bench  also the peers the benchmarks compare against (CAF, iperf3, wrk,
#                                    stunnel4 and the openssl CLI for the secure channel baselines)
set -euo pipefail

packages=(
  # build
  cmake ninja-build ccache g++ pkg-config
  # libraries (Boost must stay 1.74: libmsgpack-cxx-dev depends on it, see docs/toolchain.md)
  libboost-dev libboost-system-dev libboost-program-options-dev
  libssl-dev librdkafka-dev libmsgpack-cxx-dev libspdlog-dev doctest-dev
  # the codecs of compressed Kafka record batches (kafka/records)
  zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
  # the Wycheproof vector test reads JSON (header-only)
  nlohmann-json3-dev
  # the integration tests: Debian's python3 (tests run /usr/bin/python3, not a pyenv one), an
  # independent msgpack implementation, and independent Kafka clients
  python3 python3-msgpack kcat python3-kafka
  # the real Kafka broker of the tests (scripts/kafka-broker.sh: Kafka 4.4 needs Java 17; Maven
  # fetches its jars, pinned in tests/kafka-broker/pom.xml, into ~/.cache/nodus), the openssl CLI
  # for its SASL_SSL certificate, and a third independent client for tests/integration/kafka_clients.py
  openjdk-17-jdk-headless maven openssl python3-confluent-kafka
  # kafka-python's snappy, lz4 and zstd codecs
  python3-snappy python3-lz4 python3-zstandard
  # the CLI's portal test (curl through a TCP inlet) and its status page test (headless Chromium)
  curl chromium
  # the fuzz targets (tests/fuzz, run by scripts/test.sh): clang 14 with libFuzzer and the
  # ASan/UBSan runtimes
  clang libclang-rt-14-dev
  # the transit service's tests (issue 17): an independent Vault client, and SoftHSM2 as the
  # PKCS#11 token holding a key-encryption key (p11-kit's pkcs11.h header for the PKCS#11 API)
  python3-hvac softhsm2 libp11-kit-dev
  # seed 003's file transfer (examples/seed003) seals files with AES-256-GCM locally
  python3-cryptography
  # formatting check (.clang-format) in scripts/check-format.sh
  clang-format
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(libcaf-dev iperf3 hyperfine stunnel4 openssl wrk)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
