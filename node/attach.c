/* attach.c - `irnet-node attach` and `irnet-node attachment`: files about
 * an incident (Form 03 logs, malware samples), sent as inert chunks
 * (common/attach.h) and exported as the original bytes only on request. */
#define _GNU_SOURCE 1 /* O_NOFOLLOW, O_CLOEXEC */
#include "forms.h"
#include "attach.h"
#include "fold.h"
#include "crypto.h"
#include "roster.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

static const char attach_help[] = N_(
"usage: irnet-node attach --incident ID [--to LIST] FILE...\n"
"\n"
"Send files about an incident (logs, malware samples, screenshots). Each\n"
"file is hashed (BLAKE2b-256), checked against this node's size limit\n"
"(attachment_max in irnet.conf, default 8 MiB), and sent as signed chunks\n"
"of at most 128 KiB. The chunks are made inert (XORed with a keystream\n"
"derived from the file's hash), so no database, log or queue on the way\n"
"ever holds the original bytes and no antivirus quarantines the ledger.\n"
"Receivers check every chunk and, when all are in, the whole file's hash.\n"
"\n"
"The chunks go to the incident's reporter and to the initial report's\n"
"recipients (or LIST), with the incident's exercise flag and TLP.\n"
"ID is the incident's message id or a unique prefix.\n"
"Prints each file's hash; 'irnet-node attachment HASH --out FILE' exports.\n"
"Exit status: 0 all stored for sending, 1 refused or failed, 2 usage error.\n");

/* Recipients of the attachment: whoever the initial report went to, and
 * its reporter, not ourselves. */
static int
incident_recipients(irn_home *h, const uint8_t id[IRN_MSGID_LEN], char *to, size_t tosz,
		    char *reporter, size_t rsz, bool *exercise, uint32_t *tlp)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), "SELECT l.data FROM incidents i JOIN ledger l"
			       " ON l.type = 2 AND l.message_id = i.message_id AND l.sender = i.sender"
			       " WHERE i.message_id = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_blob(st, 1, id, IRN_MSGID_LEN, SQLITE_STATIC);
	int rc = -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		Irnet__Envelope *e = irnet__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0),
							     sqlite3_column_blob(st, 0));
		Irnet__Body *b = e ? irnet__body__unpack(NULL, e->body.len, e->body.data) : NULL;
		if (b) {
			const Irnet__Header *hd = b->header;
			size_t o = 0;
			to[0] = '\0';
			snprintf(reporter, rsz, "%s", hd->sender);
			*exercise = hd->exercise;
			*tlp = hd->tlp;
			if (strcmp(hd->sender, h->cfg.id) != 0)
				o += (size_t)snprintf(to + o, tosz - o, "%s", hd->sender);
			for (size_t i = 0; i < hd->n_to_members && o < tosz; i++)
				if (strcmp(hd->to_members[i], h->cfg.id) != 0)
					o += (size_t)snprintf(to + o, tosz - o, "%s%s", o ? "," : "",
							      hd->to_members[i]);
			for (size_t i = 0; i < hd->n_to_roles && o < tosz; i++) {
				const char *rn = irn_role_name(hd->to_roles[i]);
				if (rn)
					o += (size_t)snprintf(to + o, tosz - o, "%s%s%s", o ? "," : "",
							      "role:", rn);
			}
			rc = o < tosz ? 0 : -1;
			irnet__body__free_unpacked(b, NULL);
		}
		if (e)
			irnet__envelope__free_unpacked(e, NULL);
	}
	sqlite3_finalize(st);
	return rc;
}

static int
send_chunk(irn_cli *c, const uint8_t *payload, size_t plen, const char *to, bool exercise,
	   uint32_t tlp, char *err, size_t errsz)
{
	char *hex = malloc(2 * plen + 1);
	if (hex == NULL)
		return -1;
	irn_hex(hex, payload, plen);
	json_t *req = json_pack("{s:s,s:s,s:s,s:s,s:b,s:i}", "op", "send-payload", "kind", "attachment",
				"payload", hex, "to", to, "exercise", exercise, "tlp", (int)tlp);
	free(hex);
	json_t *resp = NULL;
	irn_err e = node_ctl_call(c->home, req, &resp, 60000);
	json_decref(req);
	int rc = 0;
	if (e != IRN_OK) {
		snprintf(err, errsz, _("the daemon is not answering at %s/node.sock (%s)"), c->home,
			 irn_strerror(e));
		rc = -1;
	} else if (!json_is_true(json_object_get(resp, "ok"))) {
		snprintf(err, errsz, _("refused: %s"), json_string_value(json_object_get(resp, "error")));
		rc = -1;
	}
	json_decref(resp);
	return rc;
}

/* Read, hash, chunk and send one file. With expect (the hash a report
 * already names), a file that changed since is refused. */
static int
attach_file(irn_cli *c, irn_home *h, const char *path, const uint8_t incident[IRN_MSGID_LEN],
	    const char *reporter, const char *to, bool exercise, uint32_t tlp, const json_t *expect)
{
	char err[512];
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, _("irnet-node attach: %s: not a readable regular file\n"), path);
		return 1;
	}
	if (sb.st_size <= 0 || (long long)sb.st_size > h->cfg.attachment_max) {
		fprintf(stderr, _("irnet-node attach: %s: %lld bytes; the limit is 1 to %lld"
				  " (attachment_max)\n"), path, (long long)sb.st_size, h->cfg.attachment_max);
		return 1;
	}
	char pathcopy[4096];
	snprintf(pathcopy, sizeof pathcopy, "%s", path);
	const char *name = basename(pathcopy);
	if (!irn_attach_name_ok(name)) {
		fprintf(stderr, _("irnet-node attach: %s: the file name cannot be sent (one line, no"
				  " path, not starting with '-')\n"), path);
		return 1;
	}
	uint8_t *data = NULL;
	size_t len = 0;
	if (irn_read_file(path, (size_t)h->cfg.attachment_max, &data, &len) != IRN_OK || len == 0) {
		fprintf(stderr, _("irnet-node attach: %s: cannot read\n"), path);
		free(data);
		return 1;
	}
	uint8_t hash[IRN_HASH_LEN];
	irn_hash(hash, data, len);
	char hexhash[2 * IRN_HASH_LEN + 1];
	irn_hex(hexhash, hash, IRN_HASH_LEN);
	if (expect && strcmp(hexhash, json_string_value(json_object_get(expect, "hash"))) != 0) {
		fprintf(stderr, _("irnet-node attach: %s changed after the report named it: not sent\n"), path);
		free(data);
		return 1;
	}
	uint32_t count = irn_attach_count(len);
	Irnet__IncidentRef ref = IRNET__INCIDENT_REF__INIT;
	ref.incident.data = (uint8_t *)incident;
	ref.incident.len = IRN_MSGID_LEN;
	ref.reporter = (char *)reporter;
	int rc = 0;
	/* The original bytes go no further than this buffer: inert from here on. */
	irn_inert_xor(data, data, len, 0, hash);
	for (uint32_t i = 0; rc == 0 && i < count; i++) {
		size_t off = (size_t)i * IRN_ATTACH_CHUNK;
		size_t n = len - off < IRN_ATTACH_CHUNK ? len - off : IRN_ATTACH_CHUNK;
		Irnet__AttachmentChunk ch = IRNET__ATTACHMENT_CHUNK__INIT;
		ch.hash.data = hash;
		ch.hash.len = IRN_HASH_LEN;
		ch.name = (char *)name;
		ch.size = len;
		ch.index = i;
		ch.count = count;
		ch.data.data = data + off;
		ch.data.len = n;
		ch.ref = &ref;
		size_t plen = irnet__attachment_chunk__get_packed_size(&ch);
		uint8_t *p = malloc(plen);
		if (p == NULL) {
			rc = 1;
			break;
		}
		irnet__attachment_chunk__pack(&ch, p);
		if (send_chunk(c, p, plen, to, exercise, tlp, err, sizeof err) != 0) {
			fprintf(stderr, _("irnet-node attach: %s: part %u of %u: %s\n"), path, i + 1, count, err);
			rc = 1;
		}
		free(p);
	}
	free(data);
	if (rc == 0 && expect == NULL) { /* from 'report --attach': the report's output says it */
		char hex[2 * IRN_HASH_LEN + 1];
		irn_hex(hex, hash, IRN_HASH_LEN);
		if (c->json)
			printf("{\"file\": \"%s\", \"hash\": \"%s\", \"size\": %zu, \"chunks\": %u}\n", name,
			       hex, len, count);
		else
			printf(_("%s  %s  %zu bytes in %u part(s): signed and stored; sending\n"), hex, name,
			       len, count);
	}
	return rc;
}

int
node_cmd_attach(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(attach_help)))
		return 0;
	const char *inc = NULL, *to_arg = NULL;
	int first_file = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--incident") && i + 1 < argc)
			inc = argv[++i];
		else if (!strcmp(argv[i], "--to") && i + 1 < argc)
			to_arg = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			c->json = true;
		else if (argv[i][0] == '-' && strcmp(argv[i], "--") != 0) {
			fprintf(stderr, _("irnet-node attach: bad argument %s (see --help)\n"), argv[i]);
			return 2;
		} else {
			first_file = argv[i][0] == '-' ? i + 1 : i;
			break;
		}
	}
	if (inc == NULL || first_file == 0 || first_file >= argc) {
		fprintf(stderr, "%s", _("usage: irnet-node attach --incident ID FILE...\n"));
		return 2;
	}
	return forms_attach_files(c, inc, argv + first_file, argc - first_file, to_arg, NULL);
}

int
forms_attach_files(irn_cli *c, const char *inc, char *const *paths, int n, const char *to_arg,
		   const json_t *expect)
{
	irn_home *h = forms_open_ro(c);
	if (!h)
		return 1;
	uint8_t id[IRN_MSGID_LEN];
	char to[1024], reporter[IRN_MAX_ID + 1];
	bool exercise = false;
	uint32_t tlp = IRNET__TLP__TLP_AMBER;
	if (forms_find_message(h, inc, id) != 1 ||
	    incident_recipients(h, id, to, sizeof to, reporter, sizeof reporter, &exercise, &tlp) != 0) {
		fprintf(stderr, _("irnet-node attach: no incident %s here\n"), inc);
		forms_close_ro(&h);
		return 1;
	}
	/* the read transaction ends here: the daemon writes */
	sqlite3_exec(irn_ledger_db(h->ledger), "COMMIT", NULL, NULL, NULL);
	if (to_arg)
		snprintf(to, sizeof to, "%s", to_arg);
	if (to[0] == '\0') {
		fprintf(stderr, "%s", _("irnet-node attach: nobody to send to (use --to)\n"));
		irn_home_close(&h);
		return 1;
	}
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = attach_file(c, h, paths[i], id, reporter, to, exercise, tlp,
				 expect ? json_array_get(expect, (size_t)i) : NULL);
	irn_home_close(&h);
	return rc;
}

int
forms_attach_ref(irn_cli *c, const char *path, json_t **ref)
{
	*ref = NULL;
	irn_home *h = NULL;
	if (irn_home_open(c->home, false, true, &h) != IRN_OK)
		return 1;
	long long max = h->cfg.attachment_max;
	irn_home_close(&h);
	struct stat sb;
	char pathcopy[4096];
	snprintf(pathcopy, sizeof pathcopy, "%s", path);
	const char *name = basename(pathcopy);
	uint8_t *data = NULL;
	size_t len = 0;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 || (long long)sb.st_size > max ||
	    !irn_attach_name_ok(name) || irn_read_file(path, (size_t)max, &data, &len) != IRN_OK) {
		fprintf(stderr, _("irnet-node report: --attach %s: not a readable regular file of 1 to %lld"
				  " bytes with a name that can be sent\n"), path, max);
		free(data);
		return 1;
	}
	uint8_t hash[IRN_HASH_LEN];
	char hex[2 * IRN_HASH_LEN + 1];
	irn_hash(hash, data, len);
	free(data);
	irn_hex(hex, hash, IRN_HASH_LEN);
	*ref = json_pack("{s:s,s:I,s:s}", "name", name, "size", (json_int_t)len, "hash", hex);
	return *ref ? 0 : 1;
}

static const char attachment_help[] = N_(
"usage: irnet-node [--json] attachment --list [--incident ID]\n"
"       irnet-node attachment HASH --out FILE\n"
"\n"
"--list: the attachments this node holds (hash, file name, size, parts\n"
"received, state: partial, complete or corrupt, sender, incident).\n"
"\n"
"HASH --out FILE: write the original bytes of a complete attachment (HASH\n"
"or a unique prefix of at least 8 hex digits) to FILE, restored from the\n"
"inert chunks and checked against the hash again. FILE must not exist; it\n"
"is created with mode 0600 and is never executable. A partial or corrupt\n"
"attachment is refused. Careful: the file may be malware.\n"
"Exit status: 0 written or listed, 1 refused or failed, 2 usage error.\n");

static int
attachment_list(irn_cli *c, irn_home *h, const char *inc)
{
	uint8_t id[IRN_MSGID_LEN];
	if (inc && forms_find_message(h, inc, id) != 1) {
		fprintf(stderr, _("irnet-node attachment: no incident %s here\n"), inc);
		return 1;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT hash, name, size, received, count, state, sender, incident"
			       " FROM attachments a WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM"
			       " attachment_incidents l WHERE l.hash = a.hash AND l.sender = a.sender"
			       " AND l.incident = ?1) ORDER BY first_ms",
			       -1, &st, NULL) != SQLITE_OK)
		return 1;
	if (inc)
		sqlite3_bind_blob(st, 1, id, IRN_MSGID_LEN, SQLITE_STATIC);
	json_t *arr = json_array();
	/* columns by display width (fold.h), wider than the translated headers
	 * (never two run together) and as wide as the states: Vietnamese takes
	 * fewer columns than bytes */
	const char *head[] = { _("HASH"), _("SIZE"), _("PARTS"), _("STATE"), _("NAME") };
	size_t w[] = { 64, 10, 9, 9, 0 };
	irn_fit_heads(w, head, 4);
	w[0]++; /* two spaces after the hash */
	w[3] = irn_width_fit(w[3], (const char *[]){ _("complete"), _("partial"), _("CORRUPT") }, 3);
	if (!c->json)
		irn_fput_row(stdout, head, w, 5);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char hex[2 * IRN_HASH_LEN + 1], ihex[2 * IRN_MSGID_LEN + 1] = "", parts[32];
		irn_hex(hex, sqlite3_column_blob(st, 0), IRN_HASH_LEN);
		if (sqlite3_column_bytes(st, 7) == IRN_MSGID_LEN)
			irn_hex(ihex, sqlite3_column_blob(st, 7), IRN_MSGID_LEN);
		snprintf(parts, sizeof parts, "%lld/%lld", (long long)sqlite3_column_int64(st, 3),
			 (long long)sqlite3_column_int64(st, 4));
		if (c->json)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s}", "hash", hex,
				"name", sqlite3_column_text(st, 1), "size", (json_int_t)sqlite3_column_int64(st, 2),
				"received", (json_int_t)sqlite3_column_int64(st, 3), "count",
				(json_int_t)sqlite3_column_int64(st, 4), "state", sqlite3_column_text(st, 5),
				"sender", sqlite3_column_text(st, 6), "incident", ihex));
		else {
			/* the state as 'form' shows it, in the reader's language */
			const char *state = (const char *)sqlite3_column_text(st, 5);
			char size[24];
			snprintf(size, sizeof size, "%lld", (long long)sqlite3_column_int64(st, 2));
			const char *row[] = { hex, size, parts,
					      !state ? "" : !strcmp(state, "complete") ? _("complete")
					      : !strcmp(state, "corrupt") ? _("CORRUPT") : _("partial"),
					      (const char *)sqlite3_column_text(st, 1) };
			irn_fput_row(stdout, row, w, 5);
		}
	}
	sqlite3_finalize(st);
	if (c->json) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		if (s)
			puts(s);
		free(s);
	}
	json_decref(arr);
	return 0;
}

static int
attachment_export(irn_home *h, const char *prefix, const char *out)
{
	size_t pl = strlen(prefix);
	if (pl < 8 || pl > 2 * IRN_HASH_LEN || strspn(prefix, "0123456789abcdefABCDEF") != pl) {
		fprintf(stderr, "%s", _("irnet-node attachment: HASH is 8 to 64 hex digits\n"));
		return 2;
	}
	sqlite3 *db = irn_ledger_db(h->ledger);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT hash, sender, state, size, received, count FROM attachments"
			       " WHERE substr(hex(hash), 1, ?) = upper(?)"
			       " ORDER BY state = 'complete' DESC LIMIT 2", -1, &st, NULL) != SQLITE_OK)
		return 1;
	sqlite3_bind_int(st, 1, (int)pl);
	sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
	uint8_t hash[IRN_HASH_LEN];
	char sender[IRN_MAX_ID + 1] = "", state[16] = "";
	long long size = 0, received = 0, count = 0;
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ == 0) {
			memcpy(hash, sqlite3_column_blob(st, 0), IRN_HASH_LEN);
			snprintf(sender, sizeof sender, "%s", sqlite3_column_text(st, 1));
			snprintf(state, sizeof state, "%s", sqlite3_column_text(st, 2));
			size = sqlite3_column_int64(st, 3);
			received = sqlite3_column_int64(st, 4);
			count = sqlite3_column_int64(st, 5);
		} else if (memcmp(hash, sqlite3_column_blob(st, 0), IRN_HASH_LEN) != 0) {
			n = -1; /* two different files */
			break;
		}
	}
	sqlite3_finalize(st);
	if (n <= 0) {
		fprintf(stderr, n == 0 ? _("irnet-node attachment: no attachment %s here\n")
				       : _("irnet-node attachment: %s names more than one attachment\n"),
			prefix);
		return 1;
	}
	if (strcmp(state, "complete") != 0) {
		if (!strcmp(state, "corrupt"))
			fprintf(stderr, "%s", _("irnet-node attachment: refused: its parts do not make up"
						" the file its hash names (corrupt)\n"));
		else
			fprintf(stderr, _("irnet-node attachment: refused: incomplete, %lld of %lld parts"
					  " received\n"), received, count);
		return 1;
	}
	/* Never overwrite, never follow a link, never executable. */
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, _("irnet-node attachment: %s: %s (an existing file is never"
				  " overwritten)\n"), out, strerror(errno));
		return 1;
	}
	int rc = fchmod(fd, 0600) == 0 ? 0 : 1;
	if (sqlite3_prepare_v2(db, "SELECT idx, data FROM attachment_chunks WHERE hash = ? AND"
			       " sender = ? ORDER BY idx", -1, &st, NULL) != SQLITE_OK) {
		close(fd);
		unlink(out);
		return 1;
	}
	sqlite3_bind_blob(st, 1, hash, IRN_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sender, -1, SQLITE_STATIC);
	uint8_t *buf = malloc(IRN_ATTACH_CHUNK);
	crypto_generichash_state gs;
	crypto_generichash_init(&gs, NULL, 0, IRN_HASH_LEN);
	long long written = 0;
	while (rc == 0 && buf && sqlite3_step(st) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		if (len > IRN_ATTACH_CHUNK) {
			rc = 1;
			break;
		}
		irn_inert_xor(buf, sqlite3_column_blob(st, 1), len,
			      (uint64_t)sqlite3_column_int64(st, 0) * IRN_ATTACH_CHUNK, hash);
		crypto_generichash_update(&gs, buf, len);
		if (write(fd, buf, len) != (ssize_t)len)
			rc = 1;
		written += (long long)len;
	}
	sqlite3_finalize(st);
	uint8_t got[IRN_HASH_LEN];
	crypto_generichash_final(&gs, got, sizeof got);
	if (buf)
		sodium_memzero(buf, IRN_ATTACH_CHUNK);
	free(buf);
	if (buf == NULL || written != size || sodium_memcmp(got, hash, IRN_HASH_LEN) != 0)
		rc = 1;
	if (fsync(fd) != 0)
		rc = 1;
	close(fd);
	if (rc != 0) {
		unlink(out);
		fprintf(stderr, "%s", _("irnet-node attachment: export failed; nothing written\n"));
		return 1;
	}
	printf(_("%s: %lld bytes, BLAKE2b-256 checked, mode 0600\n"), out, written);
	return 0;
}

int
node_cmd_attachment(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(attachment_help)))
		return 0;
	const char *arg = NULL, *out = NULL, *inc = NULL;
	bool list = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--incident") && i + 1 < argc)
			inc = argv[++i];
		else if (!strcmp(argv[i], "--list"))
			list = true;
		else if (!strcmp(argv[i], "--json"))
			c->json = true;
		else if (argv[i][0] != '-' && arg == NULL)
			arg = argv[i];
		else {
			fprintf(stderr, _("irnet-node attachment: bad argument %s (see --help)\n"), argv[i]);
			return 2;
		}
	}
	if (!list && (arg == NULL || out == NULL)) {
		fprintf(stderr, "%s", _("usage: irnet-node attachment HASH --out FILE | --list\n"));
		return 2;
	}
	irn_home *h = forms_open_ro(c);
	if (!h)
		return 1;
	int rc = list ? attachment_list(c, h, inc) : attachment_export(h, arg, out);
	forms_close_ro(&h);
	return rc;
}
