#!/usr/bin/env bash
# compare.sh - the local ring against its references, interleaved, so that
# ratios come from the same minutes of the same (noisy) machine.
#   bench/compare.sh [ROUNDS] [BUILD_DIR]
# Needs the peers built: sh ../shared/peers/build.sh (OUT=/tmp/peers-build),
# Erlang optional.  Prints one line per run and a median per config.
set -u
rounds=${1:-5}
build=${2:-build}
peers=${PEERS:-/tmp/peers-build}
M=100000000
declare -A res
run() { # name command...
  local name=$1; shift
  local line
  line=$("$@" 2>/dev/null | grep -o 'hops_per_s=[0-9.]*' | tail -1 | cut -d= -f2)
  echo "$name hops_per_s=${line:-nan}"
  res[$name]="${res[$name]:-} ${line:-}"
}
for r in $(seq "$rounds"); do
  run axon_ring "$build/bench/ring" --actors 100 --batch 1024 --hops $M
  [ -x "$peers/c_ring_fifo" ] && run c_ring_fifo "$peers/c_ring_fifo" 100 1024 $((M * 3))
  [ -x "$peers/c_ring_mailbox" ] && run c_ring_mailbox "$peers/c_ring_mailbox" 100 1024 $M freelist
  if command -v erl >/dev/null && [ -f "$peers/ring.beam" ]; then
    run erlang_S1 erl -noshell -pa "$peers" +S 1 -run ring main 100 1024 20000000
  fi
done
echo "== medians over $rounds rounds (M hops/s)"
for k in "${!res[@]}"; do
  printf '%s %s\n' "$k" "$(echo ${res[$k]} | tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "median=%.1fM n=%d", m/1e6, NR}')"
done | sort
