/* roster.c - decode, verify and query the authority-signed roster. */
#include "roster.h"
#include "crypto.h"
#include "canon.h"
#include "keys.h"
#include "validate.h"
#include "irnet.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

static const char *const role_names[] = {
	[IRNET__ROLE__ROLE_OPERATOR] = "operator",
	[IRNET__ROLE__ROLE_OWNER] = "owner",
	[IRNET__ROLE__ROLE_COORDINATOR] = "coordinator",
	[IRNET__ROLE__ROLE_RESPONDER] = "responder",
	[IRNET__ROLE__ROLE_STEERING] = "steering",
	[IRNET__ROLE__ROLE_NATIONAL] = "national",
	[IRNET__ROLE__ROLE_AUTHORITY] = "authority",
	[IRNET__ROLE__ROLE_BROKER] = "broker",
};
#define N_ROLES (sizeof role_names / sizeof role_names[0])

const char *
irn_role_name(unsigned role)
{
	return role < N_ROLES ? role_names[role] : NULL;
}

int
irn_role_parse(const char *name)
{
	for (unsigned i = 1; i < N_ROLES; i++)
		if (role_names[i] && strcmp(role_names[i], name) == 0)
			return (int)i;
	return -1;
}

void
irn_roster_free(irn_roster **rp)
{
	if (rp == NULL || *rp == NULL)
		return;
	irn_roster *r = *rp;
	for (size_t i = 0; i < r->n_members; i++) {
		free(r->members[i].display_name);
		free(r->members[i].organisation);
		free(r->members[i].endpoint);
	}
	free(r->members);
	free(r->by_key);
	free(r->bytes);
	free(r);
	*rp = NULL;
}

static int
member_cmp(const void *a, const void *b)
{
	return strcmp(((const irn_member *)a)->id, ((const irn_member *)b)->id);
}

static irn_err
fill_member(irn_member *m, const Irnet__Member *pm)
{
	if (!irn_member_id_ok(pm->id))
		return IRN_ERR_INVALID;
	if (irn_text_check(pm->display_name, strlen(pm->display_name), IRN_MAX_SHORT_TEXT, 0) ||
	    irn_text_check(pm->organisation, strlen(pm->organisation), IRN_MAX_SHORT_TEXT, 0))
		return IRN_ERR_INVALID;
	if (pm->endpoint && irn_text_check(pm->endpoint, strlen(pm->endpoint), IRN_MAX_SHORT_TEXT, 0))
		return IRN_ERR_INVALID;
	if (pm->sign_pk.len != IRN_PK_LEN || pm->transport_pk.len != IRN_PK_LEN)
		return IRN_ERR_INVALID;
	if (pm->n_roles == 0 || pm->n_roles > IRN_MAX_ROLES_IN_LIST)
		return IRN_ERR_INVALID;
	if (pm->valid_until_ms <= pm->valid_from_ms)
		return IRN_ERR_INVALID;
	snprintf(m->id, sizeof m->id, "%s", pm->id);
	for (size_t i = 0; i < pm->n_roles; i++) {
		if (pm->roles[i] == 0 || pm->roles[i] >= N_ROLES)
			return IRN_ERR_INVALID;
		m->roles |= IRN_ROLE_BIT(pm->roles[i]);
	}
	memcpy(m->sign_pk, pm->sign_pk.data, IRN_PK_LEN);
	memcpy(m->transport_pk, pm->transport_pk.data, IRN_PK_LEN);
	irn_key_id(m->key_id, m->sign_pk);
	m->valid_from_ms = pm->valid_from_ms;
	m->valid_until_ms = pm->valid_until_ms;
	m->revoked = pm->revoked;
	m->revoked_ms = pm->has_revoked_ms ? pm->revoked_ms : 0;
	if (pm->n_previous > IRN_MAX_PREVIOUS_KEYS)
		return IRN_ERR_INVALID;
	for (size_t i = 0; i < pm->n_previous; i++) {
		const Irnet__PreviousKeys *pk = pm->previous[i];
		if (pk->sign_pk.len != IRN_PK_LEN || pk->transport_pk.len != IRN_PK_LEN)
			return IRN_ERR_INVALID;
		memcpy(m->prev[i].sign_pk, pk->sign_pk.data, IRN_PK_LEN);
		memcpy(m->prev[i].transport_pk, pk->transport_pk.data, IRN_PK_LEN);
		irn_key_id(m->prev[i].key_id, m->prev[i].sign_pk);
		m->prev[i].until_ms = pk->until_ms;
	}
	m->n_prev = pm->n_previous;
	m->display_name = strdup(pm->display_name);
	m->organisation = strdup(pm->organisation);
	m->endpoint = pm->endpoint ? strdup(pm->endpoint) : NULL;
	if (!m->display_name || !m->organisation || (pm->endpoint && !m->endpoint))
		return IRN_ERR_NOMEM;
	return IRN_OK;
}

/* Decode body into a roster; verification is the caller's job. */
static irn_err keys_unique(const irn_roster *r);
static irn_err index_keys(irn_roster *r);

static irn_err
roster_from_body(const uint8_t *body, size_t blen, irn_roster **out)
{
	Irnet__RosterBody *rb = irnet__roster_body__unpack(NULL, blen, body);
	if (rb == NULL)
		return IRN_ERR_DECODE;
	irn_err e = IRN_OK;
	if (!irn_pb_canonical(&rb->base, body, blen)) { /* canon.h */
		irnet__roster_body__free_unpacked(rb, NULL);
		return IRN_ERR_INVALID;
	}
	irn_roster *r = calloc(1, sizeof *r);
	if (r == NULL) {
		e = IRN_ERR_NOMEM;
		goto out;
	}
	if (!irn_network_id_ok(rb->network) || rb->authority_pk.len != IRN_PK_LEN ||
	    rb->n_members > IRN_MAX_ROSTER_MEMBERS || rb->version == 0 ||
	    rb->expires_ms <= rb->issued_ms) {
		e = IRN_ERR_INVALID;
		goto out;
	}
	snprintf(r->network, sizeof r->network, "%s", rb->network);
	r->version = rb->version;
	r->issued_ms = rb->issued_ms;
	r->expires_ms = rb->expires_ms;
	memcpy(r->authority_pk, rb->authority_pk.data, IRN_PK_LEN);
	r->members = calloc(rb->n_members ? rb->n_members : 1, sizeof *r->members);
	if (r->members == NULL) {
		e = IRN_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < rb->n_members && e == IRN_OK; i++) {
		e = fill_member(&r->members[i], rb->members[i]);
		r->n_members = i + 1;
	}
	if (e != IRN_OK)
		goto out;
	qsort(r->members, r->n_members, sizeof *r->members, member_cmp);
	for (size_t i = 0; i + 1 < r->n_members; i++)
		if (strcmp(r->members[i].id, r->members[i + 1].id) == 0)
			e = IRN_ERR_INVALID; /* duplicate member id */
	/* Keys must be unique: a key names exactly one member. */
	if (e == IRN_OK)
		e = keys_unique(r);
	if (e == IRN_OK)
		e = index_keys(r);
out:
	irnet__roster_body__free_unpacked(rb, NULL);
	if (e != IRN_OK)
		irn_roster_free(&r);
	*out = r;
	return e;
}

static int
pk_cmp(const void *a, const void *b)
{
	return memcmp(a, b, IRN_PK_LEN);
}

/* No two members share a signing key or a transport key (sorted, then
 * neighbours compared: O(n log n) for a roster of thousands). */
static irn_err
keys_unique(const irn_roster *r)
{
	size_t n = r->n_members;
	uint8_t (*k)[IRN_PK_LEN] = malloc((n ? n : 1) * IRN_PK_LEN);
	if (k == NULL)
		return IRN_ERR_NOMEM;
	irn_err e = IRN_OK;
	for (int pass = 0; pass < 2 && e == IRN_OK; pass++) {
		for (size_t i = 0; i < n; i++)
			memcpy(k[i], pass ? r->members[i].transport_pk : r->members[i].sign_pk, IRN_PK_LEN);
		qsort(k, n, IRN_PK_LEN, pk_cmp);
		for (size_t i = 0; i + 1 < n; i++)
			if (memcmp(k[i], k[i + 1], IRN_PK_LEN) == 0)
				e = IRN_ERR_INVALID;
	}
	free(k);
	return e;
}

static int
keyref_cmp(const void *a, const void *b)
{
	const irn_keyref *x = a, *y = b;
	int c = memcmp(x->key_id, y->key_id, IRN_KEYID_LEN);
	if (c)
		return c;
	if (x->member != y->member)
		return x->member < y->member ? -1 : 1;
	return (x->prev > y->prev) - (x->prev < y->prev);
}

/* The key id index: lookups find what a scan of members in id order, each
 * member's current key before its previous ones, would find first. */
static irn_err
index_keys(irn_roster *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_members; i++)
		n += 1 + r->members[i].n_prev;
	r->by_key = malloc((n ? n : 1) * sizeof *r->by_key);
	if (r->by_key == NULL)
		return IRN_ERR_NOMEM;
	size_t k = 0;
	for (size_t i = 0; i < r->n_members; i++) {
		const irn_member *m = &r->members[i];
		memcpy(r->by_key[k].key_id, m->key_id, IRN_KEYID_LEN);
		r->by_key[k].member = (uint32_t)i;
		r->by_key[k++].prev = -1;
		for (size_t p = 0; p < m->n_prev; p++) {
			memcpy(r->by_key[k].key_id, m->prev[p].key_id, IRN_KEYID_LEN);
			r->by_key[k].member = (uint32_t)i;
			r->by_key[k++].prev = (int32_t)p;
		}
	}
	qsort(r->by_key, n, sizeof *r->by_key, keyref_cmp);
	r->n_keys = n;
	return IRN_OK;
}

/* The first entry of the index with this key id (n_keys if none). */
static size_t
first_key(const irn_roster *r, const uint8_t kid[IRN_KEYID_LEN])
{
	size_t lo = 0, hi = r->n_keys;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(r->by_key[mid].key_id, kid, IRN_KEYID_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static irn_err
keep_bytes(irn_roster *r, const uint8_t *buf, size_t len)
{
	r->bytes = malloc(len ? len : 1);
	if (r->bytes == NULL)
		return IRN_ERR_NOMEM;
	memcpy(r->bytes, buf, len);
	r->len = len;
	irn_hash(r->hash, buf, len);
	return IRN_OK;
}

irn_err
irn_roster_parse_unverified(const uint8_t *buf, size_t len, irn_roster **out)
{
	*out = NULL;
	if (len > IRN_MAX_ROSTER_BYTES)
		return IRN_ERR_TOOBIG;
	Irnet__SignedRoster *sr = irnet__signed_roster__unpack(NULL, len, buf);
	if (sr == NULL)
		return IRN_ERR_DECODE;
	irn_err e = roster_from_body(sr->body.data, sr->body.len, out);
	irnet__signed_roster__free_unpacked(sr, NULL);
	if (e == IRN_OK && (e = keep_bytes(*out, buf, len)) != IRN_OK)
		irn_roster_free(out);
	return e;
}

irn_err
irn_roster_parse(const uint8_t *buf, size_t len, const uint8_t pinned[IRN_PK_LEN],
		 const char *network, int64_t now_ms, irn_roster **out,
		 uint8_t new_pinned[IRN_PK_LEN])
{
	*out = NULL;
	if (len > IRN_MAX_ROSTER_BYTES)
		return IRN_ERR_TOOBIG;
	Irnet__SignedRoster *sr = irnet__signed_roster__unpack(NULL, len, buf);
	if (sr == NULL)
		return IRN_ERR_DECODE;
	irn_err e = IRN_OK;
	uint8_t key[IRN_PK_LEN];
	if (!irn_pb_canonical(&sr->base, buf, len)) {
		e = IRN_ERR_INVALID;
		goto out;
	}
	memcpy(key, pinned, IRN_PK_LEN);
	if (sr->signature.len != IRN_SIG_LEN || sr->n_rotations > IRN_MAX_ROTATIONS) {
		e = IRN_ERR_INVALID;
		goto out;
	}
	/* Walk the rotation chain: only links that start at a key we trust
	 * count; links before our pinned key (already applied) are skipped. */
	for (size_t i = 0; i < sr->n_rotations; i++) {
		const Irnet__AuthorityRotation *ar = sr->rotations[i];
		if (ar->old_pk.len != IRN_PK_LEN || ar->new_pk.len != IRN_PK_LEN ||
		    ar->signature.len != IRN_SIG_LEN) {
			e = IRN_ERR_INVALID;
			goto out;
		}
		if (memcmp(ar->old_pk.data, key, IRN_PK_LEN) != 0)
			continue;
		uint8_t pair[2 * IRN_PK_LEN];
		memcpy(pair, ar->old_pk.data, IRN_PK_LEN);
		memcpy(pair + IRN_PK_LEN, ar->new_pk.data, IRN_PK_LEN);
		if (irn_domain_verify(ar->signature.data, IRN_DOMAIN_ROTATION, network, pair,
				      sizeof pair, key) != IRN_OK) {
			e = IRN_ERR_SIGNATURE;
			goto out;
		}
		memcpy(key, ar->new_pk.data, IRN_PK_LEN);
	}
	if (irn_domain_verify(sr->signature.data, IRN_DOMAIN_ROSTER, network, sr->body.data,
			      sr->body.len, key) != IRN_OK) {
		e = IRN_ERR_SIGNATURE;
		goto out;
	}
	e = roster_from_body(sr->body.data, sr->body.len, out);
	if (e != IRN_OK)
		goto out;
	if (strcmp((*out)->network, network) != 0 ||
	    memcmp((*out)->authority_pk, key, IRN_PK_LEN) != 0) {
		e = IRN_ERR_INVALID;
		goto out;
	}
	if (now_ms != 0 && (*out)->expires_ms <= now_ms) {
		e = IRN_ERR_EXPIRED;
		goto out;
	}
	e = keep_bytes(*out, buf, len);
	if (e == IRN_OK)
		memcpy(new_pinned, key, IRN_PK_LEN);
out:
	irnet__signed_roster__free_unpacked(sr, NULL);
	if (e != IRN_OK)
		irn_roster_free(out);
	return e;
}

irn_err
irn_roster_newer(const irn_roster *held, const irn_roster *cand)
{
	if (held == NULL)
		return IRN_OK;
	if (cand->version < held->version)
		return IRN_ERR_STALE;
	if (cand->version == held->version)
		return memcmp(cand->hash, held->hash, IRN_HASH_LEN) == 0 ? IRN_ERR_EXISTS
									 : IRN_ERR_CONFLICT;
	return IRN_OK;
}

const irn_member *
irn_roster_find(const irn_roster *r, const char *id)
{
	if (r == NULL || id == NULL)
		return NULL;
	size_t lo = 0, hi = r->n_members;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id, r->members[mid].id);
		if (c == 0)
			return &r->members[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const irn_member *
irn_roster_find_key_id(const irn_roster *r, const uint8_t kid[IRN_KEYID_LEN])
{
	/* current keys only (every roster comes from the parser, which indexes) */
	for (size_t i = r ? first_key(r, kid) : 0;
	     r && i < r->n_keys && memcmp(r->by_key[i].key_id, kid, IRN_KEYID_LEN) == 0; i++)
		if (r->by_key[i].prev < 0)
			return &r->members[r->by_key[i].member];
	return NULL;
}

const irn_member *
irn_roster_find_transport(const irn_roster *r, const uint8_t pk[IRN_PK_LEN], int64_t now_ms)
{
	for (size_t i = 0; r && i < r->n_members; i++) {
		const irn_member *m = &r->members[i];
		if (sodium_memcmp(m->transport_pk, pk, IRN_PK_LEN) == 0)
			return m;
		for (size_t k = 0; k < m->n_prev; k++)
			if (now_ms < m->prev[k].until_ms &&
			    sodium_memcmp(m->prev[k].transport_pk, pk, IRN_PK_LEN) == 0)
				return m;
	}
	return NULL;
}

const irn_member *
irn_roster_find_signer(const irn_roster *r, const uint8_t kid[IRN_KEYID_LEN], int64_t at_ms,
		       const uint8_t **pk)
{
	/* the first member in id order whose current key, or a previous key
	 * still valid at at_ms, has this id (the index is in that order) */
	for (size_t i = r ? first_key(r, kid) : 0;
	     r && i < r->n_keys && memcmp(r->by_key[i].key_id, kid, IRN_KEYID_LEN) == 0; i++) {
		const irn_keyref *x = &r->by_key[i];
		const irn_member *m = &r->members[x->member];
		if (x->prev < 0) {
			*pk = m->sign_pk;
			return m;
		}
		if (at_ms < m->prev[x->prev].until_ms) {
			*pk = m->prev[x->prev].sign_pk;
			return m;
		}
	}
	return NULL;
}

bool
irn_member_current(const irn_member *m, int64_t now_ms)
{
	if (m == NULL)
		return false;
	/* Revocation counts from revoked_ms when the authority gave one, so
	 * what the member sent before stays valid; without it, always. */
	if (m->revoked && (m->revoked_ms == 0 || now_ms >= m->revoked_ms))
		return false;
	return now_ms >= m->valid_from_ms && now_ms < m->valid_until_ms;
}

bool
irn_member_has_role(const irn_member *m, unsigned role)
{
	return m && role < 32 && (m->roles & IRN_ROLE_BIT(role)) != 0;
}
