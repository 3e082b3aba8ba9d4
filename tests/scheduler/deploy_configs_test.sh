#!/usr/bin/env bash
# The example configuration files in deploy/config are valid: each daemon
# accepts its file (--check-config), and the example inventory parses.
#   deploy_configs_test.sh BIN_DIR SOURCE_DIR
set -eu
BIN=$1
CONFIG=$2/deploy/config
T=$(mktemp -d /tmp/deploy_configs.XXXXXX)
trap 'rm -rf "$T"' EXIT
head -c 32 /dev/urandom | base64 > "$T/key"
"$BIN/ssgmd" --config "$CONFIG/ssgmd.conf" --auth-key-file "$T/key" --check-config > "$T/ssgmd.out"
grep -q '^policy best-fit$' "$T/ssgmd.out"
grep -q '^tokens on' "$T/ssgmd.out"
grep -q '^client-auth off' "$T/ssgmd.out"
head -c 32 /dev/urandom | base64 > "$T/client.key"
"$BIN/ssgmd" --config "$CONFIG/ssgmd.conf" --auth-key-file "$T/key" --client-key-file "$T/client.key" \
  --check-config | grep -q '^client-auth on'
"$BIN/rcuda-gpu-monitor" --config "$CONFIG/rcuda-gpu-monitor.conf" --scheduler-key-file "$T/client.key" \
  --check-config | grep -q '^signed reports yes'
"$BIN/rcuda-gpu-monitor" --config "$CONFIG/rcuda-gpu-monitor.conf" --check-config > "$T/monitor.out"
grep -q '^scheduler ssgmd.example.org:8309$' "$T/monitor.out"
"$BIN/rcuda-gpu-monitor" --once --node-name check --inventory "$CONFIG/inventory.example" 2> /dev/null > "$T/report.json"
grep -q '"total":85899345920' "$T/report.json"
# A key shorter than 16 bytes is refused.
echo short > "$T/short"
if "$BIN/ssgmd" --config "$CONFIG/ssgmd.conf" --auth-key-file "$T/short" --check-config 2> /dev/null; then
  echo "a short key was accepted" >&2
  exit 1
fi
# The server's environment file defines RCUDA_SERVER_ARGS with the options the monitor relies on.
( . "$CONFIG/rcuda-server.conf"; case "$RCUDA_SERVER_ARGS" in *--auth-key-file*--node-name*--status-file*) ;; *) exit 1 ;; esac )
echo "deploy configs: ok"
