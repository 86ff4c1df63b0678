#!/usr/bin/env python3
"""Golden-file test: axon-msggen's output for golden/sensors.h must match
the files checked in under golden/ byte for byte.

    python3 tests/msggen/golden_test.py            # compare (prints a diff)
    python3 tests/msggen/golden_test.py --update   # regenerate after an intended change

--update is the same as
    tools/axon-msggen --lang c,cpp,rust,python --out tests/msggen/golden tests/msggen/golden/sensors.h
"""

import argparse
import difflib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
GOLDEN = os.path.join(HERE, "golden")
HEADER = os.path.join(GOLDEN, "sensors.h")
TOOL = os.path.join(ROOT, "tools", "axon-msggen")


def generate(out):
    cmd = [sys.executable, TOOL, "--lang", "c,cpp,rust,python", "--out", out, HEADER]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{p.stderr}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--update", action="store_true", help="rewrite the golden files")
    args = ap.parse_args()
    if args.update:
        generate(GOLDEN)
        print(f"updated golden files in {GOLDEN}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        made = sorted(os.listdir(tmp))
        golden = sorted(f for f in os.listdir(GOLDEN) if f != "sensors.h")
        failed = False
        if made != golden:
            print(f"FAIL: generated files {made}, golden files {golden}")
            failed = True
        for name in made:
            want_path = os.path.join(GOLDEN, name)
            if not os.path.exists(want_path):
                continue
            with open(want_path, encoding="utf-8") as fh:
                want = fh.read().splitlines(keepends=True)
            with open(os.path.join(tmp, name), encoding="utf-8") as fh:
                got = fh.read().splitlines(keepends=True)
            if got != want:
                failed = True
                sys.stdout.writelines(difflib.unified_diff(
                    want, got, f"golden/{name}", f"generated/{name}"))
                print()
            else:
                print(f"ok   {name}")
    if failed:
        print("FAIL: the output differs from the golden files.  If the change is intended, "
              "run: python3 tests/msggen/golden_test.py --update  and review the diff.")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
