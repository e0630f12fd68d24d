/* receipts.c - one signed Merkle root per commit batch (receipts.h). */
#include "receipts.h"
#include "merkle.h"
#include "wire.h"
#include "ledger.h"
#include "home.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rc_entry {
	char author[IRN_MAX_ID + 1];  /* connection member (= sender) */
	uint64_t gen;
	uint8_t *bytes;               /* exact envelope bytes (owned) */
	size_t len;
	irn_msg *msg;                 /* the checked message (owned) */
	int64_t accepted_ms;
	uint64_t idx;
	uint64_t roster_version;
	uint8_t roster_hash[IRN_HASH_LEN];
	uint64_t expected;            /* 0: the sequence was the expected one */
};

struct rc_waiter {
	char member[IRN_MAX_ID + 1];
	uint64_t gen;
	size_t entry;
};

void
receipts_init(receipts *rb)
{
	memset(rb, 0, sizeof *rb);
}

static void
clear(receipts *rb)
{
	for (size_t i = 0; i < rb->n; i++) {
		free(rb->e[i].bytes);
		irn_msg_free(&rb->e[i].msg);
	}
	rb->n = 0;
	rb->nw = 0;
}

void
receipts_free(receipts *rb)
{
	clear(rb);
	free(rb->e);
	free(rb->w);
	rb->e = NULL;
	rb->w = NULL;
	rb->cap = rb->capw = 0;
}

rc_dup
receipts_duplicate(receipts *rb, const char *sender, const uint8_t id[IRN_MSGID_LEN],
		   const uint8_t *bytes, size_t len, const char *member, uint64_t gen)
{
	for (size_t i = 0; i < rb->n; i++) {
		const Irnet__Header *h = rb->e[i].msg->h;
		if (strcmp(h->sender, sender) != 0 || memcmp(h->message_id.data, id, IRN_MSGID_LEN) != 0)
			continue;
		if (rb->e[i].len != len || memcmp(rb->e[i].bytes, bytes, len) != 0)
			return RC_CONFLICT;
		if (rb->nw == rb->capw) {
			size_t nc = rb->capw ? 2 * rb->capw : 16;
			rc_waiter *nw = realloc(rb->w, nc * sizeof *nw);
			if (nw == NULL)
				return RC_SAME; /* no reply then: the author resends */
			rb->w = nw;
			rb->capw = nc;
		}
		rc_waiter *w = &rb->w[rb->nw++];
		snprintf(w->member, sizeof w->member, "%s", member);
		w->gen = gen;
		w->entry = i;
		return RC_SAME;
	}
	return RC_NONE;
}

irn_err
receipts_add(receipts *rb, irn_ledger *l, job *j, int64_t now_ms, const irn_roster *r,
	     uint64_t expected, uint64_t *idx)
{
	if (rb->n >= IRN_MERKLE_MAX_LEAVES)
		return IRN_ERR_TOOBIG;
	if (rb->n == rb->cap) {
		size_t nc = rb->cap ? 2 * rb->cap : 256;
		rc_entry *ne = realloc(rb->e, nc * sizeof *ne);
		if (ne == NULL)
			return IRN_ERR_NOMEM;
		rb->e = ne;
		rb->cap = nc;
	}
	rc_entry *e = &rb->e[rb->n];
	memset(e, 0, sizeof *e);
	snprintf(e->author, sizeof e->author, "%s", j->member);
	e->gen = j->gen;
	e->bytes = j->bytes;
	e->len = j->len;
	e->msg = j->msg;
	j->bytes = NULL;
	j->msg = NULL;
	e->accepted_ms = now_ms;
	e->idx = irn_ledger_next_index(l) + rb->n;
	e->roster_version = r->version;
	memcpy(e->roster_hash, r->hash, IRN_HASH_LEN);
	e->expected = expected;
	*idx = e->idx;
	rb->n++;
	return IRN_OK;
}

/* The receipt facts (fields 1-8) of a held message. */
static void
facts(const rc_entry *e, Irnet__Receipt *rc)
{
	irnet__receipt__init(rc);
	rc->envelope_hash.data = (uint8_t *)e->msg->hash;
	rc->envelope_hash.len = IRN_HASH_LEN;
	rc->message_id = e->msg->h->message_id;
	rc->sender = e->msg->h->sender;
	rc->accepted_ms = e->accepted_ms;
	rc->ledger_index = e->idx;
	rc->roster_version = e->roster_version;
	rc->has_roster_hash = true;
	rc->roster_hash.data = (uint8_t *)e->roster_hash;
	rc->roster_hash.len = IRN_HASH_LEN;
	if (e->expected) {
		rc->has_expected_sequence = true;
		rc->expected_sequence = e->expected;
	}
}

char *
join_members(const Irnet__Header *h)
{
	size_t n = 2;
	for (size_t i = 0; i < h->n_to_members; i++)
		n += strlen(h->to_members[i]) + 1;
	char *s = malloc(n), *p = s;
	if (s == NULL)
		return NULL;
	*p++ = '\n';
	for (size_t i = 0; i < h->n_to_members; i++) {
		size_t l = strlen(h->to_members[i]);
		memcpy(p, h->to_members[i], l);
		p += l;
		*p++ = '\n';
	}
	*p = 0;
	return s;
}

static job *
receipt_job(const char *member, uint64_t gen, const uint8_t *rc, size_t rlen)
{
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_RECEIPT;
	p.receipt.data = (uint8_t *)rc;
	p.receipt.len = rlen;
	size_t pl;
	uint8_t *pb = packet_pack(&p, &pl);
	job *o = pb ? job_new(J_OUT, member, gen) : NULL;
	if (o == NULL) {
		free(pb);
		return NULL;
	}
	o->bytes = pb;
	o->len = pl;
	return o;
}

irn_err
receipts_seal(receipts *rb, shared *sh, void (*hold)(void *ctx, job *j), void *ctx)
{
	if (rb->n == 0)
		return IRN_OK;
	irn_home *h = sh->h;
	size_t n = rb->n;
	irn_err e = IRN_OK;
	uint8_t (*leaves)[IRN_HASH_LEN] = malloc(n * IRN_HASH_LEN);
	uint8_t **rcs = calloc(n, sizeof *rcs);   /* each message's receipt bytes */
	size_t *rlens = calloc(n, sizeof *rlens);
	job **out = calloc(n + rb->nw, sizeof *out);
	uint8_t *root_env = NULL;
	size_t root_len = 0, nout = 0;
	irn_merkle t = { 0 };
	if (leaves == NULL || rcs == NULL || rlens == NULL || out == NULL) {
		e = IRN_ERR_NOMEM;
		goto out;
	}
	/* 1. the leaves, in ledger index order */
	for (size_t i = 0; i < n && e == IRN_OK; i++) {
		Irnet__Receipt rc;
		facts(&rb->e[i], &rc);
		uint8_t *leaf;
		size_t ll;
		e = irn_receipt_leaf(&rc, &leaf, &ll);
		if (e == IRN_OK) {
			irn_merkle_leaf(leaves[i], leaf, ll);
			free(leaf);
		}
	}
	if (e == IRN_OK)
		e = irn_merkle_build(&t, (const uint8_t (*)[IRN_HASH_LEN])leaves, n);
	if (e != IRN_OK)
		goto out;
	/* 2. one signature: the batch root */
	Irnet__BatchRoot br = IRNET__BATCH_ROOT__INIT;
	br.root.data = (uint8_t *)irn_merkle_root(&t);
	br.root.len = IRN_HASH_LEN;
	br.first_index = rb->e[0].idx;
	br.count = (uint32_t)n;
	br.roster_version = rb->e[0].roster_version;
	br.has_roster_hash = true;
	br.roster_hash.data = rb->e[0].roster_hash;
	br.roster_hash.len = IRN_HASH_LEN;
	uint8_t bp[256];
	size_t bn = irnet__batch_root__get_packed_size(&br);
	if (bn > sizeof bp) {
		e = IRN_ERR_TOOBIG;
		goto out;
	}
	irnet__batch_root__pack(&br, bp);
	e = irn_broker_reply(h->keys, h->cfg.network, h->cfg.id, NULL, IRNET__KIND__KIND_RECEIPT,
			     atomic_fetch_add(&sh->self_seq, 1) + 1, NULL, false, bp, bn, &root_env,
			     &root_len);
	if (e != IRN_OK)
		goto out;
	/* 3. each message with its receipt = leaf facts + path + signed root */
	for (size_t i = 0; i < n && e == IRN_OK; i++) {
		rc_entry *x = &rb->e[i];
		uint8_t path[IRN_MERKLE_MAX_PATH][IRN_HASH_LEN];
		ProtobufCBinaryData pb[IRN_MERKLE_MAX_PATH];
		size_t plen = irn_merkle_path(&t, i, path);
		Irnet__Receipt rc;
		facts(x, &rc);
		for (size_t k = 0; k < plen; k++) {
			pb[k].data = path[k];
			pb[k].len = IRN_HASH_LEN;
		}
		rc.n_path = plen;
		rc.path = pb;
		rc.has_batch_root = true;
		rc.batch_root.data = root_env;
		rc.batch_root.len = root_len;
		rlens[i] = irnet__receipt__get_packed_size(&rc);
		rcs[i] = malloc(rlens[i]);
		if (rcs[i] == NULL) {
			e = IRN_ERR_NOMEM;
			break;
		}
		irnet__receipt__pack(&rc, rcs[i]);
		const Irnet__Header *hd = x->msg->h;
		char *members = join_members(hd);
		uint32_t roles = 0;
		for (size_t k = 0; k < hd->n_to_roles; k++)
			roles |= IRN_ROLE_BIT(hd->to_roles[k]);
		if (members == NULL) {
			e = IRN_ERR_NOMEM;
			break;
		}
		irn_entry ent = { .type = IRN_ENTRY_MESSAGE, .accepted_ms = x->accepted_ms,
				  .roster_version = x->roster_version, .sender = hd->sender,
				  .message_id = hd->message_id.data, .kind = hd->kind,
				  .sequence = hd->sequence, .data = x->bytes, .len = x->len,
				  .receipt = rcs[i], .rlen = rlens[i], .to_roles = roles,
				  .to_members = members };
		uint64_t got = 0;
		e = irn_ledger_append(h->ledger, &ent, &got);
		free(members);
		if (e == IRN_OK && got != x->idx)
			e = IRN_ERR_INVALID; /* someone else appended: the indexes are wrong */
		if (e == IRN_OK && (out[nout] = receipt_job(x->author, x->gen, rcs[i], rlens[i])))
			nout++;
	}
	for (size_t k = 0; k < rb->nw && e == IRN_OK; k++)
		if ((out[nout] = receipt_job(rb->w[k].member, rb->w[k].gen, rcs[rb->w[k].entry],
					     rlens[rb->w[k].entry])))
			nout++;
	if (e == IRN_OK) {
		rb->batches++;
		rb->leaves += n;
		log_debug("batch %llu..%llu sealed: %zu receipts under one signature",
			  (unsigned long long)rb->e[0].idx, (unsigned long long)rb->e[n - 1].idx, n);
		for (size_t k = 0; k < nout; k++)
			hold(ctx, out[k]);
		nout = 0;
		clear(rb);
	}
out:
	for (size_t k = 0; k < nout; k++)
		job_free(out[k]);
	for (size_t i = 0; rcs && i < n; i++)
		free(rcs[i]);
	irn_merkle_free(&t);
	free(root_env);
	free(leaves);
	free(rcs);
	free(rlens);
	free(out);
	return e;
}

void
receipts_abort(receipts *rb, void (*each)(void *ctx, const char *member, uint64_t gen,
					  const uint8_t *msgid, bool exercise), void *ctx)
{
	for (size_t i = 0; i < rb->n; i++)
		each(ctx, rb->e[i].author, rb->e[i].gen, rb->e[i].msg->h->message_id.data,
		     rb->e[i].msg->h->exercise);
	clear(rb);
}
