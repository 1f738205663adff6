/* bluez.h: dermarolld's view of bluetoothd, through its D-Bus API only.
 *
 * One DrBluez per daemon. It follows the org.bluez name owner with a
 * GDBusObjectManagerClient (bluetoothd leaving and coming back, adapters
 * added, removed, powered off or renumbered are all just object-manager
 * changes), registers a NoInputNoOutput Agent1 for the roller's Just Works
 * pairing, runs discovery filtered on the roller service, and resolves
 * rollers by address, never by a remembered object path or "hci0".
 * Every call is asynchronous and cancellable.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _DrBluez DrBluez;

typedef struct
{
  /* A device advertising the roller service was seen or updated. */
  void (*roller_seen) (DrBluez *bluez, const char *address, const char *name, gint16 rssi, gpointer user_data);
  /* A device object appeared or changed (Paired/Connected/...): links
   * listen to these to notice their device. Called with NULL when the
   * object manager was rebuilt (bluetoothd restarted). */
  void (*device_changed) (DrBluez *bluez, const char *address, gpointer user_data);
  /* bluetoothd with at least one powered adapter is there, or not. */
  void (*available_changed) (DrBluez *bluez, gboolean available, gpointer user_data);
  /* logind's PrepareForSleep(false): the links are gone after resume. */
  void (*resumed) (DrBluez *bluez, gpointer user_data);
} DrBluezCallbacks;

/* @system_bus: where org.bluez lives (a private bus in tests). logind is
 * looked for on the same bus. */
DrBluez *dr_bluez_new (GDBusConnection *system_bus, const DrBluezCallbacks *callbacks, gpointer user_data);
void dr_bluez_free (DrBluez *bluez);

GDBusConnection *dr_bluez_get_connection (DrBluez *bluez);
gboolean dr_bluez_is_available (DrBluez *bluez);
/* FALSE until the first look at org.bluez is done (dr_bluez_new returns
 * before that); until then "not available" only means "not known yet". */
gboolean dr_bluez_is_ready (DrBluez *bluez);

/* Device1 object of @address (any adapter), or NULL. Transfer full. */
GDBusObject *dr_bluez_find_device (DrBluez *bluez, const char *address);
/* Adapter1 proxy that owns @device, or NULL. Transfer full. */
GDBusProxy *dr_bluez_get_adapter_for_device (DrBluez *bluez, GDBusObject *device);
/* Every GattCharacteristic1 proxy under @device_path. Transfer container. */
GList *dr_bluez_get_characteristics (DrBluez *bluez, const char *device_path);

/* SetDiscoveryFilter({Transport: le, UUIDs: [roller]}) + StartDiscovery on
 * every powered adapter. NotFound when there is none. */
void dr_bluez_start_discovery (DrBluez *bluez,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean dr_bluez_start_discovery_finish (DrBluez *bluez, GAsyncResult *result, GError **error);
void dr_bluez_stop_discovery (DrBluez *bluez,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
gboolean dr_bluez_stop_discovery_finish (DrBluez *bluez, GAsyncResult *result, GError **error);
gboolean dr_bluez_is_discovering (DrBluez *bluez);

/* "AA:BB:CC:DD:EE:FF", upper case hex, exactly. */
gboolean dr_bluez_address_is_valid (const char *address);

/* ---- for DrBluezLink ------------------------------------------------------
 * What one roller's link needs to hear from the object manager. Listeners
 * are called in the order they were added; one may remove itself (or
 * another) from inside a call. DrBluez must outlive every listener. */
typedef struct
{
  /* The Device1 at @device_path whose Address is the listener's appeared
   * (@changed NULL), changed (@changed: the a{sv} of changed properties)
   * or vanished (@device NULL). */
  void (*device_event) (DrBluez *bluez,
                        const char *device_path,
                        GDBusProxy *device,
                        GVariant *changed,
                        gpointer user_data);
  /* A GattCharacteristic1's Value changed: a notification or indication
   * coming through PropertiesChanged (or a read). Sent to every listener;
   * each compares @char_path with its own characteristics. */
  void (*value_changed) (DrBluez *bluez,
                         const char *char_path,
                         const guint8 *data,
                         gsize len,
                         gpointer user_data);
  /* A GattCharacteristic1 object vanished. Sent to every listener. */
  void (*characteristic_removed) (DrBluez *bluez, const char *char_path, gpointer user_data);
  /* As DrBluezCallbacks.available_changed. */
  void (*available_changed) (DrBluez *bluez, gboolean available, gpointer user_data);
  /* As DrBluezCallbacks.resumed. */
  void (*resumed) (DrBluez *bluez, gpointer user_data);
  /* The agent's registration with a (new) bluetoothd was answered:
   * dr_bluez_agent_pending() is FALSE now. */
  void (*agent_ready) (DrBluez *bluez, gpointer user_data);
} DrBluezListener;

/* @address: the identity address the listener follows (device_event is
 * filtered on it). Returns an id for dr_bluez_remove_listener. */
guint dr_bluez_add_listener (DrBluez *bluez,
                             const char *address,
                             const DrBluezListener *listener,
                             gpointer user_data);
void dr_bluez_remove_listener (DrBluez *bluez, guint id);
/* While set, the agent accepts Just Works pairing (RequestConfirmation,
 * RequestAuthorization, AuthorizeService) for the listener's address; it
 * rejects every other device. */
void dr_bluez_set_pairing (DrBluez *bluez, guint id, gboolean pairing);

/* TRUE while our Agent1 is being registered with bluetoothd: a Pair sent
 * now could find no agent. */
gboolean dr_bluez_agent_pending (DrBluez *bluez);

/* The @iface proxy of the object at @path, or NULL. Transfer full. */
GDBusProxy *dr_bluez_get_proxy (DrBluez *bluez, const char *path, const char *iface);
/* Every Device1 object of @address: one per adapter that knows it.
 * Transfer full (g_list_free_full with g_object_unref). */
GList *dr_bluez_find_devices (DrBluez *bluez, const char *address);

/* Discovery needed by a link (pairing a roller not seen yet). Counted
 * separately from dr_bluez_start/stop_discovery, so a link letting go
 * never stops the discovery a user asked for, and the other way round. */
void dr_bluez_hold_discovery (DrBluez *bluez);
void dr_bluez_release_discovery (DrBluez *bluez);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrBluez, dr_bluez_free)

G_END_DECLS
