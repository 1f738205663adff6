/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon.h: dermarolld as a whole. Owns the configuration, the store
 * worker, the BlueZ client, the rollers and the D-Bus service, and wires
 * them so that a frame travels link → codec → engine → store + service.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _DrDaemon DrDaemon;

typedef struct
{
  char *db_path;     /* NULL: dr_store_default_path () */
  char *config_path; /* NULL: no config file */
  gboolean system;   /* publish on the system bus */
  gboolean notify;   /* desktop notifications */
} DrDaemonOptions;

/* Opens the store and loads what it knows (synchronously: this runs before
 * the main loop). Errors name the file at fault. */
DrDaemon *dr_daemon_new (const DrDaemonOptions *options, GError **error);
void dr_daemon_free (DrDaemon *daemon);

/* Connects to the buses, exports the rollers it knows and claims
 * org.dermaroll; @loop is quit when the name is lost. */
gboolean dr_daemon_start (DrDaemon *daemon, GMainLoop *loop, GError **error);

G_END_DECLS
