#!/usr/bin/env python3
"""Rejection test: axon-msggen must refuse a bad header with one
`file:line: error: ...` line, exit status 1, and no output files.

Each tests/msggen/bad/<case>.h starts with its expectation:
    /* expect: LINE: text the message must contain */
(or `// expect: ...` when the text itself contains a comment opener).
If bad/extra/<case>.h exists it is passed first (for errors across files).

    python3 tests/msggen/reject_test.py tests/msggen/bad/pointer.h [more.h ...]
    python3 tests/msggen/reject_test.py            # every case
"""

import glob
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "..", "tools", "axon-msggen")


def check(path):
    with open(path, encoding="utf-8") as fh:
        first = fh.readline()
    m = re.match(r"(?:/\*|//) expect: (\d+): (.*?)(?: \*/)?$", first.strip())
    if not m:
        return f"{path}: first line must be /* expect: LINE: message */ (or // expect: ...)"
    line, text = m.group(1), m.group(2)
    extra = os.path.join(os.path.dirname(path), "extra", os.path.basename(path))
    args = ([extra] if os.path.exists(extra) else []) + [path]
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([sys.executable, TOOL, "--lang", "c,cpp,rust,python", "--out", out]
                           + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        left = os.listdir(out)
    errs = p.stderr.splitlines()
    want = f"{path}:{line}: error: "
    problems = []
    if p.returncode != 1:
        problems.append(f"exit status {p.returncode}, want 1")
    if len(errs) != 1 or not errs[0].startswith(want) or text not in errs[0]:
        problems.append(f"stderr {p.stderr!r}, want one line starting {want!r} containing "
                        f"{text!r}")
    if p.stdout:
        problems.append(f"unexpected stdout {p.stdout!r}")
    if left:
        problems.append(f"files written despite the error: {left}")
    if problems:
        return f"FAIL {path}:\n  " + "\n  ".join(problems)
    print(f"ok   {errs[0]}")
    return None


def main():
    paths = sys.argv[1:] or sorted(glob.glob(os.path.join(HERE, "bad", "*.h")))
    failures = [f for f in map(check, paths) if f]
    for f in failures:
        print(f)
    print(f"{len(paths) - len(failures)}/{len(paths)} rejected as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
