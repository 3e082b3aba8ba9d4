#!/usr/bin/env bash
# Runs tests/cuda/device_printf through a runner (tests/integration/run_remote.sh,
# tests/fake_driver/run_fake.sh) and checks what reached the program's stdout.
#
#   check_device_printf.sh RUNNER PROGRAM EXPECTED
#       stdout must be EXPECTED: the kernels' lines, in order, between the
#       host lines printed before and after each synchronization.
#   check_device_printf.sh --flood LINES KIB RUNNER PROGRAM
#       a kernel prints LINES lines of 64 bytes against a session cap of KIB
#       KiB (rcuda-server --session-device-output-kib): stdout must hold the
#       first KIB KiB of them, one marker line that counts the rest, and the
#       output of the round after it (the session went on).
#
# The server's environment comes from the runner's (RCUDA_BUILD_DIR;
# RCUDA_SERVER_EXTRA_ARGS for the cap).
set -u
flood=0
if [ "${1:-}" = --flood ]; then
  flood=1 lines=$2 kib=$3
  shift 3
fi
runner=$1 program=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $flood = 0 ]; then
  expected=$3
  "$runner" "$program" >"$work/stdout" || { echo "FAIL: the program failed"; exit 1; }
  if ! diff -u "$expected" "$work/stdout"; then
    echo "FAIL: the program's stdout differs from $expected (above: - expected, + got)"
    exit 1
  fi
  echo "PASS device output in order"
  exit 0
fi

RCUDA_SERVER_EXTRA_ARGS="${RCUDA_SERVER_EXTRA_ARGS:-} --session-device-output-kib $kib" \
  "$runner" "$program" --flood "$lines" >"$work/stdout" || { echo "FAIL: the program failed"; exit 1; }
cap=$((kib * 1024))
{
  echo "host: before the flood"
  for ((i = 0; i < lines; ++i)); do printf 'flood line %06d: 0123456789abcdefghijklmnopqrstuvwxyz01234567\n' $i; done |
    head -c $cap
  # The cap is a multiple of the 64-byte line: the kept part ends a line.
  echo "MARKER $((lines * 64 - cap))"
  echo "host: after the flood"
  echo "device round 9: values[0] = -7"
  echo "device round 9: values[1] = 4"
  echo "host: the session goes on"
  echo "PASS device_printf"
} >"$work/expected"
# The marker's count compared exactly, its wording once.
grep -q '^\[rcuda: [0-9]* bytes of device output dropped: more than the session.s cap of '"$kib"' KiB' \
  "$work/stdout" || { echo "FAIL: no marker line naming the cap of $kib KiB"; head -c 2000 "$work/stdout"; exit 1; }
sed -E 's/^\[rcuda: ([0-9]+) bytes of device output dropped.*/MARKER \1/' "$work/stdout" | grep -v '^CHECKSUM ' \
  >"$work/got"
if ! cmp -s "$work/expected" "$work/got"; then
  diff -u "$work/expected" "$work/got" | head -40
  echo "FAIL: the flood's output is not its first $kib KiB, one marker and the next round (above)"
  exit 1
fi
echo "PASS flood truncated at $kib KiB with a marker; the session went on"
