/* test_envelope.c - irn_envelope_build / irn_envelope_check: acceptance and
 * every refusal path of docs/PROTOCOL.md "Receiving", with real keys, a real
 * authority-signed roster and a real Form 03 payload. */
#include "helpers.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#define OP      "kontum/op-benhvien"
#define OWNER   "kontum/owner-syt"
#define RESP    "kontum/ubnd-ungcuu"
#define REVOKED "kontum/op-revoked"
#define EXPIRED "kontum/op-expired"

typedef struct fx {
	irn_keys *auth, *op, *owner, *resp, *revoked, *expired, *stranger;
	uint8_t *rbytes;
	size_t rlen;
	irn_roster *r;
} fx;

static int
setup(void **state)
{
	th_init();
	fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->auth = th_keys();
	f->op = th_keys();
	f->owner = th_keys();
	f->resp = th_keys();
	f->revoked = th_keys();
	f->expired = th_keys();
	f->stranger = th_keys();
	int64_t now = irn_now_ms();
	th_member m[] = {
		{ .id = OP, .keys = f->op, .roles = { IRNET__ROLE__ROLE_OPERATOR } },
		{ .id = OWNER, .keys = f->owner, .roles = { IRNET__ROLE__ROLE_OWNER } },
		{ .id = RESP, .keys = f->resp, .roles = { IRNET__ROLE__ROLE_RESPONDER } },
		{ .id = REVOKED, .keys = f->revoked, .roles = { IRNET__ROLE__ROLE_OPERATOR },
		  .revoked = true },
		{ .id = EXPIRED, .keys = f->expired, .roles = { IRNET__ROLE__ROLE_OPERATOR },
		  .valid_from_ms = now - 10 * TH_DAY_MS, .valid_until_ms = now - TH_DAY_MS },
	};
	th_roster_spec s = { .version = 7, .signer = f->auth, .members = m,
			     .n_members = sizeof m / sizeof m[0] };
	f->rbytes = th_roster(&s, &f->rlen);
	f->r = th_roster_parse_ok(f->rbytes, f->rlen, f->auth->sign_pk, TH_NET);
	assert_int_equal(f->r->n_members, 5);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	irn_roster_free(&f->r);
	free(f->rbytes);
	irn_keys_free(&f->auth);
	irn_keys_free(&f->op);
	irn_keys_free(&f->owner);
	irn_keys_free(&f->resp);
	irn_keys_free(&f->revoked);
	irn_keys_free(&f->expired);
	irn_keys_free(&f->stranger);
	free(f);
	return 0;
}

/* Run the check with the receiver's clock = acceptance time = now. */
static int
check(const fx *f, const char *network, const uint8_t *buf, size_t len, const char *conn,
      irn_refusal *why)
{
	irn_msg *m = NULL;
	int64_t now = irn_now_ms();
	int rc = irn_envelope_check(f->r, network, buf, len, conn, now, now, &m, why);
	if (rc == 0) {
		assert_non_null(m);
		assert_int_equal(why->code, IRNET__ERROR_CODE__ERR_NONE);
	} else {
		assert_int_equal(rc, -1);
		assert_null(m);
		assert_non_null(why->reason);
	}
	irn_msg_free(&m);
	return rc;
}

static void
expect_refused(const fx *f, const char *network, const uint8_t *buf, size_t len,
	       const char *conn, unsigned code)
{
	irn_refusal why = { 0, NULL };
	int rc = check(f, network, buf, len, conn, &why);
	if (rc == 0 || why.code != code)
		print_error("expected %s, got rc=%d %s (%s)\n", irn_error_code_name(code), rc,
			    irn_error_code_name(why.code), why.reason ? why.reason : "-");
	assert_int_equal(rc, -1);
	assert_int_equal(why.code, code);
}

static void
expect_accepted(const fx *f, const char *network, const uint8_t *buf, size_t len,
		const char *conn)
{
	irn_refusal why = { 0, NULL };
	int rc = check(f, network, buf, len, conn, &why);
	if (rc != 0)
		print_error("expected acceptance, got %s (%s)\n", irn_error_code_name(why.code),
			    why.reason);
	assert_int_equal(rc, 0);
}

/* ---- acceptance ---- */

static void
test_accept(void **state)
{
	fx *f = *state;
	uint8_t id[IRN_MSGID_LEN];
	size_t len;
	uint8_t *env = th_report_envelope(f->op, TH_NET, OP, 1, id, &len);

	irn_msg *m = NULL;
	irn_refusal why = { 99, "untouched" };
	int64_t now = irn_now_ms();
	assert_int_equal(irn_envelope_check(f->r, TH_NET, env, len, OP, now, now, &m, &why), 0);
	assert_non_null(m);
	assert_int_equal(why.code, IRNET__ERROR_CODE__ERR_NONE);
	assert_ptr_equal(m->signer, irn_roster_find(f->r, OP));
	assert_string_equal(m->h->sender, OP);
	assert_int_equal(m->h->kind, IRNET__KIND__KIND_INITIAL_REPORT);
	assert_int_equal(m->h->sequence, 1);
	assert_memory_equal(m->h->message_id.data, id, IRN_MSGID_LEN);
	uint8_t h[IRN_HASH_LEN];
	irn_hash(h, env, len);
	assert_memory_equal(m->hash, h, IRN_HASH_LEN);

	/* The payload survives the round trip, Vietnamese text intact. */
	json_t *o = irn_report_to_json(m->body->payload.data, m->body->payload.len);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "summary")),
			    "Máy chủ bị nhiễm mã độc");
	assert_string_equal(json_string_value(json_object_get(o, "category")), "attack.malware");
	assert_int_equal(json_integer_value(json_object_get(o, "security_level")), 3);
	/* 2026-11-25T08:00:00+07:00 == 01:00:00Z */
	assert_string_equal(json_string_value(json_object_get(o, "detected_at")),
			    "2026-11-25T01:00:00.000Z");
	json_decref(o);
	irn_msg_free(&m);
	assert_null(m);

	/* Relayed (no connection member), as at a node. */
	expect_accepted(f, TH_NET, env, len, NULL);
	free(env);
}

/* ---- integrity ---- */

static void
test_flip_every_byte(void **state)
{
	fx *f = *state;
	uint8_t id[IRN_MSGID_LEN];
	size_t len;
	uint8_t *env = th_report_envelope(f->op, TH_NET, OP, 1, id, &len);
	expect_accepted(f, TH_NET, env, len, OP);

	static const uint8_t masks[] = { 0x01, 0x80, 0xFF };
	unsigned count[IRNET__ERROR_CODE__ERR_OVERSIZE + 1] = { 0 };
	uint8_t *copy = malloc(len);
	assert_non_null(copy);
	for (size_t mi = 0; mi < sizeof masks; mi++) {
		for (size_t i = 0; i < len; i++) {
			memcpy(copy, env, len);
			copy[i] ^= masks[mi];
			irn_refusal why = { 0, NULL };
			int rc = check(f, TH_NET, copy, len, OP, &why);
			if (rc == 0)
				print_error("flip 0x%02x at byte %zu of %zu was ACCEPTED\n", masks[mi],
					    i, len);
			assert_int_equal(rc, -1);
			assert_int_not_equal(why.code, IRNET__ERROR_CODE__ERR_NONE);
			assert_in_range(why.code, 1, IRNET__ERROR_CODE__ERR_OVERSIZE);
			count[why.code]++;
		}
	}
	/* Every class of damage shows up: the key id, the body and the signature
	 * are all covered (decode failures, unknown key, bad signature). */
	assert_true(count[IRNET__ERROR_CODE__ERR_MALFORMED] > 0);
	assert_true(count[IRNET__ERROR_CODE__ERR_UNKNOWN_MEMBER] >= 3 * IRN_KEYID_LEN);
	assert_true(count[IRNET__ERROR_CODE__ERR_BAD_SIGNATURE] >= 3 * IRN_SIG_LEN);
	free(copy);
	free(env);
}

static void
test_truncated(void **state)
{
	fx *f = *state;
	uint8_t id[IRN_MSGID_LEN];
	size_t len;
	uint8_t *env = th_report_envelope(f->op, TH_NET, OP, 1, id, &len);
	expect_refused(f, TH_NET, env, len - 1, OP, IRNET__ERROR_CODE__ERR_MALFORMED);
	expect_refused(f, TH_NET, env, len / 2, OP, IRNET__ERROR_CODE__ERR_MALFORMED);
	/* The signature is the last field and required: no proper prefix decodes. */
	for (size_t n = 0; n < len; n++)
		expect_refused(f, TH_NET, env, n, OP, IRNET__ERROR_CODE__ERR_MALFORMED);
	free(env);
}

/*
 * Trailing bytes. Findings (protobuf-c 1.4.1):
 *  - No single appended byte completes a protobuf field, so all 256 one-byte
 *    extensions are refused as MALFORMED (asserted strictly).
 *  - Two appended bytes can form a complete unknown field of the Envelope
 *    (0x20 0x01: field 4, varint 1). protobuf-c skips unknown fields, and the
 *    signature covers only the body, so that envelope is ACCEPTED, with the
 *    same body and signature but other bytes and hence another envelope hash.
 *    The outer Envelope is malleable by anyone relaying it; (sender, message
 *    id) is the identity, not the hash. This test tolerates either outcome
 *    (a canonical-form check on the Envelope would turn it into a refusal),
 *    but if accepted the hash must be that of the bytes actually received.
 */
static void
test_trailing_bytes(void **state)
{
	fx *f = *state;
	uint8_t id[IRN_MSGID_LEN];
	size_t len;
	uint8_t *env = th_report_envelope(f->op, TH_NET, OP, 1, id, &len);
	uint8_t h0[IRN_HASH_LEN];
	irn_hash(h0, env, len);
	uint8_t *ext = malloc(len + 2);
	assert_non_null(ext);
	memcpy(ext, env, len);
	int64_t now = irn_now_ms();

	for (unsigned b = 0; b < 256; b++) {
		ext[len] = (uint8_t)b;
		irn_msg *m = NULL;
		irn_refusal why = { 0, NULL };
		int rc = irn_envelope_check(f->r, TH_NET, ext, len + 1, OP, now, now, &m, &why);
		if (rc == 0) {
			/* Tolerated by the spec of this test, but then it must not
			 * masquerade as the original bytes. */
			assert_memory_not_equal(m->hash, h0, IRN_HASH_LEN);
			irn_msg_free(&m);
		}
		/* Observed behaviour: always refused as undecodable. */
		assert_int_equal(rc, -1);
		assert_int_equal(why.code, IRNET__ERROR_CODE__ERR_MALFORMED);
	}

	/* A complete unknown field: accepted, but with a different hash. */
	ext[len] = 0x20;
	ext[len + 1] = 0x01;
	irn_msg *m = NULL;
	irn_refusal why = { 0, NULL };
	int rc = irn_envelope_check(f->r, TH_NET, ext, len + 2, OP, now, now, &m, &why);
	if (rc == 0) {
		print_message("note: envelope + unknown field 4 is ACCEPTED (outer layer "
			      "malleable); its hash differs\n");
		assert_memory_not_equal(m->hash, h0, IRN_HASH_LEN);
		uint8_t h2[IRN_HASH_LEN];
		irn_hash(h2, ext, len + 2);
		assert_memory_equal(m->hash, h2, IRN_HASH_LEN);
		assert_memory_equal(m->h->message_id.data, id, IRN_MSGID_LEN);
		irn_msg_free(&m);
	} else {
		print_message("note: envelope + unknown field 4 is refused (%s)\n", why.reason);
		assert_int_equal(rc, -1);
		assert_int_equal(why.code, IRNET__ERROR_CODE__ERR_MALFORMED);
	}
	free(ext);
	free(env);
}

/* ---- who signed ---- */

static void
test_unknown_member(void **state)
{
	fx *f = *state;
	uint8_t id[IRN_MSGID_LEN];
	size_t len;
	/* Claims to be the operator, signed with a key the roster does not hold. */
	uint8_t *env = th_report_envelope(f->stranger, TH_NET, OP, 1, id, &len);
	expect_refused(f, TH_NET, env, len, OP, IRNET__ERROR_CODE__ERR_UNKNOWN_MEMBER);
	expect_refused(f, TH_NET, env, len, NULL, IRNET__ERROR_CODE__ERR_UNKNOWN_MEMBER);
	free(env);
}

static void
test_signer_mismatch(void **state)
{
	fx *f = *state;
	uint8_t id[IRN_MSGID_LEN];
	size_t len;
	uint8_t *env = th_report_envelope(f->op, TH_NET, OP, 1, id, &len);
	expect_accepted(f, TH_NET, env, len, OP);
	/* The same bytes arriving on the owner's authenticated connection. */
	expect_refused(f, TH_NET, env, len, OWNER, IRNET__ERROR_CODE__ERR_SIGNER_MISMATCH);
	expect_refused(f, TH_NET, env, len, "kontum/nobody", IRNET__ERROR_CODE__ERR_SIGNER_MISMATCH);
	free(env);
}

static void
test_sender_mismatch(void **state)
{
	fx *f = *state;
	size_t plen, len;
	uint8_t *p = th_report_payload(&plen);
	Irnet__Header h;
	uint8_t id[IRN_MSGID_LEN];
	/* The operator signs a header that names the owner as sender. */
	th_header(&h, id, OWNER, IRNET__KIND__KIND_INITIAL_REPORT, 1);
	uint8_t *env = th_envelope(f->op, TH_NET, &h, p, plen, &len);
	expect_refused(f, TH_NET, env, len, OP, IRNET__ERROR_CODE__ERR_SENDER_MISMATCH);
	expect_refused(f, TH_NET, env, len, NULL, IRNET__ERROR_CODE__ERR_SENDER_MISMATCH);
	free(env);
	free(p);
}

/* ---- what is signed ---- */

static void
test_wrong_domain(void **state)
{
	fx *f = *state;
	uint8_t id[IRN_MSGID_LEN];
	size_t len;
	uint8_t *env = th_report_envelope(f->op, TH_NET, OP, 1, id, &len);
	Irnet__Envelope *e = irnet__envelope__unpack(NULL, len, env);
	assert_non_null(e);
	uint8_t sig[IRN_SIG_LEN], kid[IRN_KEYID_LEN];
	irn_key_id(kid, f->op->sign_pk);
	size_t n;
	uint8_t *man;

	/* Control: manual assembly with the right domain reproduces the
	 * library's bytes exactly (Ed25519 is deterministic) and is accepted. */
	assert_int_equal(irn_domain_sign(sig, IRN_DOMAIN_ENVELOPE, TH_NET, e->body.data,
					 e->body.len, f->op->sign_sk),
			 IRN_OK);
	man = th_envelope_pack(kid, e->body.data, e->body.len, sig, &n);
	assert_int_equal(n, len);
	assert_memory_equal(man, env, len);
	expect_accepted(f, TH_NET, man, n, OP);
	free(man);

	/* Same body signed under the roster and rotation domains. */
	static const char *const wrong[] = { IRN_DOMAIN_ROSTER, IRN_DOMAIN_ROTATION,
					     "IRNET-ENVELOPE-V2", "" };
	for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
		assert_int_equal(irn_domain_sign(sig, wrong[i], TH_NET, e->body.data, e->body.len,
						 f->op->sign_sk),
				 IRN_OK);
		man = th_envelope_pack(kid, e->body.data, e->body.len, sig, &n);
		expect_refused(f, TH_NET, man, n, OP, IRNET__ERROR_CODE__ERR_BAD_SIGNATURE);
		free(man);
	}
	irnet__envelope__free_unpacked(e, NULL);
	free(env);
}

static void
test_wrong_network(void **state)
{
	fx *f = *state;
	uint8_t id[IRN_MSGID_LEN];
	size_t len;
	uint8_t *env = th_report_envelope(f->op, "kontum-drill", OP, 1, id, &len);
	expect_refused(f, TH_NET, env, len, OP, IRNET__ERROR_CODE__ERR_BAD_SIGNATURE);
	expect_accepted(f, "kontum-drill", env, len, OP);
	free(env);

	env = th_report_envelope(f->op, TH_NET, OP, 2, id, &len);
	expect_refused(f, "kontum-drill", env, len, OP, IRNET__ERROR_CODE__ERR_BAD_SIGNATURE);
	expect_refused(f, "kontu", env, len, OP, IRNET__ERROR_CODE__ERR_BAD_SIGNATURE);
	free(env);
}

/* A correctly signed envelope whose payload is not a valid Form 03. */
static void
test_bad_payload(void **state)
{
	fx *f = *state;
	Irnet__Header h;
	uint8_t id[IRN_MSGID_LEN];
	size_t len;
	static const uint8_t junk[] = { 0xff, 0xff, 0xff };
	th_header(&h, id, OP, IRNET__KIND__KIND_INITIAL_REPORT, 1);
	uint8_t *env = th_envelope(f->op, TH_NET, &h, junk, sizeof junk, &len);
	expect_refused(f, TH_NET, env, len, OP, IRNET__ERROR_CODE__ERR_MALFORMED);
	free(env);
}

/* ---- authority of the signer ---- */

static void
test_forbidden_kind(void **state)
{
	fx *f = *state;
	uint8_t id[IRN_MSGID_LEN];
	size_t len, plen;
	/* A responder may not file an initial report. */
	uint8_t *env = th_report_envelope(f->resp, TH_NET, RESP, 1, id, &len);
	expect_refused(f, TH_NET, env, len, RESP, IRNET__ERROR_CODE__ERR_FORBIDDEN_KIND);
	free(env);

	/* Control: the same responder may send a note. */
	Irnet__Header h;
	static const char text[] = "Đã cô lập máy chủ.\nĐang phân tích mẫu mã độc.";
	th_header(&h, id, RESP, IRNET__KIND__KIND_NOTE, 2);
	env = th_envelope(f->resp, TH_NET, &h, (const uint8_t *)text, strlen(text), &len);
	expect_accepted(f, TH_NET, env, len, RESP);
	free(env);

	/* Receipts are broker-only. */
	uint8_t *p = th_report_payload(&plen);
	th_header(&h, id, OP, IRNET__KIND__KIND_RECEIPT, 3);
	env = th_envelope(f->op, TH_NET, &h, p, plen, &len);
	expect_refused(f, TH_NET, env, len, OP, IRNET__ERROR_CODE__ERR_FORBIDDEN_KIND);
	free(env);
	free(p);
}

static void
test_revoked(void **state)
{
	fx *f = *state;
	uint8_t id[IRN_MSGID_LEN];
	size_t len;
	uint8_t *env = th_report_envelope(f->revoked, TH_NET, REVOKED, 1, id, &len);
	expect_refused(f, TH_NET, env, len, REVOKED, IRNET__ERROR_CODE__ERR_REVOKED);
	free(env);

	/* Validity period over: refused the same way. */
	env = th_report_envelope(f->expired, TH_NET, EXPIRED, 1, id, &len);
	expect_refused(f, TH_NET, env, len, EXPIRED, IRNET__ERROR_CODE__ERR_REVOKED);
	/* ...but judged at a time inside the validity period it is accepted. */
	irn_msg *m = NULL;
	irn_refusal why;
	const irn_member *em = irn_roster_find(f->r, EXPIRED);
	assert_non_null(em);
	assert_int_equal(irn_envelope_check(f->r, TH_NET, env, len, EXPIRED, irn_now_ms(),
					    em->valid_from_ms + 1, &m, &why),
			 0);
	irn_msg_free(&m);
	free(env);

	/* A current member judged before its validity starts. */
	const irn_member *om = irn_roster_find(f->r, OP);
	env = th_report_envelope(f->op, TH_NET, OP, 1, id, &len);
	assert_int_equal(irn_envelope_check(f->r, TH_NET, env, len, OP, irn_now_ms(),
					    om->valid_from_ms - 1, &m, &why),
			 -1);
	assert_int_equal(why.code, IRNET__ERROR_CODE__ERR_REVOKED);
	free(env);
}

static void
test_future(void **state)
{
	fx *f = *state;
	size_t plen, len;
	uint8_t *p = th_report_payload(&plen);
	Irnet__Header h;
	uint8_t id[IRN_MSGID_LEN];
	th_header(&h, id, OP, IRNET__KIND__KIND_INITIAL_REPORT, 1);
	h.created_ms = irn_now_ms() + 24 * TH_HOUR_MS;
	uint8_t *env = th_envelope(f->op, TH_NET, &h, p, plen, &len);
	expect_refused(f, TH_NET, env, len, OP, IRNET__ERROR_CODE__ERR_FUTURE);
	free(env);

	/* The boundary, with a fixed receiver clock. */
	const int64_t now = irn_now_ms();
	irn_msg *m = NULL;
	irn_refusal why;
	h.created_ms = now + IRN_MAX_FUTURE_MS;
	env = th_envelope(f->op, TH_NET, &h, p, plen, &len);
	assert_int_equal(irn_envelope_check(f->r, TH_NET, env, len, OP, now, now, &m, &why), 0);
	irn_msg_free(&m);
	free(env);
	h.created_ms = now + IRN_MAX_FUTURE_MS + 1;
	env = th_envelope(f->op, TH_NET, &h, p, plen, &len);
	assert_int_equal(irn_envelope_check(f->r, TH_NET, env, len, OP, now, now, &m, &why), -1);
	assert_int_equal(why.code, IRNET__ERROR_CODE__ERR_FUTURE);
	/* now_ms == 0 (re-verifying history) skips the clock check. */
	assert_int_equal(irn_envelope_check(f->r, TH_NET, env, len, OP, 0, now, &m, &why), 0);
	irn_msg_free(&m);
	free(env);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flip_every_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signer_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_network, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forbidden_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future, setup, teardown),
	};
	return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
