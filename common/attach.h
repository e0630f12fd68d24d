/* attach.h - attachments (Form 03 logs, malware samples) as KIND_ATTACHMENT
 * chunks, stored inert.
 *
 * A file of size bytes and BLAKE2b-256 hash H travels as count =
 * ceil(size / IRN_ATTACH_CHUNK) chunks; chunk i carries bytes
 * [i * IRN_ATTACH_CHUNK, ...) XORed with the XChaCha20 keystream of key
 * BLAKE2b-256("IRNET-INERT-V1") and nonce H[0..24], starting at block
 * offset / 64. No file or database ever holds the original bytes, so an
 * antivirus never quarantines the ledger. This is not secrecy (TLP is). */
#ifndef IRNET_ATTACH_H
#define IRNET_ATTACH_H
#include "irnet.h"

#define IRN_ATTACH_CHUNK  (128 * 1024)
#define IRN_ATTACH_MAX    (64ull * 1024 * 1024) /* protocol cap; config attachment_max <= it */

/* XOR len bytes at file offset (a multiple of 64) with the inert keystream;
 * the same call both makes data inert and restores it. */
void irn_inert_xor(uint8_t *out, const uint8_t *in, size_t len, uint64_t offset,
		   const uint8_t hash[IRN_HASH_LEN]);
/* Chunk count for a file size (0 for size 0). */
uint32_t irn_attach_count(uint64_t size);
/* Structure of a packed AttachmentChunk: hash length, safe file name, size
 * within the protocol cap, count matching size, index in range, data length
 * exactly the chunk's. NULL if fine. */
const char *irn_attachment_validate(const uint8_t *p, size_t len);
/* A file name safe to show and to suggest for export: one line, no path. */
bool irn_attach_name_ok(const char *name);
/* An AttachmentRef in a report (Form 03, Form 04): safe name, 32-byte
 * hash, size within the protocol cap, media type one line. NULL if fine. */
struct Irnet__AttachmentRef;
const char *irn_attachment_ref_validate(const struct Irnet__AttachmentRef *a);
#endif
