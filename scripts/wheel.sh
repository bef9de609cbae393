#!/usr/bin/env bash
# Builds the wheel a course hands out to students who have Python but no Rust: a stripped tcplab
# binary in a `py3-none-manylinux_2_31_x86_64` wheel (Linux x86-64, glibc 2.31 or newer), linked
# with zig against glibc 2.31's symbols so that it runs on older distributions than the build
# machine's. Students then `pip install tcplab-….whl` (docs/wheel.md).
#
# Usage: scripts/wheel.sh [OUT_DIR]
#   OUT_DIR defaults to out/wheel (git-ignored); an older tcplab wheel there is replaced. Prints the
#   wheel's path, size and tag, and the newest glibc symbol version the binary needs.
# Needs: cargo (Rust toolchain), python3 with venv, and PyPI the first time: maturin and ziglang
# are installed into a private venv in cargo's target folder (target/wheel-tools) unless that venv
# has them already; $WHEEL_TOOLS names another venv. Takes about 2 min on 2 cores (docs/wheel.md).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/out/wheel}"
cd "$root"

target=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
tools="${WHEEL_TOOLS:-$target/wheel-tools}"

if ! "$tools/bin/python" -c 'import ziglang' 2>/dev/null || [[ ! -x "$tools/bin/maturin" ]]; then
    echo "installing maturin and ziglang from PyPI into $tools" >&2
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.5,<2" ziglang
fi
# maturin finds zig through the python on PATH (python -m ziglang): the venv's, which has it.
export PATH="$tools/bin:$PATH"

mkdir -p "$out"
rm -f "$out"/tcplab-*.whl
start=$(date +%s)
maturin build --release --zig --compatibility manylinux_2_31 --strip --out "$out" >&2
took=$(($(date +%s) - start))

wheel=$(ls "$out"/tcplab-*.whl)
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
# The wheel's tag, and its binary copied out for objdump.
tag=$(python3 - "$wheel" "$bin" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = z.namelist()
    meta = z.read(next(n for n in names if n.endswith('.dist-info/WHEEL'))).decode()
    exe = next(n for n in names if n.endswith('.data/scripts/tcplab'))
    open(sys.argv[2], 'wb').write(z.read(exe))
print(' '.join(l.split(': ', 1)[1] for l in meta.splitlines() if l.startswith('Tag: ')))
PY
)
if command -v objdump >/dev/null; then
    glibc=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -1)
else
    glibc="unknown (objdump, from binutils, is not installed)"
fi
echo "wheel: $wheel"
echo "size:  $(stat -c %s "$wheel") bytes"
echo "tag:   $tag"
echo "glibc: $glibc (the newest symbol version the binary needs)"
echo "built in ${took} s; check it with: scripts/wheel-check.sh $wheel"
