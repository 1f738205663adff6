/* main.c: dermarolld's entry point: options, logging, signals, main loop. */
#include <glib-unix.h>
#include <glib.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>

#include "daemon.h"
#include "salvage.h"
#include "sd-notify.h"

/* dermarolld --salvage FILE: into --db (or the default database). */
static int
salvage (const char *damaged, const char *db_path, const char *config_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;
  g_autofree char *path = db_path ? g_strdup (db_path) : dr_store_default_path ();
  DrEngineConfig config;
  DrSalvageResult result;

  dr_engine_config_init_defaults (&config);
  if (config_path != NULL && !dr_engine_config_load_file (&config, config_path, &error))
    {
      g_printerr ("dermarolld: %s\n", error->message);
      return 1;
    }
  store = dr_store_open (path, &error);
  if (store == NULL || !dr_salvage (damaged, store, &config, &result, &error))
    {
      g_printerr ("dermarolld: salvage of %s failed: %s\n", damaged, error->message);
      return 1;
    }
  g_print ("salvaged %s into %s:\n"
           "  frames read: %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " new, %" G_GUINT64_FORMAT
           " already stored, %" G_GUINT64_FORMAT " malformed)\n"
           "  unreadable rows skipped: %" G_GUINT64_FORMAT "\n"
           "  sessions recomputed: %" G_GUINT64_FORMAT " (%u rollers)\n",
           damaged, path, result.frames_read, result.frames_stored,
           result.frames_read - result.frames_stored - result.frames_malformed,
           result.frames_malformed, result.unreadable, result.sessions, result.rollers);
  return 0;
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree char *db_path = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *salvage_path = NULL;
  gboolean system = FALSE, no_notify = FALSE, verbose = FALSE, version = FALSE;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path, "Database file (default: $STATE_DIRECTORY or $XDG_STATE_HOME/dermaroll/dermaroll.db)", "PATH" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { "system", 0, 0, G_OPTION_ARG_NONE, &system, "Publish org.dermaroll on the system bus", NULL },
    { "no-notify", 0, 0, G_OPTION_ARG_NONE, &no_notify, "No desktop notifications", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { "salvage", 0, 0, G_OPTION_ARG_FILENAME, &salvage_path, "Recover the readable frames of a damaged database FILE into --db, recompute their sessions, and exit", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  DrDaemonOptions options = { 0 };
  DrDaemon *daemon;

  setlocale (LC_ALL, "");
  /* Past a file-size limit a write must fail (the store reports it and the
   * roller keeps the frames), not kill the daemon. */
  signal (SIGXFSZ, SIG_IGN);
  context = g_option_context_new ("- smart derma roller daemon");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("dermarolld: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("dermarolld %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (verbose)
    g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);

  if (config_path == NULL)
    {
      g_autofree char *user = g_build_filename (g_get_user_config_dir (), "dermaroll", "dermaroll.conf", NULL);
      const char *sys = SYSCONFDIR "/dermaroll/dermaroll.conf";
      if (!system && g_file_test (user, G_FILE_TEST_EXISTS))
        config_path = g_steal_pointer (&user);
      else if (g_file_test (sys, G_FILE_TEST_EXISTS))
        config_path = g_strdup (sys);
    }

  if (salvage_path != NULL)
    return salvage (salvage_path, db_path, config_path);

  options.db_path = db_path;
  options.config_path = config_path;
  options.system = system;
  options.notify = !no_notify;

  daemon = dr_daemon_new (&options, &error);
  if (daemon == NULL)
    {
      g_printerr ("dermarolld: %s\n", error->message);
      return 1;
    }
  loop = g_main_loop_new (NULL, FALSE);
  if (!dr_daemon_start (daemon, loop, &error))
    {
      g_printerr ("dermarolld: %s\n", error->message);
      dr_daemon_free (daemon);
      return 1;
    }
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  /* Draining the store can take a moment: tell systemd we are on our way. */
  dr_sd_notify_stopping ();
  dr_daemon_free (daemon);
  return 0;
}
