/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-bluez.h: the emulated bluetoothd: its presence on the bus (the
 * org.bluez name, restarts), the exported object tree with its properties
 * (ObjectManager, InterfacesAdded/Removed, PropertiesChanged), the D-Bus
 * peers with their discovery sessions and agents. The adapter, discovery
 * and AgentManager1 are in fake-adapter.c.
 *
 * Each roller's Device1 and GATT objects are fake-device.h's; this file
 * only routes method calls to them. */
#pragma once

#include <gio/gio.h>

#define BLUEZ_NAME "org.bluez"
#define BLUEZ_ERROR "org.bluez.Error."
#define EMU_PATH "/org/dermaroll/Emulator"
#define EMU_IFACE "org.dermaroll.Emulator1"
#define GAP_UUID "00001800-0000-1000-8000-00805f9b34fb"
#define GATT_UUID "00001801-0000-1000-8000-00805f9b34fb"

typedef struct _Emu Emu;
typedef struct _Roller Roller;
typedef struct _Obj Obj;

typedef enum
{
  OBJ_AGENT_MANAGER,
  OBJ_ADAPTER,
  OBJ_DEVICE,
  OBJ_SERVICE,
  OBJ_CHAR,
  OBJ_DESC,
} ObjKind;

/* One exported interface: its properties live here, so Get, GetAll,
 * GetManagedObjects and InterfacesAdded all answer from the same table. A
 * property that is absent from the table is absent on the bus, as BlueZ's
 * optional properties are (RSSI outside discovery, for instance). */
typedef struct
{
  Obj *obj;
  const char *name;  /* interned */
  GHashTable *props; /* interned name → GVariant */
  GDBusConnection *conn;
  guint reg_id;
} Iface;

struct _Obj
{
  Emu *emu;
  ObjKind kind;
  char *path;
  GPtrArray *ifaces; /* Iface, owned */
  Roller *roller;
  int index; /* CH_* for characteristics and descriptors, SV_* for services */
  gboolean exported;
};

/* A D-Bus peer of org.bluez: its discovery session, filter and agent. */
typedef struct
{
  Emu *emu;
  char *sender;
  guint watch_id;
  gboolean discovering;
  gboolean has_filter;
  char **filter_uuids;
  char *filter_transport;
  char *filter_pattern;
  char *agent_path;
  char *agent_capability;
} Client;

struct _Emu
{
  GMainLoop *loop;
  int exit_code;
  GDBusNodeInfo *node_info; /* BlueZ's interfaces */
  char *bus_address;

  GDBusConnection *control_conn;
  guint control_reg_id;
  guint control_name_id;

  GDBusConnection *bus; /* the org.bluez side; NULL while "restarting" */
  guint bus_name_id;
  guint root_reg_id;
  guint bus_emu_reg_id;
  gboolean name_owned_once;
  gboolean restarting;
  guint restart_timer;

  GHashTable *objects; /* path → Obj (owned) */
  GHashTable *clients; /* sender → Client (owned) */
  char *default_agent_sender;

  gboolean adapter_present;
  guint adapter_index;
  char *adapter_path;
  char *adapter_address;
  Obj *adapter_obj;
  Iface *adapter_iface;
  gboolean powered;
  guint n_discovering;
  guint discovery_timer;

  GPtrArray *rollers; /* Roller */

  /* org.dermaroll.Emulator1, served on the org.bluez connection too */
  GDBusNodeInfo *api_node_info;
  GDBusInterfaceInfo *api_info;
  const GDBusInterfaceVTable *api_vtable;
};

/* For the paths that must answer with a GError (property setters, the
 * discovery filter parser): a registered domain, so GDBus sends BlueZ's
 * error names on the wire. */
typedef enum
{
  BLUEZ_ERROR_NOT_READY,
  BLUEZ_ERROR_NOT_SUPPORTED,
  BLUEZ_ERROR_INVALID_ARGUMENTS,
} BluezErrorCode;

/* The emulator with BlueZ's interfaces; no bus yet. */
Emu *fake_bluez_new (GMainLoop *loop);
/* Exports the object tree on emu->bus and asks for org.bluez. */
void fake_bluez_bring_up (Emu *emu);
/* bluetoothd dies, and comes back on a new connection after @delay_ms. */
void fake_bluez_restart (Emu *emu, guint delay_ms);

GVariant *bytes_variant (const guint8 *data, gsize len);
GVariant *gbytes_variant (GBytes *bytes);
void reply_bluez_error (GDBusMethodInvocation *inv, const char *name, const char *message);
void set_bluez_gerror (GError **error, BluezErrorCode code, const char *message);
gboolean address_is_valid (const char *address);

void emit_signal (Emu *emu, const char *path, const char *iface, const char *signal_name,
                  GVariant *params);
/* Sets a property; PropertiesChanged only when the value really changes. */
void iface_set (Iface *iface, const char *name, GVariant *value);
/* A notification or indication: PropertiesChanged even when the bytes are
 * the same as last time, as BlueZ does for every one it receives. */
void iface_notify (Iface *iface, const char *name, GVariant *value);
void iface_unset (Iface *iface, const char *name);
Obj *obj_new (Emu *emu, ObjKind kind, const char *path, Roller *roller, int index);
Iface *obj_add_iface (Obj *obj, const char *name);
/* Registers every interface of @obj and announces it with InterfacesAdded. */
void obj_export (Obj *obj);
/* InterfacesRemoved, unregisters and frees. */
void obj_destroy (Obj *obj);

/* The peer @sender, watched from now on so that its sessions end with it. */
Client *client_get (Emu *emu, const char *sender);
gboolean client_filter_matches (Client *c, Roller *r);

void client_clear_filter (Client *c);
GVariant *strv_variant (const char *const *strv);

/* fake-adapter.c: the adapter, discovery and AgentManager1. */
void discovery_schedule (Emu *emu);
/* @c's discovery session ends (StopDiscovery, or the peer left). */
void discovery_session_end (Emu *emu, Client *c);
void discovery_drop_all (Emu *emu);
void adapter_create (Emu *emu);
/* Every device and the adapter go, as when a USB dongle is pulled. */
void adapter_destroy (Emu *emu);
void adapter_method_call (Emu *emu, const char *sender, const char *method, GVariant *params,
                          GDBusMethodInvocation *inv);
gboolean adapter_set_property (Emu *emu, const char *prop, GVariant *value, GError **error);
void agent_manager_method_call (Emu *emu, const char *sender, const char *method, GVariant *params,
                                GDBusMethodInvocation *inv);
Roller *emu_find_roller (Emu *emu, const char *address);
