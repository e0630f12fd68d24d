/* util.c - time, hex, files, init. */
#include "irnet.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <libgen.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

static const char *const err_names[IRN_ERR__COUNT] = {
	[IRN_OK] = N_("success"),
	[IRN_ERR_NOMEM] = N_("out of memory"),
	[IRN_ERR_IO] = N_("input/output error"),
	[IRN_ERR_DECODE] = N_("malformed data"),
	[IRN_ERR_INVALID] = N_("invalid data"),
	[IRN_ERR_SIGNATURE] = N_("bad signature"),
	[IRN_ERR_PERM] = N_("permission denied"),
	[IRN_ERR_NOTFOUND] = N_("not found"),
	[IRN_ERR_EXISTS] = N_("already exists"),
	[IRN_ERR_STALE] = N_("older than what is held"),
	[IRN_ERR_EXPIRED] = N_("expired"),
	[IRN_ERR_DB] = N_("database error"),
	[IRN_ERR_FULL] = N_("disk or database full"),
	[IRN_ERR_BUSY] = N_("busy"),
	[IRN_ERR_TOOBIG] = N_("too large"),
	[IRN_ERR_CONFLICT] = N_("conflict"),
	[IRN_ERR_TIMEOUT] = N_("timed out"),
};

const char *
irn_strerror(irn_err e)
{
	if ((unsigned)e >= IRN_ERR__COUNT)
		return "unknown error";
	return _(err_names[e]);
}

int64_t
irn_now_ms(void)
{
	static int have_offset = -1;
	static int64_t offset;
	if (have_offset < 0) {
		const char *s = getenv("IRNET_CLOCK_OFFSET_MS");
		offset = s ? strtoll(s, NULL, 10) : 0;
		have_offset = 1;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + offset;
}

void
irn_hex(char *out, const uint8_t *in, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

irn_err
irn_unhex(uint8_t *out, size_t n, const char *in)
{
	size_t got = 0;
	const char *end = NULL;
	if (in == NULL || strlen(in) != 2 * n)
		return IRN_ERR_INVALID;
	if (sodium_hex2bin(out, n, in, 2 * n, NULL, &got, &end) != 0 || got != n ||
	    *end != '\0')
		return IRN_ERR_INVALID;
	return IRN_OK;
}

void
irn_fmt_time_utc(char *out, size_t outsz, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char b[32];
	strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outsz, "%s.%03dZ", b, (int)(ms % 1000 + 1000) % 1000);
}

void
irn_fmt_time(char *out, size_t outsz, int64_t ms, const char *tz)
{
	char *old = NULL;
	if (tz) {
		const char *o = getenv("TZ");
		old = o ? strdup(o) : NULL;
		setenv("TZ", tz, 1);
		tzset();
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	char b[48];
	strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S %z", &tm);
	snprintf(out, outsz, "%s", b);
	if (tz) {
		if (old)
			setenv("TZ", old, 1);
		else
			unsetenv("TZ");
		tzset();
		free(old);
	}
}

/* n decimal digits at s, nothing else: the value, or -1. */
static int
digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Strict RFC 3339: YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM).
 * No signs, spaces or impossible dates slip through (sscanf would allow them). */
irn_err
irn_parse_time(const char *s, int64_t *out_ms)
{
	if (strcmp(s, "now") == 0) {
		*out_ms = irn_now_ms();
		return IRN_OK;
	}
	size_t len = strlen(s);
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off_min = 0;
	if (len < 10 || s[4] != '-' || s[7] != '-' || (y = digits(s, 4)) < 0 ||
	    (mo = digits(s + 5, 2)) < 0 || (d = digits(s + 8, 2)) < 0)
		return IRN_ERR_INVALID;
	const char *rest = s + 10;
	if (*rest != '\0') {
		if (len < 20 || rest[0] != 'T' || rest[3] != ':' || rest[6] != ':' ||
		    (h = digits(rest + 1, 2)) < 0 || (mi = digits(rest + 4, 2)) < 0 ||
		    (sec = digits(rest + 7, 2)) < 0)
			return IRN_ERR_INVALID;
		rest += 9;
		if (*rest == '.') {
			if ((ms = digits(rest + 1, 3)) < 0)
				return IRN_ERR_INVALID;
			rest += 4;
		}
		if (rest[0] == 'Z' && rest[1] == '\0') {
			off_min = 0;
		} else if ((rest[0] == '+' || rest[0] == '-') && strlen(rest) == 6 && rest[3] == ':') {
			int oh = digits(rest + 1, 2), om = digits(rest + 4, 2);
			if (oh < 0 || om < 0 || oh > 14 || om > 59)
				return IRN_ERR_INVALID;
			off_min = (oh * 60 + om) * (rest[0] == '-' ? -1 : 1);
		} else {
			return IRN_ERR_INVALID;
		}
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
		return IRN_ERR_INVALID;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = sec };
	time_t t = timegm(&tm);
	if (tm.tm_mday != d || tm.tm_mon != mo - 1) /* 2026-02-31 is not a date */
		return IRN_ERR_INVALID;
	*out_ms = ((int64_t)t - (int64_t)off_min * 60) * 1000 + ms;
	return IRN_OK;
}

int
irn_read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

irn_err
irn_read_file(const char *path, size_t max, uint8_t **out, size_t *outlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? IRN_ERR_NOTFOUND : IRN_ERR_IO;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return IRN_ERR_IO;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return IRN_ERR_TOOBIG;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n + 1);
	if (buf == NULL) {
		close(fd);
		return IRN_ERR_NOMEM;
	}
	int rr = irn_read_full(fd, buf, n);
	close(fd);
	if (rr != 0) {
		free(buf);
		return IRN_ERR_IO;
	}
	buf[n] = 0;
	*out = buf;
	*outlen = n;
	return IRN_OK;
}

irn_err
irn_write_file(const char *path, const uint8_t *data, size_t len, int mode)
{
	char tmp[4096];
	if (irn_snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return IRN_ERR_INVALID;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return IRN_ERR_IO;
	(void)fchmod(fd, (mode_t)mode);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			irn_err e = errno == ENOSPC ? IRN_ERR_FULL : IRN_ERR_IO;
			close(fd);
			unlink(tmp);
			return e;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return IRN_ERR_IO;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return IRN_ERR_IO;
	}
	char dirbuf[4096];
	snprintf(dirbuf, sizeof dirbuf, "%s", path);
	int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return IRN_OK;
}

irn_err
irn_mkdir_p(const char *path, int mode)
{
	char buf[4096];
	if (irn_snprintf(buf, sizeof buf, "%s", path) < 0)
		return IRN_ERR_INVALID;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
			return IRN_ERR_IO;
		*p = '/';
	}
	if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
		return IRN_ERR_IO;
	return IRN_OK;
}

int
irn_snprintf(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sz)
		return -1;
	return n;
}

void
irn_msgid_new(uint8_t id[IRN_MSGID_LEN])
{
	randombytes_buf(id, IRN_MSGID_LEN);
}

int
irn_global_init(void)
{
	setlocale(LC_ALL, "");
	const char *dir = getenv("IRNET_LOCALEDIR");
	if (dir == NULL) {
		struct stat st;
		dir = stat(IRNET_BUILD_LOCALEDIR, &st) == 0 ? IRNET_BUILD_LOCALEDIR
							    : IRNET_LOCALEDIR;
	}
	bindtextdomain("irnet", dir);
	bind_textdomain_codeset("irnet", "UTF-8");
	if (getenv("TZ") == NULL)
		setenv("TZ", "Asia/Ho_Chi_Minh", 0);
	tzset();
	return sodium_init() < 0 ? -1 : 0;
}

void
irn_crash_point(const char *name)
{
	static long hits;
	const char *spec = getenv("IRNET_CRASH_AT");
	if (spec == NULL || *spec == '\0')
		return;
	size_t nl = strlen(name);
	if (strncmp(spec, name, nl) != 0 || (spec[nl] != '\0' && spec[nl] != ':'))
		return;
	long at = spec[nl] == ':' ? strtol(spec + nl + 1, NULL, 10) : 1;
	if (++hits == at) {
		fprintf(stderr, "irnet: crash point %s reached (hit %ld): SIGKILL\n", name, hits);
		raise(SIGKILL);
	}
}
