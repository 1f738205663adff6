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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrBluez, dr_bluez_free)

G_END_DECLS
