/* authz.c - the authorization matrix: role x kind. */
#include "authz.h"
#include "roster.h"
#include "irnet.pb-c.h"

#include <string.h>

#define R(x) IRN_ROLE_BIT(IRNET__ROLE__ROLE_##x)
#define REPORTERS (R(OPERATOR) | R(OWNER) | R(COORDINATOR))
#define EVERY_MEMBER (R(OPERATOR) | R(OWNER) | R(COORDINATOR) | R(RESPONDER) | \
		      R(STEERING) | R(NATIONAL) | R(AUTHORITY))
#define RESPONSE (R(OPERATOR) | R(OWNER) | R(COORDINATOR) | R(RESPONDER) | R(STEERING) | \
		  R(NATIONAL))
#define UPWARD (R(OWNER) | R(COORDINATOR) | R(STEERING) | R(NATIONAL))

/* The authorization matrix (docs/SECURITY.md): who may send each kind, and
 * which roles its recipients must have (by role, or members holding one). */
static const struct {
	unsigned kind;
	const char *name;
	uint32_t senders;
	uint32_t recipients;
} matrix[] = {
	{ IRNET__KIND__KIND_INITIAL_REPORT, "initial-report", REPORTERS, UPWARD },
	{ IRNET__KIND__KIND_PROGRESS_REPORT, "progress-report", REPORTERS | R(RESPONDER), RESPONSE },
	{ IRNET__KIND__KIND_RESPONSE_PLAN, "response-plan", REPORTERS, UPWARD },
	{ IRNET__KIND__KIND_DIRECTION_REQUEST, "direction-request", REPORTERS, UPWARD },
	{ IRNET__KIND__KIND_SUPPORT_REQUEST, "support-request", REPORTERS, UPWARD },
	/* the reporter (an operator) holds the incident: it must hold its end
	 * report too, or it could not agree that the incident may be closed */
	{ IRNET__KIND__KIND_END_REPORT, "end-report", REPORTERS, UPWARD | R(OPERATOR) },
	{ IRNET__KIND__KIND_CLASSIFICATION, "classification",
	  R(COORDINATOR) | R(STEERING) | R(NATIONAL), RESPONSE },
	{ IRNET__KIND__KIND_TASKING, "tasking", R(COORDINATOR) | R(NATIONAL), RESPONSE },
	{ IRNET__KIND__KIND_TASK_STATUS, "task-status", R(RESPONDER) | R(OPERATOR) | R(OWNER), UPWARD },
	{ IRNET__KIND__KIND_ALERT, "alert", R(COORDINATOR) | R(NATIONAL), EVERY_MEMBER },
	{ IRNET__KIND__KIND_ACKNOWLEDGEMENT, "acknowledgement", EVERY_MEMBER, EVERY_MEMBER },
	{ IRNET__KIND__KIND_CHECKPOINT, "checkpoint", EVERY_MEMBER, R(BROKER) },
	{ IRNET__KIND__KIND_TRANSITION, "transition",
	  R(OPERATOR) | R(OWNER) | R(COORDINATOR) | R(STEERING) | R(NATIONAL), RESPONSE },
	{ IRNET__KIND__KIND_PROFILE, "profile", RESPONSE,
	  R(COORDINATOR) | R(STEERING) | R(NATIONAL) | R(AUTHORITY) },
	{ IRNET__KIND__KIND_ATTACHMENT, "attachment", RESPONSE, RESPONSE },
	{ IRNET__KIND__KIND_NOTE, "note", RESPONSE, RESPONSE },
	/* Broker-authored: never accepted from a client as a submission. */
	{ IRNET__KIND__KIND_RECEIPT, "receipt", R(BROKER), EVERY_MEMBER | R(BROKER) },
	{ IRNET__KIND__KIND_ERROR, "error", R(BROKER), EVERY_MEMBER | R(BROKER) },
};

uint32_t
irn_authz_recipients(unsigned kind)
{
	for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++)
		if (matrix[i].kind == kind)
			return matrix[i].recipients;
	return 0;
}

bool
irn_authz_may_send(uint32_t roles, unsigned kind)
{
	for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++)
		if (matrix[i].kind == kind)
			return (roles & matrix[i].senders) != 0;
	return false;
}

const char *
irn_kind_name(unsigned kind)
{
	for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++)
		if (matrix[i].kind == kind)
			return matrix[i].name;
	return NULL;
}

int
irn_kind_parse(const char *name)
{
	for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++)
		if (strcmp(matrix[i].name, name) == 0)
			return (int)matrix[i].kind;
	return -1;
}

bool
irn_kind_known(unsigned kind)
{
	return irn_kind_name(kind) != NULL;
}
