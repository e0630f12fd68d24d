/* report.c - Form 03 initial report. */
#include "report.h"
#include "attach.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C(x) IRNET__CATEGORY__CAT_##x
static const struct {
	unsigned code;
	const char *name;
	const char *label;
} categories[] = {
	{ C(ATTACK_DOS), "attack.dos", N_("Cyber attack: denial of service") },
	{ C(ATTACK_PHISHING), "attack.phishing", N_("Cyber attack: spoofing or phishing") },
	{ C(ATTACK_MALWARE), "attack.malware", N_("Cyber attack: malware") },
	{ C(ATTACK_INTRUSION), "attack.intrusion", N_("Cyber attack: unauthorised access or takeover") },
	{ C(ATTACK_DEFACEMENT), "attack.defacement", N_("Cyber attack: defacement") },
	{ C(ATTACK_RANSOMWARE), "attack.ransomware", N_("Cyber attack: encryption of software, data or devices (ransomware)") },
	{ C(ATTACK_DESTRUCTION), "attack.destruction", N_("Cyber attack: destruction of data or software") },
	{ C(ATTACK_ESPIONAGE), "attack.espionage", N_("Cyber attack: eavesdropping, espionage or data theft") },
	{ C(ATTACK_COMBINED), "attack.combined", N_("Cyber attack: combined attack") },
	{ C(ATTACK_OTHER), "attack.other", N_("Cyber attack: other") },
	{ C(FAULT_POWER), "fault.power", N_("System fault: power") },
	{ C(FAULT_LINK), "fault.link", N_("System fault: Internet link") },
	{ C(FAULT_SOFTWARE), "fault.software", N_("System fault: software, hardware or application error") },
	{ C(FAULT_OVERLOAD), "fault.overload", N_("System fault: overload") },
	{ C(FAULT_OTHER), "fault.other", N_("System fault: other") },
	{ C(ERROR_HW_CONFIG), "error.hardware-config", N_("Operator error: hardware configuration or update") },
	{ C(ERROR_SW_CONFIG), "error.software-config", N_("Operator error: software configuration or update") },
	{ C(ERROR_POLICY), "error.policy", N_("Operator error: security policy or procedure") },
	{ C(ERROR_FORCED_STOP), "error.forced-stop", N_("Operator error: forced service stop") },
	{ C(ERROR_OTHER), "error.other", N_("Operator error: other") },
	{ C(DISASTER_STORM), "disaster.storm", N_("Natural disaster: storm") },
	{ C(DISASTER_FLOOD), "disaster.flood", N_("Natural disaster: flood") },
	{ C(DISASTER_EARTHQUAKE), "disaster.earthquake", N_("Natural disaster: earthquake") },
	{ C(DISASTER_FIRE), "disaster.fire", N_("Natural disaster: fire") },
	{ C(DISASTER_OTHER), "disaster.other", N_("Natural disaster: other") },
};
#define N_CAT (sizeof categories / sizeof categories[0])

static const char *const detected_by_names[] = { NULL, "ids", "logs", "notified", "other" };
static const char *const notified_names[] = { NULL, "owner", "isp", "coordinator" };

const char *
irn_category_name(unsigned cat)
{
	for (size_t i = 0; i < N_CAT; i++)
		if (categories[i].code == cat)
			return categories[i].name;
	return NULL;
}

const char *
irn_category_label(unsigned cat)
{
	for (size_t i = 0; i < N_CAT; i++)
		if (categories[i].code == cat)
			return _(categories[i].label);
	return NULL;
}

int
irn_category_parse(const char *name)
{
	for (size_t i = 0; i < N_CAT; i++)
		if (strcmp(categories[i].name, name) == 0)
			return (int)categories[i].code;
	return -1;
}

bool
irn_report_serious(const Irnet__InitialReport *r)
{
	bool important = r->security_level >= 4 || (r->has_critical_list && r->critical_list);
	bool impact = r->impact_interruption || r->impact_disclosure || r->impact_integrity ||
		      r->impact_control || r->impact_spread;
	bool beyond_owner = r->has_can_handle_alone && !r->can_handle_alone;
	return important && impact && beyond_owner;
}

static const char *
line(const char *s)
{
	return s ? irn_text_check(s, strlen(s), IRN_MAX_SHORT_TEXT, 0) : NULL;
}

static const char *
para(const char *s)
{
	return s ? irn_text_check(s, strlen(s), IRN_MAX_LONG_TEXT, IRN_TEXT_MULTILINE) : NULL;
}

static const char *
contact_ok(const Irnet__Contact *c)
{
	const char *w;
	if (c == NULL)
		return N_("missing contact");
	if ((w = line(c->name)) || (w = line(c->position)) || (w = line(c->address)) ||
	    (w = line(c->phone)) || (w = line(c->email)))
		return w;
	return NULL;
}

const char *
irn_report_validate(const Irnet__InitialReport *r)
{
	const char *w;
	if ((w = contact_ok(r->organisation)) || (w = contact_ok(r->contact_person)))
		return w;
	if (r->organisation->name == NULL || r->organisation->name[0] == '\0')
		return N_("organisation name is required");
	if ((w = line(r->operator_name)) || (w = line(r->owner_name)) || (w = line(r->system_name)) ||
	    (w = line(r->security_provider)) || (w = line(r->isp)) || (w = para(r->summary)) ||
	    (w = line(r->detected_by_other)) || (w = line(r->affected_os)) ||
	    (w = para(r->affected_services)) || (w = para(r->system_purpose)) ||
	    (w = para(r->measures_taken)) || (w = para(r->support_requested)) ||
	    (w = line(r->incident_ref)))
		return w;
	if (r->system_name[0] == '\0' || r->summary[0] == '\0')
		return N_("system name and summary are required");
	if (r->security_level < 1 || r->security_level > 5)
		return N_("security level must be 1 to 5");
	if (irn_category_name(r->category) == NULL)
		return N_("unknown incident category");
	if (r->detected_ms <= 0 || r->reported_ms <= 0)
		return N_("bad detection or report time");
	if (r->n_detected_by > 4 || r->n_notified > 3 || r->n_ip_addresses > IRN_MAX_LIST ||
	    r->n_domain_names > IRN_MAX_LIST || r->n_attachment_names > IRN_MAX_LIST ||
	    r->n_attachments > IRN_MAX_LIST)
		return N_("too many list entries");
	for (size_t i = 0; i < r->n_attachments; i++)
		if ((w = irn_attachment_ref_validate(r->attachments[i])))
			return w;
	for (size_t i = 0; i < r->n_detected_by; i++)
		if (r->detected_by[i] < 1 || r->detected_by[i] > 4)
			return N_("bad detection method");
	for (size_t i = 0; i < r->n_notified; i++)
		if (r->notified[i] < 1 || r->notified[i] > 3)
			return N_("bad notified party");
	for (size_t i = 0; i < r->n_ip_addresses; i++)
		if ((w = line(r->ip_addresses[i])))
			return w;
	for (size_t i = 0; i < r->n_domain_names; i++)
		if ((w = line(r->domain_names[i])))
			return w;
	for (size_t i = 0; i < r->n_attachment_names; i++)
		if ((w = line(r->attachment_names[i])))
			return w;
	return NULL;
}

/* ---- JSON form -> payload ---- */

static const char *
jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
jbool(const json_t *o, const char *key, protobuf_c_boolean *has)
{
	const json_t *v = json_object_get(o, key);
	if (has)
		*has = json_is_boolean(v);
	return json_is_true(v);
}

static void
fill_contact(Irnet__Contact *c, const json_t *o)
{
	irnet__contact__init(c);
	if (!json_is_object(o))
		return;
	c->name = (char *)jstr(o, "name");
	c->position = (char *)jstr(o, "position");
	c->address = (char *)jstr(o, "address");
	c->phone = (char *)jstr(o, "phone");
	c->email = (char *)jstr(o, "email");
}

/* Fill a string list from a JSON array; returns -1 on a non-string or overflow. */
static int
str_list(const json_t *a, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > IRN_MAX_LIST)
		return -1;
	size_t k = json_array_size(a);
	char **v = calloc(k ? k : 1, sizeof *v);
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < k; i++) {
		const json_t *s = json_array_get(a, i);
		if (!json_is_string(s)) {
			free(v);
			return -1;
		}
		v[i] = (char *)json_string_value(s);
	}
	*out = v;
	*n = k;
	return 0;
}

static int
enum_list(const json_t *a, const char *const *names, size_t nn, uint32_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (a == NULL)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > nn)
		return -1;
	size_t k = json_array_size(a);
	uint32_t *v = calloc(k ? k : 1, sizeof *v);
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < k; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		v[i] = 0;
		for (size_t j = 1; s && j < nn; j++)
			if (strcmp(names[j], s) == 0)
				v[i] = (uint32_t)j;
		if (v[i] == 0) {
			free(v);
			return -1;
		}
	}
	*out = v;
	*n = k;
	return 0;
}

static irn_err
time_field(const json_t *form, const char *key, int64_t dflt, int64_t *out)
{
	const char *s = jstr(form, key);
	if (s == NULL) {
		*out = dflt;
		return dflt ? IRN_OK : IRN_ERR_INVALID;
	}
	return irn_parse_time(s, out);
}

/* "attachment_files": [{"name", "size", "hash" (64 hex), "media_type"}]:
 * the files sent with the report as KIND_ATTACHMENT chunks. One block
 * holds the refs and their hashes: r->attachments[0] frees it. */
struct ref_slot {
	Irnet__AttachmentRef ref; /* first: &slot[0].ref is the block */
	uint8_t hash[IRN_HASH_LEN];
};

static int
attachment_refs(const json_t *a, Irnet__InitialReport *r, char *err, size_t errsz)
{
	if (a == NULL)
		return 0;
	size_t n = json_array_size(a);
	if (!json_is_array(a) || n > IRN_MAX_LIST) {
		snprintf(err, errsz, "%s", _("\"attachment_files\" must be a list of at most 64 files"));
		return -1;
	}
	if (n == 0)
		return 0;
	struct ref_slot *v = calloc(n, sizeof *v);
	Irnet__AttachmentRef **p = calloc(n, sizeof *p);
	if (v == NULL || p == NULL) {
		free(v);
		free(p);
		snprintf(err, errsz, "%s", irn_strerror(IRN_ERR_NOMEM));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(a, i);
		irnet__attachment_ref__init(&v[i].ref);
		const char *h = jstr(o, "hash");
		const json_t *sz = json_object_get(o, "size");
		if (!json_is_object(o) || !jstr(o, "name") || !json_is_integer(sz) ||
		    json_integer_value(sz) < 1 || h == NULL || strlen(h) != 2 * IRN_HASH_LEN ||
		    irn_unhex(v[i].hash, IRN_HASH_LEN, h) != IRN_OK) {
			snprintf(err, errsz, _("attachment file %zu needs \"name\", \"size\" and \"hash\""
					       " (64 hex digits)"), i + 1);
			free(v);
			free(p);
			return -1;
		}
		v[i].ref.name = (char *)jstr(o, "name");
		v[i].ref.size = (uint64_t)json_integer_value(sz);
		v[i].ref.hash.data = v[i].hash;
		v[i].ref.hash.len = IRN_HASH_LEN;
		v[i].ref.media_type = (char *)jstr(o, "media_type");
		p[i] = &v[i].ref;
	}
	r->attachments = p;
	r->n_attachments = n;
	return 0;
}

irn_err
irn_report_from_json(const json_t *form, int64_t now_ms, uint8_t **out, size_t *outlen,
		     char *err, size_t errsz)
{
	Irnet__InitialReport r = IRNET__INITIAL_REPORT__INIT;
	Irnet__Contact org, person;
	irn_err e = IRN_ERR_INVALID;
	if (!json_is_object(form)) {
		snprintf(err, errsz, "%s", _("the report must be a JSON object"));
		return e;
	}
	fill_contact(&org, json_object_get(form, "organisation"));
	fill_contact(&person, json_object_get(form, "contact"));
	r.organisation = &org;
	r.contact_person = &person;
	r.operator_name = (char *)jstr(form, "operator");
	r.owner_name = (char *)jstr(form, "owner");
	r.system_name = (char *)jstr(form, "system");
	r.security_provider = (char *)jstr(form, "security_provider");
	r.isp = (char *)jstr(form, "isp");
	r.summary = (char *)jstr(form, "summary");
	r.detected_by_other = (char *)jstr(form, "detected_by_other");
	r.affected_os = (char *)jstr(form, "affected_os");
	r.affected_services = (char *)jstr(form, "affected_services");
	r.system_purpose = (char *)jstr(form, "system_purpose");
	r.measures_taken = (char *)jstr(form, "measures_taken");
	r.support_requested = (char *)jstr(form, "support_requested");
	r.incident_ref = (char *)jstr(form, "ref");
	if (r.system_name == NULL || r.summary == NULL) {
		snprintf(err, errsz, "%s", _("the fields \"system\" and \"summary\" are required"));
		return e;
	}
	json_int_t lvl = json_integer_value(json_object_get(form, "security_level"));
	if (lvl < 1 || lvl > 5) {
		snprintf(err, errsz, "%s", _("\"security_level\" must be a number from 1 to 5"));
		return e;
	}
	r.security_level = (uint32_t)lvl;
	const char *cat = jstr(form, "category");
	int c = cat ? irn_category_parse(cat) : -1;
	if (c < 0) {
		snprintf(err, errsz, _("unknown \"category\" %s (see irnet-node report --help)"),
			 cat ? cat : "(missing)");
		return e;
	}
	r.category = (uint32_t)c;
	if (time_field(form, "detected_at", 0, &r.detected_ms) != IRN_OK ||
	    time_field(form, "reported_at", now_ms, &r.reported_ms) != IRN_OK) {
		snprintf(err, errsz, "%s", _("\"detected_at\" is required, as 2026-11-25T08:30:00+07:00"));
		return e;
	}
	r.handled = jbool(form, "handled", NULL);
	r.confidential = jbool(form, "confidential", NULL);
	r.critical_list = jbool(form, "critical_list", &r.has_critical_list);
	const json_t *imp = json_object_get(form, "impact");
	r.impact_interruption = jbool(imp, "interruption", &r.has_impact_interruption);
	r.impact_disclosure = jbool(imp, "disclosure", &r.has_impact_disclosure);
	r.impact_integrity = jbool(imp, "integrity", &r.has_impact_integrity);
	r.impact_control = jbool(imp, "control", &r.has_impact_control);
	r.impact_spread = jbool(imp, "spread", &r.has_impact_spread);
	protobuf_c_boolean has;
	bool alone = jbool(form, "can_handle_alone", &has);
	r.has_can_handle_alone = true;
	r.can_handle_alone = has ? alone : true;

	if (str_list(json_object_get(form, "ip_addresses"), &r.ip_addresses, &r.n_ip_addresses) ||
	    str_list(json_object_get(form, "domain_names"), &r.domain_names, &r.n_domain_names) ||
	    str_list(json_object_get(form, "attachments"), &r.attachment_names, &r.n_attachment_names) ||
	    enum_list(json_object_get(form, "detected_by"), detected_by_names, 5, &r.detected_by,
		      &r.n_detected_by) ||
	    enum_list(json_object_get(form, "notified"), notified_names, 4, &r.notified,
		      &r.n_notified)) {
		snprintf(err, errsz, "%s", _("a list field holds a wrong value or too many entries"));
		goto out;
	}
	if (attachment_refs(json_object_get(form, "attachment_files"), &r, err, errsz) != 0)
		goto out;
	const char *why = irn_report_validate(&r);
	if (why) {
		snprintf(err, errsz, "%s", _(why)); /* for the person who filled the form */
		goto out;
	}
	size_t n = irnet__initial_report__get_packed_size(&r);
	if (n > IRN_MAX_PAYLOAD) {
		snprintf(err, errsz, "%s", _("the report is too large"));
		e = IRN_ERR_TOOBIG;
		goto out;
	}
	*out = malloc(n ? n : 1);
	if (*out == NULL) {
		e = IRN_ERR_NOMEM;
		goto out;
	}
	irnet__initial_report__pack(&r, *out);
	*outlen = n;
	e = IRN_OK;
out:
	free(r.ip_addresses);
	free(r.domain_names);
	free(r.attachment_names);
	if (r.attachments)
		free(r.attachments[0]); /* one array of refs (attachment_refs) */
	free(r.attachments);
	free(r.detected_by);
	free(r.notified);
	return e;
}

/* ---- payload -> JSON ---- */

static void
set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static json_t *
contact_json(const Irnet__Contact *c)
{
	json_t *o = json_object();
	if (c) {
		set_str(o, "name", c->name);
		set_str(o, "position", c->position);
		set_str(o, "address", c->address);
		set_str(o, "phone", c->phone);
		set_str(o, "email", c->email);
	}
	return o;
}

static json_t *
strs_json(char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
enums_json(const uint32_t *v, size_t n, const char *const *names, size_t nn)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		if (v[i] > 0 && v[i] < nn)
			json_array_append_new(a, json_string(names[v[i]]));
	return a;
}

json_t *
irn_report_to_json(const uint8_t *p, size_t len)
{
	Irnet__InitialReport *r = irnet__initial_report__unpack(NULL, len, p);
	if (r == NULL)
		return NULL;
	if (irn_report_validate(r) != NULL) {
		irnet__initial_report__free_unpacked(r, NULL);
		return NULL;
	}
	char t1[40], t2[40];
	irn_fmt_time_utc(t1, sizeof t1, r->detected_ms);
	irn_fmt_time_utc(t2, sizeof t2, r->reported_ms);
	json_t *o = json_object();
	json_object_set_new(o, "organisation", contact_json(r->organisation));
	json_object_set_new(o, "contact", contact_json(r->contact_person));
	set_str(o, "operator", r->operator_name);
	set_str(o, "owner", r->owner_name);
	set_str(o, "system", r->system_name);
	json_object_set_new(o, "security_level", json_integer(r->security_level));
	json_object_set_new(o, "critical_list", json_boolean(r->critical_list));
	set_str(o, "security_provider", r->security_provider);
	set_str(o, "isp", r->isp);
	set_str(o, "summary", r->summary);
	set_str(o, "category", irn_category_name(r->category));
	json_object_set_new(o, "detected_at", json_string(t1));
	json_object_set_new(o, "handled", json_boolean(r->handled));
	json_object_set_new(o, "detected_by", enums_json(r->detected_by, r->n_detected_by, detected_by_names, 5));
	set_str(o, "detected_by_other", r->detected_by_other);
	json_object_set_new(o, "notified", enums_json(r->notified, r->n_notified, notified_names, 4));
	set_str(o, "affected_os", r->affected_os);
	set_str(o, "affected_services", r->affected_services);
	json_object_set_new(o, "ip_addresses", strs_json(r->ip_addresses, r->n_ip_addresses));
	json_object_set_new(o, "domain_names", strs_json(r->domain_names, r->n_domain_names));
	set_str(o, "system_purpose", r->system_purpose);
	set_str(o, "measures_taken", r->measures_taken);
	json_object_set_new(o, "attachments", strs_json(r->attachment_names, r->n_attachment_names));
	if (r->n_attachments) {
		json_t *af = json_array();
		for (size_t i = 0; i < r->n_attachments; i++) {
			char hex[2 * IRN_HASH_LEN + 1];
			irn_hex(hex, r->attachments[i]->hash.data, IRN_HASH_LEN);
			json_t *f = json_pack("{s:s,s:I,s:s}", "name", r->attachments[i]->name, "size",
					      (json_int_t)r->attachments[i]->size, "hash", hex);
			set_str(f, "media_type", r->attachments[i]->media_type);
			json_array_append_new(af, f);
		}
		json_object_set_new(o, "attachment_files", af);
	}
	json_object_set_new(o, "confidential", json_boolean(r->confidential));
	set_str(o, "support_requested", r->support_requested);
	json_object_set_new(o, "reported_at", json_string(t2));
	json_object_set_new(o, "impact", json_pack("{s:b,s:b,s:b,s:b,s:b}",
		"interruption", r->impact_interruption, "disclosure", r->impact_disclosure,
		"integrity", r->impact_integrity, "control", r->impact_control,
		"spread", r->impact_spread));
	json_object_set_new(o, "can_handle_alone", json_boolean(r->can_handle_alone));
	set_str(o, "ref", r->incident_ref);
	json_object_set_new(o, "severity", json_string(irn_report_serious(r) ? "serious" : "normal"));
	irnet__initial_report__free_unpacked(r, NULL);
	return o;
}
