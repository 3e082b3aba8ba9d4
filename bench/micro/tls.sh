#!/usr/bin/env bash
# TLS against plain TCP on this machine, without a GPU:
#   1. tls_bench: rcuda's TLS and TCP connections under one frame workload
#      (round trip, 64 MiB uploads and downloads) between two processes;
#   2. openssl speed: OpenSSL's AES-GCM alone, 16 KiB blocks (a TLS
#      record), the ceiling for one core (TLS 1.3 negotiates AES-256-GCM);
#   3. micro_bench through rcuda against an rcuda-server with the TEST
#      backend (test equipment: the "GPU" is host memory, so this measures
#      client -> protocol -> TLS -> worker), over TCP and over TLS.
#
#   bench/micro/tls.sh <build-dir> [--quick] [--pin]
set -u
build=$(cd "$1" && pwd)
shift
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; [ -n "$server" ] && wait $server 2>/dev/null; rm -rf "$tmp"' EXIT
"$build/tests/transport/rcuda_tls_make_test_certs" "$tmp/pki" || exit 1
for mode in tcp tls; do
  "$build/bin/tls_bench" $mode "$tmp/pki" "$@" >"$tmp/bench_$mode" 2>&1 || echo "tls_bench $mode failed" >&2
done
quick=
for a in "$@"; do [ "$a" = --quick ] && quick=1; done
if command -v openssl >/dev/null; then
  for cipher in aes-128-gcm aes-256-gcm; do
    openssl speed -evp $cipher -bytes 16384 -seconds ${quick:+1}${quick:-3} 2>/dev/null |
      awk -v c=$cipher 'tolower($1) == c { v = $NF; sub(/k$/, "", v); gsub(/-/, "_", c)
                                           printf "METRIC openssl_%s %.3f GB/s\n", c, v * 1000 / 1e9 }' >>"$tmp/speed"
  done
fi
if [ -x "$build/bin/micro_bench" ]; then
  "$build/bin/rcuda-server" --backend test --test-kernels "$build/lib/librcuda_test_kernels.so" \
    --test-kernels "$build/lib/libmicro_test_kernels.so" --listen 127.0.0.1 --port 0 --port-file "$tmp/port" \
    --tls-cert "$tmp/pki/server.pem" --tls-key "$tmp/pki/server.key" --log-level warn 2>"$tmp/server.log" &
  server=$!
  for _ in $(seq 1 200); do
    [ -s "$tmp/port" ] && break
    kill -0 $server 2>/dev/null || break
    sleep 0.05
  done
  port=$(cat "$tmp/port" 2>/dev/null)
  for mode in tcp tls; do
    tls=0
    [ $mode = tls ] && tls=1
    RCUDA_DEVICE_COUNT=1 RCUDA_DEVICE_0="127.0.0.1@$port" RCUDA_TRANSPORT=tcp RCUDA_TLS=$tls \
      RCUDA_TLS_CA="$tmp/pki/ca.pem" "$build/bin/rcuda-run" -- "$build/bin/micro_bench" ${quick:+--quick} \
      >"$tmp/micro_$mode" 2>&1 || echo "micro_bench over $mode failed" >&2
  done
fi
grep -h '^# negotiated' "$tmp/bench_tls"
MICRO_DIR=$(cd "$(dirname "$0")" && pwd) python3 - "$tmp" <<'PY'
import os, sys
d = sys.argv[1]
sys.path.insert(0, os.environ["MICRO_DIR"])
from metrics import load as load_metrics
def load(name):
    return {k: v for k, (v, _) in load_metrics(d, name).items()}
tcp, tls, speed = load("bench_tcp"), load("bench_tls"), load("speed")
print("== rcuda connections, TLS against plain TCP, loopback, two processes")
print(f"{'metric':14} {'tcp':>10} {'tls':>10} {'tls/tcp':>8}")
for k, unit in [("setup", "ms"), ("rt_p50", "us"), ("rt_p99", "us"), ("upload", "GB/s"), ("download", "GB/s")]:
    a, b = tcp.get("tcp_" + k), tls.get("tls_" + k)
    if a and b:
        print(f"{k + ' ' + unit:14} {a:10.2f} {b:10.2f} {b / a:8.2f}")
for k, v in sorted(speed.items()):
    print(f"{k}: {v:.2f} GB/s (one core, 16 KiB blocks)")
if "tls_upload" in tls and "openssl_aes_256_gcm" in speed:
    print(f"TLS upload / openssl aes-256-gcm: {tls['tls_upload'] / speed['openssl_aes_256_gcm']:.2f}, "
          f"download: {tls['tls_download'] / speed['openssl_aes_256_gcm']:.2f}")
mt, ms = load("micro_tcp"), load("micro_tls")
if mt and ms:
    print("== micro_bench through rcuda (TEST backend: test equipment, no GPU involved)")
    print(f"{'metric':24} {'tcp':>10} {'tls':>10} {'tls/tcp':>8}")
    for k in ["first_call_ms", "memcpy_d2h_4B_p50", "launch_sync_p50", "async_launch", "h2d_pinned", "d2h_pinned"]:
        if k in mt and k in ms:
            print(f"{k:24} {mt[k]:10.2f} {ms[k]:10.2f} {ms[k] / mt[k]:8.2f}")
PY
