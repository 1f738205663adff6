/* daemon.h: dermarolld as a whole. Owns the configuration, the store
 * worker, the BlueZ client, the rollers and the D-Bus service, and wires
 * them so that a frame travels link → codec → engine → store + service.
 */
#pragma once

#include <gio/gio.h>

#include "bluez.h"
#include "engine-config.h"
#include "notifier.h"
#include "store-worker.h"
#include "dr-dbus.h"

G_BEGIN_DECLS

typedef struct _DrDaemon DrDaemon;
typedef struct _DrRoller DrRoller;

typedef struct
{
  char *db_path;      /* NULL: dr_store_default_path () */
  char *config_path;  /* NULL: no config file */
  gboolean system;    /* publish on the system bus */
  gboolean notify;    /* desktop notifications */
} DrDaemonOptions;

/* Opens the store and loads what it knows (synchronously: this runs before
 * the main loop). Errors name the file at fault. */
DrDaemon *dr_daemon_new (const DrDaemonOptions *options, GError **error);
void dr_daemon_free (DrDaemon *daemon);

/* Connects to the buses, exports the rollers it knows and claims
 * org.dermaroll; @loop is quit when the name is lost. */
gboolean dr_daemon_start (DrDaemon *daemon, GMainLoop *loop, GError **error);

/* What DrRoller and DrService need from the daemon. */
DrStoreWorker *dr_daemon_get_store (DrDaemon *daemon);
DrBluez *dr_daemon_get_bluez (DrDaemon *daemon);
DrNotifier *dr_daemon_get_notifier (DrDaemon *daemon);
DrEngineConfig *dr_daemon_get_config (DrDaemon *daemon);
GDBusObjectManagerServer *dr_daemon_get_object_manager (DrDaemon *daemon);
guint64 dr_daemon_next_session_id (DrDaemon *daemon);
int64_t dr_daemon_zone_last_treated (DrDaemon *daemon, int zone);
/* Revolutions the store knew for @head_id when the daemon started. */
double dr_daemon_head_revolutions (DrDaemon *daemon, guint32 head_id);
void dr_daemon_set_zone_last_treated (DrDaemon *daemon, int zone, int64_t time_ms);

DrRoller *dr_daemon_lookup_roller (DrDaemon *daemon, const char *address);
DrRoller *dr_daemon_lookup_roller_by_path (DrDaemon *daemon, const char *object_path);
DrRoller *dr_daemon_ensure_roller (DrDaemon *daemon, const char *address, const char *name);

gboolean dr_daemon_set_zone_excluded (DrDaemon *daemon, const char *zone, gboolean excluded, GError **error);
/* "forehead, left-cheek, ..." for messages that list the valid zones. */
char *dr_daemon_zone_names (DrDaemon *daemon);

G_END_DECLS
