/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller-clock.c: a roller's clock, advanced on the monotonic clock. */
#include "roller-clock.h"

void
dr_roller_clock_init (DrRollerClock *clock)
{
  *clock = (DrRollerClock){ .floor_ms = INT64_MIN };
}

void
dr_roller_clock_frame (DrRollerClock *clock, int64_t end_ms, gboolean synced, gint64 mono_us,
                       gboolean latest)
{
  if (synced)
    clock->floor_ms = MAX (clock->floor_ms, end_ms);
  if (!latest)
    return;
  clock->frame_end_ms = end_ms;
  clock->frame_mono_us = mono_us;
  clock->unsynced = !synced;
}

void
dr_roller_clock_set (DrRollerClock *clock, int64_t unix_ms, gint64 mono_us)
{
  clock->set_ms = unix_ms;
  clock->set_mono_us = mono_us;
}

/* A time from the air plus the time that passed since: saturated, since
 * the frame's time may be anything up to INT64_MAX. */
static int64_t
advance (int64_t ms, gint64 since_us, gint64 mono_us)
{
  int64_t elapsed = MAX (0, (mono_us - since_us) / 1000);

  return ms > INT64_MAX - elapsed ? INT64_MAX : ms + elapsed;
}

gboolean
dr_roller_clock_now (const DrRollerClock *clock, gint64 mono_us, int64_t *now_ms)
{
  gboolean known = FALSE;
  int64_t now = INT64_MIN;

  if (clock->frame_mono_us != 0)
    {
      now = advance (clock->frame_end_ms, clock->frame_mono_us, mono_us);
      known = TRUE;
    }
  /* Since SET_TIME the roller's clock has run on from there, whatever the
   * frames say (they may be old history); a boot-relative clock has
   * nothing to do with that value. */
  if (clock->set_mono_us != 0 && !(known && clock->unsynced))
    {
      now = MAX (now, advance (clock->set_ms, clock->set_mono_us, mono_us));
      known = TRUE;
    }
  if (known)
    *now_ms = now;
  return known;
}

int64_t
dr_roller_clock_set_time_value (int64_t wall_ms, int64_t floor_ms)
{
  /* The smallest value that keeps the roller's history in order, not the
   * floor plus the time since: when the wall clock went back because it
   * had been wrong, the roller comes back to the right time at once, and
   * meanwhile a rest interval only looks shorter, never longer. */
  if (floor_ms != INT64_MIN && wall_ms <= floor_ms)
    return floor_ms + 1;
  return wall_ms;
}
