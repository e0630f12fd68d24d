/* forms.h - branch forms of issue 5: rendered forms, Form 05 statistics,
 * member profiles (Forms 01/02), attachments, search, rebuild and the
 * state hash. */
#ifndef IRNET_NODE_FORMS_H
#define IRNET_NODE_FORMS_H
#include "node.h"
#include "envelope.h"

/* Derived tables of this file's features (profiles, attachment chunks,
 * search index); called by node_schema. */
irn_err forms_schema(sqlite3 *db) IRN_MUST_CHECK;
/* Names of every derived table, dropped by a rebuild (NULL-terminated). */
extern const char *const forms_derived_tables[];
/* Apply one verified message (content = opened payload) to the derived
 * tables above, inside the caller's transaction. Content problems (an
 * attachment over the cap, a conflicting chunk) are logged and kept out;
 * only database errors are returned. */
irn_err forms_derive(irn_home *h, const irn_msg *m, const uint8_t *content, size_t clen,
		     uint64_t ledger_idx) IRN_MUST_CHECK;
/* BLAKE2b-256 over a canonical serialisation of incidents (state,
 * severity decisions), their transitions and the Form 06 tasks, sorted by
 * id. incident: NULL for the node's whole state, else only that incident
 * and its transitions (what every participant holds; tasks reach only the
 * coordinators and assignees). hex gets 65 bytes. */
irn_err forms_state_hash(sqlite3 *db, const uint8_t *incident, char hex[65]) IRN_MUST_CHECK;

/* Shared by the read-only commands. */
irn_home *forms_open_ro(irn_cli *c);
void forms_close_ro(irn_home **h);
/* The roster of a given version from the ledger (*owned freed by caller). */
const irn_roster *forms_roster_at(irn_home *h, uint64_t version, irn_roster **owned);
/* The readable payload of a stored message: its payload, or for TLP:RED
 * the copy the daemon opened. malloc'ed; NULL if not readable here. */
uint8_t *forms_content(irn_home *h, const irn_msg *m, size_t *len);
/* Find an incident (or any message) by a unique hex prefix. 1 found,
 * 0 none, -1 ambiguous or bad. */
int forms_find_message(irn_home *h, const char *prefix, uint8_t id[IRN_MSGID_LEN]);

/* 'report --attach': the AttachmentRef of a file as JSON ({name, size,
 * hash}) for the form, then, once the report is stored, its chunks. expect
 * (may be NULL) lists the refs the report named, one per path. */
int forms_attach_ref(irn_cli *c, const char *path, json_t **ref);
int forms_attach_files(irn_cli *c, const char *incident, char *const *paths, int n, const char *to,
		       const json_t *expect);

int node_cmd_form(irn_cli *c, int argc, char **argv);
int node_cmd_periodic(irn_cli *c, int argc, char **argv);
int node_cmd_profile(irn_cli *c, int argc, char **argv);
int node_cmd_attach(irn_cli *c, int argc, char **argv);
int node_cmd_attachment(irn_cli *c, int argc, char **argv);
int node_cmd_search(irn_cli *c, int argc, char **argv);
int node_cmd_rebuild(irn_cli *c, int argc, char **argv);
int node_cmd_state_hash(irn_cli *c, int argc, char **argv);

/* Switch message translations to lang ("vi" or "en") for this process:
 * the forms are Vietnamese unless asked otherwise. false if lang is bad. */
bool forms_set_lang(const char *lang);
/* "1.234.567" (Vietnamese thousands separator) or "1,234,567" (English). */
void forms_fmt_vnd(char *out, size_t n, uint64_t v, bool vi);
#endif
