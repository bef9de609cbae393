#!/usr/bin/env python3
"""Lines of src/ that are not tests, for the working tree or for git revisions.

Two counts per tree: all lines, and code lines (blank lines and comment-only lines `//`, `///`,
`//!` left out). Tests are left out of both: files named tests.rs, files under a tests/ folder,
and every item marked #[cfg(test)] (to the end of its braces, or of its `;` for a one-line item).

    scripts/src-lines.py                     # the working tree
    scripts/src-lines.py 79084ab 58a151f     # revisions (read with git archive; nothing checked out)
"""
import argparse
import io
import pathlib
import subprocess
import sys
import tarfile


def count(files):
    """(all, code) over (relative path, text) pairs below src/."""
    total = code = 0
    for rel, text in files:
        parts = pathlib.PurePosixPath(rel).parts
        if not rel.endswith(".rs") or parts[-1] == "tests.rs" or "tests" in parts[:-1]:
            continue
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            if lines[i].strip() == "#[cfg(test)]":
                depth, j, opened = 0, i + 1, False
                while j < len(lines):
                    depth += lines[j].count("{") - lines[j].count("}")
                    opened = opened or "{" in lines[j]
                    if (opened and depth <= 0) or (not opened and lines[j].rstrip().endswith(";")):
                        break
                    j += 1
                i = j + 1
                continue
            stripped = lines[i].strip()
            total += 1
            if stripped and not stripped.startswith("//"):
                code += 1
            i += 1
    return total, code


def tree(root):
    src = root / "src"
    return [(str(f.relative_to(src)), f.read_text()) for f in sorted(src.rglob("*.rs"))]


def revision(root, rev):
    out = subprocess.run(
        ["git", "-C", str(root), "archive", rev, "src"], capture_output=True, check=False
    )
    if out.returncode != 0:
        sys.exit(f"src-lines: git cannot read revision {rev!r}: {out.stderr.decode().strip()}")
    files = []
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        for m in tar.getmembers():
            if m.isfile():
                rel = m.name.removeprefix("src/")
                files.append((rel, tar.extractfile(m).read().decode()))
    return files


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("revs", nargs="*", help="git revisions (default: the working tree)")
    a = p.parse_args()
    root = pathlib.Path(__file__).resolve().parent.parent
    print(f"{'tree':<12} {'all lines':>10} {'code lines':>11}")
    if not a.revs:
        total, code = count(tree(root))
        print(f"{'working':<12} {total:>10,} {code:>11,}")
    for rev in a.revs:
        total, code = count(revision(root, rev))
        print(f"{rev:<12} {total:>10,} {code:>11,}")


if __name__ == "__main__":
    main()
