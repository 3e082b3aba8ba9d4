#!/usr/bin/env bash
# Runs one CUDA program through rcuda against a private rcuda-server with the
# TEST backend (the CUDA executor on the fake CUDA driver of tests/fake_driver:
# host memory, host kernels, test equipment, not a GPU).
#
#   RCUDA_BUILD_DIR=build tests/integration/run_remote.sh <program> [args...]
#
# RCUDA_ITEST_TRANSPORT=ucx names the device "ucx://..." (the program then
# runs over UCX or fails); RCUDA_SERVER_EXTRA_ARGS adds options of the
# server. Exits with the program's status. The server's log goes to stderr on
# failure.
set -u
build=${RCUDA_BUILD_DIR:?set RCUDA_BUILD_DIR to the build directory}
work=$(mktemp -d)
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT

plugins=()
for p in "$build"/lib/librcuda_test_kernels.so ${RCUDA_EXTRA_TEST_KERNELS:-}; do
  [ -f "$p" ] && plugins+=(--test-kernels "$p")
done
"$build/bin/rcuda-server" --backend test "${plugins[@]}" --listen 127.0.0.1 --port 0 \
  --port-file "$work/port" --log-level "${RCUDA_SERVER_LOG_LEVEL:-warn}" ${RCUDA_SERVER_EXTRA_ARGS:-} \
  2>"$work/server.log" &
server=$!
for _ in $(seq 1 200); do
  [ -s "$work/port" ] && break
  kill -0 $server 2>/dev/null || break
  sleep 0.05
done
if [ ! -s "$work/port" ]; then
  echo "run_remote.sh: rcuda-server did not start" >&2
  cat "$work/server.log" >&2
  exit 1
fi
port=$(cat "$work/port")
# The sanitizer build's client library needs the sanitizer runtime in the
# (uninstrumented) program: scripts/test.sh names it in RCUDA_TEST_PRELOAD.
preload=()
[ -n "${RCUDA_TEST_PRELOAD:-}" ] && preload=(env "LD_PRELOAD=$RCUDA_TEST_PRELOAD")
scheme=${RCUDA_ITEST_TRANSPORT:+$RCUDA_ITEST_TRANSPORT://}
RCUDA_DEVICE_COUNT=1 RCUDA_DEVICE_0="${scheme}127.0.0.1@$port" "${preload[@]}" "$build/bin/rcuda-run" -- "$@"
status=$?
if [ $status -ne 0 ]; then
  echo "run_remote.sh: $* exited with $status; server log:" >&2
  cat "$work/server.log" >&2
fi
exit $status
