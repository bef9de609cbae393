#!/usr/bin/env bash
# A worked comparison of buffer sizes: builds tcplab (release), sweeps SO_SNDBUF against SO_RCVBUF
# with the naive client (every point deadlocks; the question is after how many bytes), and leaves
# the rows as CSV and JSON Lines and the plot as SVG in one folder.
#
# Usage: scripts/compare-buffers.sh [OUT_DIR] [extra tcplab sweep flags...]
#   OUT_DIR defaults to out/compare-buffers (git-ignored). Extra flags are passed to the sweep, e.g.
#   scripts/compare-buffers.sh out/cmp --repeat 3
# Needs: cargo (Rust toolchain), Linux loopback. Takes about 6 s after the build (points run
# several at once; --jobs 1 runs them one after another). $TCPLAB, when
# set, names the binary to use instead of building this checkout.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/out/compare-buffers}"
shift || true

cd "$root"
# shellcheck source=lib.sh
source "$root/scripts/lib.sh"
tcplab=$(tcplab_bin)
mkdir -p "$out"

# 6 send-buffer sizes × 4 receive-buffer sizes = 24 points, each a fresh one-process run.
"$tcplab" sweep \
    --sndbuf 4K..128K:x2 \
    --rcvbuf 4K,16K,64K,256K \
    --strategy naive \
    -o "$out/points.csv" \
    -o "$out/points.json" \
    -o "$out/points.txt" \
    --plot "$out/bytes-before-stall.svg" \
    "$@"

echo
echo "The comparison is in $out:"
echo "  $out/points.txt               the table (sizes as the kernel kept them)"
echo "  $out/points.csv               one row per point, raw numbers, units in the column names"
echo "  $out/points.json              the same rows as JSON Lines (one object per line)"
echo "  $out/bytes-before-stall.svg   bytes sent before the deadlock against SO_SNDBUF, one line per SO_RCVBUF, the prediction dashed"
