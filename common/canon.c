/* canon.c - strict decoding: no unknown fields, exact re-encoding. */
#include "canon.h"

#include <stdlib.h>
#include <string.h>

static bool
no_unknown_fields(const ProtobufCMessage *m)
{
	if (m == NULL)
		return true;
	if (m->n_unknown_fields != 0)
		return false;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		const char *base = (const char *)m;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(base + f->offset);
			for (size_t k = 0; k < n; k++)
				if (!no_unknown_fields(arr[k]))
					return false;
		} else {
			if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
			if (!no_unknown_fields(*(ProtobufCMessage *const *)(base + f->offset)))
				return false;
		}
	}
	return true;
}

bool
irn_pb_canonical(const ProtobufCMessage *m, const uint8_t *buf, size_t len)
{
	if (!no_unknown_fields(m) || protobuf_c_message_get_packed_size(m) != len)
		return false;
	uint8_t small[1024];
	uint8_t *out = len <= sizeof small ? small : malloc(len);
	if (out == NULL)
		return false;
	bool same = protobuf_c_message_pack(m, out) == len && memcmp(out, buf, len) == 0;
	if (out != small)
		free(out);
	return same;
}
