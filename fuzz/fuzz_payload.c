/* fuzz_payload - the post-decode validator of every payload kind
 * (irn_payload_validate). The first input byte picks the kind, the rest is
 * the payload. Invariant: a typed payload that validates decodes with its
 * message type and re-encodes to exactly the same bytes (canonical form). */
#include "fuzz_common.h"
#include "envelope.h"
#include "irnet.pb-c.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	unsigned kind;
	const ProtobufCMessageDescriptor *desc; /* NULL: text payload */
} kinds[] = {
	{ IRNET__KIND__KIND_INITIAL_REPORT, &irnet__initial_report__descriptor },
	{ IRNET__KIND__KIND_PROGRESS_REPORT, &irnet__progress_report__descriptor },
	{ IRNET__KIND__KIND_RESPONSE_PLAN, &irnet__response_plan__descriptor },
	{ IRNET__KIND__KIND_DIRECTION_REQUEST, &irnet__direction_request__descriptor },
	{ IRNET__KIND__KIND_SUPPORT_REQUEST, &irnet__support_request__descriptor },
	{ IRNET__KIND__KIND_END_REPORT, &irnet__end_report__descriptor },
	{ IRNET__KIND__KIND_CLASSIFICATION, &irnet__transition__descriptor },
	{ IRNET__KIND__KIND_TASKING, &irnet__tasking__descriptor },
	{ IRNET__KIND__KIND_TASK_STATUS, &irnet__task_status__descriptor },
	{ IRNET__KIND__KIND_ALERT, &irnet__alert__descriptor },
	{ IRNET__KIND__KIND_ACKNOWLEDGEMENT, &irnet__acknowledgement__descriptor },
	{ IRNET__KIND__KIND_CHECKPOINT, &irnet__checkpoint__descriptor },
	{ IRNET__KIND__KIND_TRANSITION, &irnet__transition__descriptor },
	{ IRNET__KIND__KIND_PROFILE, &irnet__member_profile__descriptor },
	{ IRNET__KIND__KIND_ATTACHMENT, &irnet__attachment_chunk__descriptor },
	{ IRNET__KIND__KIND_NOTE, NULL },
	{ IRNET__KIND__KIND_RECEIPT, &irnet__receipt__descriptor },
	{ IRNET__KIND__KIND_ERROR, &irnet__error_reply__descriptor },
};

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
	if (size < 1)
		return 0;
	size_t k = data[0] % (sizeof kinds / sizeof kinds[0]);
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	const char *bad = irn_payload_validate(kinds[k].kind, p, n);
	if (bad != NULL || kinds[k].desc == NULL)
		return 0;
	/* Accepted typed payloads (the text kind has no schema) are canonical. */
	ProtobufCMessage *m = protobuf_c_message_unpack(kinds[k].desc, NULL, n, p);
	FUZZ_CHECK(m != NULL);
	size_t len = protobuf_c_message_get_packed_size(m);
	FUZZ_CHECK(len == n);
	uint8_t *out = malloc(len ? len : 1);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(protobuf_c_message_pack(m, out) == len && memcmp(out, p, n) == 0);
	free(out);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}
