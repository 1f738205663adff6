/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c: dermarolld's entry point: options, logging, signals, main loop. */
#include <glib-unix.h>
#include <glib.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <sysexits.h>

#include "daemon.h"
#include "salvage.h"
#include "dr-error.h"
#include "sd-notify.h"

/* dermarolld --salvage FILE: into --db (or the default database). */
static int
salvage (const char *damaged, const char *db_path, const char *config_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;
  g_autofree char *path = db_path ? g_strdup (db_path) : dr_store_default_path ();
  DrEngineConfig config;
  DrNotifierOptions notifier_options;
  DrSalvageResult result;

  /* The daemon's own rules for the file, so a salvage recomputes sessions
   * exactly as the daemon would have. */
  dr_engine_config_init_defaults (&config);
  dr_notifier_options_init (&notifier_options);
  if (config_path != NULL
      && !dr_daemon_load_config (config_path, &config, &notifier_options, NULL, &error))
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

/* The file the daemon reads when none is named: the user's, else the
 * system's; NULL when neither exists (the built-in defaults). */
static char *
user_config_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "dermaroll", "dermaroll.conf", NULL);
}

static char *
default_config_path (gboolean system)
{
  g_autofree char *user = user_config_path ();
  const char *sys = SYSCONFDIR "/dermaroll/dermaroll.conf";

  if (!system && g_file_test (user, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&user);
  if (g_file_test (sys, G_FILE_TEST_EXISTS))
    return g_strdup (sys);
  return NULL;
}

/* --check-config: every problem and warning on stderr, a verdict on
 * stdout; EX_CONFIG when the daemon would refuse to start. */
static int
check_config (const char *path, gboolean system)
{
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  DrEngineConfig config;
  DrNotifierOptions notifier_options;
  gboolean ok;

  if (path == NULL)
    {
      g_autofree char *user = user_config_path ();

      g_print ("no config file (%s%s" SYSCONFDIR "/dermaroll/dermaroll.conf): the built-in "
               "defaults\n",
               system ? "" : user, system ? "" : " or ");
      return EXIT_SUCCESS;
    }
  dr_engine_config_init_defaults (&config);
  dr_notifier_options_init (&notifier_options);
  ok = dr_daemon_load_config (path, &config, &notifier_options, warnings, &error);
  for (guint i = 0; i < warnings->len; i++)
    g_printerr ("warning: %s\n", (const char *) g_ptr_array_index (warnings, i));
  if (!ok)
    {
      g_printerr ("%s\n", error->message);
      g_print ("%s: the daemon would refuse to start with this file\n", path);
      return EX_CONFIG;
    }
  g_print ("%s: OK%s\n", path, warnings->len ? " (with warnings)" : "");
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  g_autofree char *db_path = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *salvage_path = NULL;
  gboolean system = FALSE, no_notify = FALSE, verbose = FALSE, version = FALSE;
  gboolean check = FALSE;
  const GOptionEntry entries[]
      = { { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path,
            "Database file (default: $STATE_DIRECTORY or $XDG_STATE_HOME/dermaroll/dermaroll.db)",
            "PATH" },
          { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
          { "check-config", 0, 0, G_OPTION_ARG_NONE, &check,
            "Check the configuration file, list every problem and exit (0: fine, 78: the daemon "
            "would refuse it)",
            NULL },
          { "system", 0, 0, G_OPTION_ARG_NONE, &system, "Publish org.dermaroll on the system bus",
            NULL },
          { "no-notify", 0, 0, G_OPTION_ARG_NONE, &no_notify, "No desktop notifications", NULL },
          { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
          { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
          { "salvage", 0, 0, G_OPTION_ARG_FILENAME, &salvage_path,
            "Recover the readable frames of a damaged database FILE into --db, recompute their "
            "sessions, and exit",
            "FILE" },
          { NULL } };
  /* For tests: a Pair of an address nobody answers fails in seconds, not
   * 30, and a hundred link drops fit in a run. */
  int discovery_timeout_s = 0, backoff_min_ms = 0;
  const GOptionEntry test_entries[]
      = { { "discovery-timeout", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &discovery_timeout_s,
            "How long a Pair looks for a roller bluetoothd does not know (default 30 s)",
            "SECONDS" },
          { "backoff-min-ms", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &backoff_min_ms,
            "The reconnect backoff's first step (default 1000 ms)", "MS" },
          { NULL } };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  DrDaemonOptions options = { 0 };
  DrDaemon *daemon;

  setlocale (LC_ALL, "");
  /* Past a file-size limit a write must fail (the store reports it and the
   * roller keeps the frames), not kill the daemon. */
  signal (SIGXFSZ, SIG_IGN);
  /* An export whose reader closes its pipe early gets EPIPE, and stops;
   * the daemon goes on. */
  signal (SIGPIPE, SIG_IGN);
  context = g_option_context_new ("- smart derma roller daemon");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context, test_entries, NULL);
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
    config_path = default_config_path (system);
  if (check)
    return check_config (config_path, system);

  if (salvage_path != NULL)
    return salvage (salvage_path, db_path, config_path);

  options.db_path = db_path;
  options.config_path = config_path;
  options.system = system;
  options.notify = !no_notify;
  if (discovery_timeout_s < 0 || discovery_timeout_s > 3600)
    {
      g_printerr ("dermarolld: --discovery-timeout must be 1..3600 seconds\n");
      return 2;
    }
  options.discovery_timeout_s = (guint) discovery_timeout_s;
  if (backoff_min_ms < 0 || backoff_min_ms > 60000)
    {
      g_printerr ("dermarolld: --backoff-min-ms must be 1..60000\n");
      return 2;
    }
  options.backoff_min_ms = (guint) backoff_min_ms;

  daemon = dr_daemon_new (&options, &error);
  if (daemon == NULL && g_error_matches (error, DR_ERROR, DR_ERROR_CONFIG))
    {
      /* EX_CONFIG: systemd's unit does not restart on it, and dermarollctl
       * tells the user to run --check-config when activation fails so. */
      g_printerr ("dermarolld: refusing to start: %s has errors:\n%s\n"
                  "dermarolld: check it with: dermarolld --check-config --config %s\n",
                  config_path, error->message, config_path);
      return EX_CONFIG;
    }
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
  if (dr_daemon_lost_name (daemon))
    {
      g_printerr ("dermarolld: could not own or lost the bus name org.dermaroll\n");
      dr_daemon_free (daemon);
      return EXIT_FAILURE;
    }
  dr_daemon_free (daemon);
  return 0;
}
