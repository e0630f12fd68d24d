#define _GNU_SOURCE 1 /* memmem */
/* test_forms.c - inert attachment chunks, their validator, and Forms 01/02
 * member profiles (JSON <-> payload, validation). */
#include "helpers.h"
#include "attach.h"
#include "profile.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* ---- inert transform ---- */

static void
test_inert_roundtrip_and_offsets(void **state)
{
	(void)state;
	size_t n = 3 * IRN_ATTACH_CHUNK + 1000;
	uint8_t *orig = malloc(n), *whole = malloc(n), *parts = malloc(n), *back = malloc(n);
	assert_non_null(orig);
	assert_non_null(whole);
	assert_non_null(parts);
	assert_non_null(back);
	memset(orig, 'X', n); /* a constant input shows any keystream reuse */
	uint8_t hash[IRN_HASH_LEN];
	irn_hash(hash, orig, n);
	irn_inert_xor(whole, orig, n, 0, hash);
	/* chunk by chunk at their offsets gives the same bytes as all at once */
	for (size_t off = 0; off < n; off += IRN_ATTACH_CHUNK) {
		size_t k = n - off < IRN_ATTACH_CHUNK ? n - off : IRN_ATTACH_CHUNK;
		irn_inert_xor(parts + off, orig + off, k, off, hash);
	}
	assert_memory_equal(whole, parts, n);
	/* inert: no run of the original left, chunks differ from each other */
	assert_null(memmem(whole, n, "XXXXXXXX", 8));
	assert_memory_not_equal(whole, whole + IRN_ATTACH_CHUNK, 64);
	/* the same call restores it */
	irn_inert_xor(back, whole, n, 0, hash);
	assert_memory_equal(back, orig, n);
	/* another file's hash gives another keystream */
	hash[0] ^= 1;
	irn_inert_xor(back, orig, n, 0, hash);
	assert_memory_not_equal(back, whole, 64);
	free(orig);
	free(whole);
	free(parts);
	free(back);
}

static void
test_inert_known_answer(void **state)
{
	(void)state;
	/* key = BLAKE2b-256("IRNET-INERT-V1"), nonce = hash[0..24], counter 0:
	 * the transform of zeros is the raw XChaCha20 keystream. */
	uint8_t hash[IRN_HASH_LEN], key[32], want[64], got[64], zero[64] = { 0 };
	for (int i = 0; i < IRN_HASH_LEN; i++)
		hash[i] = (uint8_t)i;
	crypto_generichash(key, sizeof key, (const uint8_t *)"IRNET-INERT-V1", 14, NULL, 0);
	crypto_stream_xchacha20(want, sizeof want, hash, key);
	irn_inert_xor(got, zero, sizeof zero, 0, hash);
	assert_memory_equal(got, want, sizeof want);
	/* offset 128 KiB starts at block 2048 of the same stream */
	uint8_t *big = calloc(1, IRN_ATTACH_CHUNK + 64), *ks = malloc(IRN_ATTACH_CHUNK + 64);
	assert_non_null(big);
	assert_non_null(ks);
	crypto_stream_xchacha20(ks, IRN_ATTACH_CHUNK + 64, hash, key);
	irn_inert_xor(got, zero, 64, IRN_ATTACH_CHUNK, hash);
	assert_memory_equal(got, ks + IRN_ATTACH_CHUNK, 64);
	free(big);
	free(ks);
}

/* ---- attachment chunk validation ---- */

static uint8_t *
chunk(const char *name, uint64_t size, uint32_t index, uint32_t count, size_t dlen, size_t hlen,
      size_t *len)
{
	static uint8_t data[IRN_ATTACH_CHUNK + 10], hash[40];
	Irnet__AttachmentChunk c = IRNET__ATTACHMENT_CHUNK__INIT;
	c.hash.data = hash;
	c.hash.len = hlen;
	c.name = (char *)name;
	c.size = size;
	c.index = index;
	c.count = count;
	c.data.data = data;
	c.data.len = dlen;
	*len = irnet__attachment_chunk__get_packed_size(&c);
	uint8_t *p = malloc(*len + 8);
	assert_non_null(p);
	irnet__attachment_chunk__pack(&c, p);
	return p;
}

static const char *
chk_chunk(const char *name, uint64_t size, uint32_t index, uint32_t count, size_t dlen, size_t hlen)
{
	size_t len;
	uint8_t *p = chunk(name, size, index, count, dlen, hlen, &len);
	const char *why = irn_payload_validate(IRNET__KIND__KIND_ATTACHMENT, p, len);
	free(p);
	return why;
}

static void
test_attachment_validate(void **state)
{
	(void)state;
	const uint64_t C = IRN_ATTACH_CHUNK;
	assert_null(chk_chunk("eicar.com", 68, 0, 1, 68, 32));
	assert_null(chk_chunk("log.txt", 2 * C + 5, 0, 3, C, 32));
	assert_null(chk_chunk("log.txt", 2 * C + 5, 2, 3, 5, 32));
	assert_null(chk_chunk("nhật ký máy chủ.log", C, 0, 1, C, 32));
	assert_null(chk_chunk("big", IRN_ATTACH_MAX, 511, 512, C, 32));
	assert_string_equal(chk_chunk("x", 68, 1, 1, 68, 32), "attachment chunk index out of range");
	assert_string_equal(chk_chunk("x", 68, 0, 2, 68, 32),
			    "attachment chunk count does not match its size");
	assert_string_equal(chk_chunk("x", 2 * C + 5, 2, 3, C, 32), "attachment chunk has the wrong length");
	assert_string_equal(chk_chunk("x", 2 * C + 5, 0, 3, 5, 32), "attachment chunk has the wrong length");
	assert_string_equal(chk_chunk("x", 0, 0, 0, 0, 32), "attachment size out of range");
	assert_string_equal(chk_chunk("x", IRN_ATTACH_MAX + 1, 0, 513, C, 32), "attachment size out of range");
	assert_string_equal(chk_chunk("x", 68, 0, 1, 68, 31), "attachment hash must be 32 bytes");
	static const char *const bad_names[] = { "", ".", "..", "../etc/passwd", "a/b", "a\\b", "-rf",
						 "a\nb", ("a\x01" "b") };
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
		assert_string_equal(chk_chunk(bad_names[i], 68, 0, 1, 68, 32), "bad attachment file name");
	/* an unknown field after a valid chunk: not canonical */
	size_t len;
	uint8_t *p = chunk("x", 68, 0, 1, 68, 32, &len);
	p[len] = 0x78; /* field 15, varint */
	p[len + 1] = 0x01;
	assert_non_null(irn_payload_validate(IRNET__KIND__KIND_ATTACHMENT, p, len + 2));
	free(p);
	assert_int_equal(irn_attach_count(1), 1);
	assert_int_equal(irn_attach_count(C), 1);
	assert_int_equal(irn_attach_count(C + 1), 2);
}

/* ---- profiles ---- */

static const char good_profile[] =
	"{\"organisation\": {\"name\": \"Sở Y tế\", \"address\": \"Kon Tum\"},"
	" \"primary\": {\"name\": \"Nguyễn Văn An\", \"position\": \"Trưởng phòng\", \"phone\": \"0905 111 222\"},"
	" \"backup\": {\"name\": \"Lê Thị Cúc\", \"phone\": \"0905 333 444\", \"email\": \"cuc@example\"},"
	" \"systems\": [{\"name\": \"Bệnh án điện tử\", \"security_level\": 4, \"critical_list\": true,"
	"               \"owner\": \"kontum/so-yte\"}, {\"name\": \"Cổng\", \"security_level\": 2}],"
	" \"effective\": \"2026-11-25T08:00:00+07:00\", \"note\": \"Đổi số trực\\nca đêm\"}";

static irn_err
from_json(const char *text, uint8_t **p, size_t *len, char *err, size_t errsz)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	assert_non_null(o);
	irn_err e = irn_profile_from_json(o, 1000, p, len, err, errsz);
	json_decref(o);
	return e;
}

static void
test_profile_roundtrip(void **state)
{
	(void)state;
	uint8_t *p = NULL;
	size_t len = 0;
	char err[256] = "";
	assert_int_equal(from_json(good_profile, &p, &len, err, sizeof err), IRN_OK);
	assert_null(irn_payload_validate(IRNET__KIND__KIND_PROFILE, p, len));
	json_t *o = irn_profile_to_json(p, len);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "primary"), "phone")),
			    "0905 111 222");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "backup"), "name")),
			    "Lê Thị Cúc");
	json_t *s0 = json_array_get(json_object_get(o, "systems"), 0);
	assert_int_equal(json_integer_value(json_object_get(s0, "security_level")), 4);
	assert_true(json_is_true(json_object_get(s0, "critical_list")));
	assert_int_equal(json_array_size(json_object_get(o, "systems")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "effective_ms")), 1795568400000LL);
	json_decref(o);
	free(p);
	/* without "effective": now */
	assert_int_equal(from_json("{\"organisation\": {\"name\": \"A\"}, \"primary\": {\"name\": \"B\","
				   " \"phone\": \"1\"}, \"backup\": {\"name\": \"C\", \"phone\": \"2\"}}",
				   &p, &len, err, sizeof err), IRN_OK);
	o = irn_profile_to_json(p, len);
	assert_int_equal(json_integer_value(json_object_get(o, "effective_ms")), 1000);
	json_decref(o);
	free(p);
}

static void
test_profile_refused(void **state)
{
	(void)state;
	static const struct {
		const char *json, *err_part;
	} bad[] = {
		{ "[]", "JSON object" },
		{ "{\"organisation\": {\"name\": \"A\"}, \"primary\": {\"name\": \"B\", \"phone\": \"1\"}}",
		  "\"backup\"" },
		{ "{\"organisation\": {\"name\": \"A\"}, \"primary\": {\"name\": \"B\"}, \"backup\": {\"name\":"
		  " \"C\", \"phone\": \"2\"}}", "name and a phone" },
		{ "{\"organisation\": {}, \"primary\": {\"name\": \"B\", \"phone\": \"1\"}, \"backup\": {\"name\":"
		  " \"C\", \"phone\": \"2\"}}", "organisation's name" },
		{ "{\"organisation\": {\"name\": \"A\"}, \"primary\": {\"name\": \"B\", \"phone\": \"1\"}, \"backup\":"
		  " {\"name\": \"C\", \"phone\": \"2\"}, \"systems\": [{\"name\": \"S\", \"security_level\": 6}]}",
		  "security level" },
		{ "{\"organisation\": {\"name\": \"A\"}, \"primary\": {\"name\": \"B\", \"phone\": \"1\"}, \"backup\":"
		  " {\"name\": \"C\", \"phone\": \"2\"}, \"systems\": [{\"name\": \"S\"}]}", "security_level" },
		{ "{\"organisation\": {\"name\": \"A\"}, \"primary\": {\"name\": \"B\", \"phone\": \"1\"}, \"backup\":"
		  " {\"name\": \"C\", \"phone\": \"2\"}, \"systems\": [{\"name\": \"S\", \"security_level\": 1,"
		  " \"owner\": \"not a member id\"}]}", "member id" },
		{ "{\"organisation\": {\"name\": \"A\\nB\"}, \"primary\": {\"name\": \"B\", \"phone\": \"1\"},"
		  " \"backup\": {\"name\": \"C\", \"phone\": \"2\"}}", "control character" },
		{ "{\"organisation\": {\"name\": \"A\"}, \"primary\": {\"name\": \"B\", \"phone\": \"1\"}, \"backup\":"
		  " {\"name\": \"C\", \"phone\": \"2\"}, \"phone\": \"3\"}", "unknown field" },
		{ "{\"organisation\": {\"name\": \"A\"}, \"primary\": {\"name\": \"B\", \"phone\": \"1\"}, \"backup\":"
		  " {\"name\": \"C\", \"phone\": \"2\"}, \"effective\": \"yesterday\"}", "bad time" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t *p = NULL;
		size_t len = 0;
		char err[256] = "";
		irn_err e = from_json(bad[i].json, &p, &len, err, sizeof err);
		if (e == IRN_OK || strstr(err, bad[i].err_part) == NULL)
			print_error("case %zu: got '%s', want '%s'\n", i, err, bad[i].err_part);
		assert_int_not_equal(e, IRN_OK);
		assert_non_null(strstr(err, bad[i].err_part));
		assert_null(p);
	}
	/* 65 systems: too many */
	char *big = malloc(65 * 48 + 256);
	assert_non_null(big);
	int o = sprintf(big, "{\"organisation\": {\"name\": \"A\"}, \"primary\": {\"name\": \"B\", \"phone\":"
			" \"1\"}, \"backup\": {\"name\": \"C\", \"phone\": \"2\"}, \"systems\": [");
	for (int i = 0; i < 65; i++)
		o += sprintf(big + o, "%s{\"name\": \"S%d\", \"security_level\": 1}", i ? "," : "", i);
	sprintf(big + o, "]}");
	uint8_t *p = NULL;
	size_t len = 0;
	char err[256];
	assert_int_not_equal(from_json(big, &p, &len, err, sizeof err), IRN_OK);
	free(big);
	/* garbage and truncated payloads */
	assert_non_null(irn_payload_validate(IRNET__KIND__KIND_PROFILE, (const uint8_t *)"\x0a\x05", 2));
	assert_non_null(irn_payload_validate(IRNET__KIND__KIND_PROFILE, NULL, 0));
}

static void
test_end_report_validate(void **state)
{
	(void)state;
	uint8_t inc[IRN_MSGID_LEN] = { 1, 2, 3 };
	Irnet__IncidentRef ref = IRNET__INCIDENT_REF__INIT;
	ref.incident.data = inc;
	ref.incident.len = sizeof inc;
	ref.reporter = "kontum/op";
	Irnet__EndReport r = IRNET__END_REPORT__INIT;
	r.ref = &ref;
	r.initial_reported_ms = 1;
	r.outcome = "Đã khôi phục";
	r.handling = IRNET__HANDLING__HANDLING_WITH_HELP;
	r.ended_ms = 2;
	r.has_damage_vnd = 1;
	r.damage_vnd = 12500000;
	uint8_t buf[512];
	size_t n = irnet__end_report__pack(&r, buf);
	assert_null(irn_payload_validate(IRNET__KIND__KIND_END_REPORT, buf, n));
	r.handling = 4;
	n = irnet__end_report__pack(&r, buf);
	const char *why = irn_payload_validate(IRNET__KIND__KIND_END_REPORT, buf, n);
	assert_non_null(why);
	assert_non_null(strstr(why, "handling"));
	r.handling = 1;
	ref.incident.len = 15;
	n = irnet__end_report__pack(&r, buf);
	assert_non_null(irn_payload_validate(IRNET__KIND__KIND_END_REPORT, buf, n));
	/* a text body is no end report */
	assert_non_null(irn_payload_validate(IRNET__KIND__KIND_END_REPORT, (const uint8_t *)"xong", 4));
}

/* Form 03 names its files (AttachmentRef): checked like the chunks' names */
static irn_err
report_with_files(const char *files, char *err, size_t errsz, uint8_t **p, size_t *len)
{
	char text[4096];
	snprintf(text, sizeof text, "{\"organisation\": {\"name\": \"Sở Y tế\"}, \"system\": \"Cổng\","
		 " \"security_level\": 3, \"category\": \"attack.malware\", \"summary\": \"Mã độc\","
		 " \"detected_at\": \"2026-06-10T07:00:00+07:00\", \"attachment_files\": %s}", files);
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	assert_non_null(o);
	irn_err e = irn_report_from_json(o, 1000, p, len, err, errsz);
	json_decref(o);
	return e;
}

static void
test_report_attachment_refs(void **state)
{
	(void)state;
	char h[65], err[256] = "", files[600];
	memset(h, 'a', 64);
	h[64] = '\0';
	uint8_t *p = NULL;
	size_t len = 0;
	snprintf(files, sizeof files, "[{\"name\": \"nhật ký.log\", \"size\": 61, \"hash\": \"%s\"},"
		 " {\"name\": \"x.bin\", \"size\": 5, \"hash\": \"%s\", \"media_type\": \"application/octet-stream\"}]", h, h);
	assert_int_equal(report_with_files(files, err, sizeof err, &p, &len), IRN_OK);
	assert_null(irn_payload_validate(IRNET__KIND__KIND_INITIAL_REPORT, p, len));
	json_t *back = irn_report_to_json(p, len);
	json_t *af = json_object_get(back, "attachment_files");
	assert_int_equal(json_array_size(af), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(af, 0), "hash")), h);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(af, 1), "size")), 5);
	json_decref(back);
	free(p);
	char bad[6][200];
	snprintf(bad[0], sizeof bad[0], "[{\"name\": \"../x\", \"size\": 5, \"hash\": \"%s\"}]", h);
	snprintf(bad[1], sizeof bad[1], "[{\"name\": \"x\", \"size\": 0, \"hash\": \"%s\"}]", h);
	snprintf(bad[2], sizeof bad[2], "[{\"name\": \"x\", \"size\": 99999999999, \"hash\": \"%s\"}]", h);
	snprintf(bad[3], sizeof bad[3], "[{\"name\": \"x\", \"size\": 5, \"hash\": \"%.62s\"}]", h);
	snprintf(bad[4], sizeof bad[4], "[{\"name\": \"x\", \"size\": 5}]");
	snprintf(bad[5], sizeof bad[5], "{\"name\": \"x\"}");
	for (size_t i = 0; i < 6; i++) {
		p = NULL;
		if (report_with_files(bad[i], err, sizeof err, &p, &len) == IRN_OK)
			print_error("case %zu accepted: %s\n", i, bad[i]);
		assert_null(p);
	}
	/* a payload naming a bad file (built without the JSON checks) is refused */
	Irnet__InitialReport *r = NULL;
	snprintf(files, sizeof files, "[{\"name\": \"ok\", \"size\": 5, \"hash\": \"%s\"}]", h);
	assert_int_equal(report_with_files(files, err, sizeof err, &p, &len), IRN_OK);
	r = irnet__initial_report__unpack(NULL, len, p);
	assert_non_null(r);
	free(p);
	r->attachments[0]->name[0] = '/';
	len = irnet__initial_report__get_packed_size(r);
	p = malloc(len);
	irnet__initial_report__pack(r, p);
	assert_string_equal(irn_payload_validate(IRNET__KIND__KIND_INITIAL_REPORT, p, len), "bad attachment file name");
	irnet__initial_report__free_unpacked(r, NULL);
	free(p);
}

int
main(void)
{
	th_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inert_roundtrip_and_offsets),
		cmocka_unit_test(test_inert_known_answer),
		cmocka_unit_test(test_attachment_validate),
		cmocka_unit_test(test_profile_roundtrip),
		cmocka_unit_test(test_profile_refused),
		cmocka_unit_test(test_end_report_validate),
		cmocka_unit_test(test_report_attachment_refs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
