/* workflow.h - the incident lifecycle (plan II.4, QD05 art. 9 and 11),
 * checked by every node for itself.
 *
 *   reported -> acknowledged -> classified -> responding -> resolved -> closed
 *   withdrawn (by the reporter or a coordinator, before classification)
 *   merged (into another incident, by a coordinator, before resolution)
 *   reopen: resolved or closed -> responding (coordinator, national)
 *
 * Transitions are applied in the broker's acceptance order (its ledger
 * index), so every node that holds the same transitions reaches the same
 * state, whatever order they arrived in.
 */
#ifndef IRNET_WORKFLOW_H
#define IRNET_WORKFLOW_H
#include "irnet.h"
#include "irnet.pb-c.h"

const char *irn_state_name(unsigned state);   /* "reported", NULL if unknown */
int irn_state_parse(const char *name);
/* May a member with these roles (and is it the reporter) move an incident
 * from -> to? NULL if yes, else a static reason. */
const char *irn_transition_allowed(unsigned from, unsigned to, uint32_t roles, bool is_reporter);
/* Structure of a Transition payload for its kind. NULL if fine. */
const char *irn_transition_validate(unsigned kind, const uint8_t *p, size_t len);
/* Form 06 coordination order and task status payloads. NULL if fine. */
const char *irn_tasking_validate(const uint8_t *p, size_t len);
const char *irn_task_status_validate(const uint8_t *p, size_t len);
const char *irn_task_state_name(unsigned s);
#endif
