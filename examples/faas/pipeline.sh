# The serverless pipeline's services on 127.0.0.1, for scripts/demo.sh and
# bench/faas/run.sh (sourced, bash). Each function starts one service on a
# free port in $FAAS_WORK, waits for it on a condition (a port file, an
# answer, a log line), records its pid in the caller's `pids` array (the
# caller's trap stops them, last first) and sets the variables named below.
#
# The caller sets: FAAS_BIN (build/bin), FAAS_WORK (a directory), pids=().
#
#   faas_start_redis                 FAAS_REDIS (host:port), FAAS_REDIS_PORT
#   faas_start_bridge                FAAS_BRIDGE_URL (rcuda-faas-events)
#   faas_start_s3rver BUCKET...      FAAS_S3_ENDPOINT, exports AWS_* for s3rver; the buckets
#                                    created, events of $FAAS_FORWARD_BUCKETS sent to the bridge
#   faas_start_server BACKEND [PLUGIN...]   FAAS_SERVER_PORT (rcuda-server, lease tokens required)
#   faas_start_scheduler [INVENTORY] SSGM_SERVER (ssgmd + rcuda-gpu-monitor, waits until live)
#   faas_install_tools DIR FILE...   rcuda-run, rcuda's libcudart and FILE... where nobody can read them
#   faas_start_fn FUNCTIONS TOOLS    RCUDA_FN_URL (rcuda-fn)
#   faas_start_orchestrator FUNCTIONS [OPTION...]   FAAS_ORCH_PID
#   faas_stop PID                    SIGTERM, then wait for it
#
# Settings (environment): FAAS_REDIS_APPENDFSYNC (everysec; always; no: no
# AOF), FAAS_SSGMD_JOURNAL_SYNC (ssgmd's --journal-sync, default its own),
# FAAS_WARM_WORKERS (rcuda-server, default 1), FAAS_FN_SANDBOX (auto),
# FAAS_FN_CONCURRENCY (8), FAAS_SHARED_MEMORY (1: rcuda-server offers its
# shared-memory transport; default TCP only), RCUDA_S3RVER_DIR (where
# install.sh put s3rver).
#
# s3rver is TEST EQUIPMENT (examples/faas/s3rver_events.js); the rest are
# rcuda's own programs and Debian's redis-server.

faas_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAAS_S3RVER_DIR=${RCUDA_S3RVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rcuda/s3rver}
FAAS_NODE=${FAAS_NODE:-faas-node}

faas_fail() {
  echo "pipeline: $*" >&2
  return 1
}

# faas_wait_for TENTHS COMMAND...: runs COMMAND every 0.1 s until it succeeds.
faas_wait_for() {
  local tenths=$1
  shift
  for _ in $(seq "$tenths"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

faas_alive() { kill -0 "$1" 2>/dev/null; }

# faas_wait_port_file FILE PID TENTHS: the port a service wrote, once it did.
faas_wait_port_file() {
  local tenths=$3
  for _ in $(seq "$tenths"); do
    [ -s "$1" ] && { cat "$1"; return 0; }
    faas_alive "$2" || return 1
    sleep 0.1
  done
  return 1
}

faas_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

faas_stop() {
  kill "$1" 2>/dev/null || return 0
  wait "$1" 2>/dev/null || true
}

faas_start_redis() {
  local fsync=${FAAS_REDIS_APPENDFSYNC:-everysec} persistence=(--appendonly no)
  [ "$fsync" != no ] && persistence=(--appendonly yes --appendfsync "$fsync")
  mkdir -p "$FAAS_WORK/redis"
  for _ in 1 2 3; do  # a free port may be taken before redis binds it
    FAAS_REDIS_PORT=$(faas_free_port)
    redis-server --bind 127.0.0.1 --port "$FAAS_REDIS_PORT" --save '' "${persistence[@]}" \
      --dir "$FAAS_WORK/redis" >"$FAAS_WORK/redis.log" 2>&1 &
    local pid=$!
    if faas_wait_for 100 redis-cli -p "$FAAS_REDIS_PORT" ping; then
      pids+=("$pid")
      FAAS_REDIS=127.0.0.1:$FAAS_REDIS_PORT
      return 0
    fi
    faas_stop "$pid"
  done
  faas_fail "redis-server did not start (log: $FAAS_WORK/redis.log)"
}

faas_start_bridge() {
  "$FAAS_BIN/rcuda-faas-events" --listen 127.0.0.1 --port 0 --port-file "$FAAS_WORK/bridge.port" \
    --redis "$FAAS_REDIS" >"$FAAS_WORK/bridge.log" 2>&1 &
  local pid=$! port
  pids+=("$pid")
  port=$(faas_wait_port_file "$FAAS_WORK/bridge.port" "$pid" 200) || faas_fail "rcuda-faas-events did not start" || return
  FAAS_BRIDGE_URL=http://127.0.0.1:$port/
}

faas_start_s3rver() {
  [ -f "$FAAS_S3RVER_DIR/node_modules/s3rver/bin/s3rver.js" ] ||
    faas_fail "s3rver is not installed in $FAAS_S3RVER_DIR: run scripts/install-deps.sh (needs node and npm)" || return
  local args=(--s3rver-dir "$FAAS_S3RVER_DIR" --directory "$FAAS_WORK/s3" --address 127.0.0.1 --port 0
              --event-log "$FAAS_WORK/s3-events.jsonl") bucket
  for bucket in "$@"; do args+=(--bucket "$bucket"); done
  if [ -n "${FAAS_FORWARD_BUCKETS:-}" ]; then
    args+=(--webhook "$FAAS_BRIDGE_URL")
    for bucket in $FAAS_FORWARD_BUCKETS; do args+=(--forward-bucket "$bucket"); done
  fi
  # s3rver's continuation tokens use DES: Node 17+ has it in the legacy provider only.
  node --openssl-legacy-provider "$faas_here/s3rver_events.js" "${args[@]}" >"$FAAS_WORK/s3rver.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  faas_wait_for 300 grep -q "S3rver listening on" "$FAAS_WORK/s3rver.log" ||
    faas_fail "s3rver did not start: $(tail -n 5 "$FAAS_WORK/s3rver.log")" || return
  FAAS_S3_ENDPOINT=http://127.0.0.1:$(sed -n 's/.*S3rver listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$FAAS_WORK/s3rver.log")
  # s3rver's built-in account; path-style addressing (no virtual hosts here).
  export AWS_ENDPOINT_URL=$FAAS_S3_ENDPOINT AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  export AWS_REGION=us-east-1 RCUDA_S3_ADDRESSING=path
  unset AWS_ENDPOINT_URL_S3 AWS_SESSION_TOKEN RCUDA_S3_CONFIG
}

# A key shared by rcuda-server and ssgmd (lease tokens); made once per work dir.
faas_lease_key() {
  [ -s "$FAAS_WORK/lease.key" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$FAAS_WORK/lease.key"
  echo "$FAAS_WORK/lease.key"
}

faas_start_server() {
  local backend=$1 plugin
  shift
  local args=(--listen 127.0.0.1 --port 0 --port-file "$FAAS_WORK/server.port" --backend "$backend"
              --status-file "$FAAS_WORK/server-status.json" --auth-key-file "$(faas_lease_key)"
              --node-name "$FAAS_NODE" --warm-workers "${FAAS_WARM_WORKERS:-1}")
  # Functions run as another user (and, sandboxed, with a /tmp of their own):
  # TCP unless asked otherwise.
  [ "${FAAS_SHARED_MEMORY:-0}" = 1 ] || args+=(--no-shared-memory)
  for plugin in "$@"; do args+=(--test-kernels "$plugin"); done
  "$FAAS_BIN/rcuda-server" "${args[@]}" >"$FAAS_WORK/server.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  FAAS_SERVER_PORT=$(faas_wait_port_file "$FAAS_WORK/server.port" "$pid" 300) ||
    faas_fail "rcuda-server did not start: $(tail -n 5 "$FAAS_WORK/server.log")"
}

# faas_start_scheduler [INVENTORY]: with an inventory line ("0 16G 16G 0
# name"), the monitor describes that GPU instead of reading NVML.
faas_start_scheduler() {
  local sync=()
  [ -n "${FAAS_SSGMD_JOURNAL_SYNC:-}" ] && sync=(--journal-sync "$FAAS_SSGMD_JOURNAL_SYNC")
  "$FAAS_BIN/ssgmd" --listen 127.0.0.1 --port 0 --port-file "$FAAS_WORK/ssgmd.port" \
    --journal "$FAAS_WORK/ssgmd.journal" "${sync[@]}" --auth-key-file "$(faas_lease_key)" \
    >"$FAAS_WORK/ssgmd.log" 2>&1 &
  local pid=$! port
  pids+=("$pid")
  port=$(faas_wait_port_file "$FAAS_WORK/ssgmd.port" "$pid" 200) || faas_fail "ssgmd did not start" || return
  export SSGM_SERVER=127.0.0.1:$port
  local args=(--scheduler "$SSGM_SERVER" --node-name "$FAAS_NODE" --advertise-host 127.0.0.1
              --server-port "$FAAS_SERVER_PORT" --server-status-file "$FAAS_WORK/server-status.json" --interval 200ms)
  if [ -n "${1:-}" ]; then
    echo "$1" >"$FAAS_WORK/inventory"
    args+=(--inventory "$FAAS_WORK/inventory")
  fi
  "$FAAS_BIN/rcuda-gpu-monitor" "${args[@]}" >"$FAAS_WORK/monitor.log" 2>&1 &
  pids+=($!)
  faas_node_live() { "$FAAS_BIN/ssgm" --format json status --no-leases 2>/dev/null | grep -q '"live":true'; }
  faas_wait_for 200 faas_node_live || faas_fail "the node never became live in ssgmd: $(tail -n 3 "$FAAS_WORK/monitor.log")"
}

# faas_install_tools DIR FILE...: functions run as nobody when rcuda-fn runs
# as root, and a build directory under a private home is out of its reach.
faas_install_tools() {
  local dir=$1 file
  shift
  mkdir -p "$dir/bin" "$dir/lib/rcuda"
  cp "$FAAS_BIN/rcuda-run" "$dir/bin/"
  cp "$FAAS_BIN/../lib/rcuda/libcudart.so.13" "$dir/lib/rcuda/"
  ln -sf libcudart.so.13 "$dir/lib/rcuda/libcudart.so"
  for file in "$@"; do cp -r "$file" "$dir/"; done
  chmod -R a+rX "$dir"
}

# faas_start_fn FUNCTIONS_DIR TOOLS_DIR: rcuda-fn serving the definitions
# of FUNCTIONS_DIR, rcuda-run from TOOLS_DIR/bin (readable in the sandbox).
faas_start_fn() {
  mkdir -p "$FAAS_WORK/fn-work" "$FAAS_WORK/fn-state"
  head -c 24 /dev/urandom | base64 >"$FAAS_WORK/fn-admin.key"
  "$FAAS_BIN/rcuda-fn" --listen 127.0.0.1 --port 0 --port-file "$FAAS_WORK/fn.port" --functions-dir "$1" \
    --state-dir "$FAAS_WORK/fn-state" --work-root "$FAAS_WORK/fn-work" --admin-key-file "$FAAS_WORK/fn-admin.key" \
    --max-concurrency "${FAAS_FN_CONCURRENCY:-8}" --sandbox "${FAAS_FN_SANDBOX:-auto}" --sandbox-ro-bind "$2" \
    --rcuda-bin "$2/bin" --exec-helper "$FAAS_BIN/rcuda-fn-exec" >"$FAAS_WORK/rcuda-fn.log" 2>&1 &
  local pid=$! port
  pids+=("$pid")
  port=$(faas_wait_port_file "$FAAS_WORK/fn.port" "$pid" 200) ||
    faas_fail "rcuda-fn did not start: $(tail -n 5 "$FAAS_WORK/rcuda-fn.log")" || return
  export RCUDA_FN_URL=http://127.0.0.1:$port
}

# faas_start_orchestrator FUNCTIONS_DIR [OPTION...]: waits until its loop
# runs (its first stats file is written).
faas_start_orchestrator() {
  local functions=$1
  shift
  [ -s "$FAAS_WORK/orchestrator.key" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$FAAS_WORK/orchestrator.key"
  rm -f "$FAAS_WORK/orchestrator-stats.json"
  "$FAAS_BIN/rcuda-orchestrator" --functions-dir "$functions" --redis "$FAAS_REDIS" --ssgmd "$SSGM_SERVER" \
    --lease-secret-key-file "$FAAS_WORK/orchestrator.key" --invoke-endpoint "$RCUDA_FN_URL" \
    --stats-file "$FAAS_WORK/orchestrator-stats.json" "$@" >>"$FAAS_WORK/orchestrator.log" 2>&1 &
  FAAS_ORCH_PID=$!
  pids+=("$FAAS_ORCH_PID")
  for _ in $(seq 200); do
    [ -s "$FAAS_WORK/orchestrator-stats.json" ] && return 0
    faas_alive "$FAAS_ORCH_PID" || break
    sleep 0.1
  done
  faas_fail "rcuda-orchestrator did not start: $(tail -n 5 "$FAAS_WORK/orchestrator.log")"
}
