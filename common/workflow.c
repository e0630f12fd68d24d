/* workflow.c - the incident state machine. */
#include "workflow.h"
#include "canon.h"
#include "roster.h"
#include "validate.h"

#include <string.h>

#define S(x) IRNET__INCIDENT_STATE__STATE_##x
#define R(x) IRN_ROLE_BIT(IRNET__ROLE__ROLE_##x)

static const char *const names[] = {
	[S(NONE)] = "none", [S(REPORTED)] = "reported", [S(ACKNOWLEDGED)] = "acknowledged",
	[S(CLASSIFIED)] = "classified", [S(RESPONDING)] = "responding", [S(RESOLVED)] = "resolved",
	[S(CLOSED)] = "closed", [S(MERGED)] = "merged", [S(WITHDRAWN)] = "withdrawn",
};

const char *
irn_state_name(unsigned state)
{
	return state < sizeof names / sizeof names[0] ? names[state] : NULL;
}

int
irn_state_parse(const char *name)
{
	for (unsigned i = 1; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

/* The edges: from, to, who. "reporter" may also withdraw its own report. */
static const struct {
	unsigned from, to;
	uint32_t roles;
	bool reporter;
} edges[] = {
	{ S(REPORTED), S(ACKNOWLEDGED), R(COORDINATOR) | R(OWNER) | R(NATIONAL), false },
	{ S(REPORTED), S(CLASSIFIED), R(COORDINATOR) | R(STEERING) | R(NATIONAL), false },
	{ S(ACKNOWLEDGED), S(CLASSIFIED), R(COORDINATOR) | R(STEERING) | R(NATIONAL), false },
	/* the coordinator confirms or changes a classification; the steering
	 * committee decides on serious incidents */
	{ S(CLASSIFIED), S(CLASSIFIED), R(COORDINATOR) | R(STEERING) | R(NATIONAL), false },
	{ S(RESPONDING), S(CLASSIFIED), R(STEERING) | R(NATIONAL), false },
	{ S(CLASSIFIED), S(RESPONDING), R(COORDINATOR) | R(NATIONAL), false },
	{ S(RESPONDING), S(RESOLVED), R(COORDINATOR) | R(OWNER) | R(OPERATOR), false },
	{ S(RESOLVED), S(CLOSED), R(COORDINATOR) | R(NATIONAL), false },
	{ S(RESOLVED), S(RESPONDING), R(COORDINATOR) | R(NATIONAL), false },
	{ S(CLOSED), S(RESPONDING), R(COORDINATOR) | R(NATIONAL), false },
	{ S(REPORTED), S(WITHDRAWN), R(COORDINATOR), true },
	{ S(ACKNOWLEDGED), S(WITHDRAWN), R(COORDINATOR), true },
	{ S(REPORTED), S(MERGED), R(COORDINATOR) | R(NATIONAL), false },
	{ S(ACKNOWLEDGED), S(MERGED), R(COORDINATOR) | R(NATIONAL), false },
	{ S(CLASSIFIED), S(MERGED), R(COORDINATOR) | R(NATIONAL), false },
	{ S(RESPONDING), S(MERGED), R(COORDINATOR) | R(NATIONAL), false },
};

const char *
irn_transition_allowed(unsigned from, unsigned to, uint32_t roles, bool is_reporter)
{
	bool edge = false;
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
		if (edges[i].from != from || edges[i].to != to)
			continue;
		edge = true;
		if ((edges[i].roles & roles) || (edges[i].reporter && is_reporter))
			return NULL;
	}
	return edge ? "this member's role may not make that change" : "no such change of state";
}

const char *
irn_transition_validate(unsigned kind, const uint8_t *p, size_t len)
{
	Irnet__Transition *t = irnet__transition__unpack(NULL, len, p);
	if (t == NULL)
		return "transition does not decode";
	const char *why = NULL;
	if (!irn_pb_canonical(&t->base, p, len))
		why = "transition is not in canonical form";
	else if (t->incident.len != IRN_MSGID_LEN || !irn_member_id_ok(t->reporter))
		why = "bad incident reference";
	else if (irn_state_name(t->from_state) == NULL || irn_state_name(t->to_state) == NULL ||
		 t->to_state == S(NONE) || t->to_state == S(REPORTED))
		why = "bad state";
	else if (t->reason && irn_text_check(t->reason, strlen(t->reason), IRN_MAX_LONG_TEXT,
					     IRN_TEXT_MULTILINE))
		why = "bad reason text";
	else if ((kind == IRNET__KIND__KIND_CLASSIFICATION) != (t->to_state == S(CLASSIFIED)))
		why = "classifications are the kind 'classification', other changes 'transition'";
	else if (t->to_state == S(CLASSIFIED) && (!t->has_severity || t->severity < 1 || t->severity > 2))
		why = "a classification needs a severity (1 normal, 2 serious)";
	else if (t->to_state == S(MERGED) &&
		 (!t->has_merged_into || t->merged_into.len != IRN_MSGID_LEN ||
		  !memcmp(t->merged_into.data, t->incident.data, IRN_MSGID_LEN)))
		why = "a merge names the other incident";
	else if ((t->to_state == S(CLASSIFIED) || t->to_state == S(WITHDRAWN) ||
		  t->to_state == S(MERGED) || t->from_state == S(CLOSED) || t->from_state == S(RESOLVED)) &&
		 (t->reason == NULL || t->reason[0] == '\0'))
		why = "this change needs a reason";
	irnet__transition__free_unpacked(t, NULL);
	return why;
}
