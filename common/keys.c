/* keys.c - key generation, storage with strict modes, wiping. */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

irn_err
irn_keys_generate(irn_keys **out)
{
	irn_keys *k = sodium_malloc(sizeof *k);
	if (k == NULL)
		return IRN_ERR_NOMEM;
	crypto_sign_keypair(k->sign_pk, k->sign_sk);
	crypto_box_keypair(k->box_pk, k->box_sk);
	*out = k;
	return IRN_OK;
}

void
irn_keys_free(irn_keys **k)
{
	if (k && *k) {
		sodium_free(*k); /* wipes before release */
		*k = NULL;
	}
}

irn_err
irn_secret_read(const char *path, uint8_t *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? IRN_ERR_NOTFOUND : IRN_ERR_IO;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return IRN_ERR_IO;
	}
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		close(fd);
		log_error(_("refusing key file %s: mode %04o is wider than 0600 or not owned by this user"),
			  path, (unsigned)(st.st_mode & 07777));
		return IRN_ERR_PERM;
	}
	if ((size_t)st.st_size != n) {
		close(fd);
		return IRN_ERR_INVALID;
	}
	int rr = irn_read_full(fd, buf, n);
	close(fd);
	if (rr != 0) {
		sodium_memzero(buf, n);
		return IRN_ERR_IO;
	}
	return IRN_OK;
}

static irn_err
write_pub(const char *dir, const char *name, const uint8_t pk[IRN_PK_LEN])
{
	char path[4096], hex[2 * IRN_PK_LEN + 2];
	if (irn_snprintf(path, sizeof path, "%s/%s", dir, name) < 0)
		return IRN_ERR_INVALID;
	irn_hex(hex, pk, IRN_PK_LEN);
	hex[2 * IRN_PK_LEN] = '\n';
	return irn_write_file(path, (const uint8_t *)hex, 2 * IRN_PK_LEN + 1, 0644);
}

irn_err
irn_keys_save(const irn_keys *k, const char *dir)
{
	char p1[4096], p2[4096];
	struct stat st;
	if (irn_snprintf(p1, sizeof p1, "%s/sign.key", dir) < 0 ||
	    irn_snprintf(p2, sizeof p2, "%s/transport.key", dir) < 0)
		return IRN_ERR_INVALID;
	if (stat(p1, &st) == 0 || stat(p2, &st) == 0)
		return IRN_ERR_EXISTS;
	irn_err e = irn_write_file(p1, k->sign_sk, sizeof k->sign_sk, 0600);
	if (e == IRN_OK)
		e = irn_write_file(p2, k->box_sk, sizeof k->box_sk, 0600);
	if (e == IRN_OK)
		e = write_pub(dir, "sign.pub", k->sign_pk);
	if (e == IRN_OK)
		e = write_pub(dir, "transport.pub", k->box_pk);
	return e;
}

irn_err
irn_keys_load(const char *dir, irn_keys **out)
{
	char p[4096];
	irn_keys *k = sodium_malloc(sizeof *k);
	if (k == NULL)
		return IRN_ERR_NOMEM;
	irn_err e = IRN_OK;
	if (irn_snprintf(p, sizeof p, "%s/sign.key", dir) < 0)
		e = IRN_ERR_INVALID;
	if (e == IRN_OK)
		e = irn_secret_read(p, k->sign_sk, sizeof k->sign_sk);
	if (e == IRN_OK && irn_snprintf(p, sizeof p, "%s/transport.key", dir) < 0)
		e = IRN_ERR_INVALID;
	if (e == IRN_OK)
		e = irn_secret_read(p, k->box_sk, sizeof k->box_sk);
	if (e == IRN_OK) {
		crypto_sign_ed25519_sk_to_pk(k->sign_pk, k->sign_sk);
		crypto_scalarmult_base(k->box_pk, k->box_sk);
		*out = k;
		return IRN_OK;
	}
	sodium_free(k);
	return e;
}

void
irn_key_id(uint8_t out[IRN_KEYID_LEN], const uint8_t pk[IRN_PK_LEN])
{
	crypto_generichash(out, IRN_KEYID_LEN, pk, IRN_PK_LEN, NULL, 0);
}

void
irn_fingerprint(char out[48], const uint8_t pk[IRN_PK_LEN])
{
	uint8_t id[IRN_KEYID_LEN];
	char hex[2 * IRN_KEYID_LEN + 1];
	irn_key_id(id, pk);
	irn_hex(hex, id, sizeof id);
	size_t o = 0;
	for (size_t i = 0; i < 2 * IRN_KEYID_LEN; i++) {
		if (i && i % 4 == 0)
			out[o++] = ':';
		out[o++] = hex[i];
	}
	out[o] = 0;
}
