# The serverless chain of scripts/demo.sh (sourced after pipeline.sh, with
# rcuda-server and the scheduler running and gpu_blastp's database made in
# $work/blast): demo_faas_chain starts the rest of the pipeline, deploys the
# gpu_blastp function (examples/faas/gpu_blastp.yaml), uploads the query
# files, shows the queue and each result as it appears, and then that
# every lease was released. Returns 0 when every query has its result.
#
# S3: s3rver (TEST EQUIPMENT) on 127.0.0.1, its upload events forwarded to
# rcuda-faas-events; or, when the environment names an S3 service
# (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, RCUDA_S3_CONFIG or
# AWS_ACCESS_KEY_ID), that one, with rcuda-faas-watcher listing the input
# bucket for new uploads. Its buckets must exist: RCUDA_DEMO_INPUT_BUCKET
# (default rcuda-queries) and RCUDA_DEMO_OUTPUT_BUCKET (rcuda-results).

demo_faas_chain() {
  local in_bucket=${RCUDA_DEMO_INPUT_BUCKET:-rcuda-queries} out_bucket=${RCUDA_DEMO_OUTPUT_BUCKET:-rcuda-results}
  local own_s3=0 run_tag= folder=queries
  if [ -n "${AWS_ENDPOINT_URL:-}${AWS_ENDPOINT_URL_S3:-}${RCUDA_S3_CONFIG:-}${AWS_ACCESS_KEY_ID:-}" ]; then
    own_s3=1
    # A folder and names of this run's own, so that earlier runs' objects
    # in the user's buckets are neither processed again nor taken for results.
    run_tag=$(date +%Y%m%d%H%M%S)-$$
    folder=queries/$run_tag
  fi
  say "The serverless chain (docs/faas.md): upload -> S3 event -> queue -> rcuda-orchestrator <-> ssgmd -> rcuda-fn -> rcuda-run -> rcuda-server"
  faas_start_redis || return 1
  echo "redis-server on $FAAS_REDIS (the queue: a Redis stream)"
  if [ $own_s3 = 0 ]; then
    FAAS_FORWARD_BUCKETS=$in_bucket
    faas_start_bridge || return 1
    faas_start_s3rver "$in_bucket" "$out_bucket" || return 1
    echo "s3rver on $FAAS_S3_ENDPOINT (TEST EQUIPMENT: npm's small S3 server), buckets $in_bucket and $out_bucket;"
    echo "  its upload events go to rcuda-faas-events on $FAAS_BRIDGE_URL, which puts them on the queue"
  else
    local endpoint=${AWS_ENDPOINT_URL_S3:-${AWS_ENDPOINT_URL:-AWS S3 or the endpoint of RCUDA_S3_CONFIG}}
    echo "S3: $endpoint, buckets $in_bucket and $out_bucket (they must exist)"
    "$FAAS_BIN/rcuda-faas-watcher" --bucket "$in_bucket" --prefix "$folder/" --interval-ms 500 --redis "$FAAS_REDIS" \
      >"$work/watcher.log" 2>&1 &
    pids+=($!)
    echo "  rcuda-faas-watcher lists s3://$in_bucket/$folder/ every 0.5 s and queues new uploads"
  fi

  # The function's programs and database, where its user (and sandbox) may read them.
  local tools=$work/fn-tools
  faas_install_tools "$tools" "$build/bin/gpu_blastp" "$work/blast/db.gbdb"
  mkdir -p "$work/functions" "$work/fn-functions" "$work/definition"
  cp "$root/examples/faas/gpu_blastp.sh" "$work/definition/"
  sed -e "s|GPU_BLASTP_DIR: .*|GPU_BLASTP_DIR: $tools|" \
      -e "s|path: rcuda-queries/queries|path: $in_bucket/$folder|" -e "s|path: rcuda-results/hits|path: $out_bucket/hits|" \
      "$root/examples/faas/gpu_blastp.yaml" >"$work/definition/gpu_blastp.yaml"
  FAAS_FN_CONCURRENCY=8 faas_start_fn "$work/fn-functions" "$tools" || return 1
  echo "rcuda-fn on $RCUDA_FN_URL: $(grep -o 'functions run [^(]*' "$work/rcuda-fn.log" | head -1)"
  local faas=("$FAAS_BIN/rcuda-faas" --fn "$RCUDA_FN_URL" --admin-key-file "$work/fn-admin.key" --redis "$FAAS_REDIS")

  say "Deploying the gpu_blastp function: rcuda-faas deploy examples/faas/gpu_blastp.yaml (GPU_BLASTP_DIR=$tools)"
  "${faas[@]}" deploy "$work/definition/gpu_blastp.yaml" --orchestrator-dir "$work/functions" || return 1
  faas_start_orchestrator "$work/functions" --job-log "$work/jobs.jsonl" --stats-interval 200ms || return 1
  echo "rcuda-orchestrator: 1 GPU share of 4 GiB per invocation, from ssgmd at $SSGM_SERVER (4 at once on the 16 GiB GPU)"

  local queries=() q name
  for q in "$work"/blast/q[0-9]*.fa; do
    name=$(basename "$q" .fa)
    if [ -n "$run_tag" ]; then
      cp "$q" "$work/blast/$name-$run_tag.fa"
      queries+=("$work/blast/$name-$run_tag.fa")
    else
      queries+=("$q")
    fi
  done
  say "Uploading ${#queries[@]} query files: rcuda-faas upload q*.fa --function gpu-blastp"
  "${faas[@]}" upload "${queries[@]}" --function gpu-blastp | sed 's/^/uploaded /' || return 1

  say "Waiting for the results in s3://$out_bucket/hits/ (queue, invocations, results as they come)"
  local start=$SECONDS seen=" " done=0 line
  while [ $done -lt ${#queries[@]} ] && [ $((SECONDS - start)) -lt 180 ]; do
    local progress results stats
    # The three views close together: the orchestrator's, the queue's and rcuda-fn's, then the bucket's.
    stats=$(cat "$FAAS_WORK/orchestrator-stats.json" 2>/dev/null || true)
    progress=$("${faas[@]}" progress 2>&1) || true
    results=$("${faas[@]}" results "s3://$out_bucket/hits/" 2>/dev/null) || true
    for q in "${queries[@]}"; do
      name=$(basename "$q" .fa)
      line=$(grep "s3://$out_bucket/hits/$name.tsv\$" <<<"$results" || true)
      if [ -n "$line" ] && [[ "$seen" != *" $name "* ]]; then
        seen="$seen$name "
        done=$((done + 1))
        echo "  result: s3://$out_bucket/hits/$name.tsv ($(awk '{print $1}' <<<"$line") bytes)"
      fi
    done
    printf '  [%3d s] queue: %s | GPU leases: %s held, %s awaited | rcuda-fn: %s | results: %d/%d\n' \
      $((SECONDS - start)) \
      "$(sed -n 's/^queue .*: \([0-9]*\) waiting, \([0-9]*\) in flight.*, \([0-9]*\) dead letters$/\1 waiting, \2 taken, \3 dead/p' <<<"$progress")" \
      "$(grep -o '"leases_held":[0-9]*' <<<"$stats" | cut -d: -f2)" "$(grep -o '"waiting_for_lease":[0-9]*' <<<"$stats" | cut -d: -f2)" \
      "$(sed -n 's/^rcuda-fn .*: \([0-9]*\) running.*; \([0-9]*\) succeeded.*/\1 running, \2 done/p' <<<"$progress")" \
      $done ${#queries[@]}
    [ $done -lt ${#queries[@]} ] && sleep 1
  done
  if [ $done -lt ${#queries[@]} ]; then
    echo "demo: only $done of ${#queries[@]} results after 180 s"
    "${faas[@]}" dead-letters || true
    return 1
  fi
  name=$(basename "${queries[0]}" .fa)
  say "A result: s3://$out_bucket/hits/$name.tsv (query, subject, % identity, length, ..., E-value, bit score)"
  if [ $own_s3 = 0 ]; then
    curl -fsS "$FAAS_S3_ENDPOINT/$out_bucket/hits/$name.tsv" | head -n 5
  else
    echo "(in your S3 service: read it with your S3 client)"
  fi

  say "Stopping rcuda-orchestrator (SIGTERM: it drains) and checking that every lease was released: ssgm status"
  faas_stop "$FAAS_ORCH_PID"
  "$FAAS_BIN/ssgm" status
  local leases
  leases=$("$FAAS_BIN/ssgm" --format json status --no-leases | grep -o '"lease_count":[0-9]*' | cut -d: -f2)
  local succeeded
  succeeded=$(grep -c '"outcome":"succeeded"' "$work/jobs.jsonl" || true)
  echo "the orchestrator's job log: $succeeded jobs succeeded; ssgmd holds $leases lease(s)"
  [ "$leases" = 0 ] || { echo "demo: $leases lease(s) left"; return 1; }
  [ -z "$("${faas[@]}" dead-letters 2>/dev/null | grep -v '^0 dead letter')" ] || { "${faas[@]}" dead-letters; return 1; }
  echo "serverless chain: ${#queries[@]} queries, ${#queries[@]} results, no lease left: PASSED"
}
