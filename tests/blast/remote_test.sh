#!/usr/bin/env bash
# gpu_blastp --mode gpu, carried by rcuda (rcuda-run, rcuda-server with the
# TEST backend and gpu_blastp's host kernels: test equipment, not a GPU),
# must print exactly what --mode cpu prints, and find the planted homologs.
#
#   tests/blast/remote_test.sh <build-dir>
set -euo pipefail
build=$(cd "${1:?usage: remote_test.sh <build-dir>}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bin/blast_dbgen" --out "$work" --residues 300000 --query-lengths 100,500 --gbdb --threads 2 >/dev/null
status=0
for len in 100 500; do
  "$build/bin/gpu_blastp" --mode cpu --query "$work/q$len.fa" --db "$work/db.gbdb" >"$work/cpu.tsv"
  RCUDA_BUILD_DIR="$build" RCUDA_EXTRA_TEST_KERNELS="$build/lib/libgpu_blastp_test_kernels.so" \
    "$root/tests/integration/run_remote.sh" "$build/bin/gpu_blastp" --mode gpu --threads 2 \
    --query "$work/q$len.fa" --db "$work/db.gbdb" --out "$work/remote.tsv" --stats
  hits=$(wc -l <"$work/cpu.tsv")
  planted=$(grep -c "^q$len	h_q${len}_" "$work/cpu.tsv" || true)
  if [ "$planted" -lt 6 ]; then
    echo "q$len: FAIL: CPU mode found only $planted planted homologs"
    status=1
  elif cmp -s "$work/cpu.tsv" "$work/remote.tsv"; then
    echo "q$len: remote GPU mode (test backend) == CPU mode, $hits hits"
  else
    echo "q$len: FAIL: remote GPU mode differs from CPU mode"
    diff "$work/cpu.tsv" "$work/remote.tsv" | head -20
    status=1
  fi
done
exit $status
