/* fuzz_packet - a transport frame as the broker and the node decode it: the
 * Packet, its inner messages, every envelope it carries (checked against the
 * fixed roster the way broker/broker.c and node/daemon.c do), the roster in a
 * Welcome; and the raw input as a RECEIPT (BatchRoot) and an ERROR payload.
 * Receipts are batch-signed (merkle.h): fuzz_receipt goes deeper there. */
#include "fuzz_common.h"
#include "envelope.h"
#include "crypto.h"
#include "merkle.h"

#include <string.h>

static uint8_t pin[IRN_PK_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	fuzz_pin(pin);
	(void)fuzz_roster();
	return 0;
}

/* irn_envelope_check; on success the message's kind must be kind (0: any). */
static irn_msg *
check(const ProtobufCBinaryData *b, const char *conn, int64_t at_ms, unsigned kind)
{
	irn_msg *m = NULL;
	irn_refusal why;
	if (irn_envelope_check(fuzz_roster(), FUZZ_NETWORK, b->data, b->len, conn, FUZZ_NOW_MS,
			       at_ms, &m, &why) != 0) {
		FUZZ_CHECK(m == NULL && why.reason != NULL);
		return NULL;
	}
	FUZZ_CHECK(m != NULL && m->signer != NULL);
	if (kind && (m->h->kind != kind || !irn_member_has_role(m->signer, IRNET__ROLE__ROLE_BROKER)))
		irn_msg_free(&m);
	return m;
}

/* node/daemon.c handle_receipt: path to a batch root signed by the broker. */
static Irnet__Receipt *
receipt(const ProtobufCBinaryData *b)
{
	Irnet__Receipt *r = NULL;
	irn_refusal why;
	irn_receipt_status st = irn_receipt_check(fuzz_roster(), FUZZ_NETWORK, FUZZ_ID_BROKER, b->data,
						  b->len, FUZZ_NOW_MS, FUZZ_NOW_MS, NULL, &r, &why);
	FUZZ_CHECK((st == IRN_RECEIPT_OK) == (r != NULL));
	FUZZ_CHECK(st == IRN_RECEIPT_OK || why.reason != NULL);
	if (r)
		FUZZ_CHECK(r->envelope_hash.len == IRN_HASH_LEN && r->message_id.len == IRN_MSGID_LEN &&
			   r->n_path <= IRN_MERKLE_MAX_PATH && r->has_batch_root);
	return r;
}

/* node/daemon.c handle_error: the payload of a checked reply. */
static void
broker_error(const ProtobufCBinaryData *b)
{
	irn_msg *m = check(b, NULL, FUZZ_NOW_MS, IRNET__KIND__KIND_ERROR);
	if (m == NULL)
		return;
	const ProtobufCBinaryData *p = &m->body->payload;
	Irnet__ErrorReply *r = irnet__error_reply__unpack(NULL, p->len, p->data);
	FUZZ_CHECK(r != NULL);
	(void)irn_error_code_name(r->code);
	irnet__error_reply__free_unpacked(r, NULL);
	irn_msg_free(&m);
}

/* node/daemon.c handle_deliver, without the ledger. */
static void
deliver(const Irnet__Deliver *d)
{
	Irnet__Receipt *r = receipt(&d->receipt);
	if (r == NULL) {
		/* still run the envelope through the checks, as a relayed message */
		irn_msg *m = check(&d->envelope, NULL, FUZZ_NOW_MS, 0);
		irn_msg_free(&m);
		return;
	}
	uint8_t hash[IRN_HASH_LEN];
	irn_hash(hash, d->envelope.data, d->envelope.len);
	if (memcmp(hash, r->envelope_hash.data, IRN_HASH_LEN) == 0 &&
	    r->ledger_index == d->ledger_index) {
		irn_msg *m = check(&d->envelope, NULL, r->accepted_ms, 0);
		if (m != NULL) {
			FUZZ_CHECK(memcmp(m->hash, hash, IRN_HASH_LEN) == 0);
			const irn_member *self = irn_roster_find(fuzz_roster(), FUZZ_ID_COORDINATOR);
			(void)irn_msg_addressed_to(m->h, self->id, self->roles);
		}
		irn_msg_free(&m);
	}
	irnet__receipt__free_unpacked(r, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Irnet__Packet *p = irnet__packet__unpack(NULL, size, data);
	if (p != NULL) {
		switch (p->p_case) {
		case IRNET__PACKET__P_HELLO:
			FUZZ_CHECK(p->hello != NULL);
			(void)(p->hello->version == IRN_PROTOCOL_VERSION);
			break;
		case IRNET__PACKET__P_WELCOME:
			FUZZ_CHECK(p->welcome != NULL);
			if (p->welcome->has_roster) {
				irn_roster *r = NULL;
				uint8_t np[IRN_PK_LEN];
				if (irn_roster_parse(p->welcome->roster.data, p->welcome->roster.len, pin,
						     FUZZ_NETWORK, FUZZ_NOW_MS, &r, np) == IRN_OK)
					(void)irn_roster_newer(fuzz_roster(), r);
				irn_roster_free(&r);
			}
			break;
		case IRNET__PACKET__P_SUBMIT: {
			/* broker/broker.c: the connection's member is the signer */
			irn_msg *m = check(&p->submit, FUZZ_ID_OPERATOR, FUZZ_NOW_MS, 0);
			irn_msg_free(&m);
			break;
		}
		case IRNET__PACKET__P_RECEIPT: {
			Irnet__Receipt *r = receipt(&p->receipt);
			if (r)
				irnet__receipt__free_unpacked(r, NULL);
			break;
		}
		case IRNET__PACKET__P_ERROR:
			broker_error(&p->error);
			break;
		case IRNET__PACKET__P_DELIVER:
			FUZZ_CHECK(p->deliver != NULL);
			deliver(p->deliver);
			break;
		case IRNET__PACKET__P_ACK:
			FUZZ_CHECK(p->ack != NULL);
			break;
		case IRNET__PACKET__P_HEARTBEAT:
			FUZZ_CHECK(p->heartbeat != NULL);
			break;
		default:
			/* Query, Answer and later cases: decoded above, handled
			 * in broker/ and node/ with no common/ validator */
			break;
		}
		irnet__packet__free_unpacked(p, NULL);
	}
	(void)irn_payload_validate(IRNET__KIND__KIND_RECEIPT, data, size);
	(void)irn_payload_validate(IRNET__KIND__KIND_ERROR, data, size);
	return 0;
}
