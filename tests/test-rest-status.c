/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-rest-status.c: last treatment and rest end per zone, at the edges:
 * each needle class, the window's last millisecond, a shorter needle after
 * a longer one, zones not configured, and the next due time. */
#include <glib.h>

#include "rest-status.h"

#define DAY_MS ((int64_t) 24 * 3600 * 1000)
#define T0 ((int64_t) 1767225600000) /* 2026-01-01 00:00 UTC */

static DrEngineConfig config;

static int
zone (const char *name)
{
  int z = dr_engine_config_zone_by_name (&config, name);

  g_assert_cmpint (z, >=, 0);
  return z;
}

/* Default rest: 1/7/28/42 days for ≤0.3, ≤0.5, ≤1.0 and longer needles;
 * a needle length not known is the longest. */
static void
test_window_by_class (void)
{
  g_assert_cmpint (dr_rest_window_ms (&config, 200), ==, 1 * DAY_MS);
  g_assert_cmpint (dr_rest_window_ms (&config, 300), ==, 1 * DAY_MS);
  g_assert_cmpint (dr_rest_window_ms (&config, 301), ==, 7 * DAY_MS);
  g_assert_cmpint (dr_rest_window_ms (&config, 500), ==, 7 * DAY_MS);
  g_assert_cmpint (dr_rest_window_ms (&config, 1000), ==, 28 * DAY_MS);
  g_assert_cmpint (dr_rest_window_ms (&config, 1500), ==, 42 * DAY_MS);
  g_assert_cmpint (dr_rest_window_ms (&config, 0), ==, 42 * DAY_MS);
}

static void
test_never (void)
{
  DrRestStatus status[DR_MAX_ZONES];

  dr_rest_status_compute (&config, NULL, 0, T0, status);
  for (unsigned z = 0; z < config.n_zones; z++)
    {
      g_assert_cmpint (status[z].last_treated_ms, ==, 0);
      g_assert_cmpint (status[z].free_from_ms, ==, 0);
    }
  g_assert_cmpint (dr_rest_status_next_due_ms (&config, status, T0), ==, INT64_MAX);
}

/* The engine warns while the rest is below the window, so the window's end
 * is free and its last millisecond is not. */
static void
test_last_millisecond (void)
{
  DrTreatment t = { zone ("forehead"), T0, 500 };
  DrRestStatus status[DR_MAX_ZONES];
  int64_t end = T0 + 7 * DAY_MS;

  dr_rest_status_compute (&config, &t, 1, end - 1, status);
  g_assert_cmpint (status[t.zone].last_treated_ms, ==, T0);
  g_assert_cmpint (status[t.zone].free_from_ms, ==, end);
  g_assert_cmpint (dr_rest_status_next_due_ms (&config, status, end - 1), ==, end);

  dr_rest_status_compute (&config, &t, 1, end, status);
  g_assert_cmpint (status[t.zone].last_treated_ms, ==, T0);
  g_assert_cmpint (status[t.zone].free_from_ms, ==, 0);
  g_assert_cmpint (dr_rest_status_next_due_ms (&config, status, end), ==, INT64_MAX);
}

/* 1.5 mm, then 0.25 mm three days later: the zone rests 42 days from the
 * first, though the later treatment is the last one. */
static void
test_deepest_needling_decides (void)
{
  DrTreatment t[] = {
    { zone ("left-cheek"), T0, 1500 },
    { zone ("left-cheek"), T0 + 3 * DAY_MS, 250 },
  };
  DrRestStatus status[DR_MAX_ZONES];

  dr_rest_status_compute (&config, t, G_N_ELEMENTS (t), T0 + 4 * DAY_MS, status);
  g_assert_cmpint (status[t[0].zone].last_treated_ms, ==, T0 + 3 * DAY_MS);
  g_assert_cmpint (status[t[0].zone].free_from_ms, ==, T0 + 42 * DAY_MS);

  /* The other order of arrival gives the same answer. */
  {
    DrTreatment r[] = { t[1], t[0] };

    dr_rest_status_compute (&config, r, G_N_ELEMENTS (r), T0 + 4 * DAY_MS, status);
    g_assert_cmpint (status[t[0].zone].last_treated_ms, ==, T0 + 3 * DAY_MS);
    g_assert_cmpint (status[t[0].zone].free_from_ms, ==, T0 + 42 * DAY_MS);
  }
}

/* A short needle after its window is over leaves only the longer one's. */
static void
test_each_class_after (void)
{
  const uint16_t needles[] = { 250, 500, 1000, 1500 };
  const int64_t days[] = { 1, 7, 28, 42 };

  for (gsize i = 0; i < G_N_ELEMENTS (needles); i++)
    {
      DrTreatment t = { zone ("chin"), T0, needles[i] };
      DrRestStatus status[DR_MAX_ZONES];

      dr_rest_status_compute (&config, &t, 1, T0, status);
      g_assert_cmpint (status[t.zone].free_from_ms, ==, T0 + days[i] * DAY_MS);
      dr_rest_status_compute (&config, &t, 1, T0 + days[i] * DAY_MS - 1, status);
      g_assert_cmpint (status[t.zone].free_from_ms, ==, T0 + days[i] * DAY_MS);
      dr_rest_status_compute (&config, &t, 1, T0 + days[i] * DAY_MS, status);
      g_assert_cmpint (status[t.zone].free_from_ms, ==, 0);
      g_assert_cmpint (status[t.zone].last_treated_ms, ==, T0);
    }
}

/* Zones not configured, and "never" times, are ignored; the next due time
 * is the earliest of the waiting zones. */
static void
test_next_due_and_ignored (void)
{
  DrTreatment t[] = {
    { zone ("nose"), T0, 1500 },       { zone ("neck"), T0, 250 },
    { DR_MAX_ZONES - 1, T0, 250 },     { DR_ZONE_UNASSIGNED, T0, 250 },
    { zone ("chin"), INT64_MIN, 250 },
  };
  DrRestStatus status[DR_MAX_ZONES];

  dr_rest_status_compute (&config, t, G_N_ELEMENTS (t), T0 + 1000, status);
  g_assert_cmpint (status[zone ("chin")].last_treated_ms, ==, 0);
  g_assert_cmpint (status[DR_MAX_ZONES - 1].last_treated_ms, ==, 0);
  g_assert_cmpint (dr_rest_status_next_due_ms (&config, status, T0 + 1000), ==, T0 + DAY_MS);
  dr_rest_status_compute (&config, t, G_N_ELEMENTS (t), T0 + DAY_MS, status);
  g_assert_cmpint (dr_rest_status_next_due_ms (&config, status, T0 + DAY_MS), ==, T0 + 42 * DAY_MS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dr_engine_config_init_defaults (&config);

  g_test_add_func ("/rest-status/window/by-class", test_window_by_class);
  g_test_add_func ("/rest-status/never", test_never);
  g_test_add_func ("/rest-status/edge/last-millisecond", test_last_millisecond);
  g_test_add_func ("/rest-status/deepest-needling-decides", test_deepest_needling_decides);
  g_test_add_func ("/rest-status/edge/each-class", test_each_class_after);
  g_test_add_func ("/rest-status/next-due", test_next_due_and_ignored);
  return g_test_run ();
}
