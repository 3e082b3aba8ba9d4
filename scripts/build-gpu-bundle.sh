#!/usr/bin/env bash
# Builds what tests/gpu/run.sh needs into build-gpu/ (Release, stripped), to
# carry to a GPU machine that cannot build: the server, the client library,
# rcuda-run, the CUDA test programs, the benchmarks and the examples.
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DRCUDA_BUILD_SCHEDULER_TESTS=ON >/dev/null
targets=(rcuda-server rcuda-run rcuda_cudart micro_bench tcp_baseline)
while IFS=$'\t' read -r name path; do
  case "$path" in */tests/cuda/*|*/bin/*) targets+=("$name") ;; esac
done <build-gpu/cuda-programs.txt
for t in $(cmake --build build-gpu --target help | awk '/^\.\.\. /{print $2}'); do
  case "$t" in ssgmd|ssgm|rcuda-gpu-monitor|scheduler_integration_tests|lease_alloc|gpu_blastp*|blast*|makedb*) targets+=("$t") ;; esac
done
cmake --build build-gpu -j"${JOBS:-2}" --target "${targets[@]}"
find build-gpu/bin build-gpu/lib build-gpu/tests/cuda -type f -perm -u+x -exec strip --strip-unneeded {} + 2>/dev/null || true
du -sh build-gpu/bin build-gpu/lib build-gpu/tests/cuda
