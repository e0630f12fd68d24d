/* home.c - home directory, configuration file and roster state. */
#include "home.h"
#include "authz.h"
#include "validate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ini.h>

void
irn_config_defaults(irn_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->timezone, sizeof c->timezone, "Asia/Ho_Chi_Minh");
	snprintf(c->report_to, sizeof c->report_to, "role:coordinator");
	c->log_level = IRN_LOG_INFO;
	c->heartbeat_ms = 2000;
	c->error_rate = 10;
	c->member_rate = 500;
	c->queue_max = 32768;
	c->checkpoint_ms = 600000;
	c->due_ack_minutes = 60;
	c->due_notify_days = 5;
	c->due_end_report_days = 5;
	c->attachment_max = 8LL * 1024 * 1024;
}

#define COPY(field) do { \
	if (irn_snprintf(c->field, sizeof c->field, "%s", value) < 0) return 0; \
	return 1; } while (0)

static int
on_ini(void *user, const char *section, const char *name, const char *value)
{
	irn_config *c = user;
	if (strcmp(section, "irnet") != 0) {
		log_warn(_("config: unknown section [%s]"), section);
		return 1;
	}
	if (strcmp(name, "id") == 0)
		COPY(id);
	if (strcmp(name, "network") == 0)
		COPY(network);
	if (strcmp(name, "broker") == 0)
		COPY(broker);
	if (strcmp(name, "broker_id") == 0)
		COPY(broker_id);
	if (strcmp(name, "listen") == 0)
		COPY(listen);
	if (strcmp(name, "timezone") == 0)
		COPY(timezone);
	if (strcmp(name, "person") == 0)
		COPY(person);
	if (strcmp(name, "report_to") == 0)
		COPY(report_to);
	if (strcmp(name, "log_level") == 0)
		return irn_log_parse_level(value, &c->log_level) == 0;
	if (strcmp(name, "heartbeat_ms") == 0) {
		c->heartbeat_ms = atoi(value);
		return c->heartbeat_ms >= 100 && c->heartbeat_ms <= 600000;
	}
	if (strcmp(name, "db_max_pages") == 0) {
		c->db_max_pages = atol(value);
		return c->db_max_pages >= 0;
	}
	if (strcmp(name, "due_ack_minutes") == 0) {
		c->due_ack_minutes = atoi(value);
		return c->due_ack_minutes >= 1;
	}
	if (strcmp(name, "due_notify_days") == 0) {
		c->due_notify_days = atoi(value);
		return c->due_notify_days >= 1;
	}
	if (strcmp(name, "due_end_report_days") == 0) {
		c->due_end_report_days = atoi(value);
		return c->due_end_report_days >= 1;
	}
	if (strcmp(name, "attachment_max") == 0) {
		c->attachment_max = atoll(value);
		return c->attachment_max >= 1 && c->attachment_max <= 64LL * 1024 * 1024;
	}
	if (strcmp(name, "checkpoint_ms") == 0) {
		c->checkpoint_ms = atoi(value);
		return c->checkpoint_ms == 0 || c->checkpoint_ms >= 100;
	}
	if (strcmp(name, "member_rate") == 0) {
		c->member_rate = atoi(value);
		return c->member_rate >= 1 && c->member_rate <= 1000000;
	}
	if (strcmp(name, "queue_max") == 0) {
		c->queue_max = atoi(value);
		return c->queue_max >= 16 && c->queue_max <= 1048576;
	}
	if (strcmp(name, "verify_threads") == 0) {
		c->verify_threads = atoi(value);
		return c->verify_threads >= 0 && c->verify_threads <= 8;
	}
	if (strcmp(name, "error_rate") == 0) {
		c->error_rate = atoi(value);
		return c->error_rate >= 1 && c->error_rate <= 100000;
	}
	if (strncmp(name, "route.", 6) == 0) {
		/* route.KIND = LIST: default recipients of KIND (checked when used) */
		int k = irn_kind_parse(name + 6);
		if (k <= 0 || k >= IRN_ROUTE_KINDS)
			return 0;
		return irn_snprintf(c->route[k], sizeof c->route[k], "%s", value) >= 0 && value[0];
	}
	log_warn(_("config: unknown key %s"), name);
	return 1;
}

irn_err
irn_config_load(const char *path, irn_config *c)
{
	irn_config_defaults(c);
	int rc = ini_parse(path, on_ini, c);
	if (rc < 0)
		return IRN_ERR_NOTFOUND;
	if (rc > 0) {
		log_error(_("%s: line %d: bad value"), path, rc);
		return IRN_ERR_INVALID;
	}
	if (!irn_member_id_ok(c->id) || !irn_network_id_ok(c->network)) {
		log_error(_("%s: \"id\" and \"network\" must be set (id like kontum/so-tttt)"), path);
		return IRN_ERR_INVALID;
	}
	return IRN_OK;
}

irn_err
irn_config_save(const char *path, const irn_config *c)
{
	static const char *const lv[] = { "error", "warn", "info", "debug" };
	char buf[4096];
	int n = irn_snprintf(buf, sizeof buf,
		"# irnet configuration (docs/CONFIG.md)\n[irnet]\n"
		"id = %s\nnetwork = %s\n%s%s%s%s%s%s%s%s%s"
		"timezone = %s\nperson = %s\nreport_to = %s\nlog_level = %s\n"
		"heartbeat_ms = %d\nerror_rate = %d\n",
		c->id, c->network,
		c->broker[0] ? "broker = " : "", c->broker, c->broker[0] ? "\n" : "",
		c->broker_id[0] ? "broker_id = " : "", c->broker_id, c->broker_id[0] ? "\n" : "",
		c->listen[0] ? "listen = " : "", c->listen, c->listen[0] ? "\n" : "",
		c->timezone, c->person, c->report_to, lv[c->log_level], c->heartbeat_ms,
		c->error_rate);
	if (n < 0)
		return IRN_ERR_TOOBIG;
	return irn_write_file(path, (const uint8_t *)buf, (size_t)n, 0600);
}

const char *
irn_default_home(void)
{
	static char buf[1024];
	const char *h = getenv("IRNET_HOME");
	if (h && *h)
		return h;
	h = getenv("HOME");
	snprintf(buf, sizeof buf, "%s/.irnet", h ? h : ".");
	return buf;
}

irn_err
irn_home_create(const char *dir, const irn_config *cfg, const uint8_t authority_pk[IRN_PK_LEN])
{
	char p[1200];
	struct stat st;
	irn_err e;
	if ((e = irn_mkdir_p(dir, 0700)) != IRN_OK)
		return e;
	(void)chmod(dir, 0700);
	snprintf(p, sizeof p, "%s/ledger.db", dir);
	if (stat(p, &st) == 0)
		return IRN_ERR_EXISTS;
	snprintf(p, sizeof p, "%s/keys", dir);
	if ((e = irn_mkdir_p(p, 0700)) != IRN_OK)
		return e;
	irn_keys *k = NULL;
	if ((e = irn_keys_generate(&k)) != IRN_OK)
		return e;
	e = irn_keys_save(k, p);
	irn_keys_free(&k);
	if (e != IRN_OK)
		return e;
	snprintf(p, sizeof p, "%s/irnet.conf", dir);
	if ((e = irn_config_save(p, cfg)) != IRN_OK)
		return e;
	snprintf(p, sizeof p, "%s/ledger.db", dir);
	irn_ledger *l = NULL;
	if ((e = irn_ledger_open(p, false, &l)) != IRN_OK)
		return e;
	if ((e = irn_ledger_begin(l)) == IRN_OK) {
		e = irn_meta_set_blob(l, "authority_pk_init", authority_pk, IRN_PK_LEN);
		if (e == IRN_OK)
			e = irn_meta_set_blob(l, "self_id", cfg->id, strlen(cfg->id));
		if (e == IRN_OK)
			e = irn_meta_set_blob(l, "authority_pk", authority_pk, IRN_PK_LEN);
		if (e == IRN_OK)
			e = irn_ledger_commit(l);
		else
			irn_ledger_rollback(l);
	}
	irn_ledger_close(&l);
	return e;
}

irn_err
irn_home_open(const char *dir, bool with_keys, bool readonly, irn_home **out)
{
	irn_home *h = calloc(1, sizeof *h);
	if (h == NULL)
		return IRN_ERR_NOMEM;
	char p[1200];
	irn_err e;
	snprintf(h->dir, sizeof h->dir, "%s", dir);
	snprintf(p, sizeof p, "%s/irnet.conf", dir);
	if ((e = irn_config_load(p, &h->cfg)) != IRN_OK) {
		if (e == IRN_ERR_NOTFOUND)
			log_error(_("no irnet home at %s (run init first)"), dir);
		goto fail;
	}
	snprintf(p, sizeof p, "%s/ledger.db", dir);
	struct stat st;
	if (stat(p, &st) != 0) {
		log_error(_("no ledger at %s (run init first)"), p);
		e = IRN_ERR_NOTFOUND;
		goto fail;
	}
	if ((e = irn_ledger_open(p, readonly, &h->ledger)) != IRN_OK)
		goto fail;
	if (!readonly && h->cfg.db_max_pages > 0) {
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA max_page_count=%ld", h->cfg.db_max_pages);
		sqlite3_exec(irn_ledger_db(h->ledger), pragma, NULL, NULL, NULL);
	}
	if ((e = irn_meta_get_blob(h->ledger, "authority_pk", h->pin, sizeof h->pin)) != IRN_OK) {
		log_error(_("%s has no pinned authority key"), p);
		goto fail;
	}
	if ((e = irn_home_sync_roster(h)) != IRN_OK)
		goto fail;
	if (with_keys) {
		snprintf(p, sizeof p, "%s/keys", dir);
		if ((e = irn_keys_load(p, &h->keys)) != IRN_OK) {
			log_error(_("cannot load keys from %s: %s"), p, irn_strerror(e));
			goto fail;
		}
	}
	*out = h;
	return IRN_OK;
fail:
	irn_home_close(&h);
	return e;
}

irn_err
irn_home_sync_roster(irn_home *h)
{
	/* Only another connection (a roster-import) can change the roster
	 * behind our back, and only its commits move data_version. */
	sqlite3_stmt *dv;
	if (h->roster && sqlite3_prepare_v2(irn_ledger_db(h->ledger), "PRAGMA data_version", -1, &dv,
					    NULL) == SQLITE_OK) {
		int64_t v = sqlite3_step(dv) == SQLITE_ROW ? sqlite3_column_int64(dv, 0) : -1;
		sqlite3_finalize(dv);
		if (v == h->data_version)
			return IRN_OK;
		h->data_version = v;
	}
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(irn_ledger_db(h->ledger), "SELECT idx, data FROM ledger"
				    " WHERE type = 1 ORDER BY idx DESC LIMIT 1", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return irn_sqlite_err(rc);
	irn_err e = IRN_OK;
	if (sqlite3_step(st) == SQLITE_ROW && (uint64_t)sqlite3_column_int64(st, 0) != h->roster_idx) {
		uint8_t pin[IRN_PK_LEN], np[IRN_PK_LEN];
		irn_roster *r = NULL;
		e = irn_meta_get_blob(h->ledger, "authority_pk", pin, sizeof pin);
		/* Verified on import; checked again here. An expired roster is
		 * still loaded: callers judge expiry. */
		if (e == IRN_OK)
			e = irn_roster_parse(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
					     pin, h->cfg.network, 0, &r, np);
		if (e == IRN_OK) {
			if (h->roster)
				log_info("roster version %llu now in force", (unsigned long long)r->version);
			irn_roster_free(&h->roster);
			h->roster = r;
			memcpy(h->pin, pin, IRN_PK_LEN);
			h->roster_idx = (uint64_t)sqlite3_column_int64(st, 0);
		} else {
			log_error(_("the stored roster does not verify: %s"), irn_strerror(e));
		}
	}
	sqlite3_finalize(st);
	return e;
}

irn_err
irn_home_begin(irn_home *h)
{
	irn_err e = irn_ledger_begin(h->ledger);
	if (e == IRN_OK && (e = irn_home_sync_roster(h)) != IRN_OK)
		irn_ledger_rollback(h->ledger);
	return e;
}

void
irn_home_close(irn_home **hp)
{
	if (hp == NULL || *hp == NULL)
		return;
	irn_home *h = *hp;
	irn_keys_free(&h->keys);
	irn_roster_free(&h->roster);
	irn_ledger_close(&h->ledger);
	free(h);
	*hp = NULL;
}

irn_err
irn_home_accept_roster(irn_home *h, const uint8_t *buf, size_t len, char *why, size_t whysz)
{
	irn_roster *r = NULL;
	uint8_t np[IRN_PK_LEN];
	irn_err e = irn_roster_parse(buf, len, h->pin, h->cfg.network, irn_now_ms(), &r, np);
	if (e != IRN_OK) {
		snprintf(why, whysz, _("roster refused: %s"), irn_strerror(e));
		return e;
	}
	e = irn_roster_newer(h->roster, r);
	if (e != IRN_OK) {
		if (e == IRN_ERR_STALE)
			snprintf(why, whysz, _("roster refused: version %llu is older than the held %llu"),
				 (unsigned long long)r->version, (unsigned long long)h->roster->version);
		else if (e == IRN_ERR_CONFLICT)
			snprintf(why, whysz, _("roster refused: a different roster with version %llu is held"),
				 (unsigned long long)r->version);
		else
			snprintf(why, whysz, _("roster version %llu is already held"),
				 (unsigned long long)r->version);
		irn_roster_free(&r);
		return e;
	}
	if ((e = irn_ledger_begin(h->ledger)) != IRN_OK)
		goto fail;
	irn_entry ent = { .type = IRN_ENTRY_ROSTER, .accepted_ms = irn_now_ms(),
			  .roster_version = r->version, .data = buf, .len = len };
	uint64_t ridx = 0;
	e = irn_ledger_append(h->ledger, &ent, &ridx);
	if (e == IRN_OK && memcmp(np, h->pin, IRN_PK_LEN) != 0)
		e = irn_meta_set_blob(h->ledger, "authority_pk", np, IRN_PK_LEN);
	if (e == IRN_OK)
		e = irn_ledger_commit(h->ledger);
	else
		irn_ledger_rollback(h->ledger);
	if (e != IRN_OK)
		goto fail;
	if (memcmp(np, h->pin, IRN_PK_LEN) != 0)
		log_warn(_("authority key rotated (certified by the previous key)"));
	memcpy(h->pin, np, IRN_PK_LEN);
	irn_roster_free(&h->roster);
	h->roster = r;
	h->roster_idx = ridx;
	snprintf(why, whysz, _("roster version %llu accepted (%zu members)"),
		 (unsigned long long)r->version, r->n_members);
	return IRN_OK;
fail:
	snprintf(why, whysz, _("cannot store the roster: %s"), irn_strerror(e));
	irn_roster_free(&r);
	return e;
}
