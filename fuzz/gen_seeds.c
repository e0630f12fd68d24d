/* gen_seeds - write the seed corpora of the fuzz targets: gen_seeds [DIR]
 * (default: fuzz/corpus in the source tree). Everything is deterministic (fixed
 * keys, message ids and clock; Ed25519 signatures are deterministic), so a
 * rerun rewrites the same bytes. Each seed is a valid input that gets through
 * every check of its target, so mutations start from the deep end. */
#include "fuzz_common.h"
#include "rosterdelta.h"
#include "envelope.h"
#include "crypto.h"
#include "home.h"
#include "report.h"
#include "merkle.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#ifndef IRNET_FUZZ_CORPUS_DIR
#define IRNET_FUZZ_CORPUS_DIR "fuzz/corpus"
#endif

static const char *outdir;
static size_t n_written, bytes_written;

static void
die(const char *what)
{
	fprintf(stderr, "gen_seeds: %s\n", what);
	exit(1);
}

static void
must(irn_err e, const char *what)
{
	if (e != IRN_OK) {
		fprintf(stderr, "gen_seeds: %s: %s\n", what, irn_strerror(e));
		exit(1);
	}
}

static void
seed(const char *target, const char *name, const void *data, size_t len)
{
	char p[4096];
	if (irn_snprintf(p, sizeof p, "%s/%s", outdir, target) < 0)
		die("path too long");
	must(irn_mkdir_p(p, 0755), p);
	if (irn_snprintf(p, sizeof p, "%s/%s/%s", outdir, target, name) < 0)
		die("path too long");
	FILE *f = fopen(p, "wb");
	if (f == NULL || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", p, strerror(errno));
		exit(1);
	}
	n_written++;
	bytes_written += len;
}

static void
seed_str(const char *target, const char *name, const char *s)
{
	seed(target, name, s, strlen(s));
}

/* ---- report forms (docs/FORMS.md), in Vietnamese as a reporter fills them ---- */

static const char form_full[] =
	"{\n"
	"  \"organisation\": {\"name\": \"Bệnh viện Đa khoa tỉnh\", \"address\": \"Số 1 đường Trần Hưng Đạo, TP. Kon Tum\",\n"
	"                   \"phone\": \"0260 3862 000\", \"email\": \"cntt@bvdk.kontum.gov.vn\"},\n"
	"  \"contact\": {\"name\": \"Nguyễn Thị Hồng\", \"position\": \"Trưởng phòng CNTT\", \"phone\": \"0905 000 111\",\n"
	"              \"email\": \"hong.nt@bvdk.kontum.gov.vn\"},\n"
	"  \"operator\": \"Phòng Công nghệ thông tin\", \"owner\": \"Sở Y tế\",\n"
	"  \"system\": \"Hệ thống quản lý bệnh viện (HIS)\", \"security_level\": 4, \"critical_list\": false,\n"
	"  \"security_provider\": \"Trung tâm Giám sát an toàn không gian mạng\", \"isp\": \"VNPT Kon Tum\",\n"
	"  \"summary\": \"Máy chủ HIS bị mã hoá dữ liệu, xuất hiện thông báo đòi tiền chuộc.\\nDịch vụ khám chữa bệnh bị gián đoạn.\",\n"
	"  \"category\": \"attack.ransomware\", \"detected_at\": \"2026-11-25T07:45:00+07:00\", \"handled\": false,\n"
	"  \"detected_by\": [\"logs\", \"notified\"], \"detected_by_other\": \"Người dùng báo\", \"notified\": [\"owner\", \"coordinator\"],\n"
	"  \"affected_os\": \"Windows Server 2019\", \"affected_services\": \"HIS, PACS\",\n"
	"  \"ip_addresses\": [\"10.20.0.15\", \"10.20.0.16\"], \"domain_names\": [\"his.bvdk.kontum.gov.vn\"],\n"
	"  \"system_purpose\": \"Quản lý khám chữa bệnh và hồ sơ bệnh án\",\n"
	"  \"measures_taken\": \"Cô lập máy chủ khỏi mạng, giữ nguyên hiện trạng, sao lưu nhật ký.\",\n"
	"  \"attachments\": [\"nhat-ky-his.zip\", \"anh-man-hinh.png\"],\n"
	"  \"confidential\": true, \"support_requested\": \"Đề nghị hỗ trợ phân tích mã độc và khôi phục dữ liệu.\",\n"
	"  \"reported_at\": \"2026-11-25T08:20:00+07:00\",\n"
	"  \"impact\": {\"interruption\": true, \"disclosure\": false, \"integrity\": true, \"control\": false, \"spread\": true},\n"
	"  \"can_handle_alone\": false, \"ref\": \"BVDK-2026-017\"\n"
	"}\n";

static const char form_minimal[] =
	"{\"organisation\": {\"name\": \"Trường Cao đẳng Cộng đồng Kon Tum\"},\n"
	" \"system\": \"Cổng thông tin điện tử\", \"security_level\": 2,\n"
	" \"summary\": \"Trang chủ bị thay đổi giao diện.\", \"category\": \"attack.defacement\",\n"
	" \"detected_at\": \"2026-11-24\"}\n";

static const char form_fault[] =
	"{\"organisation\": {\"name\": \"Trung tâm Dữ liệu tỉnh\", \"phone\": \"0260 3910 000\"},\n"
	" \"contact\": {\"name\": \"Lê Văn Tâm\", \"position\": \"Kỹ thuật viên\"},\n"
	" \"system\": \"Hạ tầng máy chủ\", \"security_level\": 3, \"critical_list\": true,\n"
	" \"summary\": \"Mất điện lưới kéo dài, máy phát dự phòng không khởi động.\\n\\tĐã chuyển tải.\",\n"
	" \"category\": \"fault.power\", \"detected_at\": \"2026-11-25T00:10:00Z\", \"handled\": true,\n"
	" \"detected_by\": [\"ids\", \"other\"], \"notified\": [\"isp\"],\n"
	" \"impact\": {\"interruption\": true}, \"can_handle_alone\": true}\n";

static uint8_t *
report_payload(const char *form, size_t *len)
{
	json_error_t jerr;
	json_t *j = json_loads(form, 0, &jerr);
	if (j == NULL) {
		fprintf(stderr, "gen_seeds: form: line %d: %s\n", jerr.line, jerr.text);
		exit(1);
	}
	uint8_t *p = NULL;
	char err[256];
	if (irn_report_from_json(j, FUZZ_NOW_MS, &p, len, err, sizeof err) != IRN_OK) {
		fprintf(stderr, "gen_seeds: form refused: %s\n", err);
		exit(1);
	}
	json_decref(j);
	return p;
}

/* ---- envelopes ---- */

struct env {
	uint8_t *bytes;
	size_t len;
	uint8_t msgid[IRN_MSGID_LEN];
};

static void
msgid(uint8_t id[IRN_MSGID_LEN], unsigned n)
{
	memcpy(id, "irnet-fuzz-msg", 14);
	id[14] = (uint8_t)('0' + n / 10);
	id[15] = (uint8_t)('0' + n % 10);
}

static void
build(struct env *e, unsigned slot, const char *sender, unsigned kind, uint64_t seq,
      unsigned n, const char *to_member, const uint32_t *roles, size_t n_roles,
      const uint8_t *in_reply_to, const char *person, const uint8_t *payload, size_t plen)
{
	irn_keys k;
	fuzz_keys(slot, &k);
	Irnet__Header h = IRNET__HEADER__INIT;
	char *tos[1] = { (char *)to_member };
	msgid(e->msgid, n);
	h.version = IRN_PROTOCOL_VERSION;
	h.message_id.data = e->msgid;
	h.message_id.len = IRN_MSGID_LEN;
	h.sender = (char *)sender;
	if (to_member) {
		h.to_members = tos;
		h.n_to_members = 1;
	}
	h.to_roles = (uint32_t *)roles;
	h.n_to_roles = n_roles;
	h.sequence = seq;
	h.created_ms = FUZZ_NOW_MS - 300000 + 1000 * (int64_t)n;
	h.kind = kind;
	h.exercise = kind == IRNET__KIND__KIND_ACKNOWLEDGEMENT;
	h.tlp = kind == IRNET__KIND__KIND_ACKNOWLEDGEMENT ? IRNET__TLP__TLP_GREEN
							   : IRNET__TLP__TLP_AMBER;
	if (in_reply_to) {
		h.has_in_reply_to = true;
		h.in_reply_to.data = (uint8_t *)in_reply_to;
		h.in_reply_to.len = IRN_MSGID_LEN;
	}
	h.signed_by_person = (char *)person;
	if (person)
		h.local_account = (char *)"cbtt";
	must(irn_envelope_build(&k, FUZZ_NETWORK, &h, payload, plen, &e->bytes, &e->len),
	     "build envelope");
}

/* Check a built envelope the way the targets will, and write it and its body. */
static void
seed_env(const struct env *e, const char *name, bool expect_ok)
{
	irn_msg *m = NULL;
	irn_refusal why;
	int rc = irn_envelope_check(fuzz_roster(), FUZZ_NETWORK, e->bytes, e->len, NULL,
				    FUZZ_NOW_MS, FUZZ_NOW_MS, &m, &why);
	if ((rc == 0) != expect_ok) {
		fprintf(stderr, "gen_seeds: envelope %s: %s\n", name,
			rc ? why.reason : "accepted, expected a refusal");
		exit(1);
	}
	char fn[128];
	snprintf(fn, sizeof fn, "%s.env", name);
	seed("envelope", fn, e->bytes, e->len);
	Irnet__Envelope *pe = irnet__envelope__unpack(NULL, e->len, e->bytes);
	if (pe == NULL)
		die("envelope does not decode");
	snprintf(fn, sizeof fn, "%s.body", name);
	seed("body", fn, pe->body.data, pe->body.len);
	irnet__envelope__free_unpacked(pe, NULL);
	irn_msg_free(&m);
}

static void
seed_packet(const char *name, const Irnet__Packet *p)
{
	size_t n = irnet__packet__get_packed_size(p);
	uint8_t *b = malloc(n ? n : 1);
	if (b == NULL)
		die("out of memory");
	irnet__packet__pack(p, b);
	char fn[128];
	snprintf(fn, sizeof fn, "%s.pkt", name);
	seed("packet", fn, b, n);
	free(b);
}

static void
seed_config(const char *name, const irn_config *c)
{
	char p[4096];
	if (irn_snprintf(p, sizeof p, "%s/config", outdir) < 0)
		die("path too long");
	must(irn_mkdir_p(p, 0755), p);
	if (irn_snprintf(p, sizeof p, "%s/config/%s", outdir, name) < 0)
		die("path too long");
	must(irn_config_save(p, c), p);
	(void)chmod(p, 0644);
	irn_config back;
	must(irn_config_load(p, &back), "reload config");
	n_written++;
}

int
main(int argc, char **argv)
{
	outdir = argc > 1 ? argv[1] : IRNET_FUZZ_CORPUS_DIR;
	fuzz_init();

	/* roster */
	size_t rlen, r2len;
	uint8_t *roster = fuzz_roster_bytes(false, &rlen);
	uint8_t *roster2 = fuzz_roster_bytes(true, &r2len);
	{
		uint8_t pin[IRN_PK_LEN], np[IRN_PK_LEN];
		irn_roster *r = NULL;
		fuzz_pin(pin);
		must(irn_roster_parse(roster2, r2len, pin, FUZZ_NETWORK, FUZZ_NOW_MS, &r, np),
		     "rotated roster");
		if (memcmp(np, pin, IRN_PK_LEN) == 0)
			die("the rotation did not apply");
		irn_roster_free(&r);
	}
	seed("roster", "roster-v1.bin", roster, rlen);
	seed("roster", "roster-v2-rotated.bin", roster2, r2len);
	{
		uint8_t *d = NULL;
		size_t dl;
		must(irn_roster_delta_make(roster, rlen, roster2, r2len, &d, &dl), "roster delta v1 -> v2");
		seed("roster_delta", "v1-to-v2-rotated.bin", d, dl);
		free(d);
	}

	/* typed payloads, one seed each for fuzz_payload (first byte = index in its table) */
	{
		uint8_t inc[IRN_MSGID_LEN] = { 0x11, 0x22, 0x33 }, hsh[IRN_HASH_LEN] = { 0x44 };
		Irnet__IncidentRef ref = IRNET__INCIDENT_REF__INIT;
		ref.incident.data = inc;
		ref.incident.len = sizeof inc;
		ref.reporter = (char *)FUZZ_ID_OPERATOR;
		uint8_t buf[4096];
		size_t l;
#define SEED_PB(idx, kind, name, type, msg)                                          \
	do {                                                                         \
		l = irnet__##type##__get_packed_size(&msg);                           \
		if (l + 1 > sizeof buf)                                              \
			die("seed too large");                                       \
		buf[0] = idx;                                                        \
		irnet__##type##__pack(&msg, buf + 1);                                 \
		const char *why_ = irn_payload_validate(IRNET__KIND__KIND_##kind, buf + 1, l); \
		if (why_) {                                                          \
			fprintf(stderr, "gen_seeds: %s: %s\n", name, why_);          \
			exit(1);                                                     \
		}                                                                    \
		seed("payload", name, buf, l + 1);                                   \
	} while (0)
		Irnet__ProgressReport pr = IRNET__PROGRESS_REPORT__INIT;
		pr.ref = &ref;
		pr.summary = (char *)"Đã cô lập máy chủ bị mã hóa; đang khôi phục từ bản sao lưu.";
		pr.actions_taken = (char *)"Ngắt kết nối mạng nội bộ";
		pr.has_percent_done = true;
		pr.percent_done = 40;
		SEED_PB(1, PROGRESS_REPORT, "progress.pb", progress_report, pr);
		Irnet__PlanStep st = IRNET__PLAN_STEP__INIT, *stp = &st;
		st.number = 1;
		st.action = (char *)"Khôi phục dữ liệu";
		st.assignee = (char *)FUZZ_ID_OPERATOR;
		Irnet__ResponsePlan rp = IRNET__RESPONSE_PLAN__INIT;
		rp.ref = &ref;
		rp.objective = (char *)"Khôi phục dịch vụ trong 24 giờ";
		rp.steps = &stp;
		rp.n_steps = 1;
		SEED_PB(2, RESPONSE_PLAN, "plan.pb", response_plan, rp);
		Irnet__DirectionRequest dr = IRNET__DIRECTION_REQUEST__INIT;
		dr.ref = &ref;
		dr.question = (char *)"Có trả tiền chuộc không?";
		SEED_PB(3, DIRECTION_REQUEST, "direction.pb", direction_request, dr);
		Irnet__SupportRequest sr = IRNET__SUPPORT_REQUEST__INIT;
		sr.ref = &ref;
		sr.needed = (char *)"Chuyên gia phân tích mã độc";
		sr.support_from = IRNET__SUPPORT_FROM__SUPPORT_NATIONAL;
		SEED_PB(4, SUPPORT_REQUEST, "support.pb", support_request, sr);
		Irnet__EndReport er2 = IRNET__END_REPORT__INIT;
		er2.ref = &ref;
		er2.initial_reported_ms = FUZZ_NOW_MS - 86400000;
		er2.outcome = (char *)"Đã khôi phục toàn bộ dịch vụ";
		er2.handling = IRNET__HANDLING__HANDLING_WITH_HELP;
		er2.ended_ms = FUZZ_NOW_MS - 3600000;
		er2.has_damage_vnd = true;
		er2.damage_vnd = 150000000;
		SEED_PB(5, END_REPORT, "end-report.pb", end_report, er2);
		Irnet__Alert al = IRNET__ALERT__INIT;
		al.level = IRNET__ALERT_LEVEL__ALERT_WARNING;
		al.title = (char *)"Cảnh báo chiến dịch mã độc tống tiền";
		al.text = (char *)"Cập nhật bản vá ngay.";
		SEED_PB(9, ALERT, "alert.pb", alert, al);
		Irnet__Acknowledgement ak = IRNET__ACKNOWLEDGEMENT__INIT;
		ak.message_id.data = inc;
		ak.message_id.len = sizeof inc;
		ak.sender = (char *)FUZZ_ID_OPERATOR;
		SEED_PB(10, ACKNOWLEDGEMENT, "ack.pb", acknowledgement, ak);
		Irnet__Contact org = IRNET__CONTACT__INIT, c1 = IRNET__CONTACT__INIT, c2 = IRNET__CONTACT__INIT;
		org.name = (char *)"Sở Y tế";
		c1.name = (char *)"Lê Văn B";
		c1.phone = (char *)"0901234567";
		c2.name = (char *)"Trần Thị C";
		c2.phone = (char *)"0907654321";
		Irnet__SystemInfo si = IRNET__SYSTEM_INFO__INIT, *sip = &si;
		si.name = (char *)"Cổng thông tin";
		si.security_level = 3;
		Irnet__MemberProfile mp = IRNET__MEMBER_PROFILE__INIT;
		mp.organisation = &org;
		mp.primary = &c1;
		mp.backup = &c2;
		mp.systems = &sip;
		mp.n_systems = 1;
		mp.effective_ms = FUZZ_NOW_MS;
		SEED_PB(13, PROFILE, "profile.pb", member_profile, mp);
		static const uint8_t chunk[] = "inert bytes";
		Irnet__AttachmentChunk ac = IRNET__ATTACHMENT_CHUNK__INIT;
		ac.hash.data = hsh;
		ac.hash.len = sizeof hsh;
		ac.name = (char *)"log.txt";
		ac.size = sizeof chunk - 1;
		ac.index = 0;
		ac.count = 1;
		ac.data.data = (uint8_t *)chunk;
		ac.data.len = sizeof chunk - 1;
		SEED_PB(14, ATTACHMENT, "attachment.pb", attachment_chunk, ac);
#undef SEED_PB
	}

	/* report payloads and forms */
	size_t full_len, min_len, fault_len;
	uint8_t *full = report_payload(form_full, &full_len);
	uint8_t *minimal = report_payload(form_minimal, &min_len);
	uint8_t *fault = report_payload(form_fault, &fault_len);
	seed("report", "full.pb", full, full_len);
	seed("report", "minimal.pb", minimal, min_len);
	seed("report", "fault.pb", fault, fault_len);
	seed_str("report_json", "form-full.json", form_full);
	seed_str("report_json", "form-minimal.json", form_minimal);
	seed_str("report_json", "form-fault.json", form_fault);
	{
		json_t *j = irn_report_to_json(full, full_len);
		if (j == NULL)
			die("report does not render");
		char *s = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
		seed_str("report_json", "rendered-full.json", s);
		free(s);
		json_decref(j);
	}

	/* envelopes: a report, the broker's receipt and error for it, an
	 * acknowledgement from the coordinator, and one from a revoked member */
	static const uint32_t report_to[] = { IRNET__ROLE__ROLE_COORDINATOR,
					      IRNET__ROLE__ROLE_OWNER };
	struct env rep, rcpt, err, ack, rev;
	build(&rep, FUZZ_KEY_OPERATOR, FUZZ_ID_OPERATOR, IRNET__KIND__KIND_INITIAL_REPORT, 1, 1,
	      NULL, report_to, 2, NULL, "Nguyễn Thị Hồng", full, full_len);

	/* A batch of three receipts (merkle.h): the report at ledger index 7
	 * and two others; one root signed by the broker (kind RECEIPT, payload
	 * BatchRoot, no recipients); each receipt = leaf + path + that root. */
	uint8_t hashes[3][IRN_HASH_LEN], ids[3][IRN_MSGID_LEN], lv[3][IRN_HASH_LEN];
	Irnet__Receipt rcs[3];
	irn_hash(hashes[0], rep.bytes, rep.len);
	memcpy(ids[0], rep.msgid, IRN_MSGID_LEN);
	for (unsigned i = 0; i < 3; i++) {
		if (i) {
			memset(hashes[i], 0x50 + (int)i, IRN_HASH_LEN);
			msgid(ids[i], 40 + i);
		}
		irnet__receipt__init(&rcs[i]);
		rcs[i].envelope_hash.data = hashes[i];
		rcs[i].envelope_hash.len = IRN_HASH_LEN;
		rcs[i].message_id.data = ids[i];
		rcs[i].message_id.len = IRN_MSGID_LEN;
		rcs[i].sender = (char *)FUZZ_ID_OPERATOR;
		rcs[i].accepted_ms = FUZZ_NOW_MS - 240000 + i;
		rcs[i].ledger_index = 7 + i;
		rcs[i].roster_version = 1;
		uint8_t *leaf;
		size_t ll;
		must(irn_receipt_leaf(&rcs[i], &leaf, &ll), "receipt leaf");
		irn_merkle_leaf(lv[i], leaf, ll);
		if (i == 0)
			seed("packet", "raw-receipt-leaf.pb", leaf, ll);
		free(leaf);
	}
	irn_merkle tree;
	must(irn_merkle_build(&tree, (const uint8_t (*)[IRN_HASH_LEN])lv, 3), "merkle tree");
	Irnet__BatchRoot brt = IRNET__BATCH_ROOT__INIT;
	brt.root.data = (uint8_t *)irn_merkle_root(&tree);
	brt.root.len = IRN_HASH_LEN;
	brt.first_index = 7;
	brt.count = 3;
	brt.roster_version = 1;
	brt.has_roster_hash = true;
	brt.roster_hash.data = (uint8_t *)fuzz_roster()->hash;
	brt.roster_hash.len = IRN_HASH_LEN;
	uint8_t brb[256];
	size_t brl = irnet__batch_root__pack(&brt, brb);
	seed("packet", "raw-batch-root-payload.pb", brb, brl);
	seed("receipt", "raw-batch-root-payload.pb", brb, brl);
	build(&rcpt, FUZZ_KEY_BROKER, FUZZ_ID_BROKER, IRNET__KIND__KIND_RECEIPT, 1, 2,
	      NULL, NULL, 0, NULL, NULL, brb, brl);
	uint8_t *rcbytes[3];
	size_t rclen[3];
	for (unsigned i = 0; i < 3; i++) {
		uint8_t path[IRN_MERKLE_MAX_PATH][IRN_HASH_LEN];
		ProtobufCBinaryData pb[IRN_MERKLE_MAX_PATH];
		size_t pl = irn_merkle_path(&tree, i, path);
		for (size_t k = 0; k < pl; k++) {
			pb[k].data = path[k];
			pb[k].len = IRN_HASH_LEN;
		}
		rcs[i].n_path = pl;
		rcs[i].path = pb;
		rcs[i].has_batch_root = true;
		rcs[i].batch_root.data = rcpt.bytes;
		rcs[i].batch_root.len = rcpt.len;
		rclen[i] = irnet__receipt__get_packed_size(&rcs[i]);
		rcbytes[i] = malloc(rclen[i]);
		if (rcbytes[i] == NULL)
			die("out of memory");
		irnet__receipt__pack(&rcs[i], rcbytes[i]);
		irn_refusal why;
		Irnet__Receipt *chk = NULL;
		if (irn_receipt_check(fuzz_roster(), FUZZ_NETWORK, FUZZ_ID_BROKER, rcbytes[i], rclen[i],
				      FUZZ_NOW_MS, FUZZ_NOW_MS, NULL, &chk, &why) != IRN_RECEIPT_OK) {
			fprintf(stderr, "gen_seeds: receipt %u: %s\n", i, why.reason);
			exit(1);
		}
		irnet__receipt__free_unpacked(chk, NULL);
		char fn[64];
		snprintf(fn, sizeof fn, "receipt-%u-of-3.pb", i);
		seed("receipt", fn, rcbytes[i], rclen[i]);
	}
	irn_merkle_free(&tree);

	Irnet__ErrorReply er = IRNET__ERROR_REPLY__INIT;
	er.code = IRNET__ERROR_CODE__ERR_REPLAY;
	er.has_message_id = true;
	er.message_id.data = rep.msgid;
	er.message_id.len = IRN_MSGID_LEN;
	er.detail = (char *)"số thứ tự 1 đã được chấp nhận trước đó";
	size_t erl = irnet__error_reply__get_packed_size(&er);
	uint8_t erb[256];
	if (erl > sizeof erb)
		die("error reply too large");
	irnet__error_reply__pack(&er, erb);
	seed("packet", "raw-error-payload.pb", erb, erl);
	build(&err, FUZZ_KEY_BROKER, FUZZ_ID_BROKER, IRNET__KIND__KIND_ERROR, 2, 3,
	      FUZZ_ID_OPERATOR, NULL, 0, rep.msgid, NULL, erb, erl);

	/* a typed acknowledgement (common/payloads.c) of the report, with a note */
	Irnet__Acknowledgement ak = IRNET__ACKNOWLEDGEMENT__INIT;
	ak.message_id.data = rep.msgid;
	ak.message_id.len = IRN_MSGID_LEN;
	ak.sender = (char *)FUZZ_ID_OPERATOR;
	ak.note = (char *)"Đã tiếp nhận báo cáo sự cố.\n\tĐội ứng cứu sẽ liên hệ trong 30 phút.";
	ak.has_by_person = true;
	ak.by_person = true;
	uint8_t akb[512];
	if (irnet__acknowledgement__get_packed_size(&ak) > sizeof akb)
		die("acknowledgement too large");
	size_t akl = irnet__acknowledgement__pack(&ak, akb);
	build(&ack, FUZZ_KEY_COORDINATOR, FUZZ_ID_COORDINATOR, IRNET__KIND__KIND_ACKNOWLEDGEMENT,
	      1, 4, FUZZ_ID_OPERATOR, NULL, 0, rep.msgid, "Trần Văn Bình", akb, akl);
	build(&rev, FUZZ_KEY_REVOKED, FUZZ_ID_REVOKED, IRNET__KIND__KIND_INITIAL_REPORT, 1, 5,
	      NULL, report_to, 1, NULL, NULL, minimal, min_len);

	seed_env(&rep, "initial-report", true);
	seed_env(&rcpt, "batch-root", true);
	seed_env(&err, "error", true);
	seed_env(&ack, "acknowledgement", true);
	seed_env(&rev, "revoked-signer", false);

	/* packets, one of each case */
	Irnet__Packet p = IRNET__PACKET__INIT;
	Irnet__Hello hello = IRNET__HELLO__INIT;
	hello.version = IRN_PROTOCOL_VERSION;
	hello.roster_version = 1;
	hello.delivered_upto = 6;
	p.p_case = IRNET__PACKET__P_HELLO;
	p.hello = &hello;
	seed_packet("hello", &p);

	Irnet__Welcome welcome = IRNET__WELCOME__INIT;
	welcome.roster_version = 2;
	welcome.broker_time_ms = FUZZ_NOW_MS;
	welcome.has_roster = true;
	welcome.roster.data = roster2;
	welcome.roster.len = r2len;
	welcome.last_sequence = 1;
	p.p_case = IRNET__PACKET__P_WELCOME;
	p.welcome = &welcome;
	seed_packet("welcome", &p);

	p.p_case = IRNET__PACKET__P_SUBMIT;
	p.submit.data = rep.bytes;
	p.submit.len = rep.len;
	seed_packet("submit", &p);
	p.p_case = IRNET__PACKET__P_RECEIPT;
	p.receipt.data = rcbytes[0];
	p.receipt.len = rclen[0];
	seed_packet("receipt", &p);
	p.p_case = IRNET__PACKET__P_ERROR;
	p.error.data = err.bytes;
	p.error.len = err.len;
	seed_packet("error", &p);

	Irnet__Deliver d = IRNET__DELIVER__INIT;
	d.ledger_index = 7;
	d.envelope.data = rep.bytes;
	d.envelope.len = rep.len;
	d.receipt.data = rcbytes[0];
	d.receipt.len = rclen[0];
	d.prev_index = 6;
	p.p_case = IRNET__PACKET__P_DELIVER;
	p.deliver = &d;
	seed_packet("deliver", &p);

	Irnet__Ack a = IRNET__ACK__INIT;
	a.upto = 7;
	p.p_case = IRNET__PACKET__P_ACK;
	p.ack = &a;
	seed_packet("ack", &p);

	Irnet__Heartbeat hb = IRNET__HEARTBEAT__INIT;
	hb.time_ms = FUZZ_NOW_MS;
	hb.roster_version = 1;
	p.p_case = IRNET__PACKET__P_HEARTBEAT;
	p.heartbeat = &hb;
	seed_packet("heartbeat", &p);

	/* text and identifiers */
	seed_str("text", "line-vi.txt", "Bệnh viện Đa khoa tỉnh Kon Tum – Phòng CNTT");
	seed_str("text", "multiline-vi.txt", "Cô lập máy chủ khỏi mạng.\r\n\tSao lưu nhật ký.\n");
	seed_str("text", "member-id.txt", "kontum/so-tttt.v2_1");
	seed_str("text", "network-id.txt", "kontum");
	seed_str("text", "bidi-override.txt", "invoice\xE2\x80\xAEgpj.exe");
	seed_str("text", "four-byte.txt", "\xF0\x9F\x94\x92 kh\xC3\xB3" "a \xF0\xA0\x80\x80");

	/* configuration files, as irn_config_save writes them, and one by hand */
	irn_config c;
	irn_config_defaults(&c);
	snprintf(c.id, sizeof c.id, "%s", FUZZ_ID_OPERATOR);
	snprintf(c.network, sizeof c.network, "%s", FUZZ_NETWORK);
	snprintf(c.broker, sizeof c.broker, "tcp://127.0.0.1:7700");
	snprintf(c.broker_id, sizeof c.broker_id, "%s", FUZZ_ID_BROKER);
	snprintf(c.person, sizeof c.person, "Nguyễn Thị Hồng");
	snprintf(c.report_to, sizeof c.report_to, "role:coordinator,role:owner,%s", FUZZ_ID_OWNER);
	seed_config("node.conf", &c);
	irn_config_defaults(&c);
	snprintf(c.id, sizeof c.id, "%s", FUZZ_ID_BROKER);
	snprintf(c.network, sizeof c.network, "%s", FUZZ_NETWORK);
	snprintf(c.listen, sizeof c.listen, "tcp://127.0.0.1:7700");
	c.log_level = IRN_LOG_DEBUG;
	c.error_rate = 50;
	seed_config("broker.conf", &c);
	seed_str("config", "hand-written.conf",
		 "; sửa bằng tay\n[irnet]\nid = kontum/syt\nnetwork = kontum\n"
		 "broker = tcp://127.0.0.1:7700 ; inline comment\nbroker_id = kontum/broker\n"
		 "timezone = Asia/Ho_Chi_Minh\nlog_level = warn\nheartbeat_ms = 1500\n"
		 "[other]\nkey = value\n");

	free(roster);
	free(roster2);
	free(full);
	free(minimal);
	free(fault);
	free(rep.bytes);
	free(rcpt.bytes);
	for (unsigned i = 0; i < 3; i++)
		free(rcbytes[i]);
	free(err.bytes);
	free(ack.bytes);
	free(rev.bytes);
	printf("gen_seeds: %zu seeds written under %s\n", n_written, outdir);
	return 0;
}
