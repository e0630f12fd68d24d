/* fuzz_body - Body decoding, header validation and payload validation for
 * the header's kind and for every value of the Kind enum, unsigned (the
 * part of irn_envelope_check a fuzzer cannot reach past the signature). */
#include "fuzz_common.h"
#include "envelope.h"
#include "authz.h"
#include "validate.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Irnet__Body *b = irnet__body__unpack(NULL, size, data);
	if (b == NULL)
		return 0;
	const Irnet__Header *h = b->header;
	FUZZ_CHECK(h != NULL); /* required field */
	const char *bad = irn_header_validate(h, FUZZ_NOW_MS);
	const char *bad0 = irn_header_validate(h, 0);
	if (bad == NULL) {
		FUZZ_CHECK(bad0 == NULL); /* no clock: never stricter */
		FUZZ_CHECK(irn_kind_known(h->kind) && irn_member_id_ok(h->sender));
		(void)irn_msg_addressed_to(h, FUZZ_ID_COORDINATOR,
					   IRN_ROLE_BIT(IRNET__ROLE__ROLE_COORDINATOR));
	}
	(void)irn_payload_validate(h->kind, b->payload.data, b->payload.len);
	const ProtobufCEnumDescriptor *kd = &irnet__kind__descriptor;
	for (unsigned i = 0; i < kd->n_values; i++)
		(void)irn_payload_validate((unsigned)kd->values[i].value, b->payload.data,
					   b->payload.len);
	irnet__body__free_unpacked(b, NULL);
	return 0;
}
