#!/usr/bin/env python3
"""CMake integration test: a small project uses cmake/AxonMsggen.cmake;
the generated code is built with the program, and editing the IDL header
regenerates it (and rebuilds the program) on the next build.

    python3 tests/msggen/cmake_test.py --cmake cmake --work DIR [--cc gcc]
"""

import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

HEADER = """#include <axon/idl.h>
/* A demo message. */
AX_MESSAGE(Demo, 7)
typedef struct {
    int32_t a;
} Demo;
"""

MAIN = """#include <stdio.h>
#include <axon/msg.h>
#include "demo.axon.h"
int ax_msg_register(ax_system *sys, const ax_msg_type *t)
{
    (void)sys;
    printf("registered %s id %u size %u\\n", t->name, (unsigned)t->id, (unsigned)t->size);
    return 0;
}
int main(void)
{
    return demo_register(NULL);
}
"""

CMAKELISTS = """cmake_minimum_required(VERSION 3.20)
project(msggen_cmake_test C)
include("{root}/cmake/AxonMsggen.cmake")
axon_generate_messages(${{CMAKE_CURRENT_SOURCE_DIR}}/demo.h OUTPUT_DIR gen
                       LANGUAGES C PYTHON OUTPUT_VARIABLE demo_files)
message(STATUS "generated: ${{demo_files}}")
add_executable(app main.c)
target_link_libraries(app PRIVATE demo_messages)
"""


def run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {p.returncode}\n{p.stdout[-4000:]}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--cc", default=None)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    src, build = os.path.join(work, "src"), os.path.join(work, "build")
    os.makedirs(src)
    for name, text in (("demo.h", HEADER), ("main.c", MAIN),
                       ("CMakeLists.txt", CMAKELISTS.format(root=ROOT))):
        with open(os.path.join(src, name), "w") as fh:
            fh.write(text)
    conf = [args.cmake, "-S", src, "-B", build]
    if args.cc:
        conf.append(f"-DCMAKE_C_COMPILER={args.cc}")
    out = run(conf)
    if "gen/demo.axon.c" not in out or "gen/demo.py" not in out:
        sys.exit(f"FAIL: OUTPUT_VARIABLE does not list the files:\n{out}")
    run([args.cmake, "--build", build])
    app = os.path.join(build, "app")
    got = run([app])
    if got != "registered Demo id 7 size 4\n":
        sys.exit(f"FAIL: first build printed {got!r}")
    print("ok   first build: generated, compiled, linked")

    out = run([args.cmake, "--build", build])
    if "axon-msggen" in out:
        sys.exit(f"FAIL: an unchanged header was regenerated:\n{out}")
    print("ok   unchanged header: nothing regenerated")

    time.sleep(1.1)  # make sure the header's mtime moves on coarse file systems
    with open(os.path.join(src, "demo.h"), "w") as fh:
        fh.write(HEADER.replace("int32_t a;", "int32_t a;\n    double b;"))
    out = run([args.cmake, "--build", build])
    if "axon-msggen" not in out:
        sys.exit(f"FAIL: editing the header did not regenerate:\n{out}")
    got = run([app])
    if got != "registered Demo id 7 size 16\n":
        sys.exit(f"FAIL: after the edit the program printed {got!r}")
    with open(os.path.join(build, "gen", "demo.py")) as fh:
        if '("b", _ct.c_double)' not in fh.read():
            sys.exit("FAIL: gen/demo.py was not regenerated")
    print("ok   edited header: regenerated and rebuilt")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
