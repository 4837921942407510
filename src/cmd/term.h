/*
 * term.h - output for people: colour only on a terminal, pretty JSON, and
 * aligned tables.
 *
 * Colour is used when the stream is a terminal and NO_COLOR is not set
 * (https://no-color.org); piped output is always plain, so scripts and tests
 * see the same bytes whatever the terminal.
 */
#ifndef HK_CMD_TERM_H
#define HK_CMD_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "core/buf.h"

/* ANSI styles, or "" when colour is off */
struct term_style {
	const char *reset, *bold, *dim, *red, *green, *yellow, *blue, *magenta, *cyan;
};

/* term_colour reports whether output on f should be coloured. */
bool term_colour(FILE *f);

/* term_style_get returns the styles to use: real escapes when on, empty strings when off. */
const struct term_style *term_style_get(bool on);

/*
 * term_json appends v pretty-printed (two-space indent, keys in their
 * order) to out, coloured with st (keys blue, strings green, numbers cyan,
 * true/false/null magenta). Plain output equals jansson's JSON_INDENT(2).
 */
int term_json(struct buf *out, const json_t *v, const struct term_style *st);

/* ---- tables ---- */

#define TABLE_MAX_COLS 8

/*
 * A table collects rows of text cells (copied) and prints them with each
 * column padded to its widest cell, two spaces apart, the header first.
 * Widths count UTF-8 code points, not bytes, so names with accents align.
 */
struct table {
	int ncols;
	size_t nrows, cap;
	char **cells; /* nrows * ncols, row-major; row 0 is the header */
};

int table_init(struct table *t, int ncols, const char *const *header);
void table_release(struct table *t);
/* table_add appends a row of ncols cells; NULL cells print as "-". */
int table_add(struct table *t, const char *const *row);
/* table_format appends the table to out; the header is bold when st says so. */
int table_format(const struct table *t, struct buf *out, const struct term_style *st);

#endif
