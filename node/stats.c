/* stats.c - `irnet-node periodic`: Form 05 of TT20, the periodic report,
 * generated from what this node holds (at the coordinator: every incident
 * reported to it). Drill incidents are kept out and counted apart. */
#include "forms.h"
#include "fold.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The plan's categories, in its order, by group (plan II.3.a-b). */
static const unsigned cat_codes[] = { 101, 102, 103, 104, 105, 106, 107, 108, 109, 110,
				      201, 202, 203, 204, 205,
				      301, 302, 303, 304, 305,
				      401, 402, 403, 404, 405 };
#define N_CODES (sizeof cat_codes / sizeof cat_codes[0])
static const char *const group_names[] = { "attack", "fault", "error", "disaster" };
static const char *const group_labels[] = { N_("Cyber attack"), N_("System fault"),
					    N_("Operator error"), N_("Natural disaster") };

typedef struct counts {
	long long incidents, self, with_help, foreign, national, unfinished;
	unsigned long long damage;
} counts;

static void
add(counts *to, const counts *c)
{
	to->incidents += c->incidents;
	to->self += c->self;
	to->with_help += c->with_help;
	to->foreign += c->foreign;
	to->national += c->national;
	to->unfinished += c->unfinished;
	to->damage += c->damage;
}

static int
cat_index(unsigned code)
{
	for (size_t i = 0; i < N_CODES; i++)
		if (cat_codes[i] == code)
			return (int)i;
	return -1;
}

/* The end report that counts for an incident: the last one in ledger order. */
typedef struct end_info {
	uint8_t incident[IRN_MSGID_LEN];
	char sender[IRN_MAX_ID + 1];
	size_t pos;   /* order in the ledger */
	unsigned handling;
	bool national;
	unsigned long long damage;
} end_info;

static int
cmp_end(const void *a, const void *b)
{
	return memcmp(((const end_info *)a)->incident, ((const end_info *)b)->incident, IRN_MSGID_LEN);
}

/* Who may speak for an incident's end: its reporter, its owner or a
 * coordinator (by the roster in force). Another member's end report is
 * kept in the ledger but does not change the statistics. */
static bool
may_end(const irn_home *h, const char *sender, const char *reporter)
{
	if (strcmp(sender, reporter) == 0)
		return true;
	const irn_member *m = h->roster ? irn_roster_find(h->roster, sender) : NULL;
	return m && (irn_member_has_role(m, IRNET__ROLE__ROLE_COORDINATOR) ||
		     irn_member_has_role(m, IRNET__ROLE__ROLE_OWNER));
}

/* Every Form 04 end report this node holds, the last per incident and
 * sender (the caller picks the one that may speak for the incident). */
static end_info *
load_end_reports(irn_home *h, size_t *n)
{
	*n = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT l.data, p.payload FROM ledger l LEFT JOIN sealed_plain p"
			       " ON p.message_id = l.message_id WHERE l.type = 2 AND l.kind = 6"
			       " ORDER BY l.idx", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	size_t cap = 16;
	end_info *v = malloc(cap * sizeof *v);
	while (v && sqlite3_step(st) == SQLITE_ROW) {
		Irnet__Envelope *e = irnet__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0),
							     sqlite3_column_blob(st, 0));
		Irnet__Body *b = e ? irnet__body__unpack(NULL, e->body.len, e->body.data) : NULL;
		const uint8_t *p = NULL;
		size_t plen = 0;
		if (b && b->header->tlp == IRNET__TLP__TLP_RED) {
			p = sqlite3_column_blob(st, 1); /* opened by the daemon, NULL if not for us */
			plen = (size_t)sqlite3_column_bytes(st, 1);
		} else if (b) {
			p = b->payload.data;
			plen = b->payload.len;
		}
		/* a drill's end report never ends a real incident (and drill
		 * incidents are not counted at all) */
		if (b && b->header->exercise)
			p = NULL;
		Irnet__EndReport *r = p ? irnet__end_report__unpack(NULL, plen, p) : NULL;
		if (r && r->ref && r->ref->incident.len == IRN_MSGID_LEN) {
			if (*n == cap) {
				cap *= 2;
				end_info *nv = realloc(v, cap * sizeof *v);
				if (nv == NULL) {
					free(v);
					v = NULL;
				} else {
					v = nv;
				}
			}
			if (v) {
				end_info *ei = &v[(*n)++];
				memcpy(ei->incident, r->ref->incident.data, IRN_MSGID_LEN);
				snprintf(ei->sender, sizeof ei->sender, "%s", b->header->sender);
				ei->pos = *n;
				ei->handling = r->handling;
				ei->national = r->has_national_help_requested && r->national_help_requested;
				ei->damage = r->has_damage_vnd ? r->damage_vnd : 0;
			}
		}
		if (r)
			irnet__end_report__free_unpacked(r, NULL);
		if (b)
			irnet__body__free_unpacked(b, NULL);
		if (e)
			irnet__envelope__free_unpacked(e, NULL);
	}
	sqlite3_finalize(st);
	if (v == NULL) {
		*n = 0;
		return NULL;
	}
	/* keep the last per incident and sender: mark the earlier ones, then sort */
	for (size_t i = 0; i < *n; i++)
		for (size_t j = i + 1; j < *n; j++)
			if (!memcmp(v[i].incident, v[j].incident, IRN_MSGID_LEN) &&
			    !strcmp(v[i].sender, v[j].sender)) {
				v[i].handling = 0xFFFFFFFFu; /* superseded */
				break;
			}
	size_t k = 0;
	for (size_t i = 0; i < *n; i++)
		if (v[i].handling != 0xFFFFFFFFu)
			v[k++] = v[i];
	*n = k;
	qsort(v, *n, sizeof *v, cmp_end); /* ties: find_end compares positions */
	return v;
}

/* The end report that counts for an incident: among those from members
 * who may speak for it, the one stored last (its ledger position). */
static const end_info *
find_end(const irn_home *h, const end_info *ends, size_t n, const end_info *key, const char *reporter)
{
	if (ends == NULL || reporter == NULL)
		return NULL;
	const end_info *hit = bsearch(key, ends, n, sizeof *ends, cmp_end);
	if (hit == NULL)
		return NULL;
	while (hit > ends && cmp_end(hit - 1, key) == 0)
		hit--;
	const end_info *best = NULL;
	for (; hit < ends + n && cmp_end(hit, key) == 0; hit++)
		if (may_end(h, hit->sender, reporter) && (best == NULL || hit->pos > best->pos))
			best = hit;
	return best;
}

/* "2026-06-30" (a whole day in the node's time zone; end_of_day: its end)
 * or an RFC 3339 time. */
static irn_err
parse_date(const char *s, const char *tz, bool end_of_day, int64_t *ms)
{
	int y, mo, d;
	char tail;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3) {
		if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970 || y > 9999)
			return IRN_ERR_INVALID;
		char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
		setenv("TZ", tz, 1);
		tzset();
		struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d + (end_of_day ? 1 : 0),
				 .tm_isdst = -1 };
		time_t t = mktime(&tm);
		if (old) {
			setenv("TZ", old, 1);
			free(old);
		} else {
			unsetenv("TZ");
		}
		tzset();
		if (t == (time_t)-1)
			return IRN_ERR_INVALID;
		*ms = (int64_t)t * 1000;
		return IRN_OK;
	}
	return irn_parse_time(s, ms);
}

static void
csv_field(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static json_t *
counts_json(const counts *c)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "incidents", (json_int_t)c->incidents,
			 "handled_self", (json_int_t)c->self, "handled_with_help", (json_int_t)c->with_help,
			 "handled_foreign_help", (json_int_t)c->foreign, "national_help_requested",
			 (json_int_t)c->national, "not_finished", (json_int_t)c->unfinished,
			 "damage_vnd", (json_int_t)c->damage);
}

static void
text_row(const counts *c, const char *label, bool vi)
{
	char dmg[48];
	forms_fmt_vnd(dmg, sizeof dmg, c->damage, vi);
	printf("%9lld %9lld %9lld %9lld %9lld %9lld %18s  %s\n", c->incidents, c->self, c->with_help,
	       c->foreign, c->national, c->unfinished, dmg, label);
}

static const char periodic_help[] = N_(
"usage: irnet-node [--json] periodic --from DATE --to DATE [--format text|json|csv]\n"
"                                   [--lang vi|en]\n"
"\n"
"Form 05 of TT20, the periodic report, generated from this node's ledger\n"
"(at the coordinator: every incident reported to it; elsewhere: what the\n"
"node holds). For each incident category of the plan, grouped as cyber\n"
"attack, system fault, operator error and natural disaster: the number of\n"
"incidents detected in the period, how many were handled by own forces,\n"
"with help of other domestic organisations, with foreign help (from the\n"
"Form 04 end report; an incident without one counts as not finished), how\n"
"many asked for national help, and the estimated damage (sum of the end\n"
"reports' damage in VND). The last end report of an incident from its\n"
"reporter, an owner or a coordinator counts.\n"
"\n"
"Drill (exercise) incidents are never counted; their number is shown\n"
"apart, as are merged and withdrawn incidents (counted where they continue,\n"
"or not at all).\n"
"DATE is a day (2026-06-30, in the node's time zone; --to includes that\n"
"day) or an RFC 3339 time. --format csv is one line per category with a\n"
"header; --json is the same as --format json.\n"
"Due: the six-month report before 20 June, the annual one before 20 December.\n"
"Exit status: 0 success, 1 failure, 2 usage error.\n");

int
node_cmd_periodic(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(periodic_help)))
		return 0;
	const char *from_s = NULL, *to_s = NULL, *format = c->json ? "json" : "text", *lang = "vi";
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--from") && v)
			from_s = argv[++i];
		else if (!strcmp(argv[i], "--to") && v)
			to_s = argv[++i];
		else if (!strcmp(argv[i], "--format") && v)
			format = argv[++i];
		else if (!strcmp(argv[i], "--lang") && v)
			lang = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			format = "json";
		else {
			fprintf(stderr, _("irnet-node periodic: bad argument %s (see --help)\n"), argv[i]);
			return 2;
		}
	}
	if (!from_s || !to_s || (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "csv")) ||
	    !forms_set_lang(lang)) {
		fprintf(stderr, "%s", _("usage: irnet-node periodic --from DATE --to DATE"
					" [--format text|json|csv] [--lang vi|en]\n"));
		return 2;
	}
	irn_home *h = forms_open_ro(c);
	if (!h)
		return 1;
	int64_t from, to;
	if (parse_date(from_s, h->cfg.timezone, false, &from) != IRN_OK ||
	    parse_date(to_s, h->cfg.timezone, true, &to) != IRN_OK || to <= from) {
		fprintf(stderr, "%s", _("irnet-node periodic: bad period (use 2026-01-01 or"
					" 2026-01-01T00:00:00+07:00; --to after --from)\n"));
		forms_close_ro(&h);
		return 2;
	}
	size_t nend = 0;
	end_info *ends = load_end_reports(h, &nend);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT message_id, category, exercise, state, sender FROM incidents"
			       " WHERE detected_ms >= ? AND detected_ms < ?", -1, &st, NULL) != SQLITE_OK) {
		free(ends);
		forms_close_ro(&h);
		return 1;
	}
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	counts per[N_CODES];
	memset(per, 0, sizeof per);
	long long drills = 0, merged = 0, unknown = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_int(st, 2)) {
			drills++; /* an exercise is never a real incident */
			continue;
		}
		const char *state = (const char *)sqlite3_column_text(st, 3);
		if (state && (!strcmp(state, "merged") || !strcmp(state, "withdrawn"))) {
			merged++;
			continue;
		}
		int ci = cat_index((unsigned)sqlite3_column_int(st, 1));
		if (ci < 0 || sqlite3_column_bytes(st, 0) != IRN_MSGID_LEN) {
			unknown++;
			continue;
		}
		counts *k = &per[ci];
		k->incidents++;
		end_info key;
		memcpy(key.incident, sqlite3_column_blob(st, 0), IRN_MSGID_LEN);
		const end_info *e = find_end(h, ends, nend, &key, (const char *)sqlite3_column_text(st, 4));
		if (e == NULL) {
			k->unfinished++;
			continue;
		}
		k->self += e->handling == IRNET__HANDLING__HANDLING_SELF;
		k->with_help += e->handling == IRNET__HANDLING__HANDLING_WITH_HELP;
		k->foreign += e->handling == IRNET__HANDLING__HANDLING_FOREIGN_HELP;
		k->national += e->national;
		k->damage += e->damage;
	}
	sqlite3_finalize(st);
	free(ends);
	char fromt[64], tot[64], now[64];
	irn_fmt_time(fromt, sizeof fromt, from, h->cfg.timezone);
	irn_fmt_time(tot, sizeof tot, to - 1000, h->cfg.timezone); /* the last second in it */
	irn_fmt_time(now, sizeof now, irn_now_ms(), h->cfg.timezone);
	counts total = { 0 }, groups[4];
	memset(groups, 0, sizeof groups);
	for (size_t i = 0; i < N_CODES; i++) {
		add(&groups[cat_codes[i] / 100 - 1], &per[i]);
		add(&total, &per[i]);
	}
	bool vi = !strcmp(lang, "vi");
	if (!strcmp(format, "json")) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "node", h->cfg.id, "from", fromt,
				      "to", tot, "generated_at", now, "excluded_drills", (json_int_t)drills,
				      "excluded_merged_or_withdrawn", (json_int_t)merged,
				      "unknown_category", (json_int_t)unknown);
		json_t *ga = json_array();
		for (int g = 0; g < 4; g++) {
			json_t *cats = json_array();
			for (size_t i = 0; i < N_CODES; i++) {
				if (cat_codes[i] / 100 - 1 != (unsigned)g)
					continue;
				json_t *cj = counts_json(&per[i]);
				json_object_set_new(cj, "category", json_string(irn_category_name(cat_codes[i])));
				json_object_set_new(cj, "label", json_string(irn_category_label(cat_codes[i])));
				json_array_append_new(cats, cj);
			}
			json_t *gj = json_pack("{s:s,s:s,s:o,s:o}", "group", group_names[g], "label",
					       _(group_labels[g]), "categories", cats, "total",
					       counts_json(&groups[g]));
			json_array_append_new(ga, gj);
		}
		json_object_set_new(o, "groups", ga);
		json_object_set_new(o, "total", counts_json(&total));
		char *s = json_dumps(o, JSON_INDENT(2));
		if (s)
			puts(s);
		free(s);
		json_decref(o);
	} else if (!strcmp(format, "csv")) {
		puts("group,category,label,incidents,handled_self,handled_with_help,handled_foreign_help,"
		     "national_help_requested,not_finished,damage_vnd");
		for (size_t i = 0; i < N_CODES; i++) {
			const counts *k = &per[i];
			printf("%s,%s,", group_names[cat_codes[i] / 100 - 1], irn_category_name(cat_codes[i]));
			csv_field(irn_category_label(cat_codes[i]));
			printf(",%lld,%lld,%lld,%lld,%lld,%lld,%llu\n", k->incidents, k->self, k->with_help,
			       k->foreign, k->national, k->unfinished, k->damage);
		}
		printf("total,total,");
		csv_field(_("Total"));
		printf(",%lld,%lld,%lld,%lld,%lld,%lld,%llu\n", total.incidents, total.self,
		       total.with_help, total.foreign, total.national, total.unfinished, total.damage);
		printf("excluded,drills,");
		csv_field(_("Drill incidents (not counted)"));
		printf(",%lld,,,,,,\n", drills);
	} else {
		printf("%s\n", _("FORM 05 - PERIODIC REPORT ON INCIDENTS AND INCIDENT RESPONSE"));
		printf("%s %s\n", _("Reporting member:"), h->cfg.id);
		printf("%s %s - %s\n", _("Period:"), fromt, tot);
		printf("%s %s\n\n", _("Generated at:"), now);
		printf("%s\n", _("Columns: (1) incidents, (2) handled by own forces, (3) with help of others,"
				 " (4) with foreign help, (5) national help requested, (6) not finished"
				 " (no end report), (7) estimated damage (VND)"));
		printf("%9s %9s %9s %9s %9s %9s %18s  %s\n", "(1)", "(2)", "(3)", "(4)", "(5)", "(6)",
		       "(7)", _("Category"));
		for (int g = 0; g < 4; g++) {
			text_row(&groups[g], _(group_labels[g]), vi);
			for (size_t i = 0; i < N_CODES; i++)
				if (cat_codes[i] / 100 - 1 == (unsigned)g) {
					char label[300];
					snprintf(label, sizeof label, "  %s", irn_category_label(cat_codes[i]));
					text_row(&per[i], label, vi);
				}
		}
		text_row(&total, _("Total"), vi);
		printf("\n%s %lld\n", _("Drill (exercise) incidents, not counted:"), drills);
		if (merged)
			printf("%s %lld\n", _("Merged or withdrawn incidents, not counted:"), merged);
		if (unknown)
			printf("%s %lld\n", _("Incidents with an unknown category:"), unknown);
	}
	forms_close_ro(&h);
	return 0;
}
