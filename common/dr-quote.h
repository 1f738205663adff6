/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dr-quote.h: quoting a string someone else gave us (a D-Bus client, a
 * config file) in a message, bounded, so that a 1 MB argument can't make a
 * 1 MB error or log line.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* At most this many characters of the string are quoted. */
#define DR_QUOTE_MAX_CHARS 64

/* "\"text\"" for a short string; for a longer one its first
 * DR_QUOTE_MAX_CHARS characters, then "…\" (N bytes)". Invalid UTF-8 is
 * shown with U+FFFD, control characters as escapes, so the quote is always
 * one line of valid UTF-8. */
char *dr_quote (const char *s);
/* The same without the quotes, for a name shown in brackets: "[name…]". */
char *dr_quote_bare (const char *s);

G_END_DECLS
