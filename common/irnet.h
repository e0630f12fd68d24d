/*
 * irnet.h - project-wide error codes, limits and small utilities.
 *
 * Every public function in common/ returns an irn_err (0 on success) unless
 * it documents otherwise. Ownership of returned memory is stated next to each
 * declaration.
 */
#ifndef IRNET_H
#define IRNET_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>
#include <libintl.h>

#define IRN_MUST_CHECK __attribute__((warn_unused_result))
#define IRN_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define _(s) dgettext("irnet", s)
#define N_(s) (s)

typedef enum {
	IRN_OK = 0,
	IRN_ERR_NOMEM,
	IRN_ERR_IO,
	IRN_ERR_DECODE,     /* bytes do not decode */
	IRN_ERR_INVALID,    /* decoded but breaks a rule or limit */
	IRN_ERR_SIGNATURE,
	IRN_ERR_PERM,       /* file mode too wide, or not allowed */
	IRN_ERR_NOTFOUND,
	IRN_ERR_EXISTS,
	IRN_ERR_STALE,      /* older version than held */
	IRN_ERR_EXPIRED,
	IRN_ERR_DB,
	IRN_ERR_FULL,       /* disk or database full */
	IRN_ERR_BUSY,
	IRN_ERR_TOOBIG,
	IRN_ERR_CONFLICT,
	IRN_ERR_TIMEOUT,
	IRN_ERR__COUNT
} irn_err;

const char *irn_strerror(irn_err e);

/* ---- limits (docs/PROTOCOL.md "Limits") ---- */
#define IRN_PROTOCOL_VERSION    1
#define IRN_MAX_FRAME_IN        (256 * 1024)     /* node -> broker frame */
#define IRN_MAX_FRAME_OUT       (16 * 1024 * 1024) /* broker -> node (rosters) */
#define IRN_MAX_ENVELOPE        (256 * 1024 - 64)
#define IRN_MAX_PAYLOAD         (192 * 1024)
#define IRN_MAX_ROSTER_BYTES    (8 * 1024 * 1024)
#define IRN_MAX_ROSTER_MEMBERS  20000
#define IRN_MAX_ROTATIONS       16
#define IRN_MAX_ID              64    /* member id bytes */
#define IRN_MAX_NETWORK         32
#define IRN_MAX_RECIPIENTS      64
#define IRN_MAX_ROLES_IN_LIST   9
#define IRN_MAX_SHORT_TEXT      256   /* names, phones, single-line fields */
#define IRN_MAX_LONG_TEXT       16384 /* summaries, measures taken */
#define IRN_MAX_LIST            64    /* repeated strings in a payload */
#define IRN_MAX_FUTURE_MS       (5 * 60 * 1000) /* created_ms ahead of receiver */
#define IRN_MSGID_LEN           16
#define IRN_KEYID_LEN           16
#define IRN_HASH_LEN            32
#define IRN_PK_LEN              32
#define IRN_SIG_LEN             64

/* ---- logging (log.c) ---- */
typedef enum { IRN_LOG_ERROR, IRN_LOG_WARN, IRN_LOG_INFO, IRN_LOG_DEBUG } irn_log_level;
void irn_log_init(const char *progname, irn_log_level level, bool json);
int irn_log_parse_level(const char *s, irn_log_level *out);
void irn_log(irn_log_level lvl, const char *fmt, ...) IRN_PRINTF(2, 3);
/* A refusal or other security-relevant event, always logged. */
void irn_security_event(const char *member, const char *reason, const char *fmt, ...)
	IRN_PRINTF(3, 4);
#define log_error(...) irn_log(IRN_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  irn_log(IRN_LOG_WARN, __VA_ARGS__)
#define log_info(...)  irn_log(IRN_LOG_INFO, __VA_ARGS__)
#define log_debug(...) irn_log(IRN_LOG_DEBUG, __VA_ARGS__)

/* ---- util.c ---- */
int64_t irn_now_ms(void);
/* Test hook: IRNET_CLOCK_OFFSET_MS in the environment shifts irn_now_ms. */
void irn_hex(char *out, const uint8_t *in, size_t n); /* out has 2n+1 bytes */
irn_err irn_unhex(uint8_t *out, size_t n, const char *in) IRN_MUST_CHECK;
/* Format UTC ms as local time in the zone tz (NULL: process TZ) */
void irn_fmt_time(char *out, size_t outsz, int64_t ms, const char *tz);
void irn_fmt_time_utc(char *out, size_t outsz, int64_t ms);
/* Parse RFC 3339 ("2026-11-25T08:00:00Z", "...+07:00") or "now" into ms. */
irn_err irn_parse_time(const char *s, int64_t *out_ms) IRN_MUST_CHECK;
/* Read a whole file (at most max bytes). *out malloc'ed, caller frees. */
irn_err irn_read_file(const char *path, size_t max, uint8_t **out, size_t *outlen) IRN_MUST_CHECK;
/* read(2) exactly n bytes, retrying on EINTR: 0, or -1 on error or EOF. */
int irn_read_full(int fd, void *buf, size_t n);
/* Atomically write a file with mode (write temp, fsync, rename, fsync dir). */
irn_err irn_write_file(const char *path, const uint8_t *data, size_t len, int mode) IRN_MUST_CHECK;
irn_err irn_mkdir_p(const char *path, int mode) IRN_MUST_CHECK;
/* snprintf that reports truncation as failure */
int irn_snprintf(char *buf, size_t sz, const char *fmt, ...) IRN_PRINTF(3, 4);
void irn_msgid_new(uint8_t id[IRN_MSGID_LEN]);
/* Initialise libsodium, locale and gettext. Returns -1 if sodium fails. */
int irn_global_init(void);
/* Fault injection for the crash tests: IRNET_CRASH_AT=NAME[:N] kills the
 * process with SIGKILL the N-th time (default 1st) it reaches point NAME. */
void irn_crash_point(const char *name);

#endif
