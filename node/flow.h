/* flow.h - the response workflow at a node (issue 5): typed reports and
 * their routing, end reports (Form 04) resolving incidents, automatic
 * acknowledgements, alerts and drills. The daemon calls these hooks; the
 * commands are in flow_cmd.c. */
#ifndef IRNET_FLOW_H
#define IRNET_FLOW_H
#include "node.h"
#include "envelope.h"

struct node;

/* The derived tables of the workflow; adds columns to older databases. */
irn_err flow_schema(irn_ledger *l) IRN_MUST_CHECK;
/* Is this message a drill message? The request's "exercise" if it names
 * one, else whether a drill is running at this node (drill start/stop). */
bool flow_exercise(irn_home *h, json_t *req);
/* A message about an incident carries the incident's exercise flag (a
 * drill incident stays a drill, a real one stays real whatever drill runs
 * here), unless the request names one. id is the incident, or with
 * is_order the coordination order whose incident it is. */
void flow_follow_incident(irn_home *h, json_t *req, const uint8_t id[IRN_MSGID_LEN], bool is_order);
/* Derive the workflow tables from a stored message (inside the caller's
 * transaction): ours (just signed, broker_index 0) or received. A received
 * end report whose initial report this node does not hold is kept in the
 * ledger but refused (security event, no acknowledgement); for our own
 * message it is an error (err filled) and nothing is stored. */
irn_err flow_derive(struct node *n, const irn_msg *m, const uint8_t *payload, size_t plen,
		    uint32_t sender_roles, uint64_t broker_index, bool ours, char *err,
		    size_t errsz) IRN_MUST_CHECK;
/* Replay rule for an end report: may it resolve the incident now? */
const char *flow_end_report_allowed(unsigned state, uint32_t roles, bool is_reporter);
/* Closing needs the end report (PRODUCT.md rule 5): NULL if this node holds it. */
const char *flow_close_refusal(irn_home *h, const uint8_t incident[IRN_MSGID_LEN]);
/* Default recipients of a kind: route.KIND in irnet.conf, else report_to
 * (initial reports, notes), else the plan's flow for this member's role. */
const char *flow_route(irn_home *h, unsigned kind);
/* A control request of the workflow; NULL if op is not one of them. */
json_t *flow_op(struct node *n, const char *op, json_t *req, const char *account);
/* Sign and queue the acknowledgements owed for committed deliveries. */
void flow_send_acks(struct node *n);

/* daemon.c, for flow.c */
irn_home *nd_home(struct node *n);
bool nd_replaying(struct node *n);
/* The incident is held here with the other exercise flag (drill vs real). */
bool flow_exercise_mismatch(irn_home *h, const uint8_t incident[IRN_MSGID_LEN], bool exercise); /* in a rebuild: derive, owe nothing */
/* The same for a coordination order (id: its incident) or, with is_order,
 * a task status (id: the order): against the incident's flag if held here,
 * else the orders about it applied here. */
bool flow_task_exercise_mismatch(irn_home *h, const uint8_t id[IRN_MSGID_LEN], bool is_order, bool exercise);
json_t *nd_author(struct node *n, json_t *req, const char *account, unsigned kind,
		  const uint8_t *payload, size_t plen, const char *default_to);
json_t *nd_ctl_error(const char *msg);
void nd_record_event(struct node *n, const char *member, const char *reason, const char *detail);
irn_err nd_replay_incident(struct node *n, const uint8_t incident[IRN_MSGID_LEN]);
const char *nd_account(void);

/* The exercise marking on every display (bilingual on purpose). */
#define FLOW_EXERCISE_MARK "[DIỄN TẬP / EXERCISE]"
#endif
