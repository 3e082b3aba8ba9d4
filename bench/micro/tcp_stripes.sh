#!/usr/bin/env bash
# Striped TCP (protocol/tcp_stripes.h) against its floors, on this machine,
# without a GPU: synchronous pinned H2D and D2H copies (bulk_copy) through
# rcuda over TCP with RCUDA_TCP_STREAMS = 1, 2, 4 against an rcuda-server
# with the TEST backend (test equipment: the "GPU" is host memory), next to
# raw loopback TCP with 1, 2 and 4 parallel streams (tcp_streams_baseline),
# all measured in this run, repetitions interleaved; prints medians and
# ratios.
#
#   bench/micro/tcp_stripes.sh <build-dir> [MiB per copy, default 64] [rounds, default 3]
set -u
build=$(cd "$1" && pwd)
mib=${2:-64}
rounds=${3:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for round in $(seq 1 "$rounds"); do
  for k in 1 2 4; do
    "$build/bin/tcp_streams_baseline" "$k" "$mib" 5 >>"$tmp/raw" || echo "raw K=$k failed" >&2
    RCUDA_TRANSPORT=tcp RCUDA_TCP_STREAMS=$k RCUDA_BUILD_DIR="$build" \
      "$root/tests/integration/run_remote.sh" "$build/bin/bulk_copy" "$mib" 5 2>/dev/null |
      sed "s/^METRIC \([a-z0-9]*\)/METRIC rcuda_\1_$k/" >>"$tmp/rcuda" || echo "rcuda K=$k failed" >&2
  done
done
python3 - "$tmp" "$mib" "$rounds" <<'PY'
import statistics, sys
d, mib, rounds = sys.argv[1], sys.argv[2], sys.argv[3]
values = {}
for name in ("raw", "rcuda"):
    for line in open(f"{d}/{name}"):
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "METRIC":
            values.setdefault(parts[1], []).append(float(parts[2]))
m = {k: statistics.median(v) for k, v in values.items()}
print(f"== striped TCP, {mib} MiB synchronous pinned copies, median of {rounds} interleaved rounds (GB/s)")
print("TEST backend: test equipment, no GPU; loopback only")
for k in (1, 2, 4):
    print(f"raw loopback TCP, {k} stream(s): {m.get(f'raw_tcp_{k}', float('nan')):.2f}")
print(f"{'K':>2} {'h2d':>7} {'d2h':>7} {'h2d/raw K':>10} {'d2h/raw K':>10} {'h2d/raw 1':>10} {'d2h/raw 1':>10}")
for k in (1, 2, 4):
    raw_k, raw_1 = m.get(f"raw_tcp_{k}", float("nan")), m.get("raw_tcp_1", float("nan"))
    h, dd = m.get(f"rcuda_h2d_{k}", float("nan")), m.get(f"rcuda_d2h_{k}", float("nan"))
    print(f"{k:>2} {h:7.2f} {dd:7.2f} {h / raw_k:10.2f} {dd / raw_k:10.2f} {h / raw_1:10.2f} {dd / raw_1:10.2f}")
PY
