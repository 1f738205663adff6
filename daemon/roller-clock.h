/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller-clock.h: where a roller's clock stands now, worked out on the
 * monotonic clock; and the time SET_TIME may give it.
 *
 * The roller's clock is the one history is told in (the t0 of its frames).
 * What the daemon knows of it is the last frame it had, and the value it
 * last gave with SET_TIME, each with the monotonic time it learned it: so
 * a jump of the wall clock moves neither, and neither does a session's end
 * (PROTOCOL.md, "Clocks"). Pure: callers pass the monotonic time in.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct
{
  int64_t frame_end_ms; /* the roller's time of its last frame's last sample */
  gint64 frame_mono_us; /* monotonic time that frame came; 0: none yet */
  gboolean unsynced;    /* that frame counts from the roller's boot */
  int64_t set_ms;       /* what SET_TIME last set the roller's clock to */
  gint64 set_mono_us;   /* monotonic time it was set; 0: not since we started */
  int64_t floor_ms;     /* the latest synced time of any frame seen; INT64_MIN: none */
} DrRollerClock;

void dr_roller_clock_init (DrRollerClock *clock);

/* A frame came at @mono_us whose last sample is at @end_ms (@synced: Unix
 * time, else time since the roller's boot). A history frame is older than
 * the clock's last frame: it only raises the floor. */
void dr_roller_clock_frame (DrRollerClock *clock, int64_t end_ms, gboolean synced, gint64 mono_us,
                            gboolean latest);

/* The roller's clock was set to @unix_ms at @mono_us. */
void dr_roller_clock_set (DrRollerClock *clock, int64_t unix_ms, gint64 mono_us);

/* The roller's clock at @mono_us: FALSE when nothing is known of it yet. */
gboolean dr_roller_clock_now (const DrRollerClock *clock, gint64 mono_us, int64_t *now_ms);

/* What SET_TIME sends: the wall clock, @wall_ms, unless that is not after
 * @floor_ms (the latest synced time of a frame the roller made): the
 * roller's clock is never set back behind its own history. */
int64_t dr_roller_clock_set_time_value (int64_t wall_ms, int64_t floor_ms);

G_END_DECLS
