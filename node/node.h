/* node.h - irnet-node: the agency daemon and its commands. */
#ifndef IRNET_NODE_H
#define IRNET_NODE_H
#include "cli.h"
#include <jansson.h>

/* Derived tables beside the ledger (can be rebuilt from it). */
irn_err node_schema(irn_ledger *l) IRN_MUST_CHECK;
int node_daemon_run(irn_home *h);
/* Send one request to the running daemon; *resp is a new reference. */
irn_err node_ctl_call(const char *home, json_t *req, json_t **resp, int timeout_ms) IRN_MUST_CHECK;

int node_cmd_report(irn_cli *c, int argc, char **argv);
int node_cmd_message(irn_cli *c, int argc, char **argv);
int node_cmd_members(irn_cli *c, int argc, char **argv);
int node_cmd_delivery(irn_cli *c, int argc, char **argv);
int node_cmd_rotate_keys(irn_cli *c, int argc, char **argv);
int node_cmd_transition(irn_cli *c, int argc, char **argv);
int node_cmd_task(irn_cli *c, int argc, char **argv);
int node_cmd_task_status(irn_cli *c, int argc, char **argv);
int node_cmd_tasks(irn_cli *c, int argc, char **argv);
int node_cmd_due(irn_cli *c, int argc, char **argv);
int node_cmd_incidents(irn_cli *c, int argc, char **argv);
int node_cmd_show(irn_cli *c, int argc, char **argv);
int node_cmd_outbox(irn_cli *c, int argc, char **argv);
int node_cmd_status(irn_cli *c, int argc, char **argv);
int node_cmd_events(irn_cli *c, int argc, char **argv);
int node_cmd_ledger_audit(irn_cli *c, int argc, char **argv);
/* The full id of the one row a unique hex prefix (>= 6 digits) names; see commands.c. */
/* Ask the daemon (req consumed); NULL after printing why it failed. */
json_t *node_ask(irn_cli *c, json_t *req, const char *cmd);
/* JSON for scripts on stdout, indented. */
void print_json(json_t *o);
int node_find_by_prefix(irn_cli *c, const char *sql, const char *prefix, char out[33]);
/* flow_cmd.c: progress, plan, direction, support, end-report, alert */
bool node_is_typed_command(const char *name);
int node_cmd_typed(irn_cli *c, int argc, char **argv);
int node_cmd_ack(irn_cli *c, int argc, char **argv);
int node_cmd_acks(irn_cli *c, int argc, char **argv);
int node_cmd_alerts(irn_cli *c, int argc, char **argv);
int node_cmd_drill(irn_cli *c, int argc, char **argv);

/* u32be length-prefixed frames on a stream socket. */
int node_frame_write(int fd, const char *s, size_t n);
char *node_frame_read(int fd, size_t max); /* malloc'ed, NUL-terminated */
#endif
