/* audit.c - `irnet-node ledger audit`: compare this node's ledger with what
 * the broker holds of its history.
 *
 * `ledger verify` proves the ledger is internally consistent and that every
 * checkpoint still in it was countersigned. It cannot see a ledger that was
 * cut short after its last checkpoint, or rewritten together with its
 * checkpoint entries by someone holding the node's key. The broker keeps its
 * own copy of every checkpoint this member sent, the last sequence it took
 * from it and the highest index it acknowledged; this command asks for them
 * (QUERY_AUDIT, through the daemon) and checks the ledger against them.
 */
#include "node.h"
#include "home.h"
#include "ledger.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char audit_help[] = N_(
"usage: irnet-node [--json] ledger audit\n"
"\n"
"Compare this node's ledger with what the broker holds of this member's\n"
"history: every checkpoint of this node the broker stored (the newest 64)\n"
"must match the ledger entry it names; the ledger must hold every message\n"
"of this member the broker accepted (up to the last sequence it took) and\n"
"every broker entry this node acknowledged as stored. This catches a ledger\n"
"cut short or rewritten after its last countersigned checkpoint, which\n"
"`ledger verify` alone cannot see. Needs the daemon to be running and\n"
"connected. Run `ledger verify` as well: audit does not re-check the chain.\n"
"\n"
"Exit status: 0 the ledger agrees with the broker, 1 it does not (each\n"
"disagreement is printed on stderr), or the broker could not be asked,\n"
"2 usage error.\n");

static json_t *
finding(json_t *arr, bool json, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static json_t *
finding(json_t *arr, bool json, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!json)
		fprintf(stderr, "irnet-node ledger audit: %s\n", buf);
	json_array_append_new(arr, json_string(buf));
	return arr;
}

/* The integer the one-parameter query q gives (0 for none or NULL). */
static sqlite3_int64
one_int(sqlite3 *db, const char *q, const char *text, sqlite3_int64 num)
{
	sqlite3_stmt *st;
	sqlite3_int64 v = 0;
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, num);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
node_cmd_ledger_audit(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(audit_help)))
		return 0;
	if (argc > 1) {
		fprintf(stderr, _("irnet-node ledger audit: unexpected argument %s (see --help)\n"), argv[1]);
		return 2;
	}
	json_t *req = json_pack("{s:s}", "op", "audit"), *resp = NULL;
	irn_err e = node_ctl_call(c->home, req, &resp, 10000);
	json_decref(req);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node ledger audit: the daemon is not answering at %s/node.sock (%s)\n"),
			c->home, irn_strerror(e));
		return 1;
	}
	json_t *audit = json_object_get(resp, "audit");
	if (!json_is_true(json_object_get(resp, "ok")) || !json_is_object(audit)) {
		const char *err = json_string_value(json_object_get(resp, "error"));
		fprintf(stderr, _("irnet-node ledger audit: the broker could not be asked: %s\n"),
			err ? err : _("no audit in the answer"));
		json_decref(resp);
		return 1;
	}
	irn_home *h = NULL;
	if (irn_home_open(c->home, false, true, &h) != IRN_OK) {
		fprintf(stderr, _("irnet-node ledger audit: cannot open the ledger in %s\n"), c->home);
		json_decref(resp);
		return 1;
	}
	sqlite3 *db = irn_ledger_db(h->ledger);
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	json_t *bad = json_array();
	size_t i, n_cp = 0;
	json_t *cp;
	json_array_foreach(json_object_get(audit, "checkpoints"), i, cp) {
		if (!json_is_true(json_object_get(cp, "verified"))) {
			finding(bad, c->json, _("the broker holds a checkpoint that is not a valid one of this member: %s"),
				json_string_value(json_object_get(cp, "error")));
			continue;
		}
		n_cp++;
		json_int_t idx = json_integer_value(json_object_get(cp, "ledger_index"));
		const char *want = json_string_value(json_object_get(cp, "head_hash"));
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT hash FROM ledger WHERE idx = ?", -1, &st, NULL) != SQLITE_OK)
			continue;
		sqlite3_bind_int64(st, 1, idx);
		if (sqlite3_step(st) != SQLITE_ROW) {
			finding(bad, c->json, _("entry %lld is missing: the broker holds this node's checkpoint of it (the ledger was cut short)"),
				(long long)idx);
		} else {
			char hex[2 * IRN_HASH_LEN + 1] = "";
			if (sqlite3_column_bytes(st, 0) == IRN_HASH_LEN)
				irn_hex(hex, sqlite3_column_blob(st, 0), IRN_HASH_LEN);
			if (want == NULL || strcmp(hex, want) != 0)
				finding(bad, c->json, _("entry %lld differs from this node's checkpoint of it that the broker holds (the ledger was rewritten)"),
					(long long)idx);
		}
		sqlite3_finalize(st);
	}
	sqlite3_int64 last_seq = json_integer_value(json_object_get(audit, "last_sequence"));
	sqlite3_int64 my_seq = one_int(db, "SELECT max(sequence) FROM ledger WHERE type = 2 AND sender = ?",
				       h->cfg.id, 0);
	if (last_seq > my_seq)
		finding(bad, c->json, _("the broker accepted this member's message #%lld, the ledger holds its messages only up to #%lld"),
			(long long)last_seq, (long long)my_seq);
	sqlite3_int64 acked = json_integer_value(json_object_get(audit, "acked_upto"));
	sqlite3_int64 have = one_int(db, "SELECT max(remote_index) FROM ledger WHERE type = 2 AND idx > ?",
				     NULL, 0);
	if (acked > have)
		finding(bad, c->json, _("this node acknowledged broker entries up to %lld, the ledger holds deliveries only up to %lld"),
			(long long)acked, (long long)have);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	size_t n_bad = json_array_size(bad);
	if (c->json) {
		json_t *o = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:O}", "ok", n_bad == 0, "checkpoints_compared",
				      (json_int_t)n_cp, "broker_last_sequence", (json_int_t)last_seq,
				      "ledger_last_sequence", (json_int_t)my_seq, "broker_acked_upto",
				      (json_int_t)acked, "ledger_delivered_upto", (json_int_t)have,
				      "disagreements", bad);
		char *s = json_dumps(o, JSON_INDENT(2));
		if (s)
			puts(s);
		free(s);
		json_decref(o);
	} else if (n_bad == 0) {
		printf(_("ledger audit OK: %zu checkpoints held by the broker match; messages up to #%lld and deliveries up to %lld are all here\n"),
		       n_cp, (long long)last_seq, (long long)acked);
	}
	json_decref(bad);
	json_decref(resp);
	irn_home_close(&h);
	return n_bad ? 1 : 0;
}
