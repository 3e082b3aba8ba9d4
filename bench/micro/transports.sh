#!/usr/bin/env bash
# rcuda's transports against their floors, on this machine, without a GPU:
# the microbenchmarks through rcuda over TCP, over shared memory and over
# UCX (on UCX's TCP and on its shared-memory transports, loopback only)
# against an rcuda-server with the TEST backend (test equipment: the "GPU"
# is host memory, so these figures measure the path client -> protocol ->
# transport -> server -> worker, not a GPU), next to raw loopback TCP and
# memcpy; and, for each UCX setting, ucx_perftest on the same UCX_TLS (tag
# round trip, put bandwidth) with rcuda's ratios to it.
#
#   bench/micro/transports.sh <build-dir> [--quick]
set -u
build=$(cd "$1" && pwd)
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap '[ -n "${perftest_server:-}" ] && kill "$perftest_server" 2>/dev/null; rm -rf "$tmp"' EXIT
"$build/bin/tcp_baseline" "$@" >"$tmp/base" 2>&1
run() {  # run NAME ENV...: micro_bench through rcuda with ENV
  local name=$1
  shift
  env "$@" RCUDA_EXTRA_TEST_KERNELS="$build/lib/libmicro_test_kernels.so" RCUDA_BUILD_DIR="$build" \
    "$root/tests/integration/run_remote.sh" "$build/bin/micro_bench" "${args[@]}" >"$tmp/$name" 2>&1 ||
    echo "micro_bench over $name failed" >&2
}
args=("$@")
run tcp RCUDA_TRANSPORT=tcp
run shm RCUDA_TRANSPORT=shm
# UCX demanded ("ucx://"): a server that did not upgrade fails the run.
if ldconfig -p 2>/dev/null | grep -q libucp.so.0; then
  run ucx_tcp RCUDA_ITEST_TRANSPORT=ucx UCX_TLS=tcp UCX_NET_DEVICES=lo UCX_WARN_UNUSED_ENV_VARS=n
  run ucx_sm RCUDA_ITEST_TRANSPORT=ucx UCX_TLS=sm,self UCX_NET_DEVICES=lo UCX_WARN_UNUSED_ENV_VARS=n
  # UCX's own floor on the same settings.
  if command -v ucx_perftest >/dev/null; then
    perftest_tmp=$tmp
    . "$root/bench/micro/ucx_perftest.sh"
    if [[ " $* " == *" --quick "* ]]; then export PERFTEST_LAT_ITERS=2000 PERFTEST_BW_ITERS=40; fi
    UCX_NET_DEVICES=lo UCX_WARN_UNUSED_ENV_VARS=n UCX_TLS=tcp perftest_metrics perftest >"$tmp/perftest_ucx_tcp"
    UCX_NET_DEVICES=lo UCX_WARN_UNUSED_ENV_VARS=n UCX_TLS=sm,self perftest_metrics perftest >"$tmp/perftest_ucx_sm"
  else
    echo "ucx_perftest not found (Debian: ucx-utils): no UCX baseline" >&2
  fi
fi
MICRO_DIR=$(cd "$(dirname "$0")" && pwd) python3 - "$tmp" <<'PY'
import os, sys
d = sys.argv[1]
sys.path.insert(0, os.environ["MICRO_DIR"])
from metrics import load as load_metrics
def load(name):
    return {k: v for k, (v, _) in load_metrics(d, name).items()}
base, tcp = load("base"), load("tcp")
others = [(n, load(n)) for n in ["shm", "ucx_tcp", "ucx_sm"]]
others = [(n, m) for n, m in others if m]
print("== rcuda transports on this machine (TEST backend: test equipment, no GPU involved)")
print(f"raw loopback TCP: ping-pong p50 {base['tcp_pingpong_p50']:.1f} us, stream {base['tcp_stream']:.2f} GB/s; memcpy {base['memcpy']:.2f} GB/s")
head = f"{'metric':24} {'tcp':>10}"
for n, _ in others:
    head += f" {n:>10} {n + '/tcp':>12}"
print(head)
for k in ["first_call_ms", "memcpy_d2h_4B_p50", "launch_sync_p50", "async_launch", "h2d_pinned", "d2h_pinned"]:
    if k not in tcp:
        continue
    line = f"{k:24} {tcp[k]:10.2f}"
    for n, m in others:
        line += f" {m[k]:10.2f} {m[k] / tcp[k]:12.2f}" if k in m else f" {'-':>10} {'-':>12}"
    print(line)
shm = dict(others).get("shm", {})
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
    print("round trip / raw TCP ping-pong: " + ", ".join(
        f"{n} {m['memcpy_d2h_4B_p50'] / base['tcp_pingpong_p50']:.2f}"
        for n, m in [("tcp", tcp)] + others if "memcpy_d2h_4B_p50" in m))
for n, m in others:
    base_ucx = load("perftest_" + n)
    if not n.startswith("ucx") or not base_ucx or "d2h_pinned" not in m:
        continue
    rt, put, tag = base_ucx["perftest_tag_rt"], base_ucx["perftest_put_bw"], base_ucx["perftest_tag_bw"]
    print(f"{n} against ucx_perftest (same UCX_TLS): 4-byte D2H round trip {m['memcpy_d2h_4B_p50']:.2f} us "
          f"= tag round trip {rt:.2f} us {m['memcpy_d2h_4B_p50'] - rt:+.2f} us; "
          f"H2D {m['h2d_pinned'] / put:.2f}x, D2H {m['d2h_pinned'] / put:.2f}x put bandwidth ({put:.2f} GB/s), "
          f"{m['h2d_pinned'] / tag:.2f}x and {m['d2h_pinned'] / tag:.2f}x tag bandwidth ({tag:.2f} GB/s)")
if "d2h_pinned" in tcp:
    print(f"bandwidth / raw TCP stream: tcp {tcp['d2h_pinned'] / base['tcp_stream']:.2f}; "
          + ", ".join(f"{n} / memcpy {m['d2h_pinned'] / base['memcpy']:.2f}" for n, m in others if "d2h_pinned" in m))
PY
