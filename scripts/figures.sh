#!/usr/bin/env bash
# Re-measures every figure the pages and docs quote, on this machine, and keeps each in one place:
# docs/figures.md, written anew, with the command and the number of runs behind each figure. Then
# every quote of a figure — a link `[FIGURE](…figures.md#ID)` in docs/, experiments/ or README.md —
# is rewritten to the new figure, so no page can quote an older one. `git diff` shows what moved;
# the page snapshots that quote a figure are then accepted with
# `INSTA_UPDATE=always cargo test --lib report::page`.
#
#   scripts/figures.sh              # all figures, about 3 minutes after the build
#   RUNS=2 scripts/figures.sh       # every batch at most 2 runs: a quick look, not for committing
#   scripts/figures.sh --check      # measure and print, write nothing
#
# Needs: cargo (or $TCPLAB), python3, Linux loopback. Keep the machine otherwise idle: the stall
# points barely move under load, the times do.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
tcplab=$(tcplab_bin)
cd "$root"
exec python3 - "$tcplab" "$@" <<'PY'
import json, os, platform, re, statistics, subprocess, sys, time
from pathlib import Path

tcplab = sys.argv[1]
check_only = "--check" in sys.argv[2:]
cap = int(os.environ["RUNS"]) if os.environ.get("RUNS") else None

KIB, MIB = 1024, 1024 * 1024


def size(b):
    for unit, div, dec in (("MiB", MIB, 2), ("KiB", KIB, 1)):
        if b >= div or unit == "KiB":
            # A whole number of units (a buffer size) without decimals: 32 KiB, not 32.0 KiB.
            return f"{b // div} {unit}" if b % div == 0 else f"{b / div:.{dec}f} {unit}"


def span(values, fmt):
    lo, hi = min(values), max(values)
    if fmt is size:
        # One unit for both ends, the larger one's.
        unit, div, dec = ("MiB", MIB, 2) if hi >= MIB else ("KiB", KIB, 1)
        return f"{lo / div:.{dec}f}–{hi / div:.{dec}f} {unit}"
    if fmt is secs:
        return f"{fmt(lo)}–{fmt(hi)} s"
    return f"{fmt(lo)}–{fmt(hi)}"


def secs(ms):
    return f"{ms / 1000:.2f}"


def ratio(r):
    return f"{r:.2f}"


def run(args, want_code, runs, what):
    """Runs `tcplab ARGS` RUNS times; each must exit WANT_CODE and print one JSON document."""
    runs = min(runs, cap) if cap else runs
    docs = []
    for i in range(runs):
        p = subprocess.run([tcplab, *args], capture_output=True, text=True, timeout=180)
        if p.returncode != want_code:
            sys.exit(f"figures.sh: run {i + 1} of 'tcplab {' '.join(args)}' exited {p.returncode} "
                     f"(expected {want_code}); {what} cannot be measured here:\n{p.stderr[-2000:]}")
        docs.append(json.loads(p.stdout))
        print(f"  {what}: run {i + 1}/{runs}", file=sys.stderr)
    return docs


def sum4(doc):
    return sum(b[k]["effective_bytes"] for b in doc["buffers"] for k in ("sndbuf", "rcvbuf"))


figures = []  # (id, figure, sentence, command, runs, read)


def add(fid, figure, sentence, command, runs, read):
    figures.append((fid, figure, sentence, command, runs, read))


def ladder(label, req, runs, extra=()):
    args = ["deadlock", "--sndbuf", req, "--rcvbuf", req, "--bytes", "64MiB", "--json", "--quiet"]
    docs = run(args, 3, runs, f"the stall at {label}")
    for d in docs:
        if d["outcome"] != "deadlock":
            sys.exit(f"figures.sh: a run at {label} ended '{d['outcome']}', not in a deadlock")
    sent = [d["counts"]["client_sent_bytes"] for d in docs]
    cmd = "tcplab " + " ".join(args)
    key = req.lower()
    eff = docs[0]["buffers"][0]["sndbuf"]["effective_bytes"]
    add(f"stall-{key}", span(sent, size),
        f"what the naive client sends before the deadlock with {label} buffers (the kernel keeps "
        f"{size(eff)} each, {size(sum4(docs[0]))} for the four)",
        cmd, len(docs), "`counts.client_sent_bytes`, smallest–largest")
    add(f"ratio-{key}", span([s / sum4(d) for s, d in zip(sent, docs)], ratio),
        f"the same stall divided by the sum of the four buffers the kernel kept, at {label}",
        cmd, len(docs), "`counts.client_sent_bytes` / the sum of the four `effective_bytes`")
    if "verdict" in extra:
        add(f"verdict-{key}", span([d["stall"]["verdict_ms"] for d in docs], secs),
            f"when the verdict comes, after the start, with {label} buffers",
            cmd, len(docs), "`stall.verdict_ms`")
    if "queues" in extra:
        add(f"median-{key}", size(statistics.median(sent)),
            f"the median of the stall at {label}", cmd, len(docs), "`counts.client_sent_bytes`")
        add(f"client-sendq-{key}", span([d["client_queues"]["outq_bytes"] for d in docs], size),
            f"the client's send queue at the stall, {label} buffers", cmd, len(docs),
            "`client_queues.outq_bytes`")
        add(f"server-recvq-{key}", span([d["server_queues"]["inq_bytes"] for d in docs], size),
            f"the server's receive queue at the stall, {label} buffers", cmd, len(docs),
            "`server_queues.inq_bytes`")


started = time.time()
ladder("4 KiB", "4K", 5)
ladder("16 KiB", "16K", 10, ["verdict"])
ladder("64 KiB", "64K", 30, ["verdict", "queues"])
ladder("256 KiB", "256K", 5)

args = ["deadlock", "--sndbuf", "auto", "--rcvbuf", "auto", "--bytes", "64MiB", "--json", "--quiet"]
docs = run(args, 3, 5, "tcplab's naive client against autotuned buffers")
add("stall-auto-tcplab", span([d["counts"]["client_sent_bytes"] for d in docs], size),
    "what tcplab's naive client (16-byte writes) sends before the deadlock when nothing sets the "
    "buffers and Linux autotunes them", "tcplab " + " ".join(args), len(docs),
    "`counts.client_sent_bytes`, smallest–largest")

args = ["check", "client", "--json", "--bytes", "64MiB", "--", "python3",
        "experiments/solutions/naive_client.py", "{host}", "{port}", "{bytes}"]
docs = run(args, 3, 5, "the naive Python client against autotuned buffers")
add("stall-auto-python", span([d["runs"][0]["counts"]["client_sent_bytes"] for d in docs], size),
    "what the classic naive Python client (`sendall` of 16-byte blocks, then read) sends before "
    "the deadlock against autotuned buffers (tcplab's echo server at the other end)",
    "tcplab " + " ".join(args), len(docs), "`runs[0].counts.client_sent_bytes`, smallest–largest")

args = ["deadlock", "--strategy", "reader-thread", "--json", "--quiet"]
docs = run(args, 0, 10, "the reader-thread fix")
add("fix-reader-thread", span([d["timings"]["elapsed_ms"] for d in docs], secs),
    "how long the reader-thread fix takes to move the demo's 2 MiB through 64 KiB buffers",
    "tcplab " + " ".join(args), len(docs), "`timings.elapsed_ms`")

took = time.time() - started
machine = (f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs, load average "
           f"{os.getloadavg()[0]:.2f} at the end; {time.strftime('%Y-%m-%d', time.gmtime())}; "
           f"{took:.0f} s in all")

for fid, fig, *_ in figures:
    print(f"{fid}: {fig}")
if check_only:
    sys.exit(0)

text = ["# Measured figures, each kept in one place", "",
        "Every measured figure the pages (`tcplab show N`) and the docs quote is kept here, once, with",
        "the command that measures it. A page quotes a figure as a link to its entry here, as in",
        "`[93.0–109.1 KiB](figures.md#stall-16k)`, and `tests/figures.rs` checks that every such quote",
        "says what this page says. `scripts/figures.sh` runs every command again on the machine at",
        "hand, writes this page anew and rewrites every quote; `git diff` then shows what moved.", "",
        "Ranges are the smallest and the largest of the runs. Sizes are in binary units (1 KiB = 1024",
        "bytes).", "", f"Measured on: {machine}.", ""]
for fid, fig, sentence, cmd, runs, read in figures:
    text += [f"## {fid}", "", f"**{fig}**: {sentence}.", "",
             f"{runs} runs of `{cmd}`; {read}.", ""]
Path("docs/figures.md").write_text("\n".join(text))

value = {fid: fig for fid, fig, *_ in figures}
link = re.compile(r"\[([^\]]*)\]\(((?:\.\./)?(?:docs/)?figures\.md)#([a-z0-9-]+)\)")
pages = [*Path("docs").glob("*.md"), *Path("experiments").glob("*.md"), Path("README.md")]
for page in pages:
    old = page.read_text()

    def fresh(m):
        if m.group(3) not in value:
            sys.exit(f"figures.sh: {page} quotes '{m.group(3)}', which figures.md no longer has")
        return f"[{value[m.group(3)]}]({m.group(2)}#{m.group(3)})"

    new = link.sub(fresh, old)
    if new != old:
        page.write_text(new)
        print(f"rewrote the quotes in {page}", file=sys.stderr)
print("wrote docs/figures.md", file=sys.stderr)
PY
