/* bluez.c: DrBluez, dermarolld's view of bluetoothd through its D-Bus API.
 *
 * One GDBusObjectManagerClient on org.bluez follows everything: the name
 * owner (bluetoothd leaving and coming back), adapters and devices being
 * added and removed, and every PropertiesChanged (Device1, Adapter1,
 * GattCharacteristic1). Nothing here remembers an object path beyond the
 * object manager's own map: devices are found by Address each time, so an
 * adapter that comes back as another hciN is simply another path.
 *
 * Also here: the NoInputNoOutput Agent1 for the roller's Just Works
 * pairing (registered each time bluetoothd appears), LE discovery filtered
 * on the roller service, and logind's PrepareForSleep (links are gone after
 * resume). Every call is asynchronous; no timer runs.
 */
#include "bluez.h"

#include "dr-error.h"
#include "roller-protocol.h"

#include <string.h>

#define BLUEZ_BUS_NAME "org.bluez"
#define ADAPTER_IFACE "org.bluez.Adapter1"
#define DEVICE_IFACE "org.bluez.Device1"
#define GATT_CHAR_IFACE "org.bluez.GattCharacteristic1"
#define AGENT_MANAGER_IFACE "org.bluez.AgentManager1"
#define AGENT_MANAGER_PATH "/org/bluez"
#define AGENT_IFACE "org.bluez.Agent1"
#define AGENT_PATH "/org/dermaroll/agent"
#define AGENT_CAPABILITY "NoInputNoOutput"
#define BLUEZ_ERROR_REJECTED "org.bluez.Error.Rejected"

#define LOGIND_BUS_NAME "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_MANAGER_IFACE "org.freedesktop.login1.Manager"

typedef enum
{
  DISCOVERY_STARTING = 1,
  DISCOVERY_ACTIVE,
} DiscoveryState;

struct _DrBluez
{
  GObject parent_instance;

  GDBusConnection *connection;

  /* Cancelled in dispose: everything in flight. */
  GCancellable *cancellable;
  /* Cancelled (and replaced) when bluetoothd leaves: calls addressed to
   * the instance that is gone. */
  GCancellable *owner_cancellable;

  GDBusObjectManager *manager; /* NULL until the async creation is done */
  gboolean ready;              /* that creation is done, for better or worse */
  GPtrArray *pending_starts;   /* GTask: start_discovery calls made before */
  char *name_owner;            /* unique name of bluetoothd, or NULL */
  gboolean available;          /* name owner and a powered adapter */

  guint agent_registration_id;
  gboolean agent_pending; /* RegisterAgent sent, not answered yet */
  guint sleep_subscription_id;

  gboolean discovery_requested; /* by dr_bluez_start_discovery */
  guint discovery_holds;        /* by links */
  GHashTable *discovery;        /* adapter path → DiscoveryState */

  GHashTable *pairing; /* addresses the agent says yes for */
};

G_DEFINE_TYPE (DrBluez, dr_bluez, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONNECTION,
  PROP_AVAILABLE,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  ROLLER_SEEN,
  RESUMED,
  AGENT_READY,
  DEVICE_EVENT,
  VALUE_CHANGED,
  CHARACTERISTIC_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- small helpers ------------------------------------------------------ */

static gboolean
cached_boolean (GDBusProxy *proxy, const char *name)
{
  g_autoptr (GVariant) v = g_dbus_proxy_get_cached_property (proxy, name);
  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN) && g_variant_get_boolean (v);
}

static char *
cached_string (GDBusProxy *proxy, const char *name)
{
  g_autoptr (GVariant) v = g_dbus_proxy_get_cached_property (proxy, name);
  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
    return NULL;
  return g_variant_dup_string (v, NULL);
}

static gboolean
device_is_roller (GDBusProxy *device)
{
  g_autoptr (GVariant) uuids = g_dbus_proxy_get_cached_property (device, "UUIDs");
  g_autoptr (GVariant) service_data = g_dbus_proxy_get_cached_property (device, "ServiceData");

  if (uuids != NULL && g_variant_is_of_type (uuids, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_autofree const char **strv = g_variant_get_strv (uuids, NULL);
      for (gsize i = 0; strv[i] != NULL; i++)
        if (g_ascii_strcasecmp (strv[i], DR_UUID_ROLLER_SERVICE) == 0)
          return TRUE;
    }
  if (service_data != NULL && g_variant_is_of_type (service_data, G_VARIANT_TYPE_VARDICT))
    {
      GVariantIter iter;
      const char *key;
      g_variant_iter_init (&iter, service_data);
      while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
        if (g_ascii_strcasecmp (key, DR_UUID_ROLLER_SERVICE) == 0)
          return TRUE;
    }
  return FALSE;
}

gboolean
dr_bluez_address_is_valid (const char *address)
{
  if (address == NULL || strlen (address) != 17)
    return FALSE;
  for (int i = 0; i < 17; i++)
    {
      char c = address[i];
      if (i % 3 == 2)
        {
          if (c != ':')
            return FALSE;
        }
      else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
        return FALSE;
    }
  return TRUE;
}

DrError
dr_bluez_error_code (const GError *error, DrError fallback)
{
  g_autofree char *remote = NULL;

  if (error == NULL)
    return fallback;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT)
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT))
    return DR_ERROR_TIMED_OUT;
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
    return DR_ERROR_NOT_SUPPORTED;
  remote = g_dbus_error_get_remote_error (error);
  if (remote == NULL)
    return fallback;
  if (g_str_equal (remote, "org.bluez.Error.NotSupported"))
    return DR_ERROR_NOT_SUPPORTED;
  if (g_str_equal (remote, "org.bluez.Error.NotAuthorized")
      || g_str_equal (remote, "org.bluez.Error.NotPermitted")
      || g_str_equal (remote, BLUEZ_ERROR_REJECTED))
    return DR_ERROR_REFUSED;
  if (g_str_equal (remote, "org.bluez.Error.InProgress"))
    return DR_ERROR_IN_PROGRESS;
  if (g_str_equal (remote, "org.bluez.Error.NotReady")
      || g_str_equal (remote, "org.bluez.Error.NotConnected"))
    return DR_ERROR_NOT_CONNECTED;
  return fallback;
}

/* ---- pairing permission ------------------------------------------------ */

void
dr_bluez_set_pairing (DrBluez *bluez, const char *address, gboolean pairing)
{
  g_return_if_fail (DR_IS_BLUEZ (bluez));
  g_return_if_fail (address != NULL);

  if (pairing)
    g_hash_table_add (bluez->pairing, g_ascii_strup (address, -1));
  else
    {
      g_autofree char *key = g_ascii_strup (address, -1);
      g_hash_table_remove (bluez->pairing, key);
    }
}

static gboolean
address_is_pairing (DrBluez *bluez, const char *address)
{
  g_autofree char *key = NULL;

  if (address == NULL)
    return FALSE;
  key = g_ascii_strup (address, -1);
  return g_hash_table_contains (bluez->pairing, key);
}

/* A device was added, removed (@device NULL) or changed: for the links
 * following @address (the detail). A quark that does not exist yet has no
 * handler connected to it, so no quark is made for every passing device. */
static void
emit_device_event (DrBluez *bluez, const char *path, GDBusProxy *device, const char *address,
                   GVariant *changed)
{
  g_autofree char *key = NULL;

  if (address == NULL)
    return;
  key = g_ascii_strup (address, -1);
  g_signal_emit (bluez, signals[DEVICE_EVENT], g_quark_try_string (key), path, device, changed);
}

/* ---- availability ------------------------------------------------------- */

GDBusProxy *
dr_bluez_get_proxy (DrBluez *bluez, const char *path, const char *iface)
{
  if (bluez->manager == NULL || path == NULL)
    return NULL;
  return G_DBUS_PROXY (g_dbus_object_manager_get_interface (bluez->manager, path, iface));
}

static GList *
powered_adapters (DrBluez *bluez)
{
  GList *objects, *adapters = NULL;

  if (bluez->manager == NULL)
    return NULL;
  objects = g_dbus_object_manager_get_objects (bluez->manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      GDBusInterface *iface = g_dbus_object_get_interface (l->data, ADAPTER_IFACE);
      if (iface == NULL)
        continue;
      if (cached_boolean (G_DBUS_PROXY (iface), "Powered"))
        adapters = g_list_prepend (adapters, iface);
      else
        g_object_unref (iface);
    }
  g_list_free_full (objects, g_object_unref);
  return g_list_reverse (adapters);
}

static void
update_available (DrBluez *bluez)
{
  GList *adapters = bluez->name_owner ? powered_adapters (bluez) : NULL;
  gboolean available = adapters != NULL;

  g_list_free_full (adapters, g_object_unref);
  if (available == bluez->available)
    return;
  bluez->available = available;
  g_debug ("bluez: %s", available ? "available (bluetoothd and a powered adapter)"
                                  : "not available (no bluetoothd or no powered adapter)");
  g_object_notify_by_pspec (G_OBJECT (bluez), props[PROP_AVAILABLE]);
}

gboolean
dr_bluez_is_available (DrBluez *bluez)
{
  return bluez->available;
}

gboolean
dr_bluez_is_ready (DrBluez *bluez)
{
  return bluez->ready;
}

GDBusConnection *
dr_bluez_get_connection (DrBluez *bluez)
{
  return bluez->connection;
}

/* ---- discovery ---------------------------------------------------------- */

typedef struct
{
  DrBluez *bluez;      /* touched only while @alive is not cancelled */
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
  DrBluez *bluez; /* only touched when the call was not cancelled */
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
discovery_wanted (DrBluez *bluez)
{
  return bluez->discovery_requested || bluez->discovery_holds > 0;
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
    data->bluez->discovery_requested = FALSE;
  if (data->error != NULL)
    g_task_return_new_error (task, DR_ERROR, dr_bluez_error_code (data->error, DR_ERROR_FAILED),
                             "Could not start discovery: %s", data->error->message);
  else
    g_task_return_new_error (task, DR_ERROR, DR_ERROR_NOT_FOUND, "No powered Bluetooth adapter");
}

static void adapter_stop_discovery (DrBluez *bluez, const char *adapter_path, GTask *task);

static void
on_start_discovery_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (AdapterCall) call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *remote = NULL;
  DrBluez *bluez;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      start_task_account (call->task, FALSE, error);
      return;
    }
  bluez = call->bluez;
  remote = error ? g_dbus_error_get_remote_error (error) : NULL;
  /* InProgress: this client already has a discovery session there. */
  if (error != NULL && g_strcmp0 (remote, "org.bluez.Error.InProgress") != 0)
    {
      g_message ("bluez: StartDiscovery on %s failed: %s", call->adapter_path, error->message);
      g_hash_table_remove (bluez->discovery, call->adapter_path);
      start_task_account (call->task, FALSE, error);
      return;
    }
  g_debug ("bluez: discovering on %s", call->adapter_path);
  g_hash_table_insert (bluez->discovery, g_strdup (call->adapter_path),
                       GINT_TO_POINTER (DISCOVERY_ACTIVE));
  start_task_account (call->task, TRUE, NULL);
  /* Stopped while the start was on its way. */
  if (!discovery_wanted (bluez))
    adapter_stop_discovery (bluez, call->adapter_path, NULL);
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
  g_dbus_connection_call (call->bluez->connection, BLUEZ_BUS_NAME, call->adapter_path,
                          ADAPTER_IFACE, "StartDiscovery", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, call->bluez->owner_cancellable,
                          on_start_discovery_done, call);
}

static void
adapter_start_discovery (DrBluez *bluez, const char *adapter_path, GTask *task)
{
  GVariantBuilder filter;
  const char *uuids[] = { DR_UUID_ROLLER_SERVICE, NULL };
  AdapterCall *call;

  if (g_hash_table_contains (bluez->discovery, adapter_path))
    {
      start_task_account (task, TRUE, NULL);
      return;
    }
  g_debug ("bluez: starting discovery on %s", adapter_path);
  g_hash_table_insert (bluez->discovery, g_strdup (adapter_path),
                       GINT_TO_POINTER (DISCOVERY_STARTING));

  call = g_new0 (AdapterCall, 1);
  call->bluez = bluez;
  call->adapter_path = g_strdup (adapter_path);
  call->task = task ? g_object_ref (task) : NULL;

  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&filter, "{sv}", "Transport", g_variant_new_string ("le"));
  g_variant_builder_add (&filter, "{sv}", "UUIDs", g_variant_new_strv (uuids, -1));
  g_dbus_connection_call (bluez->connection, BLUEZ_BUS_NAME, adapter_path, ADAPTER_IFACE,
                          "SetDiscoveryFilter", g_variant_new ("(a{sv})", &filter), NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, bluez->owner_cancellable,
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
adapter_stop_discovery (DrBluez *bluez, const char *adapter_path, GTask *task)
{
  AdapterCall *call = g_new0 (AdapterCall, 1);

  g_debug ("bluez: stopping discovery on %s", adapter_path);
  call->bluez = bluez;
  call->adapter_path = g_strdup (adapter_path);
  call->task = task ? g_object_ref (task) : NULL;
  g_hash_table_remove (bluez->discovery, adapter_path);
  g_dbus_connection_call (bluez->connection, BLUEZ_BUS_NAME, adapter_path, ADAPTER_IFACE,
                          "StopDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          bluez->owner_cancellable, on_stop_discovery_done, call);
}

/* Starts discovery on every powered adapter not discovering yet; @task (if
 * any) completes once every start is answered. */
static void
discovery_start_all (DrBluez *bluez, GTask *task)
{
  GList *adapters = bluez->name_owner ? powered_adapters (bluez) : NULL;
  StartData *data = NULL;

  if (task != NULL)
    {
      data = g_new0 (StartData, 1);
      data->bluez = bluez;
      data->alive = g_object_ref (bluez->cancellable);
      /* One extra so that completion cannot happen inside the loop. */
      data->pending = g_list_length (adapters) + 1;
      g_task_set_task_data (task, data, (GDestroyNotify) start_data_free);
    }
  for (GList *l = adapters; l != NULL; l = l->next)
    adapter_start_discovery (bluez, g_dbus_proxy_get_object_path (l->data), task);
  g_list_free_full (adapters, g_object_unref);
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
discovery_stop_all (DrBluez *bluez, GTask *task)
{
  g_autofree gpointer *paths = NULL;
  guint n = 0;
  guint *pending = g_new0 (guint, 1);

  *pending = 1;
  if (task != NULL)
    g_task_set_task_data (task, pending, g_free);

  /* Only the active ones: a start still on its way stops itself when it
   * lands (on_start_discovery_done). */
  paths = g_hash_table_get_keys_as_array (bluez->discovery, &n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *path = g_strdup (paths[i]);
      if (GPOINTER_TO_INT (g_hash_table_lookup (bluez->discovery, path)) != DISCOVERY_ACTIVE)
        continue;
      if (task != NULL)
        (*pending)++;
      adapter_stop_discovery (bluez, path, task);
    }
  if (task != NULL)
    {
      if (--*pending == 0)
        g_task_return_boolean (task, TRUE);
    }
  else
    g_free (pending);
}

/* A dr_bluez_start_discovery call once we know what is there (at once,
 * or from bluez_set_ready). */
static void
start_discovery_ready (DrBluez *bluez, GTask *task)
{
  if (!bluez->available)
    {
      g_task_return_new_error (task, DR_ERROR, DR_ERROR_NOT_FOUND,
                               "No powered Bluetooth adapter (is bluetoothd running?)");
      return;
    }
  /* Wanted from now on: adapters powered later join in. */
  bluez->discovery_requested = TRUE;
  discovery_start_all (bluez, task);
}

void
dr_bluez_start_discovery (DrBluez *bluez, GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (DR_IS_BLUEZ (bluez));
  task = g_task_new (bluez, cancellable, callback, user_data);
  g_task_set_source_tag (task, dr_bluez_start_discovery);
  if (!bluez->ready)
    {
      /* Right after start-up: answer once we know what is there. */
      g_ptr_array_add (bluez->pending_starts, g_steal_pointer (&task));
      return;
    }
  start_discovery_ready (bluez, task);
}

gboolean
dr_bluez_start_discovery_finish (DrBluez *bluez, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, bluez), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
dr_bluez_stop_discovery (DrBluez *bluez, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (DR_IS_BLUEZ (bluez));
  task = g_task_new (bluez, cancellable, callback, user_data);
  g_task_set_source_tag (task, dr_bluez_stop_discovery);
  bluez->discovery_requested = FALSE;
  if (discovery_wanted (bluez))
    {
      /* A link still pairs a roller it has not seen: it lets go itself. */
      g_task_return_boolean (task, TRUE);
      return;
    }
  discovery_stop_all (bluez, task);
}

gboolean
dr_bluez_stop_discovery_finish (DrBluez *bluez, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, bluez), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
dr_bluez_is_discovering (DrBluez *bluez)
{
  return bluez->discovery_requested;
}

void
dr_bluez_hold_discovery (DrBluez *bluez)
{
  if (bluez->discovery_holds++ == 0 && !bluez->discovery_requested)
    discovery_start_all (bluez, NULL);
}

void
dr_bluez_release_discovery (DrBluez *bluez)
{
  g_return_if_fail (bluez->discovery_holds > 0);
  if (--bluez->discovery_holds == 0 && !bluez->discovery_requested)
    discovery_stop_all (bluez, NULL);
}

/* ---- agent -------------------------------------------------------------- */

static const char agent_xml[] = "<node>"
                                "  <interface name='org.bluez.Agent1'>"
                                "    <method name='Release'/>"
                                "    <method name='RequestPinCode'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='s' name='pincode' direction='out'/>"
                                "    </method>"
                                "    <method name='DisplayPinCode'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='s' name='pincode' direction='in'/>"
                                "    </method>"
                                "    <method name='RequestPasskey'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='u' name='passkey' direction='out'/>"
                                "    </method>"
                                "    <method name='DisplayPasskey'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='u' name='passkey' direction='in'/>"
                                "      <arg type='q' name='entered' direction='in'/>"
                                "    </method>"
                                "    <method name='RequestConfirmation'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='u' name='passkey' direction='in'/>"
                                "    </method>"
                                "    <method name='RequestAuthorization'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "    </method>"
                                "    <method name='AuthorizeService'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='s' name='uuid' direction='in'/>"
                                "    </method>"
                                "    <method name='Cancel'/>"
                                "  </interface>"
                                "</node>";

/* Just Works only for a roller we are pairing right now: should bluetoothd
 * ever ask us about another device, saying yes to whatever asks would let
 * any device in range (one merely advertising the roller service included)
 * pair itself with the computer. */
static gboolean
agent_device_is_ours (DrBluez *bluez, const char *device_path)
{
  g_autoptr (GDBusProxy) device = dr_bluez_get_proxy (bluez, device_path, DEVICE_IFACE);
  g_autofree char *address = NULL;

  if (device == NULL)
    return FALSE;
  address = cached_string (device, "Address");
  return address_is_pairing (bluez, address);
}

static void
agent_method_call (GDBusConnection *connection, const char *sender, const char *object_path,
                   const char *interface_name, const char *method_name, GVariant *parameters,
                   GDBusMethodInvocation *invocation, gpointer user_data)
{
  DrBluez *bluez = user_data;
  g_autofree char *device = NULL;

  /* The agent answers bluetoothd only; anyone else on the bus could
   * otherwise make us approve a pairing. */
  if (bluez->name_owner == NULL || g_strcmp0 (sender, bluez->name_owner) != 0)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, BLUEZ_ERROR_REJECTED,
                                                  "Only bluetoothd may call this agent");
      return;
    }
  if (g_variant_n_children (parameters) > 0)
    {
      g_autoptr (GVariant) first = g_variant_get_child_value (parameters, 0);
      if (g_variant_is_of_type (first, G_VARIANT_TYPE_OBJECT_PATH))
        device = g_variant_dup_string (first, NULL);
    }

  g_debug ("agent: %s(%s)", method_name, device ? device : "");

  if (g_str_equal (method_name, "Release") || g_str_equal (method_name, "Cancel")
      || g_str_equal (method_name, "DisplayPinCode") || g_str_equal (method_name, "DisplayPasskey"))
    {
      /* Nothing to show: the roller has no display and neither do we. */
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "RequestPinCode")
           || g_str_equal (method_name, "RequestPasskey"))
    {
      /* NoInputNoOutput: a roller never asks; nothing else gets a code. */
      g_dbus_method_invocation_return_dbus_error (invocation, BLUEZ_ERROR_REJECTED,
                                                  "dermaroll has no input for a code");
    }
  else if (g_str_equal (method_name, "RequestConfirmation")
           || g_str_equal (method_name, "RequestAuthorization")
           || g_str_equal (method_name, "AuthorizeService"))
    {
      if (agent_device_is_ours (bluez, device))
        g_dbus_method_invocation_return_value (invocation, NULL);
      else
        g_dbus_method_invocation_return_dbus_error (invocation, BLUEZ_ERROR_REJECTED,
                                                    "Not a dermaroll roller");
    }
  else
    g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                           "Unknown method %s", method_name);
}

static const GDBusInterfaceVTable agent_vtable = { agent_method_call, NULL, NULL, { 0 } };

typedef struct
{
  DrBluez *bluez; /* touched only when the call was not cancelled */
  GDBusConnection *connection;
  GCancellable *cancellable;
} AgentCall;

static void
agent_call_free (AgentCall *call)
{
  g_object_unref (call->connection);
  g_object_unref (call->cancellable);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentCall, agent_call_free)

/* Registered or not, pairing may go ahead now: without our agent it
 * still works with the system's default one, if there is one. */
static void
agent_settled (DrBluez *bluez)
{
  if (!bluez->agent_pending)
    return;
  bluez->agent_pending = FALSE;
  g_signal_emit (bluez, signals[AGENT_READY], 0);
}

static void
on_register_agent_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (AgentCall) call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *remote = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  remote = error ? g_dbus_error_get_remote_error (error) : NULL;
  if (error != NULL && g_strcmp0 (remote, "org.bluez.Error.AlreadyExists") != 0)
    {
      g_warning ("agent: RegisterAgent failed, pairing will need another agent: %s",
                 error->message);
      agent_settled (call->bluez);
      return;
    }
  /* Registered, not made the default agent: BlueZ asks the agent of the
   * client that called Pair, which is us for the roller, while a desktop's
   * own default agent keeps pairing everything else. */
  g_debug ("agent: registered at %s (%s)", AGENT_PATH, AGENT_CAPABILITY);
  agent_settled (call->bluez);
}

static void
register_agent (DrBluez *bluez)
{
  AgentCall *call;

  if (bluez->agent_registration_id == 0)
    return;
  bluez->agent_pending = TRUE;
  call = g_new0 (AgentCall, 1);
  call->bluez = bluez;
  call->connection = g_object_ref (bluez->connection);
  call->cancellable = g_object_ref (bluez->owner_cancellable);
  g_dbus_connection_call (
      bluez->connection, BLUEZ_BUS_NAME, AGENT_MANAGER_PATH, AGENT_MANAGER_IFACE, "RegisterAgent",
      g_variant_new ("(os)", AGENT_PATH, AGENT_CAPABILITY), NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
      -1, call->cancellable, on_register_agent_done, call);
}

gboolean
dr_bluez_agent_pending (DrBluez *bluez)
{
  return bluez->agent_pending;
}

/* ---- object manager events ---------------------------------------------- */

static void
report_roller_seen (DrBluez *bluez, GDBusProxy *device)
{
  g_autofree char *address = NULL;
  g_autofree char *name = NULL;
  g_autoptr (GVariant) rssi = NULL;

  if (!device_is_roller (device))
    return;
  address = cached_string (device, "Address");
  if (address == NULL)
    return;
  name = cached_string (device, "Alias");
  if (name == NULL)
    name = cached_string (device, "Name");
  rssi = g_dbus_proxy_get_cached_property (device, "RSSI");
  g_signal_emit (
      bluez, signals[ROLLER_SEEN], 0, address, name ? name : "",
      rssi && g_variant_is_of_type (rssi, G_VARIANT_TYPE_INT16) ? (int) g_variant_get_int16 (rssi) : 0);
}

static void
interface_added (DrBluez *bluez, GDBusObject *object, GDBusInterface *iface)
{
  GDBusProxy *proxy = G_DBUS_PROXY (iface);
  const char *name = g_dbus_proxy_get_interface_name (proxy);
  const char *path = g_dbus_object_get_object_path (object);

  if (g_str_equal (name, ADAPTER_IFACE))
    {
      g_debug ("bluez: adapter %s added (powered: %d)", path, cached_boolean (proxy, "Powered"));
      update_available (bluez);
      if (discovery_wanted (bluez) && bluez->name_owner != NULL
          && cached_boolean (proxy, "Powered"))
        adapter_start_discovery (bluez, path, NULL);
    }
  else if (g_str_equal (name, DEVICE_IFACE))
    {
      g_autofree char *address = cached_string (proxy, "Address");
      g_debug ("bluez: device %s added (%s)", path, address ? address : "?");
      report_roller_seen (bluez, proxy);
      emit_device_event (bluez, path, proxy, address, NULL);
    }
}

static void
interface_removed (DrBluez *bluez, GDBusObject *object, GDBusInterface *iface)
{
  GDBusProxy *proxy = G_DBUS_PROXY (iface);
  const char *name = g_dbus_proxy_get_interface_name (proxy);
  const char *path = g_dbus_object_get_object_path (object);

  if (g_str_equal (name, ADAPTER_IFACE))
    {
      g_debug ("bluez: adapter %s removed", path);
      g_hash_table_remove (bluez->discovery, path);
      update_available (bluez);
    }
  else if (g_str_equal (name, DEVICE_IFACE))
    {
      /* The proxy keeps its cached properties after removal. */
      g_autofree char *address = cached_string (proxy, "Address");
      g_debug ("bluez: device %s removed (%s)", path, address ? address : "?");
      emit_device_event (bluez, path, NULL, address, NULL);
    }
  else if (g_str_equal (name, GATT_CHAR_IFACE))
    g_signal_emit (bluez, signals[CHARACTERISTIC_REMOVED], 0, path);
}

static void
on_object_added (GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
  GList *ifaces = g_dbus_object_get_interfaces (object);

  for (GList *l = ifaces; l != NULL; l = l->next)
    interface_added (user_data, object, l->data);
  g_list_free_full (ifaces, g_object_unref);
}

static void
on_object_removed (GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
  GList *ifaces = g_dbus_object_get_interfaces (object);

  for (GList *l = ifaces; l != NULL; l = l->next)
    interface_removed (user_data, object, l->data);
  g_list_free_full (ifaces, g_object_unref);
}

static void
on_interface_added (GDBusObjectManager *manager, GDBusObject *object, GDBusInterface *iface,
                    gpointer user_data)
{
  interface_added (user_data, object, iface);
}

static void
on_interface_removed (GDBusObjectManager *manager, GDBusObject *object, GDBusInterface *iface,
                      gpointer user_data)
{
  interface_removed (user_data, object, iface);
}

static void
on_properties_changed (GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
                       GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
                       gpointer user_data)
{
  DrBluez *bluez = user_data;
  const char *name = g_dbus_proxy_get_interface_name (proxy);
  const char *path = g_dbus_proxy_get_object_path (proxy);

  if (g_str_equal (name, GATT_CHAR_IFACE))
    {
      /* The hot path when notifications come this way (no AcquireNotify). */
      g_autoptr (GVariant) value
          = g_variant_lookup_value (changed, "Value", G_VARIANT_TYPE_BYTESTRING);
      if (value != NULL)
        {
          gsize len = 0;
          const guint8 *data = g_variant_get_fixed_array (value, &len, 1);
          g_signal_emit (bluez, signals[VALUE_CHANGED], 0, path, data, (guint) len);
        }
    }
  else if (g_str_equal (name, DEVICE_IFACE))
    {
      g_autofree char *address = cached_string (proxy, "Address");
      GVariantDict dict;

      g_variant_dict_init (&dict, changed);
      if (g_variant_dict_contains (&dict, "Connected")
          || g_variant_dict_contains (&dict, "ServicesResolved")
          || g_variant_dict_contains (&dict, "Paired"))
        g_debug ("bluez: device %s (%s): Connected=%d ServicesResolved=%d Paired=%d", path,
                 address ? address : "?", cached_boolean (proxy, "Connected"),
                 cached_boolean (proxy, "ServicesResolved"), cached_boolean (proxy, "Paired"));
      if (g_variant_dict_contains (&dict, "RSSI") || g_variant_dict_contains (&dict, "UUIDs")
          || g_variant_dict_contains (&dict, "ServiceData")
          || g_variant_dict_contains (&dict, "Name") || g_variant_dict_contains (&dict, "Alias"))
        report_roller_seen (bluez, proxy);
      g_variant_dict_clear (&dict);
      emit_device_event (bluez, path, proxy, address, changed);
    }
  else if (g_str_equal (name, ADAPTER_IFACE))
    {
      g_autoptr (GVariant) powered
          = g_variant_lookup_value (changed, "Powered", G_VARIANT_TYPE_BOOLEAN);
      if (powered == NULL)
        return;
      g_debug ("bluez: adapter %s powered %s", path,
               g_variant_get_boolean (powered) ? "on" : "off");
      if (!g_variant_get_boolean (powered))
        /* Powering off ends every discovery session on it. */
        g_hash_table_remove (bluez->discovery, path);
      else if (discovery_wanted (bluez) && bluez->name_owner != NULL)
        adapter_start_discovery (bluez, path, NULL);
      update_available (bluez);
    }
}

/* GDBusObjectManagerClient notifies name-owner with NULL before it emits
 * object-removed for everything, and with the new owner after it emitted
 * object-added for everything the new bluetoothd has. */
static void
on_name_owner_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  DrBluez *bluez = user_data;
  g_autofree char *owner
      = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (bluez->manager));

  if (g_strcmp0 (owner, bluez->name_owner) == 0)
    return;

  if (bluez->name_owner != NULL)
    {
      g_debug ("bluez: bluetoothd (%s) left", bluez->name_owner);
      /* Whatever we asked the old instance is moot. */
      g_cancellable_cancel (bluez->owner_cancellable);
      g_object_unref (bluez->owner_cancellable);
      bluez->owner_cancellable = g_cancellable_new ();
      g_hash_table_remove_all (bluez->discovery);
      bluez->agent_pending = FALSE;
    }
  g_free (bluez->name_owner);
  bluez->name_owner = g_steal_pointer (&owner);

  if (bluez->name_owner != NULL)
    {
      g_debug ("bluez: bluetoothd is %s", bluez->name_owner);
      register_agent (bluez);
      if (discovery_wanted (bluez))
        discovery_start_all (bluez, NULL);
    }
  update_available (bluez);
}

static void
bluez_set_ready (DrBluez *bluez)
{
  g_autoptr (GPtrArray) starts = g_steal_pointer (&bluez->pending_starts);

  bluez->ready = TRUE;
  bluez->pending_starts = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < starts->len; i++)
    start_discovery_ready (bluez, g_ptr_array_index (starts, i));
}

static void
on_manager_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  GDBusObjectManager *manager = g_dbus_object_manager_client_new_finish (result, &error);
  DrBluez *bluez;
  GList *objects;

  if (manager == NULL)
    {
      /* Cancelled means dispose ran: @user_data is not to be touched. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_warning ("bluez: cannot follow org.bluez: %s", error->message);
      bluez_set_ready (user_data);
      return;
    }
  bluez = user_data;
  bluez->manager = manager;
  g_signal_connect (manager, "object-added", G_CALLBACK (on_object_added), bluez);
  g_signal_connect (manager, "object-removed", G_CALLBACK (on_object_removed), bluez);
  g_signal_connect (manager, "interface-added", G_CALLBACK (on_interface_added), bluez);
  g_signal_connect (manager, "interface-removed", G_CALLBACK (on_interface_removed), bluez);
  g_signal_connect (manager, "interface-proxy-properties-changed",
                    G_CALLBACK (on_properties_changed), bluez);
  g_signal_connect (manager, "notify::name-owner", G_CALLBACK (on_name_owner_changed), bluez);

  g_debug ("bluez: following org.bluez");
  /* The owner first: RegisterAgent then goes out before any Pair a link
   * sends when it hears of its device. */
  on_name_owner_changed (G_OBJECT (manager), NULL, bluez);
  /* What is there already came without object-added. */
  objects = g_dbus_object_manager_get_objects (manager);
  for (GList *l = objects; l != NULL; l = l->next)
    on_object_added (manager, l->data, bluez);
  g_list_free_full (objects, g_object_unref);
  bluez_set_ready (bluez);
}

/* ---- logind ------------------------------------------------------------- */

static void
on_prepare_for_sleep (GDBusConnection *connection, const char *sender, const char *object_path,
                      const char *interface_name, const char *signal_name, GVariant *parameters,
                      gpointer user_data)
{
  DrBluez *bluez = user_data;
  gboolean start;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (parameters, "(b)", &start);
  g_debug ("logind: %s", start ? "going to sleep" : "resumed");
  /* Going to sleep needs nothing: the links are gone on resume whatever
   * we do, and bluetoothd may not even tell us. */
  if (!start)
    g_signal_emit (bluez, signals[RESUMED], 0);
}

/* ---- public ------------------------------------------------------------- */

static void
dr_bluez_constructed (GObject *object)
{
  DrBluez *bluez = DR_BLUEZ (object);
  g_autoptr (GDBusNodeInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  G_OBJECT_CLASS (dr_bluez_parent_class)->constructed (object);
  g_return_if_fail (G_IS_DBUS_CONNECTION (bluez->connection));

  info = g_dbus_node_info_new_for_xml (agent_xml, &error);
  g_assert_no_error (error);
  bluez->agent_registration_id = g_dbus_connection_register_object (
      bluez->connection, AGENT_PATH, info->interfaces[0], &agent_vtable, bluez, NULL, &error);
  if (bluez->agent_registration_id == 0)
    g_warning ("agent: cannot export %s: %s", AGENT_PATH, error->message);

  bluez->sleep_subscription_id = g_dbus_connection_signal_subscribe (
      bluez->connection, LOGIND_BUS_NAME, LOGIND_MANAGER_IFACE, "PrepareForSleep", LOGIND_PATH,
      NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_prepare_for_sleep, bluez, NULL);

  g_dbus_object_manager_client_new (
      bluez->connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, BLUEZ_BUS_NAME, "/",
      NULL, NULL, NULL, bluez->cancellable, on_manager_ready, bluez);
}

static void
dr_bluez_dispose (GObject *object)
{
  DrBluez *bluez = DR_BLUEZ (object);

  g_cancellable_cancel (bluez->cancellable);
  g_cancellable_cancel (bluez->owner_cancellable);

  /* Tidy up on bluetoothd's side while the connection lives on (tests
   * reuse it); if it does not, bluetoothd does this for us. Nobody waits
   * for the answers. */
  if (bluez->connection != NULL && bluez->name_owner != NULL
      && !g_dbus_connection_is_closed (bluez->connection))
    {
      GHashTableIter iter;
      gpointer path;

      g_hash_table_iter_init (&iter, bluez->discovery);
      while (g_hash_table_iter_next (&iter, &path, NULL))
        g_dbus_connection_call (bluez->connection, BLUEZ_BUS_NAME, path, ADAPTER_IFACE,
                                "StopDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                                NULL, NULL, NULL);
      if (bluez->agent_registration_id != 0)
        g_dbus_connection_call (bluez->connection, BLUEZ_BUS_NAME, AGENT_MANAGER_PATH,
                                AGENT_MANAGER_IFACE, "UnregisterAgent",
                                g_variant_new ("(o)", AGENT_PATH), NULL,
                                G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
    }
  g_clear_pointer (&bluez->name_owner, g_free);
  g_hash_table_remove_all (bluez->discovery);

  if (bluez->manager != NULL)
    {
      g_signal_handlers_disconnect_by_data (bluez->manager, bluez);
      g_clear_object (&bluez->manager);
    }
  if (bluez->agent_registration_id != 0)
    g_dbus_connection_unregister_object (bluez->connection, bluez->agent_registration_id);
  bluez->agent_registration_id = 0;
  if (bluez->sleep_subscription_id != 0)
    g_dbus_connection_signal_unsubscribe (bluez->connection, bluez->sleep_subscription_id);
  bluez->sleep_subscription_id = 0;

  /* The tasks hold a reference on us: none can be left by now, but say
   * so rather than leak one. */
  for (guint i = 0; i < bluez->pending_starts->len; i++)
    g_task_return_new_error (g_ptr_array_index (bluez->pending_starts, i), G_IO_ERROR,
                             G_IO_ERROR_CANCELLED, "Bluetooth support shut down");
  g_ptr_array_set_size (bluez->pending_starts, 0);

  G_OBJECT_CLASS (dr_bluez_parent_class)->dispose (object);
}

static void
dr_bluez_finalize (GObject *object)
{
  DrBluez *bluez = DR_BLUEZ (object);

  g_clear_pointer (&bluez->pending_starts, g_ptr_array_unref);
  g_clear_pointer (&bluez->discovery, g_hash_table_unref);
  g_clear_pointer (&bluez->pairing, g_hash_table_unref);
  g_clear_object (&bluez->cancellable);
  g_clear_object (&bluez->owner_cancellable);
  g_clear_object (&bluez->connection);

  G_OBJECT_CLASS (dr_bluez_parent_class)->finalize (object);
}

static void
dr_bluez_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DrBluez *bluez = DR_BLUEZ (object);

  switch (prop_id)
    {
      case PROP_CONNECTION:
        g_value_set_object (value, bluez->connection);
        break;
      case PROP_AVAILABLE:
        g_value_set_boolean (value, bluez->available);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_bluez_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  DrBluez *bluez = DR_BLUEZ (object);

  switch (prop_id)
    {
      case PROP_CONNECTION:
        bluez->connection = g_value_dup_object (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_bluez_init (DrBluez *bluez)
{
  bluez->cancellable = g_cancellable_new ();
  bluez->owner_cancellable = g_cancellable_new ();
  bluez->discovery = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  bluez->pairing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  bluez->pending_starts = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
dr_bluez_class_init (DrBluezClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = dr_bluez_constructed;
  object_class->dispose = dr_bluez_dispose;
  object_class->finalize = dr_bluez_finalize;
  object_class->get_property = dr_bluez_get_property;
  object_class->set_property = dr_bluez_set_property;

  props[PROP_CONNECTION]
      = g_param_spec_object ("connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_AVAILABLE]
      = g_param_spec_boolean ("available", NULL, NULL, FALSE,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[ROLLER_SEEN] = g_signal_new ("roller-seen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING,
                                       G_TYPE_STRING, G_TYPE_INT);
  signals[RESUMED] = g_signal_new ("resumed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 0);
  signals[AGENT_READY] = g_signal_new ("agent-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[DEVICE_EVENT] = g_signal_new (
      "device-event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL,
      NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_DBUS_PROXY, G_TYPE_VARIANT);
  signals[VALUE_CHANGED] = g_signal_new ("value-changed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                                         G_TYPE_STRING, G_TYPE_POINTER, G_TYPE_UINT);
  signals[CHARACTERISTIC_REMOVED]
      = g_signal_new ("characteristic-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

DrBluez *
dr_bluez_new (GDBusConnection *connection)
{
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);
  return g_object_new (DR_TYPE_BLUEZ, "connection", connection, NULL);
}

/* Several adapters may know the same roller: take the one that is doing
 * something with it, then one that paired it, then one that is powered. */
static int
device_rank (DrBluez *bluez, GDBusProxy *device)
{
  int rank = 0;

  if (cached_boolean (device, "Connected"))
    rank += 4;
  if (cached_boolean (device, "Paired"))
    rank += 2;
  {
    g_autoptr (GVariant) adapter_path = g_dbus_proxy_get_cached_property (device, "Adapter");
    g_autoptr (GDBusProxy) adapter = NULL;
    if (adapter_path != NULL && g_variant_is_of_type (adapter_path, G_VARIANT_TYPE_OBJECT_PATH))
      adapter
          = dr_bluez_get_proxy (bluez, g_variant_get_string (adapter_path, NULL), ADAPTER_IFACE);
    if (adapter != NULL && cached_boolean (adapter, "Powered"))
      rank += 1;
  }
  return rank;
}

GList *
dr_bluez_find_devices (DrBluez *bluez, const char *address)
{
  GList *objects, *devices = NULL;

  g_return_val_if_fail (address != NULL, NULL);
  if (bluez->manager == NULL)
    return NULL;
  objects = g_dbus_object_manager_get_objects (bluez->manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      g_autoptr (GDBusInterface) iface = g_dbus_object_get_interface (l->data, DEVICE_IFACE);
      g_autofree char *device_address = NULL;

      if (iface == NULL)
        continue;
      device_address = cached_string (G_DBUS_PROXY (iface), "Address");
      if (device_address != NULL && g_ascii_strcasecmp (device_address, address) == 0)
        devices = g_list_prepend (devices, g_object_ref (l->data));
    }
  g_list_free_full (objects, g_object_unref);
  return g_list_reverse (devices);
}

GDBusObject *
dr_bluez_find_device (DrBluez *bluez, const char *address)
{
  GList *devices;
  GDBusObject *best = NULL;
  int best_rank = -1;

  g_return_val_if_fail (address != NULL, NULL);
  /* The first of the best ranked, in the object manager's order. */
  devices = dr_bluez_find_devices (bluez, address);
  for (GList *l = devices; l != NULL; l = l->next)
    {
      g_autoptr (GDBusInterface) iface = g_dbus_object_get_interface (l->data, DEVICE_IFACE);
      int rank = device_rank (bluez, G_DBUS_PROXY (iface));

      if (rank > best_rank)
        {
          best = l->data;
          best_rank = rank;
        }
    }
  if (best != NULL)
    g_object_ref (best);
  g_list_free_full (devices, g_object_unref);
  return best;
}

GDBusProxy *
dr_bluez_get_adapter_for_device (DrBluez *bluez, GDBusObject *device)
{
  g_autoptr (GDBusInterface) iface = NULL;
  g_autoptr (GVariant) adapter = NULL;
  g_autofree char *parent = NULL;

  if (device == NULL || bluez->manager == NULL)
    return NULL;
  iface = g_dbus_object_get_interface (device, DEVICE_IFACE);
  if (iface == NULL)
    return NULL;
  adapter = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (iface), "Adapter");
  if (adapter != NULL && g_variant_is_of_type (adapter, G_VARIANT_TYPE_OBJECT_PATH))
    return dr_bluez_get_proxy (bluez, g_variant_get_string (adapter, NULL), ADAPTER_IFACE);
  /* Adapter is documented as always there; the path is the fallback. */
  parent = g_path_get_dirname (g_dbus_object_get_object_path (device));
  return dr_bluez_get_proxy (bluez, parent, ADAPTER_IFACE);
}

GList *
dr_bluez_get_characteristics (DrBluez *bluez, const char *device_path)
{
  g_autofree char *prefix = NULL;
  GList *objects, *chars = NULL;

  g_return_val_if_fail (device_path != NULL, NULL);
  if (bluez->manager == NULL)
    return NULL;

  prefix = g_strconcat (device_path, "/", NULL);
  objects = g_dbus_object_manager_get_objects (bluez->manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      GDBusInterface *iface;

      if (!g_str_has_prefix (g_dbus_object_get_object_path (l->data), prefix))
        continue;
      iface = g_dbus_object_get_interface (l->data, GATT_CHAR_IFACE);
      if (iface == NULL)
        continue;
      /* Transfer container: the object manager keeps the proxy alive for
       * as long as the object exists. */
      chars = g_list_prepend (chars, iface);
      g_object_unref (iface);
    }
  g_list_free_full (objects, g_object_unref);
  return g_list_reverse (chars);
}
