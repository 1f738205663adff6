/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dermaroll-replay.c: replays a recorded roller session through the frame
 * decoder and the treatment engine.
 *
 *   dermaroll-replay [--config FILE] [--exclude ZONE]... [--json] TRACE
 *
 * Prints every engine event as it happens (local time of day of the sample
 * that fired it), then the per-zone coverage table and the frame counts.
 * With --json it prints only one JSON object with the same totals, for the
 * tests. Malformed frames are reported and counted and the replay goes on;
 * only a trace that can't be read, a bad config or a bad option fail (exit 1,
 * one line on stderr).
 *
 * Trace format (written by scripts/gen-trace.py, see tests/data/README.md):
 * "DRTRACE1", then records of u16 LE length + one GATT value; record 0 is the
 * Head Info, the others are Roll Measurement notifications as received.
 */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define PROGRAM "dermaroll-replay"
#define TRACE_MAGIC "DRTRACE1"
#define TRACE_MAGIC_LEN 8

typedef struct
{
  DrEngine *engine;
  const DrEngineConfig *config; /* the engine's own copy */
  gboolean json;
  gboolean clock_unsynced; /* of the frame being fed: events carry its clock */
  GArray *events;          /* DrEvent, for --json */
  guint64 event_counts[DR_N_EVENT_KINDS];
  gboolean over_treated[DR_MAX_ZONES];
  gboolean session_seen;
  int64_t session_start_ms;
  int64_t session_end_ms;
  guint64 records;
  guint64 malformed;
  guint64 malformed_by_reason[DR_CODEC_N_ERRORS];
} Replay;

static void die (const char *fmt, ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;

/* Every fatal error is one line on stderr and exit status 1. */
static void
die (const char *fmt, ...)
{
  va_list ap;

  fputs (PROGRAM ": ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  exit (1);
}

static const char *
zone_name (const Replay *r, int zone, char *buf, size_t len)
{
  const char *name = NULL;

  if (zone == DR_ZONE_UNASSIGNED)
    return "unassigned";
  if (zone >= 0 && zone < DR_MAX_ZONES)
    name = dr_engine_config_zone_name (r->config, zone);
  if (name != NULL && *name != '\0')
    return name;
  g_snprintf (buf, len, "zone %d", zone);
  return buf;
}

/* Session, seq-gap, counter-reset and head-worn events belong to no zone
 * when the engine says so; "unassigned" would read as a coverage zone. */
static gboolean
event_has_zone (const DrEvent *ev)
{
  switch (ev->kind)
    {
      case DR_EVENT_SESSION_STARTED:
      case DR_EVENT_SESSION_ENDED:
      case DR_EVENT_SEQ_GAP:
      case DR_EVENT_COUNTER_RESET:
      case DR_EVENT_HEAD_WORN:
        return ev->zone != DR_ZONE_UNASSIGNED;
      case DR_EVENT_PRESSURE_STARTED:
      case DR_EVENT_PRESSURE_ENDED:
      case DR_EVENT_EXCLUDED_ZONE:
      case DR_EVENT_OVER_TREATED:
      case DR_EVENT_TOO_SOON:
      case DR_N_EVENT_KINDS:
      default:
        return TRUE;
    }
}

/* Time of day in the local time zone: the trace's frames carry Unix ms, or ms
 * since the roller booted when its clock was never set. */
static void
format_time (char *buf, size_t len, int64_t ms, gboolean unsynced)
{
  g_autoptr (GDateTime) dt = NULL;
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int msec = (int) (ms - secs * 1000);

  if (!unsynced)
    dt = g_date_time_new_from_unix_local (secs);
  if (dt == NULL)
    {
      g_snprintf (buf, len, "boot+%" G_GINT64_FORMAT ".%03d", secs, msec);
      return;
    }
  g_snprintf (buf, len, "%02d:%02d:%02d.%03d", g_date_time_get_hour (dt),
              g_date_time_get_minute (dt), g_date_time_get_second (dt), msec);
}

static void
format_duration (char *buf, size_t len, int64_t ms)
{
  if (ms >= 60000)
    g_snprintf (buf, len, "%" G_GINT64_FORMAT " min %.1f s", ms / 60000,
                (double) (ms % 60000) / 1000.0);
  else if (ms >= 1000)
    g_snprintf (buf, len, "%.1f s", (double) ms / 1000.0);
  else
    g_snprintf (buf, len, "%" G_GINT64_FORMAT " ms", ms);
}

static void
print_event (Replay *r, const DrEvent *ev)
{
  char when[32], zbuf[16], dur[48];
  const char *zone = event_has_zone (ev) ? zone_name (r, ev->zone, zbuf, sizeof zbuf) : "-";
  g_autofree char *detail = NULL;

  format_time (when, sizeof when, ev->time_ms, r->clock_unsynced);
  switch (ev->kind)
    {
      case DR_EVENT_SESSION_STARTED:
        detail = g_strdup ("first contact");
        break;
      case DR_EVENT_SESSION_ENDED:
        format_duration (dur, sizeof dur, ev->duration_ms);
        detail = g_strdup_printf ("last contact, after %s", dur);
        break;
      case DR_EVENT_PRESSURE_STARTED:
        detail = g_strdup_printf ("%.2f N, limit %.2f N", ev->force_n, ev->limit_n);
        break;
      case DR_EVENT_PRESSURE_ENDED:
        detail = g_strdup_printf ("peak %.2f N, limit %.2f N, %" G_GINT64_FORMAT " ms", ev->peak_n,
                                  ev->limit_n, ev->duration_ms);
        break;
      case DR_EVENT_EXCLUDED_ZONE:
        detail = g_strdup ("contact in an excluded zone");
        break;
      case DR_EVENT_OVER_TREATED:
        if (ev->zone >= 0 && ev->zone < DR_MAX_ZONES)
          detail = g_strdup_printf (
              "%.0f passes reached (%.0f × target %.0f)",
              r->config->over_treatment_factor * r->config->zones[ev->zone].target_passes,
              r->config->over_treatment_factor, r->config->zones[ev->zone].target_passes);
        break;
      case DR_EVENT_TOO_SOON:
        {
          g_autoptr (GDateTime) last = g_date_time_new_from_unix_local (ev->last_treated_ms / 1000);
          g_autofree char *day = last ? g_date_time_format (last, "%Y-%m-%d %H:%M") : NULL;

          detail = g_strdup_printf ("last treated %s", day ? day : "?");
        }
        break;
      case DR_EVENT_HEAD_WORN:
        detail
            = g_strdup_printf ("head 0x%08X at %.0f %% of its life", ev->head_id, ev->wear * 100.0);
        break;
      case DR_EVENT_SEQ_GAP:
        detail = g_strdup_printf ("%u frame%s lost", ev->count, ev->count == 1 ? "" : "s");
        break;
      case DR_EVENT_COUNTER_RESET:
        detail = g_strdup ("drum counter went back: new baseline");
        break;
      case DR_N_EVENT_KINDS:
      default:
        break;
    }
  printf ("%-12s  %-16s  %-11s  %s\n", when, dr_event_kind_name (ev->kind), zone,
          detail ? detail : "");
}

static void
on_event (const DrEvent *ev, void *user_data)
{
  Replay *r = user_data;

  if ((unsigned) ev->kind < DR_N_EVENT_KINDS)
    r->event_counts[ev->kind]++;
  if (ev->kind == DR_EVENT_OVER_TREATED && ev->zone >= 0 && ev->zone < DR_MAX_ZONES)
    r->over_treated[ev->zone] = TRUE;
  if (ev->kind == DR_EVENT_SESSION_STARTED && !r->session_seen)
    {
      r->session_seen = TRUE;
      r->session_start_ms = ev->time_ms;
    }
  if (ev->kind == DR_EVENT_SESSION_ENDED)
    r->session_end_ms = ev->time_ms;

  if (r->json)
    g_array_append_val (r->events, *ev);
  else
    print_event (r, ev);
}

static void
report_malformed (Replay *r, guint64 record, size_t len, DrCodecStatus st, const char *why)
{
  r->malformed++;
  r->malformed_by_reason[st]++;
  if (!r->json)
    printf ("%-12s  %-16s  %-11s  record %" G_GUINT64_FORMAT ", %zu bytes: %s%s, skipped\n",
            "--:--:--.---", "malformed", "-", record, len, dr_codec_status_name (st), why);
}

static void
feed_record (Replay *r, guint64 record, const guint8 *buf, size_t len, gboolean cut_short)
{
  DrFrame frame;
  DrCodecStatus st;
  int64_t last_ms;

  st = dr_frame_decode (buf, len, &frame);
  if (cut_short && st == DR_CODEC_OK)
    st = DR_CODEC_ERR_TRUNCATED; /* whatever decoded, the record itself is incomplete */
  if (st != DR_CODEC_OK)
    {
      report_malformed (r, record, len, st, cut_short ? " (trace ends inside it)" : "");
      return;
    }

  r->clock_unsynced = (frame.flags & DR_FRAME_FLAG_CLOCK_UNSYNCED) != 0;
  dr_engine_feed (r->engine, &frame);

  /* Let a long pause inside the recording end the session as it would have
   * live: the engine has no clock of its own. */
  last_ms = (int64_t) dr_frame_end_ms (&frame);
  dr_engine_advance (r->engine, last_ms);
}

/* Pads @s to @width columns, counting characters, not bytes: "cm²". */
static void
cell (GString *line, const char *s, int width, gboolean left)
{
  long pad = width - g_utf8_strlen (s, -1);

  if (!left)
    for (long i = 0; i < pad; i++)
      g_string_append_c (line, ' ');
  g_string_append (line, s);
  if (left)
    for (long i = 0; i < pad; i++)
      g_string_append_c (line, ' ');
}

static const char *
source_name (DrZoneSource source)
{
  switch (source)
    {
      case DR_ZONE_SOURCE_SENSOR:
        return "sensor";
      case DR_ZONE_SOURCE_USER:
        return "user";
      case DR_ZONE_SOURCE_NONE:
      default:
        return "-";
    }
}

static gboolean
zone_excluded (const Replay *r, int zone)
{
  return zone >= 0 && zone < DR_MAX_ZONES && r->config->zones[zone].excluded;
}

/* "vertical and diagonal missing" for a zone rolled in some known
 * directions (a version 2 trace) and not in others; "" otherwise. */
static void
missing_directions (const DrZoneTotals *t, char *buf, size_t size)
{
  const char *missing[3];
  guint n = 0;

  for (int d = DR_DIRECTION_HORIZONTAL; d < DR_N_DIRECTIONS; d++)
    if (!(t->passes_by_direction[d] > 0))
      missing[n++] = dr_direction_name ((DrDirection) d);
  if (n == 1)
    g_snprintf (buf, size, "%s missing", missing[0]);
  else if (n == 2)
    g_snprintf (buf, size, "%s and %s missing", missing[0], missing[1]);
}

static void
print_zone_row (const Replay *r, int zone)
{
  enum
  {
    N_COLS = 9
  };
  static const int widths[N_COLS] = { -11, -6, 11, 10, 6, 8, 13, 6, -12 };
  const DrZoneTotals *t = dr_engine_zone_totals (r->engine, zone);
  gboolean has_area = zone != DR_ZONE_UNASSIGNED;
  char zbuf[16];
  char cols[N_COLS][48];
  g_autoptr (GString) line = g_string_new (NULL);

  if (t == NULL)
    return;
  g_strlcpy (cols[0], zone_name (r, zone, zbuf, sizeof zbuf), sizeof cols[0]);
  g_strlcpy (cols[1], source_name (t->source), sizeof cols[1]);
  g_snprintf (cols[2], sizeof cols[2], "%.2f", t->revolutions);
  g_snprintf (cols[3], sizeof cols[3], "%.1f", t->rolled_cm2);
  g_snprintf (cols[4], sizeof cols[4], has_area ? "%.2f" : "-", t->passes);
  g_snprintf (cols[5], sizeof cols[5], has_area ? "%.0f %%" : "-", t->coverage * 100.0);
  g_snprintf (cols[6], sizeof cols[6], has_area ? "%.1f" : "-", t->punctures_per_cm2);
  if (t->peak_force_n > 0)
    g_snprintf (cols[7], sizeof cols[7], "%.2f", t->peak_force_n);
  else
    g_strlcpy (cols[7], "-", sizeof cols[7]);
  g_strlcpy (cols[8],
             zone_excluded (r, zone)                ? "excluded"
             : (zone >= 0 && r->over_treated[zone]) ? "over-treated"
                                                    : "",
             sizeof cols[8]);
  if (cols[8][0] == '\0' && has_area)
    missing_directions (t, cols[8], sizeof cols[8]);

  for (int i = 0; i < N_COLS; i++)
    {
      if (i > 0)
        g_string_append (line, "  ");
      cell (line, cols[i], ABS (widths[i]), widths[i] < 0);
    }
  while (line->len > 0 && line->str[line->len - 1] == ' ')
    g_string_truncate (line, line->len - 1);
  printf ("%s\n", line->str);
}

static void
print_report (Replay *r, const DrHeadInfo *head)
{
  const DrEngineStats *st = dr_engine_get_stats (r->engine);
  char a[32], b[32], dur[48];

  printf ("\nzone         source  revolutions  rolled cm²  passes  coverage  punctures/cm²  peak N "
          " note\n");
  for (unsigned z = 0; z < r->config->n_zones; z++)
    if (r->config->zones[z].name[0] != '\0')
      print_zone_row (r, (int) z);
  print_zone_row (r, DR_ZONE_UNASSIGNED);
  printf ("mean coverage %.0f %% (zones not excluded)\n\n",
          dr_engine_mean_coverage (r->engine) * 100.0);

  if (r->session_seen)
    {
      format_time (a, sizeof a, r->session_start_ms, r->clock_unsynced);
      format_time (b, sizeof b, r->session_end_ms, r->clock_unsynced);
      format_duration (dur, sizeof dur, r->session_end_ms - r->session_start_ms);
      printf ("session        %s – %s (%s)\n", a, b, dur);
    }
  printf ("head           0x%08X: %.2f mm × %u needles, %.2f revolutions, wear %.1f %%\n",
          head->head_id, head->needle_length_um / 1000.0, head->needle_count,
          dr_engine_head_revolutions (r->engine), dr_engine_head_wear (r->engine) * 100.0);
  printf ("frames         %" G_GUINT64_FORMAT "\n", st->frames);
  printf ("samples        %" G_GUINT64_FORMAT "\n", st->samples);
  printf ("malformed      %" G_GUINT64_FORMAT, r->malformed);
  for (int i = 1; i < DR_CODEC_N_ERRORS; i++)
    if (r->malformed_by_reason[i])
      printf ("  %s: %" G_GUINT64_FORMAT, dr_codec_status_name ((DrCodecStatus) i),
              r->malformed_by_reason[i]);
  printf ("\nlost frames    %" G_GUINT64_FORMAT " (in %" G_GUINT64_FORMAT " seq gap%s)\n",
          st->frames_lost, st->seq_gaps, st->seq_gaps == 1 ? "" : "s");
  printf ("sensor faults  %" G_GUINT64_FORMAT "\n", st->sensor_faults);
  if (st->counter_resets)
    printf ("counter resets %" G_GUINT64_FORMAT "\n", st->counter_resets);
  if (st->unknown_zone_samples)
    printf ("unknown zones  %" G_GUINT64_FORMAT " samples\n", st->unknown_zone_samples);
}

/* JSON */

static void
json_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else if (*p < 0x20)
        g_string_append_printf (out, "\\u%04x", *p);
      else
        g_string_append_c (out, (char) *p);
    }
  g_string_append_c (out, '"');
}

static void
json_double (GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (v))
    g_string_append (out, "null");
  else
    g_string_append (out, g_ascii_dtostr (buf, sizeof buf, v));
}

static void
json_zone (GString *out, const Replay *r, int zone)
{
  const DrZoneTotals *t = dr_engine_zone_totals (r->engine, zone);
  char zbuf[16];

  if (t == NULL)
    return;
  g_string_append_printf (out, "    {\"id\": %d, \"name\": ", zone);
  json_string (out, zone_name (r, zone, zbuf, sizeof zbuf));
  g_string_append_printf (out, ", \"excluded\": %s, \"source\": \"%s\", \"revolutions\": ",
                          zone_excluded (r, zone) ? "true" : "false",
                          t->source == DR_ZONE_SOURCE_SENSOR ? "sensor"
                          : t->source == DR_ZONE_SOURCE_USER ? "user"
                                                             : "none");
  json_double (out, t->revolutions);
  g_string_append (out, ", \"rolled_cm2\": ");
  json_double (out, t->rolled_cm2);
  g_string_append (out, ", \"passes\": ");
  json_double (out, t->passes);
  g_string_append (out, ", \"coverage\": ");
  json_double (out, t->coverage);
  g_string_append (out, ", \"passes_by_direction\": {");
  for (int d = DR_DIRECTION_HORIZONTAL; d <= DR_N_DIRECTIONS; d++)
    {
      DrDirection dir = d == DR_N_DIRECTIONS ? DR_DIRECTION_UNKNOWN : (DrDirection) d;

      g_string_append_printf (out, "%s\"%s\": ", d > DR_DIRECTION_HORIZONTAL ? ", " : "",
                              dr_direction_name (dir));
      json_double (out, t->passes_by_direction[dir]);
    }
  g_string_append (out, "}");
  g_string_append (out, ", \"punctures_per_cm2\": ");
  json_double (out, t->punctures_per_cm2);
  g_string_append (out, ", \"peak_n\": ");
  json_double (out, t->peak_force_n);
  g_string_append (out, "}");
}

static void
print_json (Replay *r, const char *path, const DrHeadInfo *head)
{
  const DrEngineStats *st = dr_engine_get_stats (r->engine);
  g_autoptr (GString) out = g_string_new ("{\n  \"trace\": ");
  gboolean first;
  char zbuf[16];

  json_string (out, path);
  g_string_append_printf (
      out,
      ",\n  \"head\": {\"id\": %u, \"needle_length_um\": %u, \"needle_count\": %u, "
      "\"drum_diameter_10um\": %u, \"drum_width_10um\": %u, \"ticks_per_rev\": %u},\n",
      head->head_id, head->needle_length_um, head->needle_count, head->drum_diameter_10um,
      head->drum_width_10um, head->ticks_per_rev);
  g_string_append_printf (
      out,
      "  \"records\": %" G_GUINT64_FORMAT ", \"frames\": %" G_GUINT64_FORMAT
      ", \"samples\": %" G_GUINT64_FORMAT ", \"malformed\": %" G_GUINT64_FORMAT
      ",\n  \"seq_gaps\": %" G_GUINT64_FORMAT ", \"frames_lost\": %" G_GUINT64_FORMAT
      ", \"sensor_faults\": %" G_GUINT64_FORMAT ", \"counter_resets\": %" G_GUINT64_FORMAT
      ", \"unknown_zone_samples\": %" G_GUINT64_FORMAT ",\n",
      r->records, st->frames, st->samples, r->malformed, st->seq_gaps, st->frames_lost,
      st->sensor_faults, st->counter_resets, st->unknown_zone_samples);

  g_string_append (out, "  \"malformed_reasons\": {");
  first = TRUE;
  for (int i = 1; i < DR_CODEC_N_ERRORS; i++)
    if (r->malformed_by_reason[i])
      {
        g_string_append (out, first ? "" : ", ");
        json_string (out, dr_codec_status_name ((DrCodecStatus) i));
        g_string_append_printf (out, ": %" G_GUINT64_FORMAT, r->malformed_by_reason[i]);
        first = FALSE;
      }
  g_string_append (out, "},\n");

  if (r->session_seen)
    g_string_append_printf (out,
                            "  \"session\": {\"start_ms\": %" G_GINT64_FORMAT
                            ", \"end_ms\": %" G_GINT64_FORMAT "},\n",
                            r->session_start_ms, r->session_end_ms);
  else
    g_string_append (out, "  \"session\": null,\n");

  g_string_append (out, "  \"head_revolutions\": ");
  json_double (out, dr_engine_head_revolutions (r->engine));
  g_string_append (out, ", \"head_wear\": ");
  json_double (out, dr_engine_head_wear (r->engine));
  g_string_append (out, ", \"mean_coverage\": ");
  json_double (out, dr_engine_mean_coverage (r->engine));

  g_string_append (out, ",\n  \"event_counts\": {");
  for (int k = 0; k < DR_N_EVENT_KINDS; k++)
    {
      g_string_append (out, k ? ", " : "");
      json_string (out, dr_event_kind_name ((DrEventKind) k));
      g_string_append_printf (out, ": %" G_GUINT64_FORMAT, r->event_counts[k]);
    }
  g_string_append (out, "},\n  \"events\": [");
  for (guint i = 0; i < r->events->len; i++)
    {
      const DrEvent *ev = &g_array_index (r->events, DrEvent, i);

      g_string_append (out, i ? ",\n    {\"kind\": " : "\n    {\"kind\": ");
      json_string (out, dr_event_kind_name (ev->kind));
      g_string_append_printf (out, ", \"time_ms\": %" G_GINT64_FORMAT ", \"zone\": ", ev->time_ms);
      if (event_has_zone (ev))
        json_string (out, zone_name (r, ev->zone, zbuf, sizeof zbuf));
      else
        g_string_append (out, "null");
      g_string_append_printf (out, ", \"zone_id\": %d", ev->zone);
      switch (ev->kind)
        {
          case DR_EVENT_PRESSURE_STARTED:
            g_string_append (out, ", \"force_n\": ");
            json_double (out, ev->force_n);
            g_string_append (out, ", \"limit_n\": ");
            json_double (out, ev->limit_n);
            break;
          case DR_EVENT_PRESSURE_ENDED:
            g_string_append (out, ", \"peak_n\": ");
            json_double (out, ev->peak_n);
            g_string_append (out, ", \"limit_n\": ");
            json_double (out, ev->limit_n);
            g_string_append_printf (out, ", \"duration_ms\": %" G_GINT64_FORMAT, ev->duration_ms);
            break;
          case DR_EVENT_SESSION_ENDED:
            g_string_append_printf (out, ", \"duration_ms\": %" G_GINT64_FORMAT, ev->duration_ms);
            break;
          case DR_EVENT_TOO_SOON:
            g_string_append_printf (out, ", \"last_treated_ms\": %" G_GINT64_FORMAT,
                                    ev->last_treated_ms);
            break;
          case DR_EVENT_HEAD_WORN:
            g_string_append_printf (out, ", \"head_id\": %u, \"wear\": ", ev->head_id);
            json_double (out, ev->wear);
            break;
          case DR_EVENT_SEQ_GAP:
            g_string_append_printf (out, ", \"count\": %u", ev->count);
            break;
          case DR_EVENT_SESSION_STARTED:
          case DR_EVENT_EXCLUDED_ZONE:
          case DR_EVENT_OVER_TREATED:
          case DR_EVENT_COUNTER_RESET:
          case DR_N_EVENT_KINDS:
          default:
            break;
        }
      g_string_append (out, "}");
    }
  g_string_append (out, r->events->len ? "\n  ],\n  \"zones\": [\n" : "],\n  \"zones\": [\n");
  for (unsigned z = 0; z < r->config->n_zones; z++)
    if (r->config->zones[z].name[0] != '\0')
      {
        json_zone (out, r, (int) z);
        g_string_append (out, ",\n");
      }
  json_zone (out, r, DR_ZONE_UNASSIGNED);
  g_string_append (out, "\n  ]\n}\n");
  fputs (out->str, stdout);
}

static int
parse_zone (const DrEngineConfig *config, const char *arg)
{
  int zone = dr_engine_config_zone_by_name (config, arg);
  g_autoptr (GString) names = NULL;
  guint64 id;

  if (zone >= 0)
    return zone;
  if (g_ascii_string_to_unsigned (arg, 10, 0, config->n_zones - 1, &id, NULL)
      && config->zones[id].name[0] != '\0')
    return (int) id;

  names = g_string_new (NULL);
  for (unsigned z = 0; z < config->n_zones; z++)
    if (config->zones[z].name[0] != '\0')
      g_string_append_printf (names, "%s%s", names->len ? ", " : "", config->zones[z].name);
  die ("--exclude %s: no such zone (zones: %s)", arg, names->str);
}

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_auto (GStrv) excludes = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[]
      = { { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
            "Engine config (zones, force limits, ...) to apply over the defaults", "FILE" },
          { "exclude", 'x', 0, G_OPTION_ARG_STRING_ARRAY, &excludes,
            "Zone the roller must not go to (name or id); repeatable", "ZONE" },
          { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the totals and events as JSON only",
            NULL },
          { NULL } };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  DrEngineConfig config;
  DrHeadInfo head;
  DrCodecStatus st;
  Replay r = { 0 };
  const guint8 *p, *end;
  size_t head_len;

  ctx = g_option_context_new ("TRACE");
  g_option_context_set_summary (ctx,
                                "Replay a recorded roller session through the treatment engine.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    die ("%s (try --help)", error->message);
  if (argc != 2)
    die ("expected one TRACE file, got %d (try --help)", argc - 1);

  dr_engine_config_init_defaults (&config);
  if (config_path != NULL && !dr_engine_config_load_file (&config, config_path, &error))
    die ("%s", error->message);

  if (!g_file_get_contents (argv[1], &data, &len, &error))
    die ("%s", error->message);
  if (len < TRACE_MAGIC_LEN || memcmp (data, TRACE_MAGIC, TRACE_MAGIC_LEN) != 0)
    die ("%s: not a roller trace (no %s header)", argv[1], TRACE_MAGIC);
  p = (const guint8 *) data + TRACE_MAGIC_LEN;
  end = (const guint8 *) data + len;

  /* Record 0: the head, without which nothing can be measured. */
  head_len = end - p >= 2 ? (size_t) (p[0] | p[1] << 8) : 0;
  if (end - p < 2 || (size_t) (end - p - 2) < head_len)
    die ("%s: no Head Info record", argv[1]);
  st = dr_head_info_decode (p + 2, head_len, &head);
  if (st != DR_CODEC_OK)
    die ("%s: Head Info record: %s", argv[1], dr_codec_status_name (st));
  if (head.ticks_per_rev == 0 || head.drum_diameter_10um == 0 || head.drum_width_10um == 0)
    die ("%s: Head Info record: a zero drum size or ticks per revolution", argv[1]);
  p += 2 + head_len;
  r.records = 1;

  r.engine = dr_engine_new (&config);
  r.config = dr_engine_get_config (r.engine);
  r.json = json;
  r.events = g_array_new (FALSE, FALSE, sizeof (DrEvent));
  dr_engine_set_event_func (r.engine, on_event, &r);
  for (char **x = excludes; x != NULL && *x != NULL; x++)
    dr_engine_set_zone_excluded (r.engine, parse_zone (r.config, *x), true);
  /* A recording does not say what the head had done before it. */
  dr_engine_set_head (r.engine, &head, 0.0);

  if (!json)
    {
      printf ("%s: head 0x%08X, %.2f mm needles × %u, drum %.2f × %.2f mm, %u ticks/rev, "
              "force limit %.2f N\n",
              argv[1], head.head_id, head.needle_length_um / 1000.0, head.needle_count,
              head.drum_diameter_10um / 100.0, head.drum_width_10um / 100.0, head.ticks_per_rev,
              r.config->force_limit_n[dr_needle_class_for_length (head.needle_length_um)]);
      for (unsigned z = 0; z < r.config->n_zones; z++)
        if (zone_excluded (&r, (int) z))
          printf ("excluded zone: %s\n", r.config->zones[z].name);
      printf ("\n");
    }

  while (p < end)
    {
      size_t avail = (size_t) (end - p);
      size_t rlen;
      gboolean cut_short;

      if (avail < 2)
        {
          report_malformed (&r, r.records++, avail, DR_CODEC_ERR_TRUNCATED,
                            " (stray byte at the end of the trace)");
          break;
        }
      rlen = (size_t) (p[0] | p[1] << 8);
      p += 2;
      avail -= 2;
      cut_short = rlen > avail;
      if (cut_short)
        rlen = avail;
      feed_record (&r, r.records++, p, rlen, cut_short);
      p += rlen;
    }

  /* The recording is over: end the session at its last contact. */
  if (dr_engine_session_active (r.engine))
    dr_engine_stop_session (r.engine);

  if (json)
    print_json (&r, argv[1], &head);
  else
    print_report (&r, &head);

  g_array_unref (r.events);
  dr_engine_free (r.engine);
  return 0;
}
