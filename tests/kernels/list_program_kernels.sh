#!/bin/sh
# Lists the kernels of CUDA programs built by nvcc, by mangled name: the names
# the program registers with __cudaRegisterFunction are string constants in
# its .rodata, and each has a host stub of the same name in the symbol table
# (which tells kernels from namespaced __device__ variables). Usage:
#   list_program_kernels.sh program...
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for prog in "$@"; do
  objcopy -O binary --only-section=.rodata "$prog" "$tmp/rodata"
  strings -a -n 4 "$tmp/rodata" | grep '^_Z' | sort -u > "$tmp/names"
  nm --defined-only "$prog" | awk '$2 ~ /^[TtWw]$/ { print $3 }' | sort -u > "$tmp/functions"
  comm -12 "$tmp/names" "$tmp/functions"
done
