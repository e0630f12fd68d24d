/* seal.c - XChaCha20-Poly1305 once, crypto_box_seal of the key per recipient
 * (libsodium high-level APIs only). */
#include "seal.h"
#include "validate.h"
#include "canon.h"
#include "irnet.pb-c.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define SEAL_DOMAIN "IRNET-SEALED-V1"
#define KEYLEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define SEALED_KEYLEN (KEYLEN + crypto_box_SEALBYTES)

/* AD = domain 0x00 sender 0x00 msgid member\n ... */
static uint8_t *
make_ad(const char *sender, const uint8_t msgid[IRN_MSGID_LEN], char *const *ids, size_t n,
	size_t *len)
{
	size_t total = sizeof SEAL_DOMAIN + strlen(sender) + 1 + IRN_MSGID_LEN;
	for (size_t i = 0; i < n; i++)
		total += strlen(ids[i]) + 1;
	uint8_t *ad = malloc(total), *p = ad;
	if (ad == NULL)
		return NULL;
	memcpy(p, SEAL_DOMAIN, sizeof SEAL_DOMAIN); /* with its NUL */
	p += sizeof SEAL_DOMAIN;
	size_t sl = strlen(sender);
	memcpy(p, sender, sl);
	p += sl;
	*p++ = 0;
	memcpy(p, msgid, IRN_MSGID_LEN);
	p += IRN_MSGID_LEN;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(ids[i]);
		memcpy(p, ids[i], l);
		p += l;
		*p++ = '\n';
	}
	*len = total;
	return ad;
}

irn_err
irn_seal(const irn_roster *r, const char *sender, const uint8_t msgid[IRN_MSGID_LEN],
	 const char *const *ids, size_t n, const uint8_t *payload, size_t plen, uint8_t **out,
	 size_t *outlen)
{
	if (n == 0 || n > IRN_MAX_SEALED_KEYS || plen > IRN_MAX_PAYLOAD - 8192)
		return IRN_ERR_INVALID;
	uint8_t *key = sodium_malloc(KEYLEN);
	Irnet__SealedKey *sk = calloc(n, sizeof *sk);
	Irnet__SealedKey **skp = calloc(n, sizeof *skp);
	uint8_t (*sealed)[SEALED_KEYLEN] = calloc(n, sizeof *sealed);
	uint8_t *ct = malloc(plen + crypto_aead_xchacha20poly1305_ietf_ABYTES);
	size_t adlen = 0;
	uint8_t *ad = make_ad(sender, msgid, (char *const *)ids, n, &adlen);
	irn_err e = IRN_ERR_NOMEM;
	if (!key || !sk || !skp || !sealed || !ct || !ad)
		goto out;
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	for (size_t i = 0; i < n; i++) {
		const irn_member *m = irn_roster_find(r, ids[i]);
		if (m == NULL) {
			e = IRN_ERR_NOTFOUND;
			goto out;
		}
		if (crypto_box_seal(sealed[i], key, KEYLEN, m->transport_pk) != 0) {
			e = IRN_ERR_INVALID;
			goto out;
		}
		irnet__sealed_key__init(&sk[i]);
		sk[i].member = (char *)ids[i];
		sk[i].sealed.data = sealed[i];
		sk[i].sealed.len = SEALED_KEYLEN;
		skp[i] = &sk[i];
	}
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	randombytes_buf(nonce, sizeof nonce);
	unsigned long long ctlen = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, payload, plen, ad, adlen, NULL, nonce,
						   key);
	Irnet__Sealed s = IRNET__SEALED__INIT;
	s.nonce.data = nonce;
	s.nonce.len = sizeof nonce;
	s.ciphertext.data = ct;
	s.ciphertext.len = (size_t)ctlen;
	s.keys = skp;
	s.n_keys = n;
	*outlen = irnet__sealed__get_packed_size(&s);
	*out = malloc(*outlen);
	if (*out == NULL)
		goto out;
	irnet__sealed__pack(&s, *out);
	e = IRN_OK;
out:
	if (key)
		sodium_free(key);
	free(sk);
	free(skp);
	free(sealed);
	free(ct);
	free(ad);
	return e;
}

static Irnet__Sealed *
decode(const uint8_t *p, size_t len, const char **why)
{
	Irnet__Sealed *s = irnet__sealed__unpack(NULL, len, p);
	*why = NULL;
	if (s == NULL) {
		*why = N_("sealed payload does not decode");
		return NULL;
	}
	if (!irn_pb_canonical(&s->base, p, len))
		*why = N_("sealed payload is not in canonical form");
	else if (s->nonce.len != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
		*why = N_("bad nonce");
	else if (s->ciphertext.len < crypto_aead_xchacha20poly1305_ietf_ABYTES)
		*why = N_("ciphertext too short");
	else if (s->n_keys == 0 || s->n_keys > IRN_MAX_SEALED_KEYS)
		*why = N_("bad number of sealed keys");
	for (size_t i = 0; !*why && i < s->n_keys; i++)
		if (!irn_member_id_ok(s->keys[i]->member) || s->keys[i]->sealed.len != SEALED_KEYLEN)
			*why = N_("bad sealed key");
	if (*why) {
		irnet__sealed__free_unpacked(s, NULL);
		return NULL;
	}
	return s;
}

const char *
irn_sealed_validate(const uint8_t *p, size_t len)
{
	const char *why;
	Irnet__Sealed *s = decode(p, len, &why);
	if (s)
		irnet__sealed__free_unpacked(s, NULL);
	return why;
}

irn_err
irn_unseal(const irn_keys *k, const char *member, const char *sender,
	   const uint8_t msgid[IRN_MSGID_LEN], const uint8_t *p, size_t len, uint8_t **out,
	   size_t *outlen)
{
	const char *why;
	Irnet__Sealed *s = decode(p, len, &why);
	if (s == NULL)
		return IRN_ERR_INVALID;
	irn_err e = IRN_ERR_NOTFOUND;
	size_t adlen = 0;
	char **ids = calloc(s->n_keys, sizeof *ids);
	uint8_t *ad = NULL, *key = sodium_malloc(KEYLEN);
	if (ids == NULL || key == NULL) {
		e = IRN_ERR_NOMEM;
		goto out;
	}
	const Irnet__SealedKey *mine = NULL;
	for (size_t i = 0; i < s->n_keys; i++) {
		ids[i] = s->keys[i]->member;
		if (!strcmp(ids[i], member))
			mine = s->keys[i];
	}
	if (mine == NULL)
		goto out;
	e = IRN_ERR_SIGNATURE;
	if (crypto_box_seal_open(key, mine->sealed.data, mine->sealed.len, k->box_pk, k->box_sk) != 0)
		goto out;
	ad = make_ad(sender, msgid, ids, s->n_keys, &adlen);
	size_t cap = s->ciphertext.len - crypto_aead_xchacha20poly1305_ietf_ABYTES;
	*out = malloc(cap ? cap : 1);
	unsigned long long got = 0;
	if (ad == NULL || *out == NULL) {
		free(*out);
		e = IRN_ERR_NOMEM;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(*out, &got, NULL, s->ciphertext.data,
						       s->ciphertext.len, ad, adlen, s->nonce.data,
						       key) != 0) {
		free(*out);
		*out = NULL;
		goto out;
	}
	*outlen = (size_t)got;
	e = IRN_OK;
out:
	if (key)
		sodium_free(key);
	free(ids);
	free(ad);
	irnet__sealed__free_unpacked(s, NULL);
	return e;
}
