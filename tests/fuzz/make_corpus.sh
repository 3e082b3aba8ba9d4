#!/usr/bin/env bash
# Makes the seeds of tests/fuzz/corpus/<target>/ from real data (run by hand
# when the formats change; CI uses the committed files):
#
#   BUILD_DIR=build tests/fuzz/make_corpus.sh
#
# - fatbin, cubin, ptx: what nvcc 13 makes of the unit tests' and the CUDA
#   test programs' sources (every compression mode: none, LZ4, ZSTD);
# - frame: the frames of CUDA test programs run through rcuda (TCP, test
#   backend, a server that requires lease tokens), both directions and the
#   host channel, recorded by tools/record_proxy.py;
# - ssgmd_request, lease_token, journal: an ssgmd (with and without a client
#   key) fed by a monitor and by ssgm requests, renewals and releases,
#   recorded the same way; the tokens ssgm printed; ssgmd's journal.
# Replaces the files named seed-* and keeps regression-* (the inputs of bugs
# found). Needs the main build (the tools, the test programs) and nvcc.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${BUILD_DIR:-$root/build}" && pwd)
nvcc=${CUDA_HOME:-/usr/local/cuda}/bin/nvcc
corpus=$root/tests/fuzz/corpus
tools=$root/tests/fuzz/tools
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

start() {  # start <pid-var-free command...>: background, remembered for cleanup
  "$@" &
  pids+=($!)
}
wait_file() {
  for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.05; done
  echo "make_corpus: $1 never appeared" >&2
  exit 1
}
fresh() {
  mkdir -p "$corpus/$1"
  find "$corpus/$1" -name 'seed-*' -delete
}

# ---- fatbin, cubin, ptx: nvcc output --------------------------------------
for t in fatbin cubin ptx; do fresh $t; done
for f in "$build"/tests/unit/data/*.fatbin; do cp "$f" "$corpus/fatbin/seed-$(basename "$f" .fatbin)"; done
sm90=(-gencode arch=compute_90,code=sm_90)
for src in tests/unit/data/kernels.cu tests/unit/data/arch_select.cu tests/cuda/symbols.cu tests/cuda/many_params.cu \
           tests/cuda/templates.cu tests/cuda/struct_by_value.cu tests/cuda/launch_ex.cu tests/cuda/dynamic_shared.cu; do
  name=$(basename "$src" .cu)
  inc=(-I "$root/tests/cuda" -I "$root/tests/unit/data")
  "$nvcc" "${inc[@]}" -std=c++17 -cubin -arch=sm_90 -o "$corpus/cubin/seed-$name" "$root/$src"
  "$nvcc" "${inc[@]}" -std=c++17 -ptx -arch=compute_90 -o "$corpus/ptx/seed-$name" "$root/$src"
done
"$nvcc" -I "$root/tests/cuda" -std=c++17 -fatbin "${sm90[@]}" --compress-mode=size -Xfatbin=-compress-all \
  -o "$corpus/fatbin/seed-symbols_zstd_all" "$root/tests/cuda/symbols.cu"
"$nvcc" -I "$root/tests/cuda" -std=c++17 -fatbin "${sm90[@]}" -gencode arch=compute_90,code=compute_90 \
  --compress-mode=speed -Xfatbin=-compress-all -o "$corpus/fatbin/seed-many_params_lz4_all" "$root/tests/cuda/many_params.cu"

# ---- frame: real sessions -------------------------------------------------
fresh frame
head -c 32 /dev/urandom | base64 > "$work/lease.key"
head -c 32 /dev/urandom | base64 > "$work/client.key"
start "$build/bin/rcuda-server" --backend test --test-kernels "$build/lib/librcuda_test_kernels.so" \
  --listen 127.0.0.1 --port 0 --port-file "$work/server.port" --auth-key-file "$work/lease.key" \
  --node-name node1 --no-shared-memory --log-level error
wait_file "$work/server.port"
start python3 "$tools/record_proxy.py" "$(cat "$work/server.port")" "$work/proxy.port" "$work/frames"
wait_file "$work/proxy.port"

# An ssgmd with a client key and the server's lease key, a monitor, and ssgm:
# its lines are recorded too, and it grants the programs' tokens.
start "$build/bin/ssgmd" --listen 127.0.0.1 --port 0 --port-file "$work/ssgmd.port" --journal "$work/ssgmd.journal" \
  --journal-sync none --auth-key-file "$work/lease.key" --client-key-file "$work/client.key" --log-level error
wait_file "$work/ssgmd.port"
start python3 "$tools/record_proxy.py" "$(cat "$work/ssgmd.port")" "$work/ssgmd_proxy.port" "$work/lines"
wait_file "$work/ssgmd_proxy.port"
sched=127.0.0.1:$(cat "$work/ssgmd_proxy.port")
start "$build/bin/rcuda-gpu-monitor" --scheduler "$sched" --scheduler-key-file "$work/client.key" --node-name node1 \
  --advertise-host 127.0.0.1 --server-port "$(cat "$work/server.port")" \
  --inventory "$root/deploy/config/inventory.example" --interval 200ms --log-level error
ssgm=("$build/bin/ssgm" --server "$sched" --auth-key-file "$work/client.key" --retry-for 10s)
: > "$work/tokens"
for _ in $(seq 1 100); do "${ssgm[@]}" status --no-leases | grep -q node1 && break; sleep 0.1; done
for program in vector_add streams events memcpy_3d memset_async mempool host_func graph_explicit stream_capture \
               symbols launch_ex error_cases occupancy func_attributes many_params device_query; do
  line=$("${ssgm[@]}" request --gpus 1 --mem 1G --ttl 60s)
  token=$(tr ';' '\n' <<<"$line" | sed -n 's/^RCUDA_TOKEN=//p')
  lease=$(tr ';' '\n' <<<"$line" | sed -n 's/^SSGM_JOB_ID=//p')
  echo "$token" >> "$work/tokens"
  RCUDA_TOKEN=$token RCUDA_TRANSPORT=tcp RCUDA_DEVICE_COUNT=1 RCUDA_DEVICE_0="127.0.0.1@$(cat "$work/proxy.port")" \
    "$build/bin/rcuda-run" -- "$build/tests/cuda/$program" > /dev/null 2>&1 ||
    echo "make_corpus: $program failed under a lease (its frames are kept)" >&2
  "${ssgm[@]}" renew "$lease" --ttl 120s > /dev/null
  "${ssgm[@]}" release "$lease" > /dev/null
done
"${ssgm[@]}" request --gpus 2 --mem 512M --key fuzz-seed-key --format json > /dev/null
"${ssgm[@]}" request --gpus 2 --mem 512M --key fuzz-seed-key --format json > /dev/null
"${ssgm[@]}" request --gpus 1 --mem 200G > /dev/null || true  # impossible: refused
"${ssgm[@]}" status > /dev/null
python3 "$tools/frames_to_seeds.py" "$corpus/frame" "$work"/frames/*.c2s "$work"/frames/*.s2c
for f in "$corpus"/frame/*-*; do case $(basename "$f") in seed-*|regression-*) ;; *) mv "$f" "$corpus/frame/seed-$(basename "$f")" ;; esac; done

# ---- lease_token, ssgmd_request, journal ---------------------------------
fresh lease_token
fresh ssgmd_request
fresh journal
# Tokens as ssgm printed them, and their payloads (the target also signs its
# input as a payload).
sort -u "$work/tokens" | head -3 | while read -r t; do
  printf '%s' "$t" > "$corpus/lease_token/seed-$(sha1sum <<<"$t" | cut -c1-12)"
  python3 -c 'import base64,sys; p=sys.argv[1].split(".")[1]; sys.stdout.buffer.write(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))' \
    "$t" > "$corpus/lease_token/seed-payload-$(sha1sum <<<"$t" | cut -c1-12)"
done
# One seed per recorded connection (the monitor's first reports; each ssgm command).
for f in "$work"/lines/*.c2s; do
  [ -s "$f" ] || continue
  head -c 4096 "$f" > "$work/seed"
  cp "$work/seed" "$corpus/ssgmd_request/seed-$(sha1sum < "$work/seed" | cut -c1-12)"
done
cp "$work/ssgmd.journal" "$corpus/journal/seed-ssgmd.journal"
head -n 12 "$work/ssgmd.journal" > "$corpus/journal/seed-ssgmd-head.journal"
# A torn tail, as a crash leaves one.
{ head -n 6 "$work/ssgmd.journal"; sed -n 7p "$work/ssgmd.journal" | head -c 20; } > "$corpus/journal/seed-torn-tail.journal"
for t in fatbin cubin ptx frame lease_token ssgmd_request journal; do
  echo "make_corpus: $t: $(ls "$corpus/$t" | wc -l) files, $(du -sk "$corpus/$t" | cut -f1) KiB"
done
