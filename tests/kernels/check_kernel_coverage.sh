#!/bin/sh
# Checks that every kernel of the given CUDA programs has a host kernel in the
# test-kernel plugin, and that the plugin registers no name twice. Usage:
#   check_kernel_coverage.sh LIST_PLUGIN_KERNELS PLUGIN.so program...
set -eu
lister=$1
plugin=$2
shift 2
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$lister" "$plugin" | sort > "$tmp/registered"
dups=$(uniq -d "$tmp/registered")
if [ -n "$dups" ]; then
  echo "registered more than once:"; echo "$dups"; exit 1
fi
missing=0
for prog in "$@"; do
  for k in $("$here/list_program_kernels.sh" "$prog"); do
    if ! grep -qxF "$k" "$tmp/registered"; then
      echo "no host kernel for $k (in $(basename "$prog"))"
      missing=1
    fi
  done
done
[ "$missing" = 0 ] && echo "every kernel of $# programs has a host kernel ($(wc -l < "$tmp/registered") registered)"
exit $missing
