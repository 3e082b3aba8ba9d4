#!/usr/bin/env bash
# The serverless pipeline benchmark (bench/faas/README.md): a burst of
# uploads against K GPU slots, through the whole pipeline on 127.0.0.1
# (s3rver with its events forwarded -> rcuda-faas-events -> Redis stream ->
# rcuda-orchestrator <-> ssgmd -> rcuda-fn -> rcuda-run -> rcuda-server ->
# output bucket), with its baselines measured in the same run.
#
#   bench/faas/run.sh [--build DIR] [--out DIR] [--backend test|cuda|auto] [--slots K]
#                     [--uploads N] [--latency-uploads M] [--serial-uploads S]
#                     [--calibration-runs C] [--elements E] [--sandbox off|auto|on]
#                     [--upload-threads T] [--short]
#
# Phases: (1) calibration: the function's CUDA program through rcuda-run,
# alone and K at a time, outside the pipeline: the ideal throughput of K
# slots; (2) latency: M uploads paced so that a slot is always free: the
# pipeline's own overhead (upload to function start); (3) the burst: N
# uploads at once; (4) the serial baseline (faas_bench serial, orchGPU's
# loop) on S uploads; then the check (every input exactly one output, the
# function ran once for each, no dead letter, no lease, nothing pending)
# and report.py (report.md, faas-bench.png, summary.json in the out dir).
# --short: CI's correctness run (200 uploads, K=4), no speed targets.
# Exits 1 when the check fails.
set -euo pipefail
export LC_ALL=C  # EPOCHREALTIME with a decimal point

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build out= backend=auto slots=8 uploads=3000 latency_uploads=200 serial_uploads=300
calibration_runs=0 elements=4096 sandbox=off upload_threads=4 short=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --backend) backend=$2; shift ;;
    --slots) slots=$2; shift ;;
    --uploads) uploads=$2; shift ;;
    --latency-uploads) latency_uploads=$2; shift ;;
    --serial-uploads) serial_uploads=$2; shift ;;
    --calibration-runs) calibration_runs=$2; shift ;;
    --elements) elements=$2; shift ;;
    --sandbox) sandbox=$2; shift ;;
    --upload-threads) upload_threads=$2; shift ;;
    --short) short=1; uploads=200 slots=4 latency_uploads=10 serial_uploads=10 calibration_runs=8 ;;
    *) echo "run.sh: unknown option $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
  shift
done
[ "$calibration_runs" -gt 0 ] || calibration_runs=$((slots * 4))
# Debian's python3 (python3-matplotlib), not whatever python3 comes first in PATH.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
build=$(cd "$build" && pwd)
FAAS_BIN=$build/bin
for program in rcuda-server rcuda-run rcuda-fn rcuda-fn-exec rcuda-orchestrator rcuda-faas-events ssgmd ssgm \
               rcuda-gpu-monitor faas_bench; do
  [ -x "$FAAS_BIN/$program" ] || { echo "run.sh: $FAAS_BIN/$program is not built" >&2; exit 1; }
done
program=$build/examples/vector_add
[ -x "$program" ] || { echo "run.sh: $program (example_vector_add) is not built" >&2; exit 1; }
if [ "$backend" = auto ]; then
  backend=test
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU ' && backend=cuda
fi
plugins=()
if [ "$backend" = test ]; then
  plugins=("$build/lib/libexamples_test_kernels.so")
  [ -f "${plugins[0]}" ] || { echo "run.sh: ${plugins[0]} is not built" >&2; exit 1; }
fi
[ -n "$out" ] || out=$build/bench-faas/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
out=$(cd "$out" && pwd)

FAAS_WORK=$(mktemp -d /tmp/rcuda-faas-bench.XXXXXX)
chmod 755 "$FAAS_WORK"
pids=()
cleanup() {
  local status=$?
  # A subshell that dies of `set -u` may run this trap: only the main shell stops things.
  [ "$BASHPID" = "$$" ] || exit $status
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $status -ne 0 ]; then
    for log in "$FAAS_WORK"/*.log; do [ -f "$log" ] && { echo "---- $log"; tail -n 15 "$log"; }; done
  fi
  # The logs the report was made from stay with it.
  for f in "$FAAS_WORK"/*.log "$FAAS_WORK"/s3-events.jsonl; do [ -f "$f" ] && cp "$f" "$out/" 2>/dev/null; done
  rm -rf "$FAAS_WORK"
  exit $status
}
trap cleanup EXIT INT TERM
source "$root/examples/faas/pipeline.sh"
log() { printf '[%6.1f s] %s\n' "$(bc <<<"$EPOCHREALTIME - $t_begin")" "$*"; }
t_begin=$EPOCHREALTIME

# ---- the pipeline ----------------------------------------------------------
log "backend $backend$([ "$backend" = test ] && echo ' (TEST BACKEND: test equipment, not a GPU)'), $slots slots, sandbox $sandbox"
FAAS_WARM_WORKERS=$slots FAAS_FN_CONCURRENCY=$((2 * slots)) FAAS_FN_SANDBOX=$sandbox FAAS_FORWARD_BUCKETS=bench-in
export FAAS_WARM_WORKERS FAAS_FN_CONCURRENCY FAAS_FN_SANDBOX FAAS_FORWARD_BUCKETS
faas_start_redis
faas_start_bridge
faas_start_s3rver bench-in bench-out
faas_start_server "$backend" "${plugins[@]}"
# The slots: one "GPU" of K GiB in ssgmd's books, 1 GiB per invocation.
faas_start_scheduler "0 ${slots}GiB ${slots}GiB 0 benchmark: $slots slots of 1 GiB ($backend backend)"
faas_install_tools "$FAAS_WORK/tools" "$program"
mkdir -p "$FAAS_WORK/functions"
cat >"$FAAS_WORK/functions/bench.yaml" <<EOF
# The benchmark's function: a tiny CUDA program (examples/vector_add, $elements
# elements) through rcuda-run on the leased GPU; its output holds the
# program's output and the script's own start and end times.
functions:
  aws:
  - lambda:
      name: bench
      memory: 512
      timeout: 60
      environment:
        Variables: {PROGRAM: $FAAS_WORK/tools/vector_add, ELEMENTS: "$elements"}
      script: |
        start=\$EPOCHREALTIME
        out="\$TMP_OUTPUT_DIR/\${INPUT_FILE_PATH##*/}.out"
        "\$RCUDA_RUN" "\$PROGRAM" "\$ELEMENTS" > "\$out" 2>&1 || { cat "\$out" >&2; exit 4; }
        echo "function \$start \$EPOCHREALTIME" >> "\$out"
      input: [{storage_provider: s3, path: bench-in/jobs}]
      output: [{storage_provider: s3, path: bench-out/results}]
      gpu: {count: 1, memory: 1GiB}
EOF
faas_start_fn "$FAAS_WORK/functions" "$FAAS_WORK/tools"
faas_start_orchestrator "$FAAS_WORK/functions" --max-in-flight $((slots + 8)) --prefetch 8 --receive-wait 1s \
  --job-log "$out/jobs.jsonl" --stats-interval 200ms --log-level warn
log "pipeline up: redis $FAAS_REDIS, s3rver $FAAS_S3_ENDPOINT (events -> $FAAS_BRIDGE_URL), ssgmd $SSGM_SERVER, rcuda-fn $RCUDA_FN_URL"

# ---- (1) calibration: the function's program alone, outside the pipeline ----
eval "$("$FAAS_BIN/ssgm" request --gpus 1 --mem 1GiB --ttl 10m --format env)"
calibrate() {  # mode runs
  local i s
  for ((i = 0; i < $2; i++)); do
    s=$EPOCHREALTIME
    RCUDA_LOG_LEVEL=error "$FAAS_WORK/tools/bin/rcuda-run" "$FAAS_WORK/tools/vector_add" "$elements" >/dev/null
    echo "{\"mode\":\"$1\",\"start\":$s,\"end\":$EPOCHREALTIME}"
  done
}
# The program's own CPU (rcuda-run and the CUDA program; the server's side
# is in rcuda-server's account): bash's `times`, children's line, before and after.
# (`times` in this shell: in a $(...) subshell it would count that subshell's children.)
children_cpu_ms() { tail -1 "$1" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.0f", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }'; }
times >"$FAAS_WORK/times.0"
calibrate alone "$calibration_runs" >"$out/calibration.jsonl"
times >"$FAAS_WORK/times.1"
echo "{\"mode\":\"cpu\",\"runs\":$calibration_runs,\"client_cpu_ms\":$(($(children_cpu_ms "$FAAS_WORK/times.1") - $(children_cpu_ms "$FAAS_WORK/times.0")))}" \
  >>"$out/calibration.jsonl"
# The machine's own latency of starting a program (fork and exec of
# /bin/true): rcuda-fn starts two (rcuda-fn-exec, bash) before a function's
# first line, so on a busy machine this is in the overhead twice.
for ((i = 0; i < 20; i++)); do
  s=$EPOCHREALTIME
  /bin/true
  echo "{\"mode\":\"spawn\",\"start\":$s,\"end\":$EPOCHREALTIME}"
done >>"$out/calibration.jsonl"
workers=()
for ((w = 0; w < slots; w++)); do
  calibrate parallel $(((calibration_runs + slots - 1) / slots)) >"$FAAS_WORK/calibration.$w" &
  workers+=($!)
done
for w in "${workers[@]}"; do wait "$w"; done
cat "$FAAS_WORK"/calibration.* >>"$out/calibration.jsonl"
"$FAAS_BIN/ssgm" release "$SSGM_JOB_ID" >/dev/null
unset SSGM_JOB_ID RCUDA_DEVICE_COUNT RCUDA_DEVICE_0 RCUDA_TOKEN SSGM_LEASE_SECRET SSGM_ERROR
alone_ms=$("$python" -c '
import json, statistics, sys
d = [json.loads(l) for l in open(sys.argv[1])]
print(round(statistics.median([(r["end"] - r["start"]) * 1000 for r in d if r["mode"] == "alone"])))' "$out/calibration.jsonl")
log "calibration: the function's program alone takes $alone_ms ms (median of $calibration_runs)"

# ---- progress ------------------------------------------------------------------
progress() {  # a line: what the queue holds, what runs, what is done
  local stats length pending
  stats=$(cat "$FAAS_WORK/orchestrator-stats.json" 2>/dev/null || true)
  length=$(redis-cli -p "$FAAS_REDIS_PORT" XLEN rcuda:faas:jobs)
  pending=$(redis-cli -p "$FAAS_REDIS_PORT" XPENDING rcuda:faas:jobs rcuda-orchestrator | head -1)
  local waiting=$((length - pending))  # two reads, a moment apart
  log "queue $((waiting < 0 ? 0 : waiting)) waiting, $pending taken; running $(grep -o '"invoking":[0-9]*' <<<"$stats" | cut -d: -f2);" \
      "done $(grep -o '"jobs_succeeded":[0-9]*' <<<"$stats" | cut -d: -f2)"
}
# wait_done COUNT SECONDS LOG: until LOG has COUNT succeeded jobs.
wait_done() {
  local deadline=$((SECONDS + $2)) last=0
  while [ "$(grep -c '"outcome":"succeeded"' "$3" 2>/dev/null || true)" -lt "$1" ]; do
    [ $SECONDS -ge $deadline ] && { log "not done within $2 s"; return 1; }
    faas_alive "$FAAS_ORCH_PID" || [ "$3" != "$out/jobs.jsonl" ] || { log "rcuda-orchestrator exited"; return 1; }
    if [ -n "$uploader" ] && ! faas_alive "$uploader"; then
      wait "$uploader" || { log "the uploads failed: $(tail -n 2 "$FAAS_WORK/uploader.log")"; return 1; }
      uploader=
    fi
    if [ $((SECONDS - last)) -ge 2 ]; then progress; last=$SECONDS; fi
    sleep 0.2
  done
}
upload() {  # phase count [faas_bench upload options]
  "$FAAS_BIN/faas_bench" upload --bucket bench-in --prefix jobs/ --name-prefix "$1-" --count "$2" "${@:3}" \
    --log "$out/uploads-$1.jsonl" >"$out/uploader-$1.json"
}
# cpu_snapshot LABEL: each service's CPU so far (its own and its reaped
# children's: rcuda-fn's include the functions' processes, rcuda-server's
# its workers'), in clock ticks, with the load average: where the CPU went.
ticks=$(getconf CLK_TCK)
cpu_snapshot() {
  local pid stat
  for pid in "${pids[@]}"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    # Fields after the parenthesized name: utime stime cutime cstime are the 12th to 15th.
    awk -v label="$1" -v name="$(cat "/proc/$pid/comm")" -v pid="$pid" -v hz="$ticks" -v t="$EPOCHREALTIME" \
      '{ printf "{\"label\":\"%s\",\"t\":%s,\"pid\":%s,\"name\":\"%s\",\"cpu_ms\":%.0f}\n",
         label, t, pid, name, ($12 + $13 + $14 + $15) * 1000 / hz }' <<<"${stat##*) }"
  done >>"$out/cpu.jsonl"
  echo "{\"label\":\"$1\",\"t\":$EPOCHREALTIME,\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"cores\":$(nproc)}" \
    >>"$out/cpu.jsonl"
}
: >"$out/jobs.jsonl"
uploader=

# ---- (2) latency: paced uploads, a slot always free ---------------------------
interval=$(( alone_ms * 2 > 50 ? alone_ms * 2 : 50 ))
log "latency phase: $latency_uploads uploads, one every $interval ms"
upload latency "$latency_uploads" --interval-ms "$interval"
wait_done "$latency_uploads" 300 "$out/jobs.jsonl"
cp "$FAAS_WORK/orchestrator-stats.json" "$out/stats-before-burst.json"

# ---- (3) the burst ----------------------------------------------------------------
log "burst: $uploads uploads at once ($upload_threads in flight)"
echo "{\"burst_start\":$EPOCHREALTIME}" >"$out/phases.jsonl"
: >"$out/cpu.jsonl"
cpu_snapshot burst-start
upload burst "$uploads" --threads "$upload_threads" 2>"$FAAS_WORK/uploader.log" &
uploader=$!
wait_done $((latency_uploads + uploads)) $((600 + uploads)) "$out/jobs.jsonl"
[ -z "$uploader" ] || wait "$uploader"
log "burst done"
cpu_snapshot burst-end
sleep 0.5  # a last stats write
cp "$FAAS_WORK/orchestrator-stats.json" "$out/stats-after-burst.json"
faas_stop "$FAAS_ORCH_PID"  # SIGTERM: drained, exits 0
cp "$FAAS_WORK/orchestrator-stats.json" "$out/stats-final.json"

# ---- (4) the serial baseline ---------------------------------------------------------
log "serial baseline (one job at a time): $serial_uploads uploads"
echo "{\"serial_start\":$EPOCHREALTIME}" >>"$out/phases.jsonl"
: >"$out/serial-jobs.jsonl"
"$FAAS_BIN/faas_bench" serial --function-file "$FAAS_WORK/functions/bench.yaml" --count "$serial_uploads" \
  --redis "$FAAS_REDIS" --ssgmd "$SSGM_SERVER" --invoke-endpoint "$RCUDA_FN_URL" \
  --job-log "$out/serial-jobs.jsonl" >"$FAAS_WORK/serial.log" 2>&1 &
serial=$!
pids+=("$serial")
upload serial "$serial_uploads" --threads "$upload_threads"
wait "$serial" || { log "the serial baseline failed: $(tail -n 3 "$FAAS_WORK/serial.log")"; exit 1; }

# ---- check and report ------------------------------------------------------------------
"$FAAS_BIN/faas_bench" outputs --bucket bench-out --prefix results/ --out "$out/outputs.jsonl" >/dev/null
cp "$FAAS_WORK/s3-events.jsonl" "$out/"
{
  echo "{\"queue_length\":$(redis-cli -p "$FAAS_REDIS_PORT" XLEN rcuda:faas:jobs),"
  echo "\"queue_pending\":$(redis-cli -p "$FAAS_REDIS_PORT" XPENDING rcuda:faas:jobs rcuda-orchestrator | head -1),"
  echo "\"dead_letters\":$(redis-cli -p "$FAAS_REDIS_PORT" XLEN rcuda:faas:jobs:dead),"
  echo "\"ssgmd\":$("$FAAS_BIN/ssgm" --format json status --no-leases)}"
} >"$out/final-state.json"
"$FAAS_BIN/ssgm" status --no-leases
report_args=(--dir "$out" --slots "$slots" --backend "$backend" --sandbox "$sandbox" --elements "$elements")
[ $short = 1 ] && report_args+=(--short)
"$python" "$here/report.py" "${report_args[@]}"
