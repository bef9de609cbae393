#!/usr/bin/env bash
# Full-size classroom load test: 200 clients at once against one tcplab server, half of them
# deadlocking (they send without reading and hold the socket until the server frees them), three
# rounds against the same server to tell settling memory from a leak. Loopback only.
#
#   scripts/load.sh                 # defaults below
#   CLIENTS=100 ROUNDS=1 scripts/load.sh --json
#
# Needs: cargo; Linux (/proc for the server's memory and threads). Takes about 10-30 s per round
# on 2 cores. Exit code 0 when every client ended as it should and the server returned to baseline.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS=${CLIENTS:-200}
DEADLOCKING=${DEADLOCKING:-0.5}
ROUNDS=${ROUNDS:-3}
BUF=${BUF:-64K}
BYTES=${BYTES:-1MiB}
IDLE=${IDLE:-2s}

root=$PWD
# shellcheck source=lib.sh
source scripts/lib.sh
tcplab=$(tcplab_bin)
# 200 clients need about 600 file descriptors here (clients, their threads' sockets, the server's).
ulimit -n 4096 2>/dev/null || true
exec "$tcplab" load \
  --clients "$CLIENTS" --deadlocking "$DEADLOCKING" --rounds "$ROUNDS" \
  --sndbuf "$BUF" --rcvbuf "$BUF" --bytes "$BYTES" --idle-timeout "$IDLE" "$@"
