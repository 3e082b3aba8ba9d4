#!/usr/bin/env bash
# nvcc launcher of a build that has a twin (RCUDA_REUSE_CUDA_FROM,
# cmake/Sanitizers.cmake): the sanitizer build compiles rcuda's C++ again,
# but its CUDA programs are the main build's, to the byte (CUDA code gets no
# sanitizer flags, and both builds compile it with the same flags). So
# instead of running nvcc, take what it wrote there.
#
#   reuse_nvcc_output.sh <this build dir> <twin build dir> <nvcc command...>
#
# The output (-o) is copied from the same place in the twin build; when the
# twin lacks it, nvcc runs. The dependency file (-MF) ninja asks for names the
# twin's output as what this one depends on (the twin's own was consumed by
# its ninja), so that a rebuilt twin is copied again.
set -euo pipefail
this=$1
twin=$2
shift 2

out=""
depfile=""
args=("$@")
for ((i = 0; i + 1 < ${#args[@]}; i++)); do
  case "${args[i]}" in
    -o) out=${args[i + 1]} ;;
    -MF) depfile=${args[i + 1]} ;;
  esac
done

# The twin's path for a path of this build, or nothing.
twin_of() {
  local path=$1
  case $path in /*) ;; *) path=$PWD/$path ;; esac
  case $path in "$this"/*) echo "$twin/${path#"$this"/}" ;; esac
}

if [ -n "$out" ]; then
  from=$(twin_of "$out")
  if [ -n "$from" ] && [ -f "$from" ]; then
    mkdir -p "$(dirname "$out")"
    cp "$from" "$out"
    if [ -n "$depfile" ]; then
      mkdir -p "$(dirname "$depfile")"
      printf '%s: %s\n' "$out" "$from" > "$depfile"
    fi
    exit 0
  fi
fi
exec "$@"
