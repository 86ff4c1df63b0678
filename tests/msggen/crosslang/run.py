#!/usr/bin/env python3
"""Cross-language layout and byte round-trip test for axon-msggen.

1. Run tools/axon-msggen on the headers for C, C++, Rust and Python.
2. Build one probe per language (probes.py) with warnings as errors:
   gcc -std=c11 -Wpedantic, g++ -std=c++20 (and -std=c++17 for the headers),
   clang and clang++ when installed (compile only),
   rustc --edition 2021 -D warnings (plus `rustc --test` to run the generated
   layout tests), and python3 -W error to import the generated modules.
3. `probe layout` in every language must print exactly the sizes, offsets,
   ids, hashes, enum values and constants the tool computed.
4. Every language writes every message; the bytes must be identical; then
   every language reads what every language wrote and checks every field.

A missing g++ or rustc skips that language (exit 77 = skipped in CTest)
unless CI=true, where it is a failure.
"""

import argparse
import concurrent.futures as cf
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, HERE)

from msggen import schema  # noqa: E402
from msggen.cli import check_across  # noqa: E402
from msggen.parser import parse_file  # noqa: E402

import probes  # noqa: E402

SKIP = 77


def log(msg):
    print(msg, flush=True)


def run(cmd, what, cwd=None, timeout=120):
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=timeout)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        out = (p.stdout + p.stderr)[-6000:]
        raise SystemExit(f"FAIL: {what} (exit {p.returncode}, {dt:.1f}s)\n$ {' '.join(cmd)}\n"
                         f"{out}")
    log(f"ok   {what} ({dt:.1f}s)")
    return p.stdout


def find(tool_env, names):
    if os.environ.get(tool_env):
        return shutil.which(os.environ[tool_env])
    for n in names:
        path = shutil.which(n)
        if path:
            return path
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("headers", nargs="+")
    ap.add_argument("--work", required=True, help="scratch directory (recreated)")
    ap.add_argument("--include", default=os.path.join(ROOT, "include"))
    ap.add_argument("--tool", default=os.path.join(ROOT, "tools", "axon-msggen"))
    ap.add_argument("--cc", default=None)
    args = ap.parse_args()

    ci = os.environ.get("CI", "").lower() == "true"
    cc = args.cc or find("CC", ["gcc", "cc"])
    cxx = find("CXX", ["g++", "c++"])
    rustc = find("RUSTC", ["rustc"])
    missing = [n for n, p in (("C compiler", cc), ("g++", cxx), ("rustc", rustc)) if not p]
    for n in missing:
        log(f"SKIP {n} not found" + (" (CI=true: this is a failure)" if ci else ""))
    langs = ["python"] + (["c"] if cc else []) + (["cpp"] if cxx else []) + \
            (["rust"] if rustc else [])

    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    gen = os.path.join(work, "gen")
    os.makedirs(gen)
    headers = [os.path.abspath(h) for h in args.headers]
    hdirs = sorted({os.path.dirname(h) for h in headers})

    # 1. generate, through the command line other tools use
    run([sys.executable, args.tool, "--lang", "c,cpp,rust,python", "--out", gen] + headers,
        "axon-msggen")
    model = [parse_file(h) for h in headers]
    check_across(model)
    for h in model:
        schema.compute(h)
    expected = probes.expected_layout(model)

    # 2. write and build the probes (in parallel: the compilers dominate)
    def write(name, text):
        path = os.path.join(work, name)
        with open(path, "w") as fh:
            fh.write(text)
        return path

    incs = [f"-I{d}" for d in [gen] + hdirs + [args.include]]
    exe = {"python": [sys.executable, "-W", "error", write("probe.py",
                                                             probes.python_probe(model, gen))]}
    jobs = []
    if cc:
        src = write("probe.c", probes.c_probe(model, cpp=False))
        out = os.path.join(work, "probe_c")
        gen_c = [os.path.join(gen, f"{h.stem}.axon.c") for h in model]
        jobs.append(([cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wshadow",
                      "-Wstrict-prototypes", "-Wmissing-prototypes", "-O1"] + incs +
                     [src] + gen_c + ["-o", out], "gcc: generated C + C probe (-Wpedantic)"))
        exe["c"] = [out]
    if cxx:
        src = write("probe.cpp", probes.c_probe(model, cpp=True))
        out = os.path.join(work, "probe_cpp")
        jobs.append(([cxx, "-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-O1"] +
                     incs + [src, "-o", out], "g++ -std=c++20: generated C++ + probe"))
        for h in model:
            inc = write(f"inc_{h.stem}.cpp", f'#include "{h.stem}.hpp"\n#include "{h.stem}.hpp"\n')
            jobs.append(([cxx, "-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                          "-fsyntax-only", f"-I{gen}", inc],
                         f"g++ -std=c++17: {h.stem}.hpp alone, included twice"))
        exe["cpp"] = [out]
    if rustc:
        src = write("probe.rs", probes.rust_probe(model, gen))
        out = os.path.join(work, "probe_rs")
        base = [rustc, "--edition", "2021", "-D", "warnings", "--crate-name", "probe"]
        jobs.append((base + [src, "-o", out], "rustc -D warnings: generated Rust + probe"))
        jobs.append((base + ["--test", src, "-o", out + "_test"],
                     "rustc --test: generated layout tests"))
        exe["rust"] = [out]
    # clang, when installed, must accept the generated code too (compile only).
    clang, clangxx = shutil.which("clang"), shutil.which("clang++")
    if clang and cc:
        jobs.append(([clang, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                      "-fsyntax-only"] + incs + gen_c, "clang: generated C (-Wpedantic)"))
    if clangxx and cxx:
        jobs.append(([clangxx, "-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                      "-fsyntax-only"] + incs + [os.path.join(work, "probe.cpp")],
                     "clang++ -std=c++20: generated C++ + probe"))
    with cf.ThreadPoolExecutor(max_workers=4) as pool:
        futs = [pool.submit(run, cmd, what, work) for cmd, what in jobs]
        errors = []
        for f in futs:
            try:
                f.result()
            except SystemExit as e:
                errors.append(str(e))
    if errors:
        raise SystemExit("\n".join(errors))
    if rustc:
        out = run([os.path.join(work, "probe_rs_test")], "generated Rust #[test]s")
        log("     " + [ln for ln in out.splitlines() if ln.startswith("test result")][0])

    # 3. layout everywhere == layout computed by the tool
    for lang in langs:
        got = run(exe[lang] + ["layout"], f"{lang}: layout report").splitlines()
        if got != expected:
            import difflib
            diff = "\n".join(difflib.unified_diff(expected, got, "axon-msggen", lang,
                                                  lineterm=""))
            raise SystemExit(f"FAIL: {lang} layout differs from axon-msggen's:\n{diff}")
    log(f"ok   {len(expected)} layout facts agree in {', '.join(langs)}")

    # 4. bytes: each writes, all bytes equal, each reads each
    msgs = [m for h in model for m in h.messages if not m.empty]
    for lang in langs:
        d = os.path.join(work, "bytes", lang)
        os.makedirs(d)
        run(exe[lang] + ["write", d], f"{lang}: write {len(msgs)} messages")
    ref = langs[0]
    for m in msgs:
        want = open(os.path.join(work, "bytes", ref, m.name + ".bin"), "rb").read()
        if len(want) != m.size:
            raise SystemExit(f"FAIL: {ref} wrote {len(want)} bytes of {m.name}, want {m.size}")
        for lang in langs[1:]:
            got = open(os.path.join(work, "bytes", lang, m.name + ".bin"), "rb").read()
            if got != want:
                at = next(i for i in range(min(len(got), len(want)) + 1)
                          if i >= min(len(got), len(want)) or got[i] != want[i])
                raise SystemExit(f"FAIL: {m.name} bytes from {lang} differ from {ref}'s "
                                 f"at byte {at}")
    log(f"ok   every language wrote the same bytes for {len(msgs)} messages")
    for reader in langs:
        for writer in langs:
            run(exe[reader] + ["read", os.path.join(work, "bytes", writer)],
                f"{reader} reads what {writer} wrote")

    if missing:
        if ci:
            raise SystemExit(f"FAIL: CI=true but {', '.join(missing)} missing")
        log(f"SKIPPED {', '.join(missing)}: the other languages passed")
        return SKIP
    log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
