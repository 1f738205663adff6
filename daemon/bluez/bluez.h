/* SPDX-License-Identifier: LGPL-2.1-or-later */
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

#include "dr-error.h"

G_BEGIN_DECLS

#define DR_TYPE_BLUEZ (dr_bluez_get_type ())
G_DECLARE_FINAL_TYPE (DrBluez, dr_bluez, DR, BLUEZ, GObject)

/* Signals (all from the main loop):
 *
 * roller-seen (s address, s name, i rssi): a device advertising the
 *   roller service was seen or updated.
 * notify::available: bluetoothd with at least one powered adapter is
 *   there, or not (property "available").
 * resumed (): logind's PrepareForSleep(false): the links are gone.
 * agent-ready (): the agent's registration with a (new) bluetoothd was
 *   answered; dr_bluez_agent_pending() is FALSE now.
 * device-event::ADDRESS (s device_path, GDBusProxy device, GVariant changed):
 *   the Device1 whose Address is the detail appeared (@changed NULL),
 *   changed (@changed: the a{sv} of changed properties) or vanished
 *   (@device NULL). Detailed: a link connects to its own address only.
 * value-changed (s char_path, pointer data, uint len): a
 *   GattCharacteristic1's Value changed (a notification or indication
 *   through PropertiesChanged). @data is borrowed for the emission.
 * characteristic-removed (s char_path): a GattCharacteristic1 vanished.
 */

/* @connection: where org.bluez lives (a private bus in tests). logind is
 * looked for on the same bus. */
DrBluez *dr_bluez_new (GDBusConnection *connection);

GDBusConnection *dr_bluez_get_connection (DrBluez *bluez);
/* bluetoothd's unique name on the bus, or NULL while it is not there. */
const char *dr_bluez_get_name_owner (DrBluez *bluez);
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
void dr_bluez_start_discovery (DrBluez *bluez, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean dr_bluez_start_discovery_finish (DrBluez *bluez, GAsyncResult *result, GError **error);
void dr_bluez_stop_discovery (DrBluez *bluez, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean dr_bluez_stop_discovery_finish (DrBluez *bluez, GAsyncResult *result, GError **error);
gboolean dr_bluez_is_discovering (DrBluez *bluez);

/* @error is the D-Bus error @name (org.bluez.Error.InProgress, ...). */
gboolean dr_bluez_error_is (const GError *error, const char *name);
/* The DrError that says what a failed BlueZ call means (TimedOut for a
 * call that got no answer, Refused, NotSupported, ...), @fallback for
 * anything else. */
DrError dr_bluez_error_code (const GError *error, DrError fallback);

/* "AA:BB:CC:DD:EE:FF", upper case hex, exactly. */
gboolean dr_bluez_address_is_valid (const char *address);

/* ---- for DrBluezLink ------------------------------------------------------ */

/* While set, the agent accepts Just Works pairing (RequestConfirmation,
 * RequestAuthorization, AuthorizeService) for @address; it rejects every
 * other device. */
void dr_bluez_set_pairing (DrBluez *bluez, const char *address, gboolean pairing);

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

G_END_DECLS
