/* merkle.c - batch-signed receipts: the tree, the receipt form, the check. */
#include "merkle.h"
#include "canon.h"
#include "crypto.h"
#include "roster.h"
#include "validate.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

void
irn_merkle_leaf(uint8_t out[IRN_HASH_LEN], const uint8_t *leaf, size_t len)
{
	static const uint8_t tag = 0x00;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, IRN_HASH_LEN);
	crypto_generichash_update(&st, &tag, 1);
	crypto_generichash_update(&st, leaf, len);
	crypto_generichash_final(&st, out, IRN_HASH_LEN);
}

void
irn_merkle_node(uint8_t out[IRN_HASH_LEN], const uint8_t left[IRN_HASH_LEN],
		const uint8_t right[IRN_HASH_LEN])
{
	uint8_t b[1 + 2 * IRN_HASH_LEN];
	b[0] = 0x01;
	memcpy(b + 1, left, IRN_HASH_LEN);
	memcpy(b + 1 + IRN_HASH_LEN, right, IRN_HASH_LEN);
	crypto_generichash(out, IRN_HASH_LEN, b, sizeof b, NULL, 0);
}

void
irn_merkle_free(irn_merkle *t)
{
	if (t->lv)
		for (size_t k = 0; k < t->levels; k++)
			free(t->lv[k]);
	free(t->lv);
	free(t->width);
	memset(t, 0, sizeof *t);
}

irn_err
irn_merkle_build(irn_merkle *t, const uint8_t (*leaves)[IRN_HASH_LEN], size_t n)
{
	memset(t, 0, sizeof *t);
	if (n == 0 || n > IRN_MERKLE_MAX_LEAVES)
		return IRN_ERR_INVALID;
	size_t levels = 1;
	for (size_t w = n; w > 1; w = (w + 1) / 2)
		levels++;
	t->lv = calloc(levels, sizeof *t->lv);
	t->width = calloc(levels, sizeof *t->width);
	if (t->lv == NULL || t->width == NULL) {
		irn_merkle_free(t);
		return IRN_ERR_NOMEM;
	}
	t->n = n;
	t->levels = levels;
	size_t w = n;
	for (size_t k = 0; k < levels; k++) {
		t->lv[k] = malloc(w * IRN_HASH_LEN);
		if (t->lv[k] == NULL) {
			irn_merkle_free(t);
			return IRN_ERR_NOMEM;
		}
		t->width[k] = w;
		if (k == 0) {
			memcpy(t->lv[0], leaves, n * IRN_HASH_LEN);
		} else {
			const uint8_t (*below)[IRN_HASH_LEN] = t->lv[k - 1];
			size_t bw = t->width[k - 1];
			for (size_t i = 0; i < w; i++) {
				if (2 * i + 1 < bw) /* a pair */
					irn_merkle_node(t->lv[k][i], below[2 * i], below[2 * i + 1]);
				else                /* the odd last node: carried up */
					memcpy(t->lv[k][i], below[2 * i], IRN_HASH_LEN);
			}
		}
		w = (w + 1) / 2;
	}
	return IRN_OK;
}

const uint8_t *
irn_merkle_root(const irn_merkle *t)
{
	return t->levels ? t->lv[t->levels - 1][0] : NULL;
}

size_t
irn_merkle_path(const irn_merkle *t, size_t m, uint8_t (*path)[IRN_HASH_LEN])
{
	size_t len = 0;
	if (m >= t->n)
		return 0;
	for (size_t k = 0; k + 1 < t->levels && len < IRN_MERKLE_MAX_PATH; k++) {
		size_t sib = m ^ 1;
		if (sib < t->width[k])
			memcpy(path[len++], t->lv[k][sib], IRN_HASH_LEN);
		m >>= 1;
	}
	return len;
}

bool
irn_merkle_verify(const uint8_t root[IRN_HASH_LEN], const uint8_t leaf[IRN_HASH_LEN], uint64_t m,
		  uint64_t n, const uint8_t *const *path, size_t plen)
{
	if (n == 0 || n > IRN_MERKLE_MAX_LEAVES || m >= n || plen > IRN_MERKLE_MAX_PATH)
		return false;
	uint8_t r[IRN_HASH_LEN];
	memcpy(r, leaf, IRN_HASH_LEN);
	uint64_t fn = m, sn = n - 1; /* our position and the last position, per level */
	size_t i = 0;
	while (sn > 0) {
		if ((fn & 1) || fn < sn) { /* a sibling exists at this level */
			if (i == plen)
				return false;
			if (fn & 1)
				irn_merkle_node(r, path[i], r);
			else
				irn_merkle_node(r, r, path[i]);
			i++;
		}
		fn >>= 1;
		sn >>= 1;
	}
	return i == plen && sodium_memcmp(r, root, IRN_HASH_LEN) == 0;
}

irn_err
irn_receipt_leaf(const Irnet__Receipt *rc, uint8_t **out, size_t *len)
{
	Irnet__Receipt leaf = *rc;
	leaf.n_path = 0;
	leaf.path = NULL;
	leaf.has_batch_root = false;
	leaf.batch_root.data = NULL;
	leaf.batch_root.len = 0;
	size_t n = irnet__receipt__get_packed_size(&leaf);
	uint8_t *b = malloc(n ? n : 1);
	if (b == NULL)
		return IRN_ERR_NOMEM;
	irnet__receipt__pack(&leaf, b);
	*out = b;
	*len = n;
	return IRN_OK;
}

const char *
irn_receipt_decode(const uint8_t *b, size_t len, Irnet__Receipt **out)
{
	if (out)
		*out = NULL;
	if (len > IRN_MAX_RECEIPT)
		return N_("receipt too large");
	Irnet__Receipt *r = irnet__receipt__unpack(NULL, len, b);
	if (r == NULL)
		return N_("receipt does not decode");
	const char *why = NULL;
	if (!irn_pb_canonical(&r->base, b, len))
		why = N_("receipt not canonical");
	else if (r->envelope_hash.len != IRN_HASH_LEN || r->message_id.len != IRN_MSGID_LEN ||
		 !irn_member_id_ok(r->sender) || r->ledger_index == 0)
		why = N_("bad receipt");
	else if (r->n_path > IRN_MERKLE_MAX_PATH)
		why = N_("inclusion path too long");
	else if (!r->has_batch_root || r->batch_root.len == 0)
		why = N_("receipt without a batch root");
	for (size_t i = 0; why == NULL && i < r->n_path; i++)
		if (r->path[i].len != IRN_HASH_LEN)
			why = N_("bad inclusion path");
	if (why || out == NULL)
		irnet__receipt__free_unpacked(r, NULL);
	else
		*out = r;
	return why;
}

const char *
irn_batch_root_validate(const uint8_t *p, size_t len)
{
	Irnet__BatchRoot *br = irnet__batch_root__unpack(NULL, len, p);
	if (br == NULL)
		return N_("batch root does not decode");
	const char *why = NULL;
	if (!irn_pb_canonical(&br->base, p, len))
		why = N_("batch root not canonical");
	else if (br->root.len != IRN_HASH_LEN || br->first_index == 0 || br->count == 0 ||
		 br->count > IRN_MERKLE_MAX_LEAVES || br->first_index > UINT64_MAX - br->count ||
		 (br->has_roster_hash && br->roster_hash.len != IRN_HASH_LEN))
		why = N_("bad batch root");
	irnet__batch_root__free_unpacked(br, NULL);
	return why;
}

/* ---- the cache of verified batch roots ---- */

struct irn_root_cache {
	pthread_mutex_t mu;
	size_t slots;
	struct slot { uint8_t key[IRN_HASH_LEN]; bool used; int64_t at; } *s;
	_Atomic uint64_t verified;
};

irn_root_cache *
irn_root_cache_new(size_t slots)
{
	irn_root_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->slots = slots ? slots : 1;
	c->s = calloc(c->slots, sizeof *c->s);
	if (c->s == NULL || pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c->s);
		free(c);
		return NULL;
	}
	return c;
}

void
irn_root_cache_free(irn_root_cache **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	pthread_mutex_destroy(&(*cp)->mu);
	free((*cp)->s);
	free(*cp);
	*cp = NULL;
}

uint64_t
irn_root_cache_verified(const irn_root_cache *c)
{
	return c ? atomic_load(&((irn_root_cache *)c)->verified) : 0;
}

/* A check at a moving clock (at_ms != 0) is reused for a minute at most. */
#define CACHE_CLOCK_MS 60000

static struct slot *
cache_slot(irn_root_cache *c, const uint8_t key[IRN_HASH_LEN])
{
	uint64_t v;
	memcpy(&v, key, sizeof v);
	return &c->s[v % c->slots];
}

static bool
cache_has(irn_root_cache *c, const uint8_t key[IRN_HASH_LEN], int64_t at_ms)
{
	if (c == NULL)
		return false;
	pthread_mutex_lock(&c->mu);
	struct slot *s = cache_slot(c, key);
	bool hit = s->used && !memcmp(s->key, key, IRN_HASH_LEN) &&
		   (at_ms == 0 || (at_ms - s->at < CACHE_CLOCK_MS && s->at - at_ms < CACHE_CLOCK_MS));
	pthread_mutex_unlock(&c->mu);
	return hit;
}

static void
cache_put(irn_root_cache *c, const uint8_t key[IRN_HASH_LEN], int64_t at_ms)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	struct slot *s = cache_slot(c, key);
	memcpy(s->key, key, IRN_HASH_LEN);
	s->used = true;
	s->at = at_ms;
	pthread_mutex_unlock(&c->mu);
}

static irn_receipt_status
fail(irn_refusal *why, irn_receipt_status st, unsigned code, const char *reason)
{
	why->code = code;
	why->reason = reason;
	return st;
}

irn_receipt_status
irn_receipt_check(const irn_roster *r, const char *network, const char *broker_id,
		  const uint8_t *b, size_t len, int64_t now_ms, int64_t at_ms, irn_root_cache *cache,
		  Irnet__Receipt **out, irn_refusal *why)
{
	if (out)
		*out = NULL;
	why->code = 0;
	why->reason = NULL;
	Irnet__Receipt *rc = NULL;
	const char *bad = irn_receipt_decode(b, len, &rc);
	if (bad)
		return fail(why, IRN_RECEIPT_BAD, IRNET__ERROR_CODE__ERR_MALFORMED, bad);
	irn_receipt_status st = IRN_RECEIPT_BAD;
	Irnet__Envelope *env = NULL;
	Irnet__Body *body = NULL;
	Irnet__BatchRoot *br = NULL;
	irn_msg *m = NULL;
	uint8_t *leaf = NULL;
	size_t leaflen = 0;
	/* Which check of which batch root this is: the envelope bytes, the
	 * roster, the required signer and whether the clock takes part. */
	uint8_t key[IRN_HASH_LEN];
	{
		uint8_t eh[IRN_HASH_LEN], mode[2] = { at_ms != 0, now_ms != 0 };
		irn_hash(eh, rc->batch_root.data, rc->batch_root.len);
		crypto_generichash_state hs;
		crypto_generichash_init(&hs, NULL, 0, IRN_HASH_LEN);
		crypto_generichash_update(&hs, eh, sizeof eh);
		crypto_generichash_update(&hs, r->hash, IRN_HASH_LEN);
		if (broker_id)
			crypto_generichash_update(&hs, (const uint8_t *)broker_id, strlen(broker_id) + 1);
		crypto_generichash_update(&hs, mode, sizeof mode);
		crypto_generichash_final(&hs, key, sizeof key);
	}
	env = rc->batch_root.len <= IRN_MAX_ENVELOPE
		      ? irnet__envelope__unpack(NULL, rc->batch_root.len, rc->batch_root.data) : NULL;
	body = env ? irnet__body__unpack(NULL, env->body.len, env->body.data) : NULL;
	if (body == NULL || body->header == NULL) {
		fail(why, IRN_RECEIPT_REFUSED, IRNET__ERROR_CODE__ERR_MALFORMED, N_("batch root does not decode"));
		goto out;
	}
	/* The path first (cheap, no signature), against the root as written ... */
	br = irnet__batch_root__unpack(NULL, body->payload.len, body->payload.data);
	if (br == NULL || body->header->kind != IRNET__KIND__KIND_RECEIPT ||
	    irn_batch_root_validate(body->payload.data, body->payload.len) != NULL) {
		fail(why, IRN_RECEIPT_BAD, IRNET__ERROR_CODE__ERR_MALFORMED, N_("bad batch root"));
		goto out;
	}
	if (rc->ledger_index < br->first_index || rc->ledger_index - br->first_index >= br->count) {
		fail(why, IRN_RECEIPT_BAD, IRNET__ERROR_CODE__ERR_MALFORMED,
		     N_("receipt outside its batch"));
		goto out;
	}
	if (br->roster_version != rc->roster_version) {
		fail(why, IRN_RECEIPT_BAD, IRNET__ERROR_CODE__ERR_MALFORMED,
		     N_("receipt and batch root name different rosters"));
		goto out;
	}
	if (irn_receipt_leaf(rc, &leaf, &leaflen) != IRN_OK) {
		fail(why, IRN_RECEIPT_BAD, IRNET__ERROR_CODE__ERR_STORAGE, N_("out of memory"));
		goto out;
	}
	uint8_t lh[IRN_HASH_LEN];
	const uint8_t *path[IRN_MERKLE_MAX_PATH];
	irn_merkle_leaf(lh, leaf, leaflen);
	for (size_t i = 0; i < rc->n_path; i++)
		path[i] = rc->path[i].data;
	if (!irn_merkle_verify(br->root.data, lh, rc->ledger_index - br->first_index, br->count, path,
			       rc->n_path)) {
		fail(why, IRN_RECEIPT_BAD, IRNET__ERROR_CODE__ERR_MALFORMED,
		     N_("inclusion path does not lead to the signed batch root"));
		goto out;
	}
	/* ... then the batch root's signature, once per batch with a cache. */
	if (!cache_has(cache, key, at_ms)) {
		/* Currency at the batch root's own signing time unless told otherwise
		 * (one check, not a failed one at 0 and a second). */
		int64_t at = at_ms ? at_ms : body->header->created_ms;
		if (irn_envelope_check(r, network, rc->batch_root.data, rc->batch_root.len, NULL, now_ms,
				       at, &m, why) != 0) {
			st = IRN_RECEIPT_REFUSED;
			goto out;
		}
		if (m->h->kind != IRNET__KIND__KIND_RECEIPT ||
		    !irn_member_has_role(m->signer, IRNET__ROLE__ROLE_BROKER) ||
		    (broker_id && strcmp(m->signer->id, broker_id) != 0)) {
			st = fail(why, IRN_RECEIPT_NOT_BROKER, IRNET__ERROR_CODE__ERR_FORBIDDEN_KIND,
				  N_("receipt not signed by a broker"));
			goto out;
		}
		if (cache) {
			atomic_fetch_add(&cache->verified, 1);
			cache_put(cache, key, at_ms);
		}
	}
	st = IRN_RECEIPT_OK;
	why->code = 0;
	why->reason = NULL;
out:
	free(leaf);
	irn_msg_free(&m);
	if (br)
		irnet__batch_root__free_unpacked(br, NULL);
	if (body)
		irnet__body__free_unpacked(body, NULL);
	if (env)
		irnet__envelope__free_unpacked(env, NULL);
	if (st == IRN_RECEIPT_OK && out)
		*out = rc;
	else
		irnet__receipt__free_unpacked(rc, NULL);
	return st;
}
