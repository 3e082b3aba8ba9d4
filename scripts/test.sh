#!/usr/bin/env bash
# Installs what is missing, builds everything into build/ and runs every test
# (unit, integration through the TEST backend, scheduler, BLAST), as CI does:
#
#   scripts/test.sh
#
# Environment: RCUDA_JOBS (build parallelism, default: all cores),
# RCUDA_TEST_JOBS (tests run at once, default: cores, at least 2, at most 8),
# BUILD_DIR (default build). Exits non-zero when anything fails.
# The tests that need a GPU are in tests/gpu/run.sh (not run here).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-$root/build}
cores=$(nproc)
jobs=${RCUDA_JOBS:-$cores}
test_jobs=${RCUDA_TEST_JOBS:-$((cores < 2 ? 2 : (cores > 8 ? 8 : cores)))}
start=$(date +%s)

echo "==> Installing missing packages"
scripts/install-deps.sh

echo "==> Configuring $build"
cmake_args=(-S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo)
[ -n "${CUDA_HOME:-}" ] && cmake_args+=(-DCUDAToolkit_ROOT="$CUDA_HOME")
cmake "${cmake_args[@]}"

echo "==> Building (-j$jobs)"
cmake --build "$build" -j"$jobs"
built=$(date +%s)

echo "==> Testing (ctest -j$test_jobs)"
status=0
# --timeout: the default for a test that sets none. Known failures (bugs
# found and not fixed yet) are registered DISABLED and listed, not run.
ctest --test-dir "$build" --output-on-failure -j"$test_jobs" --timeout 600 || status=$?
end=$(date +%s)

echo "==> build $((built - start)) s, tests $((end - built)) s"
if [ $status -ne 0 ]; then
  echo "==> FAILED (ctest exit status $status)"
else
  echo "==> all tests passed"
fi
exit $status
