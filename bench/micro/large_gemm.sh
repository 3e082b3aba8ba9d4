#!/usr/bin/env bash
# The large-GEMM target (issue 13: 8192^3 in FP32 and FP16 through rcuda
# within 1.05x of native time): runs bench/micro/large_gemm.cu natively and
# through rcuda in one go and prints, per precision, both times per GEMM and
# their ratio (rcuda / native).
#
#   bench/micro/large_gemm.sh <build-dir> [--n N] [--iters I]
#
# Needs RCUDA_DEVICE_0 (a running rcuda-server whose worker opens NVIDIA's
# cuBLAS) and, for the native column, NATIVE_CUDART_DIR (the directory of
# NVIDIA's libcudart.so.13). Without it only rcuda's figures are printed.
set -u
build=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${NATIVE_CUDART_DIR:-}" ]; then
  LD_LIBRARY_PATH="$NATIVE_CUDART_DIR" "$build/bin/large_gemm" "$@" >"$tmp/native" 2>&1 ||
    { echo "native large_gemm failed:"; tail -3 "$tmp/native"; }
fi
"$build/bin/rcuda-run" -- "$build/bin/large_gemm" "$@" >"$tmp/rcuda" 2>&1 ||
  { echo "rcuda large_gemm failed:"; tail -3 "$tmp/rcuda"; }
touch "$tmp/native"
awk '
  FNR == 1 { file = FILENAME ~ /native$/ ? "native" : "rcuda" }
  $1 == "gemm" {
    for (i = 3; i <= NF; ++i) { split($i, kv, "="); f[kv[1]] = kv[2] }
    ms[file, $2] = f["ms"]; tf[file, $2] = f["tflops"]; shape[$2] = f["n"] "^3 x" f["iters"]; seen[$2] = 1
  }
  END {
    printf "%-6s %-14s %12s %12s %10s %10s %8s\n", "gemm", "shape", "native_ms", "rcuda_ms", "native_TF", "rcuda_TF", "ratio"
    for (p in seen) {
      # Tested with "in" first: reading a missing element would create it.
      n_ms = (("native", p) in ms) ? ms["native", p] : "-"; n_tf = (("native", p) in tf) ? tf["native", p] : "-"
      r_ms = (("rcuda", p) in ms) ? ms["rcuda", p] : "-"; r_tf = (("rcuda", p) in tf) ? tf["rcuda", p] : "-"
      ratio = (n_ms != "-" && r_ms != "-" && n_ms > 0) ? sprintf("%.3f", r_ms / n_ms) : "-"
      printf "%-6s %-14s %12s %12s %10s %10s %8s\n", p, shape[p], n_ms, r_ms, n_tf, r_tf, ratio
    }
    print "ratio: rcuda time / native time per GEMM, measured in this run (target: at most 1.05 at n=8192)"
  }' "$tmp/native" "$tmp/rcuda"
grep -q '^PASS large_gemm' "$tmp/rcuda"
