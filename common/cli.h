/* cli.h - command-line pieces shared by irnet-broker and irnet-node. */
#ifndef IRNET_CLI_H
#define IRNET_CLI_H
#include "home.h"
#include <stdio.h>

typedef struct irn_cli {
	const char *prog;
	const char *home;
	bool json;
	irn_log_level level;
	bool level_set;
} irn_cli;

/* Parse the global options before the command; returns argv index of the
 * command, or -1 after printing an error. Handles --help/--version itself
 * by calling usage(stdout) and exiting 0. */
int irn_cli_globals(irn_cli *c, int argc, char **argv, void (*usage)(FILE *));

/* "init": create a home. is_broker selects defaults. Exit code. */
int irn_cli_init(irn_cli *c, int argc, char **argv, bool is_broker);
int irn_cli_roster_import(irn_cli *c, int argc, char **argv);
int irn_cli_ledger_verify(irn_cli *c, int argc, char **argv);
/* Print the public part of this member (the request to the authority). */
int irn_cli_whoami(irn_cli *c, int argc, char **argv);
/* true if argv[1..] holds --help or -h; prints text to stdout. */
bool irn_cli_wants_help(int argc, char **argv, const char *text);
#endif
