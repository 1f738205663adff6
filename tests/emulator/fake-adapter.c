/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-adapter.c: the emulated bluetoothd's adapter (fake-bluez.h):
 * Adapter1 with power, discovery sessions per peer with their filters,
 * devices that appear while discovering and vanish when unpaired, and
 * AgentManager1. */
#include <string.h>

#include "fake-device.h"
#include "options.h"

static gboolean
discovery_matches (Emu *emu, Roller *r)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, emu->clients);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Client *c = value;

      if (c->discovering && client_filter_matches (c, r))
        return TRUE;
    }
  return FALSE;
}

static gboolean
temporary_timeout_cb (gpointer data)
{
  Roller *r = data;

  r->temporary_timer = 0;
  if (r->dev_obj != NULL && !r->paired && !r->trusted && !r->connected && r->connect_inv == NULL
      && r->pair_inv == NULL)
    roller_device_remove (r);
  return G_SOURCE_REMOVE;
}

static gboolean
discovery_tick_cb (gpointer data)
{
  Emu *emu = data;

  emu->discovery_timer = 0;
  if (emu->n_discovering == 0)
    return G_SOURCE_REMOVE;
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      if (!r->in_range || !discovery_matches (emu, r))
        continue;
      if (r->dev_obj == NULL)
        roller_device_add (r);
      g_clear_handle_id (&r->temporary_timer, g_source_remove);
      iface_set (r->dev_iface, "RSSI", g_variant_new_int16 (roller_rssi (r)));
    }
  return G_SOURCE_REMOVE;
}

void
discovery_schedule (Emu *emu)
{
  if (emu->n_discovering > 0 && emu->discovery_timer == 0)
    emu->discovery_timer = g_timeout_add (opt.discovery_delay_ms, discovery_tick_cb, emu);
}

static void
discovery_stopped (Emu *emu)
{
  g_clear_handle_id (&emu->discovery_timer, g_source_remove);
  if (emu->adapter_iface != NULL)
    iface_set (emu->adapter_iface, "Discovering", g_variant_new_boolean (FALSE));
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      if (r->dev_obj == NULL)
        continue;
      /* BlueZ invalidates RSSI when scanning ends, and forgets devices it
       * only saw advertising after a while. */
      iface_unset (r->dev_iface, "RSSI");
      if (opt.temporary_timeout_s > 0 && !r->paired && !r->trusted && !r->connected
          && r->temporary_timer == 0)
        r->temporary_timer
            = g_timeout_add_seconds (opt.temporary_timeout_s, temporary_timeout_cb, r);
    }
}

void
discovery_session_end (Emu *emu, Client *c)
{
  if (!c->discovering)
    return;
  c->discovering = FALSE;
  client_clear_filter (c);
  g_assert (emu->n_discovering > 0);
  if (--emu->n_discovering == 0)
    discovery_stopped (emu);
}

void
discovery_drop_all (Emu *emu)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, emu->clients);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Client *c = value;

      c->discovering = FALSE;
      client_clear_filter (c);
    }
  if (emu->n_discovering > 0)
    {
      emu->n_discovering = 0;
      discovery_stopped (emu);
    }
}

void
adapter_create (Emu *emu)
{
  static const char *const adapter_uuids[] = { GAP_UUID, GATT_UUID, NULL };
  static const char *const roles[] = { "central", "peripheral", NULL };
  Obj *obj;
  Iface *a;

  g_free (emu->adapter_path);
  emu->adapter_path = g_strdup_printf ("/org/bluez/hci%u", emu->adapter_index);
  obj = obj_new (emu, OBJ_ADAPTER, emu->adapter_path, NULL, 0);
  a = obj_add_iface (obj, "org.bluez.Adapter1");
  iface_set (a, "Address", g_variant_new_string (emu->adapter_address));
  iface_set (a, "AddressType", g_variant_new_string ("public"));
  iface_set (a, "Name", g_variant_new_string ("dermaroll-emulator"));
  iface_set (a, "Alias", g_variant_new_string ("dermaroll-emulator"));
  iface_set (a, "Class", g_variant_new_uint32 (0));
  iface_set (a, "Powered", g_variant_new_boolean (emu->powered));
  iface_set (a, "Discoverable", g_variant_new_boolean (FALSE));
  iface_set (a, "DiscoverableTimeout", g_variant_new_uint32 (180));
  iface_set (a, "Pairable", g_variant_new_boolean (TRUE));
  iface_set (a, "PairableTimeout", g_variant_new_uint32 (0));
  iface_set (a, "Discovering", g_variant_new_boolean (FALSE));
  iface_set (a, "UUIDs", strv_variant (adapter_uuids));
  iface_set (a, "Modalias", g_variant_new_string ("usb:v1D6Bp0246d0542"));
  iface_set (a, "Roles", strv_variant (roles));
  emu->adapter_obj = obj;
  emu->adapter_iface = a;
  obj_export (obj);

  /* bluetoothd loads bonded devices from its storage at start. */
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      if (r->paired)
        roller_device_add (r);
    }
}

/* Every device and the adapter go, as when a USB dongle is pulled. */
void
adapter_destroy (Emu *emu)
{
  discovery_drop_all (emu);
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      roller_link_down (r, "org.bluez.Reason.Local", "Adapter removed");
      if (r->dev_obj != NULL)
        roller_device_remove (r);
    }
  if (emu->adapter_obj != NULL)
    obj_destroy (emu->adapter_obj);
  emu->adapter_obj = NULL;
  emu->adapter_iface = NULL;
}

static void
adapter_set_powered (Emu *emu, gboolean powered)
{
  if (emu->powered == powered)
    return;
  emu->powered = powered;
  if (!powered)
    {
      discovery_drop_all (emu);
      for (guint i = 0; i < emu->rollers->len; i++)
        roller_link_down (g_ptr_array_index (emu->rollers, i), "org.bluez.Reason.Local",
                          "Adapter powered off");
    }
  iface_set (emu->adapter_iface, "Powered", g_variant_new_boolean (powered));
}

static Roller *
adapter_find_device (Emu *emu, const char *path)
{
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      if (r->dev_obj != NULL && strcmp (r->dev_obj->path, path) == 0)
        return r;
    }
  return NULL;
}

static gboolean
parse_discovery_filter (Client *c, GVariant *filter, GError **error)
{
  static const char *const transports[] = { "auto", "bredr", "le", NULL };
  GVariantIter it;
  const char *key;
  GVariant *value;
  g_auto (GStrv) uuids = NULL;
  g_autofree char *transport = NULL;
  g_autofree char *pattern = NULL;
  gboolean have_rssi = FALSE, have_pathloss = FALSE;

  g_variant_iter_init (&it, filter);
  while (g_variant_iter_next (&it, "{&sv}", &key, &value))
    {
      g_autoptr (GVariant) v = value;
      const char *want = NULL;

      if (strcmp (key, "UUIDs") == 0)
        want = "as";
      else if (strcmp (key, "RSSI") == 0)
        want = "n";
      else if (strcmp (key, "Pathloss") == 0)
        want = "q";
      else if (strcmp (key, "Transport") == 0 || strcmp (key, "Pattern") == 0)
        want = "s";
      else if (strcmp (key, "DuplicateData") == 0 || strcmp (key, "Discoverable") == 0
               || strcmp (key, "AutoConnect") == 0)
        want = "b";
      if (want == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE (want)))
        {
          set_bluez_gerror (error, BLUEZ_ERROR_INVALID_ARGUMENTS,
                            "Invalid arguments in method call");
          return FALSE;
        }
      if (strcmp (key, "UUIDs") == 0)
        {
          g_strfreev (uuids);
          uuids = g_variant_dup_strv (v, NULL);
        }
      else if (strcmp (key, "Transport") == 0)
        {
          g_free (transport);
          transport = g_variant_dup_string (v, NULL);
          if (!g_strv_contains (transports, transport))
            {
              set_bluez_gerror (error, BLUEZ_ERROR_INVALID_ARGUMENTS,
                                "Invalid arguments in method call");
              return FALSE;
            }
        }
      else if (strcmp (key, "Pattern") == 0)
        {
          g_free (pattern);
          pattern = g_variant_dup_string (v, NULL);
        }
      else if (strcmp (key, "RSSI") == 0)
        have_rssi = TRUE;
      else if (strcmp (key, "Pathloss") == 0)
        have_pathloss = TRUE;
    }
  if (have_rssi && have_pathloss)
    {
      set_bluez_gerror (error, BLUEZ_ERROR_INVALID_ARGUMENTS, "Invalid arguments in method call");
      return FALSE;
    }
  client_clear_filter (c);
  if (g_variant_n_children (filter) == 0)
    return TRUE; /* an empty filter removes the filter */
  c->has_filter = TRUE;
  c->filter_uuids = g_steal_pointer (&uuids);
  c->filter_transport = g_steal_pointer (&transport);
  c->filter_pattern = g_steal_pointer (&pattern);
  return TRUE;
}

void
adapter_method_call (Emu *emu, const char *sender, const char *method, GVariant *params,
                     GDBusMethodInvocation *inv)
{
  if (strcmp (method, "GetDiscoveryFilters") == 0)
    {
      static const char *const filters[]
          = { "UUIDs",         "RSSI",         "Pathloss", "Transport",
              "DuplicateData", "Discoverable", "Pattern",  NULL };

      g_dbus_method_invocation_return_value (inv, g_variant_new ("(@as)", strv_variant (filters)));
      return;
    }
  if (strcmp (method, "RemoveDevice") == 0)
    {
      const char *path;
      Roller *r;

      g_variant_get (params, "(&o)", &path);
      r = adapter_find_device (emu, path);
      if (r == NULL)
        {
          /* What bluetoothd answers for a path it does not know. */
          reply_bluez_error (inv, "DoesNotExist", "Does Not Exist");
          return;
        }
      roller_link_down (r, "org.bluez.Reason.Local", "Device removed");
      r->paired = FALSE;
      r->trusted = FALSE;
      roller_device_remove (r);
      g_dbus_method_invocation_return_value (inv, NULL);
      /* Still advertising: a running discovery finds it again. */
      discovery_schedule (emu);
      return;
    }
  if (!emu->powered)
    {
      reply_bluez_error (inv, "NotReady", "Resource Not Ready");
      return;
    }
  if (strcmp (method, "StartDiscovery") == 0)
    {
      Client *c = client_get (emu, sender);

      if (c->discovering)
        {
          reply_bluez_error (inv, "InProgress", "Operation already in progress");
          return;
        }
      c->discovering = TRUE;
      if (emu->n_discovering++ == 0)
        iface_set (emu->adapter_iface, "Discovering", g_variant_new_boolean (TRUE));
      discovery_schedule (emu);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (strcmp (method, "StopDiscovery") == 0)
    {
      Client *c = g_hash_table_lookup (emu->clients, sender);

      if (c == NULL || !c->discovering)
        {
          reply_bluez_error (inv, "Failed", "No discovery started");
          return;
        }
      discovery_session_end (emu, c);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (strcmp (method, "SetDiscoveryFilter") == 0)
    {
      g_autoptr (GVariant) filter = g_variant_get_child_value (params, 0);
      g_autoptr (GError) error = NULL;
      Client *c = client_get (emu, sender);

      if (!parse_discovery_filter (c, filter, &error))
        {
          g_dbus_method_invocation_return_gerror (inv, error);
          return;
        }
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else
    g_assert_not_reached ();
}

gboolean
adapter_set_property (Emu *emu, const char *prop, GVariant *value, GError **error)
{
  if (strcmp (prop, "Powered") == 0)
    adapter_set_powered (emu, g_variant_get_boolean (value));
  else if (strcmp (prop, "Alias") == 0)
    {
      const char *alias = g_variant_get_string (value, NULL);

      iface_set (emu->adapter_iface, "Alias",
                 g_variant_new_string (alias[0] != '\0' ? alias : "dermaroll-emulator"));
    }
  else if (strcmp (prop, "Discoverable") == 0 || strcmp (prop, "Pairable") == 0)
    {
      if (!emu->powered && strcmp (prop, "Discoverable") == 0)
        {
          set_bluez_gerror (error, BLUEZ_ERROR_NOT_READY, "Resource Not Ready");
          return FALSE;
        }
      iface_set (emu->adapter_iface, prop, g_variant_ref (value));
    }
  else
    iface_set (emu->adapter_iface, prop, g_variant_ref (value));
  return TRUE;
}

/* ---- AgentManager1 ----------------------------------------------------- */

void
agent_manager_method_call (Emu *emu, const char *sender, const char *method, GVariant *params,
                           GDBusMethodInvocation *inv)
{
  static const char *const capabilities[]
      = { "",  "DisplayOnly", "DisplayYesNo", "KeyboardOnly", "NoInputNoOutput", "KeyboardDisplay",
          NULL };
  Client *c = g_hash_table_lookup (emu->clients, sender);
  const char *path;

  if (strcmp (method, "RegisterAgent") == 0)
    {
      const char *capability;

      g_variant_get (params, "(&o&s)", &path, &capability);
      if (!g_strv_contains (capabilities, capability))
        {
          reply_bluez_error (inv, "InvalidArguments", "Invalid arguments in method call");
          return;
        }
      c = client_get (emu, sender);
      if (c->agent_path != NULL)
        {
          reply_bluez_error (inv, "AlreadyExists", "Already Exists");
          return;
        }
      c->agent_path = g_strdup (path);
      c->agent_capability = g_strdup (capability);
      g_dbus_method_invocation_return_value (inv, NULL);
      return;
    }

  g_variant_get (params, "(&o)", &path);
  if (c == NULL || c->agent_path == NULL || strcmp (c->agent_path, path) != 0)
    {
      reply_bluez_error (inv, "DoesNotExist", "Does Not Exist");
      return;
    }
  if (strcmp (method, "UnregisterAgent") == 0)
    {
      g_clear_pointer (&c->agent_path, g_free);
      g_clear_pointer (&c->agent_capability, g_free);
      if (g_strcmp0 (emu->default_agent_sender, sender) == 0)
        g_clear_pointer (&emu->default_agent_sender, g_free);
    }
  else
    {
      g_free (emu->default_agent_sender);
      emu->default_agent_sender = g_strdup (sender);
    }
  g_dbus_method_invocation_return_value (inv, NULL);
}
