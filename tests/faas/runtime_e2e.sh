#!/usr/bin/env bash
# The real binaries end to end, without the orchestrator: rcuda-faas deploys
# a definition (its init_script a file beside it) to rcuda-fn, uploads an
# input to the input bucket (s3rver: TEST EQUIPMENT), rcuda-faas-watcher puts
# its event on the queue (redis-server), the event from the queue is sent to
# rcuda-fn's Invoke API as the orchestrator would, the output appears in the
# output bucket, and rcuda-faas shows progress, results and dead letters.
#
#   tests/faas/runtime_e2e.sh BUILD_DIR
#
# Services run on 127.0.0.1 on free ports and are stopped by pid.
set -u

BUILD=$(cd "${1:?usage: runtime_e2e.sh BUILD_DIR}" && pwd)
BIN=$BUILD/bin
HERE=$(cd "$(dirname "$0")" && pwd)
S3RVER_DIR=${RCUDA_S3RVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rcuda/s3rver}
S3RVER=$S3RVER_DIR/node_modules/s3rver/bin/s3rver.js

fail() {
  echo "runtime_e2e: FAIL: $*" >&2
  for log in "$T"/*.log; do [ -f "$log" ] && { echo "---- $log" >&2; tail -n 20 "$log" >&2; }; done
  exit 1
}

need=("$BIN/rcuda-fn" "$BIN/rcuda-fn-exec" "$BIN/rcuda-faas" "$BIN/rcuda-faas-watcher" "$BIN/rcuda-run")
for f in "${need[@]}"; do [ -x "$f" ] || { echo "runtime_e2e: FAIL: $f is not built" >&2; exit 1; }; done
command -v redis-server >/dev/null || { echo "runtime_e2e: FAIL: redis-server is not installed (scripts/install-deps.sh)" >&2; exit 1; }
command -v redis-cli >/dev/null || { echo "runtime_e2e: FAIL: redis-cli is not installed" >&2; exit 1; }
[ -f "$S3RVER" ] || { echo "runtime_e2e: FAIL: s3rver is not installed: run faas/testing/s3rver/install.sh" >&2; exit 1; }

T=$(mktemp -d /tmp/runtime_e2e.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [ "${KEEP:-0}" = 1 ]; then echo "runtime_e2e: files kept in $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT

# Waits (polling every 0.1 s, at most $1 tenths) for the command after it.
wait_for() {
  local tenths=$1; shift
  for _ in $(seq "$tenths"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- services ---------------------------------------------------------------
mkdir -p "$T/s3"
# Its continuation tokens use DES: Node 17+ offers it through the legacy provider only.
node --openssl-legacy-provider "$S3RVER" -d "$T/s3" -a 127.0.0.1 -p 0 > "$T/s3rver.log" 2>&1 &
PIDS+=($!)
wait_for 200 grep -q "S3rver listening on" "$T/s3rver.log" || fail "s3rver did not start"
S3_PORT=$(sed -n 's/.*S3rver listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/s3rver.log" | head -1)
S3=http://127.0.0.1:$S3_PORT
for bucket in inbox outbox; do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$S3/$bucket")" = 200 ] || fail "cannot create bucket $bucket"
done
export AWS_ENDPOINT_URL=$S3 AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER RCUDA_S3_ADDRESSING=path

for attempt in 1 2 3; do
  REDIS_PORT=$(free_port)
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$T" > "$T/redis.log" 2>&1 &
  REDIS_PID=$!
  if wait_for 100 redis-cli -p "$REDIS_PORT" ping; then break; fi
  kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; REDIS_PID=
done
[ -n "${REDIS_PID:-}" ] || fail "redis-server did not start"
PIDS+=("$REDIS_PID")
REDIS=127.0.0.1:$REDIS_PORT

head -c 24 /dev/urandom | base64 > "$T/admin.key"
"$BIN/rcuda-fn" --port 0 --port-file "$T/fn.port" --work-root "$T/work" --state-dir "$T/state" \
  --admin-key-file "$T/admin.key" --sandbox auto > "$T/rcuda-fn.log" 2>&1 &
PIDS+=($!)
wait_for 200 test -s "$T/fn.port" || fail "rcuda-fn did not start"
FN=http://127.0.0.1:$(cat "$T/fn.port")
faas() { "$BIN/rcuda-faas" --fn "$FN" --admin-key-file "$T/admin.key" --redis "$REDIS" "$@"; }

# ---- deploy, upload, event, invoke, results ---------------------------------
mkdir -p "$T/def"
cat > "$T/def/upper.sh" <<'EOF'
name=$(basename "$INPUT_FILE_PATH")
tr a-z A-Z < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name.out"
echo "upper: $INPUT_OBJECT_KEY done"
EOF
cat > "$T/def/upper.yaml" <<'EOF'
functions:
  aws:
  - lambda:
      name: upper
      timeout: 60
      init_script: upper.sh
      input: [{storage_provider: s3, path: inbox/jobs}]
      output: [{storage_provider: s3, path: outbox/results, suffix: [.out]}]
EOF
faas check "$T/def/upper.yaml" > "$T/check.out" 2>&1 || fail "rcuda-faas check: $(cat "$T/check.out")"
mkdir -p "$T/orchestrator"
faas deploy "$T/def/upper.yaml" --orchestrator-dir "$T/orchestrator" > "$T/deploy.out" 2>&1 ||
  fail "rcuda-faas deploy: $(cat "$T/deploy.out")"
grep -q "upper: created by rcuda-fn" "$T/deploy.out" || fail "deploy: $(cat "$T/deploy.out")"
grep -q "echo \"upper: \$INPUT_OBJECT_KEY done\"" "$T/orchestrator/upper.yaml" || fail "the orchestrator's copy lacks the script"
grep -q "tr a-z A-Z" "$T/state/upper.yaml" || fail "rcuda-fn did not keep the deployed script"

echo "hello from the e2e test" > "$T/query 1.txt"
faas upload "$T/query 1.txt" --function upper > "$T/upload.out" 2>&1 || fail "rcuda-faas upload: $(cat "$T/upload.out")"
grep -qx "s3://inbox/jobs/query 1.txt" "$T/upload.out" || fail "upload printed: $(cat "$T/upload.out")"

"$BIN/rcuda-faas-watcher" --bucket inbox --prefix jobs/ --redis "$REDIS" --interval-ms 100 > "$T/watcher.log" 2>&1 &
PIDS+=($!)
has_message() { [ "$(redis-cli -p "$REDIS_PORT" XLEN rcuda:faas:jobs)" -ge 1 ]; }
wait_for 300 has_message || fail "the watcher published no event"
faas progress > "$T/progress.out" 2>&1 || fail "rcuda-faas progress: $(cat "$T/progress.out")"
grep -q "1 waiting" "$T/progress.out" || fail "progress: $(cat "$T/progress.out")"

# The orchestrator's part, by hand: the queued event to rcuda-fn.
BODY=$(redis-cli -p "$REDIS_PORT" --raw XRANGE rcuda:faas:jobs - + | sed -n '3p')
echo "$BODY" | grep -q '"key":"jobs/query+1.txt"' || fail "unexpected event body: $BODY"
curl -s -D "$T/invoke.headers" -o "$T/invoke.json" -X POST -H 'X-Amz-Invocation-Type: RequestResponse' \
  --data-binary "$BODY" "$FN/2015-03-31/functions/upper/invocations" || fail "invoke: no answer"
grep -q "^HTTP/1.1 200" "$T/invoke.headers" || fail "invoke: $(cat "$T/invoke.headers" "$T/invoke.json")"
grep -qi "X-Amz-Function-Error" "$T/invoke.headers" && fail "the function failed: $(cat "$T/invoke.json")"
grep -q '"status":"Succeeded"' "$T/invoke.json" || fail "invoke: $(cat "$T/invoke.json")"

faas results --function upper > "$T/results.out" 2>&1 || fail "rcuda-faas results: $(cat "$T/results.out")"
grep -q "s3://outbox/results/query 1.txt.out" "$T/results.out" || fail "results: $(cat "$T/results.out")"
[ "$(curl -s "$S3/outbox/results/query%201.txt.out")" = "HELLO FROM THE E2E TEST" ] || fail "the output's content"
faas progress > "$T/progress.out" 2>&1 || fail "rcuda-faas progress: $(cat "$T/progress.out")"
grep -q "1 succeeded" "$T/progress.out" || fail "progress: $(cat "$T/progress.out")"

# ---- dead letters (written as the queue writes them) -------------------------
redis-cli -p "$REDIS_PORT" XADD rcuda:faas:jobs:dead '*' original_id 1-1 body '{"Records":[]}' \
  reason "function error: Runtime.ExitError" delivery_count 3 > /dev/null || fail "XADD"
faas dead-letters > "$T/dead.out" 2>&1 || fail "rcuda-faas dead-letters: $(cat "$T/dead.out")"
grep -q "message 1-1, 3 deliveries): function error: Runtime.ExitError" "$T/dead.out" || fail "dead letters: $(cat "$T/dead.out")"
grep -q "^1 dead letter(s)" "$T/dead.out" || fail "dead letters: $(cat "$T/dead.out")"

# ---- refusals -----------------------------------------------------------------
faas upload "$T/query 1.txt" --to "s3://inbox/../etc" > /dev/null 2>&1 && fail "upload to a '..' folder was accepted"
echo "runtime_e2e: PASS"
