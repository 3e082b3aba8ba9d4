# Sourced by bench/micro/ucx.sh and transports.sh: ucx_perftest, UCX's own
# benchmark (Debian's ucx-utils), as the raw baseline of rcuda's UCX path on
# whatever UCX_TLS and UCX_NET_DEVICES say.
#
#   perftest_metrics PREFIX [--pin]   prints "METRIC <PREFIX>_tag_rt <us> us"
#                                     (tag_lat 64 B: twice its latency, a
#                                     round trip), "<PREFIX>_put_bw" and
#                                     "<PREFIX>_tag_bw" (4 MiB, GB/s)
# PERFTEST_LAT_ITERS and PERFTEST_BW_ITERS set the iterations (default
# 20000 and 200). Needs a scratch directory in $perftest_tmp; a script
# that may be interrupted kills $perftest_server (the running server) on exit.
perftest_server=""

# perftest_final TEST SIZE ITERATIONS [--pin]: ucx_perftest's "Final:" line
# (iterations, latency typical/average/overall in us, bandwidth
# average/overall in MiB/s, ...), client and server on 127.0.0.1.
perftest_final() {
  local port server_cpu=() client_cpu=()
  port=$((20000 + RANDOM % 20000))
  if [ "${4:-}" = --pin ]; then server_cpu=(-c 1) client_cpu=(-c 0); fi
  ucx_perftest -p "$port" "${server_cpu[@]}" >"$perftest_tmp/perftest_server.log" 2>&1 &
  perftest_server=$!
  # The server listens once it has set up: wait for its port (bounded; a
  # benchmark script, not a test).
  for _ in $(seq 200); do
    ss -ltn "sport = :$port" | grep -q LISTEN && break
    kill -0 "$perftest_server" 2>/dev/null || break
    sleep 0.05
  done
  ucx_perftest 127.0.0.1 -p "$port" "${client_cpu[@]}" -t "$1" -s "$2" -n "$3" 2>&1 | awk '/^Final:/ {print}'
  wait "$perftest_server"
  perftest_server=""
}

perftest_metrics() {
  local prefix=$1 pin=${2:-}
  perftest_final tag_lat 64 "${PERFTEST_LAT_ITERS:-20000}" "$pin" |
    awk -v p="$prefix" '{print "METRIC " p "_tag_rt " 2 * $3 " us"}'
  perftest_final ucp_put_bw 4194304 "${PERFTEST_BW_ITERS:-200}" "$pin" |
    awk -v p="$prefix" '{print "METRIC " p "_put_bw " $7 * 1048576 / 1e9 " GB/s"}'
  perftest_final tag_bw 4194304 "${PERFTEST_BW_ITERS:-200}" "$pin" |
    awk -v p="$prefix" '{print "METRIC " p "_tag_bw " $7 * 1048576 / 1e9 " GB/s"}'
}
