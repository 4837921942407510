/*
 * log.h - one line per event that matters.
 *
 * Messages are lowercase, without a trailing period, the subject quoted:
 *     log_warn("cannot open '%s'", path);
 * log_warn() appends strerror(errno); log_warnx() does not. In json format each
 * line is an object {"time","level","msg"} for log collectors. Thread-safe:
 * a line is written with one write(2).
 */
#ifndef HK_LOG_H
#define HK_LOG_H

#include <stdbool.h>

enum log_format { LOG_TEXT, LOG_JSON };
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(enum log_format format, enum log_level min_level);

#define HK_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_debug(const char *fmt, ...) HK_PRINTF(1, 2);
void log_info(const char *fmt, ...) HK_PRINTF(1, 2);
void log_warn(const char *fmt, ...) HK_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) HK_PRINTF(1, 2);
void log_error(const char *fmt, ...) HK_PRINTF(1, 2);

#endif
