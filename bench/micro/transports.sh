#!/usr/bin/env bash
# rcuda's transports against their floors, on this machine, without a GPU:
# the microbenchmarks through rcuda over TCP and over shared memory against
# an rcuda-server with the TEST backend (test equipment: the "GPU" is host
# memory, so these figures measure the path client -> protocol -> transport
# -> server -> worker, not a GPU), next to raw loopback TCP and memcpy.
#
#   bench/micro/transports.sh <build-dir> [--quick]
set -u
build=$(cd "$1" && pwd)
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/bin/tcp_baseline" "$@" >"$tmp/base" 2>&1
for t in tcp shm; do
  RCUDA_TRANSPORT=$t RCUDA_EXTRA_TEST_KERNELS="$build/lib/libmicro_test_kernels.so" RCUDA_BUILD_DIR="$build" \
    "$root/tests/integration/run_remote.sh" "$build/bin/micro_bench" "$@" >"$tmp/$t" 2>&1 || echo "micro_bench over $t failed" >&2
done
MICRO_DIR=$(cd "$(dirname "$0")" && pwd) python3 - "$tmp" <<'PY'
import os, sys
d = sys.argv[1]
sys.path.insert(0, os.environ["MICRO_DIR"])
from metrics import load as load_metrics
def load(name):
    return {k: v for k, (v, _) in load_metrics(d, name).items()}
base, tcp, shm = load("base"), load("tcp"), load("shm")
print("== rcuda transports on this machine (TEST backend: test equipment, no GPU involved)")
print(f"raw loopback TCP: ping-pong p50 {base['tcp_pingpong_p50']:.1f} us, stream {base['tcp_stream']:.2f} GB/s; memcpy {base['memcpy']:.2f} GB/s")
print(f"{'metric':24} {'tcp':>10} {'shm':>10} {'shm/tcp':>8}")
for k in ["memcpy_d2h_4B_p50", "launch_sync_p50", "async_launch", "h2d_pinned", "d2h_pinned"]:
    if k in tcp and k in shm:
        print(f"{k:24} {tcp[k]:10.2f} {shm[k]:10.2f} {shm[k] / tcp[k]:8.2f}")
print("pinned copies against the host's memcpy of the same size, in the same run (on a GPU these are DMA;")
print("here the test backend's \"device\" is host memory, so these are CPU-side figures only):")
print(f"{'metric':28} {'tcp':>10} {'shm':>10} {'shm/memcpy':>10}")
for k in ["h2d_pinned", "d2h_pinned", "h2d_pinned_async", "d2h_pinned_async", "memcpy_same_size"]:
    if k in tcp and k in shm and "memcpy_same_size" in shm:
        print(f"{k:28} {tcp[k]:10.2f} {shm[k]:10.2f} {shm[k] / shm['memcpy_same_size']:10.2f}")
for k in ["h2d_pinned_async_return", "d2h_pinned_async_return"]:
    if k in tcp and k in shm:
        print(f"cudaMemcpyAsync of pinned memory returns ({k[:3]}): tcp {tcp[k]:.1f} us, shm {shm[k]:.1f} us")
if "memcpy_d2h_4B_p50" in tcp:
    print(f"round trip / raw TCP ping-pong: tcp {tcp['memcpy_d2h_4B_p50'] / base['tcp_pingpong_p50']:.2f}, "
          f"shm {shm.get('memcpy_d2h_4B_p50', float('nan')) / base['tcp_pingpong_p50']:.2f}")
if "d2h_pinned" in tcp:
    print(f"bandwidth / raw TCP stream: tcp {tcp['d2h_pinned'] / base['tcp_stream']:.2f}; "
          f"bandwidth / memcpy: shm {shm.get('d2h_pinned', float('nan')) / base['memcpy']:.2f}")
PY
