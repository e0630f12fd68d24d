/* search.c - `irnet-node search TEXT`: incidents by text, Vietnamese with
 * or without diacritics, any case, NFC or NFD (common/fold.c). */
#include "forms.h"
#include "fold.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TERMS 16

static const char search_help[] = N_(
"usage: irnet-node [--json] search TEXT...\n"
"\n"
"List the incidents whose summary, system name, reporting organisation,\n"
"contact, operator or owner, category, domain names, IP addresses, sender\n"
"or message id contain every word of TEXT. Case and Vietnamese diacritics\n"
"do not matter, in NFC or NFD: \"ma doc\" finds \"mã độc\", \"da nang\" finds\n"
"\"Đà Nẵng\". Newest first. Incidents stored before this index existed are\n"
"found after 'irnet-node rebuild'.\n"
"Exit status: 0 (also when nothing matches), 1 failure, 2 usage error.\n");

/* Does the term occur in the incident's text, or in its category's label? */
static bool
term_matches(const char *folded, int category, const char *term)
{
	if (strstr(folded, term))
		return true;
	const char *label = irn_category_label((unsigned)category);
	if (label == NULL)
		return false;
	char *fl = irn_fold(label);
	bool hit = fl && strstr(fl, term);
	free(fl);
	return hit;
}

int
node_cmd_search(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(search_help)))
		return 0;
	char *terms[MAX_TERMS];
	size_t nt = 0;
	int rc = 2;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			c->json = true;
			continue;
		}
		char *f = irn_fold(argv[i]);
		if (f == NULL) {
			rc = 1;
			goto out;
		}
		for (char *save = NULL, *t = strtok_r(f, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
			if (nt == MAX_TERMS) {
				fprintf(stderr, _("irnet-node search: at most %d words\n"), MAX_TERMS);
				free(f);
				goto out;
			}
			terms[nt] = strdup(t);
			if (terms[nt] == NULL) {
				free(f);
				rc = 1;
				goto out;
			}
			nt++;
		}
		free(f);
	}
	if (nt == 0) {
		fprintf(stderr, "%s", _("usage: irnet-node search TEXT...\n"));
		goto out;
	}
	irn_home *h = forms_open_ro(c);
	if (!h) {
		rc = 1;
		goto out;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT i.message_id, i.sender, i.system, s.category, i.summary, i.state,"
			       " i.exercise, s.folded FROM incidents i JOIN search_index s"
			       " ON s.message_id = i.message_id ORDER BY i.ledger_idx DESC", -1, &st,
			       NULL) != SQLITE_OK) {
		fprintf(stderr, "irnet-node search: %s\n", sqlite3_errmsg(irn_ledger_db(h->ledger)));
		forms_close_ro(&h);
		rc = 1;
		goto out;
	}
	json_t *arr = json_array();
	size_t hits = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *folded = (const char *)sqlite3_column_text(st, 7);
		int cat = sqlite3_column_int(st, 3);
		bool all = folded != NULL;
		for (size_t k = 0; all && k < nt; k++)
			all = term_matches(folded, cat, terms[k]);
		if (!all)
			continue;
		hits++;
		char hex[2 * IRN_MSGID_LEN + 1];
		irn_hex(hex, sqlite3_column_blob(st, 0), IRN_MSGID_LEN);
		const char *cname = irn_category_name((unsigned)cat);
		const char *sender = (const char *)sqlite3_column_text(st, 1);
		const char *system = (const char *)sqlite3_column_text(st, 2);
		const char *summary = (const char *)sqlite3_column_text(st, 4);
		const char *state = (const char *)sqlite3_column_text(st, 5);
		bool ex = sqlite3_column_int(st, 6);
		if (c->json) {
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "id", hex,
				"sender", sender ? sender : "", "system", system ? system : "",
				"category", cname ? cname : "?", "summary", summary ? summary : "",
				"state", state ? state : "", "exercise", ex));
		} else {
			printf("%s  ", hex);
			irn_fput_padded(stdout, sender ? sender : "", 20);
			fputs("  ", stdout);
			irn_fput_padded(stdout, state ? state : "", 12);
			fputs("  ", stdout);
			irn_fput_padded(stdout, system ? system : "", 28);
			printf("  %s%s\n", summary ? summary : "", ex ? _("  [EXERCISE]") : "");
		}
	}
	sqlite3_finalize(st);
	forms_close_ro(&h);
	if (c->json) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		if (s)
			puts(s);
		free(s);
	} else if (hits == 0) {
		printf("%s\n", _("no incident matches"));
	}
	json_decref(arr);
	rc = 0;
out:
	for (size_t k = 0; k < nt; k++)
		free(terms[k]);
	return rc;
}
