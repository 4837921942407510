/*
 * log.c - formatted log lines to stderr, text or JSON.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

static enum log_format log_fmt = LOG_TEXT;
static enum log_level log_min = LOG_INFO;

void log_init(enum log_format format, enum log_level min_level)
{
	log_fmt = format;
	log_min = min_level;
}

static const char *level_name(enum log_level level)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	return names[level];
}

/* json_escape_into copies s into out as JSON string content, truncating. */
static size_t json_escape_into(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

static void log_emit(enum log_level level, int errnum, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void log_emit(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char msg[2048], line[4608], ts[40];
	int n;

	if (level < log_min)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum) {
		size_t len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(errnum));
	}
	clock_format_ms(clock_now_ms(), ts, sizeof(ts));
	if (log_fmt == LOG_JSON) {
		char esc[4200];
		json_escape_into(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"}\n",
			     ts, level_name(level), esc);
	} else {
		n = snprintf(line, sizeof(line), "%s %-5s %s\n", ts, level_name(level), msg);
	}
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

#define LOG_FN(fname, level, with_errno)               \
	void fname(const char *fmt, ...)               \
	{                                              \
		int saved = with_errno ? errno : 0;    \
		va_list ap;                            \
		va_start(ap, fmt);                     \
		log_emit(level, saved, fmt, ap);       \
		va_end(ap);                            \
	}

LOG_FN(log_debug, LOG_DEBUG, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_warn, LOG_WARN, 1)
LOG_FN(log_warnx, LOG_WARN, 0)
LOG_FN(log_error, LOG_ERROR, 0)
