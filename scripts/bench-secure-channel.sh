#!/usr/bin/env bash
# Builds and runs the secure channel benchmarks (tests/bench/README.md, "Secure channels") and
# prints a table against the baselines measured in the same run: `openssl speed` for handshakes
# and in-process throughput, stunnel (TLS 1.3) over loopback TCP. Every process the benchmarks
# start (the server process, two stunnels, openssl) ends before the script does.
#   scripts/bench-secure-channel.sh                       default sizes
#   scripts/bench-secure-channel.sh HANDSHAKES SMALL_N BULK_16K_N BULK_64K_N TCP_N
# NODUS_BENCH_BUILD=DIR builds there instead of build-bench (through build-bench.sh),
# e.g. while someone else builds in build-bench. NODUS_BENCH_OPENSSL_SECONDS (3) is the length
# of each openssl speed measurement.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${NODUS_BENCH_BUILD:-build-bench}
targets=(bench_secure_channel bench_secure_channel_tcp)
NODUS_BENCH_BUILD=$build ./scripts/build-bench.sh "${targets[@]}"
bin="$build/tests/bench"

busy=$(./scripts/cpu-busy.sh)
echo "== $(nproc) cores, ${busy}% busy before the runs ($(uptime | sed 's/.*load/load/'))"
(( busy <= 10 )) || echo "bench-secure-channel.sh: warning: the machine is busy; the figures will be low and noisy" >&2

tmp=$(mktemp -d /tmp/nodus-bench-sc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "== In one process: handshakes and channel throughput, against openssl speed"
NODUS_LOG=${NODUS_LOG:-warn} "$bin/bench_secure_channel" "${@:1:4}" | tee "$build/bench_secure_channel.txt"
echo "== Over loopback TCP between two processes, against stunnel"
NODUS_LOG=${NODUS_LOG:-warn} NODUS_BENCH_TMPDIR="$tmp" "$bin/bench_secure_channel_tcp" "${@:5:1}" |
  tee "$build/bench_secure_channel_tcp.txt"
echo "== $(./scripts/cpu-busy.sh)% busy after the runs"

echo "== Secure channels against their baselines (ratios: medians of per-round ratios)"
cat "$build/bench_secure_channel.txt" "$build/bench_secure_channel_tcp.txt" | awk '
  { v[$1] = $2 }
  function row(what, nodus, base, baseline, ratio, target) {
    verdict = target == "" ? "" : (ratio >= target ? "met" : "MISSED")
    printf "| %-30s | %12.0f | %12.0f %-22s | %6.3f | %-6s %-6s |\n", what, nodus, base, baseline, ratio,
           (target == "" ? "-" : ">= " target), verdict
  }
  END {
    printf "| %-30s | %12s | %-35s | %6s | %-13s |\n", "figure", "Nodus", "baseline", "ratio", "target"
    row("handshakes/s, one at a time", v["sc_handshakes_per_s"], v["handshake_cpu_limit_per_s"], "(CPU limit, 1 core)",
        v["ratio_handshakes"], 0.6)
    row("handshakes/s, 8 at once", v["sc_handshakes_concurrent_per_s"], v["handshake_cpu_limit_per_s"],
        "(CPU limit, 1 core)", v["sc_handshakes_concurrent_per_s"] / v["handshake_cpu_limit_per_s"], "")
    row("64 B messages/s in process", v["sc_64B_msgs_per_s"], v["openssl_aes_gcm_64B_msgs_per_s"], "(AES-GCM 64 B)",
        v["ratio_64B"], "")
    row("16 KiB MB/s in process", v["sc_16KiB_MB_per_s"], v["openssl_aes_gcm_16KiB_MB_per_s"], "(AES-GCM 16 KiB)",
        v["ratio_16KiB"], 0.7)
    row("64 KiB MB/s in process", v["sc_64KiB_MB_per_s"], v["openssl_aes_gcm_64KiB_MB_per_s"], "(AES-GCM 64 KiB)",
        v["ratio_64KiB"], 0.7)
    row("64 KiB MB/s over TCP", v["sc_tcp_64KiB_MB_per_s"], v["stunnel_64KiB_MB_per_s"], "(stunnel TLS 1.3)",
        v["ratio_sc_over_stunnel"], 1.0)
    printf "Without a channel (the runtime alone): 64 B %.0f msgs/s, 16 KiB %.0f MB/s, 64 KiB %.0f MB/s in process; %.0f MB/s over TCP\n",
           v["local_64B_msgs_per_s"], v["local_16KiB_MB_per_s"], v["local_64KiB_MB_per_s"], v["tcp_64KiB_MB_per_s"]
    printf "openssl speed: X25519 %.0f ops/s, Ed25519 verify %.0f/s, AES-256-GCM -aead 64 B %.0f msgs/s\n",
           v["openssl_x25519_ops_per_s"], v["openssl_ed25519_verify_per_s"], v["openssl_aes_gcm_aead_64B_msgs_per_s"]
  }'
