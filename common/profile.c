/* profile.c - Forms 01/02 member profiles (profile.h). */
#include "profile.h"
#include "canon.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

static const char *
line(const char *s)
{
	return s ? irn_text_check(s, strlen(s), IRN_MAX_SHORT_TEXT, 0) : NULL;
}

static const char *
contact_ok(const Irnet__Contact *c, bool need_phone)
{
	const char *w;
	if (c == NULL)
		return N_("missing contact");
	if ((w = line(c->name)) || (w = line(c->position)) || (w = line(c->address)) ||
	    (w = line(c->phone)) || (w = line(c->email)))
		return w;
	if (need_phone && (c->name == NULL || !*c->name || c->phone == NULL || !*c->phone))
		return N_("a 24/7 contact needs a name and a phone");
	return NULL;
}

const char *
irn_profile_validate(const uint8_t *p, size_t len)
{
	Irnet__MemberProfile *m = irnet__member_profile__unpack(NULL, len, p);
	if (m == NULL)
		return N_("profile does not decode");
	const char *w = NULL;
	if (!irn_pb_canonical(&m->base, p, len))
		w = N_("profile not canonical");
	else if ((w = contact_ok(m->organisation, false)) != NULL)
		;
	else if (m->organisation->name == NULL || !*m->organisation->name)
		w = N_("the profile needs the organisation's name");
	else if ((w = contact_ok(m->primary, true)) || (w = contact_ok(m->backup, true)))
		;
	else if (m->n_systems > IRN_MAX_PROFILE_SYSTEMS)
		w = N_("too many systems in the profile");
	else if (m->effective_ms <= 0)
		w = N_("bad effective time");
	else if (m->note && irn_text_check(m->note, strlen(m->note), IRN_MAX_LONG_TEXT,
					    IRN_TEXT_MULTILINE))
		w = N_("bad note");
	for (size_t i = 0; w == NULL && i < m->n_systems; i++) {
		const Irnet__SystemInfo *s = m->systems[i];
		if (s->name == NULL || !*s->name || line(s->name))
			w = N_("a system needs a name (one line of text)");
		else if (s->security_level < 1 || s->security_level > 5)
			w = N_("a system's security level must be 1 to 5");
		else if (line(s->purpose))
			w = N_("bad system purpose");
		else if (s->owner && !irn_member_id_ok(s->owner))
			w = N_("a system's owner must be a member id");
	}
	irnet__member_profile__free_unpacked(m, NULL);
	return w;
}

static const char *
jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
fill_contact(Irnet__Contact *c, const json_t *o)
{
	irnet__contact__init(c);
	if (!json_is_object(o))
		return false;
	c->name = (char *)jstr(o, "name");
	c->position = (char *)jstr(o, "position");
	c->address = (char *)jstr(o, "address");
	c->phone = (char *)jstr(o, "phone");
	c->email = (char *)jstr(o, "email");
	return true;
}

irn_err
irn_profile_from_json(const json_t *form, int64_t now_ms, uint8_t **out, size_t *outlen,
		      char *err, size_t errsz)
{
	*out = NULL;
	*outlen = 0;
	if (!json_is_object(form)) {
		snprintf(err, errsz, "%s", _("the profile form must be a JSON object"));
		return IRN_ERR_INVALID;
	}
	static const char *const known[] = { "organisation", "primary", "backup", "systems",
					     "effective", "note", NULL };
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)form, key, val) {
		bool ok = false;
		for (size_t i = 0; known[i]; i++)
			ok |= !strcmp(known[i], key);
		if (!ok) {
			snprintf(err, errsz, _("unknown field \"%s\" in the profile form"), key);
			return IRN_ERR_INVALID;
		}
	}
	Irnet__MemberProfile m;
	Irnet__Contact org, pri, bak;
	irnet__member_profile__init(&m);
	if (!fill_contact(&org, json_object_get(form, "organisation")) ||
	    !fill_contact(&pri, json_object_get(form, "primary")) ||
	    !fill_contact(&bak, json_object_get(form, "backup"))) {
		snprintf(err, errsz, "%s",
			 _("the profile needs \"organisation\", \"primary\" and \"backup\" objects"));
		return IRN_ERR_INVALID;
	}
	m.organisation = &org;
	m.primary = &pri;
	m.backup = &bak;
	m.effective_ms = now_ms;
	const char *eff = jstr(form, "effective");
	if (eff && irn_parse_time(eff, &m.effective_ms) != IRN_OK) {
		snprintf(err, errsz, _("bad time \"%s\" (use 2026-11-25T08:00:00+07:00)"), eff);
		return IRN_ERR_INVALID;
	}
	m.note = (char *)jstr(form, "note");
	const json_t *sys = json_object_get(form, "systems");
	if (sys && (!json_is_array(sys) || json_array_size(sys) > IRN_MAX_PROFILE_SYSTEMS)) {
		snprintf(err, errsz, _("\"systems\" must be a list of at most %d systems"),
			 IRN_MAX_PROFILE_SYSTEMS);
		return IRN_ERR_INVALID;
	}
	size_t ns = json_array_size(sys);
	Irnet__SystemInfo *si = calloc(ns ? ns : 1, sizeof *si);
	Irnet__SystemInfo **sp = calloc(ns ? ns : 1, sizeof *sp);
	irn_err e = si && sp ? IRN_OK : IRN_ERR_NOMEM;
	for (size_t i = 0; e == IRN_OK && i < ns; i++) {
		const json_t *o = json_array_get(sys, i);
		irnet__system_info__init(&si[i]);
		const json_t *lv = json_object_get(o, "security_level");
		if (!json_is_object(o) || !json_is_integer(lv)) {
			snprintf(err, errsz, _("system %zu needs \"name\" and \"security_level\" (1-5)"), i + 1);
			e = IRN_ERR_INVALID;
			break;
		}
		si[i].name = (char *)jstr(o, "name");
		si[i].security_level = (uint32_t)json_integer_value(lv);
		si[i].purpose = (char *)jstr(o, "purpose");
		si[i].owner = (char *)jstr(o, "owner");
		const json_t *cl = json_object_get(o, "critical_list");
		si[i].has_critical_list = json_is_boolean(cl);
		si[i].critical_list = json_is_true(cl);
		sp[i] = &si[i];
	}
	m.systems = sp;
	m.n_systems = ns;
	if (e == IRN_OK) {
		size_t n = irnet__member_profile__get_packed_size(&m);
		*out = malloc(n ? n : 1);
		if (*out == NULL) {
			e = IRN_ERR_NOMEM;
		} else {
			*outlen = irnet__member_profile__pack(&m, *out);
			const char *w = irn_profile_validate(*out, *outlen);
			if (w) {
				snprintf(err, errsz, _("the profile is not valid: %s"), _(w));
				free(*out);
				*out = NULL;
				*outlen = 0;
				e = IRN_ERR_INVALID;
			}
		}
	}
	if (e == IRN_ERR_NOMEM)
		snprintf(err, errsz, "%s", irn_strerror(e));
	free(si);
	free(sp);
	return e;
}

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

json_t *
irn_profile_to_json(const uint8_t *p, size_t len)
{
	Irnet__MemberProfile *m = irnet__member_profile__unpack(NULL, len, p);
	if (m == NULL)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "organisation", contact_json(m->organisation));
	json_object_set_new(o, "primary", contact_json(m->primary));
	json_object_set_new(o, "backup", contact_json(m->backup));
	json_t *a = json_array();
	for (size_t i = 0; i < m->n_systems; i++) {
		const Irnet__SystemInfo *s = m->systems[i];
		json_t *so = json_pack("{s:s,s:i}", "name", s->name, "security_level",
				       (int)s->security_level);
		set_str(so, "purpose", s->purpose);
		set_str(so, "owner", s->owner);
		if (s->has_critical_list)
			json_object_set_new(so, "critical_list", json_boolean(s->critical_list));
		json_array_append_new(a, so);
	}
	json_object_set_new(o, "systems", a);
	json_object_set_new(o, "effective_ms", json_integer(m->effective_ms));
	set_str(o, "note", m->note);
	irnet__member_profile__free_unpacked(m, NULL);
	return o;
}
