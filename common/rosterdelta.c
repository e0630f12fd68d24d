/* rosterdelta.c - compact roster updates: see rosterdelta.h and the
 * RosterDelta comment in proto/irnet.proto. */
#include "rosterdelta.h"
#include "canon.h"
#include "crypto.h"
#include "irnet.pb-c.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	const char *id;
	size_t i;
} byid;

static int
byid_cmp(const void *a, const void *b)
{
	return strcmp(((const byid *)a)->id, ((const byid *)b)->id);
}

/* Sorted (id, position) index of a member list; NULL on a duplicate id. */
static byid *
index_members(Irnet__Member **m, size_t n)
{
	byid *x = calloc(n ? n : 1, sizeof *x);
	if (x == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		x[i] = (byid){ m[i]->id, i };
	qsort(x, n, sizeof *x, byid_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(x[i - 1].id, x[i].id) == 0) {
			free(x);
			return NULL;
		}
	return x;
}

static const byid *
find(const byid *x, size_t n, const char *id)
{
	byid k = { id, 0 };
	return n ? bsearch(&k, x, n, sizeof *x, byid_cmp) : NULL;
}

static bool
same_member(const Irnet__Member *a, const Irnet__Member *b)
{
	size_t la = irnet__member__get_packed_size(a), lb = irnet__member__get_packed_size(b);
	if (la != lb)
		return false;
	uint8_t *pa = malloc(la ? la : 1), *pb = malloc(lb ? lb : 1);
	bool same = pa && pb && irnet__member__pack(a, pa) == la && irnet__member__pack(b, pb) == lb &&
		    memcmp(pa, pb, la) == 0;
	free(pa);
	free(pb);
	return same;
}

static uint8_t *
pack_body(const Irnet__RosterBody *b, size_t *len)
{
	*len = irnet__roster_body__get_packed_size(b);
	if (*len > IRN_MAX_ROSTER_BYTES)
		return NULL;
	uint8_t *p = malloc(*len ? *len : 1);
	if (p)
		irnet__roster_body__pack(b, p);
	return p;
}

irn_err
irn_roster_delta_apply(const uint8_t *base, size_t blen, const uint8_t *delta, size_t dlen,
		       uint8_t **out, size_t *olen)
{
	*out = NULL;
	*olen = 0;
	if (dlen > IRN_MAX_ROSTER_BYTES || blen > IRN_MAX_ROSTER_BYTES)
		return IRN_ERR_TOOBIG;
	Irnet__RosterDelta *d = irnet__roster_delta__unpack(NULL, dlen, delta);
	if (d == NULL)
		return IRN_ERR_DECODE;
	irn_err e = IRN_ERR_DECODE;
	Irnet__SignedRoster *sb = NULL;
	Irnet__RosterBody *bb = NULL;
	Irnet__Member **mem = NULL;
	byid *bx = NULL, *ux = NULL;
	uint8_t *body = NULL;
	if (!irn_pb_canonical(&d->base, delta, dlen) || d->base_hash.len != IRN_HASH_LEN ||
	    d->result_hash.len != IRN_HASH_LEN || d->authority_pk.len != IRN_PK_LEN ||
	    d->n_upserts > IRN_MAX_ROSTER_MEMBERS || d->n_removes > IRN_MAX_ROSTER_MEMBERS ||
	    d->n_rotations > IRN_MAX_ROTATIONS)
		goto out;
	uint8_t h[IRN_HASH_LEN];
	irn_hash(h, base, blen);
	e = IRN_ERR_STALE;
	if (memcmp(h, d->base_hash.data, IRN_HASH_LEN) != 0)
		goto out;
	e = IRN_ERR_DECODE;
	if ((sb = irnet__signed_roster__unpack(NULL, blen, base)) == NULL ||
	    (bb = irnet__roster_body__unpack(NULL, sb->body.len, sb->body.data)) == NULL)
		goto out;
	e = IRN_ERR_STALE;
	if (bb->version != d->base_version || d->version <= bb->version)
		goto out;
	e = IRN_ERR_INVALID;
	size_t cap = bb->n_members + d->n_upserts;
	if (cap > IRN_MAX_ROSTER_MEMBERS ||
	    (bx = index_members(bb->members, bb->n_members)) == NULL ||
	    (ux = index_members(d->upserts, d->n_upserts)) == NULL ||
	    (mem = calloc(cap ? cap : 1, sizeof *mem)) == NULL)
		goto out;
	bool *used = calloc(d->n_upserts ? d->n_upserts : 1, sizeof *used);
	if (used == NULL)
		goto out;
	size_t n = 0;
	for (size_t i = 0; i < bb->n_members; i++) {
		bool removed = false;
		for (size_t r = 0; r < d->n_removes && !removed; r++)
			removed = strcmp(d->removes[r], bb->members[i]->id) == 0;
		if (removed)
			continue;
		const byid *u = find(ux, d->n_upserts, bb->members[i]->id);
		if (u) {
			used[u->i] = true;
			mem[n++] = d->upserts[u->i];
		} else
			mem[n++] = bb->members[i];
	}
	for (size_t k = 0; k < d->n_upserts; k++)
		if (!used[k])
			mem[n++] = d->upserts[k];
	free(used);
	Irnet__RosterBody nb = IRNET__ROSTER_BODY__INIT;
	nb.network = bb->network;
	nb.version = d->version;
	nb.issued_ms = d->issued_ms;
	nb.expires_ms = d->expires_ms;
	nb.authority_pk = d->authority_pk;
	nb.members = mem;
	nb.n_members = n;
	size_t bl;
	if ((body = pack_body(&nb, &bl)) == NULL)
		goto out;
	Irnet__SignedRoster ns = IRNET__SIGNED_ROSTER__INIT;
	ns.body.data = body;
	ns.body.len = bl;
	ns.signature = d->signature;
	ns.rotations = d->rotations;
	ns.n_rotations = d->n_rotations;
	*olen = irnet__signed_roster__get_packed_size(&ns);
	if (*olen > IRN_MAX_ROSTER_BYTES || (*out = malloc(*olen)) == NULL)
		goto out;
	irnet__signed_roster__pack(&ns, *out);
	irn_hash(h, *out, *olen);
	e = memcmp(h, d->result_hash.data, IRN_HASH_LEN) == 0 ? IRN_OK : IRN_ERR_INVALID;
out:
	if (e != IRN_OK) {
		free(*out);
		*out = NULL;
		*olen = 0;
	}
	free(body);
	free(mem);
	free(bx);
	free(ux);
	if (bb)
		irnet__roster_body__free_unpacked(bb, NULL);
	if (sb)
		irnet__signed_roster__free_unpacked(sb, NULL);
	irnet__roster_delta__free_unpacked(d, NULL);
	return e;
}

irn_err
irn_roster_delta_make(const uint8_t *base, size_t blen, const uint8_t *new_, size_t nlen,
		      uint8_t **out, size_t *olen)
{
	*out = NULL;
	*olen = 0;
	irn_err e = IRN_ERR_DECODE;
	Irnet__SignedRoster *sb = irnet__signed_roster__unpack(NULL, blen, base);
	Irnet__SignedRoster *sn = irnet__signed_roster__unpack(NULL, nlen, new_);
	Irnet__RosterBody *bb = sb ? irnet__roster_body__unpack(NULL, sb->body.len, sb->body.data) : NULL;
	Irnet__RosterBody *nb = sn ? irnet__roster_body__unpack(NULL, sn->body.len, sn->body.data) : NULL;
	byid *bx = NULL, *nx = NULL;
	Irnet__Member **ups = NULL;
	char **rem = NULL;
	uint8_t *check = NULL;
	if (bb == NULL || nb == NULL)
		goto out;
	e = IRN_ERR_INVALID;
	if (strcmp(bb->network, nb->network) != 0 || nb->version <= bb->version ||
	    (bx = index_members(bb->members, bb->n_members)) == NULL ||
	    (nx = index_members(nb->members, nb->n_members)) == NULL ||
	    (ups = calloc(nb->n_members ? nb->n_members : 1, sizeof *ups)) == NULL ||
	    (rem = calloc(bb->n_members ? bb->n_members : 1, sizeof *rem)) == NULL)
		goto out;
	size_t nu = 0, nr = 0, j = 0;
	/* the base's members that stay must open the new list, in order */
	for (size_t i = 0; i < bb->n_members; i++) {
		if (find(nx, nb->n_members, bb->members[i]->id) == NULL) {
			rem[nr++] = bb->members[i]->id;
			continue;
		}
		if (j >= nb->n_members || strcmp(nb->members[j]->id, bb->members[i]->id) != 0)
			goto out; /* reordered: not expressible */
		if (!same_member(bb->members[i], nb->members[j]))
			ups[nu++] = nb->members[j];
		j++;
	}
	for (; j < nb->n_members; j++) {
		if (find(bx, bb->n_members, nb->members[j]->id) != NULL)
			goto out;
		ups[nu++] = nb->members[j];
	}
	uint8_t bh[IRN_HASH_LEN], rh[IRN_HASH_LEN];
	irn_hash(bh, base, blen);
	irn_hash(rh, new_, nlen);
	Irnet__RosterDelta d = IRNET__ROSTER_DELTA__INIT;
	d.base_version = bb->version;
	d.base_hash.data = bh;
	d.base_hash.len = sizeof bh;
	d.version = nb->version;
	d.issued_ms = nb->issued_ms;
	d.expires_ms = nb->expires_ms;
	d.authority_pk = nb->authority_pk;
	d.upserts = ups;
	d.n_upserts = nu;
	d.removes = rem;
	d.n_removes = nr;
	d.signature = sn->signature;
	d.rotations = sn->rotations;
	d.n_rotations = sn->n_rotations;
	d.result_hash.data = rh;
	d.result_hash.len = sizeof rh;
	*olen = irnet__roster_delta__get_packed_size(&d);
	if ((*out = malloc(*olen ? *olen : 1)) == NULL) {
		e = IRN_ERR_NOMEM;
		goto out;
	}
	irnet__roster_delta__pack(&d, *out);
	/* It must rebuild new_ exactly, or it is useless. */
	size_t cl;
	e = irn_roster_delta_apply(base, blen, *out, *olen, &check, &cl);
	if (e == IRN_OK && (cl != nlen || memcmp(check, new_, nlen) != 0))
		e = IRN_ERR_INVALID;
out:
	if (e != IRN_OK) {
		free(*out);
		*out = NULL;
		*olen = 0;
	}
	free(check);
	free(ups);
	free(rem);
	free(bx);
	free(nx);
	if (bb)
		irnet__roster_body__free_unpacked(bb, NULL);
	if (nb)
		irnet__roster_body__free_unpacked(nb, NULL);
	if (sb)
		irnet__signed_roster__free_unpacked(sb, NULL);
	if (sn)
		irnet__signed_roster__free_unpacked(sn, NULL);
	return e;
}
