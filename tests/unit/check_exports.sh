#!/usr/bin/env bash
# The export table's check against real libraries: rcuda's libcudart.so.13
# and the CUDA toolkit's must both export exactly the table's functions
# (client/api/exports.tsv), each with the version libcudart.so.13, and the
# two must list the same names.
#
#   check_exports.sh <gen_exports.py> <exports.tsv> <rcuda libcudart.so.13> <toolkit libcudart.so.13> <expected count>
set -u
gen=$1 table=$2 ours=$3 toolkit=$4 expected=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for lib in "$ours" "$toolkit"; do
  if [ ! -f "$lib" ]; then
    echo "FAIL: $lib not found"
    exit 1
  fi
done
nm -D --defined-only "$ours" >"$work/ours.all.nm" || exit 1
# rcuda's private ABI (rcudaPrivate*, for rcuda's own libcuda.so.1) is no
# part of the table: each must carry the version RCUDA_PRIVATE; then it is set aside.
bad_private=$(awk '$3 ~ /^rcudaPrivate/ && $3 !~ /@@RCUDA_PRIVATE$/ { print $3 }' "$work/ours.all.nm")
[ -z "$bad_private" ] || { echo "FAIL: private exports outside RCUDA_PRIVATE: $bad_private"; status=1; }
awk '$3 !~ /^rcudaPrivate/' "$work/ours.all.nm" >"$work/ours.nm"
nm -D --defined-only "$toolkit" >"$work/toolkit.nm" || exit 1
for which in ours toolkit; do
  echo "== $which: $(eval echo \$$which)"
  if ! python3 "$gen" "$table" --check-nm "$work/$which.nm"; then
    echo "FAIL: $which does not match $table"
    status=1
  fi
  # Defined functions only (the table lists functions), with their versions.
  awk '$2 ~ /^[TtWw]$/ { print $3 }' "$work/$which.nm" | sort >"$work/$which.names"
  count=$(wc -l <"$work/$which.names")
  unversioned=$(grep -vc '@libcudart\.so\.13$' "$work/$which.names")
  echo "$which: $count function exports, $unversioned without version libcudart.so.13"
  [ "$count" -eq "$expected" ] || { echo "FAIL: $which has $count function exports, expected $expected"; status=1; }
  [ "$unversioned" -eq 0 ] || { echo "FAIL: $which has exports without the version libcudart.so.13"; status=1; }
done
if ! diff "$work/ours.names" "$work/toolkit.names"; then
  echo "FAIL: the two libraries export different names (< rcuda, > toolkit)"
  status=1
fi
# The SONAME the dynamic linker resolves programs against.
soname=$(objdump -p "$ours" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = libcudart.so.13 ] || { echo "FAIL: SONAME is '$soname', expected libcudart.so.13"; status=1; }
[ $status -eq 0 ] && echo "PASS: both libraries export the same $expected functions with version libcudart.so.13"
exit $status
