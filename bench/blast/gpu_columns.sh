#!/usr/bin/env bash
# The GPU columns of the GPU-BLAST table, on a GPU machine: gpu_blastp on
# the native GPU and on the same GPU through rcuda (rcuda-run against an
# rcuda-server over 127.0.0.1), 1 and 6 CPU threads, every query length,
# repeated; plus a check that GPU mode (native and remote) prints exactly
# what CPU mode prints. Needs no blastp, no Python, no network.
#
#   bench/blast/gpu_columns.sh <build-dir> <out-dir>
#
# Environment (defaults):
#   BLAST_BUDGET_S=240            hard limit for the whole script; runs that would
#                                 not fit are skipped (and listed)
#   BLAST_DB_RESIDUES=200000000   database size (reduced if the disk is too small)
#   BLAST_QUERY_LENGTHS=2,100,500,1000,5000,10000
#   BLAST_THREADS="1 6"  BLAST_REPEATS=3  BLAST_SEED=1
#   BLAST_SCENARIOS="native remote"   (add "cpu" for gpu_blastp's CPU mode here)
#   BLAST_DATA_DIR=/tmp/gpu_blast_data  where the database goes (NOT under
#                                 <out-dir>: it is hundreds of MB)
#   BLAST_REMOTE=host@port        use this rcuda-server instead of starting one
# Writes to <out-dir>: runs.csv (one row per run), meta.txt, check.txt
# (GPU == CPU output on a small database, and identity of every GPU run on
# the full one), server.log, and runs/ (outputs and --stats logs).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
build=$(cd "${1:?usage: gpu_columns.sh <build-dir> <out-dir>}" && pwd)
out=${2:?usage: gpu_columns.sh <build-dir> <out-dir>}
budget=${BLAST_BUDGET_S:-240}
residues=${BLAST_DB_RESIDUES:-200000000}
lengths=${BLAST_QUERY_LENGTHS:-2,100,500,1000,5000,10000}
threads_list=${BLAST_THREADS:-1 6}
repeats=${BLAST_REPEATS:-3}
seed=${BLAST_SEED:-1}
scenarios=${BLAST_SCENARIOS:-native remote}
data=${BLAST_DATA_DIR:-${TMPDIR:-/tmp}/gpu_blast_data}
t0=$(blast_now)
rm -rf "$out/runs"
mkdir -p "$out/runs" "$data/full" "$data/small"
out=$(cd "$out" && pwd)
meta="$out/meta.txt"
check="$out/check.txt"
: >"$check"
csv="$out/runs.csv"
echo "$BLAST_RUNS_HEADER" >"$csv"

remaining() { awk -v e="$(blast_elapsed "$t0")" -v b="$budget" 'BEGIN { r = b - e; printf "%d", (r > 1 ? r : 1) }'; }

for bin in gpu_blastp blast_dbgen; do
  [ -x "$build/bin/$bin" ] || { echo "gpu_columns.sh: $build/bin/$bin not built" >&2; exit 1; }
done
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
{
  echo "started: $(date -u +%FT%TZ)"
  echo "gpu: ${gpu:-unknown (no nvidia-smi)}"
  echo "cpu: $(blast_cpu_name)"
  echo "budget_s: $budget"
} >"$meta"

# --- the rcuda server ------------------------------------------------------
server_pid=
endpoint=${BLAST_REMOTE:-}
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; }
trap cleanup EXIT
if [[ " $scenarios " == *" remote "* ]] && [ -z "$endpoint" ]; then
  if [ -x "$build/bin/rcuda-server" ] && [ -x "$build/bin/rcuda-run" ]; then
    rm -f "$out/port"
    "$build/bin/rcuda-server" --backend cuda --listen 127.0.0.1 --port 0 --port-file "$out/port" \
      --log-level warn 2>"$out/server.log" &
    server_pid=$!
    for _ in $(seq 1 200); do
      [ -s "$out/port" ] && break
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.05
    done
    if [ -s "$out/port" ]; then
      endpoint="127.0.0.1@$(cat "$out/port")"
    else
      blast_log "rcuda-server did not start (see server.log): remote scenario skipped"
      server_pid=
    fi
  else
    blast_log "no rcuda-server/rcuda-run in $build/bin: remote scenario skipped"
  fi
fi
echo "remote endpoint: ${endpoint:-none}" >>"$meta"

# The real CUDA runtime for native runs (gpu_blastp is built with
# -cudart=shared): the loader's default, else the usual places.
native_lib=${BLAST_NATIVE_CUDART_DIR:-}
if [ -z "$native_lib" ] && ! ldd "$build/bin/gpu_blastp" 2>/dev/null | grep -q "libcudart.so.13 => /"; then
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64 \
    $(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__file__))' 2>/dev/null)/cuda_runtime/lib \
    $(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__file__))' 2>/dev/null)/cu13/lib; do
    if [ -e "$d/libcudart.so.13" ]; then native_lib=$d; break; fi
  done
  # CPU mode makes no CUDA call: without a real runtime, rcuda's library
  # can stand in to let the program load (native runs will then fail).
  [ -z "$native_lib" ] && echo "native libcudart.so.13: NOT FOUND, native runs will fail" >>"$meta"
fi
native_env=(env)
[ -n "$native_lib" ] && native_env=(env "LD_LIBRARY_PATH=$native_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
echo "native libcudart: ${native_lib:-loader default} $(ldd "$build/bin/gpu_blastp" 2>/dev/null | grep libcudart)" >>"$meta"
cpu_env=("${native_env[@]}")
if [ ${#native_env[@]} -eq 1 ] && ! ldd "$build/bin/gpu_blastp" 2>/dev/null | grep -q "libcudart.so.13 => /"; then
  cpu_env=(env "LD_LIBRARY_PATH=$build/lib/rcuda")
fi

# gpu_blastp_cmd SCENARIO THREADS QUERY DB: the command line of one run.
gpu_blastp_cmd() {
  local scenario=$1 t=$2 q=$3 db=$4
  case $scenario in
    native) cmd=("${native_env[@]}" "$build/bin/gpu_blastp" --mode gpu) ;;
    remote) cmd=(env RCUDA_DEVICE_COUNT=1 "RCUDA_DEVICE_0=$endpoint" "$build/bin/rcuda-run" --
                 "$build/bin/gpu_blastp" --mode gpu) ;;
    cpu) cmd=("${cpu_env[@]}" "$build/bin/gpu_blastp" --mode cpu) ;;
  esac
  cmd+=(--threads "$t" --query "$q" --db "$db" --stats)
}
active_scenarios=
for s in $scenarios; do
  [ "$s" = remote ] && [ -z "$endpoint" ] && continue
  active_scenarios+="$s "
done

# --- 1. GPU output == CPU output, on a small database (seconds) -------------
blast_log "check: small database, GPU vs CPU mode"
"$build/bin/blast_dbgen" --out "$data/small" --residues 2000000 --seed "$seed" --query-lengths 100,500,1000 \
  --gbdb --threads "$(nproc)" >/dev/null || exit 1
check_status=0
compared=0
for len in 100 500 1000; do
  q="$data/small/q$len.fa"
  gpu_blastp_cmd cpu 4 "$q" "$data/small/db.gbdb"
  "${cmd[@]}" >"$out/runs/check.cpu.q$len.tsv" 2>"$out/runs/check.cpu.q$len.log"
  for s in $active_scenarios; do
    [ "$s" = cpu ] && continue
    for t in 1 4; do
      gpu_blastp_cmd "$s" "$t" "$q" "$data/small/db.gbdb"
      compared=$((compared + 1))
      timeout 120 "${cmd[@]}" >"$out/runs/check.$s.q$len.t$t.tsv" 2>"$out/runs/check.$s.q$len.t$t.log"
      rc=$?
      if [ $rc -eq 0 ] && cmp -s "$out/runs/check.cpu.q$len.tsv" "$out/runs/check.$s.q$len.t$t.tsv"; then
        echo "small q$len $s threads $t: identical to CPU mode ($(wc -l <"$out/runs/check.cpu.q$len.tsv") hits)" \
          >>"$check"
      else
        echo "small q$len $s threads $t: FAIL (exit $rc; see runs/check.$s.q$len.t$t.log)" >>"$check"
        check_status=1
      fi
    done
  done
done
[ $compared -eq 0 ] && echo "small: no GPU scenario ran, nothing compared" >>"$check"
cat "$check" >&2

# --- 2. the full database ---------------------------------------------------
free_kb=$(df -Pk "$data/full" | awk 'NR == 2 { print $4 }')
fit=$(( free_kb * 1000 / 12 * 10 ))  # leave 20% of the free space
if [ "$residues" -gt "$fit" ]; then
  blast_log "only room for about $fit residues in $data: database reduced from $residues"
  echo "database reduced from $residues residues to $fit for lack of disk space" >>"$meta"
  residues=$fit
fi
start=$(blast_now)
"$build/bin/blast_dbgen" --out "$data/full" --residues "$residues" --seed "$seed" --query-lengths "$lengths" \
  --gbdb --threads "$(nproc)" >"$out/dbgen.txt" || exit 1
gen_s=$(blast_elapsed "$start")
db_residues=$(awk '{ for (i = 1; i < NF; ++i) if ($i == "residues") print $(i + 1) }' "$out/dbgen.txt")
echo "database: $(cat "$out/dbgen.txt"), generated in $gen_s s" >>"$meta"
blast_log "database: $(cat "$out/dbgen.txt") in $gen_s s; $(remaining) s of the budget left"

machine="${gpu%%,*} (host: $(blast_cpu_name))"
[ -z "$gpu" ] && machine="GPU machine (host: $(blast_cpu_name))"

# --- 3. the measurements ----------------------------------------------------
declare -A last_seconds
# Warm-up (not measured): the first CUDA context and the first rcuda session
# on a fresh machine pay one-time costs (driver load, page cache).
for s in $active_scenarios; do
  gpu_blastp_cmd "$s" 1 "$data/full/q${lengths%%,*}.fa" "$data/full/db.gbdb"
  timeout "$(remaining)" "${cmd[@]}" >/dev/null 2>"$out/runs/warmup.$s.log"
  blast_log "warm-up $s: exit $?"
done

total=$(( repeats * $(echo ${lengths//,/ } | wc -w) * $(echo $active_scenarios | wc -w) * $(echo $threads_list | wc -w) ))
n=0
skipped=0
failed_runs=0
: >"$out/ok_runs.txt"
for rep in $(seq 1 "$repeats"); do
  for len in ${lengths//,/ }; do
    for s in $active_scenarios; do
      for t in $threads_list; do
        n=$((n + 1))
        name="$s.q$len.t$t.r$rep"
        left=$(remaining)
        # Expected time: this configuration's last run, else this query's
        # slowest run so far in any configuration.
        expect=${last_seconds[$s.$len.$t]:-}
        if [ -z "$expect" ]; then
          expect=0
          for k in "${!last_seconds[@]}"; do
            [[ $k == *".$len."* ]] && expect=$(awk -v a="$expect" -v b="${last_seconds[$k]}" 'BEGIN { m = a; if (b + 0 > a + 0) m = b; print m }')
          done
        fi
        if awk -v l="$left" -v e="$expect" 'BEGIN { exit !(l < e * 1.2 + 10) }'; then
          blast_log "[$n/$total] $name: skipped, $left s left and it takes about $expect s"
          echo "$s,\"$machine\",$db_residues,$len,$t,$rep,,,skipped-budget" >>"$csv"
          skipped=$((skipped + 1))
          continue
        fi
        gpu_blastp_cmd "$s" "$t" "$data/full/q$len.fa" "$data/full/db.gbdb"
        result=$(blast_run_once "$csv" "$s" "$machine" "$db_residues" "$len" "$t" "$rep" \
                 "$out/runs/$name.tsv" "$out/runs/$name.log" "$((left - 5))" -- "${cmd[@]}")
        last_seconds[$s.$len.$t]=${result%% s,*}
        case $result in
          *", ok") echo "$name" >>"$out/ok_runs.txt" ;;
          *) failed_runs=$((failed_runs + 1)) ;;
        esac
        blast_log "[$n/$total] $name: $result; $(remaining) s left"
      done
    done
  done
done

# --- 4. every GPU run of a query printed the same hits ----------------------
[ $failed_runs -eq 0 ] || { echo "full: FAIL: $failed_runs runs failed (see runs/*.log)" >>"$check"; check_status=1; }
for len in ${lengths//,/ }; do
  files=()
  for name in $(grep "\.q$len\.t" "$out/ok_runs.txt"); do files+=("$out/runs/$name.tsv"); done
  [ ${#files[@]} -gt 0 ] || continue
  same=1
  for f in "${files[@]}"; do cmp -s "${files[0]}" "$f" || { same=0; echo "full q$len: FAIL: $(basename "$f") differs from $(basename "${files[0]}")" >>"$check"; }; done
  [ $same -eq 1 ] && echo "full q$len: all ${#files[@]} runs identical ($(wc -l <"${files[0]}") hits)" >>"$check"
  [ $same -eq 1 ] || check_status=1
done
{
  echo "skipped for the budget: $skipped of $total runs"
  echo "check: $([ $check_status -eq 0 ] && echo passed || echo FAILED)"
  echo "finished: $(date -u +%FT%TZ) after $(blast_elapsed "$t0") s"
} >>"$meta"
cat "$meta" >&2
tail -n +1 "$check" >&2
exit $check_status
