#!/usr/bin/env bash
# The GPU-BLAST columns: native GPU and remote GPU through rcuda,
# checked against CPU mode first. Results land in $OUT_DIR/blast. Fails if
# no timed run completed (a check that skipped everything proves nothing).
set -eu
BLAST_BUDGET_S=${BLAST_BUDGET_S:-200} bash "$(dirname "$0")/../../../bench/blast/gpu_columns.sh" \
  "$RCUDA_BUILD_DIR" "$OUT_DIR/blast"
ok=$(wc -l <"$OUT_DIR/blast/ok_runs.txt")
echo "timed runs completed: $ok"
[ "$ok" -gt 0 ]
