/* canon.h - protobuf is not canonical; irnet's signed and hashed messages
 * must be. A message is accepted only if it holds no unknown fields (at any
 * depth) and re-encodes to exactly the bytes it came from: no reordered,
 * repeated or padded fields, no embedded NULs hidden behind C strings, no
 * bytes that nobody signed riding along. */
#ifndef IRNET_CANON_H
#define IRNET_CANON_H
#include "irnet.h"
#include <protobuf-c/protobuf-c.h>

bool irn_pb_canonical(const ProtobufCMessage *m, const uint8_t *buf, size_t len);
#endif
