/* keys.h - a member's secret keys: Ed25519 (signing) and X25519 (CURVE).
 *
 * The struct lives in sodium_malloc'd, mlocked memory and is wiped by
 * irn_keys_free. Secret key files are raw bytes, mode 0600, refused when
 * group/other have any access or the owner is not the current user.
 */
#ifndef IRNET_KEYS_H
#define IRNET_KEYS_H
#include "irnet.h"

typedef struct irn_keys {
	uint8_t sign_pk[IRN_PK_LEN];
	uint8_t sign_sk[64];
	uint8_t box_pk[IRN_PK_LEN];
	uint8_t box_sk[32];
} irn_keys;

/* *out is owned by the caller: release with irn_keys_free. */
irn_err irn_keys_generate(irn_keys **out) IRN_MUST_CHECK;
/* Writes DIR/sign.key, DIR/transport.key (0600) and DIR/sign.pub,
 * DIR/transport.pub (hex, 0644). Refuses to overwrite existing keys. */
irn_err irn_keys_save(const irn_keys *k, const char *dir) IRN_MUST_CHECK;
irn_err irn_keys_load(const char *dir, irn_keys **out) IRN_MUST_CHECK;
void irn_keys_free(irn_keys **k);

/* Read exactly n secret bytes from path, refusing wide permissions. */
irn_err irn_secret_read(const char *path, uint8_t *buf, size_t n) IRN_MUST_CHECK;

/* Key id: BLAKE2b-128 of the Ed25519 public key. */
void irn_key_id(uint8_t out[IRN_KEYID_LEN], const uint8_t pk[IRN_PK_LEN]);
/* Human fingerprint: 32 hex digits of the key id in groups of 4. */
void irn_fingerprint(char out[48], const uint8_t pk[IRN_PK_LEN]);
#endif
