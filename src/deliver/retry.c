/*
 * retry.c - retry schedules, jitter and the Retry-After header.
 *
 * Everything a remote party or an operator writes is parsed here with a
 * cursor over a bounded string: no strtol (it accepts signs, blanks and
 * locale quirks we do not want), no strptime (locale-dependent). Jitter keeps
 * a fleet of deliveries that failed together from coming back together.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/id.h"
#include "deliver/retry.h"

/* ---- schedules ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* unit_ms maps a unit suffix to milliseconds, 0 if unknown. No suffix is seconds. */
static int64_t unit_ms(const char *u, size_t n)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {{"", 1000},   {"ms", 1},      {"s", 1000},
	             {"m", 60000}, {"h", 3600000}, {"d", 86400000}};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
			return units[i].ms;
	return 0;
}

/*
 * parse_item reads one wait from [p, end) into *ms. Blanks around the item
 * and between the number and its unit are ignored.
 */
static int parse_item(const char *p, const char *end, int idx, int64_t *ms, char *reason,
                      size_t cap)
{
	const char *start, *unit;
	int64_t v = 0, mult;
	int len;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	start = p;
	len = (int)(end - start > 32 ? 32 : end - start);
	if (p == end) {
		snprintf(reason, cap, "item %d is empty", idx);
		return HK_EINVAL;
	}
	if (*p == '-') {
		snprintf(reason, cap, "item %d '%.*s' is negative", idx, len, start);
		return HK_EINVAL;
	}
	if (!isdigit((unsigned char)*p)) {
		snprintf(reason, cap, "item %d '%.*s' is not a number", idx, len, start);
		return HK_EINVAL;
	}
	for (; p < end && isdigit((unsigned char)*p); p++) {
		if (v > RETRY_MAX_DELAY_MS) /* already too long in any unit */
			continue;
		v = v * 10 + (*p - '0');
	}
	while (p < end && is_blank(*p))
		p++;
	unit = p;
	mult = unit_ms(unit, (size_t)(end - unit));
	if (mult == 0) {
		snprintf(reason, cap, "item %d '%.*s' has an unknown unit (use ms, s, m, h or d)",
		         idx, len, start);
		return HK_EINVAL;
	}
	if (v > RETRY_MAX_DELAY_MS / mult) {
		snprintf(reason, cap, "item %d '%.*s' is longer than a year", idx, len, start);
		return HK_EINVAL;
	}
	*ms = v * mult;
	return 0;
}

int retry_schedule_parse(struct retry_schedule *s, const char *spec, char *reason,
                         size_t reason_cap)
{
	struct retry_schedule out = {.n = 0};
	char scratch[1];
	const char *p, *end, *comma;
	int rc;

	if (!reason) {
		reason = scratch;
		reason_cap = sizeof scratch;
	}
	if (reason_cap > 0)
		reason[0] = '\0';
	if (!spec) {
		snprintf(reason, reason_cap, "no schedule given");
		return HK_EINVAL;
	}
	if (strnlen(spec, RETRY_MAX_SPEC_LEN + 1) > RETRY_MAX_SPEC_LEN) {
		snprintf(reason, reason_cap, "longer than %d characters", RETRY_MAX_SPEC_LEN);
		return HK_EINVAL;
	}
	p = spec;
	end = spec + strlen(spec);
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (out.n == RETRY_MAX_ENTRIES) {
			snprintf(reason, reason_cap, "more than %d items", RETRY_MAX_ENTRIES);
			return HK_EINVAL;
		}
		rc = parse_item(p, comma ? comma : end, out.n + 1, &out.delay_ms[out.n], reason,
		                reason_cap);
		if (rc < 0)
			return rc;
		out.n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	*s = out;
	return 0;
}

void retry_schedule_default(struct retry_schedule *s)
{
	int rc = retry_schedule_parse(s, RETRY_DEFAULT_SCHEDULE, NULL, 0);
	(void)rc; /* the default is a constant that parses */
}

int retry_attempts(const struct retry_schedule *s)
{
	return s->n + 1;
}

int64_t retry_next_delay(const struct retry_schedule *s, int attempt, double random_fraction)
{
	double base, factor, v;

	if (attempt < 1 || attempt > s->n)
		return RETRY_EXHAUSTED;
	if (!(random_fraction >= 0.0)) /* also catches NaN */
		random_fraction = 0.0;
	if (random_fraction >= 1.0)
		random_fraction = 0x1.fffffffffffffp-1;
	base = (double)s->delay_ms[attempt - 1];
	factor = 1.0 + (RETRY_JITTER_PERCENT / 100.0) * (2.0 * random_fraction - 1.0);
	v = base * factor;
	if (v < 0.0)
		v = 0.0;
	return (int64_t)v;
}

int64_t retry_next_delay_rand(const struct retry_schedule *s, int attempt)
{
	uint64_t r;

	rand_bytes(&r, sizeof r);
	return retry_next_delay(s, attempt, (double)(r >> 11) * 0x1.0p-53);
}

/* ---- Retry-After ---- */

/* A cursor over the header value; every reader fails once it is past the end. */
struct cur {
	const char *p;
};

static bool lit(struct cur *c, const char *s)
{
	size_t n = strlen(s);
	if (strncmp(c->p, s, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* num reads exactly n digits. */
static bool num(struct cur *c, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)c->p[i]))
			return false;
		v = v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	*out = v;
	return true;
}

/* name_in reads one of names (exact case, as HTTP-date requires) and stores its index. */
static bool name_in(struct cur *c, const char *const *names, int count, int *idx)
{
	for (int i = 0; i < count; i++) {
		if (lit(c, names[i])) {
			*idx = i;
			return true;
		}
	}
	return false;
}

static const char *const wkday_short[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const wkday_long[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct hdate {
	int year, mon, day, hour, min, sec; /* mon is 1..12 */
};

static bool time_of_day(struct cur *c, struct hdate *d)
{
	return num(c, 2, &d->hour) && lit(c, ":") && num(c, 2, &d->min) && lit(c, ":") &&
	       num(c, 2, &d->sec);
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static bool imf_fixdate(struct cur *c, struct hdate *d)
{
	int i;
	return name_in(c, wkday_short, 7, &i) && lit(c, ", ") && num(c, 2, &d->day) &&
	       lit(c, " ") && name_in(c, months, 12, &d->mon) && lit(c, " ") &&
	       num(c, 4, &d->year) && lit(c, " ") && time_of_day(c, d) && lit(c, " GMT");
}

/* "Sunday, 06-Nov-94 08:49:37 GMT"; the two-digit year is fixed by the caller */
static bool rfc850_date(struct cur *c, struct hdate *d)
{
	int i;
	return name_in(c, wkday_long, 7, &i) && lit(c, ", ") && num(c, 2, &d->day) && lit(c, "-") &&
	       name_in(c, months, 12, &d->mon) && lit(c, "-") && num(c, 2, &d->year) &&
	       lit(c, " ") && time_of_day(c, d) && lit(c, " GMT");
}

/* "Sun Nov  6 08:49:37 1994" */
static bool asctime_date(struct cur *c, struct hdate *d)
{
	int i;
	if (!(name_in(c, wkday_short, 7, &i) && lit(c, " ") && name_in(c, months, 12, &d->mon) &&
	      lit(c, " ")))
		return false;
	if (!(lit(c, " ") ? num(c, 1, &d->day) : num(c, 2, &d->day)))
		return false;
	return lit(c, " ") && time_of_day(c, d) && lit(c, " ") && num(c, 4, &d->year);
}

static bool hdate_valid(const struct hdate *d)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (d->year % 4 == 0 && d->year % 100 != 0) || d->year % 400 == 0;

	if (d->year < 1 || d->year > 9999)
		return false;
	if (d->mon < 1 || d->mon > 12 || d->day < 1 || d->day > mdays[d->mon - 1])
		return false;
	if (d->mon == 2 && d->day == 29 && !leap)
		return false;
	return d->hour <= 23 && d->min <= 59 && d->sec <= 60;
}

/*
 * year_from_two_digits: an RFC 850 year that would lie more than 50 years in
 * the future means the most recent past year with those digits (RFC 9110 5.6.7).
 */
static int year_from_two_digits(int yy, int64_t now_ms)
{
	time_t secs = (time_t)(now_ms / 1000);
	struct tm tm;
	int now_year, y;

	if (!gmtime_r(&secs, &tm))
		return 2000 + yy;
	now_year = tm.tm_year + 1900;
	y = now_year - now_year % 100 + yy;
	if (y > now_year + 50)
		y -= 100;
	else if (y + 100 <= now_year + 50)
		y += 100;
	return y;
}

/* parse_http_date stores the date's epoch milliseconds; s has no surrounding blanks. */
static int parse_http_date(const char *s, int64_t now_ms, int64_t *ms)
{
	struct hdate d = {0};
	struct cur c = {s};

	if (imf_fixdate(&c, &d) && *c.p == '\0')
		goto ok;
	c.p = s;
	if (rfc850_date(&c, &d) && *c.p == '\0') {
		d.year = year_from_two_digits(d.year, now_ms);
		goto ok;
	}
	c.p = s;
	if (asctime_date(&c, &d) && *c.p == '\0')
		goto ok;
	return HK_EPARSE;
ok:
	d.mon++; /* name_in gave 0..11 */
	if (!hdate_valid(&d))
		return HK_EPARSE;
	*ms = (clock_days_from_civil(d.year, d.mon, d.day) * 86400 + d.hour * 3600 + d.min * 60 +
	       (d.sec > 59 ? 59 : d.sec)) *
	      1000;
	return 0;
}

int retry_after_parse(const char *header, int64_t now_ms, int64_t *delay_ms)
{
	char v[RETRY_AFTER_MAX_LEN + 1];
	size_t n;
	const char *p;
	int64_t secs = 0, when;

	if (!header || strnlen(header, RETRY_AFTER_MAX_LEN + 1) > RETRY_AFTER_MAX_LEN)
		return HK_EPARSE;
	while (is_blank(*header))
		header++;
	n = strlen(header);
	while (n > 0 && is_blank(header[n - 1]))
		n--;
	if (n == 0)
		return HK_EPARSE;
	memcpy(v, header, n);
	v[n] = '\0';

	if (isdigit((unsigned char)v[0])) {
		for (p = v; isdigit((unsigned char)*p); p++)
			if (secs <= RETRY_AFTER_MAX_MS) /* saturate: anything bigger is capped */
				secs = secs * 10 + (*p - '0');
		if (*p != '\0')
			return HK_EPARSE;
		*delay_ms = secs * 1000 > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : secs * 1000;
		return 0;
	}
	if (parse_http_date(v, now_ms, &when) < 0)
		return HK_EPARSE;
	if (when <= now_ms)
		*delay_ms = 0;
	else if (now_ms < when - RETRY_AFTER_MAX_MS)
		*delay_ms = RETRY_AFTER_MAX_MS;
	else
		*delay_ms = when - now_ms;
	return 0;
}
