#!/usr/bin/env bash
# Runs the microbenchmarks natively, through rcuda and over raw loopback TCP
# in one go, and prints each figure with its ratio to the baseline.
#
#   bench/micro/compare.sh <build-dir> [--quick] [--transport T]...
#
# Needs RCUDA_DEVICE_0 (a running rcuda-server) and, for the native column,
# NATIVE_CUDART_DIR (the directory of NVIDIA's libcudart.so.13).
# --transport T (tcp, shm, ucx; repeatable): one rcuda column per transport,
# each demanded with "T://" before RCUDA_DEVICE_0 (a transport the server
# does not offer fails its column rather than measuring another one). UCX
# runs on what UCX_TLS and UCX_NET_DEVICES choose, for client and server
# alike. Without --transport: one column, as RCUDA_TRANSPORT chooses.
set -u
build=$1
shift
args=()
transports=()
while [ $# -gt 0 ]; do
  case "$1" in
    --transport) transports+=("$2"); shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bin/tcp_baseline" "${args[@]}" >"$tmp/tcp" 2>&1
if [ -n "${NATIVE_CUDART_DIR:-}" ]; then
  LD_LIBRARY_PATH="$NATIVE_CUDART_DIR" "$build/bin/micro_bench" "${args[@]}" >"$tmp/native" 2>&1 || echo "native micro_bench failed" >&2
fi
endpoint=${RCUDA_DEVICE_0:-127.0.0.1}
endpoint=${endpoint#*://}
columns=()
if [ ${#transports[@]} = 0 ]; then
  "$build/bin/rcuda-run" -- "$build/bin/micro_bench" "${args[@]}" >"$tmp/remote" 2>&1 || echo "remote micro_bench failed" >&2
  columns=(remote)
  echo "rcuda transport: ${RCUDA_TRANSPORT:-auto (shared memory when the server is on this host, else TCP)}"
else
  for t in "${transports[@]}"; do
    RCUDA_DEVICE_0="$t://$endpoint" "$build/bin/rcuda-run" -- "$build/bin/micro_bench" "${args[@]}" \
      >"$tmp/remote_$t" 2>&1 || { echo "remote micro_bench over $t failed:" >&2; tail -3 "$tmp/remote_$t" >&2; }
    columns+=("remote_$t")
  done
  echo "rcuda transports: ${transports[*]}${UCX_TLS:+ (UCX_TLS=$UCX_TLS)}"
fi
MICRO_DIR=$(cd "$(dirname "$0")" && pwd) python3 - "$tmp" "${columns[@]}" <<'PY'
import sys, os
d, columns = sys.argv[1], sys.argv[2:]
sys.path.insert(0, os.environ["MICRO_DIR"])
from metrics import load as load_metrics
def load(name):
    return load_metrics(d, name)
def label(column):
    return "rcuda" if column == "remote" else "rcuda/" + column[len("remote_"):]
tcp, nat = load("tcp"), load("native")
runs = {c: load(c) for c in columns}
dev = []
for c in columns:
    path = os.path.join(d, c)
    if os.path.exists(path):
        dev += [l.strip()[7:] for l in open(path) if l.startswith("DEVICE ")]
print(f"== microbenchmarks (device: {dev[0] if dev else '?'}); ratio = rcuda / native")
header = f"{'metric':24} {'native':>12}"
for c in columns:
    header += f" {label(c):>12} {'ratio':>7}"
print(header + f" {'unit':>10}")
names = []
for c in columns:
    names += [k for k in runs[c] if k not in names]
for k in names:
    unit = next(runs[c][k][1] for c in columns if k in runs[c])
    n = nat.get(k, (None, unit))[0]
    line = f"{k:24} {n if n is not None else float('nan'):12.3f}"
    for c in columns:
        v = runs[c].get(k, (None, unit))[0]
        line += f" {v if v is not None else float('nan'):12.3f}"
        line += f" {v / n:7.2f}" if n and v is not None else "       -"
    print(line + f" {unit:>10}")
if tcp:
    print(f"raw loopback TCP: ping-pong p50 {tcp['tcp_pingpong_p50'][0]:.1f} us, p99 {tcp['tcp_pingpong_p99'][0]:.1f} us, "
          f"stream {tcp['tcp_stream'][0]:.2f} GB/s")
    for c in columns:
        rem = runs[c]
        if "memcpy_d2h_4B_p50" in rem:
            print(f"{label(c)} 4-byte D2H round trip / raw TCP ping-pong (p50): "
                  f"{rem['memcpy_d2h_4B_p50'][0] / tcp['tcp_pingpong_p50'][0]:.2f}")
        if "d2h_pinned" in rem:
            print(f"{label(c)} D2H bandwidth / raw TCP stream: {rem['d2h_pinned'][0] / tcp['tcp_stream'][0]:.2f}; "
                  f"H2D: {rem['h2d_pinned'][0] / tcp['tcp_stream'][0]:.2f}")
PY
