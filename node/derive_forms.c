/* derive_forms.c - derived tables of the forms branch (profiles, attachment
 * chunks, search index), the state hash, and helpers the read-only
 * commands share. Everything here is derived from verified ledger entries
 * and can be rebuilt from the ledger alone ('irnet-node rebuild'). */
#include "forms.h"
#include "attach.h"
#include "fold.h"
#include "report.h"
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <sodium.h>

irn_err
forms_schema(sqlite3 *db)
{
	static const char sql[] =
		/* Forms 01/02: every profile received; the newest per member counts */
		"CREATE TABLE IF NOT EXISTS profiles(message_id BLOB PRIMARY KEY,"
		" member TEXT NOT NULL, effective_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
		" ledger_idx INTEGER NOT NULL, exercise INTEGER NOT NULL, payload BLOB NOT NULL);"
		"CREATE INDEX IF NOT EXISTS profiles_member ON profiles(member, effective_ms);"
		/* attachments: one row per (file hash, sender); chunks kept inert */
		"CREATE TABLE IF NOT EXISTS attachments(hash BLOB NOT NULL, sender TEXT NOT NULL,"
		" name TEXT NOT NULL, size INTEGER NOT NULL, count INTEGER NOT NULL, incident BLOB,"
		" received INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'partial',"
		" first_ms INTEGER NOT NULL, exercise INTEGER NOT NULL, PRIMARY KEY(hash, sender));"
		"CREATE TABLE IF NOT EXISTS attachment_chunks(hash BLOB NOT NULL, sender TEXT NOT NULL,"
		" idx INTEGER NOT NULL, message_id BLOB NOT NULL, data BLOB NOT NULL,"
		" PRIMARY KEY(hash, sender, idx));"
		/* which incidents a file was sent for (the same file may serve several) */
		"CREATE TABLE IF NOT EXISTS attachment_incidents(hash BLOB NOT NULL, sender TEXT NOT NULL,"
		" incident BLOB NOT NULL, PRIMARY KEY(hash, sender, incident));"
		/* search: folded (lower case, no diacritics) text of each incident */
		"CREATE TABLE IF NOT EXISTS search_index(message_id BLOB PRIMARY KEY,"
		" category INTEGER, folded TEXT NOT NULL);";
	return irn_sqlite_err(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

const char *const forms_derived_tables[] = { "profiles", "attachments", "attachment_chunks",
					     "attachment_incidents", "search_index", NULL };

static irn_err
derive_search(sqlite3 *db, const irn_msg *m, const uint8_t *content, size_t clen)
{
	Irnet__InitialReport *r = irnet__initial_report__unpack(NULL, clen, content);
	if (r == NULL)
		return IRN_OK; /* validated before: cannot happen; nothing to index */
	char hex[2 * IRN_MSGID_LEN + 1];
	irn_hex(hex, m->h->message_id.data, IRN_MSGID_LEN);
	const char *cat = irn_category_name(r->category);
	const char *parts[] = { r->summary, r->system_name, r->organisation->name,
				r->contact_person->name, r->operator_name, r->owner_name,
				r->incident_ref, r->affected_services, r->measures_taken,
				m->h->sender, m->signer->organisation, m->signer->display_name,
				cat, hex };
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	if (f == NULL) {
		irnet__initial_report__free_unpacked(r, NULL);
		return IRN_ERR_NOMEM;
	}
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (parts[i])
			fprintf(f, "%s\n", parts[i]);
	for (size_t i = 0; i < r->n_domain_names; i++)
		fprintf(f, "%s\n", r->domain_names[i]);
	for (size_t i = 0; i < r->n_ip_addresses; i++)
		fprintf(f, "%s\n", r->ip_addresses[i]);
	fclose(f);
	char *folded = text ? irn_fold(text) : NULL;
	free(text);
	irn_err e = IRN_ERR_NOMEM;
	sqlite3_stmt *st;
	if (folded && sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO search_index(message_id,"
					 " category, folded) VALUES(?,?,?)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)r->category);
		sqlite3_bind_text(st, 3, folded, -1, SQLITE_STATIC);
		e = irn_sqlite_err(sqlite3_step(st));
		sqlite3_finalize(st);
	} else if (folded) {
		e = IRN_ERR_DB;
	}
	free(folded);
	irnet__initial_report__free_unpacked(r, NULL);
	return e;
}

static irn_err
derive_profile(sqlite3 *db, const irn_msg *m, const uint8_t *content, size_t clen, uint64_t idx)
{
	Irnet__MemberProfile *p = irnet__member_profile__unpack(NULL, clen, content);
	if (p == NULL)
		return IRN_OK;
	sqlite3_stmt *st;
	irn_err e = IRN_ERR_DB;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO profiles(message_id, member, effective_ms,"
			       " created_ms, ledger_idx, exercise, payload) VALUES(?,?,?,?,?,?,?)", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m->h->sender, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, p->effective_ms);
		sqlite3_bind_int64(st, 4, m->h->created_ms);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)idx);
		sqlite3_bind_int(st, 6, m->h->exercise);
		sqlite3_bind_blob(st, 7, content, (int)clen, SQLITE_STATIC);
		e = irn_sqlite_err(sqlite3_step(st));
		sqlite3_finalize(st);
	}
	irnet__member_profile__free_unpacked(p, NULL);
	return e;
}

/* All chunks in: restore the file in memory chunk by chunk and compare its
 * BLAKE2b-256 with the announced hash. */
static irn_err
check_complete(sqlite3 *db, const uint8_t *hash, const char *sender)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT idx, data FROM attachment_chunks WHERE hash = ? AND"
			       " sender = ? ORDER BY idx", -1, &st, NULL) != SQLITE_OK)
		return IRN_ERR_DB;
	sqlite3_bind_blob(st, 1, hash, IRN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sender, -1, SQLITE_STATIC);
	crypto_generichash_state gs;
	crypto_generichash_init(&gs, NULL, 0, IRN_HASH_LEN);
	uint8_t *buf = malloc(IRN_ATTACH_CHUNK);
	if (buf == NULL) {
		sqlite3_finalize(st);
		return IRN_ERR_NOMEM;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		if (n > IRN_ATTACH_CHUNK)
			n = IRN_ATTACH_CHUNK;
		irn_inert_xor(buf, sqlite3_column_blob(st, 1), n,
			      (uint64_t)sqlite3_column_int64(st, 0) * IRN_ATTACH_CHUNK, hash);
		crypto_generichash_update(&gs, buf, n);
	}
	sqlite3_finalize(st);
	sodium_memzero(buf, IRN_ATTACH_CHUNK);
	free(buf);
	uint8_t got[IRN_HASH_LEN];
	crypto_generichash_final(&gs, got, sizeof got);
	bool ok = sodium_memcmp(got, hash, IRN_HASH_LEN) == 0;
	if (!ok)
		log_warn(_("attachment from %s: the chunks do not make up the file its hash names"),
			 sender);
	if (sqlite3_prepare_v2(db, "UPDATE attachments SET state = ? WHERE hash = ? AND sender = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return IRN_ERR_DB;
	sqlite3_bind_text(st, 1, ok ? "complete" : "corrupt", -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, hash, IRN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sender, -1, SQLITE_STATIC);
	irn_err e = irn_sqlite_err(sqlite3_step(st));
	sqlite3_finalize(st);
	return e;
}

static irn_err
derive_attachment(irn_home *h, const irn_msg *m, const uint8_t *content, size_t clen)
{
	sqlite3 *db = irn_ledger_db(h->ledger);
	Irnet__AttachmentChunk *c = irnet__attachment_chunk__unpack(NULL, clen, content);
	if (c == NULL)
		return IRN_OK;
	irn_err e = IRN_OK;
	sqlite3_stmt *st = NULL;
	if ((long long)c->size > h->cfg.attachment_max) {
		log_warn(_("attachment %s from %s: %llu bytes is over this node's limit (attachment_max"
			   " = %lld): not kept"), c->name, m->h->sender, (unsigned long long)c->size,
			 h->cfg.attachment_max);
		goto out;
	}
	/* The first chunk names the file; a chunk that disagrees is not kept. */
	if (sqlite3_prepare_v2(db, "SELECT size, count, name FROM attachments WHERE hash = ? AND"
			       " sender = ?", -1, &st, NULL) != SQLITE_OK) {
		e = IRN_ERR_DB;
		goto out;
	}
	sqlite3_bind_blob(st, 1, c->hash.data, IRN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->h->sender, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	bool known = rc == SQLITE_ROW;
	bool agrees = !known || ((uint64_t)sqlite3_column_int64(st, 0) == c->size &&
				 (uint32_t)sqlite3_column_int64(st, 1) == c->count);
	sqlite3_finalize(st);
	st = NULL;
	if (!agrees) {
		log_warn(_("attachment chunk from %s disagrees with its first chunk (size or count): not kept"),
			 m->h->sender);
		goto out;
	}
	if (!known) {
		if (sqlite3_prepare_v2(db, "INSERT INTO attachments(hash, sender, name, size, count,"
				       " incident, first_ms, exercise) VALUES(?,?,?,?,?,?,?,?)", -1, &st,
				       NULL) != SQLITE_OK) {
			e = IRN_ERR_DB;
			goto out;
		}
		sqlite3_bind_blob(st, 1, c->hash.data, IRN_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m->h->sender, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)c->size);
		sqlite3_bind_int64(st, 5, c->count);
		if (c->ref)
			sqlite3_bind_blob(st, 6, c->ref->incident.data, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, m->h->created_ms);
		sqlite3_bind_int(st, 8, m->h->exercise);
		e = irn_sqlite_err(sqlite3_step(st));
		sqlite3_finalize(st);
		st = NULL;
		if (e != IRN_OK)
			goto out;
	}
	if (c->ref) {
		if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO attachment_incidents(hash, sender,"
				       " incident) VALUES(?,?,?)", -1, &st, NULL) != SQLITE_OK) {
			e = IRN_ERR_DB;
			goto out;
		}
		sqlite3_bind_blob(st, 1, c->hash.data, IRN_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m->h->sender, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, c->ref->incident.data, IRN_MSGID_LEN, SQLITE_STATIC);
		e = irn_sqlite_err(sqlite3_step(st));
		sqlite3_finalize(st);
		st = NULL;
		if (e != IRN_OK)
			goto out;
	}
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO attachment_chunks(hash, sender, idx,"
			       " message_id, data) VALUES(?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
		e = IRN_ERR_DB;
		goto out;
	}
	sqlite3_bind_blob(st, 1, c->hash.data, IRN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->h->sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, c->index);
	sqlite3_bind_blob(st, 4, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, c->data.data, (int)c->data.len, SQLITE_STATIC); /* inert as sent */
	e = irn_sqlite_err(sqlite3_step(st));
	bool added = e == IRN_OK && sqlite3_changes(db) > 0;
	sqlite3_finalize(st);
	st = NULL;
	if (e != IRN_OK || !added)
		goto out;
	if (sqlite3_prepare_v2(db, "UPDATE attachments SET received = received + 1 WHERE hash = ?"
			       " AND sender = ? RETURNING received", -1, &st, NULL) != SQLITE_OK) {
		e = IRN_ERR_DB;
		goto out;
	}
	sqlite3_bind_blob(st, 1, c->hash.data, IRN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->h->sender, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	int64_t received = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	st = NULL;
	if (received < 0)
		e = IRN_ERR_DB;
	else if ((uint64_t)received == c->count)
		e = check_complete(db, c->hash.data, m->h->sender);
out:
	irnet__attachment_chunk__free_unpacked(c, NULL);
	return e;
}

irn_err
forms_derive(irn_home *h, const irn_msg *m, const uint8_t *content, size_t clen, uint64_t idx)
{
	sqlite3 *db = irn_ledger_db(h->ledger);
	switch (m->h->kind) {
	case IRNET__KIND__KIND_INITIAL_REPORT:
		return derive_search(db, m, content, clen);
	case IRNET__KIND__KIND_PROFILE:
		return derive_profile(db, m, content, clen, idx);
	case IRNET__KIND__KIND_ATTACHMENT:
		return derive_attachment(h, m, content, clen);
	default:
		return IRN_OK;
	}
}

/* ---- state hash ---- */

static void
hash_col(crypto_generichash_state *gs, sqlite3_stmt *st, int i)
{
	/* type byte, u32be length, bytes: unambiguous */
	uint8_t t = (uint8_t)sqlite3_column_type(st, i);
	uint8_t buf[8];
	crypto_generichash_update(gs, &t, 1);
	if (t == SQLITE_INTEGER) {
		uint64_t v = (uint64_t)sqlite3_column_int64(st, i);
		for (int k = 0; k < 8; k++)
			buf[k] = (uint8_t)(v >> (56 - 8 * k));
		crypto_generichash_update(gs, buf, 8);
		return;
	}
	if (t == SQLITE_NULL)
		return;
	const void *p = t == SQLITE_BLOB ? sqlite3_column_blob(st, i) : (const void *)sqlite3_column_text(st, i);
	uint32_t n = (uint32_t)sqlite3_column_bytes(st, i);
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	crypto_generichash_update(gs, buf, 4);
	if (n)
		crypto_generichash_update(gs, p, n);
}

static irn_err
hash_query(crypto_generichash_state *gs, sqlite3 *db, const char *label, const char *sql,
	   const uint8_t *incident)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return IRN_ERR_DB;
	if (incident)
		sqlite3_bind_blob(st, 1, incident, IRN_MSGID_LEN, SQLITE_STATIC);
	crypto_generichash_update(gs, (const uint8_t *)label, strlen(label) + 1);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		crypto_generichash_update(gs, (const uint8_t *)"R", 1);
		for (int i = 0; i < sqlite3_column_count(st); i++)
			hash_col(gs, st, i);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? IRN_OK : IRN_ERR_DB;
}

irn_err
forms_state_hash(sqlite3 *db, const uint8_t *incident, char hex[65])
{
	/* Only what every participant derives alike: no local ledger index,
	 * direction or arrival time. */
	crypto_generichash_state gs;
	crypto_generichash_init(&gs, (const uint8_t *)"IRNET-STATE-V1", 14, IRN_HASH_LEN);
	irn_err e = hash_query(&gs, db, "incidents",
		incident ? "SELECT message_id, sender, system, category, summary, severity, state,"
			   " detected_ms, reported_ms, exercise, tlp, broker_index, decided_severity,"
			   " decided_by, decided_reason, merged_into FROM incidents WHERE message_id = ?1"
			 : "SELECT message_id, sender, system, category, summary, severity, state,"
			   " detected_ms, reported_ms, exercise, tlp, broker_index, decided_severity,"
			   " decided_by, decided_reason, merged_into FROM incidents ORDER BY message_id",
		incident);
	if (e == IRN_OK)
		e = hash_query(&gs, db, "transitions",
			incident ? "SELECT message_id, incident, sender, broker_index, from_state, to_state,"
				   " severity, reason, applied, refusal FROM transitions"
				   " WHERE broker_index IS NOT NULL AND incident = ?1 ORDER BY message_id"
				 : "SELECT message_id, incident, sender, broker_index, from_state, to_state,"
				   " severity, reason, applied, refusal FROM transitions"
				   " WHERE broker_index IS NOT NULL ORDER BY message_id", incident);
	/* Form 06 tasks reach only the coordinators and the assignees: they
	 * count in the node's whole state, not in an incident's, which every
	 * participant holds alike. */
	if (e == IRN_OK && incident == NULL)
		e = hash_query(&gs, db, "tasks",
			       "SELECT tasking, number, incident, coordinator, assignee, instructions,"
			       " deadline_ms, state, note, updated_ms, exercise FROM tasks"
			       " ORDER BY tasking, number", NULL);
	uint8_t out[IRN_HASH_LEN];
	crypto_generichash_final(&gs, out, sizeof out);
	irn_hex(hex, out, IRN_HASH_LEN);
	return e;
}

/* ---- shared by the read-only commands ---- */

irn_home *
forms_open_ro(irn_cli *c)
{
	irn_home *h = NULL;
	if (irn_home_open(c->home, false, true, &h) != IRN_OK)
		return NULL;
	sqlite3_exec(irn_ledger_db(h->ledger), "BEGIN", NULL, NULL, NULL);
	return h;
}

void
forms_close_ro(irn_home **h)
{
	if (*h)
		sqlite3_exec(irn_ledger_db((*h)->ledger), "COMMIT", NULL, NULL, NULL);
	irn_home_close(h);
}

const irn_roster *
forms_roster_at(irn_home *h, uint64_t version, irn_roster **owned)
{
	sqlite3_stmt *st;
	*owned = NULL;
	if (h->roster && h->roster->version == version)
		return h->roster;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT data FROM ledger WHERE type = 1 AND roster_version = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)version);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    irn_roster_parse_unverified(sqlite3_column_blob(st, 0),
					(size_t)sqlite3_column_bytes(st, 0), owned) != IRN_OK)
		*owned = NULL;
	sqlite3_finalize(st);
	return *owned;
}

uint8_t *
forms_content(irn_home *h, const irn_msg *m, size_t *len)
{
	*len = 0;
	if (m->h->tlp != IRNET__TLP__TLP_RED) {
		uint8_t *p = malloc(m->body->payload.len ? m->body->payload.len : 1);
		if (p) {
			memcpy(p, m->body->payload.data, m->body->payload.len);
			*len = m->body->payload.len;
		}
		return p;
	}
	sqlite3_stmt *ps;
	uint8_t *p = NULL;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT payload FROM sealed_plain WHERE message_id = ?", -1, &ps,
			       NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_blob(ps, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
	if (sqlite3_step(ps) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(ps, 0);
		p = malloc(n ? n : 1);
		if (p) {
			memcpy(p, sqlite3_column_blob(ps, 0), n);
			*len = n;
		}
	}
	sqlite3_finalize(ps);
	return p;
}

int
forms_find_message(irn_home *h, const char *prefix, uint8_t id[IRN_MSGID_LEN])
{
	size_t n = strlen(prefix);
	if (n < 6 || n > 2 * IRN_MSGID_LEN || strspn(prefix, "0123456789abcdefABCDEF") != n)
		return -1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT DISTINCT message_id FROM ledger WHERE type = 2 AND"
			       " substr(hex(message_id), 1, ?) = upper(?) LIMIT 2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, (int)n);
	sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
	int found = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (found++ == 0 && sqlite3_column_bytes(st, 0) == IRN_MSGID_LEN)
			memcpy(id, sqlite3_column_blob(st, 0), IRN_MSGID_LEN);
	}
	sqlite3_finalize(st);
	return found == 1 ? 1 : found == 0 ? 0 : -1;
}

/* gettext caches translations; this counter tells it the language changed. */
extern int _nl_msg_cat_cntr;

bool
forms_set_lang(const char *lang)
{
	if (strcmp(lang, "vi") != 0 && strcmp(lang, "en") != 0)
		return false;
	setenv("LANGUAGE", lang, 1);
	/* In the C locale gettext ignores LANGUAGE: use a UTF-8 one. */
	const char *cur = setlocale(LC_MESSAGES, NULL);
	if (cur == NULL || !strcmp(cur, "C") || !strcmp(cur, "POSIX"))
		if (setlocale(LC_MESSAGES, "C.UTF-8") == NULL)
			setlocale(LC_MESSAGES, "C.utf8");
	++_nl_msg_cat_cntr;
	return true;
}

void
forms_fmt_vnd(char *out, size_t n, uint64_t v, bool vi)
{
	char digits[32];
	snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
	size_t len = strlen(digits), o = 0;
	for (size_t i = 0; i < len && o + 2 < n; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = vi ? '.' : ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}
