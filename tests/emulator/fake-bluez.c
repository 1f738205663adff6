/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-bluez.c: the emulated bluetoothd (fake-bluez.h): BlueZ's object
 * paths, property types and error names for the part of its D-Bus API a
 * GATT client uses, for one adapter. Everything runs on the main loop and
 * answers asynchronously, as bluetoothd does. */
#include <stdio.h>
#include <string.h>

#include "fake-device.h"
#include "options.h"

/* clang-format off: one XML element per line reads better */
static const char introspection_xml[]
    = "<node>"
      " <interface name='org.freedesktop.DBus.ObjectManager'>"
      "  <method name='GetManagedObjects'><arg name='objects' type='a{oa{sa{sv}}}' "
      "direction='out'/></method>"
      "  <signal name='InterfacesAdded'><arg name='object' type='o'/><arg name='interfaces' "
      "type='a{sa{sv}}'/></signal>"
      "  <signal name='InterfacesRemoved'><arg name='object' type='o'/><arg name='interfaces' "
      "type='as'/></signal>"
      " </interface>"
      " <interface name='org.bluez.AgentManager1'>"
      "  <method name='RegisterAgent'><arg name='agent' type='o' direction='in'/>"
      "   <arg name='capability' type='s' direction='in'/></method>"
      "  <method name='UnregisterAgent'><arg name='agent' type='o' direction='in'/></method>"
      "  <method name='RequestDefaultAgent'><arg name='agent' type='o' direction='in'/></method>"
      " </interface>"
      " <interface name='org.bluez.Adapter1'>"
      "  <method name='StartDiscovery'/>"
      "  <method name='StopDiscovery'/>"
      "  <method name='RemoveDevice'><arg name='device' type='o' direction='in'/></method>"
      "  <method name='SetDiscoveryFilter'><arg name='filter' type='a{sv}' "
      "direction='in'/></method>"
      "  <method name='GetDiscoveryFilters'><arg name='filters' type='as' "
      "direction='out'/></method>"
      "  <property name='Address' type='s' access='read'/>"
      "  <property name='AddressType' type='s' access='read'/>"
      "  <property name='Name' type='s' access='read'/>"
      "  <property name='Alias' type='s' access='readwrite'/>"
      "  <property name='Class' type='u' access='read'/>"
      "  <property name='Powered' type='b' access='readwrite'/>"
      "  <property name='Discoverable' type='b' access='readwrite'/>"
      "  <property name='DiscoverableTimeout' type='u' access='readwrite'/>"
      "  <property name='Pairable' type='b' access='readwrite'/>"
      "  <property name='PairableTimeout' type='u' access='readwrite'/>"
      "  <property name='Discovering' type='b' access='read'/>"
      "  <property name='UUIDs' type='as' access='read'/>"
      "  <property name='Modalias' type='s' access='read'/>"
      "  <property name='Roles' type='as' access='read'/>"
      " </interface>"
      " <interface name='org.bluez.Device1'>"
      "  <method name='Connect'/>"
      "  <method name='Disconnect'/>"
      "  <method name='Pair'/>"
      "  <method name='CancelPairing'/>"
      "  <signal name='Disconnected'><arg name='name' type='s'/><arg name='message' "
      "type='s'/></signal>"
      "  <property name='Address' type='s' access='read'/>"
      "  <property name='AddressType' type='s' access='read'/>"
      "  <property name='Name' type='s' access='read'/>"
      "  <property name='Alias' type='s' access='readwrite'/>"
      "  <property name='Appearance' type='q' access='read'/>"
      "  <property name='Paired' type='b' access='read'/>"
      "  <property name='Bonded' type='b' access='read'/>"
      "  <property name='Trusted' type='b' access='readwrite'/>"
      "  <property name='Blocked' type='b' access='readwrite'/>"
      "  <property name='LegacyPairing' type='b' access='read'/>"
      "  <property name='Connected' type='b' access='read'/>"
      "  <property name='ServicesResolved' type='b' access='read'/>"
      "  <property name='UUIDs' type='as' access='read'/>"
      "  <property name='Adapter' type='o' access='read'/>"
      "  <property name='RSSI' type='n' access='read'/>"
      "  <property name='TxPower' type='n' access='read'/>"
      "  <property name='ManufacturerData' type='a{qv}' access='read'/>"
      "  <property name='ServiceData' type='a{sv}' access='read'/>"
      " </interface>"
      " <interface name='org.bluez.Battery1'>"
      "  <property name='Percentage' type='y' access='read'/>"
      " </interface>"
      " <interface name='org.bluez.GattService1'>"
      "  <property name='UUID' type='s' access='read'/>"
      "  <property name='Primary' type='b' access='read'/>"
      "  <property name='Device' type='o' access='read'/>"
      "  <property name='Includes' type='ao' access='read'/>"
      "  <property name='Handle' type='q' access='read'/>"
      " </interface>"
      " <interface name='org.bluez.GattCharacteristic1'>"
      "  <method name='ReadValue'><arg name='options' type='a{sv}' direction='in'/>"
      "   <arg name='value' type='ay' direction='out'/></method>"
      "  <method name='WriteValue'><arg name='value' type='ay' direction='in'/>"
      "   <arg name='options' type='a{sv}' direction='in'/></method>"
      "  <method name='AcquireNotify'><arg name='options' type='a{sv}' direction='in'/>"
      "   <arg name='fd' type='h' direction='out'/><arg name='mtu' type='q' "
      "direction='out'/></method>"
      "  <method name='StartNotify'/>"
      "  <method name='StopNotify'/>"
      "  <property name='UUID' type='s' access='read'/>"
      "  <property name='Service' type='o' access='read'/>"
      "  <property name='Value' type='ay' access='read'/>"
      "  <property name='Notifying' type='b' access='read'/>"
      "  <property name='NotifyAcquired' type='b' access='read'/>"
      "  <property name='Flags' type='as' access='read'/>"
      "  <property name='Handle' type='q' access='read'/>"
      "  <property name='MTU' type='q' access='read'/>"
      " </interface>"
      " <interface name='org.bluez.GattDescriptor1'>"
      "  <method name='ReadValue'><arg name='options' type='a{sv}' direction='in'/>"
      "   <arg name='value' type='ay' direction='out'/></method>"
      "  <method name='WriteValue'><arg name='value' type='ay' direction='in'/>"
      "   <arg name='options' type='a{sv}' direction='in'/></method>"
      "  <property name='UUID' type='s' access='read'/>"
      "  <property name='Characteristic' type='o' access='read'/>"
      "  <property name='Value' type='ay' access='read'/>"
      "  <property name='Flags' type='as' access='read'/>"
      "  <property name='Handle' type='q' access='read'/>"
      " </interface>"
      "</node>";
/* clang-format on */

/* ---- small helpers ----------------------------------------------------- */

GVariant *
bytes_variant (const guint8 *data, gsize len)
{
  if (len == 0)
    return g_variant_new_array (G_VARIANT_TYPE_BYTE, NULL, 0);
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

GVariant *
gbytes_variant (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return bytes_variant (data, len);
}

GVariant *
strv_variant (const char *const *strv)
{
  return g_variant_new_strv (strv, -1);
}

void
reply_bluez_error (GDBusMethodInvocation *inv, const char *name, const char *message)
{
  g_autofree char *full = g_strconcat (BLUEZ_ERROR, name, NULL);

  g_dbus_method_invocation_return_dbus_error (inv, full, message);
}

gboolean
address_is_valid (const char *address)
{
  if (strlen (address) != 17)
    return FALSE;
  for (int i = 0; i < 17; i++)
    {
      if (i % 3 == 2)
        {
          if (address[i] != ':')
            return FALSE;
        }
      else if (!g_ascii_isxdigit (address[i]))
        return FALSE;
    }
  return TRUE;
}

/* ---- exported objects -------------------------------------------------- */

void
emit_signal (Emu *emu, const char *path, const char *iface, const char *signal_name,
             GVariant *params)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (params);

  /* While "restarting" there is no bluetoothd: whatever would be said is lost. */
  if (emu->bus == NULL)
    return;
  g_dbus_connection_emit_signal (emu->bus, NULL, path, iface, signal_name, owned, NULL);
}

static GVariant *
iface_props_dict (Iface *iface)
{
  GVariantBuilder b;
  GHashTableIter it;
  gpointer key, value;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_hash_table_iter_init (&it, iface->props);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_variant_builder_add (&b, "{sv}", (const char *) key, (GVariant *) value);
  return g_variant_builder_end (&b);
}

static void
iface_emit_changed (Iface *iface, const char *name, GVariant *value)
{
  GVariantBuilder changed, invalidated;

  if (!iface->obj->exported)
    return;
  g_variant_builder_init (&changed, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&invalidated, G_VARIANT_TYPE_STRING_ARRAY);
  if (value != NULL)
    g_variant_builder_add (&changed, "{sv}", name, value);
  else
    g_variant_builder_add (&invalidated, "s", name);
  emit_signal (iface->obj->emu, iface->obj->path, "org.freedesktop.DBus.Properties",
               "PropertiesChanged",
               g_variant_new ("(sa{sv}as)", iface->name, &changed, &invalidated));
}

/* Sets a property; PropertiesChanged only when the value really changes. */
void
iface_set (Iface *iface, const char *name, GVariant *value)
{
  GVariant *old;

  g_variant_ref_sink (value);
  old = g_hash_table_lookup (iface->props, name);
  if (old != NULL && g_variant_equal (old, value))
    {
      g_variant_unref (value);
      return;
    }
  g_hash_table_replace (iface->props, (gpointer) g_intern_string (name), value);
  iface_emit_changed (iface, name, value);
}

/* A notification or indication: PropertiesChanged even when the bytes are
 * the same as last time, as BlueZ does for every one it receives. */
void
iface_notify (Iface *iface, const char *name, GVariant *value)
{
  g_variant_ref_sink (value);
  g_hash_table_replace (iface->props, (gpointer) g_intern_string (name), value);
  iface_emit_changed (iface, name, value);
}

void
iface_unset (Iface *iface, const char *name)
{
  if (g_hash_table_remove (iface->props, name))
    iface_emit_changed (iface, name, NULL);
}

Obj *
obj_new (Emu *emu, ObjKind kind, const char *path, Roller *roller, int index)
{
  Obj *obj = g_new0 (Obj, 1);

  obj->emu = emu;
  obj->kind = kind;
  obj->path = g_strdup (path);
  obj->ifaces = g_ptr_array_new ();
  obj->roller = roller;
  obj->index = index;
  return obj;
}

Iface *
obj_add_iface (Obj *obj, const char *name)
{
  Iface *iface = g_new0 (Iface, 1);

  iface->obj = obj;
  iface->name = g_intern_string (name);
  iface->props
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_variant_unref);
  g_ptr_array_add (obj->ifaces, iface);
  return iface;
}

static void iface_method_call (GDBusConnection *conn, const char *sender, const char *path,
                               const char *iface_name, const char *method, GVariant *params,
                               GDBusMethodInvocation *inv, gpointer user_data);
static GVariant *iface_get_property (GDBusConnection *conn, const char *sender, const char *path,
                                     const char *iface_name, const char *prop, GError **error,
                                     gpointer user_data);
static gboolean iface_set_property (GDBusConnection *conn, const char *sender, const char *path,
                                    const char *iface_name, const char *prop, GVariant *value,
                                    GError **error, gpointer user_data);

static const GDBusInterfaceVTable iface_vtable = {
  .method_call = iface_method_call,
  .get_property = iface_get_property,
  .set_property = iface_set_property,
};

/* Registers every interface of @obj and announces it with InterfacesAdded. */
void
obj_export (Obj *obj)
{
  Emu *emu = obj->emu;
  GVariantBuilder b;

  g_assert (emu->bus != NULL);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sa{sv}}"));
  for (guint i = 0; i < obj->ifaces->len; i++)
    {
      Iface *iface = g_ptr_array_index (obj->ifaces, i);
      GDBusInterfaceInfo *info = g_dbus_node_info_lookup_interface (emu->node_info, iface->name);
      g_autoptr (GError) error = NULL;

      iface->reg_id = g_dbus_connection_register_object (emu->bus, obj->path, info, &iface_vtable,
                                                         iface, NULL, &error);
      if (iface->reg_id == 0)
        g_error ("cannot export %s on %s: %s", iface->name, obj->path, error->message);
      iface->conn = g_object_ref (emu->bus);
      g_variant_builder_add (&b, "{s@a{sv}}", iface->name, iface_props_dict (iface));
    }
  g_hash_table_insert (emu->objects, obj->path, obj);
  obj->exported = TRUE;
  emit_signal (emu, "/", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
               g_variant_new ("(oa{sa{sv}})", obj->path, &b));
  if (opt.verbose)
    g_message ("added %s", obj->path);
}

static void
obj_free (Obj *obj)
{
  for (guint i = 0; i < obj->ifaces->len; i++)
    {
      Iface *iface = g_ptr_array_index (obj->ifaces, i);

      g_hash_table_unref (iface->props);
      g_clear_object (&iface->conn);
      g_free (iface);
    }
  g_ptr_array_unref (obj->ifaces);
  g_free (obj->path);
  g_free (obj);
}

/* InterfacesRemoved, unregisters and frees. */
void
obj_destroy (Obj *obj)
{
  Emu *emu = obj->emu;
  GVariantBuilder names;

  if (obj->exported)
    {
      g_variant_builder_init (&names, G_VARIANT_TYPE_STRING_ARRAY);
      for (guint i = 0; i < obj->ifaces->len; i++)
        {
          Iface *iface = g_ptr_array_index (obj->ifaces, i);

          g_dbus_connection_unregister_object (iface->conn, iface->reg_id);
          g_variant_builder_add (&names, "s", iface->name);
        }
      emit_signal (emu, "/", "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                   g_variant_new ("(oas)", obj->path, &names));
      g_hash_table_steal (emu->objects, obj->path);
      if (opt.verbose)
        g_message ("removed %s", obj->path);
    }
  obj_free (obj);
}

static GVariant *
iface_get_property (GDBusConnection *conn, const char *sender, const char *path,
                    const char *iface_name, const char *prop, GError **error, gpointer user_data)
{
  Iface *iface = user_data;
  GVariant *value = g_hash_table_lookup (iface->props, prop);

  if (value == NULL)
    {
      /* GetAll skips it (error is NULL there); Get answers like BlueZ. */
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "No such property '%s'", prop);
      return NULL;
    }
  return g_variant_ref (value);
}

static const GDBusErrorEntry bluez_error_entries[] = {
  { BLUEZ_ERROR_NOT_READY, BLUEZ_ERROR "NotReady" },
  { BLUEZ_ERROR_NOT_SUPPORTED, BLUEZ_ERROR "NotSupported" },
  { BLUEZ_ERROR_INVALID_ARGUMENTS, BLUEZ_ERROR "InvalidArguments" },
};

static GQuark
bluez_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("roller-emulator-bluez-error-quark", &quark,
                                      bluez_error_entries, G_N_ELEMENTS (bluez_error_entries));
  return (GQuark) quark;
}

void
set_bluez_gerror (GError **error, BluezErrorCode code, const char *message)
{
  g_set_error_literal (error, bluez_error_quark (), code, message);
}

/* ---- clients (D-Bus peers) --------------------------------------------- */

void
client_clear_filter (Client *c)
{
  c->has_filter = FALSE;
  g_clear_pointer (&c->filter_uuids, g_strfreev);
  g_clear_pointer (&c->filter_transport, g_free);
  g_clear_pointer (&c->filter_pattern, g_free);
}

static void
client_free (Client *c)
{
  if (c->watch_id != 0)
    g_bus_unwatch_name (c->watch_id);
  client_clear_filter (c);
  g_free (c->agent_path);
  g_free (c->agent_capability);
  g_free (c->sender);
  g_free (c);
}

static void client_vanished_cb (GDBusConnection *conn, const char *name, gpointer user_data);

Client *
client_get (Emu *emu, const char *sender)
{
  Client *c = g_hash_table_lookup (emu->clients, sender);

  if (c != NULL)
    return c;
  c = g_new0 (Client, 1);
  c->emu = emu;
  c->sender = g_strdup (sender);
  /* BlueZ drops a peer's discovery session, filter, agent and notify
   * sessions when it leaves the bus; so do we. */
  c->watch_id = g_bus_watch_name_on_connection (emu->bus, sender, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                NULL, client_vanished_cb, emu, NULL);
  g_hash_table_insert (emu->clients, c->sender, c);
  return c;
}

gboolean
client_filter_matches (Client *c, Roller *r)
{
  if (!c->has_filter)
    return TRUE;
  if (c->filter_transport != NULL && strcmp (c->filter_transport, "bredr") == 0)
    return FALSE; /* the roller is LE only */
  if (c->filter_uuids != NULL && c->filter_uuids[0] != NULL)
    {
      gboolean found = FALSE;

      for (char **u = c->filter_uuids; *u != NULL; u++)
        if (g_ascii_strcasecmp (*u, DR_UUID_ROLLER_SERVICE) == 0)
          found = TRUE;
      if (!found)
        return FALSE;
    }
  if (c->filter_pattern != NULL && c->filter_pattern[0] != '\0'
      && !g_str_has_prefix (r->address, c->filter_pattern)
      && !g_str_has_prefix (r->name, c->filter_pattern))
    return FALSE;
  return TRUE;
}

static void
iface_method_call (GDBusConnection *conn, const char *sender, const char *path,
                   const char *iface_name, const char *method, GVariant *params,
                   GDBusMethodInvocation *inv, gpointer user_data)
{
  Iface *iface = user_data;
  Obj *obj = iface->obj;

  if (opt.verbose)
    g_message ("%s %s.%s from %s", path, iface_name, method, sender);
  switch (obj->kind)
    {
      case OBJ_AGENT_MANAGER:
        agent_manager_method_call (obj->emu, sender, method, params, inv);
        break;
      case OBJ_ADAPTER:
        adapter_method_call (obj->emu, sender, method, params, inv);
        break;
      case OBJ_DEVICE:
        device_method_call (obj->roller, sender, method, inv);
        break;
      case OBJ_CHAR:
        char_method_call (obj->roller, obj->index, sender, method, params, inv);
        break;
      case OBJ_DESC:
        desc_method_call (obj->roller, obj->index, method, params, inv);
        break;
      case OBJ_SERVICE:
      default:
        g_dbus_method_invocation_return_error (inv, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                               "No such method '%s'", method);
        break;
    }
}

static gboolean
iface_set_property (GDBusConnection *conn, const char *sender, const char *path,
                    const char *iface_name, const char *prop, GVariant *value, GError **error,
                    gpointer user_data)
{
  Iface *iface = user_data;
  Obj *obj = iface->obj;

  if (obj->kind == OBJ_ADAPTER)
    return adapter_set_property (obj->emu, prop, value, error);
  if (obj->kind == OBJ_DEVICE && strcmp (iface->name, "org.bluez.Device1") == 0)
    return device_set_property (obj->roller, prop, value, error);
  set_bluez_gerror (error, BLUEZ_ERROR_NOT_SUPPORTED, "Operation is not supported");
  return FALSE;
}

/* ---- peers leaving the bus --------------------------------------------- */

static void
client_vanished_cb (GDBusConnection *conn, const char *name, gpointer user_data)
{
  Emu *emu = user_data;
  Client *c;

  if (conn != emu->bus)
    return;
  c = g_hash_table_lookup (emu->clients, name);
  if (c == NULL)
    return;
  discovery_session_end (emu, c);
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      for (int ch = 0; ch < N_CH; ch++)
        {
          guint index;

          if (r->chars[ch].iface != NULL && sender_in (r->chars[ch].notify_senders, name, &index))
            roller_notify_session_end (r, ch, index);
        }
    }
  if (g_strcmp0 (emu->default_agent_sender, name) == 0)
    g_clear_pointer (&emu->default_agent_sender, g_free);
  g_hash_table_remove (emu->clients, name);
}

/* ---- ObjectManager at / ------------------------------------------------ */

static void
root_method_call (GDBusConnection *conn, const char *sender, const char *path,
                  const char *iface_name, const char *method, GVariant *params,
                  GDBusMethodInvocation *inv, gpointer user_data)
{
  Emu *emu = user_data;
  GVariantBuilder b;
  GHashTableIter it;
  gpointer value;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  g_hash_table_iter_init (&it, emu->objects);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Obj *obj = value;

      g_variant_builder_open (&b, G_VARIANT_TYPE ("{oa{sa{sv}}}"));
      g_variant_builder_add (&b, "o", obj->path);
      g_variant_builder_open (&b, G_VARIANT_TYPE ("a{sa{sv}}"));
      for (guint i = 0; i < obj->ifaces->len; i++)
        {
          Iface *iface = g_ptr_array_index (obj->ifaces, i);

          g_variant_builder_add (&b, "{s@a{sv}}", iface->name, iface_props_dict (iface));
        }
      g_variant_builder_close (&b);
      g_variant_builder_close (&b);
    }
  g_dbus_method_invocation_return_value (inv, g_variant_new ("(a{oa{sa{sv}}})", &b));
}

static const GDBusInterfaceVTable root_vtable = { .method_call = root_method_call };

/* ---- bluetoothd's presence on the bus ---------------------------------- */

static void
bluez_name_acquired_cb (GDBusConnection *conn, const char *name, gpointer user_data)
{
  Emu *emu = user_data;

  if (conn != emu->bus)
    return;
  if (!emu->name_owned_once)
    {
      emu->name_owned_once = TRUE;
      /* Tests wait for this line; the name is the control connection's. */
      printf ("READY %s\n", g_dbus_connection_get_unique_name (emu->control_conn));
    }
  else
    printf ("RESTARTED %s\n", g_dbus_connection_get_unique_name (conn));
  fflush (stdout);
  emu->restarting = FALSE;
}

static void
bluez_name_lost_cb (GDBusConnection *conn, const char *name, gpointer user_data)
{
  Emu *emu = user_data;

  if (conn != emu->bus)
    return;
  g_printerr ("roller-emulator: cannot own %s on this bus (is bluetoothd running there?)\n", name);
  emu->exit_code = 1;
  g_main_loop_quit (emu->loop);
}

void
fake_bluez_bring_up (Emu *emu)
{
  GDBusInterfaceInfo *om
      = g_dbus_node_info_lookup_interface (emu->node_info, "org.freedesktop.DBus.ObjectManager");
  Obj *obj;
  g_autoptr (GError) error = NULL;

  emu->root_reg_id
      = g_dbus_connection_register_object (emu->bus, "/", om, &root_vtable, emu, NULL, &error);
  if (emu->root_reg_id == 0)
    g_error ("cannot export the object manager: %s", error->message);
  /* The control interface is reachable through org.bluez's owner too. */
  emu->bus_emu_reg_id = g_dbus_connection_register_object (emu->bus, EMU_PATH, emu->api_info,
                                                           emu->api_vtable, emu, NULL, &error);
  if (emu->bus_emu_reg_id == 0)
    g_error ("cannot export the control interface: %s", error->message);

  obj = obj_new (emu, OBJ_AGENT_MANAGER, "/org/bluez", NULL, 0);
  obj_add_iface (obj, "org.bluez.AgentManager1");
  obj_export (obj);
  if (emu->adapter_present)
    adapter_create (emu);

  emu->bus_name_id
      = g_bus_own_name_on_connection (emu->bus, BLUEZ_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                      bluez_name_acquired_cb, bluez_name_lost_cb, emu, NULL);
}

static void
close_when_flushed_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  GDBusConnection *conn = G_DBUS_CONNECTION (source);

  g_dbus_connection_flush_finish (conn, result, NULL);
  g_dbus_connection_close (conn, NULL, NULL, NULL);
}

/* bluetoothd dies: every link drops, every object and the name go, on a
 * connection that closes, so the next owner has a new unique name. What
 * the rollers hold (memory, clock, streaming) is theirs and stays. */
static void
restart_teardown (Emu *emu)
{
  g_autoptr (GDBusConnection) old = g_steal_pointer (&emu->bus);
  GHashTableIter it;
  gpointer value;

  emu->restarting = TRUE;
  g_bus_unown_name (emu->bus_name_id);
  emu->bus_name_id = 0;
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      roller_link_down (r, "org.bluez.Reason.Local", "bluetoothd went away");
      roller_device_remove (r);
    }
  discovery_drop_all (emu);
  if (emu->adapter_obj != NULL)
    obj_destroy (emu->adapter_obj);
  emu->adapter_obj = NULL;
  emu->adapter_iface = NULL;
  g_hash_table_iter_init (&it, emu->objects);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      g_hash_table_iter_steal (&it);
      ((Obj *) value)->exported = FALSE;
      for (guint i = 0; i < ((Obj *) value)->ifaces->len; i++)
        {
          Iface *iface = g_ptr_array_index (((Obj *) value)->ifaces, i);

          g_dbus_connection_unregister_object (iface->conn, iface->reg_id);
        }
      obj_free (value);
    }
  g_hash_table_remove_all (emu->clients);
  g_clear_pointer (&emu->default_agent_sender, g_free);
  g_dbus_connection_unregister_object (old, emu->root_reg_id);
  g_dbus_connection_unregister_object (old, emu->bus_emu_reg_id);
  emu->root_reg_id = 0;
  emu->bus_emu_reg_id = 0;
  g_dbus_connection_flush (old, NULL, close_when_flushed_cb, NULL);
  if (opt.verbose)
    g_message ("bluetoothd gone");
}

static void
restart_connected_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Emu *emu = data;
  g_autoptr (GError) error = NULL;
  GDBusConnection *conn = g_dbus_connection_new_for_address_finish (result, &error);

  if (conn == NULL)
    {
      g_printerr ("roller-emulator: cannot reconnect to the bus: %s\n", error->message);
      emu->exit_code = 1;
      g_main_loop_quit (emu->loop);
      return;
    }
  emu->bus = conn;
  emu->powered = TRUE;
  fake_bluez_bring_up (emu);
}

static gboolean
restart_timer_cb (gpointer data)
{
  Emu *emu = data;

  emu->restart_timer = 0;
  g_dbus_connection_new_for_address (emu->bus_address,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                         | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                     NULL, NULL, restart_connected_cb, emu);
  return G_SOURCE_REMOVE;
}

void
fake_bluez_restart (Emu *emu, guint delay_ms)
{
  restart_teardown (emu);
  emu->restart_timer = g_timeout_add (delay_ms, restart_timer_cb, emu);
}

Roller *
emu_find_roller (Emu *emu, const char *address)
{
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      if (g_ascii_strcasecmp (r->address, address) == 0)
        return r;
    }
  return NULL;
}

Emu *
fake_bluez_new (GMainLoop *loop)
{
  g_autoptr (GError) error = NULL;
  Emu *emu = g_new0 (Emu, 1);

  emu->loop = loop;
  emu->node_info = g_dbus_node_info_new_for_xml (introspection_xml, &error);
  if (emu->node_info == NULL)
    g_error ("introspection: %s", error->message);
  emu->objects = g_hash_table_new (g_str_hash, g_str_equal);
  emu->clients
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) client_free);
  emu->rollers = g_ptr_array_new ();
  emu->adapter_present = TRUE;
  emu->adapter_index = (guint) opt.adapter_index;
  emu->powered = TRUE;
  return emu;
}
