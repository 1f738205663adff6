/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bluez.c: DrBluez, dermarolld's view of bluetoothd through its D-Bus API.
 *
 * One GDBusObjectManagerClient on org.bluez follows everything: the name
 * owner (bluetoothd leaving and coming back), adapters and devices being
 * added and removed, and every PropertiesChanged (Device1, Adapter1,
 * GattCharacteristic1). Nothing here remembers an object path beyond the
 * object manager's own map: devices are found by Address each time, so an
 * adapter that comes back as another hciN is simply another path.
 *
 * What happens there reaches the links as signals (device-event detailed
 * by address, value-changed, characteristic-removed, notify::available),
 * never as calls into them. DrBluez owns the pieces that have their own
 * files: the Agent1 (bluez-agent.c), discovery (bluez-discovery.c) and
 * logind's sleep signal (sleep-monitor.c), and tells them what changed.
 * Every call is asynchronous; no timer runs.
 */
#include "bluez.h"

#include "bluez-agent.h"
#include "bluez-discovery.h"
#include "sleep-monitor.h"

#include "dr-error.h"
#include "roller-protocol.h"

#include <string.h>

#define BLUEZ_BUS_NAME "org.bluez"
#define ADAPTER_IFACE "org.bluez.Adapter1"
#define DEVICE_IFACE "org.bluez.Device1"
#define GATT_CHAR_IFACE "org.bluez.GattCharacteristic1"
#define BLUEZ_ERROR_REJECTED "org.bluez.Error.Rejected"

struct _DrBluez
{
  GObject parent_instance;

  GDBusConnection *connection;

  /* Cancelled in dispose: everything in flight. */
  GCancellable *cancellable;

  GDBusObjectManager *manager; /* NULL until the async creation is done */
  gboolean ready;              /* that creation is done, for better or worse */
  GPtrArray *pending_starts;   /* GTask: start_discovery calls made before */
  char *name_owner;            /* unique name of bluetoothd, or NULL */
  gboolean available;          /* name owner and a powered adapter */

  DrBluezAgent *agent;
  DrSleepMonitor *sleep_monitor;

  DrBluezDiscovery *discovery;
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

gboolean
dr_bluez_error_is (const GError *error, const char *name)
{
  g_autofree char *remote = NULL;

  if (error == NULL)
    return FALSE;
  remote = g_dbus_error_get_remote_error (error);
  return g_strcmp0 (remote, name) == 0;
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
  dr_bluez_agent_set_pairing (bluez->agent, address, pairing);
}

gboolean
dr_bluez_agent_pending (DrBluez *bluez)
{
  g_return_val_if_fail (DR_IS_BLUEZ (bluez), FALSE);
  return dr_bluez_agent_is_pending (bluez->agent);
}

static void
on_agent_ready (DrBluezAgent *agent, gpointer user_data)
{
  g_signal_emit (user_data, signals[AGENT_READY], 0);
}

static void
on_resumed (DrSleepMonitor *monitor, gpointer user_data)
{
  g_signal_emit (user_data, signals[RESUMED], 0);
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

const char *
dr_bluez_get_name_owner (DrBluez *bluez)
{
  return bluez->name_owner;
}

/* ---- discovery ---------------------------------------------------------- */

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
  GList *adapters = powered_adapters (bluez);

  dr_bluez_discovery_start (bluez->discovery, adapters, task);
  g_list_free_full (adapters, g_object_unref);
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
  dr_bluez_discovery_stop (bluez->discovery, task);
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
  return dr_bluez_discovery_is_requested (bluez->discovery);
}

void
dr_bluez_hold_discovery (DrBluez *bluez)
{
  GList *adapters = bluez->name_owner ? powered_adapters (bluez) : NULL;

  dr_bluez_discovery_hold (bluez->discovery, adapters);
  g_list_free_full (adapters, g_object_unref);
}

void
dr_bluez_release_discovery (DrBluez *bluez)
{
  dr_bluez_discovery_release (bluez->discovery);
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
  g_signal_emit (bluez, signals[ROLLER_SEEN], 0, address, name ? name : "",
                 rssi && g_variant_is_of_type (rssi, G_VARIANT_TYPE_INT16)
                     ? (int) g_variant_get_int16 (rssi)
                     : 0);
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
      if (bluez->name_owner != NULL && cached_boolean (proxy, "Powered"))
        dr_bluez_discovery_adapter_powered (bluez->discovery, path);
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
      dr_bluez_discovery_adapter_gone (bluez->discovery, path);
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
      /* Every value but Roll Measurement's under StartNotify, which its
       * link takes straight from the bus (bluez-link.c). */
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
        dr_bluez_discovery_adapter_gone (bluez->discovery, path);
      else if (bluez->name_owner != NULL)
        dr_bluez_discovery_adapter_powered (bluez->discovery, path);
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
      dr_bluez_discovery_bluetoothd_left (bluez->discovery);
    }
  g_free (bluez->name_owner);
  bluez->name_owner = g_steal_pointer (&owner);

  if (bluez->name_owner != NULL)
    {
      g_debug ("bluez: bluetoothd is %s", bluez->name_owner);
    }
  /* The agent registers with the new one; before discovery starts, and
   * before any Pair a link sends when it hears of its device. */
  dr_bluez_agent_set_bluetoothd (bluez->agent, bluez->name_owner, bluez->manager);
  if (bluez->name_owner != NULL)
    {
      GList *adapters = powered_adapters (bluez);

      dr_bluez_discovery_resume (bluez->discovery, adapters);
      g_list_free_full (adapters, g_object_unref);
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

/* ---- public ------------------------------------------------------------- */

static void
dr_bluez_constructed (GObject *object)
{
  DrBluez *bluez = DR_BLUEZ (object);

  G_OBJECT_CLASS (dr_bluez_parent_class)->constructed (object);
  g_return_if_fail (G_IS_DBUS_CONNECTION (bluez->connection));

  bluez->discovery = dr_bluez_discovery_new (bluez->connection);
  bluez->agent = dr_bluez_agent_new (bluez->connection);
  g_signal_connect (bluez->agent, "ready", G_CALLBACK (on_agent_ready), bluez);
  bluez->sleep_monitor = dr_sleep_monitor_new (bluez->connection);
  g_signal_connect (bluez->sleep_monitor, "resumed", G_CALLBACK (on_resumed), bluez);

  g_dbus_object_manager_client_new (
      bluez->connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, BLUEZ_BUS_NAME, "/",
      NULL, NULL, NULL, bluez->cancellable, on_manager_ready, bluez);
}

static void
dr_bluez_dispose (GObject *object)
{
  DrBluez *bluez = DR_BLUEZ (object);

  g_cancellable_cancel (bluez->cancellable);

  if (bluez->discovery != NULL)
    dr_bluez_discovery_free (g_steal_pointer (&bluez->discovery), bluez->name_owner != NULL);
  g_clear_pointer (&bluez->name_owner, g_free);

  if (bluez->manager != NULL)
    {
      g_signal_handlers_disconnect_by_data (bluez->manager, bluez);
      g_clear_object (&bluez->manager);
    }
  if (bluez->agent != NULL)
    g_signal_handlers_disconnect_by_data (bluez->agent, bluez);
  g_clear_object (&bluez->agent);
  if (bluez->sleep_monitor != NULL)
    g_signal_handlers_disconnect_by_data (bluez->sleep_monitor, bluez);
  g_clear_object (&bluez->sleep_monitor);

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
  g_clear_object (&bluez->cancellable);
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

  signals[ROLLER_SEEN]
      = g_signal_new ("roller-seen", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_INT);
  signals[RESUMED] = g_signal_new ("resumed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 0);
  signals[AGENT_READY] = g_signal_new ("agent-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[DEVICE_EVENT] = g_signal_new (
      "device-event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL,
      NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_DBUS_PROXY, G_TYPE_VARIANT);
  signals[VALUE_CHANGED]
      = g_signal_new ("value-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_POINTER, G_TYPE_UINT);
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
