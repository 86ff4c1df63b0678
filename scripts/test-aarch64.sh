#!/usr/bin/env bash
# test-aarch64.sh - build axon's tests for AArch64 with a cross compiler and
# run them under qemu-user, so that switch_aarch64.S is really executed, not
# just assembled - by the coroutine tests and by the actor system on top.
#
# Usage: scripts/test-aarch64.sh [build-dir]     (default: build-aarch64)
# Env:   AARCH64_CC (aarch64-linux-gnu-gcc), QEMU_AARCH64 (qemu-aarch64),
#        AARCH64_SYSROOT (/usr/aarch64-linux-gnu),
#        AARCH64_CMOCKA=shim to use the cmocka shim even if arm64 cmocka is
#        installed (to test the fallback), AARCH64_JOBS (parallel compiles).
#
# What runs:
#   - src/coro tests (coro_test, its ucontext build, stack_test,
#     overflow_test);
#   - the coroutine-actor tests (tests/coroactor) and the core actor tests
#     (tests/actor), linked against the whole library cross-compiled from
#     src/**/*.c plus the AArch64 switch.  These need cmocka and OpenSSL for
#     arm64: the multiarch packages libcmocka-dev:arm64 and libssl-dev:arm64
#     (installed with apt-get when missing and running as root).  Without an
#     arm64 cmocka they are built with tests/coroactor/cmocka_shim; without
#     an arm64 OpenSSL the library is built without src/net (no test here
#     uses links).
# Missing tools are installed with apt-get when running as root.  Exits
# non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build-aarch64}
cc=${AARCH64_CC:-aarch64-linux-gnu-gcc}
qemu=${QEMU_AARCH64:-qemu-aarch64}
sysroot=${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}
jobs=${AARCH64_JOBS:-$(nproc 2>/dev/null || echo 2)}

die() {
    echo "test-aarch64: $*" >&2
    exit 1
}
note() {
    echo "test-aarch64: $*"
}
can_apt() {
    [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1
}
apt_install() { # apt_install <packages...>: quietly, updating the lists if needed
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 && return 0
    apt-get update >/dev/null 2>&1 || true
    apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1
}

# ---- tools -------------------------------------------------------------
missing=()
command -v "$cc" >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v "$qemu" >/dev/null 2>&1 || missing+=(qemu-user)
if ((${#missing[@]})); then
    can_apt || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or set AARCH64_CC/QEMU_AARCH64"
    note "installing ${missing[*]}"
    apt_install "${missing[@]}" || die "apt-get could not install ${missing[*]}"
    command -v "$cc" >/dev/null 2>&1 || die "$cc still not found after installing"
    command -v "$qemu" >/dev/null 2>&1 || die "$qemu still not found after installing"
fi
[[ -d $sysroot ]] || die "no AArch64 sysroot at $sysroot (apt-get install libc6-dev-arm64-cross)"
mkdir -p "$out"

# ---- arm64 libraries for the actor tests: cmocka, OpenSSL -----------------
links() { # links <header> <lib...>: can the cross compiler build against them?
    local hdr=$1
    shift
    printf '#include <stddef.h>\n#include <stdarg.h>\n#include <setjmp.h>\n#include <stdint.h>\n#include <%s>\nint main(void) { return 0; }\n' "$hdr" >"$out/probe.c"
    "$cc" "$out/probe.c" -o "$out/probe" "$@" >/dev/null 2>&1
}
have_cmocka=0
have_ssl=0
links cmocka.h -lcmocka && have_cmocka=1
links openssl/ssl.h -lssl -lcrypto && have_ssl=1
if [[ ${AARCH64_CMOCKA:-} != shim ]] && ((!have_cmocka || !have_ssl)) && can_apt; then
    note "installing arm64 cmocka and OpenSSL (multiarch)"
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        dpkg --add-architecture arm64
        apt-get update >/dev/null 2>&1 || true
    fi
    pkgs=()
    ((have_cmocka)) || pkgs+=(libcmocka-dev:arm64)
    ((have_ssl)) || pkgs+=(libssl-dev:arm64)
    apt_install "${pkgs[@]}" || note "apt-get could not install ${pkgs[*]}"
    links cmocka.h -lcmocka && have_cmocka=1
    links openssl/ssl.h -lssl -lcrypto && have_ssl=1
fi
[[ ${AARCH64_CMOCKA:-} == shim ]] && have_cmocka=0
((have_cmocka)) || note "no arm64 cmocka: the actor tests use tests/coroactor/cmocka_shim"
((have_ssl)) || note "no arm64 OpenSSL: the library is built without src/net"
rm -f "$out/probe.c" "$out/probe"

# ---- build: coroutine tests --------------------------------------------------
warn=(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter -Werror)
cflags=(-std=c11 -O2 -g "${warn[@]}" -D_GNU_SOURCE
    -I"$root/include" -I"$root/src" -I"$root/tests" -I"$root/tests/coro")
# The same cmocka as the actor tests below: arm64's, or the shim.
cmocka=(-lcmocka)
if ((!have_cmocka)); then
    cflags+=(-I"$root/tests/coroactor/cmocka_shim")
    cmocka=("$root/tests/coroactor/cmocka_shim/cmocka_shim.c")
fi
base=("$root/src/base/error.c" "$root/src/base/alloc.c")
coro=("$root/src/coro/coro.c" "$root/src/coro/stack.c" "$root/src/coro/overflow.c")

build() { # build <output> <sources...>
    local o=$1
    shift
    note "building $(basename "$o")"
    "$cc" "${cflags[@]}" "$@" "${cmocka[@]}" -lpthread -lm -o "$out/$o" || die "build of $o failed"
}
for t in coro_test stack_test overflow_test; do
    build "$t" "$root/tests/coro/$t.c" "${base[@]}" "${coro[@]}" "$root/src/coro/switch_aarch64.S"
done
build coro_test_ucontext -DAXI_CORO_UCONTEXT=1 "$root/tests/coro/coro_test.c" "${base[@]}" \
    "${coro[@]}" "$root/src/coro/switch_ucontext.c"
build coro_switch "$root/bench/coro_switch.c" "${base[@]}" "${coro[@]}" \
    "$root/src/coro/switch_aarch64.S"

# ---- build: the library and the actor tests ------------------------------------
# The library as CMake builds it for an AArch64 host: every source under
# src/ with the assembly switch (not the ucontext fallback).
lcflags=(-std=c11 -O2 -g "${warn[@]}" -D_GNU_SOURCE -I"$root/include" -I"$root/src")
tcflags=("${lcflags[@]}" -I"$root/tests")
tlibs=(-lpthread -lm)
if ((have_cmocka)); then
    tlibs=(-lcmocka "${tlibs[@]}")
else
    tcflags+=(-I"$root/tests/coroactor/cmocka_shim")
fi
mapfile -t lsrc < <(cd "$root" && find src -name '*.c' ! -name switch_ucontext.c | sort)
if ((!have_ssl)); then
    mapfile -t lsrc < <(printf '%s\n' "${lsrc[@]}" | grep -v '^src/net/')
else
    tlibs=(-lssl -lcrypto "${tlibs[@]}")
fi
lsrc+=(src/coro/switch_aarch64.S)
objdir=$out/obj
rm -rf "$objdir"
mkdir -p "$objdir"
note "building the library (${#lsrc[@]} sources)"
# One compile per source, $jobs at a time: sh -c '...' <src> <objdir> <root> <cflags...>
printf '%s\n' "${lsrc[@]}" | xargs -P "$jobs" -I{} sh -c \
    's=$1; o=$2/$(echo "$s" | tr / _).o; r=$3; shift 3; "$0" "$@" -c "$r/$s" -o "$o" || exit 255' \
    "$cc" {} "$objdir" "$root" "${lcflags[@]}" || die "library build failed"
rm -f "$out/libaxon.a"
aarch64-linux-gnu-ar rcs "$out/libaxon.a" "$objdir"/*.o 2>/dev/null || ar rcs "$out/libaxon.a" "$objdir"/*.o ||
    die "ar failed"
support=("$objdir/testutil.o")
"$cc" "${tcflags[@]}" -c "$root/tests/util/testutil.c" -o "$objdir/testutil.o" || die "testutil.c failed"
if ((!have_cmocka)); then
    "$cc" "${tcflags[@]}" -c "$root/tests/coroactor/cmocka_shim/cmocka_shim.c" \
        -o "$objdir/cmocka_shim.o" || die "cmocka_shim.c failed"
    support+=("$objdir/cmocka_shim.o")
fi
actor_tests=()
for src in "$root"/tests/coroactor/*_test.c "$root"/tests/actor/*_test.c; do
    [[ -e $src ]] || continue
    dir=$(basename "$(dirname "$src")")
    name=${dir}_$(basename "$src" .c)
    note "building $name"
    "$cc" "${tcflags[@]}" "$src" "${support[@]}" "$out/libaxon.a" "${tlibs[@]}" -o "$out/$name" ||
        die "build of $name failed"
    actor_tests+=("$name")
done

# ---- run -------------------------------------------------------------------
# The dynamic loader and libc must come from one glibc build.  Once arm64
# multiarch packages are installed (cmocka, OpenSSL pull in libc6:arm64),
# the cross sysroot's ld.so would find the multiarch libc.so.6 first (qemu
# falls back to host paths) and mix two builds - forked children then hang.
# So run from / when the multiarch libc is there, else from the sysroot.
runroot=$sysroot
if [[ -e /lib/ld-linux-aarch64.so.1 && -e /usr/lib/aarch64-linux-gnu/libc.so.6 ]]; then
    runroot=/
fi
note "running with the AArch64 libraries under $runroot"
export QEMU_LD_PREFIX=$runroot
# Death tests exec themselves again; the kernel cannot exec an AArch64
# binary without binfmt_misc, so they go through qemu explicitly.
export AXON_CORO_TEST_RUNNER="$qemu -L $runroot"
# Emulation is slow: the tests' "did not hang" limits are stretched.
export AXON_TEST_TIME_SCALE=${AXON_TEST_TIME_SCALE:-5}
failed=()
passed=0
run() { # run <binary> [args...]
    note "running $* under $qemu"
    if (cd "$out" && timeout 900 "$qemu" -L "$runroot" "./$@"); then
        passed=$((passed + 1))
    else
        failed+=("$*")
    fi
}
for t in coro_test coro_test_ucontext stack_test overflow_test; do
    run "$t"
done
for t in "${actor_tests[@]}"; do
    run "$t"
done
# The poller-dependent ones against poll too, as CTest runs them.
for t in coroactor_coro_io_test actor_dispatch_test actor_post_test; do
    [[ " ${actor_tests[*]} " == *" $t "* ]] && run "$t" poll
done
note "coro_switch under emulation (the number means nothing):"
(cd "$out" && timeout 120 "$qemu" -L "$runroot" ./coro_switch 200000) || failed+=(coro_switch)

echo "test-aarch64: ${passed} passed, ${#failed[@]} failed"
if ((${#failed[@]})); then
    die "FAILED: ${failed[*]}"
fi
echo "test-aarch64: all AArch64 tests passed"
