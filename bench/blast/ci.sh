#!/usr/bin/env bash
# The GPU-BLAST harness in its small CPU configuration, for CI (no GPU):
# a 5-million-residue synthetic database, queries of 2 to 5000 residues,
# gpu_blastp's CPU mode against Debian's blastp.
#
#   bench/blast/ci.sh <build-dir> <out-dir>
#
# Verifies (see verify.py): planted homologs with identity >= 40% found
# with E <= 1e-3; significant-hit overlap with blastp >= 95%; bit scores
# within 2 of blastp's; and 1 vs 3 threads give byte-identical output.
# Exits non-zero on any failure. About 15 seconds on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
build=${1:?usage: ci.sh <build-dir> <out-dir>}
out=${2:?usage: ci.sh <build-dir> <out-dir>}
residues=${BLAST_CI_RESIDUES:-5000000}
lengths=${BLAST_CI_QUERY_LENGTHS:-2,100,500,1000,5000}
for tool in blastp makeblastdb; do
  command -v $tool >/dev/null || { echo "ci.sh: $tool not found (Debian package ncbi-blast+)" >&2; exit 1; }
done
for bin in blast_dbgen gpu_blastp gpu_blastp_makedb; do
  [ -x "$build/bin/$bin" ] || { echo "ci.sh: $build/bin/$bin not built" >&2; exit 1; }
done

rm -rf "$out" && mkdir -p "$out/data"
blast_log "generating $residues residues"
"$build/bin/blast_dbgen" --out "$out/data" --residues "$residues" --query-lengths "$lengths" --fasta --threads 2 \
  >"$out/dbgen.txt"
cat "$out/dbgen.txt" >&2
# The database for gpu_blastp goes through the converter, as a user's FASTA would.
"$build/bin/gpu_blastp_makedb" --in "$out/data/db.fasta" --out "$out/data/db.gbdb"
makeblastdb -in "$out/data/db.fasta" -dbtype prot -parse_seqids -out "$out/data/blastdb" >/dev/null

status=0
ours=() theirs=()
for len in ${lengths//,/ }; do
  q="$out/data/q$len.fa"
  blastp -query "$q" -db "$out/data/blastdb" -outfmt 6 -comp_based_stats 0 -max_target_seqs 500 -num_threads 2 \
    >"$out/q$len.blastp.tsv"
  "$build/bin/gpu_blastp" --mode cpu --threads 1 --query "$q" --db "$out/data/db.gbdb" --out "$out/q$len.cpu1.tsv"
  "$build/bin/gpu_blastp" --mode cpu --threads 3 --query "$q" --db "$out/data/db.gbdb" --out "$out/q$len.cpu3.tsv"
  if cmp -s "$out/q$len.cpu1.tsv" "$out/q$len.cpu3.tsv"; then
    echo "q$len: 1 and 3 threads identical ($(wc -l <"$out/q$len.cpu1.tsv") hits)"
  else
    echo "q$len: FAIL: 1 and 3 threads differ"
    status=1
  fi
  ours+=("$out/q$len.cpu1.tsv")
  theirs+=("$out/q$len.blastp.tsv")
done
"$(blast_python)" "$here/verify.py" --truth "$out/data/truth.tsv" --ours "${ours[@]}" --blastp "${theirs[@]}" \
  --summary "$out/verify.csv" || status=1
[ $status -eq 0 ] && echo "ci.sh: all checks passed" || echo "ci.sh: FAILED"
exit $status
