#!/usr/bin/env bash
# Builds the fuzz targets of tests/fuzz with clang and libFuzzer (a
# configuration of its own, build-fuzz/: the project itself is g++'s) and
# runs each over its committed corpus for a while; fails when one crashes.
# CI runs it as the last stage of scripts/test.sh.
#
#   scripts/fuzz.sh [target...]        # default: every target
#
# Environment:
#   RCUDA_FUZZ_SECONDS  how long each target runs (default 15)
#   RCUDA_FUZZ_FORK     parallel fuzzing processes per target (libFuzzer's
#                       -fork; default 0: one process, no fork)
#   RCUDA_FUZZ_CORPUS_OUT  a directory to keep what the run added to each
#                       corpus (<dir>/<target>/); default: thrown away
#   RCUDA_FUZZ_BUILD_DIR   default build-fuzz
#   RCUDA_JOBS          build parallelism (default: all cores)
# Crashes are saved as <build-fuzz>/artifacts/<target>-crash-<sha1>; the
# script prints how to reproduce each. A long session on a big machine:
# docs/security.md ("Fuzzing and sanitizers").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${RCUDA_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${RCUDA_FUZZ_SECONDS:-15}
fork=${RCUDA_FUZZ_FORK:-0}
jobs=${RCUDA_JOBS:-$(nproc)}
all_targets=(frame fatbin cubin ptx lease_token ssgmd_request journal)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")

echo "==> fuzz: configuring $build (clang, libFuzzer, ASan + UBSan)"
cmake_args=(-S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
            -DRCUDA_FUZZ=ON -DRCUDA_BUILD_CUDA_PROGRAMS=OFF)
[ -n "${CUDA_HOME:-}" ] && cmake_args+=(-DCUDAToolkit_ROOT="$CUDA_HOME")
command -v ninja >/dev/null && [ ! -f "$build/Makefile" ] && cmake_args+=(-G Ninja)
mkdir -p "$build"
cmake "${cmake_args[@]}" > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
echo "==> fuzz: building the fuzzers (-j$jobs)"
cmake --build "$build" -j"$jobs" --target rcuda_fuzzers

artifacts=$build/artifacts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
failed=()
for t in "${targets[@]}"; do
  fuzzer=$build/bin/fuzz/${t}_fuzzer
  seeds=$root/tests/fuzz/corpus/$t
  [ -x "$fuzzer" ] || { echo "fuzz: no fuzzer $t (known: ${all_targets[*]})" >&2; exit 2; }
  # New inputs go to the first directory; the committed corpus stays as it is.
  out=${RCUDA_FUZZ_CORPUS_OUT:+$RCUDA_FUZZ_CORPUS_OUT/$t}
  out=${out:-$work/$t}
  mkdir -p "$out"
  # Inputs as long as the longest seed (libFuzzer's default). 10 s or 2 GiB
  # for one input is a hang or a leak; one allocation of 512 MiB from inputs
  # of kilobytes is a size taken on trust.
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1
        -artifact_prefix="$artifacts/$t-")
  [ -f "$root/tests/fuzz/dict/$t.dict" ] && args+=(-dict="$root/tests/fuzz/dict/$t.dict")
  [ "$fork" -gt 0 ] && args+=(-fork="$fork")
  echo "==> fuzz: $t for ${seconds} s"
  status=0
  "$fuzzer" "${args[@]}" "$out" "$seeds" > "$work/$t.log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done)' "$work/$t.log" | sed "s/^/    /" || true
  if [ $status -ne 0 ]; then
    failed+=("$t")
    echo "==> fuzz: $t FAILED (exit $status):"
    grep -v -E '^(INFO:|#[0-9]+)' "$work/$t.log" | tail -n 60
    for a in "$artifacts/$t-"*; do
      [ -f "$a" ] && echo "    reproduce: $fuzzer $a"
    done
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "==> fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "==> fuzz: ${#targets[@]} target(s), no crash"
