/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-roller-clock.c: a roller's clock on the monotonic clock, and what
 * SET_TIME may send (PROTOCOL.md, "Clocks"). */
#include <glib.h>

#include "roller-clock.h"

#define T 1700000000000 /* a synced roller time, ms */
#define S 1000000       /* 1 s in µs */

static int64_t
now_at (const DrRollerClock *clock, gint64 mono_us)
{
  int64_t now = 0;

  g_assert_true (dr_roller_clock_now (clock, mono_us, &now));
  return now;
}

static void
test_unknown (void)
{
  DrRollerClock clock;
  int64_t now = 42;

  dr_roller_clock_init (&clock);
  g_assert_false (dr_roller_clock_now (&clock, 5 * S, &now));
  g_assert_cmpint (now, ==, 42);
  g_assert_cmpint (clock.floor_ms, ==, INT64_MIN);
}

/* The last frame's time, run on by the monotonic time since it came. */
static void
test_from_frame (void)
{
  DrRollerClock clock;

  dr_roller_clock_init (&clock);
  dr_roller_clock_frame (&clock, T, TRUE, 10 * S, TRUE);
  g_assert_cmpint (now_at (&clock, 10 * S), ==, T);
  g_assert_cmpint (now_at (&clock, 13 * S + 500), ==, T + 3000);
  g_assert_cmpint (clock.floor_ms, ==, T);
  /* A later frame takes over; the floor follows it. */
  dr_roller_clock_frame (&clock, T + 5000, TRUE, 14 * S, TRUE);
  g_assert_cmpint (now_at (&clock, 14 * S), ==, T + 5000);
  g_assert_cmpint (clock.floor_ms, ==, T + 5000);
}

/* A frame only noted for the floor (held back, history) does not move
 * the clock; a floor never goes down; unsynced frames are no floor. */
static void
test_floor (void)
{
  DrRollerClock clock;

  dr_roller_clock_init (&clock);
  dr_roller_clock_frame (&clock, T, TRUE, 10 * S, TRUE);
  dr_roller_clock_frame (&clock, T + 60000, TRUE, 0, FALSE);
  g_assert_cmpint (clock.floor_ms, ==, T + 60000);
  g_assert_cmpint (now_at (&clock, 11 * S), ==, T + 1000);
  dr_roller_clock_frame (&clock, T - 60000, TRUE, 12 * S, TRUE);
  g_assert_cmpint (clock.floor_ms, ==, T + 60000);
  dr_roller_clock_frame (&clock, 5000, FALSE, 13 * S, TRUE);
  g_assert_cmpint (clock.floor_ms, ==, T + 60000);
  g_assert_true (clock.unsynced);
  g_assert_cmpint (now_at (&clock, 14 * S), ==, 6000);
}

/* After SET_TIME the clock runs on from the value sent, also when the
 * frames it has are old history; never below the last frame either. */
static void
test_set_time (void)
{
  DrRollerClock clock;

  dr_roller_clock_init (&clock);
  dr_roller_clock_frame (&clock, T, TRUE, 10 * S, TRUE); /* history, 2 h old */
  dr_roller_clock_set (&clock, T + 7200000, 11 * S);
  g_assert_cmpint (now_at (&clock, 11 * S), ==, T + 7200000);
  g_assert_cmpint (now_at (&clock, 41 * S), ==, T + 7230000);
  /* A frame ahead of the value sent (the roller ran fast): it wins. */
  dr_roller_clock_frame (&clock, T + 7300000, TRUE, 42 * S, TRUE);
  g_assert_cmpint (now_at (&clock, 43 * S), ==, T + 7301000);
  /* SET_TIME alone, before any frame. */
  dr_roller_clock_init (&clock);
  dr_roller_clock_set (&clock, T, 3 * S);
  g_assert_cmpint (now_at (&clock, 4 * S), ==, T + 1000);
}

/* A roller whose last frame counts from its boot: the SET_TIME value is
 * another clock, and the frames' clock is the engine's. */
static void
test_unsynced_ignores_set_time (void)
{
  DrRollerClock clock;

  dr_roller_clock_init (&clock);
  dr_roller_clock_set (&clock, T, 1 * S);
  dr_roller_clock_frame (&clock, 90000, FALSE, 2 * S, TRUE);
  g_assert_cmpint (now_at (&clock, 3 * S), ==, 91000);
}

/* SET_TIME: the wall clock, unless it is not after the roller's history. */
static void
test_set_time_value (void)
{
  const int64_t hours3 = 3 * 3600 * 1000;

  g_assert_cmpint (dr_roller_clock_set_time_value (T, INT64_MIN), ==, T);
  g_assert_cmpint (dr_roller_clock_set_time_value (T, T - 1), ==, T);
  g_assert_cmpint (dr_roller_clock_set_time_value (T, T), ==, T + 1);
  /* The wall clock went back 3 h: just after the last frame, not back. */
  g_assert_cmpint (dr_roller_clock_set_time_value (T - hours3, T), ==, T + 1);
  /* It went forward: the roller follows (a label; durations are not on it). */
  g_assert_cmpint (dr_roller_clock_set_time_value (T + hours3, T), ==, T + hours3);
  /* A boot-relative floor is no floor for Unix time. */
  g_assert_cmpint (dr_roller_clock_set_time_value (T, 5000), ==, T);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/roller-clock/unknown", test_unknown);
  g_test_add_func ("/roller-clock/from-frame", test_from_frame);
  g_test_add_func ("/roller-clock/floor", test_floor);
  g_test_add_func ("/roller-clock/set-time", test_set_time);
  g_test_add_func ("/roller-clock/unsynced-ignores-set-time", test_unsynced_ignores_set_time);
  g_test_add_func ("/roller-clock/set-time-value", test_set_time_value);
  return g_test_run ();
}
