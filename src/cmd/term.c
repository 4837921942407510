/*
 * term.c - colour, pretty JSON and aligned tables for the command line; see term.h.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/term.h"
#include "core/err.h"

bool term_colour(FILE *f)
{
	return isatty(fileno(f)) && getenv("NO_COLOR") == NULL;
}

static const struct term_style style_on = {
	.reset = "\033[0m",
	.bold = "\033[1m",
	.dim = "\033[2m",
	.red = "\033[31m",
	.green = "\033[32m",
	.yellow = "\033[33m",
	.blue = "\033[34m",
	.magenta = "\033[35m",
	.cyan = "\033[36m",
};

static const struct term_style style_off = {"", "", "", "", "", "", "", "", ""};

const struct term_style *term_style_get(bool on)
{
	return on ? &style_on : &style_off;
}

/* ---- pretty JSON ---- */

static int scalar(struct buf *out, const json_t *v, const char *colour, const struct term_style *st)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY);
	int rc;

	if (!s)
		return HK_ENOMEM;
	rc = buf_printf(out, "%s%s%s", colour, s, colour[0] ? st->reset : "");
	free(s);
	return rc;
}

static int indent(struct buf *out, int depth)
{
	int rc = 0;
	for (int i = 0; rc == 0 && i < depth; i++)
		rc = buf_appends(out, "  ");
	return rc;
}

static int pretty(struct buf *out, const json_t *v, int depth, const struct term_style *st)
{
	int rc = 0;
	size_t i = 0;

	if (json_is_object(v)) {
		const char *key;
		json_t *m;
		json_t *k;

		if (json_object_size(v) == 0)
			return buf_appends(out, "{}");
		rc = buf_appends(out, "{\n");
		json_object_foreach((json_t *)v, key, m) {
			if (rc == 0)
				rc = indent(out, depth + 1);
			k = json_string(key);
			if (rc == 0)
				rc = k ? scalar(out, k, st->blue, st) : HK_ENOMEM;
			json_decref(k);
			if (rc == 0)
				rc = buf_appends(out, ": ");
			if (rc == 0)
				rc = pretty(out, m, depth + 1, st);
			if (rc == 0)
				rc = buf_appends(out, ++i < json_object_size(v) ? ",\n" : "\n");
		}
		if (rc == 0)
			rc = indent(out, depth);
		return rc ? rc : buf_appends(out, "}");
	}
	if (json_is_array(v)) {
		json_t *m;
		size_t idx;

		if (json_array_size(v) == 0)
			return buf_appends(out, "[]");
		rc = buf_appends(out, "[\n");
		json_array_foreach(v, idx, m) {
			if (rc == 0)
				rc = indent(out, depth + 1);
			if (rc == 0)
				rc = pretty(out, m, depth + 1, st);
			if (rc == 0)
				rc = buf_appends(out, idx + 1 < json_array_size(v) ? ",\n" : "\n");
		}
		if (rc == 0)
			rc = indent(out, depth);
		return rc ? rc : buf_appends(out, "]");
	}
	if (json_is_string(v))
		return scalar(out, v, st->green, st);
	if (json_is_number(v))
		return scalar(out, v, st->cyan, st);
	return scalar(out, v, st->magenta, st);
}

int term_json(struct buf *out, const json_t *v, const struct term_style *st)
{
	return pretty(out, v, 0, st);
}

/* ---- tables ---- */

int table_init(struct table *t, int ncols, const char *const *header)
{
	memset(t, 0, sizeof(*t));
	if (ncols < 1 || ncols > TABLE_MAX_COLS)
		return HK_EINVAL;
	t->ncols = ncols;
	return table_add(t, header);
}

void table_release(struct table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

int table_add(struct table *t, const char *const *row)
{
	size_t base;

	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, ncap * (size_t)t->ncols * sizeof(*p));
		if (!p)
			return HK_ENOMEM;
		t->cells = p;
		t->cap = ncap;
	}
	base = t->nrows * (size_t)t->ncols;
	for (int c = 0; c < t->ncols; c++) {
		t->cells[base + c] = strdup(row[c] ? row[c] : "-");
		if (!t->cells[base + c]) {
			while (c-- > 0)
				free(t->cells[base + c]);
			return HK_ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

/* width counts UTF-8 code points: every byte that does not continue a sequence */
static size_t width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int table_format(const struct table *t, struct buf *out, const struct term_style *st)
{
	size_t w[TABLE_MAX_COLS] = {0};
	int rc = 0;

	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			size_t n = width(t->cells[r * (size_t)t->ncols + c]);
			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; rc == 0 && r < t->nrows; r++) {
		if (r == 0 && st->bold[0])
			rc = buf_appends(out, st->bold);
		for (int c = 0; rc == 0 && c < t->ncols; c++) {
			const char *cell = t->cells[r * (size_t)t->ncols + c];
			bool last = c == t->ncols - 1;
			rc = buf_appends(out, cell);
			/* no trailing spaces after the last column */
			for (size_t pad = width(cell); rc == 0 && !last && pad < w[c] + 2; pad++)
				rc = buf_appends(out, " ");
		}
		if (rc == 0 && r == 0 && st->bold[0])
			rc = buf_appends(out, st->reset);
		if (rc == 0)
			rc = buf_appends(out, "\n");
	}
	return rc;
}
