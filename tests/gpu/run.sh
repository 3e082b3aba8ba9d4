#!/usr/bin/env bash
# Every GPU check of rcuda, in one go, on a machine with an NVIDIA GPU:
#
#   tests/gpu/run.sh [build-dir] [--quick] [--only REGEX] [--skip-bench]
#
# - starts rcuda-server --backend cuda on 127.0.0.1 (a free port);
# - runs each CUDA test program (build/tests/cuda/*) natively and through
#   rcuda-run with the same RCUDA_TEST_SEED, and compares their CHECKSUM lines;
# - where the host has an RDMA device (/sys/class/infiniband; or with
#   RCUDA_GPU_UCX=1), runs them once more over UCX ("ucx://", UCX_TLS from
#   RCUDA_GPU_UCX_TLS, default rc: through the HCA, not shared memory) and
#   the microbenchmarks over shm, tcp and ucx;
# - runs the microbenchmarks natively, through rcuda and over raw loopback TCP
#   and prints the ratios (bench/micro/compare.sh);
# - runs the extra checks in tests/gpu/extra.d/*.sh if any (each prints
#   "PASS name" or "FAIL name ..."; device_printf.sh: the whole stdout of a
#   program whose kernels print, native against rcuda);
# - prints one line per program and a final "N passed, M failed".
#
# The build may come from another machine (see scripts/build-gpu-bundle.sh).
# Logs go to /tmp/rcuda-gpu; when $OUT is set (the device tool), the summary
# and a tarball of the logs are copied there at the end.
set -u
build=build
quick=0
only=""
skip_bench=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --skip-bench) skip_bench=1 ;;
    *) build=$1 ;;
  esac
  shift
done
build=$(cd "$build" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
out=/tmp/rcuda-gpu
rm -rf "$out"
mkdir -p "$out/logs"
# With $OUT (the device tool), the summary is written there as it grows, so
# that it comes back even if the run is cut short.
summary="${OUT:-$out}/summary.txt"
: >"$summary"

say() { echo "$*" | tee -a "$summary"; }
# With $OUT, the logs are packed after every stage, so that a run cut short
# still brings back what it did.
pack_logs() {
  if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
    tar -czf "$OUT/gpu-logs.tar.gz.new" -C "$out" logs micro.txt blast 2>/dev/null
    mv -f "$OUT/gpu-logs.tar.gz.new" "$OUT/gpu-logs.tar.gz"
  fi
}

# The real CUDA runtime, for the native runs.
native_lib=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64 \
  $(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__file__))' 2>/dev/null)/cuda_runtime/lib \
  $(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__file__))' 2>/dev/null)/cu13/lib; do
  if [ -e "$d/libcudart.so.13" ]; then native_lib=$d; break; fi
done
say "== rcuda GPU checks on $(hostname) ($(date -u +%FT%TZ))"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/GPU: /' | tee -a "$summary"
say "native libcudart: ${native_lib:-NOT FOUND}"
# RDMA devices decide whether the UCX pass runs.
ib_devices=$(ls /sys/class/infiniband 2>/dev/null | tr '\n' ' ')
say "RDMA devices (/sys/class/infiniband): ${ib_devices:-none}"
say "UCX: $( (ucx_info -v 2>/dev/null || echo 'not installed') | head -1)"
ucx_pass=0
if [ -n "$ib_devices" ] || [ "${RCUDA_GPU_UCX:-0}" = 1 ]; then ucx_pass=1; fi
ucx_tls=${RCUDA_GPU_UCX_TLS:-rc}

port_file="$out/server.port"
rm -f "$port_file"
# RCUDA_GPU_RUN_BACKEND=test dry-runs this script without a GPU (test
# equipment: nothing it prints is a GPU result).
backend=${RCUDA_GPU_RUN_BACKEND:-cuda}
plugins=()
# The forwarded libraries: name, SONAME, the pip wheel's folder.
forwarded_libraries="cublas:libcublas.so.13:cublas curand:libcurand.so.10:curand cufft:libcufft.so.12:cufft cusolver:libcusolver.so.12:cusolver cusparse:libcusparse.so.12:cusparse"
wheel_dir=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__file__))' 2>/dev/null || true)
if [ "$backend" = test ]; then
  for p in "$build"/lib/*test_kernels*.so; do plugins+=(--test-kernels "$p"); done
fi
for entry in $forwarded_libraries; do
  IFS=: read -r name soname wheel <<<"$entry"
  var=RCUDA_WORKER_LIB$(echo "$name" | tr '[:lower:]' '[:upper:]')
  if [ "$backend" = test ]; then
    # The host doubles (TEST EQUIPMENT) for cublas_gemm, curand_moments,
    # cufft_transforms, cusolver_solve, cusparse_spmv.
    [ -n "${!var:-}" ] || export "$var=$build/lib/fake-libs/$soname"
  else
    # Library forwarding: the worker opens NVIDIA's library; where the
    # loader would not find it, the toolkit's or the pip wheel's
    # (unverified on a GPU so far).
    for d in "$native_lib" /usr/local/cuda/lib64 ${wheel_dir:+$wheel_dir/cu13/lib} ${wheel_dir:+$wheel_dir/$wheel/lib}; do
      if [ -z "${!var:-}" ] && [ -n "$d" ] && [ -e "$d/$soname" ]; then export "$var=$d/$soname"; fi
    done
  fi
  say "worker's lib$name: ${!var:-$soname, as the loader finds it}"
done
"$build/bin/rcuda-server" --backend "$backend" "${plugins[@]}" --listen 127.0.0.1 --port 0 --port-file "$port_file" \
  --log-level info >"$out/logs/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 100); do [ -s "$port_file" ] && break; sleep 0.1; done
if [ ! -s "$port_file" ]; then
  say "FAIL rcuda-server did not start:"
  tail -20 "$out/logs/server.log" | tee -a "$summary"
  exit 1
fi
port=$(cat "$port_file")
export RCUDA_DEVICE_COUNT=1 RCUDA_DEVICE_0="127.0.0.1@$port"
say "rcuda-server ($backend backend) on port $port"

passed=0
failed=0
refused=0
refused_names=""
run_timed() {  # run_timed LOG CMD... ; sets rc and secs
  local log=$1 start end
  shift
  start=$(date +%s%N)
  timeout "${RCUDA_GPU_PROGRAM_TIMEOUT:-120}" "$@" >"$log" 2>&1
  rc=$?
  end=$(date +%s%N)
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
}

declare -A native_rcs native_sums native_times seeds
# verdict NAME NRC NSUM RRC RSUM RLOG: PASS, REFUSED or FAIL (and counts it).
verdict_of() {
  local name=$1 nrc=$2 nsum=$3 rrc=$4 rsum=$5 rlog=$6
  verdict=FAIL
  if [ "$rrc" = 0 ] && { [ "$nrc" != 0 ] || [ "$nsum" = "$rsum" ]; }; then verdict=PASS
  elif [ "$rrc" = 0 ] && [ "$nrc" = 0 ] && grep -q '^note .*refused' "$rlog" && grep -q '^rcuda: warning: .*not supported by rcuda' "$rlog"; then
    # rcuda refused a documented unsupported feature (managed memory) with a
    # CUDA error and the program checked that the refusal was clean; its
    # checksum covers less. Neither a pass nor a failure: counted apart.
    verdict=REFUSED
  fi
  [ "$nrc" != 0 ] && [ "$nrc" != -1 ] && verdict="$verdict(native-failed)"
  case $verdict in
    PASS) passed=$((passed + 1)) ;;
    REFUSED) refused=$((refused + 1)); refused_names="$refused_names $name" ;;
    *) failed=$((failed + 1)) ;;
  esac
}

printf '%-28s %-8s %-8s %-18s %-18s %8s %8s\n' program native remote native-checksum remote-checksum nat_s rem_s | tee -a "$summary"
for program in "$build"/tests/cuda/*; do
  [ -x "$program" ] && [ -f "$program" ] || continue
  name=$(basename "$program")
  [ -n "$only" ] && ! [[ $name =~ $only ]] && continue
  seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
  seeds[$name]=$seed
  export RCUDA_TEST_SEED=$seed
  nlog="$out/logs/$name.native.log"
  rlog="$out/logs/$name.remote.log"
  if [ -n "$native_lib" ]; then
    LD_LIBRARY_PATH="$native_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" run_timed "$nlog" "$program"
    nrc=$rc nsecs=$secs
  else
    nrc=-1 nsecs=0
    echo "no native runtime" >"$nlog"
  fi
  run_timed "$rlog" "$build/bin/rcuda-run" -- "$program"
  rrc=$rc rsecs=$secs
  nsum=$(grep -m1 '^CHECKSUM' "$nlog" | awk '{print $2}')
  rsum=$(grep -m1 '^CHECKSUM' "$rlog" | awk '{print $2}')
  native_rcs[$name]=$nrc native_sums[$name]=$nsum native_times[$name]=$nsecs
  verdict_of "$name" "$nrc" "$nsum" "$rrc" "$rsum" "$rlog"
  printf '%-28s %-8s %-8s %-18s %-18s %8.2f %8.2f %s\n' "$name" "rc=$nrc" "rc=$rrc" "${nsum:--}" "${rsum:--}" \
    "$nsecs" "$rsecs" "$verdict" | tee -a "$summary"
  if [[ $verdict != PASS ]]; then
    grep -h -m3 -E 'FAIL|error|rcuda:' "$rlog" | sed 's/^/    remote: /' | tee -a "$summary"
    grep -h -m2 -E 'FAIL|error' "$nlog" | sed 's/^/    native: /' | tee -a "$summary"
  fi
done
pack_logs

# The same programs over UCX, against the native runs above (same seed per
# program, kept in its native log's name). The session's UCX transports are
# in the server's log ("runs on UCX ...").
if [ $ucx_pass = 1 ]; then
  say "-- over UCX (ucx://, UCX_TLS=$ucx_tls)"
  printf '%-28s %-8s %-8s %-18s %-18s %8s %8s\n' program native ucx native-checksum ucx-checksum nat_s ucx_s | tee -a "$summary"
  for program in "$build"/tests/cuda/*; do
    [ -x "$program" ] && [ -f "$program" ] || continue
    name=$(basename "$program")
    [ -n "$only" ] && ! [[ $name =~ $only ]] && continue
    [ -n "${native_rcs[$name]+set}" ] || continue
    export RCUDA_TEST_SEED=${seeds[$name]}
    ulog="$out/logs/$name.ucx.log"
    UCX_TLS=$ucx_tls RCUDA_DEVICE_0="ucx://127.0.0.1@$port" run_timed "$ulog" "$build/bin/rcuda-run" -- "$program"
    usum=$(grep -m1 '^CHECKSUM' "$ulog" | awk '{print $2}')
    verdict_of "$name(ucx)" "${native_rcs[$name]}" "${native_sums[$name]}" "$rc" "$usum" "$ulog"
    printf '%-28s %-8s %-8s %-18s %-18s %8.2f %8.2f %s\n' "$name" "rc=${native_rcs[$name]}" "rc=$rc" \
      "${native_sums[$name]:--}" "${usum:--}" "${native_times[$name]}" "$secs" "$verdict" | tee -a "$summary"
    [[ $verdict != PASS ]] && grep -h -m3 -E 'FAIL|error|rcuda:' "$ulog" | sed 's/^/    ucx: /' | tee -a "$summary"
  done
  grep -h -m3 'runs on UCX' "$out/logs/server.log" | sed 's/^/    server: /' | tee -a "$summary"
  pack_logs
fi
unset RCUDA_TEST_SEED

if [ $skip_bench = 0 ] && [ -x "$build/bin/micro_bench" ]; then
  args=()
  [ $quick = 1 ] && args+=(--quick)
  [ $ucx_pass = 1 ] && args+=(--transport shm --transport tcp --transport ucx)
  UCX_TLS=$ucx_tls NATIVE_CUDART_DIR=$native_lib "$root/bench/micro/compare.sh" "$build" "${args[@]}" 2>&1 | tee "$out/micro.txt" |
    tee -a "$summary"
  pack_logs
fi

# 8192^3 GEMMs, FP32 and FP16, against native (bench/micro/large_gemm.sh;
# the target is a ratio of at most 1.05).
if [ $skip_bench = 0 ] && [ -x "$build/bin/large_gemm" ]; then
  args=()
  [ $quick = 1 ] && args+=(--n 4096 --iters 5)
  NATIVE_CUDART_DIR=$native_lib timeout 300 "$root/bench/micro/large_gemm.sh" "$build" "${args[@]}" 2>&1 |
    tee "$out/large_gemm.txt" | tee -a "$summary"
  pack_logs
fi

# Sessions waiting on long kernels: the server's CPU use against native
# (bench/micro/waiting_sessions.sh; the target is under one core for 32).
if [ $skip_bench = 0 ] && [ -x "$build/bin/waiting_session" ]; then
  args=(--backend cuda)
  [ $quick = 1 ] && args+=(--short)
  NATIVE_CUDART_DIR=$native_lib timeout 300 "$root/bench/micro/waiting_sessions.sh" "$build" "${args[@]}" 2>&1 |
    tee "$out/waiting_sessions.txt" | tee -a "$summary"
  pack_logs
fi

if [ -d "$root/tests/gpu/extra.d" ]; then
  for check in "$root"/tests/gpu/extra.d/*.sh; do
    [ -f "$check" ] || continue
    name=$(basename "$check" .sh)
    [ -n "$only" ] && ! [[ $name =~ $only ]] && continue
    RCUDA_BUILD_DIR=$build NATIVE_CUDART_DIR=$native_lib RCUDA_PORT=$port OUT_DIR=$out \
      timeout "${RCUDA_GPU_EXTRA_TIMEOUT:-300}" bash "$check" >"$out/logs/extra-$name.log" 2>&1
    rc=$?
    if [ $rc = 0 ]; then passed=$((passed + 1)); say "PASS extra/$name"; else
      failed=$((failed + 1)); say "FAIL extra/$name (rc=$rc)"; tail -5 "$out/logs/extra-$name.log" | sed 's/^/    /' | tee -a "$summary"; fi
    pack_logs
  done
fi

[ $refused -gt 0 ] && say "refused by rcuda as documented (not counted as passed):$refused_names"
say "$passed passed, $failed failed"
pack_logs
[ $failed = 0 ]
