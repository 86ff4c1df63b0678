#!/usr/bin/env bash
# test-net.sh - the links layer's extra CI step: build the libFuzzer
# targets with clang (frame decoder and handshake, fed through the real
# connection code) and run each briefly from the generated seed corpus.
#   FUZZ_SECONDS=N   seconds per target (default 30)
#   FUZZ_OUT=DIR     keep the corpus/crash files here (default: temporary)
# Exit status 1 on a crash or a build failure.  Needs clang and
# libclang-rt-dev (apt: clang libclang-rt-14-dev); under CI=true a missing
# toolchain is an error, never a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
axon_base_deps || exit 1
if ! axon_need_packages clang libclang-rt-14-dev; then
  [ "${CI:-}" = true ] && exit 1
  echo "test-net: clang/libFuzzer not available: fuzzing skipped"; exit 0
fi
secs=${FUZZ_SECONDS:-30}
dir=build-test/fuzz
mkdir -p build-test
echo "== [fuzz] configure + build ($dir)"
if ! CC=clang cmake -S . -B "$dir" -DAXON_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DAXON_BUILD_BENCH=OFF -DAXON_BUILD_EXAMPLES=OFF \
      "-DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link,address" >"$dir.configure.log" 2>&1; then
  cat "$dir.configure.log"; exit 1
fi
if ! cmake --build "$dir" -j"$(nproc)" --target fuzz_frame fuzz_handshake fuzz_replay \
      >"$dir.build.log" 2>&1; then
  grep -E "error" "$dir.build.log" | head -40; exit 1
fi
out=${FUZZ_OUT:-$(mktemp -d)}
failed=0
for t in frame handshake; do
  corpus="$out/corpus-$t"
  mkdir -p "$corpus" "$out/crash-$t"
  "$dir/tests/fuzz/fuzz_replay" "$t" --write-seeds "$corpus"
  echo "== [fuzz] fuzz_$t for ${secs}s"
  if ! "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$out/crash-$t/" "$corpus" >"$out/fuzz_$t.log" 2>&1; then
    failed=1
    echo "fuzz_$t FAILED:"; tail -40 "$out/fuzz_$t.log"
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs" "$out/fuzz_$t.log" | tr '\n' ' '
  echo
  crashes=$(find "$out/crash-$t" -type f | wc -l)
  echo "fuzz_$t: crashes=$crashes"
  [ "$crashes" = 0 ] || failed=1
done
[ -z "${FUZZ_OUT:-}" ] && rm -rf "$out"
if [ $failed = 0 ]; then echo "fuzz: passed"; else echo "fuzz: FAILED"; fi
exit $failed
