#!/usr/bin/env bash
# Runs the microbenchmarks natively, through rcuda and over raw loopback TCP
# in one go, and prints each figure with its ratio to the baseline.
#
#   bench/micro/compare.sh <build-dir> [--quick]
#
# Needs RCUDA_DEVICE_0 (a running rcuda-server) and, for the native column,
# NATIVE_CUDART_DIR (the directory of NVIDIA's libcudart.so.13).
set -u
build=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bin/tcp_baseline" "$@" >"$tmp/tcp" 2>&1
if [ -n "${NATIVE_CUDART_DIR:-}" ]; then
  LD_LIBRARY_PATH="$NATIVE_CUDART_DIR" "$build/bin/micro_bench" "$@" >"$tmp/native" 2>&1 || echo "native micro_bench failed" >&2
fi
"$build/bin/rcuda-run" -- "$build/bin/micro_bench" "$@" >"$tmp/remote" 2>&1 || echo "remote micro_bench failed" >&2
echo "rcuda transport: ${RCUDA_TRANSPORT:-auto (shared memory when the server is on this host, else TCP)}"
MICRO_DIR=$(cd "$(dirname "$0")" && pwd) python3 - "$tmp" <<'PY'
import sys, os
d = sys.argv[1]
sys.path.insert(0, os.environ["MICRO_DIR"])
from metrics import load as load_metrics
def load(name):
    return load_metrics(d, name)
tcp, nat, rem = load("tcp"), load("native"), load("remote")
dev = [l.strip()[7:] for l in open(os.path.join(d, "remote")) if l.startswith("DEVICE ")]
print(f"== microbenchmarks (device: {dev[0] if dev else '?'}); ratio = rcuda / native")
print(f"{'metric':24} {'native':>12} {'rcuda':>12} {'unit':>10} {'ratio':>8}")
for k, (v, unit) in rem.items():
    n = nat.get(k, (None, unit))[0]
    ratio = f"{v / n:8.2f}" if n else "       -"
    print(f"{k:24} {n if n is not None else float('nan'):12.3f} {v:12.3f} {unit:>10} {ratio}")
if tcp:
    print(f"raw loopback TCP: ping-pong p50 {tcp['tcp_pingpong_p50'][0]:.1f} us, p99 {tcp['tcp_pingpong_p99'][0]:.1f} us, "
          f"stream {tcp['tcp_stream'][0]:.2f} GB/s")
    if "memcpy_d2h_4B_p50" in rem:
        print(f"rcuda 4-byte D2H round trip / raw TCP ping-pong (p50): "
              f"{rem['memcpy_d2h_4B_p50'][0] / tcp['tcp_pingpong_p50'][0]:.2f}")
    if "d2h_pinned" in rem:
        print(f"rcuda D2H bandwidth / raw TCP stream: {rem['d2h_pinned'][0] / tcp['tcp_stream'][0]:.2f}; "
              f"H2D: {rem['h2d_pinned'][0] / tcp['tcp_stream'][0]:.2f}")
PY
