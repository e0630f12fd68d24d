/* test_authz.c - every cell of the authorization matrix, through the real
 * check: for each kind, each sender role is accepted or refused with
 * ERR_FORBIDDEN_KIND, and each recipient role (by role and by member id)
 * is accepted or refused with ERR_BAD_RECIPIENT, exactly as the table in
 * docs/SECURITY.md says. The expected table is written out here on its own,
 * not read from authz.c, so a change to one without the other fails. */
#include "helpers.h"
#include "payloads.h"
#include "authz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NROLES 9 /* 1..8 used */
static const char *const ids[NROLES] = {
	NULL, "kontum/operator", "kontum/owner", "kontum/coordinator", "kontum/responder",
	"kontum/steering", "kontum/national", "kontum/authority", "kontum/broker",
};

/* Expected: sender roles (by letter) and recipient roles, per kind.
 * o operator, w owner, c coordinator, r responder, s steering, n national,
 * a authority, b broker. */
static const struct {
	unsigned kind;
	const char *senders, *recipients;
} want[] = {
	{ 1, "owc", "wcsn" },           /* initial-report */
	{ 2, "owcr", "owcrsn" },        /* progress-report */
	{ 3, "owc", "wcsn" },           /* response-plan */
	{ 4, "owc", "wcsn" },           /* direction-request */
	{ 5, "owc", "wcsn" },           /* support-request */
	{ 6, "owc", "owcsn" },          /* end-report */
	{ 10, "csn", "owcrsn" },        /* classification */
	{ 11, "cn", "owcrsn" },         /* tasking */
	{ 12, "row", "wcsn" },          /* task-status */
	{ 13, "cn", "owcrsna" },        /* alert */
	{ 14, "owcrsna", "owcrsna" },   /* acknowledgement */
	{ 15, "owcrsna", "b" },         /* checkpoint */
	{ 16, "owcsn", "owcrsn" },      /* transition */
	{ 17, "owcrsn", "csna" },       /* profile (Forms 01/02) */
	{ 18, "owcrsn", "owcrsn" },     /* attachment */
	{ 19, "owcrsn", "owcrsn" },     /* note */
	{ 20, "b", "owcrsnab" },        /* receipt */
	{ 21, "b", "owcrsnab" },        /* error */
};
static const char letters[] = " owcrsnab";

typedef struct fx {
	irn_keys *auth, *k[NROLES];
	irn_roster *r;
} fx;

static int
setup(void **state)
{
	th_init();
	fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->auth = th_keys();
	th_member m[NROLES - 1];
	memset(m, 0, sizeof m);
	for (unsigned role = 1; role < NROLES; role++) {
		f->k[role] = th_keys();
		m[role - 1].id = ids[role];
		m[role - 1].keys = f->k[role];
		m[role - 1].roles[0] = role;
	}
	th_roster_spec s = { .signer = f->auth, .members = m, .n_members = NROLES - 1 };
	size_t len;
	uint8_t *buf = th_roster(&s, &len);
	f->r = th_roster_parse_ok(buf, len, f->auth->sign_pk, TH_NET);
	free(buf);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	irn_roster_free(&f->r);
	irn_keys_free(&f->auth);
	for (unsigned role = 1; role < NROLES; role++)
		irn_keys_free(&f->k[role]);
	free(f);
	return 0;
}

/* A payload valid for the kind. */
static uint8_t *
payload_for(unsigned kind, size_t *len)
{
	if (kind == IRNET__KIND__KIND_INITIAL_REPORT)
		return th_report_payload(len);
	uint8_t *b = calloc(1, 256);
	assert_non_null(b);
	if (irn_typed_kind(kind)) { /* the typed workflow payloads (common/payloads.c) */
		static const char ref[] = "\"incident\":\"07000000000000000000000000000000\",\"reporter\":\"kontum/operator\"";
		char js[512];
		snprintf(js, sizeof js, "{%s,\"summary\":\"s\",\"objective\":\"o\",\"question\":\"q\","
			 "\"needed\":\"n\",\"from\":\"national\",\"outcome\":\"o\",\"handling\":\"self\","
			 "\"initial_reported_at\":\"2026-11-25T07:00:00Z\",\"level\":\"warning\",\"title\":\"t\","
			 "\"text\":\"x\",\"message_id\":\"07000000000000000000000000000000\",\"sender\":\"kontum/operator\"}", ref);
		json_t *form = json_loads(js, 0, NULL);
		assert_non_null(form);
		uint8_t *p = NULL;
		char err[256];
		assert_int_equal(irn_typed_from_json(kind, form, irn_now_ms(), &p, len, err, sizeof err), IRN_OK);
		json_decref(form);
		free(b);
		return p;
	}
	if (kind == IRNET__KIND__KIND_CHECKPOINT) {
		uint8_t hash[IRN_HASH_LEN] = { 1 };
		Irnet__Checkpoint c = IRNET__CHECKPOINT__INIT;
		c.ledger_index = 5;
		c.head_hash.data = hash;
		c.head_hash.len = sizeof hash;
		*len = irnet__checkpoint__pack(&c, b);
	} else if (kind == IRNET__KIND__KIND_RECEIPT) {
		uint8_t root[IRN_HASH_LEN] = { 2 };
		Irnet__BatchRoot r = IRNET__BATCH_ROOT__INIT;
		r.root.data = root;
		r.root.len = sizeof root;
		r.first_index = 9;
		r.count = 3;
		r.roster_version = 1;
		*len = irnet__batch_root__pack(&r, b);
	} else if (kind == IRNET__KIND__KIND_CLASSIFICATION || kind == IRNET__KIND__KIND_TRANSITION) {
		uint8_t inc[IRN_MSGID_LEN] = { 7 };
		Irnet__Transition t = IRNET__TRANSITION__INIT;
		t.incident.data = inc;
		t.incident.len = sizeof inc;
		t.reporter = (char *)ids[1];
		t.from_state = IRNET__INCIDENT_STATE__STATE_REPORTED;
		t.to_state = kind == IRNET__KIND__KIND_CLASSIFICATION ? IRNET__INCIDENT_STATE__STATE_CLASSIFIED
								       : IRNET__INCIDENT_STATE__STATE_ACKNOWLEDGED;
		t.reason = (char *)"Hệ thống cấp độ 4, dịch vụ bị gián đoạn";
		t.has_severity = kind == IRNET__KIND__KIND_CLASSIFICATION;
		t.severity = 2;
		*len = irnet__transition__pack(&t, b);
	} else if (kind == IRNET__KIND__KIND_TASKING) {
		uint8_t inc[IRN_MSGID_LEN] = { 7 };
		Irnet__TaskItem it = IRNET__TASK_ITEM__INIT, *itp = &it;
		it.number = 1;
		it.assignee = (char *)ids[4];
		it.instructions = (char *)"Thu thập mẫu mã độc";
		it.deadline_ms = irn_now_ms() + TH_DAY_MS;
		Irnet__Tasking t = IRNET__TASKING__INIT;
		t.incident.data = inc;
		t.incident.len = sizeof inc;
		t.reporter = (char *)ids[1];
		t.tasks = &itp;
		t.n_tasks = 1;
		*len = irnet__tasking__pack(&t, b);
	} else if (kind == IRNET__KIND__KIND_TASK_STATUS) {
		uint8_t tk[IRN_MSGID_LEN] = { 8 };
		Irnet__TaskStatus t = IRNET__TASK_STATUS__INIT;
		t.tasking.data = tk;
		t.tasking.len = sizeof tk;
		t.number = 1;
		t.state = IRNET__TASK_STATE__TASK_ACCEPTED;
		*len = irnet__task_status__pack(&t, b);
	} else if (kind == IRNET__KIND__KIND_ERROR) {
		Irnet__ErrorReply e = IRNET__ERROR_REPLY__INIT;
		e.code = 6;
		*len = irnet__error_reply__pack(&e, b);
	} else if (kind == IRNET__KIND__KIND_END_REPORT) {
		uint8_t inc[IRN_MSGID_LEN] = { 7 };
		Irnet__IncidentRef ref = IRNET__INCIDENT_REF__INIT;
		ref.incident.data = inc;
		ref.incident.len = sizeof inc;
		ref.reporter = (char *)ids[1];
		Irnet__EndReport r = IRNET__END_REPORT__INIT;
		r.ref = &ref;
		r.initial_reported_ms = 1;
		r.outcome = (char *)"Đã khôi phục dịch vụ";
		r.handling = IRNET__HANDLING__HANDLING_SELF;
		r.ended_ms = 2;
		*len = irnet__end_report__pack(&r, b);
	} else if (kind == IRNET__KIND__KIND_PROFILE) {
		Irnet__Contact org = IRNET__CONTACT__INIT, pri = IRNET__CONTACT__INIT, bak = IRNET__CONTACT__INIT;
		org.name = (char *)"Sở Y tế";
		pri.name = (char *)"Nguyễn Văn An";
		pri.phone = (char *)"0905 111 222";
		bak.name = (char *)"Lê Thị Cúc";
		bak.phone = (char *)"0905 333 444";
		Irnet__MemberProfile m = IRNET__MEMBER_PROFILE__INIT;
		m.organisation = &org;
		m.primary = &pri;
		m.backup = &bak;
		m.effective_ms = 1;
		*len = irnet__member_profile__pack(&m, b);
	} else if (kind == IRNET__KIND__KIND_ATTACHMENT) {
		uint8_t hash[IRN_HASH_LEN] = { 9 }, data[16] = { 1 };
		Irnet__AttachmentChunk c = IRNET__ATTACHMENT_CHUNK__INIT;
		c.hash.data = hash;
		c.hash.len = sizeof hash;
		c.name = (char *)"log.txt";
		c.size = sizeof data;
		c.count = 1;
		c.data.data = data;
		c.data.len = sizeof data;
		*len = irnet__attachment_chunk__pack(&c, b);
	} else {
		static const char text[] = "Nội dung kiểm thử";
		memcpy(b, text, sizeof text - 1);
		*len = sizeof text - 1;
	}
	return b;
}

/* Send kind from role to (to_role | to_member); return the refusal code, 0 if accepted. */
static unsigned
attempt(fx *f, unsigned from, unsigned kind, unsigned to_role, const char *to_member)
{
	Irnet__Header h;
	uint8_t id[IRN_MSGID_LEN];
	th_header(&h, id, ids[from], kind, 1);
	uint32_t roles[1] = { to_role };
	char *members[1] = { (char *)to_member };
	h.to_roles = to_role ? roles : NULL;
	h.n_to_roles = to_role ? 1 : 0;
	h.to_members = to_member ? members : NULL;
	h.n_to_members = to_member ? 1 : 0;
	size_t plen, elen;
	uint8_t *pl = payload_for(kind, &plen);
	uint8_t *env = th_envelope(f->k[from], TH_NET, &h, pl, plen, &elen);
	irn_msg *m = NULL;
	irn_refusal why;
	int64_t now = irn_now_ms();
	int rc = irn_envelope_check(f->r, TH_NET, env, elen, ids[from], now, now, &m, &why);
	irn_msg_free(&m);
	free(env);
	free(pl);
	return rc == 0 ? 0 : why.code;
}

static bool
has(const char *set, unsigned role)
{
	return strchr(set, letters[role]) != NULL;
}

static void
test_senders(void **state)
{
	fx *f = *state;
	unsigned cells = 0;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		/* a recipient every kind allows for some role */
		unsigned to = want[i].recipients[0] == 'b' ? 8 : (unsigned)(strchr(letters, want[i].recipients[0]) - letters);
		for (unsigned from = 1; from < NROLES; from++) {
			unsigned code = attempt(f, from, want[i].kind, to, NULL);
			bool ok = has(want[i].senders, from);
			if (ok != (code == 0) || (!ok && code != IRNET__ERROR_CODE__ERR_FORBIDDEN_KIND))
				print_error("kind %u from %s: expected %s, got code %u\n", want[i].kind,
					    ids[from], ok ? "accept" : "FORBIDDEN_KIND", code);
			assert_int_equal(code, ok ? 0 : IRNET__ERROR_CODE__ERR_FORBIDDEN_KIND);
			cells++;
		}
	}
	assert_int_equal(cells, 18 * 8);
}

static void
test_recipients(void **state)
{
	fx *f = *state;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		unsigned from = (unsigned)(strchr(letters, want[i].senders[0]) - letters);
		for (unsigned to = 1; to < NROLES; to++) {
			bool ok = has(want[i].recipients, to);
			unsigned expect = ok ? 0 : IRNET__ERROR_CODE__ERR_BAD_RECIPIENT;
			unsigned by_role = attempt(f, from, want[i].kind, to, NULL);
			unsigned by_member = attempt(f, from, want[i].kind, 0, ids[to]);
			if (by_role != expect || by_member != expect)
				print_error("kind %u to %s: expected %u, got role %u member %u\n",
					    want[i].kind, ids[to], expect, by_role, by_member);
			assert_int_equal(by_role, expect);
			assert_int_equal(by_member, expect);
		}
	}
}

static void
test_unknown_recipient(void **state)
{
	fx *f = *state;
	assert_int_equal(attempt(f, 1, IRNET__KIND__KIND_INITIAL_REPORT, 0, "kontum/nobody"),
			 IRNET__ERROR_CODE__ERR_BAD_RECIPIENT);
}

static void
test_table_matches_code(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		uint32_t s = 0, r = 0;
		for (unsigned role = 1; role < NROLES; role++) {
			if (has(want[i].senders, role))
				s |= 1u << role;
			if (has(want[i].recipients, role))
				r |= 1u << role;
		}
		for (unsigned role = 1; role < NROLES; role++)
			assert_int_equal(irn_authz_may_send(1u << role, want[i].kind), (s >> role) & 1);
		assert_int_equal(irn_authz_recipients(want[i].kind), r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_code),
		cmocka_unit_test(test_senders),
		cmocka_unit_test(test_recipients),
		cmocka_unit_test(test_unknown_recipient),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
