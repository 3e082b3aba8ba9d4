#!/usr/bin/env bash
# A client killed with SIGKILL in the middle of a large copy: its worker ends
# and the GPU memory its session held returns.
set -u
B=$RCUDA_BUILD_DIR
used() { nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1; }
sleep 1
before=$(used)
"$B/bin/rcuda-run" -- "$B/tests/cuda/large_transfer" > /dev/null 2>&1 &
client=$!
# Wait until the session holds memory, then kill the client mid-transfer.
for _ in $(seq 50); do
  [ "$(used)" -gt $((before + 200)) ] && break
  sleep 0.1
done
during=$(used)
kill -9 $client
wait $client 2>/dev/null
for _ in $(seq 100); do
  [ "$(used)" -le $((before + 64)) ] && break
  sleep 0.1
done
after=$(used)
echo "GPU memory used (MiB): before $before, during $during, after kill $after"
[ "$during" -gt $((before + 200)) ] || { echo "FAIL: the session never held memory"; exit 1; }
# The daemon starts a replacement warm worker, whose context is part of the
# baseline again; anything beyond would be the dead session's memory.
[ "$after" -le $((before + 64)) ] || { echo "FAIL: memory not returned"; exit 1; }
echo "PASS kill_mid_copy"
