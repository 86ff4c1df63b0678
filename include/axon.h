/* axon.h - the umbrella header: include this to get the whole public API.
 *
 *   axon/common.h  errors, ids, durations, allocator
 *   axon/loop.h    event loop, timers, fd watchers, embedding
 *   axon/msg.h     message types and the type registry
 *   axon/system.h  systems, cross-thread post, dead letters, stats, names
 *   axon/actor.h   actors, behaviours, the handler context, monitors
 *   axon/coro.h    coroutine actors: sleep, ask, I/O that waits
 *   axon/node.h    links between systems: nodes, listeners, names across nodes
 */
#ifndef AXON_H
#define AXON_H

#include "axon/common.h"
#include "axon/loop.h"
#include "axon/msg.h"
#include "axon/system.h"
#include "axon/actor.h"
#include "axon/coro.h"
#include "axon/node.h"

#endif /* AXON_H */
