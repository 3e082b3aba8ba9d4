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
head -c 32 /dev/urandom | base64 > "$T/node.key"
head -c 32 /dev/urandom | base64 > "$T/operator.key"
"$BIN/ssgmd" --config "$CONFIG/ssgmd.conf" --auth-key-file "$T/key" --client-key-file "$T/client.key" \
  --node-key-file "$T/node.key" --operator-key-file "$T/operator.key" --check-config > "$T/ssgmd-keys.out"
grep -q '^node-auth on' "$T/ssgmd-keys.out"
grep -q '^operators key from' "$T/ssgmd-keys.out"
grep -q '^max-revocations 1000000$' "$T/ssgmd-keys.out"
# One file for two keys is refused (the lease key's holders could make tokens).
if "$BIN/ssgmd" --config "$CONFIG/ssgmd.conf" --auth-key-file "$T/key" --client-key-file "$T/key" \
    --check-config 2> /dev/null; then
  echo "the lease key was accepted as the client key" >&2
  exit 1
fi
"$BIN/rcuda-gpu-monitor" --config "$CONFIG/rcuda-gpu-monitor.conf" --node-name deploy-check \
  --scheduler-key-file "$T/client.key" \
  --check-config | grep -q '^signed reports yes'
"$BIN/rcuda-gpu-monitor" --config "$CONFIG/rcuda-gpu-monitor.conf" --node-name deploy-check --check-config > "$T/monitor.out"
grep -q '^scheduler ssgmd.example.org:8309$' "$T/monitor.out"
grep -q '^revoked-leases-file /run/rcuda-monitor/revoked-leases$' "$T/monitor.out"
"$BIN/rcuda-gpu-monitor" --once --node-name check --inventory "$CONFIG/inventory.example" 2> /dev/null > "$T/report.json"
grep -q '"total":85899345920' "$T/report.json"
# A key shorter than 16 bytes is refused.
echo short > "$T/short"
if "$BIN/ssgmd" --config "$CONFIG/ssgmd.conf" --auth-key-file "$T/short" --check-config 2> /dev/null; then
  echo "a short key was accepted" >&2
  exit 1
fi
# The server's environment file defines RCUDA_SERVER_ARGS with the options the monitor relies on.
( . "$CONFIG/rcuda-server.conf"; case "$RCUDA_SERVER_ARGS" in
    *--auth-key-file*--node-name*--status-file*--revoked-leases-file\ /run/rcuda-monitor/revoked-leases*) ;;
    *) exit 1 ;; esac )
echo "deploy configs: ok"
