/* service.c: the Manager1 object and the bus name.
 *
 * Handlers check their arguments, answer bad ones with registered errors
 * (InvalidArgument, NotFound) and hand real work to the daemon, the
 * rollers or the store worker, completing the invocation when that
 * finishes. Nothing here blocks.
 */
#include "service.h"

#include "bluez.h"
#include "daemon.h"
#include "dr-dbus.h"
#include "dr-error.h"
#include "roller.h"
#include "sd-notify.h"
#include "service-variants.h"
#include "store.h"

#define MANAGER_PATH "/org/dermaroll"
#define BUS_NAME "org.dermaroll"

struct _DrService
{
  DrDaemon *daemon;
  DrDBusManager1 *manager;
  GDBusObjectManagerServer *object_manager;
  GDBusConnection *connection;
  guint name_id;
  GCallback lost;
  gpointer lost_data;
};

static void
return_error (GDBusMethodInvocation *invocation, GError *error)
{
  g_dbus_method_invocation_return_gerror (invocation, error);
}

/* ---- discovery --------------------------------------------------------- */

typedef struct
{
  DrService *service;
  GDBusMethodInvocation *invocation;
} Call;

static Call *
call_new (DrService *service, GDBusMethodInvocation *invocation)
{
  Call *call = g_new (Call, 1);
  call->service = service;
  call->invocation = g_object_ref (invocation);
  return call;
}

static void
call_free (Call *call)
{
  g_object_unref (call->invocation);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

static void
start_discovery_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_bluez_start_discovery_finish (dr_daemon_get_bluez (call->service->daemon), result, &error))
    return return_error (call->invocation, error);
  dr_service_set_discovering (call->service, TRUE);
  dr_dbus_manager1_complete_start_discovery (call->service->manager, call->invocation);
}

static gboolean
handle_start_discovery (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, gpointer user_data)
{
  DrService *self = user_data;
  dr_bluez_start_discovery (dr_daemon_get_bluez (self->daemon), NULL, start_discovery_done,
                            call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
stop_discovery_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_bluez_stop_discovery_finish (dr_daemon_get_bluez (call->service->daemon), result, &error))
    return return_error (call->invocation, error);
  dr_service_set_discovering (call->service, FALSE);
  dr_dbus_manager1_complete_stop_discovery (call->service->manager, call->invocation);
}

static gboolean
handle_stop_discovery (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, gpointer user_data)
{
  DrService *self = user_data;
  dr_bluez_stop_discovery (dr_daemon_get_bluez (self->daemon), NULL, stop_discovery_done,
                           call_new (self, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- rollers ----------------------------------------------------------- */

static gboolean
handle_pair (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, const char *address, gpointer user_data)
{
  DrService *self = user_data;
  g_autofree char *upper = g_ascii_strup (address, -1);
  DrRoller *roller;

  if (!dr_bluez_address_is_valid (upper))
    {
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "\"%s\" is not a Bluetooth address; expected the "
                                             "form AA:BB:CC:DD:EE:FF",
                                             address);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  roller = dr_daemon_ensure_roller (self->daemon, upper, NULL);
  dr_roller_pair (roller, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_forget (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, const char *path, gpointer user_data)
{
  DrService *self = user_data;
  DrRoller *roller = dr_daemon_lookup_roller_by_path (self->daemon, path);

  if (roller == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_NOT_FOUND,
                                             "no roller at %s", path);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  dr_roller_forget (roller, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- queries, answered by the store worker ----------------------------- */

typedef struct
{
  int64_t since_ms;
  int64_t until_ms;
  guint64 session_id;
} QueryArgs;

static gpointer
query_list_sessions (DrStore *store, gpointer data, GError **error)
{
  QueryArgs *args = data;
  g_autoptr (GPtrArray) rows = dr_store_list_sessions (store, args->since_ms, args->until_ms, error);
  return rows ? dr_sessions_to_variant (rows) : NULL;
}

static gpointer
query_session_coverage (DrStore *store, gpointer data, GError **error)
{
  QueryArgs *args = data;
  g_autoptr (GPtrArray) rows = dr_store_session_coverage (store, args->session_id, error);
  return rows ? dr_coverage_to_variant (rows) : NULL;
}

static gpointer
query_session_events (DrStore *store, gpointer data, GError **error)
{
  QueryArgs *args = data;
  g_autoptr (GPtrArray) rows = dr_store_session_events (store, args->session_id, error);
  return rows ? dr_events_to_variant (rows) : NULL;
}

static gpointer
query_session_samples (DrStore *store, gpointer data, GError **error)
{
  QueryArgs *args = data;
  g_autoptr (GArray) rows = dr_store_session_samples (store, args->session_id, error);
  return rows ? dr_samples_to_variant (rows) : NULL;
}

static void
query_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  g_autoptr (GError) error = NULL;
  GVariant *value;

  value = dr_store_worker_query_finish (dr_daemon_get_store (call->service->daemon), result, &error);
  if (value == NULL)
    return return_error (call->invocation, error);
  g_dbus_method_invocation_return_value (call->invocation,
                                         g_variant_new_tuple (&value, 1));
}

static void
run_query (DrService *self, GDBusMethodInvocation *invocation, DrStoreQueryFunc func, QueryArgs *args)
{
  dr_store_worker_query (dr_daemon_get_store (self->daemon), func, g_memdup2 (args, sizeof *args),
                         g_free, NULL, query_done, call_new (self, invocation));
}

static gboolean
handle_list_sessions (DrDBusManager1 *manager,
                      GDBusMethodInvocation *invocation,
                      gint64 since_ms,
                      gint64 until_ms,
                      gpointer user_data)
{
  QueryArgs args = { .since_ms = since_ms, .until_ms = until_ms };

  if (until_ms != 0 && until_ms <= since_ms)
    {
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                             "until_ms (%" G_GINT64_FORMAT ") must be 0 or after "
                                             "since_ms (%" G_GINT64_FORMAT ")",
                                             until_ms, since_ms);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  run_query (user_data, invocation, query_list_sessions, &args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_session_coverage (DrDBusManager1 *manager,
                             GDBusMethodInvocation *invocation,
                             guint64 id,
                             gpointer user_data)
{
  QueryArgs args = { .session_id = id };
  run_query (user_data, invocation, query_session_coverage, &args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_session_events (DrDBusManager1 *manager,
                           GDBusMethodInvocation *invocation,
                           guint64 id,
                           gpointer user_data)
{
  QueryArgs args = { .session_id = id };
  run_query (user_data, invocation, query_session_events, &args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_session_samples (DrDBusManager1 *manager,
                            GDBusMethodInvocation *invocation,
                            guint64 id,
                            gpointer user_data)
{
  QueryArgs args = { .session_id = id };
  run_query (user_data, invocation, query_session_samples, &args);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- zones ------------------------------------------------------------- */

static gboolean
handle_get_zones (DrDBusManager1 *manager, GDBusMethodInvocation *invocation, gpointer user_data)
{
  DrService *self = user_data;
  const DrEngineConfig *config = dr_daemon_get_config (self->daemon);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ysddb)"));
  for (unsigned z = 0; z < config->n_zones; z++)
    {
      const DrZoneSpec *spec = &config->zones[z];
      if (spec->name[0] == '\0')
        continue;
      g_variant_builder_add (&builder, "(ysddb)", (guchar) z, spec->name, spec->area_cm2,
                             spec->target_passes, (gboolean) spec->excluded);
    }
  dr_dbus_manager1_complete_get_zones (manager, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_zone_excluded (DrDBusManager1 *manager,
                          GDBusMethodInvocation *invocation,
                          const char *zone,
                          gboolean excluded,
                          gpointer user_data)
{
  DrService *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_daemon_set_zone_excluded (self->daemon, zone, excluded, &error))
    return_error (invocation, error);
  else
    dr_dbus_manager1_complete_set_zone_excluded (manager, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- life cycle -------------------------------------------------------- */

DrService *
dr_service_new (DrDaemon *daemon)
{
  DrService *self = g_new0 (DrService, 1);

  self->daemon = daemon;
  self->object_manager = g_dbus_object_manager_server_new (MANAGER_PATH);
  self->manager = dr_dbus_manager1_skeleton_new ();
  dr_dbus_manager1_set_version (self->manager, PACKAGE_VERSION);
  dr_dbus_manager1_set_store_error (self->manager, "");
  g_signal_connect (self->manager, "handle-start-discovery", G_CALLBACK (handle_start_discovery), self);
  g_signal_connect (self->manager, "handle-stop-discovery", G_CALLBACK (handle_stop_discovery), self);
  g_signal_connect (self->manager, "handle-pair", G_CALLBACK (handle_pair), self);
  g_signal_connect (self->manager, "handle-forget", G_CALLBACK (handle_forget), self);
  g_signal_connect (self->manager, "handle-list-sessions", G_CALLBACK (handle_list_sessions), self);
  g_signal_connect (self->manager, "handle-get-session-coverage",
                    G_CALLBACK (handle_get_session_coverage), self);
  g_signal_connect (self->manager, "handle-get-session-events",
                    G_CALLBACK (handle_get_session_events), self);
  g_signal_connect (self->manager, "handle-get-session-samples",
                    G_CALLBACK (handle_get_session_samples), self);
  g_signal_connect (self->manager, "handle-get-zones", G_CALLBACK (handle_get_zones), self);
  g_signal_connect (self->manager, "handle-set-zone-excluded",
                    G_CALLBACK (handle_set_zone_excluded), self);
  return self;
}

GDBusObjectManagerServer *
dr_service_get_object_manager (DrService *self)
{
  return self->object_manager;
}

void
dr_service_set_discovering (DrService *self, gboolean discovering)
{
  dr_dbus_manager1_set_discovering (self->manager, discovering);
}

void
dr_service_set_store_error (DrService *self, const char *message)
{
  dr_dbus_manager1_set_store_error (self->manager, message);
}

static void
name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_info ("serving %s", name);
  /* Type=dbus units are ready when the name appears anyway; READY=1 also
   * starts the watchdog pings. */
  dr_sd_notify_ready ();
}

static void
name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  DrService *self = user_data;

  g_warning ("lost or could not own the bus name %s (is another dermarolld running?)", name);
  if (self->lost)
    ((void (*) (gpointer)) self->lost) (self->lost_data);
}

void
dr_service_start (DrService *self, GDBusConnection *connection, GCallback lost, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  self->connection = g_object_ref (connection);
  self->lost = lost;
  self->lost_data = user_data;
  g_dbus_object_manager_server_set_connection (self->object_manager, connection);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->manager), connection,
                                         MANAGER_PATH, &error))
    g_warning ("cannot export %s: %s", MANAGER_PATH, error->message);
  /* The objects are there before the name, so a client that sees the name
   * finds them. */
  self->name_id = g_bus_own_name_on_connection (connection, BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                                name_acquired, name_lost, self, NULL);
}

void
dr_service_free (DrService *self)
{
  g_clear_handle_id (&self->name_id, g_bus_unown_name);
  if (self->connection)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->manager));
  g_clear_object (&self->manager);
  g_clear_object (&self->object_manager);
  g_clear_object (&self->connection);
  g_free (self);
}
