#!/usr/bin/env bash
# test-aarch64.sh - build the coroutine tests for AArch64 with a cross
# compiler and run them under qemu-user, so that switch_aarch64.S (and the
# ucontext fallback there) is really executed, not just assembled.
#
# Usage: scripts/test-aarch64.sh [build-dir]     (default: build-aarch64)
# Env:   AARCH64_CC (aarch64-linux-gnu-gcc), QEMU_AARCH64 (qemu-aarch64),
#        AARCH64_SYSROOT (/usr/aarch64-linux-gnu)
#
# The tests are built with tests/coro/mini_cmocka.h instead of cmocka, so
# no arm64 cmocka (multiarch) is needed.  Missing tools are installed with
# apt-get when running as root.  Exits non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build-aarch64}
cc=${AARCH64_CC:-aarch64-linux-gnu-gcc}
qemu=${QEMU_AARCH64:-qemu-aarch64}
sysroot=${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}

die() {
    echo "test-aarch64: $*" >&2
    exit 1
}

# ---- tools -------------------------------------------------------------
missing=()
command -v "$cc" >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v "$qemu" >/dev/null 2>&1 || missing+=(qemu-user)
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or set AARCH64_CC/QEMU_AARCH64"
    fi
    echo "test-aarch64: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
        apt-get update >/dev/null || true
        apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
            die "apt-get could not install ${missing[*]}"
    fi
    command -v "$cc" >/dev/null 2>&1 || die "$cc still not found after installing"
    command -v "$qemu" >/dev/null 2>&1 || die "$qemu still not found after installing"
fi
[[ -d $sysroot ]] || die "no AArch64 sysroot at $sysroot (apt-get install libc6-dev-arm64-cross)"

# ---- build ---------------------------------------------------------------
mkdir -p "$out"
cflags=(-std=c11 -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wno-unused-parameter -Werror -D_GNU_SOURCE -DAXON_TEST_NO_CMOCKA
    -I"$root/include" -I"$root/src" -I"$root/tests/coro")
base=("$root/src/base/error.c" "$root/src/base/alloc.c")
coro=("$root/src/coro/coro.c" "$root/src/coro/stack.c" "$root/src/coro/overflow.c")

build() { # build <output> <sources...>
    local o=$1
    shift
    echo "test-aarch64: building $(basename "$o")"
    "$cc" "${cflags[@]}" "$@" -lpthread -lm -o "$out/$o" || die "build of $o failed"
}
for t in coro_test stack_test overflow_test; do
    build "$t" "$root/tests/coro/$t.c" "${base[@]}" "${coro[@]}" "$root/src/coro/switch_aarch64.S"
done
build coro_test_ucontext -DAXI_CORO_UCONTEXT=1 "$root/tests/coro/coro_test.c" "${base[@]}" \
    "${coro[@]}" "$root/src/coro/switch_ucontext.c"
build coro_switch "$root/bench/coro_switch.c" "${base[@]}" "${coro[@]}" \
    "$root/src/coro/switch_aarch64.S"

# ---- run -------------------------------------------------------------------
export QEMU_LD_PREFIX=$sysroot
# Death tests exec themselves again; the kernel cannot exec an AArch64
# binary without binfmt_misc, so they go through qemu explicitly.
export AXON_CORO_TEST_RUNNER="$qemu -L $sysroot"
failed=()
for t in coro_test coro_test_ucontext stack_test overflow_test; do
    echo "test-aarch64: running $t under $qemu"
    if ! (cd "$out" && timeout 600 "$qemu" -L "$sysroot" "./$t"); then
        failed+=("$t")
    fi
done
echo "test-aarch64: coro_switch under emulation (the number means nothing):"
(cd "$out" && timeout 120 "$qemu" -L "$sysroot" ./coro_switch 200000) || failed+=(coro_switch)

if ((${#failed[@]})); then
    die "FAILED: ${failed[*]}"
fi
echo "test-aarch64: all AArch64 coroutine tests passed"
