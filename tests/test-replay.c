/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-replay.c: replays the bundled recorded session, tests/data/session.trace,
 * through the frame decoder and the treatment engine and checks every total
 * against what scripts/gen-trace.py built into it.
 *
 * The revolutions per zone are the script's (SCRIPT in gen-trace.py) and the
 * coverage arithmetic is written out below. The times of the timed rules
 * (over-pressure, over-treatment, contact stretches) depend on the script's
 * random force noise, so they come from tests/data/session.expected, which the
 * script computes from the samples it wrote.
 */
#include <glib.h>
#include <string.h>

#include "engine.h"

#define TICKS_PER_REV 64.0
/* π · drum diameter · drum width = π · 1.5 cm · 2.0 cm = 3π cm² per revolution */
#define CM2_PER_REV (G_PI * 1.5 * 2.0)
#define NEEDLES 192.0
#define TARGET_PASSES 6.0

enum
{
  FOREHEAD = 0,
  LEFT_CHEEK = 1,
  RIGHT_CHEEK = 2,
  NOSE = 3,
  UPPER_LIP = 4,
  CHIN = 5,
  NECK = 6,
};

typedef struct
{
  GKeyFile *expected;
  GBytes *trace;
  DrEngine *engine;
  GArray *events; /* DrEvent */
  guint64 records;
  guint64 malformed;
  DrCodecStatus malformed_status;
} Fixture;

static void
on_event (const DrEvent *ev, void *user_data)
{
  Fixture *f = user_data;

  g_array_append_val (f->events, *ev);
}

/* "DRTRACE1", then u16 LE length + value; record 0 is the Head Info
 * (tests/data/README.md). */
static void
replay (Fixture *f, int excluded_zone)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (f->trace, &len);
  const guint8 *end = p + len;
  DrEngineConfig config;
  DrHeadInfo head;
  size_t rlen;

  g_assert_cmpuint (len, >, 8);
  g_assert_cmpmem (p, 8, "DRTRACE1", 8);
  p += 8;

  rlen = p[0] | p[1] << 8;
  g_assert_cmpint (dr_head_info_decode (p + 2, rlen, &head), ==, DR_CODEC_OK);
  p += 2 + rlen;
  f->records = 1;

  dr_engine_config_init_defaults (&config);
  f->engine = dr_engine_new (&config);
  dr_engine_set_event_func (f->engine, on_event, f);
  dr_engine_set_head (f->engine, &head, 0.0);
  if (excluded_zone >= 0)
    dr_engine_set_zone_excluded (f->engine, excluded_zone, true);

  while (p < end)
    {
      DrFrame frame;
      DrCodecStatus st;

      g_assert_cmpint (end - p, >=, 2);
      rlen = p[0] | p[1] << 8;
      p += 2;
      g_assert_cmpuint (rlen, <=, (size_t) (end - p));
      st = dr_frame_decode (p, rlen, &frame);
      if (st == DR_CODEC_OK)
        dr_engine_feed (f->engine, &frame);
      else
        {
          f->malformed++;
          f->malformed_status = st;
        }
      p += rlen;
      f->records++;
    }
  /* The recording ends: the session ends at its last contact. */
  g_assert_true (dr_engine_session_active (f->engine));
  dr_engine_stop_session (f->engine);
  g_assert_false (dr_engine_session_active (f->engine));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autofree char *trace_path = g_test_build_filename (G_TEST_DIST, "data", "session.trace", NULL);
  g_autofree char *exp_path = g_test_build_filename (G_TEST_DIST, "data", "session.expected", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMappedFile) mapped = NULL;

  f->expected = g_key_file_new ();
  g_key_file_load_from_file (f->expected, exp_path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  mapped = g_mapped_file_new (trace_path, FALSE, &error);
  g_assert_no_error (error);
  f->trace = g_mapped_file_get_bytes (mapped);
  f->events = g_array_new (FALSE, FALSE, sizeof (DrEvent));
  replay (f, GPOINTER_TO_INT (data) - 1);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  dr_engine_free (f->engine);
  g_array_unref (f->events);
  g_bytes_unref (f->trace);
  g_key_file_free (f->expected);
}

static gint64
expected_int (Fixture *f, const char *group, const char *key)
{
  g_autoptr (GError) error = NULL;
  gint64 v = g_key_file_get_int64 (f->expected, group, key, &error);

  g_assert_no_error (error);
  return v;
}

static guint
count_events (Fixture *f, DrEventKind kind, const DrEvent **first)
{
  guint n = 0;

  for (guint i = 0; i < f->events->len; i++)
    {
      const DrEvent *ev = &g_array_index (f->events, DrEvent, i);

      if (ev->kind != kind)
        continue;
      if (n++ == 0 && first != NULL)
        *first = ev;
    }
  return n;
}

static void
test_counts (Fixture *f, gconstpointer data)
{
  const DrEngineStats *st = dr_engine_get_stats (f->engine);

  /* 438 records: the head, 436 good frames and 1 cut short (length
   * mismatch); 1 more frame never arrived. */
  g_assert_cmpuint (f->records, ==, expected_int (f, "trace", "records"));
  g_assert_cmpuint (f->malformed, ==, 1);
  g_assert_cmpint (f->malformed_status, ==, DR_CODEC_ERR_LENGTH_MISMATCH);
  g_assert_cmpuint (st->frames, ==, expected_int (f, "trace", "frames"));
  g_assert_cmpuint (st->samples, ==, expected_int (f, "trace", "samples"));
  g_assert_cmpuint (st->samples, ==, 25 * st->frames - (25 - 11)); /* the last frame has 11 */
  g_assert_cmpuint (st->sensor_faults, ==, 1);
  /* The lost frame and the malformed one: two gaps of one frame each. The
   * lost one is seq 0, so its gap is 65535 -> 1 across the seq wrap. */
  g_assert_cmpint (expected_int (f, "trace", "lost-seq"), ==, 0);
  g_assert_cmpuint (st->seq_gaps, ==, 2);
  g_assert_cmpuint (st->frames_lost, ==, 2);
  g_assert_cmpuint (count_events (f, DR_EVENT_SEQ_GAP, NULL), ==, 2);
  for (guint i = 0; i < f->events->len; i++)
    {
      const DrEvent *ev = &g_array_index (f->events, DrEvent, i);

      if (ev->kind == DR_EVENT_SEQ_GAP)
        g_assert_cmpuint (ev->count, ==, 1);
    }
  /* The tick counter wraps at 2^32 on the forehead: a wrap, not a reset. */
  g_assert_cmpuint (st->counter_resets, ==, 0);
  g_assert_cmpuint (count_events (f, DR_EVENT_COUNTER_RESET, NULL), ==, 0);
  /* 0xFF is "not known", not an unknown zone id. */
  g_assert_cmpuint (st->unknown_zone_samples, ==, 0);
}

typedef struct
{
  int zone;
  const char *name;
  double ticks;
  double area_cm2;
} ZoneCase;

/* Ticks per zone are SCRIPT in gen-trace.py, the lost and the malformed
 * frames' ticks included: the counter is cumulative. Per zone, with
 * revolutions = ticks / 64 and 3π cm² per revolution:
 *   forehead    2560 ticks = 40 rev, 120π = 376.99 cm², 2π   = 6.28 passes, 100 %,   128 /cm²
 *   left-cheek  1664 ticks = 26 rev,  78π = 245.04 cm², 1.95π = 6.13 passes, 100 %, 124.8 /cm²
 *   right-cheek 1280 ticks = 20 rev,  60π = 188.50 cm², 1.5π = 4.71 passes, π/4 = 78.5 %, 96 /cm²
 *   nose        1024 ticks = 16 rev,  48π = 150.80 cm², 4π   = 12.57 passes, 100 %,  256 /cm²
 *   upper-lip    320 ticks =  5 rev,  15π =  47.12 cm², 15π/8 = 5.89 passes, 98.2 %, 120 /cm²
 *   chin         768 ticks = 12 rev,  36π = 113.10 cm², 2π   = 6.28 passes, 100 %,   128 /cm²
 *   neck           0
 *   unassigned   128 ticks =  2 rev,   6π =  18.85 cm² (the jawline stretch with zone 0xFF)
 * where passes = cm² / zone area, coverage = min (1, passes / 6) and
 * punctures/cm² = 192 needles · revolutions / zone area. */
static const ZoneCase zone_cases[] = {
  { FOREHEAD, "forehead", 2560, 60 },
  { LEFT_CHEEK, "left-cheek", 1664, 40 },
  { RIGHT_CHEEK, "right-cheek", 1280, 40 },
  { NOSE, "nose", 1024, 12 },
  { UPPER_LIP, "upper-lip", 320, 8 },
  { CHIN, "chin", 768, 18 },
  { NECK, "neck", 0, 110 },
};

static void
test_coverage (Fixture *f, gconstpointer data)
{
  const DrZoneTotals *t;
  double total_rev = 0;

  for (guint i = 0; i < G_N_ELEMENTS (zone_cases); i++)
    {
      const ZoneCase *c = &zone_cases[i];
      g_autofree char *group = g_strdup_printf ("zone %s", c->name);
      double rev = c->ticks / TICKS_PER_REV;
      double passes = rev * CM2_PER_REV / c->area_cm2;

      g_test_message ("%s", c->name);
      t = dr_engine_zone_totals (f->engine, c->zone);
      g_assert_nonnull (t);
      g_assert_cmpfloat_with_epsilon (t->revolutions, rev, 1e-9);
      g_assert_cmpfloat_with_epsilon (t->rolled_cm2, rev * CM2_PER_REV, 1e-9);
      g_assert_cmpfloat_with_epsilon (t->passes, passes, 1e-9);
      g_assert_cmpfloat_with_epsilon (t->coverage, MIN (1.0, passes / TARGET_PASSES), 1e-9);
      g_assert_cmpfloat_with_epsilon (t->punctures_per_cm2, NEEDLES * rev / c->area_cm2, 1e-9);
      total_rev += rev;
      if (c->ticks == 0)
        continue;
      /* The generator agrees with the script written out above. */
      g_assert_cmpint (expected_int (f, group, "ticks"), ==, (gint64) c->ticks);
      g_assert_cmpint (t->source, ==, DR_ZONE_SOURCE_SENSOR);
      /* Peaks of contact samples only: never 65.535 N from the 0xFFFF fault. */
      g_assert_cmpfloat_with_epsilon (t->peak_force_n, expected_int (f, group, "peak-mn") / 1000.0,
                                      1e-9);
    }

  /* Exact closed forms for two of them, against a slip in the table. */
  g_assert_cmpfloat_with_epsilon (dr_engine_zone_totals (f->engine, FOREHEAD)->passes, 2 * G_PI,
                                  1e-9);
  g_assert_cmpfloat_with_epsilon (dr_engine_zone_totals (f->engine, RIGHT_CHEEK)->coverage,
                                  G_PI / 4, 1e-9);

  t = dr_engine_zone_totals (f->engine, DR_ZONE_UNASSIGNED);
  g_assert_nonnull (t);
  g_assert_cmpfloat_with_epsilon (t->revolutions, 2.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (t->rolled_cm2, 6 * G_PI, 1e-9);
  g_assert_cmpint (expected_int (f, "zone unassigned", "ticks"), ==, 128);
  g_assert_cmpfloat_with_epsilon (t->peak_force_n,
                                  expected_int (f, "zone unassigned", "peak-mn") / 1000.0, 1e-9);
  total_rev += 2.0;

  /* All of it on the head: 40 + 26 + 20 + 16 + 5 + 12 + 2 = 121 revolutions,
   * 121 / 2500 = 4.84 % of its life, so no head-worn event. */
  g_assert_cmpfloat_with_epsilon (total_rev, 121.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (dr_engine_head_revolutions (f->engine), 121.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (dr_engine_head_wear (f->engine), 121.0 / 2500.0, 1e-9);
  g_assert_cmpuint (count_events (f, DR_EVENT_HEAD_WORN, NULL), ==, 0);
}

static void
test_pressure (Fixture *f, gconstpointer data)
{
  const DrEvent *start = NULL, *end = NULL;
  gint64 start_ms = expected_int (f, "pressure", "start-ms");
  gint64 end_ms = expected_int (f, "pressure", "end-ms");

  /* One episode on the left cheek, 0.5 mm needles: limit 5.0 N. The run of
   * samples > 5.0 N lasts 600 ms; the episode starts at the sample 150 ms
   * after the run's first one. The 0xFFFF sample 70 ms into the run neither
   * breaks nor extends it (breaking it would start the episode 80 ms late).
   * It ends at the sample 300 ms after the first one below 4.5 N, which
   * comes 610 ms after the run's start (4.8 N in between counts for neither):
   * 610 + 300 - 150 = 760 ms. */
  g_assert_cmpint (expected_int (f, "pressure", "episodes"), ==, 1);
  g_assert_cmpuint (count_events (f, DR_EVENT_PRESSURE_STARTED, &start), ==, 1);
  g_assert_cmpuint (count_events (f, DR_EVENT_PRESSURE_ENDED, &end), ==, 1);

  g_assert_cmpint (start->time_ms, ==, start_ms);
  g_assert_cmpint (start->zone, ==, LEFT_CHEEK);
  g_assert_cmpfloat_with_epsilon (start->force_n,
                                  expected_int (f, "pressure", "start-force-mn") / 1000.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (start->limit_n, 5.0, 1e-9);

  g_assert_cmpint (end->time_ms, ==, end_ms);
  g_assert_cmpint (end_ms - start_ms, ==, 760);
  g_assert_cmpint (end->duration_ms, ==, 760);
  g_assert_cmpint (end->zone, ==, LEFT_CHEEK);
  g_assert_cmpfloat_with_epsilon (end->peak_n, expected_int (f, "pressure", "peak-mn") / 1000.0,
                                  1e-9);
  g_assert_cmpfloat_with_epsilon (end->limit_n, 5.0, 1e-9);
}

static void
test_session (Fixture *f, gconstpointer data)
{
  const DrEvent *started = NULL, *ended = NULL;
  gint64 start_ms = expected_int (f, "session", "start-ms");
  gint64 end_ms = expected_int (f, "session", "end-ms");

  /* One session: the pauses between zones are 2-3.5 s, far below 120 s. It
   * starts at the first contact sample (after 1.5 s lifted) and ends, when
   * the recording ends, at the last one. */
  g_assert_cmpuint (count_events (f, DR_EVENT_SESSION_STARTED, &started), ==, 1);
  g_assert_cmpuint (count_events (f, DR_EVENT_SESSION_ENDED, &ended), ==, 1);
  g_assert_cmpint (started->time_ms, ==, start_ms);
  g_assert_cmpint (start_ms, ==, 1716064200000 + 1500);
  g_assert_cmpint (ended->duration_ms, ==, end_ms - start_ms);
  g_assert_cmpint (dr_engine_session_start_ms (f->engine), ==, start_ms);
  g_assert_cmpint (dr_engine_session_end_ms (f->engine), ==, end_ms);
  /* Nothing was treated before, so nothing is too soon. */
  g_assert_cmpuint (count_events (f, DR_EVENT_TOO_SOON, NULL), ==, 0);
}

static void
test_over_treatment (Fixture *f, gconstpointer data)
{
  const DrEvent *ev = NULL;

  /* Only the nose reaches 2 × 6 = 12 passes: 12 · 12 cm² / 3π cm² =
   * 15.28 revolutions = 977.9 ticks, so at the sample where the nose's
   * ticks reach 978 (12.003 passes), once. Forehead and chin stop at 6.28. */
  g_assert_cmpuint (count_events (f, DR_EVENT_OVER_TREATED, &ev), ==, 1);
  g_assert_cmpint (ev->zone, ==, NOSE);
  g_assert_cmpint (ev->time_ms, ==, expected_int (f, "over-treated", "nose-ms"));
}

static void
test_excluded (Fixture *f, gconstpointer data)
{
  g_auto (GStrv) starts
      = g_key_file_get_string_list (f->expected, "zone chin", "stretch-start-ms", NULL, NULL);
  guint n = 0;

  /* Chin excluded: the chin is rolled in 3 contact stretches, so 3 events,
   * each at a stretch's first contact sample; no other zone yields one. */
  g_assert_cmpuint (g_strv_length (starts), ==, 3);
  g_assert_cmpuint (count_events (f, DR_EVENT_EXCLUDED_ZONE, NULL), ==, 3);
  for (guint i = 0; i < f->events->len; i++)
    {
      const DrEvent *ev = &g_array_index (f->events, DrEvent, i);

      if (ev->kind != DR_EVENT_EXCLUDED_ZONE)
        continue;
      g_assert_cmpint (ev->zone, ==, CHIN);
      g_assert_cmpint (ev->time_ms, ==, g_ascii_strtoll (starts[n], NULL, 10));
      n++;
    }
  /* Excluding a zone changes no totals: contact there is still counted. */
  g_assert_cmpfloat_with_epsilon (dr_engine_zone_totals (f->engine, CHIN)->revolutions, 12.0, 1e-9);
}

static void
test_not_excluded (Fixture *f, gconstpointer data)
{
  g_assert_cmpuint (count_events (f, DR_EVENT_EXCLUDED_ZONE, NULL), ==, 0);
}

int
main (int argc, char **argv)
{
  /* data: excluded zone + 1, 0 for none */
  gconstpointer none = GINT_TO_POINTER (0), chin = GINT_TO_POINTER (CHIN + 1);

  g_test_init (&argc, &argv, NULL);
#define ADD(path, data, fn)                                                                        \
  g_test_add ("/replay/session/" path, Fixture, data, fixture_set_up, fn, fixture_tear_down)
  ADD ("counts", none, test_counts);
  ADD ("coverage", none, test_coverage);
  ADD ("pressure", none, test_pressure);
  ADD ("session", none, test_session);
  ADD ("over-treatment", none, test_over_treatment);
  ADD ("not-excluded", none, test_not_excluded);
  ADD ("excluded-chin", chin, test_excluded);
#undef ADD
  return g_test_run ();
}
