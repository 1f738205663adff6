/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon.h: dermarolld as a whole. Owns the configuration, the store
 * worker, the BlueZ client, the rollers and the D-Bus service, and wires
 * them so that a frame travels link → codec → engine → store + service.
 */
#pragma once

#include <gio/gio.h>

#include "engine-config.h"
#include "notifier.h"

G_BEGIN_DECLS

typedef struct _DrDaemon DrDaemon;

typedef struct
{
  char *db_path;     /* NULL: dr_store_default_path () */
  char *config_path; /* NULL: no config file */
  gboolean system;   /* publish on the system bus */
  gboolean notify;   /* desktop notifications */

  /* A Pair's wait for a roller bluetoothd does not know, in seconds;
   * 0: the link's default (30 s). */
  guint discovery_timeout_s;
  /* The reconnect backoff's first step in ms; 0: the link's (1 s). */
  guint backoff_min_ms;
} DrDaemonOptions;

/* Reads the config file @path on top of @config and @notifier_options:
 * the engine's groups and [notifications]. On any problem both are left
 * as they were and @error (DR_ERROR_CONFIG) lists every problem, one a
 * line; warnings (unknown groups) are added to @warnings as strings.
 * A missing file is an error: it was named. */
gboolean dr_daemon_load_config (const char *path, DrEngineConfig *config,
                                DrNotifierOptions *notifier_options, GPtrArray *warnings,
                                GError **error);

/* Reads the config (a problem in it: DR_ERROR_CONFIG), opens the store and
 * loads what it knows (synchronously: this runs before the main loop).
 * Errors name the file at fault. */
DrDaemon *dr_daemon_new (const DrDaemonOptions *options, GError **error);
void dr_daemon_free (DrDaemon *daemon);

/* Connects to the buses, exports the rollers it knows and claims
 * org.dermaroll; @loop is quit when the name is lost. */
gboolean dr_daemon_start (DrDaemon *daemon, GMainLoop *loop, GError **error);
/* Whether the main loop ended because org.dermaroll was lost or could not
 * be owned: the daemon then exits with a failure, so that systemd and
 * D-Bus activation see that this instance did not serve. */
gboolean dr_daemon_lost_name (DrDaemon *daemon);

G_END_DECLS
