#!/usr/bin/env bash
# Runs one CUDA program through rcuda against a private rcuda-server whose
# CUDA backend (server/cuda_executor.cc) drives the FAKE CUDA driver of this
# directory (build/lib/fake-driver/libcuda.so.1: host memory and host
# kernels, TEST EQUIPMENT, not a GPU).
#
#   RCUDA_BUILD_DIR=build tests/fake_driver/run_fake.sh <program> [args...]
#
# RCUDA_FAKE_DRIVER_DEVICES (default 1) fake GPUs are offered to the program
# as its devices 0..N-1; RCUDA_ITEST_TRANSPORT=ucx names them "ucx://..."
# (the program then runs over UCX or fails). Exits with the program's
# status; the server's log (the fake driver's lines included) goes to stderr
# on failure.
set -u
build=${RCUDA_BUILD_DIR:?set RCUDA_BUILD_DIR to the build directory}
devices=${RCUDA_FAKE_DRIVER_DEVICES:-1}
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT

plugins="$build/lib/librcuda_test_kernels.so${RCUDA_EXTRA_TEST_KERNELS:+:$RCUDA_EXTRA_TEST_KERNELS}"
# Only the server sees the fake driver; the program runs on rcuda's client.
LD_LIBRARY_PATH="$build/lib/fake-driver${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
RCUDA_FAKE_DRIVER_DEVICES=$devices \
RCUDA_FAKE_DRIVER_KERNELS="$plugins" \
  "$build/bin/rcuda-server" --backend cuda --listen 127.0.0.1 --port 0 --port-file "$work/port" \
  --log-level "${RCUDA_SERVER_LOG_LEVEL:-warn}" ${RCUDA_SERVER_EXTRA_ARGS:-} 2>"$work/server.log" &
server=$!
for _ in $(seq 1 200); do
  [ -s "$work/port" ] && break
  kill -0 $server 2>/dev/null || break
  sleep 0.05
done
if [ ! -s "$work/port" ]; then
  echo "run_fake.sh: rcuda-server did not start" >&2
  cat "$work/server.log" >&2
  exit 1
fi
port=$(cat "$work/port")
env_devices=(RCUDA_DEVICE_COUNT="$devices")
scheme=${RCUDA_ITEST_TRANSPORT:+$RCUDA_ITEST_TRANSPORT://}
for ((i = 0; i < devices; ++i)); do env_devices+=(RCUDA_DEVICE_$i="${scheme}127.0.0.1@$port:$i"); done
env -u RCUDA_FAKE_DRIVER_DEVICES "${env_devices[@]}" "$build/bin/rcuda-run" -- "$@"
status=$?
if [ $status -ne 0 ]; then
  echo "run_fake.sh: $* exited with $status; server log:" >&2
  cat "$work/server.log" >&2
fi
exit $status
