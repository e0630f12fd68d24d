/* test_payloads.c - the typed workflow payloads (kinds 2-6, 13, 14): good
 * and bad forms, the validators wired into irn_payload_validate, canonical
 * form, sizes and text checks, and the JSON round trip. */
#include "helpers.h"
#include "payloads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K(x) IRNET__KIND__KIND_##x
#define INC "00112233445566778899aabbccddeeff"

static int
setup(void **state)
{
	(void)state;
	th_init();
	return 0;
}

/* Build from a JSON text; returns the payload (caller frees) or NULL with err. */
static uint8_t *
build(unsigned kind, const char *json, size_t *len, char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *f = json_loads(json, 0, &jerr);
	if (f == NULL)
		fail_msg("bad test JSON: %s: %s", jerr.text, json);
	uint8_t *p = NULL;
	irn_err e = irn_typed_from_json(kind, f, 1764000000000LL, &p, len, err, errsz);
	json_decref(f);
	if (e != IRN_OK) {
		assert_null(p);
		return NULL;
	}
	return p;
}

static void
good(unsigned kind, const char *json)
{
	char err[256] = "";
	size_t len = 0;
	uint8_t *p = build(kind, json, &len, err, sizeof err);
	if (p == NULL)
		fail_msg("refused (%s): %s", err, json);
	/* every receiver checks it the same way */
	const char *why = irn_payload_validate(kind, p, len);
	if (why)
		fail_msg("irn_payload_validate refused %s: %s", json, why);
	/* back to JSON and again to the same bytes */
	json_t *o = irn_typed_to_json(kind, p, len);
	assert_non_null(o);
	uint8_t *q = NULL;
	size_t qlen = 0;
	assert_int_equal(irn_typed_from_json(kind, o, 1, &q, &qlen, err, sizeof err), IRN_OK);
	assert_int_equal(qlen, len);
	assert_memory_equal(p, q, len);
	/* a trailing unknown field, and a repeated field, break canonical form */
	uint8_t *x = malloc(len + 4);
	memcpy(x, p, len);
	x[len] = 0xf8; /* field 127, varint */
	x[len + 1] = 0x07;
	x[len + 2] = 0x01;
	assert_non_null(irn_payload_validate(kind, x, len + 3));
	free(x);
	/* truncated: never valid */
	assert_non_null(irn_payload_validate(kind, p, len - 1));
	json_decref(o);
	free(q);
	free(p);
}

static void
bad(unsigned kind, const char *json, const char *expect)
{
	char err[256] = "";
	size_t len = 0;
	uint8_t *p = build(kind, json, &len, err, sizeof err);
	if (p != NULL)
		fail_msg("accepted but should not be: %s", json);
	if (expect && strstr(err, expect) == NULL)
		fail_msg("refused %s with \"%s\", expected \"%s\"", json, err, expect);
}

static void
test_progress(void **state)
{
	(void)state;
	good(K(PROGRESS_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"summary\":\"Đã cô lập máy chủ\"}");
	good(K(PROGRESS_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"summary\":\"a\\nb\","
	     "\"actions_taken\":\"x\",\"next_steps\":\"y\",\"percent_done\":100,\"contained\":true}");
	bad(K(PROGRESS_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\"}", "summary");
	bad(K(PROGRESS_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"summary\":\"\"}", "summary");
	bad(K(PROGRESS_REPORT), "{\"incident\":\"0011\",\"reporter\":\"kontum/op\",\"summary\":\"x\"}", "incident");
	bad(K(PROGRESS_REPORT), "{\"summary\":\"x\"}", "incident");
	bad(K(PROGRESS_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"Bad Id\",\"summary\":\"x\"}", "reporter");
	bad(K(PROGRESS_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"summary\":\"x\",\"percent_done\":101}", "percent");
	bad(K(PROGRESS_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"summary\":\"x\\u202e\"}", NULL);
	bad(K(PROGRESS_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"summary\":\"x\\u0007\"}", NULL);
}

static void
test_plan(void **state)
{
	(void)state;
	good(K(RESPONSE_PLAN), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"objective\":\"Khôi phục\"}");
	good(K(RESPONSE_PLAN), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"objective\":\"x\","
	     "\"steps\":[{\"action\":\"a\"},{\"action\":\"b\",\"assignee\":\"kontum/r1\",\"due\":\"2026-11-27T17:00:00+07:00\"}],"
	     "\"resources\":\"r\",\"support_needed\":\"s\"}");
	bad(K(RESPONSE_PLAN), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\"}", "objective");
	bad(K(RESPONSE_PLAN), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"objective\":\"x\",\"steps\":[{}]}", "action");
	bad(K(RESPONSE_PLAN), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"objective\":\"x\",\"steps\":{}}", "steps");
	bad(K(RESPONSE_PLAN), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"objective\":\"x\","
	    "\"steps\":[{\"action\":\"a\",\"due\":\"tomorrow\"}]}", "due");
	bad(K(RESPONSE_PLAN), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"objective\":\"x\","
	    "\"steps\":[{\"action\":\"a\",\"assignee\":\"a\\nb\"}]}", NULL);
	/* repeated step numbers, built by hand: the builder numbers them itself */
	Irnet__IncidentRef ref = IRNET__INCIDENT_REF__INIT;
	uint8_t inc[16] = { 1 };
	ref.incident.data = inc;
	ref.incident.len = 16;
	ref.reporter = "kontum/op";
	Irnet__PlanStep s1 = IRNET__PLAN_STEP__INIT, s2 = IRNET__PLAN_STEP__INIT, *sp[2] = { &s1, &s2 };
	s1.number = s2.number = 1;
	s1.action = s2.action = "x";
	Irnet__ResponsePlan r = IRNET__RESPONSE_PLAN__INIT;
	r.ref = &ref;
	r.objective = "o";
	r.steps = sp;
	r.n_steps = 2;
	uint8_t buf[256];
	size_t n = irnet__response_plan__pack(&r, buf);
	assert_non_null(irn_payload_validate(K(RESPONSE_PLAN), buf, n));
	s2.number = 2;
	n = irnet__response_plan__pack(&r, buf);
	assert_null(irn_payload_validate(K(RESPONSE_PLAN), buf, n));
	s2.number = 0;
	n = irnet__response_plan__pack(&r, buf);
	assert_non_null(irn_payload_validate(K(RESPONSE_PLAN), buf, n));
}

static void
test_direction_support(void **state)
{
	(void)state;
	good(K(DIRECTION_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"question\":\"Có trả tiền chuộc không?\"}");
	good(K(DIRECTION_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"question\":\"q\","
	     "\"options\":[\"Không\",\"Có\"],\"needed_by\":\"2026-11-25T12:00:00Z\"}");
	bad(K(DIRECTION_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\"}", "question");
	bad(K(DIRECTION_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"question\":\"q\",\"options\":[1]}", "options");
	bad(K(DIRECTION_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"question\":\"q\",\"options\":[\"\"]}", "empty");
	bad(K(DIRECTION_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"question\":\"q\",\"needed_by\":5}", "needed_by");
	good(K(SUPPORT_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"needed\":\"Chuyên gia\",\"from\":\"national\"}");
	good(K(SUPPORT_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"needed\":\"n\",\"from\":\"foreign\","
	     "\"needed_by\":\"2026-11-25T12:00:00Z\",\"reason\":\"Vượt khả năng\"}");
	bad(K(SUPPORT_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"needed\":\"n\"}", "from");
	bad(K(SUPPORT_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"needed\":\"n\",\"from\":\"mars\"}", "provincial");
	bad(K(SUPPORT_REQUEST), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"from\":\"national\"}", "needed");
}

static void
test_end_report(void **state)
{
	(void)state;
	good(K(END_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"initial_reported_at\":\"2026-11-25T07:00:00+07:00\","
	     "\"outcome\":\"Đã khôi phục\",\"handling\":\"self\"}");
	good(K(END_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"initial_reported_at\":\"2026-11-25T07:00:00+07:00\","
	     "\"outcome\":\"o\",\"cause\":\"c\",\"damage\":\"d\",\"damage_vnd\":150000000,\"lessons\":\"l\","
	     "\"handling\":\"foreign-help\",\"national_help_requested\":true,\"ended_at\":\"2026-11-26T07:00:00Z\"}");
	/* Form 04 is linked to the initial report: its id and date are required */
	bad(K(END_REPORT), "{\"outcome\":\"o\",\"handling\":\"self\",\"initial_reported_at\":\"2026-11-25T07:00:00Z\"}", "incident");
	bad(K(END_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"outcome\":\"o\",\"handling\":\"self\"}", "initial_reported_at");
	bad(K(END_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"initial_reported_at\":\"2026-11-25T07:00:00Z\","
	    "\"handling\":\"self\"}", "outcome");
	bad(K(END_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"initial_reported_at\":\"2026-11-25T07:00:00Z\","
	    "\"outcome\":\"o\"}", "handling");
	bad(K(END_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\",\"initial_reported_at\":\"2026-11-25T07:00:00Z\","
	    "\"outcome\":\"o\",\"handling\":\"self\",\"damage_vnd\":-1}", "damage_vnd");
	/* by hand: an attachment reference with a short hash */
	Irnet__IncidentRef ref = IRNET__INCIDENT_REF__INIT;
	uint8_t inc[16] = { 1 }, hash[31] = { 0 };
	ref.incident.data = inc;
	ref.incident.len = 16;
	ref.reporter = "kontum/op";
	Irnet__AttachmentRef a = IRNET__ATTACHMENT_REF__INIT, *ap = &a;
	a.name = "log.txt";
	a.size = 10;
	a.hash.data = hash;
	a.hash.len = sizeof hash;
	Irnet__EndReport r = IRNET__END_REPORT__INIT;
	r.ref = &ref;
	r.initial_reported_ms = 1;
	r.outcome = "o";
	r.handling = 1;
	r.ended_ms = 2;
	r.attachments = &ap;
	r.n_attachments = 1;
	uint8_t buf[256];
	size_t n = irnet__end_report__pack(&r, buf);
	assert_non_null(irn_payload_validate(K(END_REPORT), buf, n));
	r.n_attachments = 0;
	n = irnet__end_report__pack(&r, buf);
	assert_null(irn_payload_validate(K(END_REPORT), buf, n));
	r.handling = 4;
	n = irnet__end_report__pack(&r, buf);
	assert_non_null(irn_payload_validate(K(END_REPORT), buf, n));
}

static void
test_alert_ack(void **state)
{
	(void)state;
	good(K(ALERT), "{\"level\":\"urgent\",\"title\":\"Cảnh báo\",\"text\":\"Chặn 203.0.113.7\"}");
	good(K(ALERT), "{\"level\":\"advisory\",\"title\":\"t\",\"text\":\"x\",\"incident\":\"" INC "\",\"reporter\":\"kontum/op\","
	     "\"indicators\":[\"203.0.113.7\",\"CVE-2026-0001\"],\"valid_until\":\"2026-12-31T00:00:00Z\"}");
	bad(K(ALERT), "{\"title\":\"t\",\"text\":\"x\"}", "level");
	bad(K(ALERT), "{\"level\":\"panic\",\"title\":\"t\",\"text\":\"x\"}", "advisory");
	bad(K(ALERT), "{\"level\":\"warning\",\"text\":\"x\"}", "title");
	bad(K(ALERT), "{\"level\":\"warning\",\"title\":\"a\\nb\",\"text\":\"x\"}", NULL); /* a title is one line */
	bad(K(ALERT), "{\"level\":\"warning\",\"title\":\"t\",\"text\":\"x\",\"incident\":\"" INC "\"}", "reporter");
	good(K(ACKNOWLEDGEMENT), "{\"message_id\":\"" INC "\",\"sender\":\"kontum/op\"}");
	good(K(ACKNOWLEDGEMENT), "{\"message_id\":\"" INC "\",\"sender\":\"kontum/op\",\"note\":\"Đã nhận\",\"by_person\":true}");
	bad(K(ACKNOWLEDGEMENT), "{\"sender\":\"kontum/op\"}", "message_id");
	bad(K(ACKNOWLEDGEMENT), "{\"message_id\":\"" INC "\"}", "sender");
	bad(K(ACKNOWLEDGEMENT), "{\"message_id\":\"" INC "\",\"sender\":\"../etc\"}", "sender");
	/* not typed kinds */
	bad(K(NOTE), "{}", NULL);
	assert_false(irn_typed_kind(K(INITIAL_REPORT)));
	assert_false(irn_typed_kind(K(NOTE)));
	assert_true(irn_typed_kind(K(ALERT)));
}

/* Payloads that are not the kind's message are refused by every receiver,
 * and so is text where a typed payload belongs (the walking skeleton's
 * text bodies). */
static void
test_receivers_refuse(void **state)
{
	(void)state;
	static const unsigned kinds[] = { K(PROGRESS_REPORT), K(RESPONSE_PLAN), K(DIRECTION_REQUEST),
					  K(SUPPORT_REQUEST), K(END_REPORT), K(ALERT), K(ACKNOWLEDGEMENT) };
	const char *text = "Tiến độ: đã cô lập máy chủ";
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		assert_non_null(irn_payload_validate(kinds[i], (const uint8_t *)text, strlen(text)));
		assert_non_null(irn_payload_validate(kinds[i], NULL, 0));
		assert_null(irn_typed_to_json(kinds[i], (const uint8_t *)text, strlen(text)));
	}
	/* too large */
	size_t big = IRN_MAX_PAYLOAD + 1;
	uint8_t *b = calloc(1, big);
	assert_non_null(irn_payload_validate(K(ALERT), b, big));
	free(b);
	/* an over-long title (> 256 bytes) */
	char json[1024];
	char title[300];
	memset(title, 'a', sizeof title - 1);
	title[sizeof title - 1] = 0;
	snprintf(json, sizeof json, "{\"level\":\"warning\",\"title\":\"%s\",\"text\":\"x\"}", title);
	bad(K(ALERT), json, NULL);
	/* the incident an end report names */
	char err[256];
	size_t len;
	uint8_t *p = build(K(END_REPORT), "{\"incident\":\"" INC "\",\"reporter\":\"kontum/op\","
			   "\"initial_reported_at\":\"2026-11-25T07:00:00Z\",\"outcome\":\"o\",\"handling\":\"self\"}",
			   &len, err, sizeof err);
	assert_non_null(p);
	uint8_t inc[16];
	char rep[IRN_MAX_ID + 1];
	assert_true(irn_typed_incident(K(END_REPORT), p, len, inc, rep));
	assert_string_equal(rep, "kontum/op");
	assert_int_equal(inc[0], 0x00);
	assert_int_equal(inc[15], 0xff);
	assert_false(irn_typed_incident(K(ACKNOWLEDGEMENT), p, len, inc, rep));
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_direction_support),
		cmocka_unit_test(test_end_report),
		cmocka_unit_test(test_alert_ack),
		cmocka_unit_test(test_receivers_refuse),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
