/* hmap.c - see hmap.h. Chained buckets, power-of-two table, FNV-1a. */
#include "hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct hmap_node {
	hmap_node *next;
	uint64_t hash;
	void *val;
	size_t klen;
	unsigned char key[];
};

static uint64_t
fnv(const void *k, size_t n)
{
	const unsigned char *p = k;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static hmap_node **
slot(const hmap *m, const void *key, size_t klen, uint64_t h)
{
	hmap_node **pp = &m->b[h & (m->nb - 1)];
	while (*pp && !((*pp)->hash == h && (*pp)->klen == klen && !memcmp((*pp)->key, key, klen)))
		pp = &(*pp)->next;
	return pp;
}

void *
hmap_get(const hmap *m, const void *key, size_t klen)
{
	if (m->nb == 0)
		return NULL;
	hmap_node *n = *slot(m, key, klen, fnv(key, klen));
	return n ? n->val : NULL;
}

static bool
grow(hmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : 64;
	hmap_node **b = calloc(nb, sizeof *b);
	if (b == NULL)
		return false;
	for (size_t i = 0; i < m->nb; i++)
		for (hmap_node *n = m->b[i], *next; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return true;
}

bool
hmap_put(hmap *m, const void *key, size_t klen, void *val)
{
	if ((m->n + 1 > m->nb) && !grow(m) && m->nb == 0)
		return false;
	uint64_t h = fnv(key, klen);
	hmap_node **pp = slot(m, key, klen, h);
	if (*pp) {
		(*pp)->val = val;
		return true;
	}
	hmap_node *n = malloc(sizeof *n + klen);
	if (n == NULL)
		return false;
	n->next = NULL;
	n->hash = h;
	n->val = val;
	n->klen = klen;
	memcpy(n->key, key, klen);
	*pp = n;
	m->n++;
	return true;
}

void *
hmap_del(hmap *m, const void *key, size_t klen)
{
	if (m->nb == 0)
		return NULL;
	hmap_node **pp = slot(m, key, klen, fnv(key, klen));
	hmap_node *n = *pp;
	if (n == NULL)
		return NULL;
	void *v = n->val;
	*pp = n->next;
	free(n);
	m->n--;
	return v;
}

void
hmap_free(hmap *m)
{
	for (size_t i = 0; i < m->nb; i++)
		for (hmap_node *n = m->b[i], *next; n; n = next) {
			next = n->next;
			free(n);
		}
	free(m->b);
	m->b = NULL;
	m->nb = m->n = 0;
}

void
hmap_free_values(hmap *m)
{
	for (size_t i = 0; i < m->nb; i++)
		for (hmap_node *n = m->b[i]; n; n = n->next)
			free(n->val);
	hmap_free(m);
}

void *
hmap_gets(const hmap *m, const char *key)
{
	return hmap_get(m, key, strlen(key));
}

bool
hmap_puts(hmap *m, const char *key, void *val)
{
	return hmap_put(m, key, strlen(key), val);
}

hmap_node *
hmap_node_next(const hmap_node *n)
{
	return n->next;
}

void *
hmap_node_val(const hmap_node *n)
{
	return n->val;
}
