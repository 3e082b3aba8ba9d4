#!/usr/bin/env bash
# The shared-memory transport's two settings measured against each other on
# this machine (a GPU machine: the server runs the CUDA backend):
# micro_bench through rcuda over shared memory with
#   A: no spinning, one copy thread      (sleep at once, copy alone)
#   B: default spinning, one copy thread
#   C: the defaults                      (spinning and copy threads)
# Each configuration starts its own rcuda-server with the same settings as
# its client, so both ends of the ring behave alike. Ratios are against A,
# measured in the same run.
#
#   bench/micro/shm_settings.sh <build-dir> [--quick]
#
# SHM_SETTINGS_BACKEND=test dry-runs it without a GPU (test equipment: its
# figures measure the path to a host-memory "GPU", not a GPU).
set -u
build=$(cd "${1:?usage: shm_settings.sh <build-dir> [--quick]}" && pwd)
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run_config() {  # run_config NAME ENV...
  local name=$1 pid port
  shift
  env "$@" "$build/bin/rcuda-server" "${server_args[@]}" --listen 127.0.0.1 --port 0 --port-file "$tmp/$name.port" \
    --log-level warn 2>"$tmp/$name.server.log" &
  pid=$!
  for _ in $(seq 1 100); do [ -s "$tmp/$name.port" ] && break; sleep 0.05; done
  port=$(cat "$tmp/$name.port" 2>/dev/null)
  env "$@" RCUDA_TRANSPORT=shm RCUDA_DEVICE_COUNT=1 RCUDA_DEVICE_0="127.0.0.1@$port" \
    "$build/bin/rcuda-run" -- "$build/bin/micro_bench" "${bench_args[@]}" >"$tmp/$name" 2>&1 ||
    echo "micro_bench failed in configuration $name: $(tail -2 "$tmp/$name")" >&2
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
bench_args=("$@")
backend=${SHM_SETTINGS_BACKEND:-cuda}
server_args=(--backend "$backend")
if [ "$backend" = test ]; then
  for p in "$build"/lib/*test_kernels*.so; do server_args+=(--test-kernels "$p"); done
fi
run_config A RCUDA_SHM_SPIN_US=0 RCUDA_SHM_COPY_THREADS=1
run_config B RCUDA_SHM_COPY_THREADS=1
run_config C
MICRO_DIR=$(cd "$(dirname "$0")" && pwd) python3 - "$tmp" <<'PY'
import os, sys
d = sys.argv[1]
sys.path.insert(0, os.environ["MICRO_DIR"])
from metrics import load as load_metrics
def load(name):
    return load_metrics(d, name)
a, b, c = load("A"), load("B"), load("C")
print("== shared-memory transport settings (A: no spin, 1 copy thread; B: spin, 1 copy thread; C: defaults)")
print(f"{'metric':22} {'A':>10} {'B':>10} {'C':>10} {'unit':>10} {'B/A':>6} {'C/A':>6}")
for k, (va, unit) in a.items():
    vb = b.get(k, (float('nan'),))[0]
    vc = c.get(k, (float('nan'),))[0]
    print(f"{k:22} {va:10.3f} {vb:10.3f} {vc:10.3f} {unit:>10} {vb / va if va else float('nan'):6.2f} {vc / va if va else float('nan'):6.2f}")
PY
