#!/usr/bin/env bash
# rcuda-gpu-monitor reads the real GPU through NVML.
set -eu
B=$RCUDA_BUILD_DIR
report=$("$B/bin/rcuda-gpu-monitor" --once --node-name gpu-check)
echo "$report"
echo "$report" | grep -q '"source": *"nvml"' || { echo "FAIL: the report does not come from NVML"; exit 1; }
RCUDA_SCHED_BIN_DIR=$B/bin "$B/bin/scheduler_integration_tests" "[nvml]"
