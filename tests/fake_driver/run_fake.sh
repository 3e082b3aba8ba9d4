#!/usr/bin/env bash
# Runs CUDA programs through rcuda against a private rcuda-server whose
# CUDA backend (server/cuda_executor.cc) drives the FAKE CUDA driver of this
# directory (build/lib/fake-driver/libcuda.so.1: host memory and host
# kernels, TEST EQUIPMENT, not a GPU).
#
#   RCUDA_BUILD_DIR=build tests/fake_driver/run_fake.sh <program> [args...]
#   RCUDA_BUILD_DIR=build tests/fake_driver/run_fake.sh --each <program>[=DEVICES]...
#
# RCUDA_FAKE_DRIVER_DEVICES (default 1) fake GPUs are offered to the program
# as its devices 0..N-1; RCUDA_ITEST_TRANSPORT=ucx names them "ucx://..."
# (the program then runs over UCX or fails). Exits with the program's
# status; the server's log (the fake driver's lines included) goes to stderr
# on failure.
#
# --each: runs the programs (without arguments) one after another against
# one server (offering the most fake GPUs any of them asks for; each gets
# DEVICES of them, default 1), which saves a server's start per program;
# exits 1, naming the programs that failed, if any did.
set -u
build=${RCUDA_BUILD_DIR:?set RCUDA_BUILD_DIR to the build directory}
devices=${RCUDA_FAKE_DRIVER_DEVICES:-1}
each=()
if [ "${1:-}" = --each ]; then
  shift
  each=("$@")
  for entry in "${each[@]}"; do
    [[ $entry == *=* ]] && [ "${entry##*=}" -gt "$devices" ] && devices=${entry##*=}
  done
fi
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
scheme=${RCUDA_ITEST_TRANSPORT:+$RCUDA_ITEST_TRANSPORT://}

run_program() {  # run_program DEVICES PROGRAM [ARGS...]
  local count=$1 i
  shift
  local env_devices=(RCUDA_DEVICE_COUNT="$count")
  for ((i = 0; i < count; ++i)); do env_devices+=(RCUDA_DEVICE_$i="${scheme}127.0.0.1@$port:$i"); done
  env -u RCUDA_FAKE_DRIVER_DEVICES "${env_devices[@]}" "$build/bin/rcuda-run" -- "$@"
}

if [ ${#each[@]} = 0 ]; then
  run_program "$devices" "$@"
  status=$?
  if [ $status -ne 0 ]; then
    echo "run_fake.sh: $* exited with $status; server log:" >&2
    cat "$work/server.log" >&2
  fi
  exit $status
fi
failed=()
for entry in "${each[@]}"; do
  program=${entry%%=*} count=1
  [[ $entry == *=* ]] && count=${entry##*=}
  echo "== $(basename "$program")"
  run_program "$count" "$program"
  status=$?
  if [ $status -ne 0 ]; then
    echo "run_fake.sh: $program exited with $status" >&2
    failed+=("$(basename "$program")")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "run_fake.sh: failed: ${failed[*]}; server log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "run_fake.sh: all ${#each[@]} programs passed"
