#!/usr/bin/env bash
# Two "hosts" on one machine: two network namespaces joined by a veth pair (10.99.0.1 and
# 10.99.0.2), optionally with a delay on the link (tc netem). Runs `tcplab server` in one and
# `tcplab client` in the other: the naive client deadlocks across the link, reader-thread and poll
# complete, and the bytes sent before the stall do not depend on the delay while the time to reach
# the stall does. Everything is removed on exit (trap).
#
#   sudo scripts/two-hosts.sh                      # delays: none, 20ms, 100ms (if netem exists)
#   sudo DELAYS="0 50ms" BUF=16K scripts/two-hosts.sh
#   sudo SHAPE=tbf scripts/two-hosts.sh            # no netem? slow the link with tbf instead
#
# Needs: root (ip netns, ip link, tc), iproute2, jq, cargo. The namespaces, veth pair and
# addresses exist only while the script runs; nothing outside them is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

DELAYS=${DELAYS:-"0 20ms 100ms"}
BUF=${BUF:-64K}
BYTES=${BYTES:-2MiB}
SHAPE=${SHAPE:-netem}       # netem (delay) or tbf (rate limit; for kernels without sch_netem)
RATES=${RATES:-"0 8mbit 2mbit"}
NS_A=tcplab-a NS_B=tcplab-b
IP_A=10.99.0.1 IP_B=10.99.0.2
PORT=1060

[ "$(id -u)" = 0 ] || { echo "two-hosts.sh: needs root for ip netns; try: sudo $0" >&2; exit 2; }
command -v jq >/dev/null || { echo "two-hosts.sh: needs jq to read tcplab's JSON" >&2; exit 2; }
root=$PWD
# shellcheck source=lib.sh
source scripts/lib.sh
BIN=$(tcplab_bin)

SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  ip netns del "$NS_A" 2>/dev/null || true   # deleting a namespace deletes its end of the veth
  ip netns del "$NS_B" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add veth-tcplab-a netns "$NS_A" type veth peer name veth-tcplab-b netns "$NS_B"
ip -n "$NS_A" addr add "$IP_A/24" dev veth-tcplab-a
ip -n "$NS_B" addr add "$IP_B/24" dev veth-tcplab-b
for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
ip -n "$NS_A" link set veth-tcplab-a up
ip -n "$NS_B" link set veth-tcplab-b up

# Sets the link's shaping on both ends: a delay with netem (the round trip is twice it), or a rate.
shape() {
  local v=$1
  for end in "$NS_A veth-tcplab-a" "$NS_B veth-tcplab-b"; do
    set -- $end
    tc -n "$1" qdisc del dev "$2" root 2>/dev/null || true
    [ "$v" = 0 ] && continue
    if [ "$SHAPE" = netem ]; then
      tc -n "$1" qdisc add dev "$2" root netem delay "$v" limit 100000
    else
      tc -n "$1" qdisc add dev "$2" root tbf rate "$v" burst 32kbit latency 2s
    fi
  done
}

if [ "$SHAPE" = netem ] && ! tc -n "$NS_A" qdisc add dev veth-tcplab-a root netem delay 1ms 2>/dev/null; then
  echo "note: this kernel has no sch_netem (tc netem); shaping the link with tbf rate limits instead" >&2
  SHAPE=tbf
fi
tc -n "$NS_A" qdisc del dev veth-tcplab-a root 2>/dev/null || true
VALUES=$DELAYS; [ "$SHAPE" = tbf ] && VALUES=$RATES

ip netns exec "$NS_A" "$BIN" server "$IP_A" -p "$PORT" --sndbuf "$BUF" --rcvbuf "$BUF" \
  --idle-timeout 30s --quiet > /tmp/tcplab-two-hosts-server.$$ &
SERVER_PID=$!
for _ in $(seq 50); do grep -q '^listening' /tmp/tcplab-two-hosts-server.$$ 2>/dev/null && break; sleep 0.1; done
rm -f /tmp/tcplab-two-hosts-server.$$

client() { # strategy → one JSON document
  ip netns exec "$NS_B" "$BIN" client "$IP_A" -p "$PORT" --strategy "$1" --bytes "$BYTES" \
    --sndbuf "$BUF" --rcvbuf "$BUF" --stall-after 5s --timeout 120s --json || true
}

printf '%-8s %-14s %-10s %16s %18s\n' "$SHAPE" strategy outcome "sent at stall" "time to stall (ms)"
for v in $VALUES; do
  shape "$v"
  for s in naive reader-thread poll; do
    client "$s" | jq -r --arg v "$v" --arg s "$s" '
      [$v, $s, .outcome,
       (if .outcome == "deadlock" then (.counts.client_sent_bytes|tostring) else "-" end),
       (if .outcome == "deadlock" then (.stall.last_progress_ms|tostring)
        else "done in \(.timings.elapsed_ms)" end)]
      | @tsv' | awk -F'\t' '{printf "%-8s %-14s %-10s %16s %18s\n", $1, $2, $3, $4, $5}'
  done
done
