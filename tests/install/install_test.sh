#!/usr/bin/env bash
# What `cmake --install` and the Debian packages put in place, checked in a
# scratch root (removed at the end):
#
#   install_test.sh install  BUILD_DIR   DESTDIR=<scratch> cmake --install BUILD_DIR
#   install_test.sh packages BUILD_DIR   cpack, then dpkg-deb -x of each package
#
# In the scratch root: rcuda-run and rcuda-server answer --help;
# libcudart.so.13 is in lib/rcuda (and nowhere the dynamic linker searches by
# itself); rcuda-run puts that library first in LD_PRELOAD and
# LD_LIBRARY_PATH (a shell run through it prints what it got); each systemd
# unit's ExecStart names a program installed there; no test equipment (the
# fake driver) is installed. CMAKE and CPACK name the tools (ctest passes
# the build's own).
set -euo pipefail

mode=$1
build=$(cd "$2" && pwd)
cmake=${CMAKE:-cmake}
cpack=${CPACK:-cpack}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/rcuda-install-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
root=$scratch/root
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# check_tree PREFIX: the checks above, on $root$PREFIX.
check_tree() {
  local prefix=$1 base=$root$1 library out first unit exec
  library=$base/lib/rcuda/libcudart.so.13
  [ -f "$library" ] || fail "no $library"
  # Out of the linker's default path: that file is the only libcudart (no
  # libcudart.so namelink, no copy in lib/).
  out=$(find "$root" -name 'libcudart*')
  [ "$out" = "$library" ] || fail "libcudart files installed: $out (expected only $library)"
  # The driver API and the math libraries' replacements, beside it, each
  # finding it through its RUNPATH, none of them elsewhere.
  for name in libcuda.so.1 libcublas.so.13 libcurand.so.10 libcufft.so.12 libcusolver.so.12 libcusparse.so.12; do
    [ -f "$base/lib/rcuda/$name" ] || { fail "no $base/lib/rcuda/$name"; continue; }
    readelf -d "$base/lib/rcuda/$name" | grep -q 'RUNPATH.*\[\$ORIGIN\]' ||
      fail "$name: RUNPATH is not \$ORIGIN: $(readelf -d "$base/lib/rcuda/$name" | grep -E 'RPATH|RUNPATH')"
    out=$(find "$root" -name "$name*")
    [ "$out" = "$base/lib/rcuda/$name" ] || fail "$name files installed: $out"
  done

  for program in rcuda-run rcuda-server; do
    out=$("$base/bin/$program" --help 2>&1) || fail "$program --help exited $?"
    grep -qi "usage\|options" <<< "$out" || fail "$program --help printed no usage: $out"
  done

  # rcuda-run from the scratch root must pick the scratch root's library,
  # not the build's: a shell run through it shows what it set.
  out=$(env -u LD_PRELOAD -u LD_LIBRARY_PATH "$base/bin/rcuda-run" -- /bin/sh -c \
        'printf "%s\n%s\n" "$LD_PRELOAD" "$LD_LIBRARY_PATH"') || fail "rcuda-run -- /bin/sh exited $?"
  first=$(sed -n 1p <<< "$out" | cut -d: -f1)
  [ "$(realpath -m "$first")" = "$(realpath "$library")" ] || fail "LD_PRELOAD starts with '$first', not $library"
  first=$(sed -n 2p <<< "$out" | cut -d: -f1)
  [ "$(realpath -m "$first")" = "$(realpath "$base/lib/rcuda")" ] || fail "LD_LIBRARY_PATH starts with '$first'"

  for unit in rcuda-server.service rcuda-gpu-monitor.service ssgmd.service; do
    [ -f "$base/lib/systemd/system/$unit" ] || { fail "no unit $unit"; continue; }
    exec=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$base/lib/systemd/system/$unit")
    [ "${exec#"$prefix"/bin/}" != "$exec" ] || fail "$unit: ExecStart=$exec is not under $prefix/bin"
    [ -x "$root$exec" ] || fail "$unit: ExecStart=$exec is not installed"
  done
  for program in ssgmd ssgm rcuda-gpu-monitor; do
    [ -x "$base/bin/$program" ] || fail "$program not installed"
  done

  # The fake driver is a libcuda.so.1 too: the only one shipped is rcuda's
  # client driver library in lib/rcuda.
  out=$(find "$root" -iname '*fake*' -o -name 'libcuda.so*' ! -path "$base/lib/rcuda/libcuda.so.1" -o -iname '*test*')
  [ -z "$out" ] || fail "test equipment installed: $out"
}

case $mode in
  install)
    DESTDIR=$root "$cmake" --install "$build" > "$scratch/install.log"
    check_tree "$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")"
    ;;
  packages)
    # Components built are in CPackConfig.cmake; rcuda-faas only with faas/.
    (cd "$scratch" && "$cpack" --config "$build/CPackConfig.cmake" -B "$scratch/packages" > cpack.log) ||
      { cat "$scratch/cpack.log"; fail "cpack"; exit 1; }
    for package in client server scheduler; do
      deb=$(compgen -G "$scratch/packages/rcuda-${package}_*.deb" | head -n 1) || true
      [ -n "$deb" ] || { fail "no rcuda-$package package"; continue; }
      depends=$(dpkg-deb -f "$deb" Depends)
      grep -q "libc6" <<< "$depends" || fail "rcuda-$package: Depends '$depends' lacks libc6"
      dpkg-deb -x "$deb" "$root"
    done
    # Each program in one package only.
    out=$(dpkg-deb -c "$(compgen -G "$scratch/packages/rcuda-client_*.deb")")
    ! grep -q 'bin/rcuda-server$' <<< "$out" || fail "rcuda-client ships rcuda-server"
    out=$(dpkg-deb -c "$(compgen -G "$scratch/packages/rcuda-server_*.deb")")
    ! grep -q 'libcudart' <<< "$out" || fail "rcuda-server ships libcudart"
    check_tree /usr
    ;;
  *)
    echo "usage: install_test.sh install|packages BUILD_DIR" >&2
    exit 2
    ;;
esac

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "install_test.sh $mode: all checks passed"
