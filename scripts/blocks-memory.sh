#!/usr/bin/env bash
# The blocks server's memory against a length prefix that promises more than arrives: for each case
# it starts `tcplab blocks server -p 0`, a Python client announces a block and sends part of it (or
# none), and the server's VmRSS and VmHWM (its peak) are read from /proc before the client connects
# and after it has sent what it sends. A complete 16 MiB block is the control: its memory must show.
#
# Usage: scripts/blocks-memory.sh
# Needs: cargo (Rust toolchain), python3, Linux (/proc). Takes about 20 s after the build. $TCPLAB,
# when set, names the binary to use instead of building this checkout. Every wait is bounded, and
# the servers it started are stopped by their PID when it ends.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=lib.sh
source "$root/scripts/lib.sh"
tcplab=$(tcplab_bin)
work=$(mktemp -d)
server=""

cleanup() {
    if [[ -n "$server" ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The client: connects, sends the 4-byte big-endian length and then the body as told, and prints
# the server's memory before and after. It keeps the connection open while it reads /proc, so the
# server is still waiting for the rest of the block; closing then cuts the block short.
cat >"$work/client.py" <<'EOF'
import socket, struct, sys, time

pid, port, announce, body, seconds, complete = sys.argv[1:]
announce, body, seconds = int(announce), int(body), float(seconds)

def mem():
    with open(f"/proc/{pid}/status") as f:
        kv = dict(line.split(":", 1) for line in f)
    return {k: int(kv[k].split()[0]) for k in ("VmRSS", "VmHWM")}

before = mem()
s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
s.sendall(struct.pack("!I", announce))
steps = 20 if seconds > 0 and body > 0 else 1
for i in range(steps):
    s.sendall(b"x" * (body * (i + 1) // steps - body * i // steps))
    time.sleep(seconds / steps)
time.sleep(1)  # let the server read what arrived
after = mem()
print(f"before: VmRSS {before['VmRSS']} kB, VmHWM {before['VmHWM']} kB; "
      f"after: VmRSS {after['VmRSS']} kB, VmHWM {after['VmHWM']} kB")
if complete == "yes":
    s.sendall(struct.pack("!I", 0))
s.close()
EOF

# One case: --max-frame, the announced length, body bytes sent, over how many seconds, and
# whether the block (and the end block) is completed.
case_() {
    local title=$1 max_frame=$2 announce=$3 body=$4 seconds=$5 complete=$6
    echo "$title"
    echo "  tcplab blocks server -p 0 --max-frame $max_frame; client: announce $announce B, send $body B over ${seconds} s"
    "$tcplab" blocks server -p 0 --max-frame "$max_frame" >"$work/out" 2>"$work/err" &
    server=$!
    local port="" i
    for i in $(seq 100); do
        port=$(sed -n 's/^Listening at .*:\([0-9]*\)$/\1/p' "$work/out")
        [[ -n "$port" ]] && break
        sleep 0.1
    done
    if [[ -z "$port" ]]; then
        echo "  the server announced no port within 10 s: $(cat "$work/err")" >&2
        exit 1
    fi
    printf '  '
    timeout 60 python3 "$work/client.py" "$server" "$port" "$announce" "$body" "$seconds" "$complete"
    local code=0
    for i in $(seq 100); do
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    kill "$server" 2>/dev/null || true
    wait "$server" || code=$?
    server=""
    echo "  server exit code $code: $(tail -n 1 "$work/err" 2>/dev/null || true)"
}

gib=$((1 << 30))
case_ "A slow 200 KB body of an announced 1 GiB block" 4294967295 "$gib" 200000 2 no
case_ "14 bytes: a header announcing 1 GiB and 10 body bytes" 4294967295 "$gib" 10 3 no
case_ "The same 14 bytes at --max-frame 1G" 1G "$gib" 10 3 no
case_ "A header announcing 1 GiB and nothing more" 4294967295 "$gib" 0 3 no
case_ "Control: a complete 16 MiB block, then the end block" 4294967295 $((16 << 20)) $((16 << 20)) 1 yes
