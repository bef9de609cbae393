#!/usr/bin/env bash
# Checks a tcplab wheel the way a student meets it: installs it into a fresh venv, then, from an
# empty folder, runs `tcplab list`, the deadlock demo and `tcplab run N` for every experiment.
# Fails (exit 1) if any of them fails, if the binary needs a glibc symbol newer than its wheel's
# manylinux tag promises, or if a run leaves a file behind (in the folder or in TMPDIR). Prints
# how long each step took, from `pip install` to the first deadlock verdict.
#
# Usage: scripts/wheel-check.sh [WHEEL]
#   WHEEL defaults to the one tcplab wheel in out/wheel (scripts/wheel.sh builds it).
# Needs: python3 with venv (experiments 14 and 15 run Python programs too), objdump (binutils) for
# the glibc check; no network: pip installs the wheel alone (--no-index). About 1 min.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wheel="${1:-}"
if [[ -z "$wheel" ]]; then
    shopt -s nullglob
    wheels=("$root"/out/wheel/tcplab-*.whl)
    shopt -u nullglob
    if [[ ${#wheels[@]} -ne 1 ]]; then
        echo "wheel-check: expected one tcplab wheel in out/wheel, found ${#wheels[@]}; build it with scripts/wheel.sh, or name one: scripts/wheel-check.sh WHEEL" >&2
        exit 2
    fi
    wheel="${wheels[0]}"
fi
if [[ ! -f "$wheel" ]]; then
    echo "wheel-check: no such file '$wheel'; build a wheel with scripts/wheel.sh" >&2
    exit 2
fi
wheel="$(realpath "$wheel")"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty" "$work/tmp" "$work/logs"
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

echo "wheel: $wheel ($(stat -c %s "$wheel") bytes)"
start=$(now)
python3 -m venv "$work/venv"
venv_s=$(since "$start")
install_start=$(now)
"$work/venv/bin/pip" install --quiet --no-index --disable-pip-version-check "$wheel"
install_s=$(since "$install_start")
echo "venv created in ${venv_s} s; pip install took ${install_s} s"

# As a student with the venv activated: its bin/ first on PATH. TMPDIR is private, so that what a
# run leaves behind can be seen.
export PATH="$work/venv/bin:$PATH" TMPDIR="$work/tmp"
cd "$work/empty"
if [[ "$(command -v tcplab)" != "$work/venv/bin/tcplab" ]]; then
    fail "the wheel did not put tcplab on the venv's PATH (found '$(command -v tcplab || true)')"
fi

# The glibc promise: no symbol version newer than the tag's manylinux_X_Y.
promised=$(basename "$wheel" | sed -n 's/.*manylinux_\([0-9]*\)_\([0-9]*\)_.*/\1.\2/p')
if ! command -v objdump >/dev/null; then
    echo "glibc: not checked (objdump, from binutils, is not installed)"
elif [[ -z "$promised" ]]; then
    fail "the wheel's name carries no manylinux_X_Y tag: $(basename "$wheel")"
else
    needs=$(objdump -T "$work/venv/bin/tcplab" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -1)
    if [[ "$(printf '%s\n%s\n' "$needs" "$promised" | sort -V | tail -1)" == "$promised" ]]; then
        echo "glibc: the binary needs GLIBC_$needs at most; the tag promises $promised: ok"
    else
        fail "the binary needs GLIBC_$needs, newer than its tag's manylinux_${promised/./_}"
    fi
fi

# The first deadlock verdict: exit code 3, outcome "deadlock".
demo_start=$(now)
set +e
tcplab deadlock --json >"$work/logs/deadlock.json" 2>"$work/logs/deadlock.err"
code=$?
set -e
demo_s=$(since "$demo_start")
verdict_s=$(since "$install_start")
outcome=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("outcome"))' \
    "$work/logs/deadlock.json" 2>/dev/null || echo "no JSON")
if [[ $code -eq 3 && "$outcome" == "deadlock" ]]; then
    echo "tcplab deadlock: verdict 'deadlock' after ${demo_s} s; ${verdict_s} s from the start of pip install to the verdict"
else
    fail "tcplab deadlock exited $code with outcome '$outcome': $(tail -n 1 "$work/logs/deadlock.err")"
fi

if ! tcplab list >"$work/logs/list.txt" 2>&1; then
    fail "tcplab list: $(tail -n 1 "$work/logs/list.txt")"
fi
count=$(grep -cE '^ *[0-9]+  ' "$work/logs/list.txt" || true)
if [[ "$count" -lt 1 ]]; then
    fail "tcplab list listed no experiment"
fi
echo "tcplab list: $count experiments"

for n in $(seq 1 "$count"); do
    t=$(now)
    set +e
    tcplab run "$n" --quiet >"$work/logs/run-$n.txt" 2>&1
    code=$?
    set -e
    verdict=$(grep -oE '^(PASS|FAIL|INTERRUPTED)' "$work/logs/run-$n.txt" | tail -n 1 || true)
    if [[ $code -eq 0 && "$verdict" == "PASS" ]]; then
        echo "tcplab run $n: PASS ($(since "$t") s)"
    else
        fail "tcplab run $n exited $code after $(since "$t") s; its last lines:"
        tail -n 5 "$work/logs/run-$n.txt" | sed 's/^/    /'
    fi
done

left=$(find "$work/empty" "$work/tmp" -mindepth 1 | head -n 5)
if [[ -n "$left" ]]; then
    fail "the runs left files behind: $left"
fi

if [[ $failures -eq 0 ]]; then
    echo "wheel-check: all passed in $(since "$start") s"
else
    echo "wheel-check: $failures failed"
    exit 1
fi
