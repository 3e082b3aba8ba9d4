#!/usr/bin/env bash
# The CPU columns of the GPU-BLAST table, measured on the machine that runs
# this (the development machine: Debian's blastp is here, not on the GPU
# machine): blastp and gpu_blastp's CPU mode, each with 1 and 6 threads,
# for every query length, repeated (the report takes the median).
#
#   nice -n 19 bench/blast/cpu_columns.sh <build-dir> <out-dir>
#
# Environment (defaults):
#   BLAST_DB_RESIDUES=200000000   database size (the GPU columns' size)
#   BLAST_QUERY_LENGTHS=2,100,500,1000,5000,10000
#   BLAST_THREADS="1 6"  BLAST_REPEATS=3  BLAST_SEED=1
#   BLAST_SCENARIOS="blastp cpu"
#   BLAST_BUDGET_S=0              stop starting runs after this many seconds (0: none)
#   BLAST_MACHINE                 the machine column (default: this CPU's model)
# Writes <out-dir>/runs.csv (one row per run), the outputs of every run, and
# <out-dir>/verify.txt (gpu_blastp against blastp and the planted truth).
# Runs are ordered repeat by repeat, so a budget cut leaves whole repeats.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
build=$(cd "${1:?usage: cpu_columns.sh <build-dir> <out-dir>}" && pwd)
out=${2:?usage: cpu_columns.sh <build-dir> <out-dir>}
residues=${BLAST_DB_RESIDUES:-200000000}
lengths=${BLAST_QUERY_LENGTHS:-2,100,500,1000,5000,10000}
threads_list=${BLAST_THREADS:-1 6}
repeats=${BLAST_REPEATS:-3}
seed=${BLAST_SEED:-1}
scenarios=${BLAST_SCENARIOS:-blastp cpu}
budget=${BLAST_BUDGET_S:-0}
machine=${BLAST_MACHINE:-$(blast_cpu_name)}
t0=$(blast_now)

mkdir -p "$out/data" "$out/runs"
data="$out/data"
if [ ! -s "$data/db.gbdb" ] || [ "$(cat "$data/residues" 2>/dev/null)" != "$residues/$seed" ]; then
  blast_log "generating $residues residues (seed $seed)"
  start=$(blast_now)
  "$build/bin/blast_dbgen" --out "$data" --residues "$residues" --seed "$seed" --query-lengths "$lengths" --fasta \
    --threads "$(nproc)" >"$out/dbgen.txt" || exit 1
  blast_log "generated in $(blast_elapsed "$start") s: $(cat "$out/dbgen.txt")"
  start=$(blast_now)
  "$build/bin/gpu_blastp_makedb" --in "$data/db.fasta" --out "$data/db.gbdb" || exit 1
  blast_log "gpu_blastp_makedb: $(blast_elapsed "$start") s"
  start=$(blast_now)
  makeblastdb -in "$data/db.fasta" -dbtype prot -parse_seqids -out "$data/blastdb" >/dev/null || exit 1
  blast_log "makeblastdb: $(blast_elapsed "$start") s"
  echo "$residues/$seed" >"$data/residues"
fi
db_residues=$(awk '{ for (i = 1; i < NF; ++i) if ($i == "residues") print $(i + 1) }' "$out/dbgen.txt")

csv="$out/runs.csv"
[ -s "$csv" ] || echo "$BLAST_RUNS_HEADER" >"$csv"
total=$(( repeats * $(echo ${lengths//,/ } | wc -w) * $(echo $scenarios | wc -w) * $(echo $threads_list | wc -w) ))
n=0
for rep in $(seq 1 "$repeats"); do
  for len in ${lengths//,/ }; do
    for scenario in $scenarios; do
      for t in $threads_list; do
        n=$((n + 1))
        name="$scenario.q$len.t$t.r$rep"
        if [ "$budget" != 0 ] && awk -v e="$(blast_elapsed "$t0")" -v b="$budget" 'BEGIN { exit !(e > b) }'; then
          blast_log "[$n/$total] $name: skipped (budget of $budget s spent)"
          continue
        fi
        case $scenario in
          blastp) cmd=(blastp -query "$data/q$len.fa" -db "$data/blastdb" -outfmt 6 -comp_based_stats 0
                       -max_target_seqs 500 -num_threads "$t") ;;
          cpu) cmd=("$build/bin/gpu_blastp" --mode cpu --threads "$t" --query "$data/q$len.fa"
                    --db "$data/db.gbdb" --stats) ;;
          *) echo "unknown scenario $scenario" >&2; exit 2 ;;
        esac
        result=$(blast_run_once "$csv" "$scenario" "$machine" "$db_residues" "$len" "$t" "$rep" \
                 "$out/runs/$name.tsv" "$out/runs/$name.log" 7200 -- "${cmd[@]}")
        blast_log "[$n/$total] $name: $result"
      done
    done
  done
done

# Verification: gpu_blastp (CPU mode, 1 thread, first repeat) against blastp
# and the truth; all of gpu_blastp's runs of a query identical.
{
  status=0
  for len in ${lengths//,/ }; do
    first="$out/runs/cpu.q$len.t1.r1.tsv"
    [ -f "$first" ] || continue
    for f in "$out"/runs/cpu.q$len.*.tsv; do
      cmp -s "$first" "$f" || { echo "q$len: FAIL: $(basename "$f") differs from $(basename "$first")"; status=1; }
    done
    echo "q$len: $(ls "$out"/runs/cpu.q$len.*.tsv | wc -l) gpu_blastp CPU-mode outputs compared for identity"
  done
  ours=() theirs=()
  for len in ${lengths//,/ }; do
    [ -f "$out/runs/cpu.q$len.t1.r1.tsv" ] && [ -f "$out/runs/blastp.q$len.t1.r1.tsv" ] || continue
    ours+=("$out/runs/cpu.q$len.t1.r1.tsv")
    theirs+=("$out/runs/blastp.q$len.t1.r1.tsv")
  done
  if [ ${#ours[@]} -gt 0 ]; then
    "$(blast_python)" "$here/verify.py" --truth "$data/truth.tsv" --ours "${ours[@]}" --blastp "${theirs[@]}" \
      --summary "$out/verify.csv" || status=1
  fi
  echo "verification: $([ $status -eq 0 ] && echo passed || echo FAILED)"
} | tee "$out/verify.txt"
blast_log "done in $(blast_elapsed "$t0") s"
