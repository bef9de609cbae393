#!/usr/bin/env bash
# The classroom recipe of docs/classroom.md, as an instructor runs it, on a machine whose cores are
# both kept busy: two busy loops, then `tcplab server … --max-conns 40 --idle-timeout 10s --log` and
# `tcplab load -p PORT --server-pid PID --idle-timeout 10s` against it, RUNS times. A trickling
# non-reader (a byte a second, never reading) against the server's default buffers is run too:
# it must be freed within the limit (tests/fixtures/trickle_client.py, a 3 s limit). Prints one line
# per run and a tally. Loopback only; every
# process it starts is stopped by PID.
#
#   scripts/classroom-busy.sh            # 5 runs of the recipe, 3 trickles
#   RUNS=1 TRICKLES=0 scripts/classroom-busy.sh
#
# Needs: cargo (or TCPLAB=path), python3 (the trickling client). Takes about 15-25 s per run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
TRICKLES=${TRICKLES:-3}
IDLE=${IDLE:-10s}
root=$PWD
# shellcheck source=lib.sh
source scripts/lib.sh
tcplab=$(tcplab_bin)
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Two busy loops, bounded: they end by themselves after 30 minutes at the latest.
for _ in 1 2; do
    timeout 1800 sh -c 'while :; do :; done' &
    pids+=($!)
done

start_server() { # args: extra server flags; sets $server and $port
    "$tcplab" server 127.0.0.1 --port 0 --quiet "$@" >"$work/server.out" 2>&1 &
    server=$!
    pids+=("$server")
    for _ in $(seq 100); do
        port=$(sed -n 's/^listening on [^:]*:\([0-9]*\).*/\1/p' "$work/server.out" | head -1)
        [[ -n "$port" ]] && return
        sleep 0.1 # polling the server's first line, bounded
    done
    echo "the server did not announce its port" >&2
    exit 1
}

passed=0
for run in $(seq "$RUNS"); do
    start_server --max-conns 40 --idle-timeout "$IDLE" --log
    begin=$(date +%s.%N)
    if "$tcplab" load -p "$port" --server-pid "$server" --idle-timeout "$IDLE" --format json \
        >"$work/load.json" 2>/dev/null; then
        verdict=PASSED
        passed=$((passed + 1))
    else
        verdict=FAILED
    fi
    took=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$begin" "$(date +%s.%N)")
    python3 - "$work/load.json" "$run" "$verdict" "$took" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["rounds"][0]
print(f"run {sys.argv[2]}: {sys.argv[3]} in {sys.argv[4]} s: "
      f"{r['fixed_ok']}/{r['fixed_total']} fixed verified, "
      f"{r['deadlocking_ok']}/{r['deadlocking_total']} deadlocking freed in time, "
      f"longest stall to free {r['max_stall_to_free_ms']} ms")
EOF
    kill -INT "$server"
    wait "$server" 2>/dev/null || true
done
echo "recipe: $passed of $RUNS passed with both cores busy"

freed=0
for t in $(seq "$TRICKLES"); do
    start_server --idle-timeout 3s
    # A burst it never reads, then a byte a second, at the server's default buffers (at most 30 s).
    begin=$(date +%s.%N)
    if python3 tests/fixtures/trickle_client.py -p "$port" --limit 30 | tail -1 | tr '\n' ' ' &&
        python3 -c "import sys; print(f'({float(sys.argv[2]) - float(sys.argv[1]):.1f} s after the start)')" "$begin" "$(date +%s.%N)"
    then freed=$((freed + 1)); else echo "trickle not freed within 30 s"; fi
    kill -INT "$server"
    wait "$server" 2>/dev/null || true
done
echo "trickles: $freed of $TRICKLES freed at the default buffers"
