#!/usr/bin/env bash
# test.sh - build and run every test: the suite with warnings as errors,
# again under AddressSanitizer + UndefinedBehaviorSanitizer, the threaded
# tests under ThreadSanitizer, and whatever extra suites exist (the
# AArch64 coroutine run under qemu-user).
# Under CI=true a missing toolchain is an error, never a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
axon_base_deps || exit 1
axon_need_packages g++ python3 valgrind || { [ "${CI:-}" = true ] && exit 1; }

jobs=$(nproc)
failed=0
summary=()

run_suite() { # name build-dir ctest-args cmake-args...
  local name=$1 dir=$2 cargs=$3; shift 3
  echo "== [$name] configure + build ($dir)"
  if ! cmake -S . -B "$dir" -DAXON_WERROR=ON "$@" >"$dir.configure.log" 2>&1; then
    cat "$dir.configure.log"; failed=1; summary+=("$name: configure FAILED"); return
  fi
  if ! cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
    grep -E "error|Error" "$dir.build.log" | head -40; failed=1; summary+=("$name: build FAILED"); return
  fi
  echo "== [$name] ctest"
  # shellcheck disable=SC2086
  if ctest --test-dir "$dir" --output-on-failure -j"$jobs" $cargs 2>&1 | tee "$dir.ctest.log" | grep -E "tests passed|tests failed|Failed|\*\*\*|SKIPPED|Not Run"; then :; fi
  local line
  line=$(grep -E "tests passed|tests failed" "$dir.ctest.log" | tail -1)
  summary+=("$name: ${line:-no summary}")
  grep -q "100% tests passed" "$dir.ctest.log" || failed=1
}

mkdir -p build-test
run_suite "default" build-test/default "" -DCMAKE_BUILD_TYPE=Debug
run_suite "asan+ubsan" build-test/asan "-LE valgrind" -DCMAKE_BUILD_TYPE=Debug \
  -DAXON_SANITIZE=address,undefined
run_suite "tsan" build-test/tsan "-L threads" -DCMAKE_BUILD_TYPE=Debug -DAXON_SANITIZE=thread

if [ -f scripts/test-aarch64.sh ]; then
  echo "== [aarch64] coroutine and actor tests under qemu-user"
  if bash scripts/test-aarch64.sh >build-test/aarch64.log 2>&1; then summary+=("aarch64: passed"); else
    tail -30 build-test/aarch64.log; summary+=("aarch64: FAILED"); failed=1; fi
fi

if [ -f scripts/test-net.sh ]; then
  echo "== [net] fuzz the frame decoder and handshake briefly"
  if bash scripts/test-net.sh >build-test/net.log 2>&1; then summary+=("net fuzz: passed"); else
    tail -30 build-test/net.log; summary+=("net fuzz: FAILED"); failed=1; fi
fi

echo
echo "== summary"
for s in "${summary[@]}"; do echo "  $s"; done
if [ $failed = 0 ]; then echo "all suites passed"; else echo "SOME SUITES FAILED"; fi
exit $failed
