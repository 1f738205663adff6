/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-ctl-format.c: dermarollctl's output helpers: units and dates for
 * people (the day a zone may be treated again), date parsing, names as
 * shell words, table alignment with multi-byte units and colour,
 * and the JSON writer (escaping, numbers, nesting).
 */
#include <glib.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "format.h"
#include "stroke-directions.h"
#include "stroke-directions.h"
#include "json-writer.h"
#include "table.h"

static void
test_units (void)
{
  g_autofree char *pct = dr_fmt_percent (0.724);
  g_autofree char *n = dr_fmt_newtons (3.25);
  g_autofree char *area = dr_fmt_area (45);
  g_autofree char *um = dr_fmt_micrometres (500);
  g_autofree char *um0 = dr_fmt_micrometres (0);
  g_autofree char *nan_pct = dr_fmt_percent (NAN);

  g_assert_cmpstr (pct, ==, "72 %");
  g_assert_cmpstr (n, ==, "3.2 N"); /* %.1f of 3.25 rounds to even */
  g_assert_cmpstr (area, ==, "45.0 cm²");
  g_assert_cmpstr (um, ==, "500 µm");
  g_assert_cmpstr (um0, ==, "—");
  g_assert_cmpstr (nan_pct, ==, "—");
}

static void
test_missing_directions (void)
{
  char *s;

  g_assert_null (dr_stroke_directions_missing (0, 0, 0)); /* version 1: not known */
  g_assert_null (dr_stroke_directions_missing (2, 0.1, 3));
  s = dr_stroke_directions_missing (6, 0, 0);
  g_assert_cmpstr (s, ==, "vertical and diagonal missing");
  g_free (s);
  s = dr_stroke_directions_missing (0, 1, 0);
  g_assert_cmpstr (s, ==, "horizontal and diagonal missing");
  g_free (s);
  s = dr_stroke_directions_missing (2, 2, 0);
  g_assert_cmpstr (s, ==, "diagonal missing");
  g_free (s);
  s = dr_stroke_directions_missing (0, 2, 2);
  g_assert_cmpstr (s, ==, "horizontal missing");
  g_free (s);
}

static void
test_durations (void)
{
  static const struct
  {
    gint64 ms;
    const char *text;
  } cases[] = {
    { 450, "450 ms" },
    { 1200, "1.2 s" },
    { 59900, "59.9 s" },
    { 750000, "12 min 30 s" },
    { 3720000, "1 h 02 min" },
    { 273600000, "3 d 4 h" },
    { -5, "0 ms" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = dr_fmt_duration (cases[i].ms);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

static void
test_dates (void)
{
  g_autoptr (GError) error = NULL;
  gint64 ms = 0, end = 0;

  /* Local time: with TZ fixed, midnight is known. */
  g_assert_true (dr_parse_date ("2024-05-14", FALSE, &ms, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ms, ==, 1715644800000 - 2 * 3600000); /* CEST */
  g_assert_true (dr_parse_date ("2024-05-14", TRUE, &end, &error));
  g_assert_cmpint (end - ms, ==, 86400000);
  g_assert_true (dr_parse_date ("2024-05-14T08:30", FALSE, &ms, &error));
  g_assert_cmpint (ms, ==, 1715668200000); /* 06:30 UTC */
  g_assert_true (dr_parse_date ("2024-05-14 08:30:15", FALSE, &ms, &error));
  g_assert_cmpint (ms, ==, 1715668215000);
  g_assert_true (dr_parse_date ("2024-05-14T08:30:00Z", FALSE, &ms, &error));
  g_assert_cmpint (ms, ==, 1715675400000);
  g_assert_true (dr_parse_date ("2024-05-14T08:30:00+01:00", FALSE, &ms, &error));
  g_assert_cmpint (ms, ==, 1715671800000);
  /* Winter: one hour ahead of UTC. */
  g_assert_true (dr_parse_date ("2024-01-10", FALSE, &ms, &error));
  g_assert_cmpint (ms, ==, 1704844800000 - 3600000);

  {
    const char *bad[] = { "2024-13-01", "2024-02-30",  "2024-5-1",         "yesterday",
                          "",           "2024-05-14x", "2024-05-14T25:00", "14.05.2024" };
    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr (GError) e = NULL;
        g_assert_false (dr_parse_date (bad[i], FALSE, &ms, &e));
        g_assert_error (e, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
        g_assert_nonnull (strstr (e->message, "YYYY-MM-DD"));
      }
  }
}

static void
test_local_time (void)
{
  g_autofree char *t = dr_fmt_local_time (1715675400000); /* 08:30 UTC */
  g_autofree char *clock = dr_fmt_local_clock (1715675400123);
  g_autofree char *iso = dr_fmt_iso8601 (1715675400123);
  g_autofree char *zero = dr_fmt_local_time (0);

  g_assert_cmpstr (t, ==, "2024-05-14 10:30");
  g_assert_cmpstr (clock, ==, "10:30:00.123");
  g_assert_cmpstr (iso, ==, "2024-05-14T10:30:00.123+02:00");
  g_assert_cmpstr (zero, ==, "—");
}

static void
test_local_day (void)
{
  const gint64 dec8 = 1765200600000;      /* 2025-12-08 13:30 UTC, 14:30 CET */
  const gint64 june = 1748779200000;      /* 2025-06-01, the same year */
  const gint64 dec8_next = 1796736600000; /* 2026-12-08 */
  const gint64 new_year = 1767223800000;  /* 2025-12-31 23:30 UTC: 2026 already in CET */
  g_autofree char *same_year = dr_fmt_local_day (dec8, june);
  g_autofree char *other_year = dr_fmt_local_day (dec8_next, june);
  g_autofree char *past_year = dr_fmt_local_day (dec8, dec8_next);
  g_autofree char *local_year = dr_fmt_local_day (new_year, new_year);
  g_autofree char *utc_eve = dr_fmt_local_day (new_year, dec8);

  g_assert_cmpstr (same_year, ==, "8 Dec 14:30");
  g_assert_cmpstr (other_year, ==, "8 Dec 2026 14:30");
  g_assert_cmpstr (past_year, ==, "8 Dec 2025 14:30");
  /* The local date, not UTC's: 00:30 on 1 January. */
  g_assert_cmpstr (local_year, ==, "1 Jan 00:30");
  g_assert_cmpstr (utc_eve, ==, "1 Jan 2026 00:30");
}

static void
test_again_from (void)
{
  const gint64 now = 1765200600000;
  g_autofree char *never = dr_fmt_again_from (0, now);
  g_autofree char *at_now = dr_fmt_again_from (now, now);
  g_autofree char *passed = dr_fmt_again_from (now - 1, now);
  g_autofree char *next_ms = dr_fmt_again_from (now + 1, now);
  g_autofree char *later = dr_fmt_again_from (now + 42 * 86400000LL, now);

  /* 0 is the daemon's "now"; a time that has passed since is now too. */
  g_assert_cmpstr (never, ==, "now");
  g_assert_cmpstr (at_now, ==, "now");
  g_assert_cmpstr (passed, ==, "now");
  /* One millisecond still to rest is not now. */
  g_assert_cmpstr (next_ms, ==, "2025-12-08 14:30");
  g_assert_cmpstr (later, ==, "2026-01-19 14:30");
}

static void
test_shell_word (void)
{
  static const struct
  {
    const char *text;
    const char *word;
  } cases[] = {
    { "Ann", "Ann" },
    { "anne-marie_2", "anne-marie_2" },
    { "Zoë", "Zoë" },
    { "Ann Smith", "'Ann Smith'" },
    { "O'Neil", "'O'\\''Neil'" },
    { "$HOME", "'$HOME'" },
    { "a;b", "'a;b'" },
    { "", "''" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *word = dr_fmt_shell_word (cases[i].text);
      g_assert_cmpstr (word, ==, cases[i].word);
    }
}

static void
test_addresses (void)
{
  g_assert_true (dr_address_is_valid ("AA:BB:CC:DD:EE:FF"));
  g_assert_true (dr_address_is_valid ("c0:ff:ee:00:00:01"));
  g_assert_false (dr_address_is_valid ("AA:BB:CC:DD:EE"));
  g_assert_false (dr_address_is_valid ("AA-BB-CC-DD-EE-FF"));
  g_assert_false (dr_address_is_valid ("AA:BB:CC:DD:EE:FG"));
  g_assert_false (dr_address_is_valid ("AA:BB:CC:DD:EE:FF:"));
  g_assert_false (dr_address_is_valid (NULL));
}

static void
test_table (void)
{
  g_autoptr (DrTable) table = dr_table_new (FALSE, "ZONE", "AREA", "NOTE", NULL);
  g_autofree char *text = NULL;

  dr_table_align_right (table, 1);
  dr_table_add (table, "forehead");
  dr_table_take (table, dr_fmt_area (60));
  dr_table_add (table, "");
  dr_table_add (table, "nose");
  dr_table_take (table, dr_fmt_area (12));
  dr_table_add (table, "µ—²");
  text = dr_table_render (table);
  g_assert_cmpstr (text, ==,
                   "ZONE          AREA  NOTE\n"
                   "forehead  60.0 cm²\n"
                   "nose      12.0 cm²  µ—²\n");
  g_assert_cmpuint (dr_table_get_n_rows (table), ==, 2);
}

static void
test_table_colour (void)
{
  g_autoptr (DrTable) table = dr_table_new (TRUE, "A", "B", NULL);
  g_autofree char *text = NULL;

  dr_table_add_coloured (table, DR_COLOUR_RED, "xx");
  dr_table_add (table, "y");
  text = dr_table_render (table);
  /* Escapes take no room: B stays in the column after "xx". */
  g_assert_cmpstr (text, ==,
                   "\033[1mA\033[0m   \033[1mB\033[0m\n"
                   "\033[1;31mxx\033[0m  y\n");
  g_assert_cmpuint (dr_text_width ("\033[1;31mxx\033[0m"), ==, 2);
  g_assert_cmpuint (dr_text_width ("日本"), ==, 4);
  g_assert_cmpuint (dr_text_width ("cm²"), ==, 3);
}

static void
test_colour_wanted (void)
{
  /* Tests run with stdout on a pipe or file: never colour there. */
  g_setenv ("NO_COLOR", "", TRUE);
  g_assert_false (dr_fmt_colour_wanted (-1));
  g_setenv ("NO_COLOR", "1", TRUE);
  g_assert_false (dr_fmt_colour_wanted (0));
  g_unsetenv ("NO_COLOR");
}

static void
test_json (void)
{
  g_autoptr (DrJson) json = dr_json_new (TRUE);
  g_autofree char *text = NULL;

  dr_json_begin_object (json);
  dr_json_member_string (json, "name", "a\"b\\c\n\t\x01 é \xe2\x80\xa8");
  dr_json_member_double (json, "x", 0.1);
  dr_json_member_double (json, "third", 1.0 / 3.0);
  dr_json_member_double (json, "nan", NAN);
  dr_json_member_double (json, "whole", 2.0);
  dr_json_member_int (json, "neg", -5);
  dr_json_member_uint (json, "big", G_MAXUINT64);
  dr_json_member_bool (json, "yes", TRUE);
  dr_json_key (json, "empty");
  dr_json_begin_array (json);
  dr_json_end_array (json);
  dr_json_key (json, "list");
  dr_json_begin_array (json);
  dr_json_int (json, 1);
  dr_json_null (json);
  dr_json_end_array (json);
  dr_json_end_object (json);
  text = dr_json_free_to_string (g_steal_pointer (&json));
  g_assert_cmpstr (text, ==,
                   "{\n"
                   "  \"name\": \"a\\\"b\\\\c\\n\\t\\u0001 é \\u2028\",\n"
                   "  \"x\": 0.1,\n"
                   "  \"third\": 0.33333333333333331,\n"
                   "  \"nan\": null,\n"
                   "  \"whole\": 2,\n"
                   "  \"neg\": -5,\n"
                   "  \"big\": 18446744073709551615,\n"
                   "  \"yes\": true,\n"
                   "  \"empty\": [],\n"
                   "  \"list\": [\n"
                   "    1,\n"
                   "    null\n"
                   "  ]\n"
                   "}\n");
}

static void
test_json_variant (void)
{
  g_autoptr (DrJson) json = dr_json_new (FALSE);
  g_autofree char *text = NULL;
  g_autoptr (GVariant) v = g_variant_ref_sink (
      g_variant_new_parsed ("{'zone': <'forehead'>, 'force-n': <5.5>, 'duration-ms': <int64 450>, "
                            "'frames': <uint32 3>, 'pair': <(true, byte 7)>}"));

  dr_json_variant (json, v);
  text = dr_json_free_to_string (g_steal_pointer (&json));
  g_assert_cmpstr (text, ==,
                   "{\"zone\":\"forehead\",\"force-n\":5.5,\"duration-ms\":450,\"frames\":3,"
                   "\"pair\":[true,7]}");
}

static void
test_json_locale (void)
{
  /* A locale with a decimal comma must not leak into JSON. */
  if (setlocale (LC_NUMERIC, "de_DE.UTF-8") == NULL)
    {
      g_test_skip ("no de_DE.UTF-8 locale");
      return;
    }
  {
    g_autoptr (DrJson) json = dr_json_new (FALSE);
    g_autofree char *text = NULL;
    dr_json_double (json, 2.5);
    text = dr_json_free_to_string (g_steal_pointer (&json));
    g_assert_cmpstr (text, ==, "2.5");
  }
  setlocale (LC_NUMERIC, "C");
}

/* The export's fast paths give what the slow ones give: every force a
 * sample can carry, and times across a day, a DST change and 1970. */
static void
test_export_fast_paths (void)
{
  DrFmtIso8601Cache cache = { 0 };
  const gint64 starts[]
      = { 0, -1500, 1711846800000 - 5000, 1700000000000, G_MININT64, G_MAXINT64 - 10000 };

  for (guint f = 0; f < 0xFFFF; f++)
    {
      g_autoptr (DrJson) json = dr_json_new (FALSE);
      g_autofree char *want = NULL;
      char buf[16];

      dr_json_double (json, f / 1000.0);
      want = dr_json_free_to_string (g_steal_pointer (&json));
      g_assert_cmpstr (dr_fmt_force_json ((guint16) f, buf), ==, want);
    }
  for (guint i = 0; i < G_N_ELEMENTS (starts); i++)
    for (gint64 k = 0; k < 10000; k += 7)
      {
        gint64 ms = starts[i] + k;
        g_autofree char *want = dr_fmt_iso8601 (ms);
        g_assert_cmpstr (dr_fmt_iso8601_cached (&cache, ms), ==, want);
      }
  dr_fmt_iso8601_cache_clear (&cache);
}

int
main (int argc, char **argv)
{
  /* Dates are local: pin the zone so the expected values hold anywhere. */
  g_setenv ("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/format/units", test_units);
  g_test_add_func ("/format/missing-directions", test_missing_directions);
  g_test_add_func ("/format/durations", test_durations);
  g_test_add_func ("/format/dates", test_dates);
  g_test_add_func ("/format/local-time", test_local_time);
  g_test_add_func ("/format/export-fast-paths", test_export_fast_paths);
  g_test_add_func ("/format/local-day", test_local_day);
  g_test_add_func ("/format/again-from", test_again_from);
  g_test_add_func ("/format/shell-word", test_shell_word);
  g_test_add_func ("/format/addresses", test_addresses);
  g_test_add_func ("/format/table", test_table);
  g_test_add_func ("/format/table-colour", test_table_colour);
  g_test_add_func ("/format/colour-wanted", test_colour_wanted);
  g_test_add_func ("/json/writer", test_json);
  g_test_add_func ("/json/variant", test_json_variant);
  g_test_add_func ("/json/locale", test_json_locale);
  return g_test_run ();
}
