/* wrap: text laid out for a terminal: the display width of UTF-8 text
 * (wide East Asian characters count two columns, combining marks none)
 * and word wrapping to a width, keeping the text's own line breaks. */
#ifndef SCG_WRAP_H
#define SCG_WRAP_H

#include <stddef.h>

struct lines {
	char **l;
	size_t n, cap;
};

/* Columns the UTF-8 string s takes on a terminal. */
int wrap_width(const char *s);
/* Appends the lines of text wrapped to width columns (at least 1): words
 * move whole to the next line; a word wider than the line is cut. An empty
 * text gives one empty line. */
void wrap_text(const char *text, int width, struct lines *out);
void lines_free(struct lines *ls);

/* The width to wrap to on stdout: the terminal's when it is one, else
 * $COLUMNS, else 80 (never below 20). */
int wrap_terminal_width(void);

#endif
