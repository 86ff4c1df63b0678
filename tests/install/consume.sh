#!/bin/sh
# consume.sh BUILD_DIR WORK_DIR CC - install the build into WORK_DIR/prefix,
# then build and run a tiny program against it twice: with CMake's
# find_package(axon) and with pkg-config.  Fails on any error.
set -eu
build=$1 work=$2 cc=$3
cmake=${CMAKE:-cmake}
rm -rf "$work"
mkdir -p "$work/src"
"$cmake" --install "$build" --prefix "$work/prefix" >/dev/null
cat >"$work/src/main.c" <<'C'
#include <axon.h>
#include <stdio.h>
#include <string.h>
static int got;
static void on_msg(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    got = *(const int *)msg->data;
    ax_stop(ctx);
}
int main(void)
{
    ax_loop *l;
    ax_system *s;
    ax_id a;
    int v = 42;
    if (ax_loop_new(NULL, &l) || ax_system_new(l, NULL, &s) ||
        ax_msg_register_pod(s, 1, "int", sizeof v, sizeof v) ||
        ax_spawn(s, on_msg, NULL, NULL, &a) || ax_system_send(s, ax_id_nil(), a, 1, &v, sizeof v))
        return 1;
    ax_loop_run(l);
    ax_system_free(s);
    ax_loop_free(l);
    return got == 42 && strcmp(ax_errname(AX_ESTALE), "AX_ESTALE") == 0 ? 0 : 1;
}
C
cat >"$work/src/CMakeLists.txt" <<'C'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(axon REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE axon::axon)
C
"$cmake" -S "$work/src" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
"$cmake" --build "$work/cm" >/dev/null
libdir=$(ls -d "$work/prefix"/lib*/ | head -1)
LD_LIBRARY_PATH="$libdir" "$work/cm/consumer"
echo "find_package(axon): ok"
PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --exists axon
# shellcheck disable=SC2046
"$cc" "$work/src/main.c" $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs axon) -o "$work/pc"
LD_LIBRARY_PATH="$libdir" "$work/pc"
echo "pkg-config axon: ok"
