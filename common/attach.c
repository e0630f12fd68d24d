/* attach.c - inert attachment chunks (attach.h). */
#include "attach.h"
#include "canon.h"
#include "validate.h"
#include "irnet.pb-c.h"

#include <string.h>
#include <sodium.h>

void
irn_inert_xor(uint8_t *out, const uint8_t *in, size_t len, uint64_t offset,
	      const uint8_t hash[IRN_HASH_LEN])
{
	static const char label[] = "IRNET-INERT-V1";
	uint8_t key[crypto_stream_xchacha20_KEYBYTES];
	crypto_generichash(key, sizeof key, (const uint8_t *)label, sizeof label - 1, NULL, 0);
	crypto_stream_xchacha20_xor_ic(out, in, len, hash, offset / 64, key);
}

uint32_t
irn_attach_count(uint64_t size)
{
	return (uint32_t)((size + IRN_ATTACH_CHUNK - 1) / IRN_ATTACH_CHUNK);
}

bool
irn_attach_name_ok(const char *name)
{
	return name && *name && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/') && !strchr(name, '\\') && name[0] != '-' &&
	       irn_text_check(name, strlen(name), IRN_MAX_SHORT_TEXT, 0) == NULL;
}

const char *
irn_attachment_ref_validate(const Irnet__AttachmentRef *a)
{
	if (a == NULL || !irn_attach_name_ok(a->name))
		return N_("bad attachment file name");
	if (a->hash.len != IRN_HASH_LEN)
		return N_("attachment hash must be 32 bytes");
	if (a->size == 0 || a->size > IRN_ATTACH_MAX)
		return N_("attachment size out of range");
	if (a->media_type && irn_text_check(a->media_type, strlen(a->media_type), IRN_MAX_SHORT_TEXT, 0))
		return N_("bad attachment media type");
	return NULL;
}

const char *
irn_attachment_validate(const uint8_t *p, size_t len)
{
	Irnet__AttachmentChunk *c = irnet__attachment_chunk__unpack(NULL, len, p);
	if (c == NULL)
		return N_("attachment chunk does not decode");
	const char *w = NULL;
	if (!irn_pb_canonical(&c->base, p, len))
		w = N_("attachment chunk not canonical");
	else if (c->hash.len != IRN_HASH_LEN)
		w = N_("attachment hash must be 32 bytes");
	else if (!irn_attach_name_ok(c->name))
		w = N_("bad attachment file name");
	else if (c->size == 0 || c->size > IRN_ATTACH_MAX)
		w = N_("attachment size out of range");
	else if (c->count != irn_attach_count(c->size))
		w = N_("attachment chunk count does not match its size");
	else if (c->index >= c->count)
		w = N_("attachment chunk index out of range");
	else if (c->data.len != (c->index + 1 < c->count
					 ? IRN_ATTACH_CHUNK
					 : c->size - (uint64_t)c->index * IRN_ATTACH_CHUNK))
		w = N_("attachment chunk has the wrong length");
	else if (c->ref && (c->ref->incident.len != IRN_MSGID_LEN || !irn_member_id_ok(c->ref->reporter)))
		w = N_("bad incident reference");
	irnet__attachment_chunk__free_unpacked(c, NULL);
	return w;
}
