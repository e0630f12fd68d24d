/* envelope.c - the signed envelope: build and the ordered receive checks. */
#include "envelope.h"
#include "attach.h"
#include "authz.h"
#include "crypto.h"
#include "profile.h"
#include "payloads.h"
#include "report.h"
#include "seal.h"
#include "canon.h"
#include "workflow.h"
#include "validate.h"
#include "merkle.h"

#include <stdlib.h>
#include <string.h>

irn_err
irn_envelope_build(const irn_keys *k, const char *network, const Irnet__Header *hdr,
		   const uint8_t *payload, size_t plen, uint8_t **out, size_t *outlen)
{
	if (plen > IRN_MAX_PAYLOAD)
		return IRN_ERR_TOOBIG;
	Irnet__Body body = IRNET__BODY__INIT;
	body.header = (Irnet__Header *)hdr;
	body.payload.data = (uint8_t *)payload;
	body.payload.len = plen;
	size_t blen = irnet__body__get_packed_size(&body);
	uint8_t *b = malloc(blen ? blen : 1);
	if (b == NULL)
		return IRN_ERR_NOMEM;
	irnet__body__pack(&body, b);

	uint8_t sig[IRN_SIG_LEN], kid[IRN_KEYID_LEN];
	irn_err e = irn_domain_sign(sig, IRN_DOMAIN_ENVELOPE, network, b, blen, k->sign_sk);
	if (e != IRN_OK) {
		free(b);
		return e;
	}
	irn_key_id(kid, k->sign_pk);
	Irnet__Envelope env = IRNET__ENVELOPE__INIT;
	env.signer_key_id.data = kid;
	env.signer_key_id.len = sizeof kid;
	env.body.data = b;
	env.body.len = blen;
	env.signature.data = sig;
	env.signature.len = sizeof sig;
	size_t elen = irnet__envelope__get_packed_size(&env);
	if (elen > IRN_MAX_ENVELOPE) {
		free(b);
		return IRN_ERR_TOOBIG;
	}
	uint8_t *eb = malloc(elen);
	if (eb == NULL) {
		free(b);
		return IRN_ERR_NOMEM;
	}
	irnet__envelope__pack(&env, eb);
	free(b);
	*out = eb;
	*outlen = elen;
	return IRN_OK;
}

void
irn_msg_free(irn_msg **mp)
{
	if (mp == NULL || *mp == NULL)
		return;
	irn_msg *m = *mp;
	if (m->body)
		irnet__body__free_unpacked(m->body, NULL);
	if (m->env)
		irnet__envelope__free_unpacked(m->env, NULL);
	free(m);
	*mp = NULL;
}

static const char *
short_text(const char *s)
{
	return s ? irn_text_check(s, strlen(s), IRN_MAX_SHORT_TEXT, 0) : NULL;
}

const char *
irn_header_validate(const Irnet__Header *h, int64_t now_ms)
{
	if (h == NULL)
		return N_("missing header");
	if (h->version != IRN_PROTOCOL_VERSION)
		return N_("unsupported protocol version");
	if (h->message_id.len != IRN_MSGID_LEN)
		return N_("message id must be 16 bytes");
	if (!irn_member_id_ok(h->sender))
		return N_("bad sender id");
	if (h->n_to_members > IRN_MAX_RECIPIENTS || h->n_to_roles > IRN_MAX_ROLES_IN_LIST)
		return N_("too many recipients");
	for (size_t i = 0; i < h->n_to_members; i++)
		if (!irn_member_id_ok(h->to_members[i]))
			return N_("bad recipient id");
	for (size_t i = 0; i < h->n_to_roles; i++)
		if (irn_role_name(h->to_roles[i]) == NULL)
			return N_("bad recipient role");
	if (h->sequence == 0)
		return N_("sequence must start at 1");
	if (!irn_kind_known(h->kind))
		return N_("unknown kind");
	if (h->kind != IRNET__KIND__KIND_RECEIPT && h->kind != IRNET__KIND__KIND_ERROR &&
	    h->n_to_members + h->n_to_roles == 0)
		return N_("no recipients");
	if (h->tlp > IRNET__TLP__TLP_RED)
		return N_("bad confidentiality marking");
	if (h->has_in_reply_to && h->in_reply_to.len != IRN_MSGID_LEN)
		return N_("in-reply-to must be 16 bytes");
	if (h->created_ms <= 0)
		return N_("bad creation time");
	if (now_ms && h->created_ms > now_ms + IRN_MAX_FUTURE_MS)
		return N_("creation time in the future");
	const char *why;
	if ((why = short_text(h->signed_by_person)) || (why = short_text(h->local_account)))
		return why;
	return NULL;
}

const char *
irn_payload_validate(unsigned kind, const uint8_t *p, size_t len)
{
	if (len > IRN_MAX_PAYLOAD)
		return N_("payload too large");
	switch (kind) {
	case IRNET__KIND__KIND_INITIAL_REPORT: {
		Irnet__InitialReport *r = irnet__initial_report__unpack(NULL, len, p);
		if (r == NULL)
			return N_("initial report does not decode");
		const char *why = !irn_pb_canonical(&r->base, p, len)
					  ? N_("initial report is not in canonical form")
					  : irn_report_validate(r);
		irnet__initial_report__free_unpacked(r, NULL);
		return why;
	}
	case IRNET__KIND__KIND_RECEIPT: /* the broker's signed batch root (merkle.h) */
		return irn_batch_root_validate(p, len);
	case IRNET__KIND__KIND_TASKING:
		return irn_tasking_validate(p, len);
	case IRNET__KIND__KIND_PROFILE:
		return irn_profile_validate(p, len);
	case IRNET__KIND__KIND_ATTACHMENT:
		return irn_attachment_validate(p, len);
	case IRNET__KIND__KIND_TASK_STATUS:
		return irn_task_status_validate(p, len);
	case IRNET__KIND__KIND_CLASSIFICATION:
	case IRNET__KIND__KIND_TRANSITION:
		return irn_transition_validate(kind, p, len);
	case IRNET__KIND__KIND_CHECKPOINT: {
		Irnet__Checkpoint *c = irnet__checkpoint__unpack(NULL, len, p);
		if (c == NULL)
			return N_("checkpoint does not decode");
		const char *why = !irn_pb_canonical(&c->base, p, len) || c->ledger_index == 0 ||
					  c->head_hash.len != IRN_HASH_LEN
				  ? N_("bad checkpoint") : NULL;
		irnet__checkpoint__free_unpacked(c, NULL);
		return why;
	}
	case IRNET__KIND__KIND_ERROR: {
		Irnet__ErrorReply *r = irnet__error_reply__unpack(NULL, len, p);
		if (r == NULL)
			return N_("error reply does not decode");
		const char *why = !irn_pb_canonical(&r->base, p, len) ? N_("error reply not canonical")
										 : short_text(r->detail);
		if (!why && r->has_message_id && r->message_id.len != IRN_MSGID_LEN)
			why = N_("bad message id");
		irnet__error_reply__free_unpacked(r, NULL);
		return why;
	}
	default:
		if (irn_typed_kind(kind))
			return irn_typed_validate(kind, p, len);
		/* Notes (and kinds whose schema lives elsewhere): the payload
		 * must be valid multi-line text. */
		return len == 0 ? NULL
				: irn_text_check((const char *)p, len, IRN_MAX_LONG_TEXT, IRN_TEXT_MULTILINE);
	}
}

static int
refuse(irn_refusal *why, unsigned code, const char *reason)
{
	why->code = code;
	why->reason = reason;
	return -1;
}

int
irn_envelope_check(const irn_roster *r, const char *network, const uint8_t *buf, size_t len,
		   const char *conn_member, int64_t now_ms, int64_t at_ms, irn_msg **out,
		   irn_refusal *why)
{
	*out = NULL;
	why->code = 0;
	why->reason = NULL;
	if (len > IRN_MAX_ENVELOPE)
		return refuse(why, IRNET__ERROR_CODE__ERR_OVERSIZE, N_("envelope too large"));
	irn_msg *m = calloc(1, sizeof *m);
	if (m == NULL)
		return refuse(why, IRNET__ERROR_CODE__ERR_STORAGE, N_("out of memory"));
	int rc = -1;
	m->env = irnet__envelope__unpack(NULL, len, buf);
	if (m->env == NULL) {
		refuse(why, IRNET__ERROR_CODE__ERR_MALFORMED, N_("envelope does not decode"));
		goto out;
	}
	if (!irn_pb_canonical(&m->env->base, buf, len)) {
		/* unknown, reordered or repeated fields: bytes nobody signed would
		 * ride along into every ledger under a valid signature */
		refuse(why, IRNET__ERROR_CODE__ERR_MALFORMED, N_("envelope is not in canonical form"));
		goto out;
	}
	if (m->env->signer_key_id.len != IRN_KEYID_LEN || m->env->signature.len != IRN_SIG_LEN) {
		refuse(why, IRNET__ERROR_CODE__ERR_MALFORMED, N_("bad key id or signature length"));
		goto out;
	}
	const uint8_t *signer_pk = NULL;
	m->signer = irn_roster_find_signer(r, m->env->signer_key_id.data, at_ms, &signer_pk);
	if (m->signer == NULL) {
		refuse(why, IRNET__ERROR_CODE__ERR_UNKNOWN_MEMBER, N_("signer key not in roster"));
		goto out;
	}
	if (conn_member && strcmp(conn_member, m->signer->id) != 0) {
		refuse(why, IRNET__ERROR_CODE__ERR_SIGNER_MISMATCH,
		       N_("envelope signed by another member than the connection's"));
		goto out;
	}
	if (!irn_member_current(m->signer, at_ms)) {
		refuse(why, IRNET__ERROR_CODE__ERR_REVOKED, N_("signer revoked or outside validity"));
		goto out;
	}
	m->body = irnet__body__unpack(NULL, m->env->body.len, m->env->body.data);
	if (m->body == NULL) {
		refuse(why, IRNET__ERROR_CODE__ERR_MALFORMED, N_("body does not decode"));
		goto out;
	}
	m->h = m->body->header;
	/* Canonical form only (canon.h): no unknown fields, exact re-encoding.
	 * protobuf-c keeps strings as C strings, so an embedded NUL would
	 * otherwise hide the rest of a string from every check. */
	if (!irn_pb_canonical(&m->body->base, m->env->body.data, m->env->body.len)) {
		refuse(why, IRNET__ERROR_CODE__ERR_MALFORMED, N_("body is not in canonical form"));
		goto out;
	}
	const char *bad = irn_header_validate(m->h, 0);
	if (bad) {
		refuse(why, IRNET__ERROR_CODE__ERR_MALFORMED, bad);
		goto out;
	}
	if (m->body->payload.len > IRN_MAX_PAYLOAD) {
		refuse(why, IRNET__ERROR_CODE__ERR_OVERSIZE, N_("payload too large"));
		goto out;
	}
	if (strcmp(m->h->sender, m->signer->id) != 0) {
		refuse(why, IRNET__ERROR_CODE__ERR_SENDER_MISMATCH, N_("header sender is not the signer"));
		goto out;
	}
	if (now_ms && m->h->created_ms > now_ms + IRN_MAX_FUTURE_MS) {
		refuse(why, IRNET__ERROR_CODE__ERR_FUTURE, N_("creation time in the future"));
		goto out;
	}
	if (!irn_authz_may_send(m->signer->roles, m->h->kind)) {
		refuse(why, IRNET__ERROR_CODE__ERR_FORBIDDEN_KIND, N_("role may not send this kind"));
		goto out;
	}
	uint32_t may_receive = irn_authz_recipients(m->h->kind);
	for (size_t i = 0; i < m->h->n_to_roles; i++)
		if (!(may_receive & (1u << m->h->to_roles[i]))) {
			refuse(why, IRNET__ERROR_CODE__ERR_BAD_RECIPIENT,
			       N_("a recipient role may not receive this kind"));
			goto out;
		}
	for (size_t i = 0; i < m->h->n_to_members; i++) {
		const irn_member *to = irn_roster_find(r, m->h->to_members[i]);
		if (to == NULL || !(to->roles & may_receive)) {
			refuse(why, IRNET__ERROR_CODE__ERR_BAD_RECIPIENT,
			       to ? N_("a recipient may not receive this kind") : N_("unknown recipient"));
			goto out;
		}
	}
	if (irn_domain_verify(m->env->signature.data, IRN_DOMAIN_ENVELOPE, network,
			      m->env->body.data, m->env->body.len, signer_pk) != IRN_OK) {
		refuse(why, IRNET__ERROR_CODE__ERR_BAD_SIGNATURE, N_("signature does not verify"));
		goto out;
	}
	/* A TLP:RED payload is sealed: only its structure can be checked here;
	 * each recipient validates the content after opening it. */
	bad = m->h->tlp == IRNET__TLP__TLP_RED
		      ? irn_sealed_validate(m->body->payload.data, m->body->payload.len)
		      : irn_payload_validate(m->h->kind, m->body->payload.data, m->body->payload.len);
	if (bad) {
		refuse(why, IRNET__ERROR_CODE__ERR_MALFORMED, bad);
		goto out;
	}
	irn_hash(m->hash, buf, len);
	rc = 0;
out:
	if (rc == 0)
		*out = m;
	else
		irn_msg_free(&m);
	return rc;
}

bool
irn_envelope_peek_id(const uint8_t *buf, size_t len, uint8_t id[IRN_MSGID_LEN])
{
	bool ok = false;
	Irnet__Envelope *e = len <= IRN_MAX_ENVELOPE ? irnet__envelope__unpack(NULL, len, buf) : NULL;
	Irnet__Body *b = e ? irnet__body__unpack(NULL, e->body.len, e->body.data) : NULL;
	if (b && b->header && b->header->message_id.len == IRN_MSGID_LEN) {
		memcpy(id, b->header->message_id.data, IRN_MSGID_LEN);
		ok = true;
	}
	if (b)
		irnet__body__free_unpacked(b, NULL);
	if (e)
		irnet__envelope__free_unpacked(e, NULL);
	return ok;
}

bool
irn_msg_addressed_to(const Irnet__Header *h, const char *id, uint32_t roles)
{
	for (size_t i = 0; i < h->n_to_members; i++)
		if (strcmp(h->to_members[i], id) == 0)
			return true;
	for (size_t i = 0; i < h->n_to_roles; i++)
		if (h->to_roles[i] < 32 && (roles & (1u << h->to_roles[i])))
			return true;
	return false;
}

const char *
irn_error_code_name(unsigned code)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&irnet__error_code__descriptor, (int)code);
	return v ? v->name : "ERR_UNKNOWN";
}
