#!/usr/bin/env bash
# rcuda's demo, as a new user tries it:
#
#   scripts/demo.sh
#
# 1. installs what is missing (scripts/install-deps.sh) and builds into build/;
# 2. starts, on 127.0.0.1, the scheduler (ssgmd, its node monitor) if it was
#    built, and rcuda-server: on the GPUs if `nvidia-smi -L` finds one, else
#    with its TEST backend (host memory and host kernels: test equipment, not
#    a GPU), which it says plainly;
# 3. runs each program of examples/ through build/bin/rcuda-run, unmodified
#    CUDA programs built with -cudart=shared, printing their output;
# 4. the serverless chain (docs/faas.md), when faas/ was built: an S3 service
#    (s3rver, TEST EQUIPMENT, with its upload events forwarded to the queue;
#    or the S3 service the AWS variables name, listed by rcuda-faas-watcher),
#    redis-server, rcuda-faas-events, rcuda-fn and rcuda-orchestrator; deploys
#    the gpu_blastp function (examples/faas/gpu_blastp.yaml), uploads query
#    files and shows each result appear in the output bucket while the
#    orchestrator leases GPU shares from ssgmd, then that no lease is left;
# 5. stops everything it started (by pid), also when something fails.
#
# Exits 0 when every example passed and every query got its result.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=$root/build
jobs=${RCUDA_JOBS:-$(nproc)}

say() { printf '\n==> %s\n' "$*"; }

# ---- 1. install and build ----------------------------------------------------
say "Installing missing packages (scripts/install-deps.sh)"
scripts/install-deps.sh

say "Configuring and building into build/ (-j$jobs)"
cmake_args=(-S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo)
[ -n "${CUDA_HOME:-}" ] && cmake_args+=(-DCUDAToolkit_ROOT="$CUDA_HOME")
mkdir -p "$build"
cmake "${cmake_args[@]}" >"$build/demo-configure.log" 2>&1 || { cat "$build/demo-configure.log"; exit 1; }
# What the demo runs; the rest of the tree is for scripts/test.sh.
# `help` lists targets as "... name" (Makefiles) or "name: phony" (Ninja).
available=$(cmake --build "$build" --target help | awk '$1 == "..." {print $2} $1 ~ /:$/ {sub(/:$/, "", $1); print $1}')
has_target() { grep -qx "$1" <<<"$available"; }
targets=(rcuda-server rcuda-run rcuda_cudart)
examples=()
for e in device_query vector_add matrix_mul reduction; do
  if has_target "example_$e"; then
    targets+=("example_$e")
    examples+=("$e")
  fi
done
optional=(examples_test_kernels ssgmd ssgm rcuda-gpu-monitor gpu_blastp gpu_blastp_test_kernels blast_dbgen
          rcuda-fn rcuda-fn-exec rcuda-orchestrator rcuda-faas rcuda-faas-events rcuda-faas-watcher)
for t in "${optional[@]}"; do has_target "$t" && targets+=("$t"); done
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

# ---- 2. start the servers -------------------------------------------------------
work=$(mktemp -d /tmp/rcuda-demo.XXXXXX)
chmod 755 "$work"  # the functions' user (nobody, under root) reaches its tools in here
pids=()
cleanup() {
  local status=$?
  # A subshell that dies of `set -u` may run this trap: only the main shell stops things.
  [ "$BASHPID" = "$$" ] || exit $status
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $status -ne 0 ]; then
    echo "demo: logs of what it started:"
    for log in "$work"/*.log; do [ -f "$log" ] && { echo "---- $log"; tail -n 15 "$log"; }; done
  fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT INT TERM
FAAS_BIN=$build/bin FAAS_WORK=$work FAAS_NODE=demo-node
source "$root/examples/faas/pipeline.sh"

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  backend=cuda
  say "GPU found: rcuda-server will serve it"
  nvidia-smi -L
else
  backend=test
  say "NO GPU FOUND (nvidia-smi -L lists none): rcuda-server runs its TEST BACKEND"
  cat <<'EOF'
    The test backend is TEST EQUIPMENT, not a GPU: "device" memory is host
    memory of the server's worker process and each kernel runs as a host
    function (examples/test_kernels.cc). The examples below still go through
    the whole of rcuda (client library, wire protocol, server, per-session
    worker), but the numbers they compute are not GPU results, and their
    timings say nothing about GPU performance.
EOF
fi

plugins=()
if [ "$backend" = test ]; then
  for plugin in libexamples_test_kernels.so librcuda_test_kernels.so libgpu_blastp_test_kernels.so; do
    [ -f "$build/lib/$plugin" ] && plugins+=("$build/lib/$plugin")
  done
fi
scheduler=0
[ -x "$build/bin/ssgmd" ] && [ -x "$build/bin/ssgm" ] && [ -x "$build/bin/rcuda-gpu-monitor" ] && scheduler=1

say "Starting rcuda-server (--backend $backend) on 127.0.0.1"
if [ $scheduler = 1 ]; then
  FAAS_SHARED_MEMORY=1 faas_start_server "$backend" "${plugins[@]}"  # requires lease tokens
else
  server_args=(--listen 127.0.0.1 --port 0 --port-file "$work/server.port" --backend "$backend")
  for plugin in "${plugins[@]}"; do server_args+=(--test-kernels "$plugin"); done
  "$build/bin/rcuda-server" "${server_args[@]}" >"$work/server.log" 2>&1 &
  pids+=($!)
  FAAS_SERVER_PORT=$(faas_wait_port_file "$work/server.port" $! 200) || { echo "demo: rcuda-server did not start"; exit 1; }
fi
port=$FAAS_SERVER_PORT
echo "rcuda-server listening on 127.0.0.1:$port (log: the last lines are shown if the demo fails)"

if [ $scheduler = 1 ]; then
  say "Starting the scheduler: ssgmd and this node's rcuda-gpu-monitor (docs/scheduler.md)"
  inventory=
  # No GPU for NVML to read: describe the test backend's "GPU" instead.
  [ "$backend" = test ] && inventory="0 16G 16G 0 rcuda test backend (inventory)"
  faas_start_scheduler "$inventory"
  "$build/bin/ssgm" status --no-leases
  say "Asking the scheduler for a lease: ssgm request --gpus 1 --mem 1G"
  lease_env=$("$build/bin/ssgm" request --gpus 1 --mem 1G --format env)
  eval "$lease_env"
  echo "lease $SSGM_JOB_ID: RCUDA_DEVICE_COUNT=$RCUDA_DEVICE_COUNT RCUDA_DEVICE_0=$RCUDA_DEVICE_0 (and RCUDA_TOKEN)"
else
  say "No scheduler: build/bin/ssgmd was not built, so this step is skipped"
  export RCUDA_DEVICE_COUNT=1 RCUDA_DEVICE_0=127.0.0.1@$port
  echo "the examples use RCUDA_DEVICE_COUNT=1 RCUDA_DEVICE_0=$RCUDA_DEVICE_0"
fi

# ---- 3. the examples ---------------------------------------------------------------
passed=0
failed=0
run_example() {  # name, command...
  local name=$1
  shift
  say "$name: rcuda-run ${*#$build/}"
  if "$build/bin/rcuda-run" "$@"; then
    passed=$((passed + 1))
  else
    echo "demo: $name FAILED"
    failed=$((failed + 1))
  fi
}
for e in "${examples[@]}"; do
  run_example "$e" "$build/examples/$e"
done

blastp=0
if [ -x "$build/bin/gpu_blastp" ] && [ -x "$build/bin/blast_dbgen" ] &&
   { [ "$backend" = cuda ] || [ -f "$build/lib/libgpu_blastp_test_kernels.so" ]; }; then
  blastp=1
  say "gpu_blastp: a protein search on a small synthetic database (300,000 residues)"
  mkdir -p "$work/blast"
  # Queries of 200 to 900 residues: q200.fa here, all of them in the serverless chain.
  "$build/bin/blast_dbgen" --out "$work/blast" --residues 300000 --query-lengths 200,300,400,500,600,700,800,900 \
    --gbdb --threads 2 >/dev/null
  if "$build/bin/rcuda-run" "$build/bin/gpu_blastp" --mode gpu --query "$work/blast/q200.fa" \
       --db "$work/blast/db.gbdb" --out "$work/blast/gpu.tsv" --stats; then
    "$build/bin/gpu_blastp" --mode cpu --query "$work/blast/q200.fa" --db "$work/blast/db.gbdb" \
      --out "$work/blast/cpu.tsv"
    echo "best hits (query, subject, % identity, length, ..., E-value, bit score):"
    head -n 5 "$work/blast/gpu.tsv"
    if cmp -s "$work/blast/gpu.tsv" "$work/blast/cpu.tsv"; then
      echo "gpu_blastp: $(wc -l <"$work/blast/gpu.tsv") hits through rcuda, identical to its CPU mode: PASSED"
      passed=$((passed + 1))
    else
      echo "gpu_blastp: the search through rcuda differs from the CPU mode: FAILED"
      failed=$((failed + 1))
    fi
  else
    echo "demo: gpu_blastp FAILED"
    failed=$((failed + 1))
  fi
else
  say "gpu_blastp: not built, skipped"
fi

if [ $scheduler = 1 ]; then
  say "Releasing the lease"
  "$build/bin/ssgm" release "$SSGM_JOB_ID"
  unset SSGM_JOB_ID SSGM_LEASE_SECRET RCUDA_DEVICE_COUNT RCUDA_DEVICE_0 RCUDA_TOKEN
fi

# ---- 4. the serverless chain -------------------------------------------------------
faas_built=1
for p in rcuda-fn rcuda-fn-exec rcuda-orchestrator rcuda-faas rcuda-faas-events rcuda-faas-watcher; do
  [ -x "$build/bin/$p" ] || faas_built=0
done
s3rver=${RCUDA_S3RVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rcuda/s3rver}/node_modules/s3rver/bin/s3rver.js
if [ ! -f "$s3rver" ] && [ -z "${AWS_ENDPOINT_URL:-}${AWS_ENDPOINT_URL_S3:-}${RCUDA_S3_CONFIG:-}${AWS_ACCESS_KEY_ID:-}" ]; then
  say "The serverless chain: skipped: no S3 service (s3rver is installed by scripts/install-deps.sh when node and"
  echo "    npm are there; or name yours with AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
elif [ $faas_built = 1 ] && [ $scheduler = 1 ] && [ $blastp = 1 ]; then
  source "$root/examples/faas/demo_chain.sh"
  if demo_faas_chain; then
    passed=$((passed + 1))
  else
    echo "demo: the serverless chain FAILED"
    failed=$((failed + 1))
  fi
else
  say "The serverless chain: skipped (it needs faas/, the scheduler and gpu_blastp built)"
fi

say "$passed passed, $failed failed$([ "$backend" = test ] && echo ' (TEST BACKEND: test equipment, not a GPU)')"
[ $failed -eq 0 ]
