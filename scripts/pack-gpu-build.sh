#!/usr/bin/env bash
# Packs what tests/gpu/run.sh needs from an existing build (default build/)
# into a small build-shaped folder (default .gpu-build/, which git ignores),
# stripped, to carry to a GPU machine that cannot build: the programs in
# bin/, the libraries in lib/ (not the fake driver: test equipment), the CUDA
# test programs and the TLS test-certificate maker. The build's programs link
# only libc and libstdc++ dynamically (the rest is static), so they run there.
# scripts/build-gpu-bundle.sh makes a Release build for the same purpose.
#
#   scripts/pack-gpu-build.sh [build-dir] [out-dir]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-.gpu-build}
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/tests/cuda" "$out/tests/transport"
# The serverless tools and the fake driver's programs run in no GPU check.
for f in "$build"/bin/*; do
  case "$(basename "$f")" in rcuda-fn*|rcuda-faas*|rcuda-orchestrator|faas_*) continue ;; esac
  [ -f "$f" ] && [ -x "$f" ] && cp "$f" "$out/bin/"
done
(cd "$build/lib" && find . -name '*.so*' ! -path './fake-driver*' -print0 | tar --null -T - -cf -) | tar -xf - -C "$out/lib"
cp "$build"/tests/cuda/* "$out/tests/cuda/" 2>/dev/null || true
rm -rf "$out/tests/cuda/CMakeFiles" "$out/tests/cuda/"*.cmake "$out/tests/cuda/CTestTestfile.cmake"
[ -x "$build/tests/transport/rcuda_tls_make_test_certs" ] && cp "$build/tests/transport/rcuda_tls_make_test_certs" "$out/tests/transport/"
find "$out" -type f -exec strip --strip-unneeded {} + 2>/dev/null || true
du -sh "$out"
