#!/usr/bin/env bash
# rcuda's libcuda.so.1 against the toolkit's: the table (client/driver/
# exports.tsv) lists exactly the toolkit's driver exports, rcuda's library
# exports exactly the table's names, both have SONAME libcuda.so.1, and ours
# reaches the session through rcuda's libcudart (DT_NEEDED libcudart.so.13,
# RUNPATH $ORIGIN).
#
#   check_driver_exports.sh <gen_driver_exports.py> <exports.tsv> <rcuda libcuda.so.1> <toolkit stubs/libcuda.so>
set -u
gen=$1 table=$2 ours=$3 toolkit=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for lib in "$ours" "$toolkit"; do
  [ -f "$lib" ] || { echo "FAIL: $lib not found"; exit 1; }
done
for which in ours toolkit; do
  lib=$(eval echo \$$which)
  nm -D --defined-only "$lib" >"$work/$which.nm" || exit 1
  echo "== $which: $lib"
  python3 "$gen" "$table" --check-nm "$work/$which.nm" || { echo "FAIL: $which does not match $table"; status=1; }
  soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
  [ "$soname" = libcuda.so.1 ] || { echo "FAIL: $which SONAME is '$soname', expected libcuda.so.1"; status=1; }
done
objdump -p "$ours" | awk '$1 == "NEEDED" { print $2 }' | grep -qx libcudart.so.13 ||
  { echo "FAIL: rcuda's libcuda.so.1 does not need libcudart.so.13"; status=1; }
objdump -p "$ours" | awk '$1 == "RUNPATH" || $1 == "RPATH" { print $2 }' | tr ':' '\n' | grep -qxF '$ORIGIN' ||
  { echo "FAIL: rcuda's libcuda.so.1 has no RUNPATH \$ORIGIN"; status=1; }
# Nothing else leaks out (the version script keeps the rest local).
extra=$(awk '$2 ~ /^[TtWwi]$/ && $3 !~ /^cu/ { print $3 }' "$work/ours.nm")
[ -z "$extra" ] || { echo "FAIL: exports that are not driver API names: $extra"; status=1; }
[ $status -eq 0 ] && echo "PASS: rcuda's libcuda.so.1 exports the toolkit's $(grep -c . <(awk '$2 == "T"' "$work/toolkit.nm")) driver functions"
exit $status
