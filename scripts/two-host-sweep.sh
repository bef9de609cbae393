#!/usr/bin/env bash
# The buffer sweep across two hosts, run from the client's side. `tcplab sweep` needs both peers in
# one process to see all four sockets; across hosts the server runs on its own host with fixed
# buffers and this script loops `tcplab client --json` over the client's SO_SNDBUF × SO_RCVBUF grid,
# collecting the client-side results into one CSV (and keeping each run's JSON).
#
# Usage:
#   on host A:  tcplab server 0.0.0.0 -p 1060 --sndbuf 64K --rcvbuf 64K
#   on host B:  SERVER_SNDBUF=64K SERVER_RCVBUF=64K scripts/two-host-sweep.sh HOST_A [PORT]
#   here, alone: scripts/two-host-sweep.sh --local     (starts a server on 127.0.0.1 itself, stops it after)
#
# Settings (environment variables, defaults in brackets):
#   SNDBUFS [4K 16K 64K 256K]   client SO_SNDBUF values      RCVBUFS [4K 64K]  client SO_RCVBUF values
#   REPEAT [1]  runs per point   STRATEGY [naive]   BYTES [32MiB] per run   TIMEOUT [30s] per run
#   SERVER_SNDBUF / SERVER_RCVBUF [64K]: what the server was started with (recorded in the CSV;
#     with --local, also what the local server is started with)
#   OUT [out/two-host-sweep]   TCPLAB [the release build of this checkout, built if needed]
# Needs: tcplab on both hosts, python3 on this one (to turn the JSON into CSV rows).
# Bounded: at most 200 runs, each ended by --timeout; the whole loop stops after 30 minutes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SNDBUFS="${SNDBUFS:-4K 16K 64K 256K}"
RCVBUFS="${RCVBUFS:-4K 64K}"
REPEAT="${REPEAT:-1}"
STRATEGY="${STRATEGY:-naive}"
BYTES="${BYTES:-32MiB}"
TIMEOUT="${TIMEOUT:-30s}"
SERVER_SNDBUF="${SERVER_SNDBUF:-64K}"
SERVER_RCVBUF="${SERVER_RCVBUF:-64K}"
OUT="${OUT:-$root/out/two-host-sweep}"
MAX_RUNS=200
DEADLINE_S=1800

die() { echo "two-host-sweep: $*" >&2; exit 2; }
command -v python3 >/dev/null || die "python3 is needed to turn each run's JSON into a CSV row"

if [[ -z "${TCPLAB:-}" ]]; then
    # shellcheck source=lib.sh
    source "$root/scripts/lib.sh"
    TCPLAB=$(tcplab_bin)
fi

server_pid=""
cleanup() { if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

mkdir -p "$OUT/runs"
if [[ "${1:-}" == "--local" ]]; then
    host=127.0.0.1
    # --port 0: the kernel picks a free port; the first stdout line announces it.
    "$TCPLAB" server 127.0.0.1 -p 0 --sndbuf "$SERVER_SNDBUF" --rcvbuf "$SERVER_RCVBUF" -q \
        > "$OUT/server.log" 2>&1 &
    server_pid=$!
    port=""
    for _ in $(seq 100); do
        port="$(sed -n '1s/^listening on .*:\([0-9]*\)$/\1/p' "$OUT/server.log" 2>/dev/null || true)"
        [[ -n "$port" ]] && break
        kill -0 "$server_pid" 2>/dev/null || die "the local server exited: $(head -c 300 "$OUT/server.log")"
        sleep 0.05
    done
    [[ -n "$port" ]] || die "the local server did not announce its port within 5 s"
else
    host="${1:?usage: scripts/two-host-sweep.sh HOST [PORT] | --local}"
    port="${2:-1060}"
fi

read -r -a snds <<< "$SNDBUFS"
read -r -a rcvs <<< "$RCVBUFS"
total=$(( ${#snds[@]} * ${#rcvs[@]} * REPEAT ))
(( total <= MAX_RUNS )) || die "$total runs asked for (SNDBUFS × RCVBUFS × REPEAT); at most $MAX_RUNS"

csv="$OUT/points.csv"
echo "host,port,server_sndbuf_requested,server_rcvbuf_requested,client_sndbuf_requested_bytes,client_sndbuf_effective_bytes,client_rcvbuf_requested_bytes,client_rcvbuf_effective_bytes,run,strategy,outcome,client_sent_bytes,client_received_bytes,stall_ms,elapsed_ms,exit_code,predicted_capacity_bytes,measured_over_predicted" > "$csv"

# The server's two buffers are not visible from here: the prediction (the sum of the four effective
# sizes, docs/sweep.md) assumes a Linux server that kept twice what it was asked for. It is left
# empty when the server's sizes are 'auto'.
to_row() {  # JSON file, server sndbuf and rcvbuf in bytes (or empty), then the CSV's leading fields
    python3 - "$@" <<'PY'
import json, sys
path, srv_snd, srv_rcv, *lead = sys.argv[1:]
d = json.load(open(path))
b = d["buffers"][0]
stall = d.get("stall") or {}
snd, rcv = b["sndbuf"]["effective_bytes"], b["rcvbuf"]["effective_bytes"]
sent = d["counts"]["client_sent_bytes"]
pred = snd + rcv + 2 * (int(srv_snd) + int(srv_rcv)) if srv_snd and srv_rcv else ""
ratio = "%.3f" % (sent / pred) if pred and d["outcome"] == "deadlock" else ""
cells = lead[:5] + [snd, lead[5], rcv] + lead[6:8] + [
    d["outcome"], sent, d["counts"]["client_received_bytes"],
    stall.get("verdict_ms", ""), d["timings"]["elapsed_ms"], lead[8], pred, ratio]
print(",".join(str(c) for c in cells))
PY
}

bytes_of() { python3 -c '
import re,sys
m=re.fullmatch(r"(\d+)\s*([KMG]?)(i?B)?", sys.argv[1], re.I)
print(int(m.group(1)) << {"":0,"K":10,"M":20,"G":30}[m.group(2).upper()]) if m else print("")' "$1"; }

start=$SECONDS
n=0
for snd in "${snds[@]}"; do
    for rcv in "${rcvs[@]}"; do
        for run in $(seq "$REPEAT"); do
            (( SECONDS - start < DEADLINE_S )) || die "stopped after ${DEADLINE_S} s; $n of $total runs are in $csv"
            n=$((n + 1))
            json="$OUT/runs/snd-$snd-rcv-$rcv-$run.json"
            code=0
            "$TCPLAB" client "$host" -p "$port" --json --strategy "$STRATEGY" --bytes "$BYTES" \
                --sndbuf "$snd" --rcvbuf "$rcv" --timeout "$TIMEOUT" > "$json" || code=$?
            if [[ ! -s "$json" ]]; then
                echo "run $n/$total (sndbuf $snd, rcvbuf $rcv): tcplab client printed no result (exit $code)" >&2
                continue
            fi
            to_row "$json" "$(bytes_of "$SERVER_SNDBUF")" "$(bytes_of "$SERVER_RCVBUF")" "$host" "$port" "$SERVER_SNDBUF" "$SERVER_RCVBUF" \
                "$(bytes_of "$snd")" "$(bytes_of "$rcv")" "$run" "$STRATEGY" "$code" >> "$csv"
            echo "run $n/$total: client sndbuf $snd rcvbuf $rcv -> $(tail -1 "$csv" | cut -d, -f11,12 | tr , ' ') bytes sent, $(tail -1 "$csv" | cut -d, -f18) of the prediction" >&2
        done
    done
done

echo "$n runs against $host:$port; rows in $csv, each run's JSON in $OUT/runs/"
