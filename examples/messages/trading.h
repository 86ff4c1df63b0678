/* trading.h - the messages of the cross-language trading desk example.
 *
 * A gateway turns client orders into NewOrder messages; the risk engine
 * answers each RiskCheck with a RiskResult; the matching engine reports
 * OrderAck and Fill; market data flows as Quote.  tools/axon-msggen turns
 * this header into C, C++, Rust and Python (see docs/msggen.md); the build
 * does that in examples/messages.cmake.
 */
#ifndef AXON_EXAMPLE_TRADING_H
#define AXON_EXAMPLE_TRADING_H

#include <axon/idl.h>

/* Bytes in an instrument symbol, NUL-padded (not necessarily terminated). */
#define SYMBOL_LEN 8

/* Which way an order trades. */
AX_ENUM(Side, int32_t) {
    SIDE_BUY = 0,  /* buy: pay cash, receive the instrument */
    SIDE_SELL = 1, /* sell: deliver the instrument, receive cash */
};

/* How an order is priced. */
AX_ENUM(OrdType, int32_t) {
    ORD_TYPE_LIMIT = 0,  /* trade at `price` or better */
    ORD_TYPE_MARKET = 1, /* trade at the best available price */
};

/* Why the risk engine refused an order. */
AX_ENUM(RejectReason, uint8_t) {
    REJECT_REASON_NONE = 0,
    REJECT_REASON_LIMIT = 1,      /* position or notional limit exceeded */
    REJECT_REASON_PRICE_BAND = 2, /* price too far from the market */
    REJECT_REASON_HALTED = 3,     /* the instrument is not trading */
};

/* A client order entering the desk. */
AX_MESSAGE(NewOrder, 1010)
typedef struct {
    int64_t order_id;          /* unique per gateway */
    int64_t client_id;
    char symbol[SYMBOL_LEN];   /* e.g. "ACME" */
    double quantity;
    double price;              /* ignored for market orders */
    Side side;
    OrdType type;
} NewOrder;

/* Ask the risk engine whether an order may go to the market. */
AX_MESSAGE(RiskCheck, 1020)
typedef struct {
    int64_t order_id;
    char symbol[SYMBOL_LEN];
    double quantity;
    double price;
    int32_t side; /* 0 = buy, 1 = sell */
} RiskCheck;

/* The risk engine's answer to one RiskCheck. */
AX_MESSAGE(RiskResult, 1021)
typedef struct {
    RiskCheck check;     /* the request, echoed */
    bool approved;
    RejectReason reason; /* REJECT_REASON_NONE when approved */
    double exposure;     /* the client's exposure after this order */
} RiskResult;

/* The matching engine accepted an order. */
AX_MESSAGE(OrderAck, 1030)
typedef struct {
    int64_t order_id;
    int64_t exchange_id;
    int64_t timestamp_ns; /* matching engine clock, ns since the epoch */
} OrderAck;

/* Part or all of an order traded. */
AX_MESSAGE(Fill, 1031)
typedef struct {
    int64_t order_id;
    int64_t fill_id;
    char symbol[SYMBOL_LEN];
    double quantity;
    double price;
    Side side;
    bool last; /* true when the order is completely filled */
} Fill;

/* Cancel an order that has not fully traded. */
AX_MESSAGE(CancelOrder, 1040)
typedef struct {
    int64_t order_id;
    int64_t client_id;
} CancelOrder;

/* Top of the book for one instrument. */
AX_MESSAGE(Quote, 1050)
typedef struct {
    char symbol[SYMBOL_LEN];
    double bid_price;
    double ask_price;
    int64_t bid_size;
    int64_t ask_size;
    int64_t timestamp_ns;
} Quote;

/* Ends the session: every engine flushes and stops. */
AX_EMPTY_MESSAGE(Shutdown, 1099)

#endif /* AXON_EXAMPLE_TRADING_H */
