/* home.h - a member's home directory: config, keys, ledger, roster state.
 *
 *   HOME/irnet.conf      configuration (ini), see docs/CONFIG.md
 *   HOME/keys/           sign.key, transport.key (0600), *.pub
 *   HOME/ledger.db       the ledger and derived tables (SQLite, WAL)
 *   HOME/node.sock       the daemon's control socket (nodes only)
 */
#ifndef IRNET_HOME_H
#define IRNET_HOME_H
#include "irnet.h"
#include "keys.h"
#include "ledger.h"
#include "roster.h"

#define IRN_ROUTE_KINDS 22 /* Kind values 0..21 */

typedef struct irn_config {
	char id[IRN_MAX_ID + 1];
	char network[IRN_MAX_NETWORK + 1];
	char broker[256];      /* node: endpoint to connect to */
	char broker_id[IRN_MAX_ID + 1];
	char listen[256];      /* broker: endpoint to bind */
	char timezone[64];
	char person[IRN_MAX_SHORT_TEXT];
	char report_to[1024];  /* node: default recipients of reports */
	irn_log_level log_level;
	int heartbeat_ms;
	int error_rate;        /* broker: error replies per member per second */
	int member_rate;       /* broker: submissions per member per second (burst 2x) */
	int verify_threads;    /* broker: signature-check threads (0: one per online CPU, at most 8) */
	int queue_max;         /* broker: submissions waiting for verification in all; at it, the
				* broker stops reading its socket until a quarter has drained */
	long db_max_pages;
	int checkpoint_ms;     /* node: sign the ledger head this often (0: never) */
	int due_ack_minutes;   /* deadlines: acknowledge a report within (plan: at once) */
	int due_notify_days;   /* report within N days of detection (QD05: 5) */
	int due_end_report_days; /* end-of-response report within N days of resolution (5) */
	long long attachment_max; /* node: largest attachment sent or kept, bytes (8 MiB) */
	/* node: routing table, route.KIND = recipients (docs/CONFIG.md); empty: the default */
	char route[IRN_ROUTE_KINDS][512];
} irn_config;

typedef struct irn_home {
	char dir[1024];
	irn_config cfg;
	irn_keys *keys;        /* NULL unless loaded */
	irn_ledger *ledger;
	irn_roster *roster;    /* current roster, NULL before the first import */
	uint8_t pin[IRN_PK_LEN]; /* current authority key */
	uint64_t roster_idx;   /* ledger index of the roster entry in force */
	int64_t data_version;  /* PRAGMA data_version when the roster was last checked */
} irn_home;

/* Create a new home: directory 0700, config, fresh keys, ledger with the
 * pinned authority key. Fails with EXISTS if a ledger is already there. */
irn_err irn_home_create(const char *dir, const irn_config *cfg,
			const uint8_t authority_pk[IRN_PK_LEN]) IRN_MUST_CHECK;
/* Open: config, ledger (read-only if asked), current roster; keys if asked. */
irn_err irn_home_open(const char *dir, bool with_keys, bool readonly, irn_home **out) IRN_MUST_CHECK;
void irn_home_close(irn_home **h);
/* Verify and store a new roster (its own transaction). EXISTS if already held. */
irn_err irn_home_accept_roster(irn_home *h, const uint8_t *buf, size_t len,
			       char *why, size_t whysz) IRN_MUST_CHECK;
/* Another process (roster-import) may have stored a newer roster: load the
 * latest one from the ledger. Pointers into the old roster become invalid. */
irn_err irn_home_sync_roster(irn_home *h) IRN_MUST_CHECK;
/* BEGIN IMMEDIATE, then sync the roster, so entries name the roster in force. */
irn_err irn_home_begin(irn_home *h) IRN_MUST_CHECK;
irn_err irn_config_load(const char *path, irn_config *cfg) IRN_MUST_CHECK;
irn_err irn_config_save(const char *path, const irn_config *cfg) IRN_MUST_CHECK;
void irn_config_defaults(irn_config *cfg);
/* Default home: $IRNET_HOME, else $HOME/.irnet */
const char *irn_default_home(void);
#endif
