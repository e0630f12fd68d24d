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
	return edge ? N_("this member's role may not make that change") : N_("no such change of state");
}

const char *
irn_transition_validate(unsigned kind, const uint8_t *p, size_t len)
{
	Irnet__Transition *t = irnet__transition__unpack(NULL, len, p);
	if (t == NULL)
		return N_("transition does not decode");
	const char *why = NULL;
	if (!irn_pb_canonical(&t->base, p, len))
		why = N_("transition is not in canonical form");
	else if (t->incident.len != IRN_MSGID_LEN || !irn_member_id_ok(t->reporter))
		why = N_("bad incident reference");
	else if (irn_state_name(t->from_state) == NULL || irn_state_name(t->to_state) == NULL ||
		 t->to_state == S(NONE) || t->to_state == S(REPORTED))
		why = N_("bad state");
	else if (t->reason && irn_text_check(t->reason, strlen(t->reason), IRN_MAX_LONG_TEXT,
					     IRN_TEXT_MULTILINE))
		why = N_("bad reason text");
	else if ((kind == IRNET__KIND__KIND_CLASSIFICATION) != (t->to_state == S(CLASSIFIED)))
		why = N_("classifications are the kind 'classification', other changes 'transition'");
	else if (t->to_state == S(CLASSIFIED) && (!t->has_severity || t->severity < 1 || t->severity > 2))
		why = N_("a classification needs a severity (1 normal, 2 serious)");
	else if (t->to_state == S(MERGED) &&
		 (!t->has_merged_into || t->merged_into.len != IRN_MSGID_LEN ||
		  !memcmp(t->merged_into.data, t->incident.data, IRN_MSGID_LEN)))
		why = N_("a merge names the other incident");
	else if ((t->to_state == S(CLASSIFIED) || t->to_state == S(WITHDRAWN) ||
		  t->to_state == S(MERGED) || t->from_state == S(CLOSED) || t->from_state == S(RESOLVED)) &&
		 (t->reason == NULL || t->reason[0] == '\0'))
		why = N_("this change needs a reason");
	irnet__transition__free_unpacked(t, NULL);
	return why;
}

const char *
irn_tasking_validate(const uint8_t *p, size_t len)
{
	Irnet__Tasking *t = irnet__tasking__unpack(NULL, len, p);
	if (t == NULL)
		return N_("coordination order does not decode");
	const char *why = NULL;
	if (!irn_pb_canonical(&t->base, p, len))
		why = N_("coordination order is not in canonical form");
	else if (t->incident.len != IRN_MSGID_LEN || !irn_member_id_ok(t->reporter))
		why = N_("bad incident reference");
	else if (t->n_tasks == 0 || t->n_tasks > IRN_MAX_LIST)
		why = N_("a coordination order holds 1 to 64 tasks");
	for (size_t i = 0; !why && i < t->n_tasks; i++) {
		const Irnet__TaskItem *k = t->tasks[i];
		if (k->number == 0 || !irn_member_id_ok(k->assignee) || k->deadline_ms <= 0)
			why = N_("bad task");
		else if (irn_text_check(k->instructions, strlen(k->instructions), IRN_MAX_LONG_TEXT,
					IRN_TEXT_MULTILINE) || k->instructions[0] == '\0')
			why = N_("bad task instructions");
		for (size_t j = 0; !why && j < i; j++)
			if (t->tasks[j]->number == k->number)
				why = N_("task numbers repeat");
	}
	irnet__tasking__free_unpacked(t, NULL);
	return why;
}

const char *
irn_task_status_validate(const uint8_t *p, size_t len)
{
	Irnet__TaskStatus *t = irnet__task_status__unpack(NULL, len, p);
	if (t == NULL)
		return N_("task status does not decode");
	const char *why = NULL;
	if (!irn_pb_canonical(&t->base, p, len))
		why = N_("task status is not in canonical form");
	else if (t->tasking.len != IRN_MSGID_LEN || t->number == 0)
		why = N_("bad task reference");
	else if (t->state < IRNET__TASK_STATE__TASK_ACCEPTED || t->state > IRNET__TASK_STATE__TASK_DONE)
		why = N_("bad task state");
	else if (t->note && irn_text_check(t->note, strlen(t->note), IRN_MAX_LONG_TEXT, IRN_TEXT_MULTILINE))
		why = N_("bad note text");
	irnet__task_status__free_unpacked(t, NULL);
	return why;
}

static const char *const task_names[] = { "?", N_("assigned"), N_("accepted"), N_("declined"),
					   N_("in progress"), N_("done") };

const char *
irn_task_state_name(unsigned s)
{
	return s < sizeof task_names / sizeof task_names[0] ? task_names[s] : "?";
}
