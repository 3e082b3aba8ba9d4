#!/usr/bin/env bash
# Device printf: the program's whole stdout (kernels' lines between its host
# lines) is the same natively and through rcuda, and a flood beyond a
# session's cap is cut with a marker while the session goes on.
set -u
B=$RCUDA_BUILD_DIR
program=$B/tests/cuda/device_printf
root=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -n "${NATIVE_CUDART_DIR:-}" ] || { echo "FAIL: no native libcudart"; exit 1; }
LD_LIBRARY_PATH="$NATIVE_CUDART_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$program" >"$work/native" ||
  { echo "FAIL: the native run failed"; exit 1; }
"$B/bin/rcuda-run" -- "$program" >"$work/remote" || { echo "FAIL: the remote run failed"; exit 1; }
if ! diff -u "$work/native" "$work/remote"; then
  echo "FAIL: native and remote stdout differ (above: - native, + remote)"
  exit 1
fi
cmp -s "$work/native" "$root/tests/cuda/device_printf.expected" ||
  echo "note: the native output differs from tests/cuda/device_printf.expected (the test backend's)"
# The flood, against a private server of this GPU with a 4 KiB cap.
runner() {  # runner PROGRAM ARGS...: through a private rcuda-server --backend cuda
  local dir port
  dir=$(mktemp -d)
  "$B/bin/rcuda-server" --backend cuda --listen 127.0.0.1 --port 0 --port-file "$dir/port" \
    ${RCUDA_SERVER_EXTRA_ARGS:-} 2>"$dir/log" &
  local server=$!
  for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
  port=$(cat "$dir/port" 2>/dev/null)
  RCUDA_DEVICE_COUNT=1 RCUDA_DEVICE_0="127.0.0.1@$port" "$B/bin/rcuda-run" -- "$@"
  local rc=$?
  kill $server; wait $server 2>/dev/null
  rm -rf "$dir"
  return $rc
}
export -f runner
export B
printf '#!/usr/bin/env bash\nrunner "$@"\n' >"$work/runner.sh"
chmod +x "$work/runner.sh"
"$root/tests/integration/check_device_printf.sh" --flood 2000 4 "$work/runner.sh" "$program" || exit 1
echo "PASS device_printf"
