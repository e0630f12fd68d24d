/* forms.c - `irnet-node form ID`: any stored message printed as the
 * official form of TT20's annex (Vietnamese by default, English with
 * --lang en), with who signed it and the signature checked again against
 * the roster in force when the message was accepted. */
#include "forms.h"
#include "attach.h"
#include "fold.h"
#include "keys.h"
#include "report.h"
#include "workflow.h"
#include "authz.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* The form being rendered: an ordered list of rows, printed as text or JSON. */
typedef struct form {
	json_t *rows;   /* [{"section"} | {"label","value"}] */
	const char *tz;
	bool vi;
} form;

static void
section(form *f, const char *title)
{
	json_array_append_new(f->rows, json_pack("{s:s}", "section", title));
}

static void
row(form *f, const char *label, const char *value)
{
	if (value && *value)
		json_array_append_new(f->rows, json_pack("{s:s,s:s}", "label", label, "value", value));
}

static void
row_time(form *f, const char *label, int64_t ms)
{
	char t[64];
	if (ms <= 0)
		return;
	irn_fmt_time(t, sizeof t, ms, f->tz);
	row(f, label, t);
}

static void
row_bool(form *f, const char *label, bool has, bool v)
{
	if (has)
		row(f, label, v ? _("yes") : _("no"));
}

static void
row_uint(form *f, const char *label, unsigned long long v)
{
	char t[32];
	snprintf(t, sizeof t, "%llu", v);
	row(f, label, t);
}

static void
row_id(form *f, const char *label, const ProtobufCBinaryData *id)
{
	char hex[2 * IRN_MSGID_LEN + 1];
	if (id->len != IRN_MSGID_LEN)
		return;
	irn_hex(hex, id->data, IRN_MSGID_LEN);
	row(f, label, hex);
}

/* One row holding a list, one item a line. */
static void
row_list(form *f, const char *label, char **v, size_t n)
{
	if (n == 0)
		return;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		fprintf(m, "%s%s", i ? "\n" : "", v[i]);
	fclose(m);
	row(f, label, buf);
	free(buf);
}

static void
contact_rows(form *f, const Irnet__Contact *c, bool with_position)
{
	if (c == NULL)
		return;
	row(f, _("Name:"), c->name);
	if (with_position)
		row(f, _("Position:"), c->position);
	row(f, _("Address:"), c->address);
	row(f, _("Phone:"), c->phone);
	row(f, _("Email:"), c->email);
}

static void
ref_rows(form *f, const Irnet__IncidentRef *r)
{
	if (r == NULL)
		return;
	row_id(f, _("Incident (initial report number):"), &r->incident);
	row(f, _("Reported by:"), r->reporter);
}

static void
attachment_rows(form *f, Irnet__AttachmentRef **a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char hex[2 * IRN_HASH_LEN + 1] = "", line[512];
		if (a[i]->hash.len == IRN_HASH_LEN)
			irn_hex(hex, a[i]->hash.data, IRN_HASH_LEN);
		snprintf(line, sizeof line, "%s (%llu B, BLAKE2b %.16s...)", a[i]->name,
			 (unsigned long long)a[i]->size, hex);
		row(f, _("Attachment:"), line);
	}
}

static const char *
enum_label(unsigned v, const char *const *labels, size_t n)
{
	return v < n && labels[v] ? _(labels[v]) : "?";
}

static void
render_initial(form *f, const uint8_t *p, size_t len)
{
	Irnet__InitialReport *r = irnet__initial_report__unpack(NULL, len, p);
	if (r == NULL)
		return;
	static const char *const detected[] = { NULL, N_("intrusion detection system"),
						N_("logs"), N_("notified by someone"), N_("other") };
	static const char *const notified[] = { NULL, N_("owner"), N_("Internet service provider"),
						N_("incident-response coordinator") };
	section(f, _("1. Reporting organisation"));
	contact_rows(f, r->organisation, false);
	section(f, _("2. Contact person"));
	contact_rows(f, r->contact_person, true);
	section(f, _("3. The information system"));
	row(f, _("Operator:"), r->operator_name);
	row(f, _("Owner:"), r->owner_name);
	row(f, _("System name:"), r->system_name);
	row_uint(f, _("Security level (1-5):"), r->security_level);
	row_bool(f, _("On the national critical list:"), r->has_critical_list, r->critical_list);
	row(f, _("Security service provider:"), r->security_provider);
	row(f, _("Internet service provider:"), r->isp);
	row(f, _("System purpose:"), r->system_purpose);
	section(f, _("4. The incident"));
	row(f, _("Summary:"), r->summary);
	row(f, _("Category:"), irn_category_label(r->category));
	row_time(f, _("Detected at:"), r->detected_ms);
	row(f, _("Status:"), r->handled ? _("handled") : _("not handled"));
	for (size_t i = 0; i < r->n_detected_by; i++)
		row(f, _("Detected by:"), enum_label(r->detected_by[i], detected, 5));
	row(f, _("Detected by (other):"), r->detected_by_other);
	for (size_t i = 0; i < r->n_notified; i++)
		row(f, _("Already notified:"), enum_label(r->notified[i], notified, 4));
	row(f, _("Affected operating systems:"), r->affected_os);
	row(f, _("Affected services:"), r->affected_services);
	row_list(f, _("IP addresses:"), r->ip_addresses, r->n_ip_addresses);
	row_list(f, _("Domain names:"), r->domain_names, r->n_domain_names);
	row(f, _("Measures taken:"), r->measures_taken);
	row_list(f, _("Attached files:"), r->attachment_names, r->n_attachment_names);
	attachment_rows(f, r->attachments, r->n_attachments);
	row(f, _("Confidential:"), r->confidential ? _("yes") : _("no"));
	row(f, _("Support requested:"), r->support_requested);
	row(f, _("Reporter's reference:"), r->incident_ref);
	row_time(f, _("Time of report:"), r->reported_ms);
	section(f, _("5. Severity facts (QD05 art. 9)"));
	row_bool(f, _("Service interruption:"), r->has_impact_interruption, r->impact_interruption);
	row_bool(f, _("Likely disclosure of secret data:"), r->has_impact_disclosure, r->impact_disclosure);
	row_bool(f, _("Unrecoverable loss of integrity:"), r->has_impact_integrity, r->impact_integrity);
	row_bool(f, _("Loss of control of the system:"), r->has_impact_control, r->impact_control);
	row_bool(f, _("Likely to spread to level 4/5 systems:"), r->has_impact_spread, r->impact_spread);
	row(f, _("The owner can handle it alone:"), r->can_handle_alone ? _("yes") : _("no"));
	row(f, _("Severity computed from these facts:"), irn_report_serious(r) ? _("serious") : _("normal"));
	irnet__initial_report__free_unpacked(r, NULL);
}

static const char *const handling_labels[] = { NULL, N_("by own forces"),
					       N_("with help of other domestic organisations"),
					       N_("with foreign help") };

static void
render_end(form *f, const uint8_t *p, size_t len)
{
	Irnet__EndReport *r = irnet__end_report__unpack(NULL, len, p);
	if (r == NULL)
		return;
	section(f, _("1. The initial report"));
	ref_rows(f, r->ref);
	row_time(f, _("Date of the initial report:"), r->initial_reported_ms);
	section(f, _("2. Result of the response"));
	row(f, _("Outcome:"), r->outcome);
	row(f, _("Cause:"), r->cause);
	row(f, _("Damage:"), r->damage);
	if (r->has_damage_vnd) {
		char v[48], t[64];
		forms_fmt_vnd(v, sizeof v, r->damage_vnd, f->vi);
		snprintf(t, sizeof t, "%s VND", v);
		row(f, _("Estimated damage:"), t);
	}
	row(f, _("Handled:"), enum_label(r->handling, handling_labels, 4));
	row_bool(f, _("National help requested:"), r->has_national_help_requested,
		 r->national_help_requested);
	row_time(f, _("Response ended at:"), r->ended_ms);
	row(f, _("Lessons learned:"), r->lessons);
	attachment_rows(f, r->attachments, r->n_attachments);
	irnet__end_report__free_unpacked(r, NULL);
}

/* Form 06, with each task's state as this node knows it. */
static void
render_tasking(form *f, irn_home *h, const irn_msg *m, const uint8_t *p, size_t len)
{
	Irnet__Tasking *t = irnet__tasking__unpack(NULL, len, p);
	if (t == NULL)
		return;
	section(f, _("1. The incident"));
	row_id(f, _("Incident (initial report number):"), &t->incident);
	row(f, _("Reported by:"), t->reporter);
	section(f, _("2. Tasks"));
	sqlite3_stmt *st = NULL;
	sqlite3_prepare_v2(irn_ledger_db(h->ledger), "SELECT state, note FROM tasks WHERE tasking = ?"
			   " AND number = ?", -1, &st, NULL);
	for (size_t i = 0; i < t->n_tasks; i++) {
		const Irnet__TaskItem *k = t->tasks[i];
		char title[64];
		snprintf(title, sizeof title, _("Task %u"), k->number);
		section(f, title);
		row(f, _("Assigned to:"), k->assignee);
		row(f, _("Instructions:"), k->instructions);
		row_time(f, _("Deadline:"), k->deadline_ms);
		if (st) {
			sqlite3_reset(st);
			sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
			sqlite3_bind_int(st, 2, (int)k->number);
			if (sqlite3_step(st) == SQLITE_ROW) {
				row(f, _("State:"), _(irn_task_state_name((unsigned)sqlite3_column_int(st, 0))));
				row(f, _("Assignee's note:"), (const char *)sqlite3_column_text(st, 1));
			}
		}
	}
	sqlite3_finalize(st);
	irnet__tasking__free_unpacked(t, NULL);
}

static void
render_progress(form *f, const uint8_t *p, size_t len)
{
	Irnet__ProgressReport *r = irnet__progress_report__unpack(NULL, len, p);
	if (r == NULL)
		return;
	ref_rows(f, r->ref);
	row(f, _("Summary:"), r->summary);
	row(f, _("Actions taken:"), r->actions_taken);
	row(f, _("Next steps:"), r->next_steps);
	if (r->has_percent_done) {
		char t[16];
		snprintf(t, sizeof t, "%u%%", r->percent_done);
		row(f, _("Done:"), t);
	}
	row_bool(f, _("Spread stopped:"), r->has_contained, r->contained);
	irnet__progress_report__free_unpacked(r, NULL);
}

static void
render_plan(form *f, const uint8_t *p, size_t len)
{
	Irnet__ResponsePlan *r = irnet__response_plan__unpack(NULL, len, p);
	if (r == NULL)
		return;
	ref_rows(f, r->ref);
	row(f, _("Objective:"), r->objective);
	for (size_t i = 0; i < r->n_steps; i++) {
		const Irnet__PlanStep *s = r->steps[i];
		char title[64];
		snprintf(title, sizeof title, _("Step %u"), s->number);
		section(f, title);
		row(f, _("Action:"), s->action);
		row(f, _("Assigned to:"), s->assignee);
		if (s->has_due_ms)
			row_time(f, _("Due:"), s->due_ms);
	}
	row(f, _("Resources:"), r->resources);
	row(f, _("Support needed:"), r->support_needed);
	irnet__response_plan__free_unpacked(r, NULL);
}

static void
render_direction(form *f, const uint8_t *p, size_t len)
{
	Irnet__DirectionRequest *r = irnet__direction_request__unpack(NULL, len, p);
	if (r == NULL)
		return;
	ref_rows(f, r->ref);
	row(f, _("Question:"), r->question);
	row_list(f, _("Options:"), r->options, r->n_options);
	if (r->has_needed_by_ms)
		row_time(f, _("Needed by:"), r->needed_by_ms);
	irnet__direction_request__free_unpacked(r, NULL);
}

static void
render_support(form *f, const uint8_t *p, size_t len)
{
	Irnet__SupportRequest *r = irnet__support_request__unpack(NULL, len, p);
	if (r == NULL)
		return;
	static const char *const from[] = { NULL, N_("provincial response team"),
					    N_("national coordinator"), N_("foreign organisation"),
					    N_("another domestic organisation") };
	ref_rows(f, r->ref);
	row(f, _("Support needed:"), r->needed);
	row(f, _("Requested from:"), enum_label(r->support_from, from, 5));
	if (r->has_needed_by_ms)
		row_time(f, _("Needed by:"), r->needed_by_ms);
	row(f, _("Why own forces are not enough:"), r->reason);
	irnet__support_request__free_unpacked(r, NULL);
}

static void
render_alert(form *f, const uint8_t *p, size_t len)
{
	Irnet__Alert *r = irnet__alert__unpack(NULL, len, p);
	if (r == NULL)
		return;
	static const char *const level[] = { NULL, N_("advisory"), N_("warning"), N_("urgent") };
	row(f, _("Level:"), enum_label(r->level, level, 4));
	row(f, _("Title:"), r->title);
	row(f, _("Text:"), r->text);
	ref_rows(f, r->ref);
	if (r->has_valid_until_ms)
		row_time(f, _("Valid until:"), r->valid_until_ms);
	row_list(f, _("Indicators:"), r->indicators, r->n_indicators);
	irnet__alert__free_unpacked(r, NULL);
}

static void
render_ack(form *f, const uint8_t *p, size_t len)
{
	Irnet__Acknowledgement *r = irnet__acknowledgement__unpack(NULL, len, p);
	if (r == NULL)
		return;
	row_id(f, _("Acknowledged message:"), &r->message_id);
	row(f, _("Its author:"), r->sender);
	row(f, _("Note:"), r->note);
	row_bool(f, _("Confirmed by a person:"), r->has_by_person, r->by_person);
	irnet__acknowledgement__free_unpacked(r, NULL);
}

static void
render_profile(form *f, const uint8_t *p, size_t len)
{
	Irnet__MemberProfile *r = irnet__member_profile__unpack(NULL, len, p);
	if (r == NULL)
		return;
	section(f, _("1. Organisation"));
	contact_rows(f, r->organisation, false);
	section(f, _("2. Primary 24/7 contact"));
	contact_rows(f, r->primary, true);
	section(f, _("3. Backup 24/7 contact"));
	contact_rows(f, r->backup, true);
	section(f, _("4. Information systems"));
	for (size_t i = 0; i < r->n_systems; i++) {
		const Irnet__SystemInfo *s = r->systems[i];
		row(f, _("System name:"), s->name);
		row_uint(f, _("Security level (1-5):"), s->security_level);
		row_bool(f, _("On the national critical list:"), s->has_critical_list, s->critical_list);
		row(f, _("System purpose:"), s->purpose);
		row(f, _("Owner:"), s->owner);
	}
	row_time(f, _("Effective from:"), r->effective_ms);
	row(f, _("Note:"), r->note);
	irnet__member_profile__free_unpacked(r, NULL);
}

static void
render_transition(form *f, const uint8_t *p, size_t len)
{
	Irnet__Transition *t = irnet__transition__unpack(NULL, len, p);
	if (t == NULL)
		return;
	row_id(f, _("Incident (initial report number):"), &t->incident);
	row(f, _("Reported by:"), t->reporter);
	const char *from = irn_state_name(t->from_state), *to = irn_state_name(t->to_state);
	row(f, _("From state:"), from ? from : "?");
	row(f, _("To state:"), to ? to : "?");
	if (t->has_severity)
		row(f, _("Severity:"), t->severity == 2 ? _("serious") : _("normal"));
	row(f, _("Reason:"), t->reason);
	if (t->has_merged_into)
		row_id(f, _("Merged into:"), &t->merged_into);
	irnet__transition__free_unpacked(t, NULL);
}

static void
render_task_status(form *f, const uint8_t *p, size_t len)
{
	Irnet__TaskStatus *t = irnet__task_status__unpack(NULL, len, p);
	if (t == NULL)
		return;
	row_id(f, _("Coordination order:"), &t->tasking);
	row_uint(f, _("Task:"), t->number);
	row(f, _("State:"), _(irn_task_state_name(t->state)));
	row(f, _("Note:"), t->note);
	irnet__task_status__free_unpacked(t, NULL);
}

static void
render_chunk(form *f, const uint8_t *p, size_t len)
{
	Irnet__AttachmentChunk *c = irnet__attachment_chunk__unpack(NULL, len, p);
	if (c == NULL)
		return;
	char hex[2 * IRN_HASH_LEN + 1] = "", part[32];
	if (c->hash.len == IRN_HASH_LEN)
		irn_hex(hex, c->hash.data, IRN_HASH_LEN);
	row(f, _("File name:"), c->name);
	row_uint(f, _("Size (bytes):"), c->size);
	row(f, _("BLAKE2b-256:"), hex);
	snprintf(part, sizeof part, "%u / %u", c->index + 1, c->count);
	row(f, _("Part:"), part);
	ref_rows(f, c->ref);
	irnet__attachment_chunk__free_unpacked(c, NULL);
}

/* The title of each kind's form (TT20 annex numbers where there is one). */
static const char *
form_title(unsigned kind)
{
	switch (kind) {
	case IRNET__KIND__KIND_INITIAL_REPORT:
		return _("FORM 03 - INITIAL REPORT OF A CYBER-SECURITY INCIDENT");
	case IRNET__KIND__KIND_END_REPORT:
		return _("FORM 04 - END-OF-RESPONSE REPORT");
	case IRNET__KIND__KIND_TASKING:
		return _("FORM 06 - COORDINATION ORDER FOR INCIDENT RESPONSE");
	case IRNET__KIND__KIND_PROFILE:
		return _("FORMS 01/02 - MEMBER PROFILE AND 24/7 CONTACTS");
	case IRNET__KIND__KIND_PROGRESS_REPORT:
		return _("PROGRESS REPORT ON THE RESPONSE");
	case IRNET__KIND__KIND_RESPONSE_PLAN:
		return _("RESPONSE PLAN");
	case IRNET__KIND__KIND_DIRECTION_REQUEST:
		return _("REQUEST FOR DIRECTION");
	case IRNET__KIND__KIND_SUPPORT_REQUEST:
		return _("REQUEST FOR SUPPORT");
	case IRNET__KIND__KIND_ALERT:
		return _("ALERT / ADVISORY");
	case IRNET__KIND__KIND_ACKNOWLEDGEMENT:
		return _("ACKNOWLEDGEMENT OF RECEIPT");
	case IRNET__KIND__KIND_CLASSIFICATION:
		return _("CLASSIFICATION OF AN INCIDENT");
	case IRNET__KIND__KIND_TRANSITION:
		return _("CHANGE OF AN INCIDENT'S STATE");
	case IRNET__KIND__KIND_TASK_STATUS:
		return _("TASK STATUS REPORT");
	case IRNET__KIND__KIND_ATTACHMENT:
		return _("ATTACHMENT (PART)");
	case IRNET__KIND__KIND_NOTE:
		return _("NOTE");
	default:
		return _("MESSAGE");
	}
}

/* The files this node holds for an incident (kind ATTACHMENT, by hash). */
static void
held_attachments(form *f, irn_home *h, const uint8_t incident[IRN_MSGID_LEN])
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT hash, name, size, state, received, count, sender FROM attachments a"
			       " WHERE EXISTS (SELECT 1 FROM attachment_incidents l WHERE l.hash = a.hash"
			       " AND l.sender = a.sender AND l.incident = ?) ORDER BY first_ms", -1, &st,
			       NULL) != SQLITE_OK)
		return;
	sqlite3_bind_blob(st, 1, incident, IRN_MSGID_LEN, SQLITE_STATIC);
	bool first = true;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (first)
			section(f, _("Attached files held here"));
		first = false;
		char hex[2 * IRN_HASH_LEN + 1], line[640];
		irn_hex(hex, sqlite3_column_blob(st, 0), IRN_HASH_LEN);
		const char *state = (const char *)sqlite3_column_text(st, 3);
		snprintf(line, sizeof line, "%s, %lld B, %s: %s (%lld/%lld), BLAKE2b %.16s...",
			 sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 2),
			 sqlite3_column_text(st, 6),
			 !strcmp(state, "complete") ? _("complete") : !strcmp(state, "corrupt") ? _("CORRUPT")
												: _("partial"),
			 (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5), hex);
		row(f, _("File:"), line);
	}
	sqlite3_finalize(st);
}

static void
render_payload(form *f, irn_home *h, const irn_msg *m, const uint8_t *p, size_t len)
{
	size_t before = json_array_size(f->rows);
	switch (m->h->kind) {
	case IRNET__KIND__KIND_INITIAL_REPORT:
		render_initial(f, p, len);
		held_attachments(f, h, m->h->message_id.data);
		break;
	case IRNET__KIND__KIND_END_REPORT: render_end(f, p, len); break;
	case IRNET__KIND__KIND_TASKING: render_tasking(f, h, m, p, len); break;
	case IRNET__KIND__KIND_PROGRESS_REPORT: render_progress(f, p, len); break;
	case IRNET__KIND__KIND_RESPONSE_PLAN: render_plan(f, p, len); break;
	case IRNET__KIND__KIND_DIRECTION_REQUEST: render_direction(f, p, len); break;
	case IRNET__KIND__KIND_SUPPORT_REQUEST: render_support(f, p, len); break;
	case IRNET__KIND__KIND_ALERT: render_alert(f, p, len); break;
	case IRNET__KIND__KIND_ACKNOWLEDGEMENT: render_ack(f, p, len); break;
	case IRNET__KIND__KIND_PROFILE: render_profile(f, p, len); break;
	case IRNET__KIND__KIND_CLASSIFICATION:
	case IRNET__KIND__KIND_TRANSITION: render_transition(f, p, len); break;
	case IRNET__KIND__KIND_TASK_STATUS: render_task_status(f, p, len); break;
	case IRNET__KIND__KIND_ATTACHMENT: render_chunk(f, p, len); break;
	default: break;
	}
	if (json_array_size(f->rows) == before && len > 0) {
		/* a text body (notes, and kinds sent as text before their typed forms) */
		char *t = malloc(len + 1);
		if (t) {
			memcpy(t, p, len);
			t[len] = '\0';
			if (strlen(t) == len && irn_text_check(t, len, IRN_MAX_LONG_TEXT, IRN_TEXT_MULTILINE) == NULL)
				row(f, _("Text:"), t);
			else
				row(f, _("Content:"), _("binary content that does not decode as this kind"));
			free(t);
		}
	}
}

static void
print_value(const char *v, size_t indent)
{
	for (const char *s = v; *s;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		if (s != v)
			printf("\n%*s", (int)indent, "");
		fwrite(s, 1, n, stdout);
		s += n + (nl ? 1 : 0);
	}
	putchar('\n');
}

static void
print_rows(const json_t *rows)
{
	/* the label column as wide as the widest label, by display width */
	size_t w = 0, i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		const char *l = json_string_value(json_object_get(r, "label"));
		if (l && irn_display_width(l) > w)
			w = irn_display_width(l);
	}
	if (w > 44)
		w = 44;
	json_array_foreach(rows, i, r) {
		const char *s = json_string_value(json_object_get(r, "section"));
		if (s) {
			printf("%s\n", s);
			continue;
		}
		fputs("  ", stdout);
		irn_fput_padded(stdout, json_string_value(json_object_get(r, "label")), w);
		fputs("  ", stdout);
		print_value(json_string_value(json_object_get(r, "value")), w + 4);
	}
}

static const char form_help[] = N_(
"usage: irnet-node [--json] form ID [--lang vi|en]\n"
"\n"
"Print a stored message as the official form of the TT20 annex: Form 03\n"
"(initial report), Form 04 (end-of-response report), Form 06 (coordination\n"
"order), Forms 01/02 (member profile), and the progress report, response\n"
"plan, requests for direction and support, alerts, acknowledgements and\n"
"state changes in the same layout. Vietnamese by default; --lang en for\n"
"English (a label without a translation is shown in English).\n"
"\n"
"Below the form: the member that signed, its organisation, the authorised\n"
"person and the local account named in the signed header, the signing key's\n"
"fingerprint, and the signature checked again now against the roster in\n"
"force when the message was accepted: VERIFIED, or the reason it fails.\n"
"Exercise (drill) messages are marked at the top and the bottom.\n"
"ID is a message id, or a unique prefix of at least 6 hex digits.\n"
"Exit status: 0 shown and verified, 1 not found or NOT verified, 2 usage.\n");

int
node_cmd_form(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(form_help)))
		return 0;
	const char *id_arg = NULL, *lang = "vi";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--lang") && i + 1 < argc)
			lang = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			c->json = true;
		else if (argv[i][0] != '-' && id_arg == NULL)
			id_arg = argv[i];
		else {
			fprintf(stderr, _("irnet-node form: bad argument %s (see --help)\n"), argv[i]);
			return 2;
		}
	}
	if (id_arg == NULL || !forms_set_lang(lang)) {
		fprintf(stderr, "%s", _("usage: irnet-node form ID [--lang vi|en]\n"));
		return 2;
	}
	irn_home *h = forms_open_ro(c);
	if (!h)
		return 1;
	int rc = 1;
	uint8_t id[IRN_MSGID_LEN];
	int found = forms_find_message(h, id_arg, id);
	if (found != 1) {
		fprintf(stderr, found == 0 ? _("irnet-node form: no message %s\n")
					   : _("irnet-node form: %s is not a unique message id prefix\n"),
			id_arg);
		forms_close_ro(&h);
		return found == 0 ? 1 : 2;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT data, roster_version, accepted_ms, remote_index FROM ledger"
			       " WHERE type = 2 AND message_id = ? ORDER BY idx LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK) {
		forms_close_ro(&h);
		return 1;
	}
	sqlite3_bind_blob(st, 1, id, IRN_MSGID_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		forms_close_ro(&h);
		return 1;
	}
	const uint8_t *data = sqlite3_column_blob(st, 0);
	size_t len = (size_t)sqlite3_column_bytes(st, 0);
	int64_t accepted = sqlite3_column_int64(st, 2);
	irn_roster *owned = NULL;
	const irn_roster *ro = forms_roster_at(h, (uint64_t)sqlite3_column_int64(st, 1), &owned);
	irn_msg *m = NULL;
	irn_refusal why = { 0, N_("the roster of its time is not in the ledger") };
	bool verified = ro && irn_envelope_check(ro, h->cfg.network, data, len, NULL, 0, accepted,
						 &m, &why) == 0;
	char fp[48] = "", keyid[2 * IRN_KEYID_LEN + 1] = "";
	if (!verified) {
		/* Show what the stored bytes claim, marked as unverified. */
		m = calloc(1, sizeof *m);
		if (m) {
			m->env = irnet__envelope__unpack(NULL, len, data);
			m->body = m->env ? irnet__body__unpack(NULL, m->env->body.len, m->env->body.data)
					 : NULL;
			m->h = m->body ? m->body->header : NULL;
			if (m->env && m->env->signer_key_id.len == IRN_KEYID_LEN)
				irn_hex(keyid, m->env->signer_key_id.data, IRN_KEYID_LEN);
		}
	} else {
		irn_fingerprint(fp, m->signer->sign_pk);
	}
	if (m == NULL || m->h == NULL || m->h->message_id.len != IRN_MSGID_LEN) {
		fprintf(stderr, _("irnet-node form: the stored message does not decode: %s\n"), _(why.reason));
		goto out;
	}
	size_t clen = 0;
	uint8_t *content = verified ? forms_content(h, m, &clen) : NULL;
	if (!verified && m->h->tlp != IRNET__TLP__TLP_RED) {
		content = malloc(m->body->payload.len ? m->body->payload.len : 1);
		if (content) {
			memcpy(content, m->body->payload.data, m->body->payload.len);
			clen = m->body->payload.len;
		}
	}
	form f = { .rows = json_array(), .tz = h->cfg.timezone, .vi = !strcmp(lang, "vi") };
	char hex[2 * IRN_MSGID_LEN + 1], vtext[512];
	irn_hex(hex, m->h->message_id.data, IRN_MSGID_LEN);
	if (verified)
		snprintf(vtext, sizeof vtext, "%s", _("VERIFIED against the roster in force when it was accepted"));
	else
		snprintf(vtext, sizeof vtext, _("NOT VERIFIED: %s"), _(why.reason)); /* English in logs */
	row(&f, _("Message number:"), hex);
	row(&f, _("Kind:"), irn_kind_name(m->h->kind) ? irn_kind_name(m->h->kind) : "?");
	row_time(&f, _("Signed at:"), m->h->created_ms);
	if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		row_time(&f, _("Accepted by the broker at:"), accepted);
	} else {
		/* our own message: the broker's time is in its receipt */
		sqlite3_stmt *ob;
		int64_t at = 0;
		if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), "SELECT accepted_ms FROM outbox WHERE"
				       " message_id = ?", -1, &ob, NULL) == SQLITE_OK) {
			sqlite3_bind_blob(ob, 1, id, IRN_MSGID_LEN, SQLITE_STATIC);
			if (sqlite3_step(ob) == SQLITE_ROW)
				at = sqlite3_column_int64(ob, 0);
			sqlite3_finalize(ob);
		}
		if (at > 0)
			row_time(&f, _("Accepted by the broker at:"), at);
		else
			row(&f, _("Accepted by the broker at:"), _("not yet (no receipt)"));
	}
	if (content)
		render_payload(&f, h, m, content, clen);
	else
		row(&f, _("Content:"), _("sealed (TLP:RED) to other members: not readable here"));
	json_t *signer = json_object();
	section(&f, _("SIGNATURE"));
	row(&f, _("Signed by member:"), m->h->sender);
	json_object_set_new(signer, "member", json_string(m->h->sender));
	if (verified) {
		row(&f, _("Member name:"), m->signer->display_name);
		row(&f, _("Organisation:"), m->signer->organisation);
		json_object_set_new(signer, "member_name", json_string(m->signer->display_name));
		json_object_set_new(signer, "organisation", json_string(m->signer->organisation));
		json_object_set_new(signer, "fingerprint", json_string(fp));
	} else if (keyid[0]) {
		json_object_set_new(signer, "key_id", json_string(keyid));
	}
	row(&f, _("Authorised person:"), m->h->signed_by_person);
	row(&f, _("Local account:"), m->h->local_account);
	if (m->h->signed_by_person)
		json_object_set_new(signer, "person", json_string(m->h->signed_by_person));
	if (m->h->local_account)
		json_object_set_new(signer, "local_account", json_string(m->h->local_account));
	row(&f, _("Key fingerprint:"), verified ? fp : keyid);
	row(&f, _("Signature:"), vtext);
	const char *banner = _("*** EXERCISE (DRILL) - NOT A REAL INCIDENT ***");
	if (c->json) {
		static const char *const tlps[] = { "clear", "green", "amber", "red" };
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:s,s:o,s:o}", "id", hex, "kind",
				      irn_kind_name(m->h->kind) ? irn_kind_name(m->h->kind) : "?",
				      "lang", lang, "title", form_title(m->h->kind), "exercise",
				      m->h->exercise, "verified", verified, "verification", vtext, "tlp",
				      tlps[m->h->tlp <= 3 ? m->h->tlp : 2], "signer", signer, "rows",
				      json_incref(f.rows));
		char *s = json_dumps(o, JSON_INDENT(2));
		if (s)
			puts(s);
		free(s);
		json_decref(o);
	} else {
		json_decref(signer);
		if (m->h->exercise)
			printf("%s\n", banner);
		if (!verified)
			printf("%s\n", _("!!! THE SIGNATURE DOES NOT VERIFY: do not act on this content !!!"));
		if (m->h->tlp == IRNET__TLP__TLP_RED)
			printf("%s\n", _("TLP:RED - confidential: for the named recipients only"));
		printf("%s\n", form_title(m->h->kind));
		print_rows(f.rows);
		if (m->h->exercise)
			printf("%s\n", banner);
	}
	json_decref(f.rows);
	if (content) {
		sodium_memzero(content, clen);
		free(content);
	}
	rc = verified ? 0 : 1;
out:
	irn_msg_free(&m);
	irn_roster_free(&owned);
	sqlite3_finalize(st);
	forms_close_ro(&h);
	return rc;
}
