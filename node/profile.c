/* profile.c - `irnet-node profile`: Forms 01/02, a member's profile with
 * its primary and backup 24/7 contacts and its systems. Each change is a
 * new signed KIND_PROFILE message; the newest one per member counts. */
#include "forms.h"
#include "fold.h"
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char profile_help[] = N_(
"usage: irnet-node profile set --form FILE.json [--to LIST] [--person NAME]\n"
"       irnet-node [--json] profile list\n"
"       irnet-node [--json] profile show [MEMBER]\n"
"\n"
"Forms 01/02 of TT20: a member's profile. 'set' signs the profile in\n"
"FILE.json and sends it to the coordinator and the authority (or LIST):\n"
"  {\"organisation\": {\"name\", \"address\", \"phone\", \"email\"},\n"
"   \"primary\": {\"name\", \"position\", \"phone\", \"email\"},   (24/7 contact)\n"
"   \"backup\":  {\"name\", \"position\", \"phone\", \"email\"},   (24/7 backup)\n"
"   \"systems\": [{\"name\", \"security_level\": 1-5, \"critical_list\": bool,\n"
"                \"purpose\", \"owner\": MEMBER-ID}],\n"
"   \"effective\": \"2026-11-25T08:00:00+07:00\" (default now), \"note\"}\n"
"A contact change is a new profile: send it within 24 hours of the change\n"
"(TT20). The contacts need a name and a phone.\n"
"\n"
"'list' shows the newest profile of every member this node holds, with\n"
"both 24/7 contacts; 'show' one member's (default: this node's) in full.\n"
"Exit status: 0 success, 1 refused, not found or failed, 2 usage error.\n");

static int
profile_set(irn_cli *c, int argc, char **argv)
{
	const char *file = NULL, *to = NULL, *person = NULL;
	for (int i = 2; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--form") && v)
			file = argv[++i];
		else if (!strcmp(argv[i], "--to") && v)
			to = argv[++i];
		else if (!strcmp(argv[i], "--person") && v)
			person = argv[++i];
		else {
			fprintf(stderr, _("irnet-node profile: bad argument %s (see --help)\n"), argv[i]);
			return 2;
		}
	}
	if (file == NULL) {
		fprintf(stderr, "%s", _("irnet-node profile set: --form FILE.json is required\n"));
		return 2;
	}
	json_error_t jerr;
	json_t *form = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (form == NULL) {
		fprintf(stderr, _("irnet-node profile: %s: line %d: %s\n"), file, jerr.line, jerr.text);
		return 1;
	}
	uint8_t *p = NULL;
	size_t plen = 0;
	char err[256];
	irn_err e = irn_profile_from_json(form, irn_now_ms(), &p, &plen, err, sizeof err);
	json_decref(form);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node profile: %s\n"), err);
		return 1;
	}
	char *hex = malloc(2 * plen + 1);
	if (hex == NULL) {
		free(p);
		return 1;
	}
	irn_hex(hex, p, plen);
	free(p);
	json_t *req = json_pack("{s:s,s:s,s:s}", "op", "send-payload", "kind", "profile", "payload", hex);
	free(hex);
	if (to)
		json_object_set_new(req, "to", json_string(to));
	if (person)
		json_object_set_new(req, "person", json_string(person));
	json_t *resp = NULL;
	e = node_ctl_call(c->home, req, &resp, 60000);
	json_decref(req);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node profile: the daemon is not answering at %s/node.sock (%s)\n"),
			c->home, irn_strerror(e));
		return 1;
	}
	int rc = 0;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, _("irnet-node profile: refused: %s\n"),
			json_string_value(json_object_get(resp, "error")));
		rc = 1;
	} else if (c->json) {
		printf("{\"message_id\": \"%s\"}\n", json_string_value(json_object_get(resp, "message_id")));
	} else {
		printf(_("profile signed and stored as %s; sending\n"),
		       json_string_value(json_object_get(resp, "message_id")));
	}
	json_decref(resp);
	return rc;
}

static const char *
cstr(json_t *o, const char *a, const char *b)
{
	const char *s = json_string_value(json_object_get(json_object_get(o, a), b));
	return s ? s : "";
}

static int
profile_read(irn_cli *c, const char *member, bool list)
{
	irn_home *h = forms_open_ro(c);
	if (!h)
		return 1;
	if (!list && member == NULL)
		member = h->cfg.id;
	sqlite3_stmt *st;
	/* the newest profile of each member: latest effective time, then latest signed */
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT member, payload, effective_ms, message_id FROM profiles p"
			       " WHERE (?1 IS NULL OR member = ?1) AND NOT EXISTS (SELECT 1 FROM profiles q"
			       " WHERE q.member = p.member AND (q.effective_ms > p.effective_ms OR"
			       " (q.effective_ms = p.effective_ms AND q.created_ms > p.created_ms)))"
			       " ORDER BY member", -1, &st, NULL) != SQLITE_OK) {
		forms_close_ro(&h);
		return 1;
	}
	if (member)
		sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *p = irn_profile_to_json(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
		if (p == NULL)
			continue;
		char hex[2 * IRN_MSGID_LEN + 1], eff[64];
		irn_hex(hex, sqlite3_column_blob(st, 3), IRN_MSGID_LEN);
		irn_fmt_time(eff, sizeof eff, sqlite3_column_int64(st, 2), h->cfg.timezone);
		json_object_set_new(p, "member", json_string((const char *)sqlite3_column_text(st, 0)));
		json_object_set_new(p, "message_id", json_string(hex));
		json_object_set_new(p, "effective_at", json_string(eff));
		json_array_append_new(arr, p);
	}
	sqlite3_finalize(st);
	forms_close_ro(&h);
	int rc = 0;
	if (c->json) {
		json_t *out = list ? json_incref(arr) : json_incref(json_array_get(arr, 0));
		char *s = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
		if (s)
			puts(s);
		else
			puts("null");
		free(s);
		json_decref(out);
		rc = list || json_array_size(arr) ? 0 : 1;
	} else if (list) {
		static const size_t w[] = { 22, 28, 34, 34 };
		const char *head[] = { _("MEMBER"), _("ORGANISATION"), _("PRIMARY 24/7 CONTACT"),
				       _("BACKUP 24/7 CONTACT") };
		for (int k = 0; k < 4; k++) {
			irn_fput_padded(stdout, head[k], w[k]);
			fputs(k < 3 ? " " : "", stdout);
		}
		printf("%s\n", _("EFFECTIVE"));
		size_t i;
		json_t *p;
		json_array_foreach(arr, i, p) {
			char pri[300], bak[300];
			snprintf(pri, sizeof pri, "%s %s", cstr(p, "primary", "name"), cstr(p, "primary", "phone"));
			snprintf(bak, sizeof bak, "%s %s", cstr(p, "backup", "name"), cstr(p, "backup", "phone"));
			const char *cols[] = { json_string_value(json_object_get(p, "member")),
					       cstr(p, "organisation", "name"), pri, bak };
			for (int k = 0; k < 4; k++) {
				irn_fput_padded(stdout, cols[k], w[k]);
				fputs(" ", stdout);
			}
			printf("%s\n", json_string_value(json_object_get(p, "effective_at")));
		}
	} else if (json_array_size(arr) == 0) {
		fprintf(stderr, _("irnet-node profile: no profile of %s held here\n"), member);
		rc = 1;
	} else {
		/* in full: the same layout as 'form' */
		char mid[2 * IRN_MSGID_LEN + 1];
		snprintf(mid, sizeof mid, "%s",
			 json_string_value(json_object_get(json_array_get(arr, 0), "message_id")));
		char *args[] = { "form", mid, NULL };
		json_decref(arr);
		return node_cmd_form(c, 2, args);
	}
	json_decref(arr);
	return rc;
}

int
node_cmd_profile(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(profile_help)))
		return 0;
	if (argc >= 2 && !strcmp(argv[1], "set"))
		return profile_set(c, argc, argv);
	if (argc >= 2 && (!strcmp(argv[1], "show") || !strcmp(argv[1], "list"))) {
		bool list = !strcmp(argv[1], "list");
		const char *member = NULL;
		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--json"))
				c->json = true;
			else if (!list && member == NULL && argv[i][0] != '-')
				member = argv[i];
			else {
				fprintf(stderr, _("irnet-node profile: bad argument %s (see --help)\n"), argv[i]);
				return 2;
			}
		}
		return profile_read(c, member, list);
	}
	fprintf(stderr, "%s", _("usage: irnet-node profile set|list|show (see --help)\n"));
	return 2;
}
