#!/usr/bin/env bash
# Installs the Debian packages that rcuda's build, tests and benchmarks need.
# Idempotent: when every package is present it changes nothing (and needs
# neither the network nor root). Runs apt-get as root directly, else through
# sudo. Also installs the faas tests' S3 server, s3rver, from npm (pinned by
# faas/testing/s3rver/package-lock.json; once, into a cache folder).
#
#   scripts/install-deps.sh
#
# The CUDA 13.0 toolkit is not a Debian package: it is expected in
# /usr/local/cuda (or at $CUDA_HOME); this script only checks that it is there.
set -euo pipefail

packages=(
  # build
  cmake g++ make python3 binutils
  python3-clang-14  # libclang's bindings: client/libs/gen_library.py reads the math libraries' headers
  libasio-dev libflatbuffers-dev flatbuffers-compiler libspdlog-dev libfmt-dev libcli11-dev
  libibverbs-dev libzstd-dev liblz4-dev libssl-dev
  openssl  # bench/micro/tls.sh compares TLS with `openssl speed` (libssl-dev: TLS, linked statically)
  libucx-dev ucx-utils  # the UCX transport (protocol/ucx) and its benchmark (ucx_perftest)
  # faas/: S3 (libcurl's SigV4), Redis Streams, function definitions, HTTP, JSON
  libcurl4-openssl-dev libhiredis-dev redis-server libyaml-cpp-dev libcpp-httplib-dev nlohmann-json3-dev
  libexpat1-dev
  bubblewrap
  # fuzzing and the sanitizer build
  clang libfuzzer-14-dev libclang-rt-14-dev
  # tests
  catch2 procps bc
  dpkg-dev  # dpkg-shlibdeps: the Debian packages' Depends (cmake/Packaging.cmake)
  # benchmarks (the BLAST comparison and its plots)
  ncbi-blast+ python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
else
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-deps: not root and no sudo: install these packages as root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The faas tests' S3 server (s3rver, pinned by its lockfile; npm ci into a
# cache folder, skipped when already installed from the same lockfile).
"$(dirname "$0")/../faas/testing/s3rver/install.sh"

cuda=${CUDA_HOME:-/usr/local/cuda}
if [ ! -x "$cuda/bin/nvcc" ]; then
  echo "install-deps: the CUDA 13.0 toolkit is missing: no $cuda/bin/nvcc." >&2
  echo "install-deps: install it from NVIDIA (https://developer.nvidia.com/cuda-downloads, Debian 12," >&2
  echo "install-deps: e.g. the cuda-toolkit-13-0 package of NVIDIA's repository) or set CUDA_HOME." >&2
  exit 2
fi
version=$("$cuda/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')
case "$version" in
  13.*) echo "install-deps: CUDA toolkit $version in $cuda" ;;
  *) echo "install-deps: warning: $cuda has CUDA $version; rcuda is built and tested with 13.0" >&2 ;;
esac
