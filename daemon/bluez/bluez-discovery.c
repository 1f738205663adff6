/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bluez-discovery.c: LE discovery filtered on the roller service, on
 * every powered adapter, for as long as someone wants it.
 *
 * Two kinds of want are counted apart: a user's (StartDiscovery through
 * Manager1) and the links' holds (pairing a roller not seen yet), so that
 * neither stops the other's. Each adapter has its own session, started
 * when it is powered or appears while discovery is wanted, and forgotten
 * when it is powered off or removed (bluetoothd ends the session then).
 */
#include "bluez-discovery.h"

#include "bluez.h"
#include "dr-error.h"
#include "roller-protocol.h"

#define BLUEZ_BUS_NAME "org.bluez"
#define ADAPTER_IFACE "org.bluez.Adapter1"

typedef enum
{
  DISCOVERY_STARTING = 1,
  DISCOVERY_ACTIVE,
} DiscoveryState;

struct _DrBluezDiscovery
{
  GDBusConnection *connection;
  /* Cancelled in dr_bluez_discovery_free: the lifetime, for StartData. */
  GCancellable *cancellable;
  /* Cancelled (and replaced) when bluetoothd leaves: calls addressed to
   * the instance that is gone. */
  GCancellable *owner_cancellable;

  gboolean requested;   /* by dr_bluez_discovery_start */
  guint holds;          /* by links */
  GHashTable *adapters; /* adapter path → DiscoveryState */
};

typedef struct
{
  DrBluezDiscovery *d; /* touched only while @alive is not cancelled */
  GCancellable *alive; /* DrBluez's lifetime */
  guint pending;
  guint started;
  GError *error;
} StartData;

static void
start_data_free (StartData *data)
{
  g_clear_object (&data->alive);
  g_clear_error (&data->error);
  g_free (data);
}

typedef struct
{
  DrBluezDiscovery *d; /* only touched when the call was not cancelled */
  char *adapter_path;
  GTask *task; /* the dr_bluez_start_discovery call, or NULL */
} AdapterCall;

static void
adapter_call_free (AdapterCall *call)
{
  g_free (call->adapter_path);
  g_clear_object (&call->task);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AdapterCall, adapter_call_free)

static gboolean
discovery_wanted (DrBluezDiscovery *d)
{
  return d->requested || d->holds > 0;
}

static void
start_task_account (GTask *task, gboolean started, const GError *error)
{
  StartData *data;

  if (task == NULL)
    return;
  data = g_task_get_task_data (task);
  if (started)
    data->started++;
  else if (error != NULL && data->error == NULL)
    data->error = g_error_copy (error);
  if (--data->pending > 0)
    return;
  if (data->started > 0)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  /* Not discovering after all: say so, and do not start behind the
   * caller's back when an adapter shows up later. */
  if (!g_cancellable_is_cancelled (data->alive))
    data->d->requested = FALSE;
  if (data->error != NULL)
    g_task_return_new_error (task, DR_ERROR, dr_bluez_error_code (data->error, DR_ERROR_FAILED),
                             "Could not start discovery: %s", data->error->message);
  else
    g_task_return_new_error (task, DR_ERROR, DR_ERROR_NOT_FOUND, "No powered Bluetooth adapter");
}

static void adapter_stop_discovery (DrBluezDiscovery *d, const char *adapter_path, GTask *task);

static void
on_start_discovery_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (AdapterCall) call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *remote = NULL;
  DrBluezDiscovery *d;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      start_task_account (call->task, FALSE, error);
      return;
    }
  d = call->d;
  remote = error ? g_dbus_error_get_remote_error (error) : NULL;
  /* InProgress: this client already has a discovery session there. */
  if (error != NULL && g_strcmp0 (remote, "org.bluez.Error.InProgress") != 0)
    {
      g_message ("bluez: StartDiscovery on %s failed: %s", call->adapter_path, error->message);
      g_hash_table_remove (d->adapters, call->adapter_path);
      start_task_account (call->task, FALSE, error);
      return;
    }
  g_debug ("bluez: discovering on %s", call->adapter_path);
  g_hash_table_insert (d->adapters, g_strdup (call->adapter_path),
                       GINT_TO_POINTER (DISCOVERY_ACTIVE));
  start_task_account (call->task, TRUE, NULL);
  /* Stopped while the start was on its way. */
  if (!discovery_wanted (d))
    adapter_stop_discovery (d, call->adapter_path, NULL);
}

static void
on_set_discovery_filter_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AdapterCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      start_task_account (call->task, FALSE, error);
      adapter_call_free (call);
      return;
    }
  /* The filter only spares work: roller_seen checks the service itself,
   * so a bluetoothd refusing it still gets a plain discovery. */
  if (error != NULL)
    g_message ("bluez: SetDiscoveryFilter on %s failed: %s", call->adapter_path, error->message);
  g_dbus_connection_call (call->d->connection, BLUEZ_BUS_NAME, call->adapter_path, ADAPTER_IFACE,
                          "StartDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          call->d->owner_cancellable, on_start_discovery_done, call);
}

static void
adapter_start_discovery (DrBluezDiscovery *d, const char *adapter_path, GTask *task)
{
  GVariantBuilder filter;
  const char *uuids[] = { DR_UUID_ROLLER_SERVICE, NULL };
  AdapterCall *call;

  if (g_hash_table_contains (d->adapters, adapter_path))
    {
      start_task_account (task, TRUE, NULL);
      return;
    }
  g_debug ("bluez: starting discovery on %s", adapter_path);
  g_hash_table_insert (d->adapters, g_strdup (adapter_path), GINT_TO_POINTER (DISCOVERY_STARTING));

  call = g_new0 (AdapterCall, 1);
  call->d = d;
  call->adapter_path = g_strdup (adapter_path);
  call->task = task ? g_object_ref (task) : NULL;

  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&filter, "{sv}", "Transport", g_variant_new_string ("le"));
  g_variant_builder_add (&filter, "{sv}", "UUIDs", g_variant_new_strv (uuids, -1));
  g_dbus_connection_call (d->connection, BLUEZ_BUS_NAME, adapter_path, ADAPTER_IFACE,
                          "SetDiscoveryFilter", g_variant_new ("(a{sv})", &filter), NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, d->owner_cancellable,
                          on_set_discovery_filter_done, call);
}

static void
on_stop_discovery_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (AdapterCall) call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  /* Not being able to stop is not worth an error: bluetoothd drops the
   * session when we go away, and it may be gone already. */
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("bluez: StopDiscovery on %s: %s", call->adapter_path, error->message);
  if (call->task != NULL)
    {
      guint *pending = g_task_get_task_data (call->task);
      if (--*pending == 0)
        g_task_return_boolean (call->task, TRUE);
    }
}

static void
adapter_stop_discovery (DrBluezDiscovery *d, const char *adapter_path, GTask *task)
{
  AdapterCall *call = g_new0 (AdapterCall, 1);

  g_debug ("bluez: stopping discovery on %s", adapter_path);
  call->d = d;
  call->adapter_path = g_strdup (adapter_path);
  call->task = task ? g_object_ref (task) : NULL;
  g_hash_table_remove (d->adapters, adapter_path);
  g_dbus_connection_call (d->connection, BLUEZ_BUS_NAME, adapter_path, ADAPTER_IFACE,
                          "StopDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          d->owner_cancellable, on_stop_discovery_done, call);
}

/* Starts discovery on every adapter of @adapters (Adapter1 proxies) not
 * discovering yet; @task (if any) completes once every start is answered. */
static void
discovery_start_all (DrBluezDiscovery *d, GList *adapters, GTask *task)
{
  StartData *data = NULL;

  if (task != NULL)
    {
      data = g_new0 (StartData, 1);
      data->d = d;
      data->alive = g_object_ref (d->cancellable);
      /* One extra so that completion cannot happen inside the loop. */
      data->pending = g_list_length (adapters) + 1;
      g_task_set_task_data (task, data, (GDestroyNotify) start_data_free);
    }
  for (GList *l = adapters; l != NULL; l = l->next)
    adapter_start_discovery (d, g_dbus_proxy_get_object_path (l->data), task);
  if (task != NULL)
    {
      data->pending--;
      if (data->pending == 0)
        {
          data->pending = 1;
          start_task_account (task, FALSE, NULL);
        }
    }
}

static void
discovery_stop_all (DrBluezDiscovery *d, GTask *task)
{
  g_autofree gpointer *paths = NULL;
  guint n = 0;
  guint *pending = g_new0 (guint, 1);

  *pending = 1;
  if (task != NULL)
    g_task_set_task_data (task, pending, g_free);

  /* Only the active ones: a start still on its way stops itself when it
   * lands (on_start_discovery_done). */
  paths = g_hash_table_get_keys_as_array (d->adapters, &n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = g_strdup (paths[i]);
      if (GPOINTER_TO_INT (g_hash_table_lookup (d->adapters, path)) != DISCOVERY_ACTIVE)
        continue;
      if (task != NULL)
        (*pending)++;
      adapter_stop_discovery (d, path, task);
    }
  if (task != NULL)
    {
      if (--*pending == 0)
        g_task_return_boolean (task, TRUE);
    }
  else
    g_free (pending);
}

DrBluezDiscovery *
dr_bluez_discovery_new (GDBusConnection *connection)
{
  DrBluezDiscovery *d = g_new0 (DrBluezDiscovery, 1);

  d->connection = g_object_ref (connection);
  d->cancellable = g_cancellable_new ();
  d->owner_cancellable = g_cancellable_new ();
  d->adapters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return d;
}

void
dr_bluez_discovery_free (DrBluezDiscovery *d, gboolean tidy)
{
  if (d == NULL)
    return;
  g_cancellable_cancel (d->cancellable);
  g_cancellable_cancel (d->owner_cancellable);
  /* Tidy up on bluetoothd's side while the connection lives on (tests
   * reuse it); if it does not, bluetoothd does this for us. Nobody waits
   * for the answers. */
  if (tidy && !g_dbus_connection_is_closed (d->connection))
    {
      GHashTableIter iter;
      gpointer path;

      g_hash_table_iter_init (&iter, d->adapters);
      while (g_hash_table_iter_next (&iter, &path, NULL))
        g_dbus_connection_call (d->connection, BLUEZ_BUS_NAME, path, ADAPTER_IFACE, "StopDiscovery",
                                NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
    }
  g_clear_pointer (&d->adapters, g_hash_table_unref);
  g_clear_object (&d->cancellable);
  g_clear_object (&d->owner_cancellable);
  g_clear_object (&d->connection);
  g_free (d);
}

void
dr_bluez_discovery_bluetoothd_left (DrBluezDiscovery *d)
{
  /* Whatever we asked the old instance is moot. */
  g_cancellable_cancel (d->owner_cancellable);
  g_object_unref (d->owner_cancellable);
  d->owner_cancellable = g_cancellable_new ();
  g_hash_table_remove_all (d->adapters);
}

gboolean
dr_bluez_discovery_is_requested (DrBluezDiscovery *d)
{
  return d->requested;
}

void
dr_bluez_discovery_resume (DrBluezDiscovery *d, GList *adapters)
{
  if (discovery_wanted (d))
    discovery_start_all (d, adapters, NULL);
}

void
dr_bluez_discovery_start (DrBluezDiscovery *d, GList *adapters, GTask *task)
{
  /* Wanted from now on: adapters powered later join in. */
  d->requested = TRUE;
  discovery_start_all (d, adapters, task);
}

void
dr_bluez_discovery_stop (DrBluezDiscovery *d, GTask *task)
{
  d->requested = FALSE;
  if (discovery_wanted (d))
    {
      /* A link still pairs a roller it has not seen: it lets go itself. */
      g_task_return_boolean (task, TRUE);
      return;
    }
  discovery_stop_all (d, task);
}

void
dr_bluez_discovery_hold (DrBluezDiscovery *d, GList *adapters)
{
  if (d->holds++ == 0 && !d->requested)
    discovery_start_all (d, adapters, NULL);
}

void
dr_bluez_discovery_release (DrBluezDiscovery *d)
{
  g_return_if_fail (d->holds > 0);
  if (--d->holds == 0 && !d->requested)
    discovery_stop_all (d, NULL);
}

void
dr_bluez_discovery_adapter_powered (DrBluezDiscovery *d, const char *adapter_path)
{
  if (discovery_wanted (d))
    adapter_start_discovery (d, adapter_path, NULL);
}

void
dr_bluez_discovery_adapter_gone (DrBluezDiscovery *d, const char *adapter_path)
{
  g_hash_table_remove (d->adapters, adapter_path);
}
