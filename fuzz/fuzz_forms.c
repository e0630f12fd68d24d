/* fuzz_forms - the forms branch's parsers: irn_fold and irn_display_width
 * (their own UTF-8 decoder), the Forms 01/02 JSON form through
 * irn_profile_from_json, and attachment chunks through their validator,
 * each checked against a property that must hold. */
#include "fuzz_common.h"
#include "attach.h"
#include "envelope.h"
#include "fold.h"
#include "profile.h"

#include <stdlib.h>
#include <string.h>

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
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	/* folding never lengthens, is idempotent, and leaves no upper-case ASCII */
	char *f = irn_fold(s);
	if (f) {
		FUZZ_CHECK(strlen(f) <= strlen(s));
		for (const char *p = f; *p; p++)
			FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
		char *ff = irn_fold(f);
		FUZZ_CHECK(ff && strcmp(f, ff) == 0);
		free(ff);
		free(f);
	}
	FUZZ_CHECK(irn_display_width(s) <= 2 * strlen(s));
	json_error_t jerr;
	json_t *form = json_loads(s, 0, &jerr);
	if (form) {
		uint8_t *out = NULL;
		size_t outlen = 0;
		char err[256];
		if (irn_profile_from_json(form, FUZZ_NOW_MS, &out, &outlen, err, sizeof err) == IRN_OK) {
			FUZZ_CHECK(irn_payload_validate(IRNET__KIND__KIND_PROFILE, out, outlen) == NULL);
			json_t *back = irn_profile_to_json(out, outlen);
			FUZZ_CHECK(back != NULL);
			json_decref(back);
			free(out);
		} else {
			FUZZ_CHECK(out == NULL && err[0] != '\0');
		}
		json_decref(form);
	}
	free(s);
	/* an accepted chunk decodes with exactly the data length it promises */
	if (irn_payload_validate(IRNET__KIND__KIND_ATTACHMENT, data, size) == NULL) {
		Irnet__AttachmentChunk *c = irnet__attachment_chunk__unpack(NULL, size, data);
		FUZZ_CHECK(c != NULL && c->index < c->count && c->data.len <= IRN_ATTACH_CHUNK);
		uint8_t *buf = malloc(c->data.len ? c->data.len : 1);
		if (buf) {
			irn_inert_xor(buf, c->data.data, c->data.len, (uint64_t)c->index * IRN_ATTACH_CHUNK,
				      c->hash.data);
			irn_inert_xor(buf, buf, c->data.len, (uint64_t)c->index * IRN_ATTACH_CHUNK, c->hash.data);
			FUZZ_CHECK(memcmp(buf, c->data.data, c->data.len) == 0);
			free(buf);
		}
		irnet__attachment_chunk__free_unpacked(c, NULL);
	}
	(void)irn_payload_validate(IRNET__KIND__KIND_PROFILE, data, size);
	(void)irn_payload_validate(IRNET__KIND__KIND_END_REPORT, data, size);
	return 0;
}
