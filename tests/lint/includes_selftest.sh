#!/usr/bin/env bash
# lint.includes_selftest: includes.sh must refuse each kind of crossing
# include (a scratch tree with one of each, removed at the end) and accept
# the allowed ones.
set -euo pipefail
lint=$(cd "$(dirname "$0")" && pwd)/includes.sh
tree=$(mktemp -d "${TMPDIR:-/tmp}/rcuda-includes-selftest.XXXXXX")
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree"/{common,protocol,client,server,scheduler}
printf '#include "protocol/frame.h"\n#include "common/status.h"\n#include <vector>\n' > "$tree/client/ok.cc"
printf '#include "server/x.h"\n' > "$tree/client/a.cc"
printf '#include "client/y.h"\n' > "$tree/server/b.h"
printf '  #  include <client/z.h>\n' > "$tree/common/c.cc"
printf '#include "../server/w.h"\n' > "$tree/protocol/d.cc"
printf '#include "scheduler/v.h"\n' > "$tree/protocol/e.inc"
status=0
out=$("$lint" "$tree" 2>&1) || status=$?
[ "$status" -ne 0 ] || { echo "includes.sh accepted crossing includes: $out"; exit 1; }
for bad in client/a.cc server/b.h common/c.cc protocol/d.cc protocol/e.inc; do
  grep -q " $bad:1:" <<< "$out" || { echo "includes.sh missed $bad: $out"; exit 1; }
done
! grep -q "ok.cc" <<< "$out" || { echo "includes.sh refused an allowed include: $out"; exit 1; }
rm "$tree"/client/a.cc "$tree"/server/b.h "$tree"/common/c.cc "$tree"/protocol/d.cc "$tree"/protocol/e.inc
"$lint" "$tree" > /dev/null || { echo "includes.sh refused a clean tree"; exit 1; }
echo "lint.includes_selftest: each crossing include refused, the allowed ones accepted"
