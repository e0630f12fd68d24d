/* crypto.h - domain-separated Ed25519 signatures over exact bytes. */
#ifndef IRNET_CRYPTO_H
#define IRNET_CRYPTO_H
#include "irnet.h"

#define IRN_DOMAIN_ENVELOPE "IRNET-ENVELOPE-V1"
#define IRN_DOMAIN_ROSTER   "IRNET-ROSTER-V1"
#define IRN_DOMAIN_ROTATION "IRNET-AUTHORITY-ROTATION-V1"

/* message = domain || 0x00 || u8(len(network)) || network || data */
irn_err irn_domain_sign(uint8_t sig[IRN_SIG_LEN], const char *domain, const char *network,
			const uint8_t *data, size_t len, const uint8_t sk[64]) IRN_MUST_CHECK;
irn_err irn_domain_verify(const uint8_t sig[IRN_SIG_LEN], const char *domain,
			  const char *network, const uint8_t *data, size_t len,
			  const uint8_t pk[IRN_PK_LEN]) IRN_MUST_CHECK;
void irn_hash(uint8_t out[IRN_HASH_LEN], const uint8_t *data, size_t len);
#endif
