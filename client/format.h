/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* format.h: how dermarollctl writes numbers, times and colour for a person,
 * and reads the dates a person types.
 *
 * Every number leaves here with its unit ("3.2 N", "72 %", "45.0 cm²",
 * "500 µm"), every time in local time, and colour only when the caller
 * decided it may (dr_fmt_colour_wanted()).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  DR_COLOUR_NONE,
  DR_COLOUR_BOLD,
  DR_COLOUR_DIM,
  DR_COLOUR_RED,
  DR_COLOUR_GREEN,
  DR_COLOUR_YELLOW,
  DR_COLOUR_CYAN,
} DrColour;

/* TRUE when @fd is a terminal and NO_COLOR is unset or empty
 * (https://no-color.org). */
gboolean dr_fmt_colour_wanted (int fd);

/* The escape sequence that starts @colour, and the one that ends any. */
const char *dr_fmt_colour_on (DrColour colour);
const char *dr_fmt_colour_off (void);
/* @text wrapped in @colour when @enabled, a copy of it otherwise. */
char *dr_fmt_coloured (gboolean enabled, DrColour colour, const char *text);

/* "2024-05-14 08:30" in local time; "—" for 0. */
char *dr_fmt_local_time (gint64 ms);
/* "8 Dec 14:30" in local time, with the year ("8 Dec 2027 14:30") when it
 * is not the year of @now_ms: for "forehead: again from 8 Dec 14:30". */
char *dr_fmt_local_day (gint64 ms, gint64 now_ms);
/* When a resting zone may be treated again (Person1.GetRestStatus's free
 * from): "now" when @free_from_ms is 0 or not after @now_ms, else as
 * dr_fmt_local_time (). */
char *dr_fmt_again_from (gint64 free_from_ms, gint64 now_ms);
/* "08:30:12.345" in local time, for live output. */
char *dr_fmt_local_clock (gint64 ms);
/* "2024-05-14T08:30:12.345+02:00": ISO 8601 in local time, for JSON/CSV. */
char *dr_fmt_iso8601 (gint64 ms);
/* dr_fmt_iso8601 () for many times in a row, as in an export of every
 * sample: the same text, from the last second's date and offset (a zone's
 * offset changes on a whole second) instead of a GDateTime per time. The
 * text is @cache's until the next call. */
typedef struct
{
  gint64 second; /* floor (ms / 1000) of what head and tail are for */
  gboolean valid;
  char *head; /* up to and with the '.' */
  char *tail; /* the offset after the milliseconds */
  char text[64];
} DrFmtIso8601Cache;
/* force_mn / 1000.0 as the JSON writer writes that double (%.15g, the
 * shortest that reads back), without formatting and parsing it twice: in
 * @buf, which it returns. */
const char *dr_fmt_force_json (guint16 force_mn, char buf[16]);
const char *dr_fmt_iso8601_cached (DrFmtIso8601Cache *cache, gint64 ms);
void dr_fmt_iso8601_cache_clear (DrFmtIso8601Cache *cache);
/* "850 ms", "12.4 s", "12 min 30 s", "1 h 02 min", "3 d 4 h". */
char *dr_fmt_duration (gint64 ms);

/* "72 %" for 0.72 (fractions, not percent points). */
char *dr_fmt_percent (double fraction);
/* "3.2 N" */
char *dr_fmt_newtons (double newtons);
/* "45.0 cm²" */
char *dr_fmt_area (double cm2);
/* "4.0" passes as a bare count with one decimal (passes are fractional). */
char *dr_fmt_passes (double passes);
/* "500 µm"; "—" for 0 (head not read yet). */
char *dr_fmt_micrometres (guint length_um);

/* Parses what a person types for --since/--until: "YYYY-MM-DD" (local
 * midnight, or the following midnight when @end_of_day, so that
 * "--until 2024-05-14" includes that day) or ISO 8601 with a time
 * ("2024-05-14T08:30", "2024-05-14 08:30:15", optionally with "Z" or an
 * offset; local time without one). */
gboolean dr_parse_date (const char *text, gboolean end_of_day, gint64 *ms_out, GError **error);

/* @text as one shell word for a command line shown to a person: as it is
 * when it needs no quoting ("Ann"), quoted otherwise ("'Ann Smith'"). */
char *dr_fmt_shell_word (const char *text);

/* TRUE for "AA:BB:CC:DD:EE:FF" (either case). */
gboolean dr_address_is_valid (const char *address);

G_END_DECLS
