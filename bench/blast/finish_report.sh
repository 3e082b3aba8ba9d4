#!/usr/bin/env bash
# Files the GPU machine's results under docs/blast, checks its outputs
# against the development machine's (same database: the generator is
# deterministic, and the checksums must match), and rebuilds the table and
# plot from both machines' runs. Needs matplotlib: run it on the
# development machine.
#
#   bench/blast/finish_report.sh <gpu-out-dir>      # the out dir of gpu_columns.sh
#
# docs/blast/outputs/ holds what cpu_columns.sh produced on the development
# machine for the same database: dbgen.txt, truth.tsv, and the first run's
# output of blastp and of gpu_blastp's CPU mode (1 thread) per query.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
root=$(cd "$here/../.." && pwd)
gpu=${1:?usage: finish_report.sh <gpu-out-dir>}
docs="$root/docs/blast"
ref="$docs/outputs"
cp "$gpu/runs.csv" "$docs/gpu_runs.csv"
cp "$gpu/meta.txt" "$docs/gpu_meta.txt"
# The --stats lines of the first runs show where the time goes.
grep -h "gpu_blastp:" "$gpu"/runs/native.q*.t1.r1.log "$gpu"/runs/remote.q*.t1.r1.log >"$docs/gpu_stats.txt" \
  2>/dev/null || true
{
  cat "$gpu/check.txt"
  gpu_sum=$(grep -o 'checksum [0-9a-f]*' "$gpu/dbgen.txt")
  cpu_sum=$(grep -o 'checksum [0-9a-f]*' "$ref/dbgen.txt")
  if [ -n "$gpu_sum" ] && [ "$gpu_sum" = "$cpu_sum" ]; then
    echo "database: same on both machines ($gpu_sum)"
    ours=() theirs=()
    for f in "$ref"/cpu.q*.tsv; do
      q=$(basename "$f" .tsv)
      q=${q#cpu.}
      for s in native remote; do
        g="$gpu/runs/$s.$q.t1.r1.tsv"
        [ -f "$g" ] || continue
        if cmp -s "$f" "$g"; then
          echo "full $q: $s GPU output == development machine's CPU-mode output"
        else
          echo "full $q: FAIL: $s GPU output differs from the CPU-mode output"
        fi
      done
      if [ -f "$gpu/runs/native.$q.t1.r1.tsv" ] && [ -f "$ref/blastp.$q.tsv" ]; then
        ours+=("$gpu/runs/native.$q.t1.r1.tsv")
        theirs+=("$ref/blastp.$q.tsv")
      fi
    done
    if [ ${#ours[@]} -gt 0 ]; then
      echo "native GPU output against blastp and the planted truth:"
      "$(blast_python)" "$here/verify.py" --truth "$ref/truth.tsv" --ours "${ours[@]}" --blastp "${theirs[@]}"
    fi
  else
    echo "database: the GPU machine's ($gpu_sum) is not the development machine's ($cpu_sum): not compared"
  fi
} >"$docs/gpu_check.txt" 2>&1
cat "$docs/gpu_check.txt"
"$(blast_python)" "$here/report.py" --runs "$docs/cpu_runs.csv" "$docs/gpu_runs.csv" --out "$docs" \
  --notes "$docs/notes.md"
echo "updated $docs: results.md, results.csv, results.png, gpu_runs.csv, gpu_meta.txt, gpu_check.txt, gpu_stats.txt"
