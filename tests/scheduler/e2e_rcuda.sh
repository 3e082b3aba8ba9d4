#!/usr/bin/env bash
# The scheduler end to end: a lease from ssgm, a CUDA program
# through rcuda-run on the granted endpoint with the lease's token, then the
# release. Also: sessions with a forged or expired token are refused, and a
# released lease's token is revoked on the node: its running session ends and
# no new one starts with it.
#
#   tests/scheduler/e2e_rcuda.sh BUILD_DIR
#
# By default the server runs its test backend and the monitor reads an
# inventory file (CI, no GPU). With RCUDA_E2E_BACKEND=cuda the server uses the
# real GPU and the monitor reads it through NVML (on a GPU machine).
set -u

BUILD=$(cd "${1:?usage: e2e_rcuda.sh BUILD_DIR}" && pwd)
BIN=$BUILD/bin
BACKEND=${RCUDA_E2E_BACKEND:-test}

need=("$BIN/ssgmd" "$BIN/ssgm" "$BIN/rcuda-gpu-monitor" "$BIN/rcuda-server" "$BIN/rcuda-run"
      "$BUILD/lib/rcuda/libcudart.so.13" "$BUILD/tests/cuda/vector_add" "$BUILD/bin/lease_alloc")
[ "$BACKEND" = test ] && need+=("$BUILD/lib/librcuda_test_kernels.so")
missing=()
for f in "${need[@]}"; do [ -e "$f" ] || missing+=("$f"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e_rcuda: FAIL: cannot run, these are not built:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi

T=$(mktemp -d /tmp/e2e_rcuda.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "e2e_rcuda: files kept in $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() {
  echo "e2e_rcuda: FAIL: $*" >&2
  for log in "$T"/*.log; do echo "---- $log" >&2; tail -n 20 "$log" >&2; done
  exit 1
}
wait_for_file() {  # path, tenths of a second
  for _ in $(seq "$2"); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}

NODE=e2e-node
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/key"

# rcuda-server, enforcing leases signed with the shared key.
server_args=(--listen 127.0.0.1 --port 0 --port-file "$T/server.port" --backend "$BACKEND"
             --auth-key-file "$T/key" --node-name "$NODE" --status-file "$T/server-status.json"
             --revoked-leases-file "$T/revoked-leases")
[ "$BACKEND" = test ] && server_args+=(--test-kernels "$BUILD/lib/librcuda_test_kernels.so")
"$BIN/rcuda-server" "${server_args[@]}" > "$T/server.log" 2>&1 &
PIDS+=($!)
wait_for_file "$T/server.port" 100 || fail "rcuda-server did not start"
SERVER_PORT=$(cat "$T/server.port")

"$BIN/ssgmd" --listen 127.0.0.1 --port 0 --port-file "$T/ssgmd.port" --journal "$T/ssgmd.journal" \
  --auth-key-file "$T/key" > "$T/ssgmd.log" 2>&1 &
PIDS+=($!)
wait_for_file "$T/ssgmd.port" 100 || fail "ssgmd did not start"
export SSGM_SERVER=127.0.0.1:$(cat "$T/ssgmd.port")

monitor_args=(--scheduler "$SSGM_SERVER" --node-name "$NODE" --advertise-host 127.0.0.1
              --server-port "$SERVER_PORT" --server-status-file "$T/server-status.json" --interval 200ms
              --revoked-leases-file "$T/revoked-leases")
if [ "$BACKEND" = test ]; then
  echo "0 16G 16G 0 rcuda test backend (inventory)" > "$T/inventory"
  monitor_args+=(--inventory "$T/inventory")
fi
"$BIN/rcuda-gpu-monitor" "${monitor_args[@]}" > "$T/monitor.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  "$BIN/ssgm" --format json status --no-leases 2>/dev/null | grep -q '"live":true' && break
  sleep 0.1
done
"$BIN/ssgm" status --no-leases | grep -q LIVE || fail "the node never became live in ssgmd"

# The issue's sequence.
eval "$("$BIN/ssgm" request --gpus 1 --mem 1G --format env)"
[ "${SSGM_ERROR:-}" = 0 ] || fail "ssgm request: SSGM_ERROR=${SSGM_ERROR:-unset}"
case "$RCUDA_DEVICE_0" in 127.0.0.1@"$SERVER_PORT":*) ;; *) fail "unexpected endpoint $RCUDA_DEVICE_0" ;; esac
[ -n "${RCUDA_TOKEN:-}" ] || fail "no RCUDA_TOKEN"
LEASE=$SSGM_JOB_ID
SECRET=${SSGM_LEASE_SECRET:-}
[ -n "$SECRET" ] || fail "no SSGM_LEASE_SECRET"
echo "e2e_rcuda: lease $LEASE on $RCUDA_DEVICE_0"
"$BIN/rcuda-run" "$BUILD/tests/cuda/vector_add" > "$T/vector_add.log" 2>&1 ||
  fail "vector_add through rcuda-run with the lease failed"
echo "e2e_rcuda: vector_add passed on the leased GPU"
"$BIN/rcuda-run" "$BUILD/bin/lease_alloc" $((1 << 30)) > "$T/lease_alloc.log" 2>&1 ||
  fail "the session is not held to its 1 GiB partition: $(cat "$T/lease_alloc.log")"
echo "e2e_rcuda: cudaMalloc past the 1 GiB partition refused"
RCUDA_DEVICE_0="${RCUDA_DEVICE_0%:*}:1" "$BIN/rcuda-run" "$BUILD/tests/cuda/vector_add" > "$T/other-gpu.log" 2>&1 &&
  fail "a token for GPU 0 opened a session on GPU 1"
# (The test backend has one GPU: the daemon refuses GPU 1 before any token check.)
grep -qE "does not grant GPU 1|GPU 1 requested, this server has 1" "$T/server.log" ||
  fail "the server did not say why it refused GPU 1"
echo "e2e_rcuda: the token does not open another GPU"

# Refusals: a token with a bad signature, and an expired one.
GOOD_TOKEN=$RCUDA_TOKEN
last=${GOOD_TOKEN: -1}; [ "$last" = A ] && swap=B || swap=A
RCUDA_TOKEN=${GOOD_TOKEN%?}$swap "$BIN/rcuda-run" "$BUILD/tests/cuda/vector_add" > "$T/forged.log" 2>&1 &&
  fail "a session with a forged token was accepted"
RCUDA_TOKEN= "$BIN/rcuda-run" "$BUILD/tests/cuda/vector_add" > "$T/no-token.log" 2>&1 &&
  fail "a session without a token was accepted"
SHORT=$("$BIN/ssgm" --format env request --mem 1G --ttl 1)
eval "$SHORT"
[ "${SSGM_ERROR:-}" = 0 ] || fail "short lease: SSGM_ERROR=${SSGM_ERROR:-unset}"
sleep 2.2
"$BIN/rcuda-run" "$BUILD/tests/cuda/vector_add" > "$T/expired.log" 2>&1 &&
  fail "a session with an expired token was accepted"
echo "e2e_rcuda: forged, missing and expired tokens refused"

# A session of the first lease that stays open, then the release: ssgmd
# revokes the lease, the monitor writes it down, the server ends the session
# and refuses the token from then on.
RCUDA_TOKEN=$GOOD_TOKEN "$BIN/rcuda-run" "$BUILD/bin/lease_alloc" --hold "$T/held" > "$T/held.log" 2>&1 &
HOLDER=$!
PIDS+=($HOLDER)
wait_for_file "$T/held" 200 || fail "the holding session did not start: $(cat "$T/held.log")"
"$BIN/ssgm" release "$LEASE" > /dev/null 2>&1 && fail "a release with another lease's secret was accepted"
SSGM_LEASE_SECRET=$SECRET "$BIN/ssgm" release "$LEASE" > /dev/null || fail "ssgm release $LEASE"
SSGM_LEASE_SECRET=$SECRET "$BIN/ssgm" release "$LEASE" > /dev/null || fail "second ssgm release $LEASE"
for _ in $(seq 100); do grep -q "^$LEASE " "$T/revoked-leases" 2>/dev/null && break; sleep 0.1; done
grep -q "^$LEASE " "$T/revoked-leases" || fail "the released lease never reached the node's revoked-leases file"
wait "$HOLDER" || fail "the released lease's session was not ended: $(cat "$T/held.log")"
grep -q "SESSION ENDED" "$T/held.log" || fail "the holder did not see its session end: $(cat "$T/held.log")"
echo "e2e_rcuda: the released lease's running session was ended"
RCUDA_TOKEN=$GOOD_TOKEN "$BIN/rcuda-run" "$BUILD/tests/cuda/vector_add" > "$T/revoked.log" 2>&1 &&
  fail "a session with a released lease's token was accepted"
grep -q "lease $LEASE was released" "$T/server.log" || fail "the server did not say why it refused the token"
echo "e2e_rcuda: the released lease's token is refused"
# The short one expired by itself; nothing is left behind.
"$BIN/ssgm" --format json status | grep -q '"lease_count":0' || fail "leases left after the release"
echo "e2e_rcuda: PASS"
