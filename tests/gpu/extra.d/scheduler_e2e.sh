#!/usr/bin/env bash
# ssgm request -> a CUDA program through rcuda on the granted real GPU, held to
# its memory partition -> ssgm release (the scheduler's end-to-end test).
set -eu
RCUDA_E2E_BACKEND=cuda bash "$(dirname "$0")/../../scheduler/e2e_rcuda.sh" "$RCUDA_BUILD_DIR"
