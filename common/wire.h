/* wire.h - ZeroMQ transport helpers: CURVE setup, packets, broker replies. */
#ifndef IRNET_WIRE_H
#define IRNET_WIRE_H
#include "irnet.h"
#include "keys.h"
#include "irnet.pb-c.h"

/* Pack and send one Packet; with rid, a ROUTER routing frame goes first.
 * Returns 0, or -1 with errno set (EHOSTUNREACH: peer gone). */
int irn_packet_send(void *sock, const uint8_t *rid, size_t ridlen, const Irnet__Packet *p);

/* A packet carrying bytes in one of the oneof bytes fields. */
int irn_packet_send_bytes(void *sock, const uint8_t *rid, size_t ridlen,
			  Irnet__Packet__PCase which, const uint8_t *b, size_t n);

/* CURVE server / client options on a fresh socket. 0 or -1. */
int irn_curve_server(void *sock, const irn_keys *k);
int irn_curve_client(void *sock, const irn_keys *k, const uint8_t server_pk[IRN_PK_LEN]);

/* Fill a header for a new message; strings are borrowed. */
void irn_header_fill(Irnet__Header *h, uint8_t msgid[IRN_MSGID_LEN], const char *sender,
		     unsigned kind, uint64_t seq, bool exercise);

/* Broker-authored reply envelope (RECEIPT or ERROR) to one member. */
irn_err irn_broker_reply(const irn_keys *k, const char *network, const char *broker_id,
			 const char *to, unsigned kind, uint64_t seq,
			 const uint8_t *in_reply_to, bool exercise, const uint8_t *payload,
			 size_t plen, uint8_t **out, size_t *outlen) IRN_MUST_CHECK;
#endif
