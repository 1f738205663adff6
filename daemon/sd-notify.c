/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd-notify.c: READY=1, WATCHDOG=1 and STOPPING=1 through libsystemd.
 *
 * The watchdog is pinged from a GLib timeout on the default main context,
 * the one g_main_loop_run() in main.c turns: if that loop hangs (a
 * blocking call, a livelock), the pings stop and systemd restarts the
 * daemon. A thread would keep pinging a hung daemon, which is the point
 * of not using one.
 */
#include "sd-notify.h"

#include <systemd/sd-daemon.h>

static guint watchdog_id;
static guint64 watchdog_usec;

static void
notify (const char *state)
{
  int r = sd_notify (0, state);

  /* r == 0 means no $NOTIFY_SOCKET: not run by systemd, nothing to say. */
  if (r < 0)
    g_debug ("sd_notify(%s): %s", state, g_strerror (-r));
}

static gboolean
on_watchdog (gpointer user_data)
{
  notify ("WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

void
dr_sd_notify_ready (void)
{
  notify ("READY=1\nSTATUS=Serving org.dermaroll");

  if (watchdog_id != 0)
    return;
  /* sd_watchdog_enabled() checks $WATCHDOG_PID too, so a child that
   * inherited the environment does not ping for its parent. The
   * environment is kept: STOPPING=1 still needs $NOTIFY_SOCKET. */
  if (sd_watchdog_enabled (0, &watchdog_usec) <= 0 || watchdog_usec == 0)
    {
      watchdog_usec = 0;
      return;
    }
  /* Half the interval, as sd_watchdog_enabled(3) recommends, so one late
   * main loop iteration does not get the daemon killed. */
  watchdog_id = g_timeout_add_full (G_PRIORITY_DEFAULT, MAX (watchdog_usec / 2000, 1), on_watchdog,
                                    NULL, NULL);
  g_source_set_name_by_id (watchdog_id, "[dermaroll] systemd watchdog");
  g_debug ("systemd watchdog every %" G_GUINT64_FORMAT " ms", watchdog_usec / 2000);
  /* The first ping now, not half an interval after startup. */
  notify ("WATCHDOG=1");
}

void
dr_sd_notify_stopping (void)
{
  g_clear_handle_id (&watchdog_id, g_source_remove);
  notify ("STOPPING=1");
}

guint64
dr_sd_notify_get_watchdog_usec (void)
{
  return watchdog_usec;
}
