/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-floor.c: the floor of the benchmark's memory row (scripts/bench).
 *
 * The least a daemon built like dermarolld can be: a GLib main loop that
 * has opened an SQLite database (WAL, one table, one row written), has
 * libsystemd linked and called, and owns a name on the session bus; then
 * it idles until SIGTERM. dermarolld's private dirty memory, started and
 * idle, is compared with this program's.
 *
 * bench-floor DB NAME */
#include <stdio.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <sqlite3.h>
#include <systemd/sd-daemon.h>

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
lost_cb (GDBusConnection *connection, const char *name, gpointer data)
{
  g_printerr ("bench-floor: could not own %s\n", name);
  g_main_loop_quit (data);
}

int
main (int argc, char **argv)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  sqlite3 *db = NULL;
  char *err = NULL;
  guint owner;

  if (argc != 3)
    {
      g_printerr ("usage: bench-floor DB NAME\n");
      return 2;
    }
  if (sqlite3_open_v2 (argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK
      || sqlite3_exec (db,
                       "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t (x INTEGER);"
                       "INSERT INTO t VALUES (1);",
                       NULL, NULL, &err)
             != SQLITE_OK)
    {
      g_printerr ("bench-floor: %s: %s\n", argv[1], err != NULL ? err : sqlite3_errmsg (db));
      return 1;
    }
  /* Not under systemd: a no-op, but libsystemd is loaded and relocated as
   * it is in the daemon. */
  sd_notify (0, "READY=1");
  owner = g_bus_own_name (G_BUS_TYPE_SESSION, argv[2], G_BUS_NAME_OWNER_FLAGS_NONE, NULL, NULL,
                          lost_cb, loop, NULL);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_main_loop_run (loop);
  g_bus_unown_name (owner);
  sqlite3_close (db);
  return 0;
}
