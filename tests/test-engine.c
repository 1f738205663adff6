/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-engine.c: the treatment engine, rule by rule, on hand-computed cases.
 *
 * Unless a test says otherwise the head is the one from test_head(): a drum
 * of 15.00 mm diameter and 20.00 mm width, 1000 ticks per revolution and 192
 * needles of 0.5 mm. So:
 *   area per revolution = π · 1.5 cm · 2.0 cm = 3π cm² = 9.42477796 cm²
 *   force limit (≤ 0.5 mm) = 5.0 N: over it at > 5000 mN, under 90 % of it
 *   at < 4500 mN; rest interval 7 days.
 * Contact is at ≥ 500 mN, a session ends 120 s after its last contact.
 */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine.h"

#define T0 INT64_C (1700000000000) /* 2023-11-14, ms since the epoch */
#define DAY_MS INT64_C (86400000)
#define EPS 1e-9
#define AREA_PER_REV (3.0 * G_PI)

#define FOREHEAD 0
#define LEFT_CHEEK 1
#define RIGHT_CHEEK 2
#define NOSE 3
#define UPPER_LIP 4
#define CHIN 5
#define NECK 6

#define HARD 6000  /* mN, over the 5.0 N limit */
#define FIRM 2000  /* mN, contact, well under the limit */
#define LIFTED 100 /* mN, not contact */
#define FAULT DR_FORCE_SENSOR_FAULT

typedef struct
{
  DrEngineConfig config;
  DrEngine *engine;
  GArray *events;
  uint16_t seq;
} Fixture;

static DrHeadInfo
test_head (uint16_t needle_length_um)
{
  DrHeadInfo head = {
    .version = 1,
    .needle_length_um = needle_length_um,
    .needle_count = 192,
    .drum_diameter_10um = 1500,
    .drum_width_10um = 2000,
    .ticks_per_rev = 1000,
    .head_id = 0xC0FFEE,
  };

  return head;
}

static void
record_event (const DrEvent *event, void *user_data)
{
  GArray *events = user_data;

  g_array_append_vals (events, event, 1);
}

/* @config NULL: the defaults. The head is test_head (500) unless
 * @needle_length_um is 0, which means no head at all. */
static void
fixture_setup (Fixture *f, const DrEngineConfig *config, uint16_t needle_length_um)
{
  memset (f, 0, sizeof (*f));
  if (config != NULL)
    f->config = *config;
  else
    dr_engine_config_init_defaults (&f->config);
  f->engine = dr_engine_new (&f->config);
  f->events = g_array_new (FALSE, TRUE, sizeof (DrEvent));
  dr_engine_set_event_func (f->engine, record_event, f->events);
  if (needle_length_um != 0)
    {
      DrHeadInfo head = test_head (needle_length_um);

      dr_engine_set_head (f->engine, &head, 0);
    }
}

static void
fixture_setup_default (Fixture *f)
{
  fixture_setup (f, NULL, 500);
}

static void
fixture_teardown (Fixture *f)
{
  g_clear_pointer (&f->engine, dr_engine_free);
  g_clear_pointer (&f->events, g_array_unref);
}

/* One frame holding one sample, with the next seq. */
static void
feed1 (Fixture *f, int64_t t, uint32_t ticks, uint16_t force_mn, uint8_t zone)
{
  DrFrame frame = { .version = 1, .seq = f->seq++, .t0_ms = (uint64_t) t, .n_samples = 1 };

  frame.samples[0].dt_ms = 0;
  frame.samples[0].ticks = ticks;
  frame.samples[0].force_mn = force_mn;
  frame.samples[0].zone = zone;
  dr_engine_feed (f->engine, &frame);
}

static unsigned
count_events (const Fixture *f, DrEventKind kind)
{
  unsigned n = 0;

  for (unsigned i = 0; i < f->events->len; i++)
    if (g_array_index (f->events, DrEvent, i).kind == kind)
      n++;
  return n;
}

/* The @nth (from 0) event of @kind; fails the test when there is none. */
static const DrEvent *
nth_event (const Fixture *f, DrEventKind kind, unsigned nth)
{
  for (unsigned i = 0; i < f->events->len; i++)
    {
      const DrEvent *e = &g_array_index (f->events, DrEvent, i);

      if (e->kind == kind && nth-- == 0)
        return e;
    }
  g_error ("no %s event #%u", dr_event_kind_name (kind), nth);
  return NULL;
}

static const DrEvent *
event_at (const Fixture *f, unsigned i)
{
  g_assert_cmpuint (i, <, f->events->len);
  return &g_array_index (f->events, DrEvent, i);
}

static void
assert_near (double got, double expected)
{
  g_assert_cmpfloat_with_epsilon (got, expected, EPS);
}

/* Rolling direction (version 2 frames)
 *
 * The forehead's area is set to one drum revolution (3π cm²), so 1000 ticks
 * are exactly one pass; the target is 6 passes (T/3 = 2) unless a test sets
 * another. */

static void
direction_setup (Fixture *f, double target_passes)
{
  DrEngineConfig config;

  dr_engine_config_init_defaults (&config);
  config.zones[FOREHEAD].area_cm2 = AREA_PER_REV;
  config.zones[FOREHEAD].target_passes = target_passes;
  fixture_setup (f, &config, 500);
  f->seq = 0;
}

/* One version 2 frame of one sample. */
static void
feed1_v2 (Fixture *f, int64_t t, uint32_t ticks, uint8_t motion)
{
  DrFrame frame = { .version = 2, .seq = f->seq++, .t0_ms = (uint64_t) t, .n_samples = 1 };

  frame.samples[0].ticks = ticks;
  frame.samples[0].force_mn = FIRM;
  frame.samples[0].zone = FOREHEAD;
  frame.samples[0].motion = motion;
  dr_engine_feed (f->engine, &frame);
}

/* Passes on the forehead, in the order horizontal, vertical, diagonal,
 * unknown (each step one sample of @passes · 1000 ticks). */
static const DrZoneTotals *
roll_directions (Fixture *f, double h, double v, double d, double u)
{
  const double passes[] = { h, v, d, u };
  const uint8_t motion[] = { DR_DIRECTION_HORIZONTAL, DR_DIRECTION_VERTICAL, DR_DIRECTION_DIAGONAL,
                             DR_DIRECTION_UNKNOWN };
  uint32_t ticks = 0;
  int64_t t = T0;

  feed1_v2 (f, t, ticks, DR_DIRECTION_UNKNOWN); /* the tick baseline */
  for (unsigned i = 0; i < G_N_ELEMENTS (passes); i++)
    if (passes[i] > 0)
      {
        ticks += (uint32_t) lround (passes[i] * 1000);
        t += 100;
        feed1_v2 (f, t, ticks, motion[i]);
      }
  return dr_engine_zone_totals (f->engine, FOREHEAD);
}

static void
assert_by_direction (const DrZoneTotals *zt, double h, double v, double d, double u)
{
  assert_near (zt->passes_by_direction[DR_DIRECTION_HORIZONTAL], h);
  assert_near (zt->passes_by_direction[DR_DIRECTION_VERTICAL], v);
  assert_near (zt->passes_by_direction[DR_DIRECTION_DIAGONAL], d);
  assert_near (zt->passes_by_direction[DR_DIRECTION_UNKNOWN], u);
  assert_near (zt->passes, h + v + d + u);
}

/* Direction not known, from a v1 frame or a v2 one: today's min (1, passes / T). */
static void
test_direction_all_unknown (void)
{
  Fixture f;
  const DrZoneTotals *zt;

  direction_setup (&f, 6);
  zt = roll_directions (&f, 0, 0, 0, 3);
  assert_by_direction (zt, 0, 0, 0, 3);
  assert_near (zt->coverage, 0.5);
  fixture_teardown (&f);

  /* The same passes from version 1 frames */
  direction_setup (&f, 6);
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 100, 3000, FIRM, FOREHEAD);
  zt = dr_engine_zone_totals (f.engine, FOREHEAD);
  assert_by_direction (zt, 0, 0, 0, 3);
  assert_near (zt->coverage, 0.5);
  fixture_teardown (&f);

  /* 6 unknown passes still make 100 %, 7 do not make more */
  direction_setup (&f, 6);
  assert_near (roll_directions (&f, 0, 0, 0, 6)->coverage, 1.0);
  fixture_teardown (&f);
  direction_setup (&f, 6);
  assert_near (roll_directions (&f, 0, 0, 0, 7)->coverage, 1.0);
  fixture_teardown (&f);
}

/* A version 1 frame has no motion byte: whatever the struct holds is ignored. */
static void
test_direction_v1_motion_ignored (void)
{
  Fixture f;
  DrFrame frame = { .version = 1, .t0_ms = T0, .n_samples = 2 };
  const DrZoneTotals *zt;

  direction_setup (&f, 6);
  frame.samples[0] = (DrSample){
    .ticks = 0, .force_mn = FIRM, .zone = FOREHEAD, .motion = DR_DIRECTION_HORIZONTAL
  };
  frame.samples[1] = (DrSample){ .dt_ms = 100,
                                 .ticks = 6000,
                                 .force_mn = FIRM,
                                 .zone = FOREHEAD,
                                 .motion = DR_DIRECTION_HORIZONTAL };
  dr_engine_feed (f.engine, &frame);
  zt = dr_engine_zone_totals (f.engine, FOREHEAD);
  assert_by_direction (zt, 0, 0, 0, 6);
  assert_near (zt->coverage, 1.0);
  fixture_teardown (&f);
}

/* Six horizontal passes: only T/3 = 2 count, 2 / 6. */
static void
test_direction_six_horizontal (void)
{
  Fixture f;
  const DrZoneTotals *zt;

  direction_setup (&f, 6);
  zt = roll_directions (&f, 6, 0, 0, 0);
  assert_by_direction (zt, 6, 0, 0, 0);
  assert_near (zt->coverage, 1.0 / 3);
  fixture_teardown (&f);
}

/* 2 + 2 + 2: each direction at its share, 100 %; one pass short of it in
 * one direction, 5/6; more than the share adds nothing. */
static void
test_direction_two_each (void)
{
  Fixture f;

  direction_setup (&f, 6);
  assert_near (roll_directions (&f, 2, 2, 2, 0)->coverage, 1.0);
  fixture_teardown (&f);
  direction_setup (&f, 6);
  assert_near (roll_directions (&f, 2, 2, 1, 0)->coverage, 5.0 / 6);
  fixture_teardown (&f);
  direction_setup (&f, 6);
  assert_near (roll_directions (&f, 2, 2, 1.999, 0)->coverage, 5.999 / 6);
  fixture_teardown (&f);
  direction_setup (&f, 6);
  assert_near (roll_directions (&f, 5, 2, 1, 0)->coverage, 5.0 / 6);
  fixture_teardown (&f);
  /* A direction reported by one sample with the reserved bits set */
  direction_setup (&f, 6);
  feed1_v2 (&f, T0, 0, 0);
  feed1_v2 (&f, T0 + 100, 2000, 0xfc | DR_DIRECTION_VERTICAL);
  assert_by_direction (dr_engine_zone_totals (f.engine, FOREHEAD), 0, 2, 0, 0);
  fixture_teardown (&f);
}

/* Passes of no known direction count in full next to the capped ones. */
static void
test_direction_mixed_unknown (void)
{
  Fixture f;

  /* (min (4, 2) + 1 + 0 + 2) / 6 = 5/6 */
  direction_setup (&f, 6);
  assert_near (roll_directions (&f, 4, 1, 0, 2)->coverage, 5.0 / 6);
  fixture_teardown (&f);
  /* (2 + 0 + 0 + 4) / 6 = 1 */
  direction_setup (&f, 6);
  assert_near (roll_directions (&f, 6, 0, 0, 4)->coverage, 1.0);
  fixture_teardown (&f);
  /* (2 + 2 + 2 + 3) / 6 capped at 1 */
  direction_setup (&f, 6);
  assert_near (roll_directions (&f, 3, 3, 3, 3)->coverage, 1.0);
  fixture_teardown (&f);
  /* (1 + 0 + 0 + 3.5) / 6 */
  direction_setup (&f, 6);
  assert_near (roll_directions (&f, 1, 0, 0, 3.5)->coverage, 4.5 / 6);
  fixture_teardown (&f);
}

/* T = 5: each direction is credited up to 5/3 passes. */
static void
test_direction_target_not_divisible (void)
{
  Fixture f;
  const double a[] = { 2, 2, 1, 0 };

  /* (5/3 + 5/3 + 1) / 5 = 13/15 */
  direction_setup (&f, 5);
  assert_near (roll_directions (&f, 2, 2, 1, 0)->coverage, 13.0 / 15);
  fixture_teardown (&f);
  /* 1.666 < 5/3 counts in full: (1.666 + 5/3 + 5/3) / 5 */
  direction_setup (&f, 5);
  assert_near (roll_directions (&f, 1.666, 2, 2, 0)->coverage, (1.666 + 10.0 / 3) / 5);
  fixture_teardown (&f);
  /* T = 7 */
  direction_setup (&f, 7);
  assert_near (roll_directions (&f, 3, 3, 3, 0)->coverage, 1.0);
  fixture_teardown (&f);
  direction_setup (&f, 7);
  assert_near (roll_directions (&f, 3, 0, 0, 1)->coverage, (7.0 / 3 + 1) / 7);
  fixture_teardown (&f);

  /* The same rule for a stored session's totals */
  assert_near (dr_engine_direction_coverage ((const double[]){ 0, 2, 2, 1 }, 5), 13.0 / 15);
  assert_near (dr_engine_direction_coverage (a, 0), 0.0);
  assert_near (dr_engine_direction_coverage ((const double[]){ 3, 0, 0, 0 }, 6), 0.5);
}

/* Event names */

static void
test_event_kind_names (void)
{
  static const char *const names[] = { "session-started", "session-ended", "pressure-started",
                                       "pressure-ended",  "excluded",      "over-treated",
                                       "too-soon",        "head-worn",     "seq-gap",
                                       "counter-reset" };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == DR_N_EVENT_KINDS);
  for (unsigned i = 0; i < DR_N_EVENT_KINDS; i++)
    g_assert_cmpstr (dr_event_kind_name ((DrEventKind) i), ==, names[i]);
  g_assert_null (dr_event_kind_name (DR_N_EVENT_KINDS));
}

/* Coverage */

static void
test_coverage_hand_computed (void)
{
  Fixture f;
  const DrZoneTotals *forehead, *nose;

  fixture_setup_default (&f);

  /* First sample: the tick baseline (nothing counted) and the first contact. */
  feed1 (&f, T0, 1000, FIRM, FOREHEAD);
  feed1 (&f, T0 + 100, 11000, FIRM, FOREHEAD); /* +10000 ticks = 10 revolutions */
  feed1 (&f, T0 + 200, 21000, FIRM, FOREHEAD); /* +10 more: 20 */
  /* Not in contact: these 5000 + 3000 ticks count nowhere. 499 mN is just
   * under the 0.5 N contact threshold. */
  feed1 (&f, T0 + 300, 26000, LIFTED, NOSE);
  feed1 (&f, T0 + 400, 29000, 499, NOSE);
  /* Exactly 0.5 N is contact: +3000 ticks = 3 revolutions on the nose. */
  feed1 (&f, T0 + 500, 32000, 500, NOSE);

  /* Forehead, 20 revolutions on 60 cm²:
   *   rolled   = 20 · 3π = 60π = 188.4955592 cm²
   *   passes   = 60π / 60 = π = 3.14159265
   *   coverage = π / 6 = 0.52359878
   *   punctures = 192 needles · 20 rev / 60 cm² = 64 per cm² */
  forehead = dr_engine_zone_totals (f.engine, FOREHEAD);
  assert_near (forehead->revolutions, 20.0);
  assert_near (forehead->rolled_cm2, 188.4955592153876);
  assert_near (forehead->passes, G_PI);
  assert_near (forehead->coverage, G_PI / 6);
  assert_near (forehead->punctures_per_cm2, 64.0);
  assert_near (forehead->peak_force_n, 2.0);
  g_assert_cmpint (forehead->source, ==, DR_ZONE_SOURCE_SENSOR);

  /* Nose, 3 revolutions on 12 cm²:
   *   rolled   = 3 · 3π = 9π = 28.27433388 cm²
   *   passes   = 9π / 12 = 3π/4 = 2.35619449
   *   coverage = (3π/4) / 6 = π/8 = 0.39269908
   *   punctures = 192 · 3 / 12 = 48 per cm² */
  nose = dr_engine_zone_totals (f.engine, NOSE);
  assert_near (nose->revolutions, 3.0);
  assert_near (nose->rolled_cm2, 28.274333882308138);
  assert_near (nose->passes, 3 * G_PI / 4);
  assert_near (nose->coverage, G_PI / 8);
  assert_near (nose->punctures_per_cm2, 48.0);
  assert_near (nose->peak_force_n, 0.5);

  for (int zone = LEFT_CHEEK; zone <= NECK; zone++)
    if (zone != NOSE)
      assert_near (dr_engine_zone_totals (f.engine, zone)->rolled_cm2, 0.0);
  assert_near (dr_engine_zone_totals (f.engine, DR_ZONE_UNASSIGNED)->rolled_cm2, 0.0);

  /* Mean over the 7 zones: (π/6 + π/8) / 7 = (7π/24) / 7 = π/24. */
  assert_near (dr_engine_mean_coverage (f.engine), G_PI / 24);
  /* Head: only revolutions in contact, 20 + 3. */
  assert_near (dr_engine_head_revolutions (f.engine), 23.0);
  assert_near (dr_engine_head_wear (f.engine), 23.0 / 2500.0);

  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_STARTED), ==, 1);
  g_assert_cmpint (nth_event (&f, DR_EVENT_SESSION_STARTED, 0)->time_ms, ==, T0);
  fixture_teardown (&f);
}

static void
test_coverage_capped (void)
{
  Fixture f;
  const DrZoneTotals *lip;

  fixture_setup_default (&f);
  /* Upper lip, 8 cm²: 20 revolutions = 60π cm² = 23.56 passes, 3.9 × the
   * target of 6, so coverage stops at 1. */
  feed1 (&f, T0, 0, FIRM, UPPER_LIP);
  feed1 (&f, T0 + 100, 20000, FIRM, UPPER_LIP);
  lip = dr_engine_zone_totals (f.engine, UPPER_LIP);
  assert_near (lip->passes, 60 * G_PI / 8);
  assert_near (lip->coverage, 1.0);
  fixture_teardown (&f);
}

static void
test_coverage_unassigned (void)
{
  Fixture f;
  const DrZoneTotals *un;

  fixture_setup_default (&f);
  /* No sensor zone, no user zone: 2 revolutions, 6π cm², in no zone. */
  feed1 (&f, T0, 0, FIRM, DR_ZONE_UNKNOWN);
  feed1 (&f, T0 + 100, 2000, 3000, DR_ZONE_UNKNOWN);
  un = dr_engine_zone_totals (f.engine, DR_ZONE_UNASSIGNED);
  assert_near (un->revolutions, 2.0);
  assert_near (un->rolled_cm2, 6 * G_PI);
  /* An unassigned area has no size: no passes, coverage or punctures. */
  assert_near (un->passes, 0.0);
  assert_near (un->coverage, 0.0);
  assert_near (un->punctures_per_cm2, 0.0);
  assert_near (un->peak_force_n, 3.0);
  g_assert_cmpint (un->source, ==, DR_ZONE_SOURCE_NONE);
  assert_near (dr_engine_mean_coverage (f.engine), 0.0);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->unknown_zone_samples, ==, 0);
  fixture_teardown (&f);
}

static void
test_coverage_no_head (void)
{
  Fixture f;
  DrHeadInfo head = test_head (500);

  /* Without head info, and with ticks_per_rev 0, there is no area per
   * tick: contact still makes a session, but no coverage. */
  fixture_setup (&f, NULL, 0);
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 100, 5000, FIRM, FOREHEAD);
  g_assert_true (dr_engine_session_active (f.engine));
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->rolled_cm2, 0.0);
  assert_near (dr_engine_head_revolutions (f.engine), 0.0);

  head.ticks_per_rev = 0;
  dr_engine_set_head (f.engine, &head, 0);
  feed1 (&f, T0 + 200, 10000, FIRM, FOREHEAD);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->rolled_cm2, 0.0);

  /* Once the head is known the next deltas count. */
  head.ticks_per_rev = 1000;
  dr_engine_set_head (f.engine, &head, 0);
  feed1 (&f, T0 + 300, 11000, FIRM, FOREHEAD);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 1.0);
  fixture_teardown (&f);
}

/* Sample times */

static void
test_time_cumulative_dt (void)
{
  Fixture f;
  DrFrame frame = { .version = 1, .seq = 7, .t0_ms = (uint64_t) T0, .n_samples = 3 };

  fixture_setup_default (&f);
  /* t0 is the first sample's time; the first dt (here wrongly 77) is not
   * added. Times: T0, T0 + 100, T0 + 150; the next frame goes on from its
   * own t0. */
  frame.samples[0] = (DrSample){ 77, 0, FIRM, FOREHEAD };
  frame.samples[1] = (DrSample){ 100, 1000, FIRM, FOREHEAD };
  frame.samples[2] = (DrSample){ 50, 2000, FIRM, FOREHEAD };
  dr_engine_feed (f.engine, &frame);
  g_assert_cmpint (dr_engine_session_start_ms (f.engine), ==, T0);
  g_assert_cmpint (dr_engine_session_end_ms (f.engine), ==, T0 + 150);
  g_assert_cmpint (dr_engine_session_deadline_ms (f.engine), ==, T0 + 150 + 120000);

  frame.seq = 8;
  frame.t0_ms = (uint64_t) (T0 + 200);
  frame.n_samples = 2;
  frame.samples[0] = (DrSample){ 0, 3000, FIRM, FOREHEAD };
  frame.samples[1] = (DrSample){ 65535, 4000, FIRM, FOREHEAD };
  dr_engine_feed (f.engine, &frame);
  g_assert_cmpint (dr_engine_session_end_ms (f.engine), ==, T0 + 200 + 65535);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 4.0);

  g_assert_cmpuint (dr_engine_get_stats (f.engine)->frames, ==, 2);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->samples, ==, 5);
  fixture_teardown (&f);
}

/* The same samples in frames of 1 and in frames of 25 give the same
 * totals and the same events: state runs on across frames. */
typedef struct
{
  uint16_t dt_ms;
  uint32_t ticks;
  uint16_t force_mn;
  uint8_t zone;
} GenSample;

static void
feed_generated (Fixture *f, const GenSample *samples, unsigned n, unsigned per_frame)
{
  int64_t t = T0;

  for (unsigned i = 0; i < n; i += per_frame)
    {
      DrFrame frame = { .version = 1, .seq = f->seq++, .n_samples = 0 };

      frame.t0_ms = (uint64_t) (t + (i > 0 ? samples[i].dt_ms : 0));
      for (unsigned j = i; j < n && j < i + per_frame; j++)
        {
          DrSample *s = &frame.samples[frame.n_samples++];

          if (j > 0)
            t += samples[j].dt_ms;
          s->dt_ms = j == i ? 0 : samples[j].dt_ms;
          s->ticks = samples[j].ticks;
          s->force_mn = samples[j].force_mn;
          s->zone = samples[j].zone;
        }
      dr_engine_feed (f->engine, &frame);
    }
}

static void
test_time_frame_size_invariant (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20231114);
  const unsigned n = 20000;
  g_autofree GenSample *samples = g_new0 (GenSample, n);
  Fixture a, b;
  DrEngineConfig config;
  uint32_t ticks = 4000000000u; /* wraps on the way */
  int force = 0;

  for (unsigned i = 0; i < n; i++)
    {
      samples[i].dt_ms = i == 0 ? 0 : (uint16_t) g_rand_int_range (rand, 1, 40);
      if (g_rand_int_range (rand, 0, 2000) == 0)
        samples[i].dt_ms = 60000; /* a long pause now and then: sessions split */
      ticks += (uint32_t) g_rand_int_range (rand, 0, 200);
      samples[i].ticks = ticks;
      /* A random walk, so that runs over the limit and under 90 % happen. */
      force = CLAMP (force + g_rand_int_range (rand, -300, 301), 0, 7000);
      samples[i].force_mn = (uint16_t) force;
      if (g_rand_int_range (rand, 0, 100) == 0)
        samples[i].force_mn = FAULT;
      samples[i].zone = (uint8_t) g_rand_int_range (rand, 0, 8);
      if (samples[i].zone == 7)
        samples[i].zone = DR_ZONE_UNKNOWN;
    }

  /* A 30 s gap: the 60 s pauses split sessions. */
  dr_engine_config_init_defaults (&config);
  config.session_gap_ms = 30000;
  fixture_setup (&a, &config, 500);
  fixture_setup (&b, &config, 500);
  dr_engine_set_zone_excluded (a.engine, CHIN, true);
  dr_engine_set_zone_excluded (b.engine, CHIN, true);
  feed_generated (&a, samples, n, 1);
  feed_generated (&b, samples, n, DR_FRAME_MAX_SAMPLES);

  g_assert_cmpuint (count_events (&a, DR_EVENT_SESSION_ENDED), >, 2);
  g_assert_cmpuint (count_events (&a, DR_EVENT_PRESSURE_ENDED), >, 2);
  g_assert_cmpuint (count_events (&a, DR_EVENT_EXCLUDED_ZONE), >, 2);
  g_assert_cmpuint (a.events->len, ==, b.events->len);
  for (unsigned i = 0; i < a.events->len; i++)
    {
      const DrEvent *ea = event_at (&a, i), *eb = event_at (&b, i);

      g_assert_cmpint (ea->kind, ==, eb->kind);
      g_assert_cmpint (ea->time_ms, ==, eb->time_ms);
      g_assert_cmpint (ea->zone, ==, eb->zone);
      g_assert_cmpfloat (ea->force_n, ==, eb->force_n);
      g_assert_cmpfloat (ea->peak_n, ==, eb->peak_n);
      g_assert_cmpint (ea->duration_ms, ==, eb->duration_ms);
    }
  for (int zone = DR_ZONE_UNASSIGNED; zone <= NECK; zone++)
    {
      const DrZoneTotals *ta = dr_engine_zone_totals (a.engine, zone);
      const DrZoneTotals *tb = dr_engine_zone_totals (b.engine, zone);

      g_assert_cmpfloat (ta->rolled_cm2, ==, tb->rolled_cm2);
      g_assert_cmpfloat (ta->passes, ==, tb->passes);
      g_assert_cmpfloat (ta->peak_force_n, ==, tb->peak_force_n);
    }
  g_assert_cmpuint (dr_engine_get_stats (a.engine)->sensor_faults, ==,
                    dr_engine_get_stats (b.engine)->sensor_faults);
  g_assert_cmpuint (dr_engine_get_stats (a.engine)->counter_resets, ==, 0);
  g_assert_cmpuint (dr_engine_get_stats (b.engine)->seq_gaps, ==, 0);
  fixture_teardown (&a);
  fixture_teardown (&b);
}

/* Ticks */

static void
test_ticks_wrap (void)
{
  Fixture f;
  DrFrame frame = { .version = 1, .n_samples = 4 };

  /* Between frames. 2^32 − 500 = 4294966796, then 500:
   * (500 − 4294966796) mod 2^32 = 1000 ticks = 1 revolution, not a reset. */
  fixture_setup_default (&f);
  feed1 (&f, T0, 4294966796u, FIRM, FOREHEAD);
  feed1 (&f, T0 + 50, 500u, FIRM, FOREHEAD);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 1.0);
  g_assert_cmpuint (count_events (&f, DR_EVENT_COUNTER_RESET), ==, 0);
  fixture_teardown (&f);

  /* Inside one frame, from 2^32 − 2000 = 4294965296:
   *   4294966296 (+1000), 4294967295 (+999), 0 (+1), 1000 (+1000)
   * = 3000 ticks = 3 revolutions on the nose. */
  fixture_setup_default (&f);
  feed1 (&f, T0, 4294965296u, FIRM, NOSE);
  frame.seq = f.seq++;
  frame.t0_ms = (uint64_t) T0 + 100;
  frame.samples[0] = (DrSample){ 0, 4294966296u, FIRM, NOSE };
  frame.samples[1] = (DrSample){ 10, 4294967295u, FIRM, NOSE };
  frame.samples[2] = (DrSample){ 10, 0u, FIRM, NOSE };
  frame.samples[3] = (DrSample){ 10, 1000u, FIRM, NOSE };
  dr_engine_feed (f.engine, &frame);
  assert_near (dr_engine_zone_totals (f.engine, NOSE)->revolutions, 3.0);
  g_assert_cmpuint (count_events (&f, DR_EVENT_COUNTER_RESET), ==, 0);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->counter_resets, ==, 0);
  fixture_teardown (&f);
}

static void
test_ticks_lost_frames (void)
{
  Fixture f;
  const DrEvent *gap;
  const DrEngineStats *stats;

  fixture_setup_default (&f);
  f.seq = 100;
  feed1 (&f, T0, 0, FIRM, FOREHEAD);          /* seq 100 */
  feed1 (&f, T0 + 100, 1000, FIRM, FOREHEAD); /* seq 101 */
  /* Frames 102 and 103 are lost; 104's cumulative count still has their
   * ticks: 5000 − 1000 = 4000 more, 5 revolutions in all. */
  f.seq = 104;
  feed1 (&f, T0 + 400, 5000, FIRM, FOREHEAD);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 5.0);

  g_assert_cmpuint (count_events (&f, DR_EVENT_SEQ_GAP), ==, 1);
  gap = nth_event (&f, DR_EVENT_SEQ_GAP, 0);
  g_assert_cmpuint (gap->count, ==, 2);
  g_assert_cmpint (gap->time_ms, ==, T0 + 400);
  g_assert_cmpint (gap->zone, ==, DR_ZONE_UNASSIGNED);

  /* 65535 → 0 is the next frame, not a gap; 65534 → 1 loses 65535 and 0. */
  f.seq = 65535;
  feed1 (&f, T0 + 500, 6000, FIRM, FOREHEAD); /* 104 → 65535: back, no gap */
  feed1 (&f, T0 + 600, 7000, FIRM, FOREHEAD); /* 0 */
  g_assert_cmpuint (count_events (&f, DR_EVENT_SEQ_GAP), ==, 1);
  f.seq = 65534;
  feed1 (&f, T0 + 700, 8000, FIRM, FOREHEAD); /* 0 → 65534: back */
  f.seq = 1;
  feed1 (&f, T0 + 800, 9000, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SEQ_GAP), ==, 2);
  g_assert_cmpuint (nth_event (&f, DR_EVENT_SEQ_GAP, 1)->count, ==, 2);

  /* The largest forward gap: 32767 ahead, 32766 lost. */
  feed1 (&f, T0 + 900, 9000, FIRM, FOREHEAD); /* seq 2 */
  f.seq = 2 + 32767;
  feed1 (&f, T0 + 1000, 9000, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SEQ_GAP), ==, 3);
  g_assert_cmpuint (nth_event (&f, DR_EVENT_SEQ_GAP, 2)->count, ==, 32766);

  stats = dr_engine_get_stats (f.engine);
  g_assert_cmpuint (stats->seq_gaps, ==, 3);
  g_assert_cmpuint (stats->frames_lost, ==, 2 + 2 + 32766);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 9.0);
  fixture_teardown (&f);
}

static void
test_ticks_seq_back (void)
{
  Fixture f;

  fixture_setup_default (&f);
  f.seq = 500;
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  /* Back by one, the same again, back by 32768 (half the ring): each a new
   * baseline, never a gap of ~65535. */
  f.seq = 400;
  feed1 (&f, T0 + 100, 1000, FIRM, FOREHEAD);
  feed1 (&f, T0 + 200, 2000, FIRM, FOREHEAD); /* 401: next */
  f.seq = 401;
  feed1 (&f, T0 + 300, 3000, FIRM, FOREHEAD); /* 401 again: diff 0 */
  f.seq = (uint16_t) (401 + 32768);
  feed1 (&f, T0 + 400, 4000, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SEQ_GAP), ==, 0);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->seq_gaps, ==, 0);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->frames_lost, ==, 0);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 4.0);
  fixture_teardown (&f);
}

static void
test_ticks_reset (void)
{
  Fixture f;

  fixture_setup_default (&f);
  feed1 (&f, T0, 50000, FIRM, FOREHEAD);
  feed1 (&f, T0 + 100, 52000, FIRM, FOREHEAD); /* +2000 */
  /* The roller restarted: 100 − 52000 ≡ 4294915396 ≥ 2^31, so the counter
   * went back. New baseline at 100, nothing counted for this sample. */
  feed1 (&f, T0 + 200, 100, FIRM, FOREHEAD);
  feed1 (&f, T0 + 300, 1100, FIRM, FOREHEAD); /* +1000 */
  /* 2000 + 1000 = 3000 ticks = 3 revolutions. */
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 3.0);
  g_assert_cmpuint (count_events (&f, DR_EVENT_COUNTER_RESET), ==, 1);
  g_assert_cmpint (nth_event (&f, DR_EVENT_COUNTER_RESET, 0)->time_ms, ==, T0 + 200);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->counter_resets, ==, 1);

  /* The edge: a step of 2^31 − 1 is forward, exactly 2^31 is back. */
  feed1 (&f, T0 + 400, 1100u + 0x7FFFFFFFu, LIFTED, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_COUNTER_RESET), ==, 1);
  feed1 (&f, T0 + 500, 1100u + 0x7FFFFFFFu + 0x80000000u, LIFTED, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_COUNTER_RESET), ==, 2);
  fixture_teardown (&f);
}

/* Sensor fault */

static void
test_force_sensor_fault (void)
{
  Fixture f;

  fixture_setup_default (&f);
  /* A fault alone is not contact: no session. */
  feed1 (&f, T0 - 1000, 0, FAULT, FOREHEAD);
  g_assert_false (dr_engine_session_active (f.engine));

  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  /* The last valid sample was in contact: the drum kept rolling with an
   * unknown force, so its 1000 ticks count. */
  feed1 (&f, T0 + 100, 1000, FAULT, FOREHEAD);
  feed1 (&f, T0 + 150, 1500, FAULT, FOREHEAD);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 1.5);
  /* A fault is not a force: the last force and the peak stay. */
  assert_near (dr_engine_last_force_n (f.engine), 2.0);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->peak_force_n, 2.0);
  /* Nor is it the session's last contact. */
  g_assert_cmpint (dr_engine_session_end_ms (f.engine), ==, T0);

  /* After a valid sample out of contact, a fault's ticks count nowhere. */
  feed1 (&f, T0 + 200, 2000, LIFTED, FOREHEAD); /* 500 ticks, lifted */
  feed1 (&f, T0 + 300, 3000, FAULT, FOREHEAD);  /* 1000 ticks, not counted */
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 1.5);
  assert_near (dr_engine_last_force_n (f.engine), 0.1);

  /* The fault still moved the baseline: the next contact counts from 3000. */
  feed1 (&f, T0 + 400, 3500, FIRM, FOREHEAD);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 2.0);

  g_assert_cmpuint (dr_engine_get_stats (f.engine)->sensor_faults, ==, 4);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->samples, ==, 7);
  fixture_teardown (&f);
}

/* Pressure: limit 5.0 N (needles 0.5 mm); over at > 5000 mN, under 90 % at
 * < 4500 mN, between those is neither. */

static void
test_pressure_start_149ms (void)
{
  Fixture f;

  fixture_setup_default (&f);
  feed1 (&f, T0, 0, 5001, FOREHEAD); /* run starts */
  feed1 (&f, T0 + 100, 0, HARD, FOREHEAD);
  feed1 (&f, T0 + 149, 0, HARD, FOREHEAD); /* 149 ms into the run: nothing */
  feed1 (&f, T0 + 160, 0, 5000, FOREHEAD); /* at the limit, not over: run broken */
  feed1 (&f, T0 + 200, 0, HARD, FOREHEAD); /* new run */
  feed1 (&f, T0 + 349, 0, HARD, FOREHEAD); /* 149 ms again */
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 0);
  fixture_teardown (&f);
}

static void
test_pressure_start_150ms (void)
{
  Fixture f;
  const DrEvent *e;

  fixture_setup_default (&f);
  feed1 (&f, T0, 0, 5001, NOSE);
  feed1 (&f, T0 + 100, 0, HARD, NOSE);
  feed1 (&f, T0 + 150, 0, 5500, NOSE); /* exactly 150 ms: starts here */
  feed1 (&f, T0 + 200, 0, HARD, NOSE);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 1);
  e = nth_event (&f, DR_EVENT_PRESSURE_STARTED, 0);
  g_assert_cmpint (e->time_ms, ==, T0 + 150);
  g_assert_cmpint (e->zone, ==, NOSE);
  assert_near (e->force_n, 5.5);
  assert_near (e->limit_n, 5.0);
  fixture_teardown (&f);
}

/* An episode from T0 + 150 with a peak of 7 N, then under 90 % from T0 + 200. */
static void
start_episode (Fixture *f)
{
  feed1 (f, T0, 0, HARD, FOREHEAD);
  feed1 (f, T0 + 150, 0, 5500, FOREHEAD); /* starts */
  feed1 (f, T0 + 180, 0, 7000, FOREHEAD); /* peak */
  feed1 (f, T0 + 200, 0, 4499, FOREHEAD); /* under 4500: the low run starts */
  g_assert_cmpuint (count_events (f, DR_EVENT_PRESSURE_STARTED), ==, 1);
}

static void
test_pressure_end_299ms (void)
{
  Fixture f;

  fixture_setup_default (&f);
  start_episode (&f);
  feed1 (&f, T0 + 400, 0, 0, FOREHEAD);    /* lifted is under too */
  feed1 (&f, T0 + 499, 0, 4000, FOREHEAD); /* 299 ms into the low run */
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_ENDED), ==, 0);
  fixture_teardown (&f);
}

static void
test_pressure_end_300ms (void)
{
  Fixture f;
  const DrEvent *e;

  fixture_setup_default (&f);
  start_episode (&f);
  feed1 (&f, T0 + 400, 0, 0, FOREHEAD);
  feed1 (&f, T0 + 500, 0, 4000, FOREHEAD); /* 300 ms: ends here */
  feed1 (&f, T0 + 600, 0, 4000, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_ENDED), ==, 1);
  e = nth_event (&f, DR_EVENT_PRESSURE_ENDED, 0);
  g_assert_cmpint (e->time_ms, ==, T0 + 500);
  g_assert_cmpint (e->zone, ==, FOREHEAD);
  assert_near (e->peak_n, 7.0);
  assert_near (e->limit_n, 5.0);
  /* From the start event (T0 + 150) to the end event (T0 + 500). */
  g_assert_cmpint (e->duration_ms, ==, 350);

  /* A new episode needs a new full 150 ms over the limit. */
  feed1 (&f, T0 + 700, 0, HARD, FOREHEAD);
  feed1 (&f, T0 + 849, 0, HARD, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 1);
  feed1 (&f, T0 + 850, 0, HARD, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 2);
  fixture_teardown (&f);
}

static void
test_pressure_band_between (void)
{
  Fixture f;
  const DrEvent *e;

  fixture_setup_default (&f);
  /* Before an episode, a force in [4500, 5000] mN breaks the run over the
   * limit. */
  feed1 (&f, T0, 0, 5001, FOREHEAD);
  feed1 (&f, T0 + 100, 0, 4700, FOREHEAD); /* between: run broken */
  feed1 (&f, T0 + 120, 0, 5200, FOREHEAD); /* new run from T0 + 120 */
  feed1 (&f, T0 + 269, 0, 5200, FOREHEAD); /* 149 ms */
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 0);
  feed1 (&f, T0 + 270, 0, 5200, FOREHEAD); /* 150 ms: starts */
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 1);

  /* During one, it breaks the run under 90 % but does not end it. */
  feed1 (&f, T0 + 300, 0, 4000, FOREHEAD); /* low run from T0 + 300 */
  feed1 (&f, T0 + 500, 0, 4500, FOREHEAD); /* exactly 90 %: between, run broken */
  feed1 (&f, T0 + 520, 0, 5000, FOREHEAD); /* exactly the limit: between */
  feed1 (&f, T0 + 550, 0, 4000, FOREHEAD); /* low run from T0 + 550 */
  feed1 (&f, T0 + 650, 0, 4000, FOREHEAD); /* 350 ms after T0 + 300, but broken since */
  feed1 (&f, T0 + 849, 0, 4000, FOREHEAD); /* 299 ms */
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_ENDED), ==, 0);
  feed1 (&f, T0 + 850, 0, 4000, FOREHEAD); /* 300 ms: ends */
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_ENDED), ==, 1);
  e = nth_event (&f, DR_EVENT_PRESSURE_ENDED, 0);
  g_assert_cmpint (e->time_ms, ==, T0 + 850);
  g_assert_cmpint (e->duration_ms, ==, 850 - 270);
  assert_near (e->peak_n, 5.2);
  fixture_teardown (&f);
}

static void
test_pressure_sensor_fault (void)
{
  Fixture f;

  fixture_setup_default (&f);
  /* A fault neither extends nor breaks a run. */
  feed1 (&f, T0, 0, HARD, FOREHEAD);
  feed1 (&f, T0 + 100, 0, FAULT, FOREHEAD);
  feed1 (&f, T0 + 149, 0, HARD, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 0);
  feed1 (&f, T0 + 150, 0, FAULT, FOREHEAD); /* would be 150 ms, but is skipped */
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 0);
  feed1 (&f, T0 + 160, 0, HARD, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 1);
  g_assert_cmpint (nth_event (&f, DR_EVENT_PRESSURE_STARTED, 0)->time_ms, ==, T0 + 160);

  feed1 (&f, T0 + 200, 0, 1000, FOREHEAD);
  feed1 (&f, T0 + 300, 0, FAULT, FOREHEAD);
  feed1 (&f, T0 + 499, 0, 1000, FOREHEAD);
  feed1 (&f, T0 + 500, 0, FAULT, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_ENDED), ==, 0);
  feed1 (&f, T0 + 510, 0, 1000, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_ENDED), ==, 1);
  /* The fault's 0xFFFF is not a 65.5 N peak. */
  assert_near (nth_event (&f, DR_EVENT_PRESSURE_ENDED, 0)->peak_n, 6.0);
  fixture_teardown (&f);
}

static void
test_pressure_zone_limit (void)
{
  Fixture f;
  DrEngineConfig config;

  dr_engine_config_init_defaults (&config);
  config.zones[NOSE].force_limit_n = 3.0;
  fixture_setup (&f, &config, 500);
  assert_near (dr_engine_force_limit_n (f.engine, NOSE), 3.0);
  assert_near (dr_engine_force_limit_n (f.engine, FOREHEAD), 5.0);

  /* 3.5 N is fine on the forehead (limit 5.0) ... */
  feed1 (&f, T0, 0, 3500, FOREHEAD);
  feed1 (&f, T0 + 200, 0, 3500, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 0);
  /* ... but over the nose's 3.0 N; and 2.8 N there is between 2.7 and 3.0. */
  feed1 (&f, T0 + 300, 0, 3500, NOSE);
  feed1 (&f, T0 + 450, 0, 3500, NOSE);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 1);
  assert_near (nth_event (&f, DR_EVENT_PRESSURE_STARTED, 0)->limit_n, 3.0);
  g_assert_cmpint (nth_event (&f, DR_EVENT_PRESSURE_STARTED, 0)->zone, ==, NOSE);
  feed1 (&f, T0 + 500, 0, 2800, NOSE);
  feed1 (&f, T0 + 900, 0, 2800, NOSE);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_ENDED), ==, 0);
  feed1 (&f, T0 + 1000, 0, 2699, NOSE);
  feed1 (&f, T0 + 1300, 0, 2699, NOSE);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_ENDED), ==, 1);
  fixture_teardown (&f);
}

typedef struct
{
  const char *path;
  uint16_t needle_length_um; /* 0: no head */
  double limit_n;
  double rest_days;
} NeedleCase;

static const NeedleCase needle_cases[] = {
  { "/engine/rest/cosmetic", 300, 6.0, 1 },
  { "/engine/rest/short", 500, 5.0, 7 },
  { "/engine/rest/medium", 1000, 4.0, 28 },
  { "/engine/rest/long", 1001, 3.0, 42 },
  /* Unknown needles: the longest class, the safe side. */
  { "/engine/rest/no-head", 0, 3.0, 42 },
};

static void
test_pressure_needle_classes (void)
{
  static const struct
  {
    uint16_t um;
    double limit_n;
  } cases[] = { { 1, 6.0 },   { 300, 6.0 },  { 301, 5.0 },  { 500, 5.0 },
                { 501, 4.0 }, { 1000, 4.0 }, { 1001, 3.0 }, { 2500, 3.0 } };

  for (unsigned i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Fixture f;

      fixture_setup (&f, NULL, cases[i].um);
      assert_near (dr_engine_force_limit_n (f.engine, CHIN), cases[i].limit_n);
      assert_near (dr_engine_force_limit_n (f.engine, DR_ZONE_UNASSIGNED), cases[i].limit_n);
      fixture_teardown (&f);
    }
  for (unsigned i = 0; i < G_N_ELEMENTS (needle_cases); i++)
    {
      Fixture f;

      fixture_setup (&f, NULL, needle_cases[i].needle_length_um);
      assert_near (dr_engine_force_limit_n (f.engine, NECK), needle_cases[i].limit_n);
      fixture_teardown (&f);
    }
}

static void
test_pressure_ended_by_session_end (void)
{
  Fixture f;
  const DrEvent *e;

  fixture_setup_default (&f);
  feed1 (&f, T0, 0, HARD, CHIN);
  feed1 (&f, T0 + 150, 0, HARD, CHIN); /* starts */
  feed1 (&f, T0 + 240, 0, 6500, CHIN); /* the last contact */
  dr_engine_stop_session (f.engine);

  /* session-started, pressure-started, then pressure-ended before session-ended. */
  g_assert_cmpuint (f.events->len, ==, 4);
  g_assert_cmpint (event_at (&f, 0)->kind, ==, DR_EVENT_SESSION_STARTED);
  g_assert_cmpint (event_at (&f, 1)->kind, ==, DR_EVENT_PRESSURE_STARTED);
  e = event_at (&f, 2);
  g_assert_cmpint (e->kind, ==, DR_EVENT_PRESSURE_ENDED);
  g_assert_cmpint (e->time_ms, ==, T0 + 240);
  g_assert_cmpint (e->duration_ms, ==, 90);
  g_assert_cmpint (e->zone, ==, CHIN);
  assert_near (e->peak_n, 6.5);
  e = event_at (&f, 3);
  g_assert_cmpint (e->kind, ==, DR_EVENT_SESSION_ENDED);
  g_assert_cmpint (e->time_ms, ==, T0 + 240);
  g_assert_cmpint (e->duration_ms, ==, 240);

  /* Still pressing: a new session, and a new episode only after 150 ms. */
  feed1 (&f, T0 + 300, 0, HARD, CHIN);
  feed1 (&f, T0 + 449, 0, HARD, CHIN);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 1);
  feed1 (&f, T0 + 450, 0, HARD, CHIN);
  g_assert_cmpuint (count_events (&f, DR_EVENT_PRESSURE_STARTED), ==, 2);
  fixture_teardown (&f);
}

/* Excluded zones */

static void
test_excluded_once_per_stretch (void)
{
  Fixture f;
  DrEngineConfig config;

  dr_engine_config_init_defaults (&config);
  config.zones[UPPER_LIP].excluded = true; /* from the config file */
  fixture_setup (&f, &config, 500);
  dr_engine_set_zone_excluded (f.engine, CHIN, true); /* set by the user */

  feed1 (&f, T0, 0, FIRM, CHIN); /* 1: a stretch starts */
  feed1 (&f, T0 + 100, 100, FIRM, CHIN);
  feed1 (&f, T0 + 150, 200, FAULT, CHIN); /* a fault does not end the stretch */
  feed1 (&f, T0 + 200, 300, FIRM, CHIN);
  g_assert_cmpuint (count_events (&f, DR_EVENT_EXCLUDED_ZONE), ==, 1);
  g_assert_cmpint (nth_event (&f, DR_EVENT_EXCLUDED_ZONE, 0)->time_ms, ==, T0);
  g_assert_cmpint (nth_event (&f, DR_EVENT_EXCLUDED_ZONE, 0)->zone, ==, CHIN);

  feed1 (&f, T0 + 300, 300, LIFTED, CHIN);    /* lifted: the stretch ends */
  feed1 (&f, T0 + 400, 400, FIRM, CHIN);      /* 2 */
  feed1 (&f, T0 + 500, 500, FIRM, NOSE);      /* zone change: ends it too */
  feed1 (&f, T0 + 600, 600, FIRM, CHIN);      /* 3 */
  feed1 (&f, T0 + 700, 700, FIRM, UPPER_LIP); /* 4 */
  feed1 (&f, T0 + 800, 800, FIRM, UPPER_LIP);
  g_assert_cmpuint (count_events (&f, DR_EVENT_EXCLUDED_ZONE), ==, 4);
  g_assert_cmpint (nth_event (&f, DR_EVENT_EXCLUDED_ZONE, 1)->time_ms, ==, T0 + 400);
  g_assert_cmpint (nth_event (&f, DR_EVENT_EXCLUDED_ZONE, 2)->time_ms, ==, T0 + 600);
  g_assert_cmpint (nth_event (&f, DR_EVENT_EXCLUDED_ZONE, 3)->zone, ==, UPPER_LIP);

  /* What was rolled there is still reported; the mean coverage is over the
   * zones to be treated, 5 of 7, of which only the nose was touched. */
  g_assert_cmpfloat (dr_engine_zone_totals (f.engine, CHIN)->revolutions, >, 0);
  g_assert_cmpfloat (dr_engine_zone_totals (f.engine, NOSE)->coverage, >, 0);
  assert_near (dr_engine_mean_coverage (f.engine),
               dr_engine_zone_totals (f.engine, NOSE)->coverage / 5);
  g_assert_true (dr_engine_get_config (f.engine)->zones[CHIN].excluded);

  /* Allowed again: no more events. */
  dr_engine_set_zone_excluded (f.engine, CHIN, false);
  feed1 (&f, T0 + 900, 900, LIFTED, CHIN);
  feed1 (&f, T0 + 1000, 1000, FIRM, CHIN);
  g_assert_cmpuint (count_events (&f, DR_EVENT_EXCLUDED_ZONE), ==, 4);
  fixture_teardown (&f);
}

/* Over-treatment */

static void
test_over_treated_once (void)
{
  Fixture f;

  fixture_setup_default (&f);
  /* Upper lip, 8 cm², target 6: over-treated at 2 × 6 = 12 passes = 96 cm²
   * = 96 / 3π = 10.19 revolutions. */
  feed1 (&f, T0, 0, FIRM, UPPER_LIP);
  feed1 (&f, T0 + 100, 10000, FIRM, UPPER_LIP); /* 10 rev: 30π/8 = 11.78 passes */
  g_assert_cmpuint (count_events (&f, DR_EVENT_OVER_TREATED), ==, 0);
  feed1 (&f, T0 + 200, 11000, FIRM, UPPER_LIP); /* 11 rev: 33π/8 = 12.96 passes */
  g_assert_cmpuint (count_events (&f, DR_EVENT_OVER_TREATED), ==, 1);
  g_assert_cmpint (nth_event (&f, DR_EVENT_OVER_TREATED, 0)->time_ms, ==, T0 + 200);
  g_assert_cmpint (nth_event (&f, DR_EVENT_OVER_TREATED, 0)->zone, ==, UPPER_LIP);
  feed1 (&f, T0 + 300, 20000, FIRM, UPPER_LIP);
  feed1 (&f, T0 + 400, 30000, FIRM, UPPER_LIP);
  g_assert_cmpuint (count_events (&f, DR_EVENT_OVER_TREATED), ==, 1);

  /* Other zones have their own count: 11 rev on the 12 cm² nose is
   * 33π/12 = 8.64 passes, under 12. */
  feed1 (&f, T0 + 500, 41000, FIRM, NOSE);
  g_assert_cmpuint (count_events (&f, DR_EVENT_OVER_TREATED), ==, 1);

  /* Once per session: the next one may say it again. */
  dr_engine_stop_session (f.engine);
  feed1 (&f, T0 + 600, 41000, FIRM, UPPER_LIP);
  feed1 (&f, T0 + 700, 52000, FIRM, UPPER_LIP);
  g_assert_cmpuint (count_events (&f, DR_EVENT_OVER_TREATED), ==, 2);
  fixture_teardown (&f);
}

/* Sessions */

static void
test_session_split_120s (void)
{
  Fixture f;
  const DrEvent *e;

  fixture_setup_default (&f);
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 1000, 2000, FIRM, FOREHEAD);    /* last contact */
  feed1 (&f, T0 + 60000, 3000, LIFTED, FOREHEAD); /* no contact: no extension */
  g_assert_cmpint (dr_engine_session_deadline_ms (f.engine), ==, T0 + 121000);
  /* Exactly 120 s after the last contact: the session ends first, at its
   * last contact, then this sample starts the next. */
  feed1 (&f, T0 + 121000, 4000, FIRM, FOREHEAD);

  /* The last: the forehead was treated at T0 + 1000, under 7 days ago. */
  g_assert_cmpuint (f.events->len, ==, 4);
  g_assert_cmpint (event_at (&f, 3)->kind, ==, DR_EVENT_TOO_SOON);
  g_assert_cmpint (event_at (&f, 0)->kind, ==, DR_EVENT_SESSION_STARTED);
  g_assert_cmpint (event_at (&f, 0)->time_ms, ==, T0);
  e = event_at (&f, 1);
  g_assert_cmpint (e->kind, ==, DR_EVENT_SESSION_ENDED);
  g_assert_cmpint (e->time_ms, ==, T0 + 1000);
  g_assert_cmpint (e->duration_ms, ==, 1000);
  e = event_at (&f, 2);
  g_assert_cmpint (e->kind, ==, DR_EVENT_SESSION_STARTED);
  g_assert_cmpint (e->time_ms, ==, T0 + 121000);
  g_assert_true (dr_engine_session_active (f.engine));
  g_assert_cmpint (dr_engine_session_start_ms (f.engine), ==, T0 + 121000);
  /* The new session's totals start from zero: only this sample's 1000 ticks
   * (since the lifted one) count, not the first session's 2 revolutions. */
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 1.0);
  fixture_teardown (&f);
}

static void
test_session_no_split_119s (void)
{
  Fixture f;

  fixture_setup_default (&f);
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 1000, 2000, FIRM, FOREHEAD);
  feed1 (&f, T0 + 120999, 3000, FIRM, FOREHEAD); /* 119.999 s: same session */
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_STARTED), ==, 1);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_ENDED), ==, 0);
  g_assert_cmpint (dr_engine_session_start_ms (f.engine), ==, T0);
  g_assert_cmpint (dr_engine_session_end_ms (f.engine), ==, T0 + 120999);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 3.0);
  fixture_teardown (&f);
}

static void
test_session_gap_without_contact (void)
{
  Fixture f;

  fixture_setup_default (&f);
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 500, 1000, FIRM, FOREHEAD);
  /* A sample out of contact 120 s on ends the session and starts none. */
  feed1 (&f, T0 + 120500, 9000, LIFTED, FOREHEAD);
  g_assert_false (dr_engine_session_active (f.engine));
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_ENDED), ==, 1);
  g_assert_cmpint (dr_engine_session_end_ms (f.engine), ==, T0 + 500);
  g_assert_cmpint (dr_engine_session_deadline_ms (f.engine), ==, INT64_MAX);
  /* The ended session's totals stay until the next starts. */
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 1.0);
  feed1 (&f, T0 + 200000, 10000, FIRM, NOSE);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 0.0);
  assert_near (dr_engine_zone_totals (f.engine, NOSE)->revolutions, 1.0);
  fixture_teardown (&f);
}

static void
test_session_configured_gap (void)
{
  Fixture f;
  DrEngineConfig config;

  dr_engine_config_init_defaults (&config);
  config.session_gap_ms = 30000;
  fixture_setup (&f, &config, 500);
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 29999, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 59998, 0, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_ENDED), ==, 0);
  feed1 (&f, T0 + 89998, 0, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_ENDED), ==, 1);
  fixture_teardown (&f);
}

static void
test_session_advance (void)
{
  Fixture f;

  fixture_setup_default (&f);
  dr_engine_advance (f.engine, T0); /* nothing active: nothing */
  g_assert_cmpuint (f.events->len, ==, 0);
  g_assert_cmpint (dr_engine_session_deadline_ms (f.engine), ==, INT64_MAX);
  g_assert_cmpint (dr_engine_session_start_ms (f.engine), ==, INT64_MIN);
  g_assert_cmpint (dr_engine_session_end_ms (f.engine), ==, INT64_MIN);

  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 2000, 0, FIRM, FOREHEAD);
  g_assert_cmpint (dr_engine_session_deadline_ms (f.engine), ==, T0 + 122000);
  dr_engine_advance (f.engine, T0 + 121999);
  g_assert_true (dr_engine_session_active (f.engine));
  dr_engine_advance (f.engine, T0 + 122000);
  g_assert_false (dr_engine_session_active (f.engine));
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_ENDED), ==, 1);
  g_assert_cmpint (nth_event (&f, DR_EVENT_SESSION_ENDED, 0)->time_ms, ==, T0 + 2000);
  g_assert_cmpint (nth_event (&f, DR_EVENT_SESSION_ENDED, 0)->duration_ms, ==, 2000);
  dr_engine_advance (f.engine, T0 + 500000);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_ENDED), ==, 1);
  fixture_teardown (&f);
}

/* A stopped session stays stopped: contact right after StopSession, well
 * within the gap, starts a new session at that contact, with its start. */
static void
test_session_contact_after_stop (void)
{
  Fixture f;

  fixture_setup_default (&f);
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 1000, 10, FIRM, FOREHEAD);
  dr_engine_stop_session (f.engine);
  g_assert_false (dr_engine_session_active (f.engine));
  g_assert_cmpint (dr_engine_session_deadline_ms (f.engine), ==, INT64_MAX);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_ENDED), ==, 1);

  feed1 (&f, T0 + 2000, 20, FIRM, FOREHEAD);
  g_assert_true (dr_engine_session_active (f.engine));
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_STARTED), ==, 2);
  g_assert_cmpint (nth_event (&f, DR_EVENT_SESSION_STARTED, 1)->time_ms, ==, T0 + 2000);
  g_assert_cmpint (dr_engine_session_start_ms (f.engine), ==, T0 + 2000);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_ENDED), ==, 1);
  fixture_teardown (&f);
}

static void
test_session_start_stop (void)
{
  Fixture f;

  fixture_setup_default (&f);
  dr_engine_stop_session (f.engine); /* nothing to stop */
  g_assert_cmpuint (f.events->len, ==, 0);

  /* Started without contact: it ends at its start. */
  dr_engine_start_session (f.engine, T0);
  dr_engine_start_session (f.engine, T0 + 5); /* already active: kept */
  g_assert_true (dr_engine_session_active (f.engine));
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_STARTED), ==, 1);
  g_assert_cmpint (dr_engine_session_start_ms (f.engine), ==, T0);
  g_assert_cmpint (dr_engine_session_end_ms (f.engine), ==, T0);
  g_assert_cmpint (dr_engine_session_deadline_ms (f.engine), ==, T0 + 120000);
  dr_engine_stop_session (f.engine);
  g_assert_false (dr_engine_session_active (f.engine));
  g_assert_cmpint (nth_event (&f, DR_EVENT_SESSION_ENDED, 0)->time_ms, ==, T0);
  g_assert_cmpint (nth_event (&f, DR_EVENT_SESSION_ENDED, 0)->duration_ms, ==, 0);

  /* Started, then contact: it ends at the last contact. */
  dr_engine_start_session (f.engine, T0 + 1000);
  feed1 (&f, T0 + 1500, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 1700, 0, LIFTED, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_STARTED), ==, 2);
  dr_engine_stop_session (f.engine);
  g_assert_cmpint (nth_event (&f, DR_EVENT_SESSION_ENDED, 1)->time_ms, ==, T0 + 1500);
  g_assert_cmpint (nth_event (&f, DR_EVENT_SESSION_ENDED, 1)->duration_ms, ==, 500);

  /* Started and left alone: advance ends it at its start. */
  dr_engine_start_session (f.engine, T0 + 10000);
  dr_engine_advance (f.engine, T0 + 130000);
  g_assert_cmpuint (count_events (&f, DR_EVENT_SESSION_ENDED), ==, 3);
  g_assert_cmpint (nth_event (&f, DR_EVENT_SESSION_ENDED, 2)->time_ms, ==, T0 + 10000);
  fixture_teardown (&f);
}

/* Rest interval */

static void
test_rest (gconstpointer data)
{
  const NeedleCase *nc = data;
  int64_t rest_ms = (int64_t) (nc->rest_days * DAY_MS);
  const DrEvent *e;
  Fixture f;

  /* One millisecond short of the rest interval: too soon, once. */
  fixture_setup (&f, NULL, nc->needle_length_um);
  dr_engine_set_last_treated (f.engine, FOREHEAD, T0);
  feed1 (&f, T0 + rest_ms - 1, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + rest_ms + 100, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + rest_ms + 200, 0, FIRM, NOSE); /* never treated: fine */
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 1);
  e = nth_event (&f, DR_EVENT_TOO_SOON, 0);
  g_assert_cmpint (e->time_ms, ==, T0 + rest_ms - 1);
  g_assert_cmpint (e->zone, ==, FOREHEAD);
  g_assert_cmpint (e->last_treated_ms, ==, T0);
  fixture_teardown (&f);

  /* Exactly the rest interval: fine. */
  fixture_setup (&f, NULL, nc->needle_length_um);
  dr_engine_set_last_treated (f.engine, FOREHEAD, T0);
  feed1 (&f, T0 + rest_ms, 0, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 0);
  fixture_teardown (&f);

  /* "Never" is never too soon. */
  fixture_setup (&f, NULL, nc->needle_length_um);
  dr_engine_set_last_treated (f.engine, FOREHEAD, INT64_MIN);
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 0);
  fixture_teardown (&f);
}

static void
test_rest_own_session (void)
{
  Fixture f;
  const DrEvent *e;

  fixture_setup_default (&f);
  /* A session's own contact is not a previous treatment, however long it
   * pauses (under the gap). */
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 100000, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 200000, 0, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 0);

  /* Its end becomes the forehead's last treatment; the nose was not
   * touched. The next session, 5 min later, is too soon (7 days), once. */
  dr_engine_advance (f.engine, T0 + 320000);
  feed1 (&f, T0 + 500000, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 500100, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 500200, 0, FIRM, NOSE);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 1);
  e = nth_event (&f, DR_EVENT_TOO_SOON, 0);
  g_assert_cmpint (e->time_ms, ==, T0 + 500000);
  g_assert_cmpint (e->last_treated_ms, ==, T0 + 200000);
  fixture_teardown (&f);
}

/* A last treatment after the contact (a clock that went back): no rest,
 * so too soon; the rest is 0, never negative. */
static void
test_rest_clock_back (void)
{
  Fixture f;
  const DrEvent *e;

  g_assert_cmpint (dr_engine_rest_ms (T0 + 5000, T0), ==, 5000);
  g_assert_cmpint (dr_engine_rest_ms (T0, T0), ==, 0);
  g_assert_cmpint (dr_engine_rest_ms (T0 - 3 * 3600000, T0), ==, 0);
  g_assert_cmpint (dr_engine_rest_ms (5000, T0), ==, 0); /* boot-relative */

  fixture_setup_default (&f);
  dr_engine_set_last_treated (f.engine, FOREHEAD, T0);
  feed1 (&f, T0 - 3 * 3600000, 0, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 1);
  e = nth_event (&f, DR_EVENT_TOO_SOON, 0);
  g_assert_cmpint (dr_engine_rest_ms (e->time_ms, e->last_treated_ms), ==, 0);
  fixture_teardown (&f);
}

/* The rest window is the earlier treatment's needle's, whatever the head in
 * use now: each class before each class, at the window's last millisecond
 * and at its end. */
typedef struct
{
  char path[64];
  uint16_t before_um;
  uint16_t after_um;
} EarlierNeedleCase;

static const struct
{
  uint16_t um;
  const char *name;
  int64_t days;
} rest_classes[]
    = { { 250, "0.25mm", 1 }, { 500, "0.5mm", 7 }, { 1000, "1.0mm", 28 }, { 1500, "1.5mm", 42 } };

static EarlierNeedleCase
    earlier_needle_cases[G_N_ELEMENTS (rest_classes) * G_N_ELEMENTS (rest_classes)];

static int64_t
rest_days_for (uint16_t um)
{
  for (unsigned i = 0; i < G_N_ELEMENTS (rest_classes); i++)
    if (rest_classes[i].um == um)
      return rest_classes[i].days;
  g_assert_not_reached ();
}

static void
test_rest_earlier_needle (gconstpointer data)
{
  const EarlierNeedleCase *c = data;
  int64_t window = rest_days_for (c->before_um) * DAY_MS;
  DrTreatment earlier = { FOREHEAD, T0, c->before_um };
  const DrEvent *e;
  Fixture f;

  /* The last millisecond of the earlier treatment's window: too soon. */
  fixture_setup (&f, NULL, c->after_um);
  dr_engine_set_treatments (f.engine, &earlier, 1);
  g_assert_cmpint (dr_engine_rest_window_ms (f.engine, c->before_um), ==, window);
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, FOREHEAD), ==, T0 + window);
  feed1 (&f, T0 + window - 1, 0, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 1);
  e = nth_event (&f, DR_EVENT_TOO_SOON, 0);
  g_assert_cmpint (e->zone, ==, FOREHEAD);
  g_assert_cmpint (e->last_treated_ms, ==, T0);
  g_assert_cmpuint (e->last_needle_um, ==, c->before_um);
  g_assert_cmpint (e->free_at_ms, ==, T0 + window);
  fixture_teardown (&f);

  /* Its end: fine, however long the head in use wants the skin to rest. */
  fixture_setup (&f, NULL, c->after_um);
  dr_engine_set_treatments (f.engine, &earlier, 1);
  feed1 (&f, T0 + window, 0, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 0);
  fixture_teardown (&f);
}

/* 1.5 mm three days before a 0.25 mm roller: too soon (today's case). A
 * session's own end is a treatment with the head it had. */
static void
test_rest_session_head_needle (void)
{
  DrHeadInfo cosmetic = test_head (250);
  const DrEvent *e;
  Fixture f;

  fixture_setup (&f, NULL, 1500);
  feed1 (&f, T0, 0, FIRM, CHIN);
  feed1 (&f, T0 + 1000, 1000, FIRM, CHIN);
  dr_engine_stop_session (f.engine);
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, CHIN), ==, T0 + 1000 + 42 * DAY_MS);
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, NOSE), ==, INT64_MIN);

  dr_engine_set_head (f.engine, &cosmetic, 0);
  feed1 (&f, T0 + 3 * DAY_MS, 2000, FIRM, CHIN);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 1);
  e = nth_event (&f, DR_EVENT_TOO_SOON, 0);
  g_assert_cmpint (e->zone, ==, CHIN);
  g_assert_cmpint (e->last_treated_ms, ==, T0 + 1000);
  g_assert_cmpuint (e->last_needle_um, ==, 1500);
  g_assert_cmpint (e->free_at_ms, ==, T0 + 1000 + 42 * DAY_MS);
  dr_engine_stop_session (f.engine);

  /* That 0.25 mm session is a treatment too, but the 1.5 mm one still ends
   * last: its last millisecond is too soon, its end is fine. */
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, CHIN), ==, T0 + 1000 + 42 * DAY_MS);
  feed1 (&f, T0 + 1000 + 42 * DAY_MS - 1, 3000, FIRM, CHIN);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 2);
  g_assert_cmpuint (nth_event (&f, DR_EVENT_TOO_SOON, 1)->last_needle_um, ==, 1500);
  dr_engine_stop_session (f.engine);
  feed1 (&f, T0 + 1000 + 84 * DAY_MS, 4000, FIRM, CHIN);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 2);
  fixture_teardown (&f);
}

/* Two earlier treatments with different needles: too soon while either
 * window is open; the event names the one that ends last. */
static void
test_rest_two_earlier (void)
{
  DrTreatment treatments[] = {
    { NOSE, T0, 1500 },              /* free at T0 + 42 d */
    { NOSE, T0 + 10 * DAY_MS, 250 }, /* free at T0 + 11 d */
    { NECK, T0, 250 },               /* free at T0 + 1 d */
    { NECK, T0 + 2 * DAY_MS, 1000 }, /* free at T0 + 30 d */
  };
  const DrEvent *e;
  Fixture f;

  fixture_setup (&f, NULL, 500);
  dr_engine_set_treatments (f.engine, treatments, G_N_ELEMENTS (treatments));
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, NOSE), ==, T0 + 42 * DAY_MS);
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, NECK), ==, T0 + 30 * DAY_MS);

  /* Both of the nose's windows open: the 1.5 mm one ends last. */
  feed1 (&f, T0 + 11 * DAY_MS - 1, 0, FIRM, NOSE);
  e = nth_event (&f, DR_EVENT_TOO_SOON, 0);
  g_assert_cmpuint (e->last_needle_um, ==, 1500);
  g_assert_cmpint (e->last_treated_ms, ==, T0);
  dr_engine_stop_session (f.engine);
  fixture_teardown (&f);

  /* Only the 1.5 mm one, to its last millisecond; then none. */
  fixture_setup (&f, NULL, 500);
  dr_engine_set_treatments (f.engine, treatments, G_N_ELEMENTS (treatments));
  feed1 (&f, T0 + 42 * DAY_MS - 1, 0, FIRM, NOSE);
  feed1 (&f, T0 + 42 * DAY_MS - 1, 0, FIRM, NECK);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 1);
  g_assert_cmpint (nth_event (&f, DR_EVENT_TOO_SOON, 0)->zone, ==, NOSE);
  fixture_teardown (&f);

  fixture_setup (&f, NULL, 500);
  dr_engine_set_treatments (f.engine, treatments, G_N_ELEMENTS (treatments));
  feed1 (&f, T0 + 42 * DAY_MS, 0, FIRM, NOSE);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 0);
  fixture_teardown (&f);

  /* The neck: the later, longer one decides (the 0.25 mm one is over). */
  fixture_setup (&f, NULL, 250);
  dr_engine_set_treatments (f.engine, treatments, G_N_ELEMENTS (treatments));
  feed1 (&f, T0 + 30 * DAY_MS - 1, 0, FIRM, NECK);
  e = nth_event (&f, DR_EVENT_TOO_SOON, 0);
  g_assert_cmpuint (e->last_needle_um, ==, 1000);
  g_assert_cmpint (e->free_at_ms, ==, T0 + 30 * DAY_MS);
  fixture_teardown (&f);

  fixture_setup (&f, NULL, 250);
  dr_engine_set_treatments (f.engine, treatments, G_N_ELEMENTS (treatments));
  feed1 (&f, T0 + 30 * DAY_MS, 0, FIRM, NECK);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 0);
  fixture_teardown (&f);
}

/* Within a class the latest treatment decides, in whatever order they
 * come; a needle not known is the longest class. */
static void
test_rest_add_order (void)
{
  DrTreatment later = { FOREHEAD, T0 + DAY_MS, 500 };
  DrTreatment earlier = { FOREHEAD, T0, 400 };
  DrTreatment unknown = { CHIN, T0, 0 };
  DrTreatment unconfigured = { 20, T0, 1500 };
  Fixture f;

  fixture_setup_default (&f);
  dr_engine_add_treatment (f.engine, &later);
  dr_engine_add_treatment (f.engine, &earlier);
  dr_engine_add_treatment (f.engine, &unknown);
  dr_engine_add_treatment (f.engine, &unconfigured); /* ignored */
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, FOREHEAD), ==, T0 + 8 * DAY_MS);
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, CHIN), ==, T0 + 42 * DAY_MS);
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, 20), ==, INT64_MIN);
  g_assert_cmpint (dr_engine_rest_window_ms (f.engine, 0), ==, 42 * DAY_MS);

  /* set_last_treated: one treatment with the head in use, the rest gone. */
  dr_engine_set_last_treated (f.engine, FOREHEAD, T0);
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, FOREHEAD), ==, T0 + 7 * DAY_MS);
  dr_engine_set_last_treated (f.engine, FOREHEAD, INT64_MIN);
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, FOREHEAD), ==, INT64_MIN);
  fixture_teardown (&f);
}

/* Two skins (people) on one engine: each one's history is its own;
 * switching is handing the engine the other's treatments. */
static void
test_rest_two_skins (void)
{
  DrTreatment anna[] = { { FOREHEAD, T0, 1500 } };
  DrTreatment ben[] = { { NOSE, T0, 1500 } };
  const DrEvent *e;
  Fixture f;

  fixture_setup (&f, NULL, 250);
  dr_engine_set_treatments (f.engine, anna, G_N_ELEMENTS (anna));
  feed1 (&f, T0 + 3 * DAY_MS, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 3 * DAY_MS + 100, 0, FIRM, NOSE);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 1);
  g_assert_cmpint (nth_event (&f, DR_EVENT_TOO_SOON, 0)->zone, ==, FOREHEAD);
  dr_engine_stop_session (f.engine);

  /* Ben: his nose, not Anna's forehead (nor the session just ended). */
  dr_engine_set_treatments (f.engine, ben, G_N_ELEMENTS (ben));
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, FOREHEAD), ==, INT64_MIN);
  feed1 (&f, T0 + 3 * DAY_MS + 1000, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 3 * DAY_MS + 1100, 0, FIRM, NOSE);
  g_assert_cmpuint (count_events (&f, DR_EVENT_TOO_SOON), ==, 2);
  e = nth_event (&f, DR_EVENT_TOO_SOON, 1);
  g_assert_cmpint (e->zone, ==, NOSE);
  g_assert_cmpint (e->last_treated_ms, ==, T0);
  dr_engine_stop_session (f.engine);

  /* Anna again: only her own 1.5 mm forehead, her nose never treated. */
  dr_engine_set_treatments (f.engine, anna, G_N_ELEMENTS (anna));
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, NOSE), ==, INT64_MIN);
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, FOREHEAD), ==, T0 + 42 * DAY_MS);
  dr_engine_set_treatments (f.engine, NULL, 0);
  g_assert_cmpint (dr_engine_zone_free_at_ms (f.engine, FOREHEAD), ==, INT64_MIN);
  fixture_teardown (&f);
}

/* The zone of the latest contact sample: the sensor's or the user's; a
 * lifted sample does not change it. */
static void
test_zone_contact (void)
{
  Fixture f;

  fixture_setup_default (&f);
  g_assert_cmpint (dr_engine_contact_zone (f.engine), ==, DR_ZONE_UNASSIGNED);
  g_assert_false (dr_engine_in_contact (f.engine));
  feed1 (&f, T0, 0, LIFTED, CHIN);
  g_assert_cmpint (dr_engine_contact_zone (f.engine), ==, DR_ZONE_UNASSIGNED);
  g_assert_false (dr_engine_in_contact (f.engine));
  feed1 (&f, T0 + 100, 0, FIRM, CHIN);
  g_assert_cmpint (dr_engine_contact_zone (f.engine), ==, CHIN);
  g_assert_true (dr_engine_in_contact (f.engine));
  feed1 (&f, T0 + 200, 0, LIFTED, NOSE);
  g_assert_cmpint (dr_engine_contact_zone (f.engine), ==, CHIN);
  g_assert_false (dr_engine_in_contact (f.engine));
  feed1 (&f, T0 + 300, 0, FAULT, NOSE);
  g_assert_cmpint (dr_engine_contact_zone (f.engine), ==, CHIN);
  /* A fault reads no force: what the last force read stays. */
  g_assert_false (dr_engine_in_contact (f.engine));
  dr_engine_set_user_zone (f.engine, NECK);
  feed1 (&f, T0 + 400, 0, FIRM, DR_ZONE_UNKNOWN);
  g_assert_cmpint (dr_engine_contact_zone (f.engine), ==, NECK);
  dr_engine_set_user_zone (f.engine, DR_ZONE_UNASSIGNED);
  feed1 (&f, T0 + 500, 0, FIRM, DR_ZONE_UNKNOWN);
  g_assert_cmpint (dr_engine_contact_zone (f.engine), ==, DR_ZONE_UNASSIGNED);
  fixture_teardown (&f);
}

/* Head wear */

static void
test_head_wear (void)
{
  Fixture f;
  DrHeadInfo head = test_head (500);
  const DrEvent *e;

  fixture_setup_default (&f);
  /* Life 2500 revolutions; this head has 2490 already. */
  dr_engine_set_head (f.engine, &head, 2490);
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 100, 5000, FIRM, FOREHEAD);   /* 2495: wear 0.998 */
  feed1 (&f, T0 + 200, 8000, LIFTED, FOREHEAD); /* not in contact: not wear */
  assert_near (dr_engine_head_revolutions (f.engine), 2495.0);
  assert_near (dr_engine_head_wear (f.engine), 0.998);
  g_assert_cmpuint (count_events (&f, DR_EVENT_HEAD_WORN), ==, 0);

  feed1 (&f, T0 + 300, 13000, FIRM, FOREHEAD); /* 2500: wear 1.0 */
  g_assert_cmpuint (count_events (&f, DR_EVENT_HEAD_WORN), ==, 1);
  e = nth_event (&f, DR_EVENT_HEAD_WORN, 0);
  g_assert_cmpint (e->time_ms, ==, T0 + 300);
  g_assert_cmpuint (e->head_id, ==, 0xC0FFEE);
  assert_near (e->wear, 1.0);
  feed1 (&f, T0 + 400, 14000, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_HEAD_WORN), ==, 1);
  assert_near (dr_engine_head_revolutions (f.engine), 2501.0);

  /* Once per session: at the next one's first contact. */
  dr_engine_stop_session (f.engine);
  feed1 (&f, T0 + 500000, 14000, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_HEAD_WORN), ==, 2);
  assert_near (nth_event (&f, DR_EVENT_HEAD_WORN, 1)->wear, 1.0004);

  /* A fresh head: no warning, its own count. */
  head.head_id = 0xBEEF;
  dr_engine_set_head (f.engine, &head, 0);
  feed1 (&f, T0 + 500100, 15000, FIRM, FOREHEAD);
  assert_near (dr_engine_head_revolutions (f.engine), 1.0);
  g_assert_cmpuint (count_events (&f, DR_EVENT_HEAD_WORN), ==, 2);
  fixture_teardown (&f);
}

static void
test_head_life_configured (void)
{
  Fixture f;
  DrEngineConfig config;

  dr_engine_config_init_defaults (&config);
  config.head_life_revolutions = 10;
  fixture_setup (&f, &config, 500);
  feed1 (&f, T0, 0, FIRM, FOREHEAD);
  feed1 (&f, T0 + 100, 9999, FIRM, FOREHEAD);
  g_assert_cmpuint (count_events (&f, DR_EVENT_HEAD_WORN), ==, 0);
  feed1 (&f, T0 + 200, 10000, FAULT, FOREHEAD); /* carried over a fault: counts */
  g_assert_cmpuint (count_events (&f, DR_EVENT_HEAD_WORN), ==, 1);
  assert_near (nth_event (&f, DR_EVENT_HEAD_WORN, 0)->wear, 1.0);
  fixture_teardown (&f);
}

/* Zones */

static void
test_zone_user_fallback (void)
{
  Fixture f;

  fixture_setup_default (&f);
  dr_engine_set_user_zone (f.engine, NOSE);
  feed1 (&f, T0, 0, FIRM, DR_ZONE_UNKNOWN);
  feed1 (&f, T0 + 100, 1000, FIRM, DR_ZONE_UNKNOWN); /* the user's nose */
  assert_near (dr_engine_zone_totals (f.engine, NOSE)->revolutions, 1.0);
  g_assert_cmpint (dr_engine_zone_totals (f.engine, NOSE)->source, ==, DR_ZONE_SOURCE_USER);
  g_assert_cmpint (dr_engine_last_zone (f.engine), ==, NOSE);

  /* The sensor, when it knows, wins over the user. */
  feed1 (&f, T0 + 200, 2000, FIRM, CHIN);
  assert_near (dr_engine_zone_totals (f.engine, CHIN)->revolutions, 1.0);
  g_assert_cmpint (dr_engine_zone_totals (f.engine, CHIN)->source, ==, DR_ZONE_SOURCE_SENSOR);
  assert_near (dr_engine_zone_totals (f.engine, NOSE)->revolutions, 1.0);
  g_assert_cmpint (dr_engine_last_zone (f.engine), ==, CHIN);

  /* The nose by the sensor now: its source follows the last sample. */
  feed1 (&f, T0 + 300, 3000, FIRM, NOSE);
  g_assert_cmpint (dr_engine_zone_totals (f.engine, NOSE)->source, ==, DR_ZONE_SOURCE_SENSOR);

  /* Neither: unassigned. */
  dr_engine_set_user_zone (f.engine, DR_ZONE_UNASSIGNED);
  feed1 (&f, T0 + 400, 4000, FIRM, DR_ZONE_UNKNOWN);
  assert_near (dr_engine_zone_totals (f.engine, DR_ZONE_UNASSIGNED)->revolutions, 1.0);
  g_assert_cmpint (dr_engine_last_zone (f.engine), ==, DR_ZONE_UNASSIGNED);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->unknown_zone_samples, ==, 0);
  fixture_teardown (&f);
}

static void
test_zone_unknown_id (void)
{
  Fixture f;
  DrEngineConfig config;

  fixture_setup_default (&f);
  /* 7, 31, 0xFE: not zones here. Counted, then treated as "not known". */
  dr_engine_set_user_zone (f.engine, RIGHT_CHEEK);
  feed1 (&f, T0, 0, FIRM, 7);
  feed1 (&f, T0 + 100, 1000, FIRM, 31);
  feed1 (&f, T0 + 200, 2000, LIFTED, 0xFE);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->unknown_zone_samples, ==, 3);
  assert_near (dr_engine_zone_totals (f.engine, RIGHT_CHEEK)->revolutions, 1.0);
  g_assert_cmpint (dr_engine_zone_totals (f.engine, RIGHT_CHEEK)->source, ==, DR_ZONE_SOURCE_USER);

  dr_engine_set_user_zone (f.engine, DR_ZONE_UNASSIGNED);
  feed1 (&f, T0 + 300, 3000, FIRM, 200);
  assert_near (dr_engine_zone_totals (f.engine, DR_ZONE_UNASSIGNED)->revolutions, 1.0);
  feed1 (&f, T0 + 400, 4000, FIRM, 200);
  assert_near (dr_engine_zone_totals (f.engine, DR_ZONE_UNASSIGNED)->revolutions, 2.0);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->unknown_zone_samples, ==, 5);
  fixture_teardown (&f);

  /* A zone added by the config is a sensor zone like the others. */
  dr_engine_config_init_defaults (&config);
  g_assert_true (dr_engine_config_load_data (&config, "[zone temple]\narea-cm2=6\n", "t", NULL));
  fixture_setup (&f, &config, 500);
  feed1 (&f, T0, 0, FIRM, 7);
  feed1 (&f, T0 + 100, 1000, FIRM, 7);
  /* 1 rev = 3π cm² on 6 cm²: π/2 passes. */
  assert_near (dr_engine_zone_totals (f.engine, 7)->passes, G_PI / 2);
  g_assert_cmpint (dr_engine_zone_totals (f.engine, 7)->source, ==, DR_ZONE_SOURCE_SENSOR);
  g_assert_cmpuint (dr_engine_get_stats (f.engine)->unknown_zone_samples, ==, 0);
  fixture_teardown (&f);
}

/* Events go only where asked, and the engine runs without a callback. */
static void
test_no_event_func (void)
{
  Fixture f;

  fixture_setup_default (&f);
  dr_engine_set_event_func (f.engine, NULL, NULL);
  feed1 (&f, T0, 0, HARD, FOREHEAD);
  feed1 (&f, T0 + 200, 1000, HARD, FOREHEAD);
  dr_engine_stop_session (f.engine);
  g_assert_cmpuint (f.events->len, ==, 0);
  assert_near (dr_engine_zone_totals (f.engine, FOREHEAD)->revolutions, 1.0);
  fixture_teardown (&f);
}

/* A copy keeps the totals as they were and sends no events, while the
 * original runs on: that is what the daemon hands to its store thread. */
static void
test_copy_frozen (void)
{
  Fixture f;
  DrEngine *copy;
  guint n_events;

  fixture_setup_default (&f);
  feed1 (&f, T0, 0, FIRM, CHIN);
  feed1 (&f, T0 + 100, 1000, FIRM, CHIN); /* one revolution on the chin */
  copy = dr_engine_copy (f.engine);
  n_events = f.events->len;

  feed1 (&f, T0 + 200, 3000, FIRM, CHIN); /* two more, on the original only */
  g_assert_cmpfloat_with_epsilon (dr_engine_zone_totals (f.engine, CHIN)->revolutions, 3.0, EPS);
  g_assert_cmpfloat_with_epsilon (dr_engine_zone_totals (copy, CHIN)->revolutions, 1.0, EPS);
  g_assert_cmpfloat_with_epsilon (dr_engine_zone_totals (copy, CHIN)->rolled_cm2, AREA_PER_REV,
                                  1e-6);

  /* Driving the copy reports nothing to the original's listener. */
  n_events = f.events->len;
  dr_engine_stop_session (copy);
  g_assert_cmpuint (f.events->len, ==, n_events);
  g_assert_true (dr_engine_session_active (f.engine));

  dr_engine_free (copy);
  fixture_teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/event-kind/names", test_event_kind_names);
  g_test_add_func ("/engine/coverage/hand-computed", test_coverage_hand_computed);
  g_test_add_func ("/engine/direction/all-unknown-is-today", test_direction_all_unknown);
  g_test_add_func ("/engine/direction/v1-motion-ignored", test_direction_v1_motion_ignored);
  g_test_add_func ("/engine/direction/six-horizontal-third", test_direction_six_horizontal);
  g_test_add_func ("/engine/direction/two-each-full", test_direction_two_each);
  g_test_add_func ("/engine/direction/mixed-with-unknown", test_direction_mixed_unknown);
  g_test_add_func ("/engine/direction/target-not-divisible-by-3",
                   test_direction_target_not_divisible);
  g_test_add_func ("/engine/coverage/capped", test_coverage_capped);
  g_test_add_func ("/engine/coverage/unassigned", test_coverage_unassigned);
  g_test_add_func ("/engine/coverage/no-head", test_coverage_no_head);
  g_test_add_func ("/engine/time/cumulative-dt", test_time_cumulative_dt);
  g_test_add_func ("/engine/time/frame-size-invariant", test_time_frame_size_invariant);
  g_test_add_func ("/engine/ticks/wrap", test_ticks_wrap);
  g_test_add_func ("/engine/ticks/lost-frames", test_ticks_lost_frames);
  g_test_add_func ("/engine/ticks/seq-back", test_ticks_seq_back);
  g_test_add_func ("/engine/ticks/reset", test_ticks_reset);
  g_test_add_func ("/engine/force/sensor-fault", test_force_sensor_fault);
  g_test_add_func ("/engine/pressure/start-149ms", test_pressure_start_149ms);
  g_test_add_func ("/engine/pressure/start-150ms", test_pressure_start_150ms);
  g_test_add_func ("/engine/pressure/end-299ms", test_pressure_end_299ms);
  g_test_add_func ("/engine/pressure/end-300ms", test_pressure_end_300ms);
  g_test_add_func ("/engine/pressure/band-between", test_pressure_band_between);
  g_test_add_func ("/engine/pressure/sensor-fault", test_pressure_sensor_fault);
  g_test_add_func ("/engine/pressure/zone-limit", test_pressure_zone_limit);
  g_test_add_func ("/engine/pressure/needle-classes", test_pressure_needle_classes);
  g_test_add_func ("/engine/pressure/ended-by-session-end", test_pressure_ended_by_session_end);
  g_test_add_func ("/engine/excluded/once-per-stretch", test_excluded_once_per_stretch);
  g_test_add_func ("/engine/over-treated/once", test_over_treated_once);
  g_test_add_func ("/engine/session/split-120s", test_session_split_120s);
  g_test_add_func ("/engine/session/no-split-119s", test_session_no_split_119s);
  g_test_add_func ("/engine/session/gap-without-contact", test_session_gap_without_contact);
  g_test_add_func ("/engine/session/configured-gap", test_session_configured_gap);
  g_test_add_func ("/engine/session/advance", test_session_advance);
  g_test_add_func ("/engine/session/start-stop", test_session_start_stop);
  g_test_add_func ("/engine/session/contact-after-stop", test_session_contact_after_stop);
  for (unsigned i = 0; i < G_N_ELEMENTS (needle_cases); i++)
    g_test_add_data_func (needle_cases[i].path, &needle_cases[i], test_rest);
  g_test_add_func ("/engine/rest/own-session", test_rest_own_session);
  g_test_add_func ("/engine/rest/clock-back", test_rest_clock_back);
  for (unsigned b = 0, i = 0; b < G_N_ELEMENTS (rest_classes); b++)
    for (unsigned a = 0; a < G_N_ELEMENTS (rest_classes); a++, i++)
      {
        EarlierNeedleCase *c = &earlier_needle_cases[i];

        g_snprintf (c->path, sizeof c->path, "/engine/rest/earlier-needle/%s-then-%s",
                    rest_classes[b].name, rest_classes[a].name);
        c->before_um = rest_classes[b].um;
        c->after_um = rest_classes[a].um;
        g_test_add_data_func (c->path, c, test_rest_earlier_needle);
      }
  g_test_add_func ("/engine/rest/session-head-needle", test_rest_session_head_needle);
  g_test_add_func ("/engine/rest/two-earlier", test_rest_two_earlier);
  g_test_add_func ("/engine/rest/add-order", test_rest_add_order);
  g_test_add_func ("/engine/rest/two-skins", test_rest_two_skins);
  g_test_add_func ("/engine/head/wear", test_head_wear);
  g_test_add_func ("/engine/head/life-configured", test_head_life_configured);
  g_test_add_func ("/engine/zone/user-fallback", test_zone_user_fallback);
  g_test_add_func ("/engine/zone/unknown-id", test_zone_unknown_id);
  g_test_add_func ("/engine/zone/contact", test_zone_contact);
  g_test_add_func ("/engine/events/no-callback", test_no_event_func);
  g_test_add_func ("/engine/copy/frozen", test_copy_frozen);

  return g_test_run ();
}
