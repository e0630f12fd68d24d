/* hmap.h - a small hash map from byte-string keys to pointers, for the
 * broker's per-member tables (sessions by member id, by TCP descriptor):
 * lookups stay O(1) with 10 000 connected members. Keys are copied; values
 * are owned by the caller. */
#ifndef IRNET_BROKER_HMAP_H
#define IRNET_BROKER_HMAP_H
#include <stdbool.h>
#include <stddef.h>

typedef struct hmap_node hmap_node;
typedef struct hmap {
	hmap_node **b;
	size_t nb, n;
} hmap;

void *hmap_get(const hmap *m, const void *key, size_t klen);
/* Insert or replace; false on allocation failure. */
bool hmap_put(hmap *m, const void *key, size_t klen, void *val);
/* Remove; returns the value that was there (or NULL). */
void *hmap_del(hmap *m, const void *key, size_t klen);
void hmap_free(hmap *m);
/* hmap_free, after free() of every value. */
void hmap_free_values(hmap *m);
/* Iteration: for (i < m->nb) for (n = m->b[i]; n; n = hmap_node_next(n)) */
hmap_node *hmap_node_next(const hmap_node *n);
void *hmap_node_val(const hmap_node *n);
/* String-key shorthands. */
void *hmap_gets(const hmap *m, const char *key);
bool hmap_puts(hmap *m, const char *key, void *val);
#endif
