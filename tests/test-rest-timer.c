/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-rest-timer.c: DrRestTimer on a wall clock the test sets: armed to
 * the earliest end of rest over every skin, nothing armed while nothing is
 * due, armed again when treatments change, zone-ready once per zone that
 * was waiting, and two skins. No test waits for a rest: the clock is moved
 * to a due time and the timer armed again, which it then runs at once. */
#include <glib.h>

#include "rest-timer.h"

#define DAY_MS ((gint64) 24 * 3600 * 1000)
#define T0 ((gint64) 1767225600000) /* 2026-01-01 00:00 UTC */

typedef struct
{
  DrEngineConfig config;
  DrRestTimer *timer;
  gint64 now_ms;
  GArray *ready; /* Ready, in the order signalled */
} Fixture;

typedef struct
{
  guint person;
  int zone;
} Ready;

static gint64
fake_now (gpointer user_data)
{
  Fixture *f = user_data;
  return f->now_ms;
}

static void
on_zone_ready (DrRestTimer *timer, guint person, int zone, gpointer user_data)
{
  Fixture *f = user_data;
  Ready r = { person, zone };

  g_array_append_val (f->ready, r);
}

static int
zone (Fixture *f, const char *name)
{
  int z = dr_engine_config_zone_by_name (&f->config, name);

  g_assert_cmpint (z, >=, 0);
  return z;
}

static void
setup (Fixture *f, gconstpointer data)
{
  dr_engine_config_init_defaults (&f->config);
  f->timer = dr_rest_timer_new (&f->config);
  f->now_ms = T0;
  dr_rest_timer_set_clock (f->timer, fake_now, f);
  f->ready = g_array_new (FALSE, FALSE, sizeof (Ready));
  g_signal_connect (f->timer, "zone-ready", G_CALLBACK (on_zone_ready), f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->timer);
  g_clear_pointer (&f->ready, g_array_unref);
  /* The timer's source went with it. */
  g_assert_false (g_main_context_pending (NULL));
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Moves the clock to @to_ms as a resume would find it, and runs the main
 * loop until @n zone-ready signals in all were seen (10 s at most). */
static void
jump_and_wait (Fixture *f, gint64 to_ms, guint n)
{
  gboolean timed_out = FALSE;
  guint id;

  f->now_ms = to_ms;
  dr_rest_timer_rearm (f->timer);
  id = g_timeout_add (10000, timeout_cb, &timed_out);
  while (f->ready->len < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_cmpuint (f->ready->len, ==, n);
  /* Nothing more is ready at this time: no second signal for a zone (the
   * next armed time, if any, is days of real time away). */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (f->ready->len, ==, n);
}

static void
assert_ready (Fixture *f, guint i, guint person, int zone)
{
  g_assert_cmpuint (g_array_index (f->ready, Ready, i).person, ==, person);
  g_assert_cmpint (g_array_index (f->ready, Ready, i).zone, ==, zone);
}

/* No treatments, or only rests that are over: nothing armed. */
static void
test_nothing_due (Fixture *f, gconstpointer data)
{
  DrTreatment old = { zone (f, "chin"), T0 - 43 * DAY_MS, 1500 };

  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, 0);
  dr_rest_timer_set_treatments (f->timer, 0, NULL, 0);
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, 0);
  dr_rest_timer_set_treatments (f->timer, 0, &old, 1);
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, 0);
  g_assert_false (g_main_context_pending (NULL));
  dr_rest_timer_rearm (f->timer);
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, 0);
  g_assert_cmpuint (f->ready->len, ==, 0);
}

/* The earliest end over every zone, each by its own needle: a 0.25 mm
 * session after a 1.5 mm one does not shorten the 1.5 mm zone's rest. */
static void
test_armed_at_earliest (Fixture *f, gconstpointer data)
{
  DrTreatment t[] = {
    { zone (f, "forehead"), T0 - DAY_MS, 1500 }, /* free at T0 + 41 days */
    { zone (f, "forehead"), T0 - 1000, 250 },    /* its 1 day is inside the 42 */
    { zone (f, "nose"), T0 - 2 * DAY_MS, 500 },  /* free at T0 + 5 days */
    { zone (f, "chin"), T0 - 3 * DAY_MS, 1000 }, /* free at T0 + 25 days */
  };

  dr_rest_timer_set_treatments (f->timer, 0, t, G_N_ELEMENTS (t));
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + 5 * DAY_MS);
}

/* New treatments re-arm: an earlier end moves the timer forward, removing
 * the only waiting zone disarms it (and is not "ready"). */
static void
test_rearmed_on_change (Fixture *f, gconstpointer data)
{
  DrTreatment a = { zone (f, "neck"), T0, 1000 };
  DrTreatment both[] = { { zone (f, "neck"), T0, 1000 }, { zone (f, "nose"), T0, 300 } };

  dr_rest_timer_set_treatments (f->timer, 0, &a, 1);
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + 28 * DAY_MS);
  dr_rest_timer_set_treatments (f->timer, 0, both, 2);
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + DAY_MS);
  dr_rest_timer_set_treatments (f->timer, 0, NULL, 0);
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, 0);
  dr_rest_timer_rearm (f->timer);
  g_assert_cmpuint (f->ready->len, ==, 0);
}

/* Each waiting zone is signalled once, when its rest is over (the window's
 * end itself, as the engine counts it), and the timer moves to the next. */
static void
test_fires_once_per_zone (Fixture *f, gconstpointer data)
{
  DrTreatment t[] = {
    { zone (f, "nose"), T0, 300 },     /* free at T0 + 1 day */
    { zone (f, "chin"), T0, 300 },     /* the same time */
    { zone (f, "forehead"), T0, 500 }, /* T0 + 7 days */
  };

  dr_rest_timer_set_treatments (f->timer, 0, t, G_N_ELEMENTS (t));
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + DAY_MS);

  /* One millisecond before: nothing, and still armed there (for a real
   * millisecond, which this test does not run). */
  f->now_ms = T0 + DAY_MS - 1;
  dr_rest_timer_rearm (f->timer);
  g_assert_cmpuint (f->ready->len, ==, 0);
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + DAY_MS);

  jump_and_wait (f, T0 + DAY_MS, 2);
  assert_ready (f, 0, 0, zone (f, "nose"));
  assert_ready (f, 1, 0, zone (f, "chin"));
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + 7 * DAY_MS);

  /* A resume long after: the forehead, once, and nothing armed. */
  jump_and_wait (f, T0 + 30 * DAY_MS, 3);
  assert_ready (f, 2, 0, zone (f, "forehead"));
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, 0);
  dr_rest_timer_rearm (f->timer);
  g_assert_cmpuint (f->ready->len, ==, 3);
}

/* Treatments given again after a zone's rest ended (the timer not yet
 * run): it was ready, and is said once. */
static void
test_due_before_new_treatments (Fixture *f, gconstpointer data)
{
  DrTreatment nose = { zone (f, "nose"), T0, 300 };
  DrTreatment both[] = { { zone (f, "nose"), T0, 300 }, { zone (f, "chin"), T0 + DAY_MS, 300 } };

  dr_rest_timer_set_treatments (f->timer, 0, &nose, 1);
  f->now_ms = T0 + DAY_MS;
  dr_rest_timer_set_treatments (f->timer, 0, both, 2);
  g_assert_cmpuint (f->ready->len, ==, 1);
  assert_ready (f, 0, 0, zone (f, "nose"));
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + 2 * DAY_MS);
}

/* A zone excluded by the time its rest ends is not announced. */
static void
test_excluded_not_announced (Fixture *f, gconstpointer data)
{
  DrTreatment t[] = { { zone (f, "nose"), T0, 300 }, { zone (f, "chin"), T0, 300 } };

  dr_rest_timer_set_treatments (f->timer, 0, t, G_N_ELEMENTS (t));
  f->config.zones[zone (f, "nose")].excluded = TRUE;
  jump_and_wait (f, T0 + DAY_MS, 1);
  assert_ready (f, 0, 0, zone (f, "chin"));
}

/* Two skins, one timer: armed to the earlier of the two; each person's
 * zone is signalled with its person; removing a person drops theirs. */
static void
test_two_skins (Fixture *f, gconstpointer data)
{
  DrTreatment anna = { zone (f, "forehead"), T0, 1500 };   /* T0 + 42 days */
  DrTreatment ben[] = { { zone (f, "forehead"), T0, 500 }, /* T0 + 7 days */
                        { zone (f, "neck"), T0, 1000 } };  /* T0 + 28 days */

  dr_rest_timer_set_treatments (f->timer, 0, &anna, 1);
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + 42 * DAY_MS);
  dr_rest_timer_set_treatments (f->timer, 1, ben, G_N_ELEMENTS (ben));
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + 7 * DAY_MS);

  jump_and_wait (f, T0 + 7 * DAY_MS, 1);
  assert_ready (f, 0, 1, zone (f, "forehead"));
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + 28 * DAY_MS);

  /* Anna's 42 days do not end with Ben's forehead: one skin is not the
   * other. */
  jump_and_wait (f, T0 + 28 * DAY_MS, 2);
  assert_ready (f, 1, 1, zone (f, "neck"));
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + 42 * DAY_MS);

  dr_rest_timer_remove_person (f->timer, 0);
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, 0);
  jump_and_wait (f, T0 + 50 * DAY_MS, 2);
}

/* A rest longer than a millisecond timer reaches (49.7 days): armed to
 * its end all the same. */
static void
test_long_rest (Fixture *f, gconstpointer data)
{
  DrTreatment t = { zone (f, "neck"), T0, 1500 };

  f->config.rest_days[DR_NEEDLE_CLASS_LONG] = 3650;
  dr_rest_timer_set_treatments (f->timer, 0, &t, 1);
  g_assert_cmpint (dr_rest_timer_get_armed_ms (f->timer), ==, T0 + 3650 * DAY_MS);
  jump_and_wait (f, T0 + 3650 * DAY_MS, 1);
  assert_ready (f, 0, 0, zone (f, "neck"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/rest-timer/nothing-due-nothing-armed", test_nothing_due);
  ADD ("/rest-timer/armed-at-earliest-by-own-needle", test_armed_at_earliest);
  ADD ("/rest-timer/rearmed-on-change", test_rearmed_on_change);
  ADD ("/rest-timer/fires-once-per-zone", test_fires_once_per_zone);
  ADD ("/rest-timer/due-before-new-treatments", test_due_before_new_treatments);
  ADD ("/rest-timer/excluded-not-announced", test_excluded_not_announced);
  ADD ("/rest-timer/two-skins", test_two_skins);
  ADD ("/rest-timer/longer-than-49-days", test_long_rest);
#undef ADD
  return g_test_run ();
}
