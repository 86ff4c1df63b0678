/* consts_only.h - a header without messages: the generated code must still
 * compile (empty type table, empty MESSAGES). */
#pragma once
#include <axon/idl.h>

#define MAX_LEGS 4
#define NEG_OFFSET -12

AX_ENUM(Venue, int32_t) { VENUE_LSE = 1, VENUE_XETRA = 2 };
