/* broker.h - the provincial broker: admits rostered members (CURVE + ZAP),
 * verifies every envelope, ledgers it, returns a signed receipt and forwards
 * it to its recipients from per-member cursors over the ledger. */
#ifndef IRNET_BROKER_H
#define IRNET_BROKER_H
#include "home.h"

typedef struct broker_opts {
	const char *listen;   /* overrides config */
	int batch_max;        /* messages per commit */
	int window;           /* deliveries in flight per member */
} broker_opts;

/* Runs until SIGINT/SIGTERM. Returns a process exit code. */
int broker_run(irn_home *h, const broker_opts *o);
#endif
