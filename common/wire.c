/* wire.c - ZeroMQ helpers. */
#include "wire.h"
#include "envelope.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int
irn_packet_send(void *sock, const uint8_t *rid, size_t ridlen, const Irnet__Packet *p)
{
	size_t n = irnet__packet__get_packed_size(p);
	zmq_msg_t m;
	if (zmq_msg_init_size(&m, n) != 0)
		return -1;
	irnet__packet__pack(p, zmq_msg_data(&m));
	if (rid && zmq_send(sock, rid, ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return -1;
	}
	if (zmq_msg_send(&m, sock, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return -1;
	}
	return 0;
}

int
irn_packet_send_bytes(void *sock, const uint8_t *rid, size_t ridlen, Irnet__Packet__PCase which,
		      const uint8_t *b, size_t n)
{
	Irnet__Packet p = IRNET__PACKET__INIT;
	ProtobufCBinaryData d = { n, (uint8_t *)b };
	p.p_case = which;
	switch (which) {
	case IRNET__PACKET__P_SUBMIT: p.submit = d; break;
	case IRNET__PACKET__P_RECEIPT: p.receipt = d; break;
	case IRNET__PACKET__P_ERROR: p.error = d; break;
	default: return -1;
	}
	return irn_packet_send(sock, rid, ridlen, &p);
}

int
irn_curve_server(void *sock, const irn_keys *k)
{
	int one = 1;
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, k->box_sk, 32) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, k->box_pk, 32) ||
	    zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "irnet", 5))
		return -1;
	return 0;
}

int
irn_curve_client(void *sock, const irn_keys *k, const uint8_t server_pk[IRN_PK_LEN])
{
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_pk, 32) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, k->box_sk, 32) ||
	    zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, k->box_pk, 32))
		return -1;
	return 0;
}

void
irn_header_fill(Irnet__Header *h, uint8_t msgid[IRN_MSGID_LEN], const char *sender,
		unsigned kind, uint64_t seq, bool exercise)
{
	irnet__header__init(h);
	irn_msgid_new(msgid);
	h->version = IRN_PROTOCOL_VERSION;
	h->message_id.data = msgid;
	h->message_id.len = IRN_MSGID_LEN;
	h->sender = (char *)sender;
	h->sequence = seq;
	h->created_ms = irn_now_ms();
	h->kind = kind;
	h->exercise = exercise;
	h->tlp = IRNET__TLP__TLP_AMBER;
}

irn_err
irn_broker_reply(const irn_keys *k, const char *network, const char *broker_id, const char *to,
		 unsigned kind, uint64_t seq, const uint8_t *in_reply_to, bool exercise,
		 const uint8_t *payload, size_t plen, uint8_t **out, size_t *outlen)
{
	Irnet__Header h;
	uint8_t id[IRN_MSGID_LEN];
	irn_header_fill(&h, id, broker_id, kind, seq, exercise);
	char *tos[1] = { (char *)to };
	if (to) {
		h.to_members = tos;
		h.n_to_members = 1;
	}
	if (in_reply_to) {
		h.has_in_reply_to = true;
		h.in_reply_to.data = (uint8_t *)in_reply_to;
		h.in_reply_to.len = IRN_MSGID_LEN;
	}
	return irn_envelope_build(k, network, &h, payload, plen, out, outlen);
}
