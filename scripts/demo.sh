#!/usr/bin/env bash
# demo.sh - build axon (Release) and run the demo programs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
axon_base_deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== examples/counter (the seed's TCounter: Add, Add, Query -> Value)"
build/examples/counter
echo "== examples/behaviors (ping/pong with become)"
build/examples/behaviors
echo "== examples/pingpong_coro (the seed's TPingActor: sleep 100 ms, then Pong)"
build/examples/pingpong_coro
echo "== examples/ring (1000 actors, 100 tokens)"
build/examples/ring 1000 100 100000
echo "== examples/distributed_ring (4 processes, one actor each, over Unix sockets)"
build/examples/distributed_ring --procs 4 --laps 3
echo "== examples/ping_remote (ping an actor in another process, 10,000 round trips)"
build/examples/ping_remote
echo "== bench/ring (100 actors, 1024 in flight)"
build/bench/ring --actors 100 --batch 1024 --hops 50000000
