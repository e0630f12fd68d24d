/* log.c - leveled logging to stderr, optionally as JSON lines. */
#include "irnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

static const char *log_prog = "irnet";
static irn_log_level log_level = IRN_LOG_INFO;
static bool log_json;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
irn_log_init(const char *progname, irn_log_level level, bool json)
{
	log_prog = progname;
	log_level = level;
	log_json = json;
}

int
irn_log_parse_level(const char *s, irn_log_level *out)
{
	for (int i = 0; i <= IRN_LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (irn_log_level)i;
			return 0;
		}
	return -1;
}

static void
emit(irn_log_level lvl, const char *event, const char *member, const char *reason,
     const char *text)
{
	char ts[40];
	irn_fmt_time_utc(ts, sizeof ts, irn_now_ms());
	if (log_json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "time", ts, "prog", log_prog,
				      "level", level_names[lvl], "msg", text);
		if (o == NULL)
			return;
		if (event)
			json_object_set_new(o, "event", json_string(event));
		if (member)
			json_object_set_new(o, "member", json_string(member));
		if (reason)
			json_object_set_new(o, "reason", json_string(reason));
		char *s = json_dumps(o, JSON_COMPACT);
		if (s)
			fprintf(stderr, "%s\n", s);
		free(s);
		json_decref(o);
	} else if (event) {
		fprintf(stderr, "%s %s[%d] %s: SECURITY member=%s reason=%s: %s\n", ts,
			log_prog, (int)getpid(), level_names[lvl], member ? member : "-",
			reason ? reason : "-", text);
	} else {
		fprintf(stderr, "%s %s[%d] %s: %s\n", ts, log_prog, (int)getpid(),
			level_names[lvl], text);
	}
	fflush(stderr);
}

void
irn_log(irn_log_level lvl, const char *fmt, ...)
{
	if (lvl > log_level)
		return;
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	emit(lvl, NULL, NULL, NULL, buf);
}

void
irn_security_event(const char *member, const char *reason, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	emit(IRN_LOG_WARN, "security", member, reason, buf);
}
