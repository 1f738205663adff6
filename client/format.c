/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* format.c: units, local times, colour and date parsing for dermarollctl.
 *
 * Numbers for people go through printf and so follow LC_NUMERIC: a person
 * in a German locale reads "3,2 N". JSON and CSV never come through here;
 * they are written locale-independently by json-writer.c.
 */
#include "format.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

gboolean
dr_fmt_colour_wanted (int fd)
{
  const char *no_color = g_getenv ("NO_COLOR");

  if (no_color != NULL && no_color[0] != '\0')
    return FALSE;
  return isatty (fd) == 1;
}

const char *
dr_fmt_colour_on (DrColour colour)
{
  switch (colour)
    {
      case DR_COLOUR_BOLD:
        return "\033[1m";
      case DR_COLOUR_DIM:
        return "\033[2m";
      case DR_COLOUR_RED:
        return "\033[1;31m";
      case DR_COLOUR_GREEN:
        return "\033[32m";
      case DR_COLOUR_YELLOW:
        return "\033[33m";
      case DR_COLOUR_CYAN:
        return "\033[36m";
      case DR_COLOUR_NONE:
      default:
        return "";
    }
}

const char *
dr_fmt_colour_off (void)
{
  return "\033[0m";
}

char *
dr_fmt_coloured (gboolean enabled, DrColour colour, const char *text)
{
  if (!enabled || colour == DR_COLOUR_NONE)
    return g_strdup (text);
  return g_strconcat (dr_fmt_colour_on (colour), text, dr_fmt_colour_off (), NULL);
}

static GDateTime *
local_from_ms (gint64 ms)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (ms / 1000);
  g_autoptr (GDateTime) precise = NULL;

  if (utc == NULL)
    return NULL;
  precise = g_date_time_add (utc, (ms % 1000) * G_TIME_SPAN_MILLISECOND);
  return g_date_time_to_local (precise);
}

char *
dr_fmt_local_time (gint64 ms)
{
  g_autoptr (GDateTime) dt = NULL;

  if (ms == 0)
    return g_strdup ("—");
  dt = local_from_ms (ms);
  if (dt == NULL)
    return g_strdup ("?");
  return g_date_time_format (dt, "%Y-%m-%d %H:%M");
}

char *
dr_fmt_local_day (gint64 ms, gint64 now_ms)
{
  g_autoptr (GDateTime) dt = local_from_ms (ms);
  g_autoptr (GDateTime) now = local_from_ms (now_ms);
  g_autofree char *month = NULL;

  if (dt == NULL)
    return g_strdup ("?");
  /* %b follows LC_TIME, like every other date a person reads here; the
   * day without a leading zero or blank, which %e would give. */
  month = g_date_time_format (dt, "%b");
  if (now != NULL && g_date_time_get_year (now) == g_date_time_get_year (dt))
    return g_strdup_printf ("%d %s %02d:%02d", g_date_time_get_day_of_month (dt), month,
                            g_date_time_get_hour (dt), g_date_time_get_minute (dt));
  return g_strdup_printf ("%d %s %d %02d:%02d", g_date_time_get_day_of_month (dt), month,
                          g_date_time_get_year (dt), g_date_time_get_hour (dt),
                          g_date_time_get_minute (dt));
}

char *
dr_fmt_again_from (gint64 free_from_ms, gint64 now_ms)
{
  /* The daemon says 0 for "now"; a time it gave that has passed since is
   * "now" as well. */
  if (free_from_ms <= now_ms)
    return g_strdup ("now");
  return dr_fmt_local_time (free_from_ms);
}

char *
dr_fmt_local_clock (gint64 ms)
{
  g_autoptr (GDateTime) dt = local_from_ms (ms);

  if (dt == NULL)
    return g_strdup ("?");
  return g_strdup_printf ("%02d:%02d:%02d.%03d", g_date_time_get_hour (dt),
                          g_date_time_get_minute (dt), g_date_time_get_second (dt),
                          g_date_time_get_microsecond (dt) / 1000);
}

char *
dr_fmt_iso8601 (gint64 ms)
{
  g_autoptr (GDateTime) dt = local_from_ms (ms);
  g_autofree char *base = NULL;
  g_autofree char *offset = NULL;

  if (dt == NULL)
    return g_strdup ("");
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  /* %:z gives "+02:00"; GLib has no format for milliseconds alone. */
  offset = g_date_time_format (dt, "%:z");
  return g_strdup_printf ("%s.%03d%s", base, g_date_time_get_microsecond (dt) / 1000, offset);
}

const char *
dr_fmt_force_json (guint16 force_mn, char buf[16])
{
  /* 5 significant digits at most: %.15g is the decimal itself, trailing
   * zeros dropped (tests/test-ctl-format.c checks every value). */
  unsigned frac = force_mn % 1000u;
  int len = g_snprintf (buf, 16, "%u", force_mn / 1000u);

  if (frac != 0)
    {
      g_snprintf (buf + len, 16 - (gsize) len, ".%03u", frac);
      for (len += 4; buf[len - 1] == '0'; len--)
        buf[len - 1] = '\0';
    }
  return buf;
}

const char *
dr_fmt_iso8601_cached (DrFmtIso8601Cache *cache, gint64 ms)
{
  gint64 second = ms / 1000 - (ms % 1000 < 0);
  int milli;

  /* second · 1000 would not fit: far outside what GDateTime holds, so
   * dr_fmt_iso8601 () says "" there anyway. */
  if (ms < G_MININT64 + 1000)
    {
      g_autofree char *text = dr_fmt_iso8601 (ms);
      g_strlcpy (cache->text, text, sizeof cache->text);
      return cache->text;
    }
  milli = (int) (ms - second * 1000);
  if (!cache->valid || cache->second != second)
    {
      g_autofree char *whole = dr_fmt_iso8601 (second * 1000);
      char *dot = strchr (whole, '.');

      g_clear_pointer (&cache->head, g_free);
      g_clear_pointer (&cache->tail, g_free);
      cache->second = second;
      cache->valid = TRUE;
      /* "BASE.000OFFSET"; anything else (a time GDateTime cannot hold)
       * is left to dr_fmt_iso8601 () itself, time by time. */
      if (dot != NULL && strlen (dot) >= 4)
        {
          cache->head = g_strndup (whole, (gsize) (dot - whole) + 1);
          cache->tail = g_strdup (dot + 4);
        }
    }
  if (cache->head == NULL)
    {
      g_autofree char *text = dr_fmt_iso8601 (ms);
      g_strlcpy (cache->text, text, sizeof cache->text);
      return cache->text;
    }
  g_snprintf (cache->text, sizeof cache->text, "%s%03d%s", cache->head, milli, cache->tail);
  return cache->text;
}

void
dr_fmt_iso8601_cache_clear (DrFmtIso8601Cache *cache)
{
  g_clear_pointer (&cache->head, g_free);
  g_clear_pointer (&cache->tail, g_free);
  cache->valid = FALSE;
}

char *
dr_fmt_duration (gint64 ms)
{
  gint64 s;

  if (ms < 0)
    ms = 0;
  if (ms < 1000)
    return g_strdup_printf ("%" G_GINT64_FORMAT " ms", ms);
  if (ms < 60000)
    return g_strdup_printf ("%.1f s", ms / 1000.0);
  s = (ms + 500) / 1000;
  if (s < 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT " min %02" G_GINT64_FORMAT " s", s / 60, s % 60);
  if (s < 86400)
    return g_strdup_printf ("%" G_GINT64_FORMAT " h %02" G_GINT64_FORMAT " min", s / 3600,
                            (s % 3600) / 60);
  return g_strdup_printf ("%" G_GINT64_FORMAT " d %" G_GINT64_FORMAT " h", s / 86400,
                          (s % 86400) / 3600);
}

char *
dr_fmt_percent (double fraction)
{
  if (!isfinite (fraction))
    return g_strdup ("—");
  return g_strdup_printf ("%.0f %%", fraction * 100.0);
}

char *
dr_fmt_newtons (double newtons)
{
  if (!isfinite (newtons))
    return g_strdup ("—");
  return g_strdup_printf ("%.1f N", newtons);
}

char *
dr_fmt_area (double cm2)
{
  if (!isfinite (cm2))
    return g_strdup ("—");
  return g_strdup_printf ("%.1f cm²", cm2);
}

char *
dr_fmt_passes (double passes)
{
  if (!isfinite (passes))
    return g_strdup ("—");
  return g_strdup_printf ("%.1f", passes);
}

char *
dr_fmt_micrometres (guint length_um)
{
  if (length_um == 0)
    return g_strdup ("—");
  return g_strdup_printf ("%u µm", length_um);
}

static gboolean
parse_ymd (const char *text, int *y, int *m, int *d)
{
  /* Exactly YYYY-MM-DD: sscanf alone would accept "2024-5-1x". */
  static const char shape[] = "dddd-dd-dd";

  if (strlen (text) != sizeof shape - 1)
    return FALSE;
  for (gsize i = 0; shape[i] != '\0'; i++)
    if (shape[i] == 'd' ? !g_ascii_isdigit (text[i]) : text[i] != shape[i])
      return FALSE;
  *y = atoi (text);
  *m = atoi (text + 5);
  *d = atoi (text + 8);
  return g_date_valid_dmy ((GDateDay) *d, (GDateMonth) *m, (GDateYear) *y);
}

gboolean
dr_parse_date (const char *text, gboolean end_of_day, gint64 *ms_out, GError **error)
{
  g_autoptr (GTimeZone) local = g_time_zone_new_local ();
  g_autoptr (GDateTime) dt = NULL;
  int y, m, d;

  if (parse_ymd (text, &y, &m, &d))
    {
      g_autoptr (GDateTime) midnight = g_date_time_new (local, y, m, d, 0, 0, 0);
      if (midnight != NULL)
        dt = end_of_day ? g_date_time_add_days (midnight, 1) : g_date_time_ref (midnight);
    }
  else if (strchr (text, 'T') != NULL || strchr (text, ' ') != NULL)
    {
      /* GLib wants the 'T' and the seconds; people type a space as often,
       * and "08:30" for the minute. */
      g_autofree char *iso = g_strdelimit (g_strdup (text), " ", 'T');
      const char *t = strchr (iso, 'T') + 1;

      if (g_ascii_isdigit (t[0]) && g_ascii_isdigit (t[1]) && t[2] == ':' && g_ascii_isdigit (t[3])
          && g_ascii_isdigit (t[4]) && (t[5] == '\0' || t[5] == 'Z' || t[5] == '+' || t[5] == '-'))
        {
          g_autofree char *head = g_strndup (iso, (gsize) (t + 5 - iso));
          g_autofree char *with_seconds = g_strconcat (head, ":00", t + 5, NULL);
          g_free (iso);
          iso = g_steal_pointer (&with_seconds);
        }
      dt = g_date_time_new_from_iso8601 (iso, local);
    }

  if (dt == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "\"%s\" is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (local time)",
                   text);
      return FALSE;
    }
  *ms_out = g_date_time_to_unix (dt) * 1000 + g_date_time_get_microsecond (dt) / 1000;
  return TRUE;
}

char *
dr_fmt_shell_word (const char *text)
{
  gboolean plain = text != NULL && text[0] != '\0';

  for (const char *p = text; plain && *p; p++)
    if (!g_ascii_isalnum (*p) && strchr ("-_.,:/+@%=", *p) == NULL && !((guchar) *p & 0x80))
      plain = FALSE;
  if (plain)
    return g_strdup (text);
  return g_shell_quote (text ? text : "");
}

gboolean
dr_address_is_valid (const char *address)
{
  if (address == NULL || strlen (address) != 17)
    return FALSE;
  for (int i = 0; i < 17; i++)
    {
      if (i % 3 == 2 ? address[i] != ':' : !g_ascii_isxdigit (address[i]))
        return FALSE;
    }
  return TRUE;
}
