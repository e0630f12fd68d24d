/* payloads.c - typed workflow payloads (kinds 2-6, 13, 14). */
#include "payloads.h"
#include "canon.h"
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K(x) IRNET__KIND__KIND_##x

/* ---- names ---- */

static const char *const alert_levels[] = { NULL, "advisory", "warning", "urgent" };
static const char *const handlings[] = { NULL, "self", "with-help", "foreign-help" };
static const char *const supports[] = { NULL, "provincial", "national", "foreign", "other" };

static int
parse_in(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 1; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

int irn_alert_level_parse(const char *s) { return parse_in(alert_levels, 4, s); }
int irn_handling_parse(const char *s) { return parse_in(handlings, 4, s); }
int irn_support_from_parse(const char *s) { return parse_in(supports, 5, s); }
const char *irn_alert_level_name(unsigned l) { return l >= 1 && l <= 3 ? alert_levels[l] : NULL; }
const char *irn_handling_name(unsigned h) { return h >= 1 && h <= 3 ? handlings[h] : NULL; }
const char *irn_support_from_name(unsigned s) { return s >= 1 && s <= 4 ? supports[s] : NULL; }

bool
irn_typed_kind(unsigned kind)
{
	return (kind >= K(PROGRESS_REPORT) && kind <= K(END_REPORT)) || kind == K(ALERT) ||
	       kind == K(ACKNOWLEDGEMENT);
}

/* ---- validation ---- */

static const char *
line(const char *s)
{
	return s ? irn_text_check(s, strlen(s), IRN_MAX_SHORT_TEXT, IRN_TEXT_LINE) : NULL;
}

static const char *
para(const char *s)
{
	return s ? irn_text_check(s, strlen(s), IRN_MAX_LONG_TEXT, IRN_TEXT_MULTILINE) : NULL;
}

/* A required text: present, not empty, well-formed. */
static const char *
need(const char *s, bool multiline, const char *missing)
{
	if (s == NULL || s[0] == '\0')
		return missing;
	return multiline ? para(s) : line(s);
}

static const char *
ref_ok(const Irnet__IncidentRef *r)
{
	if (r == NULL || r->incident.len != IRN_MSGID_LEN || !irn_member_id_ok(r->reporter))
		return N_("bad incident reference");
	return NULL;
}

static const char *
lines_ok(char **v, size_t n)
{
	if (n > IRN_MAX_LIST)
		return N_("too many list entries");
	for (size_t i = 0; i < n; i++) {
		const char *w = need(v[i], false, N_("empty list entry"));
		if (w)
			return w;
	}
	return NULL;
}

static const char *
attachments_ok(Irnet__AttachmentRef **a, size_t n)
{
	if (n > IRN_MAX_LIST)
		return N_("too many attachments");
	for (size_t i = 0; i < n; i++) {
		const char *w = need(a[i]->name, false, N_("attachment without a name"));
		if (w || (w = line(a[i]->media_type)))
			return w;
		if (a[i]->hash.len != IRN_HASH_LEN)
			return N_("attachment hash must be 32 bytes");
	}
	return NULL;
}

static const char *
v_progress(const Irnet__ProgressReport *r)
{
	const char *w;
	if ((w = ref_ok(r->ref)) || (w = need(r->summary, true, N_("a progress report needs a summary"))) ||
	    (w = para(r->actions_taken)) || (w = para(r->next_steps)))
		return w;
	if (r->has_percent_done && r->percent_done > 100)
		return N_("percent done must be 0 to 100");
	return NULL;
}

static const char *
v_plan(const Irnet__ResponsePlan *r)
{
	const char *w;
	if ((w = ref_ok(r->ref)) || (w = need(r->objective, true, N_("a response plan needs an objective"))) ||
	    (w = para(r->resources)) || (w = para(r->support_needed)))
		return w;
	if (r->n_steps > IRN_MAX_LIST)
		return N_("a response plan holds at most 64 steps");
	for (size_t i = 0; i < r->n_steps; i++) {
		const Irnet__PlanStep *s = r->steps[i];
		if (s->number == 0)
			return N_("plan steps are numbered from 1");
		if ((w = need(s->action, true, N_("a plan step needs an action"))) || (w = line(s->assignee)))
			return w;
		if (s->has_due_ms && s->due_ms <= 0)
			return N_("bad step due time");
		for (size_t j = 0; j < i; j++)
			if (r->steps[j]->number == s->number)
				return N_("plan step numbers repeat");
	}
	return NULL;
}

static const char *
v_direction(const Irnet__DirectionRequest *r)
{
	const char *w;
	if ((w = ref_ok(r->ref)) || (w = need(r->question, true, N_("a request for direction needs a question"))))
		return w;
	if (r->n_options > IRN_MAX_LIST)
		return N_("too many options");
	for (size_t i = 0; i < r->n_options; i++)
		if ((w = need(r->options[i], true, N_("empty option"))))
			return w;
	if (r->has_needed_by_ms && r->needed_by_ms <= 0)
		return N_("bad time");
	return NULL;
}

static const char *
v_support(const Irnet__SupportRequest *r)
{
	const char *w;
	if ((w = ref_ok(r->ref)) || (w = need(r->needed, true, N_("a support request says what is needed"))) ||
	    (w = para(r->reason)))
		return w;
	if (irn_support_from_name(r->support_from) == NULL)
		return N_("bad support source");
	if (r->has_needed_by_ms && r->needed_by_ms <= 0)
		return N_("bad time");
	return NULL;
}

static const char *
v_end(const Irnet__EndReport *r)
{
	const char *w;
	if ((w = ref_ok(r->ref)) || (w = need(r->outcome, true, N_("an end report needs the outcome"))) ||
	    (w = para(r->cause)) || (w = para(r->damage)) || (w = para(r->lessons)) ||
	    (w = attachments_ok(r->attachments, r->n_attachments)))
		return w;
	if (r->initial_reported_ms <= 0 || r->ended_ms <= 0)
		return N_("bad report or end time");
	if (irn_handling_name(r->handling) == NULL)
		return N_("bad handling (self, with help, with foreign help)");
	return NULL;
}

static const char *
v_alert(const Irnet__Alert *r)
{
	const char *w;
	if (irn_alert_level_name(r->level) == NULL)
		return N_("bad alert level");
	if ((w = need(r->title, false, N_("an alert needs a title"))) ||
	    (w = need(r->text, true, N_("an alert needs a text"))) || (w = lines_ok(r->indicators, r->n_indicators)))
		return w;
	if (r->ref && (w = ref_ok(r->ref)))
		return w;
	if (r->has_valid_until_ms && r->valid_until_ms <= 0)
		return N_("bad time");
	return NULL;
}

static const char *
v_ack(const Irnet__Acknowledgement *r)
{
	if (r->message_id.len != IRN_MSGID_LEN || !irn_member_id_ok(r->sender))
		return N_("bad acknowledged message");
	return para(r->note);
}

/* Unpack, check canonical form, run the checker, free. The two reasons
 * are whole literals (not pasted from the kind's name) so that xgettext
 * finds them for the translated display. */
#define VALIDATE(type, fn, undecodable, uncanonical)                                    \
	do {                                                                            \
		Irnet__##type *x = irnet__##fn##__unpack(NULL, len, p);                 \
		if (x == NULL)                                                          \
			return undecodable;                                             \
		const char *why = !irn_pb_canonical(&x->base, p, len)                   \
					  ? uncanonical : v_##fn(x);                    \
		irnet__##fn##__free_unpacked(x, NULL);                                  \
		return why;                                                             \
	} while (0)

#define irnet__progress__unpack irnet__progress_report__unpack
#define irnet__progress__free_unpacked irnet__progress_report__free_unpacked
#define irnet__plan__unpack irnet__response_plan__unpack
#define irnet__plan__free_unpacked irnet__response_plan__free_unpacked
#define irnet__direction__unpack irnet__direction_request__unpack
#define irnet__direction__free_unpacked irnet__direction_request__free_unpacked
#define irnet__support__unpack irnet__support_request__unpack
#define irnet__support__free_unpacked irnet__support_request__free_unpacked
#define irnet__end__unpack irnet__end_report__unpack
#define irnet__end__free_unpacked irnet__end_report__free_unpacked
#define irnet__ack__unpack irnet__acknowledgement__unpack
#define irnet__ack__free_unpacked irnet__acknowledgement__free_unpacked

const char *
irn_typed_validate(unsigned kind, const uint8_t *p, size_t len)
{
	if (len > IRN_MAX_PAYLOAD)
		return N_("payload too large");
	switch (kind) {
	case K(PROGRESS_REPORT):
		VALIDATE(ProgressReport, progress, N_("progress report does not decode"),
			 N_("progress report is not in canonical form"));
	case K(RESPONSE_PLAN):
		VALIDATE(ResponsePlan, plan, N_("response plan does not decode"),
			 N_("response plan is not in canonical form"));
	case K(DIRECTION_REQUEST):
		VALIDATE(DirectionRequest, direction, N_("request for direction does not decode"),
			 N_("request for direction is not in canonical form"));
	case K(SUPPORT_REQUEST):
		VALIDATE(SupportRequest, support, N_("support request does not decode"),
			 N_("support request is not in canonical form"));
	case K(END_REPORT):
		VALIDATE(EndReport, end, N_("end report does not decode"),
			 N_("end report is not in canonical form"));
	case K(ALERT):
		VALIDATE(Alert, alert, N_("alert does not decode"), N_("alert is not in canonical form"));
	case K(ACKNOWLEDGEMENT):
		VALIDATE(Acknowledgement, ack, N_("acknowledgement does not decode"),
			 N_("acknowledgement is not in canonical form"));
	default: return N_("not a typed workflow kind");
	}
}

/* ---- JSON form -> payload ---- */

static const char *
jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

typedef struct build {
	char *err;
	size_t errsz;
	bool failed;
	uint8_t inc[IRN_MSGID_LEN];
	Irnet__IncidentRef ref;
	/* allocations to free after packing */
	void *alloc[4 + IRN_MAX_LIST];
	size_t nalloc;
} build;

static void fail(build *b, const char *fmt, ...) IRN_PRINTF(2, 3);
static void
fail(build *b, const char *fmt, ...)
{
	if (!b->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(b->err, b->errsz, fmt, ap);
		va_end(ap);
	}
	b->failed = true;
}

static void *
keep(build *b, void *p)
{
	if (p == NULL || b->nalloc >= sizeof b->alloc / sizeof b->alloc[0]) {
		fail(b, "%s", _("out of memory or too many entries"));
		free(p);
		return NULL;
	}
	b->alloc[b->nalloc++] = p;
	return p;
}

static Irnet__IncidentRef *
ref_from(build *b, const json_t *form, bool required)
{
	const char *hex = jstr(form, "incident"), *rep = jstr(form, "reporter");
	if (hex == NULL && !required)
		return NULL;
	irnet__incident_ref__init(&b->ref);
	if (hex == NULL || irn_unhex(b->inc, sizeof b->inc, hex) != IRN_OK) {
		fail(b, "%s", _("\"incident\" must be the initial report's full 32-digit id"));
		return NULL;
	}
	if (rep == NULL || !irn_member_id_ok(rep)) {
		fail(b, "%s", _("\"reporter\" must be the member id of the initial report's sender"));
		return NULL;
	}
	b->ref.incident.data = b->inc;
	b->ref.incident.len = sizeof b->inc;
	b->ref.reporter = (char *)rep;
	return &b->ref;
}

static void
time_opt(build *b, const json_t *form, const char *key, protobuf_c_boolean *has, int64_t *out)
{
	const char *s = jstr(form, key);
	if (s == NULL) {
		if (json_object_get(form, key))
			fail(b, _("\"%s\" must be a time, e.g. 2026-11-25T08:30:00+07:00"), key);
		return;
	}
	if (irn_parse_time(s, out) != IRN_OK) {
		fail(b, _("\"%s\" must be a time, e.g. 2026-11-25T08:30:00+07:00"), key);
		return;
	}
	if (has)
		*has = true;
}

static char **
str_list(build *b, const json_t *form, const char *key, size_t *n)
{
	const json_t *a = json_object_get(form, key);
	*n = 0;
	if (a == NULL)
		return NULL;
	if (!json_is_array(a) || json_array_size(a) > IRN_MAX_LIST) {
		fail(b, _("\"%s\" must be a list of at most 64 texts"), key);
		return NULL;
	}
	size_t k = json_array_size(a);
	char **v = keep(b, calloc(k ? k : 1, sizeof *v));
	for (size_t i = 0; v && i < k; i++) {
		v[i] = (char *)json_string_value(json_array_get(a, i));
		if (v[i] == NULL) {
			fail(b, _("\"%s\" must be a list of at most 64 texts"), key);
			return NULL;
		}
	}
	*n = k;
	return v;
}

static bool
jbool(const json_t *o, const char *key, protobuf_c_boolean *has)
{
	const json_t *v = json_object_get(o, key);
	*has = json_is_boolean(v);
	return json_is_true(v);
}

static int
enum_field(build *b, const json_t *form, const char *key, int (*parse)(const char *), const char *choices,
	   bool required)
{
	const char *s = jstr(form, key);
	if (s == NULL && !required && json_object_get(form, key) == NULL)
		return 0;
	int v = parse(s);
	if (v < 0) {
		char msg[200];
		snprintf(msg, sizeof msg, _("\"%s\" must be one of: %s"), key, choices);
		fail(b, "%s", msg);
		return 0;
	}
	return v;
}

#define PACK(fn, msg)                                                    \
	do {                                                             \
		n = irnet__##fn##__get_packed_size(msg);                 \
		if (n <= IRN_MAX_PAYLOAD && (buf = malloc(n ? n : 1)))   \
			irnet__##fn##__pack(msg, buf);                   \
	} while (0)

irn_err
irn_typed_from_json(unsigned kind, const json_t *form, int64_t now_ms, uint8_t **out, size_t *outlen,
		    char *err, size_t errsz)
{
	build b = { .err = err, .errsz = errsz };
	uint8_t *buf = NULL;
	size_t n = 0;
	*out = NULL;
	if (!json_is_object(form)) {
		snprintf(err, errsz, "%s", _("the form must be a JSON object"));
		return IRN_ERR_INVALID;
	}
	switch (kind) {
	case K(PROGRESS_REPORT): {
		Irnet__ProgressReport r = IRNET__PROGRESS_REPORT__INIT;
		r.ref = ref_from(&b, form, true);
		r.summary = (char *)jstr(form, "summary");
		r.actions_taken = (char *)jstr(form, "actions_taken");
		r.next_steps = (char *)jstr(form, "next_steps");
		const json_t *pd = json_object_get(form, "percent_done");
		if (pd) {
			if (!json_is_integer(pd) || json_integer_value(pd) < 0 || json_integer_value(pd) > 100)
				fail(&b, "%s", _("\"percent_done\" must be a number from 0 to 100"));
			r.has_percent_done = true;
			r.percent_done = (uint32_t)json_integer_value(pd);
		}
		r.contained = jbool(form, "contained", &r.has_contained);
		if (!b.failed && r.summary == NULL)
			fail(&b, "%s", _("the field \"summary\" is required"));
		if (!b.failed)
			PACK(progress_report, &r);
		break;
	}
	case K(RESPONSE_PLAN): {
		Irnet__ResponsePlan r = IRNET__RESPONSE_PLAN__INIT;
		r.ref = ref_from(&b, form, true);
		r.objective = (char *)jstr(form, "objective");
		r.resources = (char *)jstr(form, "resources");
		r.support_needed = (char *)jstr(form, "support_needed");
		const json_t *steps = json_object_get(form, "steps");
		if (steps && (!json_is_array(steps) || json_array_size(steps) > IRN_MAX_LIST))
			fail(&b, "%s", _("\"steps\" must be a list of at most 64 steps"));
		size_t ns = b.failed ? 0 : json_array_size(steps);
		Irnet__PlanStep *st = ns ? keep(&b, calloc(ns, sizeof *st)) : NULL;
		Irnet__PlanStep **sp = ns ? keep(&b, calloc(ns, sizeof *sp)) : NULL;
		for (size_t i = 0; !b.failed && i < ns; i++) {
			const json_t *j = json_array_get(steps, i);
			irnet__plan_step__init(&st[i]);
			st[i].number = (uint32_t)(i + 1);
			st[i].action = (char *)jstr(j, "action");
			st[i].assignee = (char *)jstr(j, "assignee");
			time_opt(&b, j, "due", &st[i].has_due_ms, &st[i].due_ms);
			if (st[i].action == NULL)
				fail(&b, "%s", _("each plan step needs an \"action\""));
			sp[i] = &st[i];
		}
		r.steps = sp;
		r.n_steps = ns;
		if (!b.failed && r.objective == NULL)
			fail(&b, "%s", _("the field \"objective\" is required"));
		if (!b.failed)
			PACK(response_plan, &r);
		break;
	}
	case K(DIRECTION_REQUEST): {
		Irnet__DirectionRequest r = IRNET__DIRECTION_REQUEST__INIT;
		r.ref = ref_from(&b, form, true);
		r.question = (char *)jstr(form, "question");
		r.options = str_list(&b, form, "options", &r.n_options);
		time_opt(&b, form, "needed_by", &r.has_needed_by_ms, &r.needed_by_ms);
		if (!b.failed && r.question == NULL)
			fail(&b, "%s", _("the field \"question\" is required"));
		if (!b.failed)
			PACK(direction_request, &r);
		break;
	}
	case K(SUPPORT_REQUEST): {
		Irnet__SupportRequest r = IRNET__SUPPORT_REQUEST__INIT;
		r.ref = ref_from(&b, form, true);
		r.needed = (char *)jstr(form, "needed");
		r.reason = (char *)jstr(form, "reason");
		r.support_from = (uint32_t)enum_field(&b, form, "from", irn_support_from_parse,
						      "provincial, national, foreign, other", true);
		time_opt(&b, form, "needed_by", &r.has_needed_by_ms, &r.needed_by_ms);
		if (!b.failed && r.needed == NULL)
			fail(&b, "%s", _("the field \"needed\" is required"));
		if (!b.failed)
			PACK(support_request, &r);
		break;
	}
	case K(END_REPORT): {
		Irnet__EndReport r = IRNET__END_REPORT__INIT;
		r.ref = ref_from(&b, form, true);
		r.outcome = (char *)jstr(form, "outcome");
		r.cause = (char *)jstr(form, "cause");
		r.damage = (char *)jstr(form, "damage");
		r.lessons = (char *)jstr(form, "lessons");
		const json_t *dv = json_object_get(form, "damage_vnd");
		if (dv) {
			if (!json_is_integer(dv) || json_integer_value(dv) < 0)
				fail(&b, "%s", _("\"damage_vnd\" must be a whole number of dong"));
			r.has_damage_vnd = true;
			r.damage_vnd = (uint64_t)json_integer_value(dv);
		}
		r.handling = (uint32_t)enum_field(&b, form, "handling", irn_handling_parse,
						  "self, with-help, foreign-help", true);
		r.national_help_requested = jbool(form, "national_help_requested",
						  &r.has_national_help_requested);
		time_opt(&b, form, "initial_reported_at", NULL, &r.initial_reported_ms);
		r.ended_ms = now_ms;
		time_opt(&b, form, "ended_at", NULL, &r.ended_ms);
		if (!b.failed && r.initial_reported_ms <= 0)
			fail(&b, "%s", _("the field \"initial_reported_at\" (the initial report's date) is required"));
		if (!b.failed && r.outcome == NULL)
			fail(&b, "%s", _("the field \"outcome\" is required"));
		if (!b.failed)
			PACK(end_report, &r);
		break;
	}
	case K(ALERT): {
		Irnet__Alert r = IRNET__ALERT__INIT;
		r.level = (uint32_t)enum_field(&b, form, "level", irn_alert_level_parse,
					       "advisory, warning, urgent", true);
		r.title = (char *)jstr(form, "title");
		r.text = (char *)jstr(form, "text");
		r.ref = ref_from(&b, form, false);
		r.indicators = str_list(&b, form, "indicators", &r.n_indicators);
		time_opt(&b, form, "valid_until", &r.has_valid_until_ms, &r.valid_until_ms);
		if (!b.failed && (r.title == NULL || r.text == NULL))
			fail(&b, "%s", _("the fields \"title\" and \"text\" are required"));
		if (!b.failed)
			PACK(alert, &r);
		break;
	}
	case K(ACKNOWLEDGEMENT): {
		Irnet__Acknowledgement r = IRNET__ACKNOWLEDGEMENT__INIT;
		uint8_t id[IRN_MSGID_LEN];
		const char *hex = jstr(form, "message_id");
		if (hex == NULL || irn_unhex(id, sizeof id, hex) != IRN_OK)
			fail(&b, "%s", _("\"message_id\" must be a full 32-digit message id"));
		r.message_id.data = id;
		r.message_id.len = sizeof id;
		r.sender = (char *)jstr(form, "sender");
		r.note = (char *)jstr(form, "note");
		r.by_person = jbool(form, "by_person", &r.has_by_person);
		if (!b.failed && (r.sender == NULL || !irn_member_id_ok(r.sender)))
			fail(&b, "%s", _("\"sender\" must be the member id of the message's author"));
		if (!b.failed)
			PACK(acknowledgement, &r);
		break;
	}
	default:
		fail(&b, "%s", _("not a typed workflow kind"));
	}
	for (size_t i = 0; i < b.nalloc; i++)
		free(b.alloc[i]);
	if (b.failed) {
		free(buf);
		return IRN_ERR_INVALID;
	}
	if (buf == NULL) {
		snprintf(err, errsz, "%s", n > IRN_MAX_PAYLOAD ? _("the form is too large") : _("out of memory"));
		return n > IRN_MAX_PAYLOAD ? IRN_ERR_TOOBIG : IRN_ERR_NOMEM;
	}
	const char *why = irn_typed_validate(kind, buf, n);
	if (why) {
		snprintf(err, errsz, "%s", _(why)); /* for the person who filled the form */
		free(buf);
		return IRN_ERR_INVALID;
	}
	*out = buf;
	*outlen = n;
	return IRN_OK;
}

/* ---- payload -> JSON ---- */

static void
set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static void
set_time(json_t *o, const char *k, bool has, int64_t ms)
{
	char t[40];
	if (!has)
		return;
	irn_fmt_time_utc(t, sizeof t, ms);
	json_object_set_new(o, k, json_string(t));
}

static void
set_ref(json_t *o, const Irnet__IncidentRef *r)
{
	char hex[2 * IRN_MSGID_LEN + 1];
	if (r == NULL)
		return;
	irn_hex(hex, r->incident.data, IRN_MSGID_LEN);
	json_object_set_new(o, "incident", json_string(hex));
	json_object_set_new(o, "reporter", json_string(r->reporter));
}

static json_t *
strs(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *
irn_typed_to_json(unsigned kind, const uint8_t *p, size_t len)
{
	if (!irn_typed_kind(kind) || irn_typed_validate(kind, p, len) != NULL)
		return NULL;
	json_t *o = json_object();
	switch (kind) {
	case K(PROGRESS_REPORT): {
		Irnet__ProgressReport *r = irnet__progress_report__unpack(NULL, len, p);
		set_ref(o, r->ref);
		set_str(o, "summary", r->summary);
		set_str(o, "actions_taken", r->actions_taken);
		set_str(o, "next_steps", r->next_steps);
		if (r->has_percent_done)
			json_object_set_new(o, "percent_done", json_integer(r->percent_done));
		if (r->has_contained)
			json_object_set_new(o, "contained", json_boolean(r->contained));
		irnet__progress_report__free_unpacked(r, NULL);
		break;
	}
	case K(RESPONSE_PLAN): {
		Irnet__ResponsePlan *r = irnet__response_plan__unpack(NULL, len, p);
		set_ref(o, r->ref);
		set_str(o, "objective", r->objective);
		json_t *a = json_array();
		for (size_t i = 0; i < r->n_steps; i++) {
			json_t *s = json_pack("{s:i,s:s}", "number", (int)r->steps[i]->number, "action",
					      r->steps[i]->action);
			set_str(s, "assignee", r->steps[i]->assignee);
			set_time(s, "due", r->steps[i]->has_due_ms, r->steps[i]->due_ms);
			json_array_append_new(a, s);
		}
		json_object_set_new(o, "steps", a);
		set_str(o, "resources", r->resources);
		set_str(o, "support_needed", r->support_needed);
		irnet__response_plan__free_unpacked(r, NULL);
		break;
	}
	case K(DIRECTION_REQUEST): {
		Irnet__DirectionRequest *r = irnet__direction_request__unpack(NULL, len, p);
		set_ref(o, r->ref);
		set_str(o, "question", r->question);
		json_object_set_new(o, "options", strs(r->options, r->n_options));
		set_time(o, "needed_by", r->has_needed_by_ms, r->needed_by_ms);
		irnet__direction_request__free_unpacked(r, NULL);
		break;
	}
	case K(SUPPORT_REQUEST): {
		Irnet__SupportRequest *r = irnet__support_request__unpack(NULL, len, p);
		set_ref(o, r->ref);
		set_str(o, "needed", r->needed);
		set_str(o, "from", irn_support_from_name(r->support_from));
		set_time(o, "needed_by", r->has_needed_by_ms, r->needed_by_ms);
		set_str(o, "reason", r->reason);
		irnet__support_request__free_unpacked(r, NULL);
		break;
	}
	case K(END_REPORT): {
		Irnet__EndReport *r = irnet__end_report__unpack(NULL, len, p);
		set_ref(o, r->ref);
		set_time(o, "initial_reported_at", true, r->initial_reported_ms);
		set_str(o, "outcome", r->outcome);
		set_str(o, "cause", r->cause);
		set_str(o, "damage", r->damage);
		if (r->has_damage_vnd)
			json_object_set_new(o, "damage_vnd", json_integer((json_int_t)r->damage_vnd));
		set_str(o, "lessons", r->lessons);
		set_str(o, "handling", irn_handling_name(r->handling));
		if (r->has_national_help_requested)
			json_object_set_new(o, "national_help_requested", json_boolean(r->national_help_requested));
		set_time(o, "ended_at", true, r->ended_ms);
		json_t *a = json_array();
		for (size_t i = 0; i < r->n_attachments; i++) {
			char h[2 * IRN_HASH_LEN + 1];
			irn_hex(h, r->attachments[i]->hash.data, IRN_HASH_LEN);
			json_array_append_new(a, json_pack("{s:s,s:I,s:s}", "name", r->attachments[i]->name,
							   "size", (json_int_t)r->attachments[i]->size,
							   "hash", h));
		}
		json_object_set_new(o, "attachments", a);
		irnet__end_report__free_unpacked(r, NULL);
		break;
	}
	case K(ALERT): {
		Irnet__Alert *r = irnet__alert__unpack(NULL, len, p);
		set_str(o, "level", irn_alert_level_name(r->level));
		set_str(o, "title", r->title);
		set_str(o, "text", r->text);
		set_ref(o, r->ref);
		set_time(o, "valid_until", r->has_valid_until_ms, r->valid_until_ms);
		json_object_set_new(o, "indicators", strs(r->indicators, r->n_indicators));
		irnet__alert__free_unpacked(r, NULL);
		break;
	}
	case K(ACKNOWLEDGEMENT): {
		Irnet__Acknowledgement *r = irnet__acknowledgement__unpack(NULL, len, p);
		char hex[2 * IRN_MSGID_LEN + 1];
		irn_hex(hex, r->message_id.data, IRN_MSGID_LEN);
		json_object_set_new(o, "message_id", json_string(hex));
		set_str(o, "sender", r->sender);
		set_str(o, "note", r->note);
		if (r->has_by_person)
			json_object_set_new(o, "by_person", json_boolean(r->by_person));
		irnet__acknowledgement__free_unpacked(r, NULL);
		break;
	}
	}
	return o;
}

bool
irn_typed_incident(unsigned kind, const uint8_t *p, size_t len, uint8_t inc[IRN_MSGID_LEN],
		   char reporter[IRN_MAX_ID + 1])
{
	if (!irn_typed_kind(kind) || kind == K(ACKNOWLEDGEMENT) || irn_typed_validate(kind, p, len))
		return false;
	/* every IncidentRef-bearing payload has it as field 1 except the alert
	 * (field 4); decode the right message to find it */
	const Irnet__IncidentRef *ref = NULL;
	ProtobufCMessage *m = NULL;
	switch (kind) {
	case K(PROGRESS_REPORT): {
		Irnet__ProgressReport *r = irnet__progress_report__unpack(NULL, len, p);
		m = &r->base; ref = r->ref; break;
	}
	case K(RESPONSE_PLAN): {
		Irnet__ResponsePlan *r = irnet__response_plan__unpack(NULL, len, p);
		m = &r->base; ref = r->ref; break;
	}
	case K(DIRECTION_REQUEST): {
		Irnet__DirectionRequest *r = irnet__direction_request__unpack(NULL, len, p);
		m = &r->base; ref = r->ref; break;
	}
	case K(SUPPORT_REQUEST): {
		Irnet__SupportRequest *r = irnet__support_request__unpack(NULL, len, p);
		m = &r->base; ref = r->ref; break;
	}
	case K(END_REPORT): {
		Irnet__EndReport *r = irnet__end_report__unpack(NULL, len, p);
		m = &r->base; ref = r->ref; break;
	}
	case K(ALERT): {
		Irnet__Alert *r = irnet__alert__unpack(NULL, len, p);
		m = &r->base; ref = r->ref; break;
	}
	}
	bool ok = ref != NULL;
	if (ok) {
		memcpy(inc, ref->incident.data, IRN_MSGID_LEN);
		snprintf(reporter, IRN_MAX_ID + 1, "%s", ref->reporter);
	}
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
	return ok;
}
