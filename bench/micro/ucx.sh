#!/usr/bin/env bash
# rcuda's UCX transport against UCX's own floor, in one run, on the same
# UCX_TLS: ucx_perftest's tag round trip (tag_lat, 64 bytes) and its put and
# tagged bandwidth (ucp_put_bw, tag_bw, 4 MiB messages), next to ucx_bench's
# figures for rcuda frames over the UCX transport (a 64-byte call each way;
# 64 MiB uploads and downloads), and rcuda's own shared-memory and TCP
# transports under the same workload. No GPU: these measure the transport.
#
#   bench/micro/ucx.sh <build-dir> [--quick] [--pin]
#
# --pin: each benchmark's client on CPU 0 and its server on CPU 1
# (ucx_perftest -c). On a small or busy host the scheduler tends to put a
# waker and the woken on one core, where a side that polls keeps its peer
# from running: round trips then say more about the scheduler than the
# transport.
#
# UCX_TLS: the transports to measure, one setting per run (default: "tcp",
# then "sm,self"); UCX_NET_DEVICES defaults to lo (loopback only).
set -u
build=$(cd "$1" && pwd)
shift
quick="" pin=""
for arg in "$@"; do
  case $arg in
    --quick) quick=--quick ;;
    --pin) pin=--pin ;;
  esac
done
bench="$build/bin/ucx_bench"
command -v ucx_perftest >/dev/null || { echo "ucx_perftest not found (Debian: ucx-utils)" >&2; exit 1; }
[ -x "$bench" ] || { echo "$bench not built (ninja ucx_bench)" >&2; exit 1; }
export UCX_NET_DEVICES=${UCX_NET_DEVICES:-lo}
export UCX_WARN_UNUSED_ENV_VARS=n
settings=${UCX_TLS:-"tcp sm,self"}
lat_iters=20000 bw_iters=200
if [ -n "$quick" ]; then lat_iters=2000 bw_iters=40; fi
tmp=$(mktemp -d)
trap '[ -n "${perftest_server:-}" ] && kill "$perftest_server" 2>/dev/null; rm -rf "$tmp"' EXIT

perftest_tmp=$tmp
. "$(dirname "$0")/ucx_perftest.sh"
export PERFTEST_LAT_ITERS=$lat_iters PERFTEST_BW_ITERS=$bw_iters

"$bench" shm $quick $pin >"$tmp/own_shm" 2>&1 || echo "ucx_bench shm failed" >&2
"$bench" tcp $quick $pin >"$tmp/own_tcp" 2>&1 || echo "ucx_bench tcp failed" >&2
for tls in $settings; do
  export UCX_TLS=$tls
  name=${tls//,/_}
  {
    perftest_metrics perftest $pin
    "$bench" ucx $quick $pin 2>/dev/null || echo "ucx_bench ucx failed" >&2
  } >"$tmp/$name"
done

PINNED=$pin MICRO_DIR=$(cd "$(dirname "$0")" && pwd) python3 - "$tmp" $settings <<'PY'
import os, sys
d, settings = sys.argv[1], sys.argv[2:]
sys.path.insert(0, os.environ["MICRO_DIR"])
from metrics import load as load_metrics
def load(name):
    return {k: v for k, (v, _) in load_metrics(d, name).items()}
def lanes(name):
    path = os.path.join(d, name)
    for line in open(path) if os.path.exists(path) else []:
        if line.startswith("# UCX transports in use:"):
            return line.split(":", 1)[1].strip()
    return "?"
shm, tcp = load("own_shm"), load("own_tcp")
nan = float("nan")
print("== rcuda's UCX transport against ucx_perftest (same UCX_TLS, same run; no GPU)"
      + (" [client CPU 0, server CPU 1]" if os.environ.get("PINNED") else ""))
print("   round trips: p50 of a 64-byte message each way; perftest's tag_lat latency is half a round trip")
for tls in settings:
    name = tls.replace(",", "_")
    m = load(name)
    if "ucx_rt_p50" not in m:
        print(f"UCX_TLS={tls}: no figures (see errors above)")
        continue
    rt, base_rt = m["ucx_rt_p50"], m.get("perftest_tag_rt", nan)
    put, tag = m.get("perftest_put_bw", nan), m.get("perftest_tag_bw", nan)
    print(f"-- UCX_TLS={tls} (lanes: {lanes(name)}; connection set-up {m.get('ucx_setup', nan):.1f} ms)")
    print(f"   round trip      rcuda/UCX {rt:8.2f} us   perftest tag {base_rt:8.2f} us   "
          f"ratio {rt / base_rt:5.2f}   difference {rt - base_rt:+7.2f} us")
    for k in ["ucx_upload", "ucx_download"]:
        v = m[k]
        print(f"   {k[4:]:14}  rcuda/UCX {v:8.3f} GB/s perftest put {put:7.3f} GB/s ratio {v / put:5.2f}; "
              f"tag {tag:7.3f} GB/s ratio {v / tag:5.2f}")
    own = shm if tls.startswith("sm") or tls.startswith("posix") else tcp
    label = "shm" if own is shm else "tcp"
    if own:
        print(f"   against rcuda's own {label} transport: round trip {rt:.2f} vs {own[label + '_rt_p50']:.2f} us "
              f"(ratio {rt / own[label + '_rt_p50']:.2f}); upload {m['ucx_upload']:.3f} vs "
              f"{own[label + '_upload']:.3f} GB/s (ratio {m['ucx_upload'] / own[label + '_upload']:.2f}); "
              f"download {m['ucx_download']:.3f} vs {own[label + '_download']:.3f} GB/s "
              f"(ratio {m['ucx_download'] / own[label + '_download']:.2f})")
PY
