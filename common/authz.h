/* authz.h - which role may send which kind (docs/SECURITY.md keeps the table). */
#ifndef IRNET_AUTHZ_H
#define IRNET_AUTHZ_H
#include "irnet.h"

/* roles: bit set of IRN_ROLE_BIT(Irnet__Role). */
bool irn_authz_may_send(uint32_t roles, unsigned kind);
/* Roles a recipient of this kind must hold (at least one of), as bits. */
uint32_t irn_authz_recipients(unsigned kind);
const char *irn_kind_name(unsigned kind); /* NULL if unknown */
int irn_kind_parse(const char *name);
bool irn_kind_known(unsigned kind);
#endif
