/* crypto.c - domain-separated signatures (libsodium high-level API only). */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

static uint8_t *
domain_message(const char *domain, const char *network, const uint8_t *data, size_t len,
	       size_t *outlen)
{
	size_t dl = strlen(domain), nl = strlen(network);
	if (nl > 255 || len > SIZE_MAX - dl - nl - 2)
		return NULL;
	size_t n = dl + 2 + nl + len;
	uint8_t *m = malloc(n ? n : 1);
	if (m == NULL)
		return NULL;
	memcpy(m, domain, dl);
	m[dl] = 0;
	m[dl + 1] = (uint8_t)nl;
	memcpy(m + dl + 2, network, nl);
	if (len)
		memcpy(m + dl + 2 + nl, data, len);
	*outlen = n;
	return m;
}

irn_err
irn_domain_sign(uint8_t sig[IRN_SIG_LEN], const char *domain, const char *network,
		const uint8_t *data, size_t len, const uint8_t sk[64])
{
	size_t n;
	uint8_t *m = domain_message(domain, network, data, len, &n);
	if (m == NULL)
		return IRN_ERR_NOMEM;
	crypto_sign_detached(sig, NULL, m, n, sk);
	free(m);
	return IRN_OK;
}

irn_err
irn_domain_verify(const uint8_t sig[IRN_SIG_LEN], const char *domain, const char *network,
		  const uint8_t *data, size_t len, const uint8_t pk[IRN_PK_LEN])
{
	size_t n;
	uint8_t *m = domain_message(domain, network, data, len, &n);
	if (m == NULL)
		return IRN_ERR_NOMEM;
	int rc = crypto_sign_verify_detached(sig, m, n, pk);
	free(m);
	return rc == 0 ? IRN_OK : IRN_ERR_SIGNATURE;
}

void
irn_hash(uint8_t out[IRN_HASH_LEN], const uint8_t *data, size_t len)
{
	crypto_generichash(out, IRN_HASH_LEN, data, len, NULL, 0);
}
