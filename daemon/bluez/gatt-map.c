/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gatt-map.c: UUID → object path of the characteristics of one
 * resolution. Looked up by UUID, never by a remembered handle or path:
 * BlueZ numbers the objects anew on every resolution.
 */
#include "gatt-map.h"

#include "dr-error.h"
#include "roller-protocol.h"

struct _DrGattMap
{
  GHashTable *paths; /* UUID (lower case) → object path */
  gboolean can_acquire;
};

DrGattMap *
dr_gatt_map_new (void)
{
  DrGattMap *map = g_new0 (DrGattMap, 1);

  map->paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return map;
}

void
dr_gatt_map_free (DrGattMap *map)
{
  if (map == NULL)
    return;
  g_hash_table_unref (map->paths);
  g_free (map);
}

void
dr_gatt_map_clear (DrGattMap *map)
{
  g_hash_table_remove_all (map->paths);
  map->can_acquire = FALSE;
}

gboolean
dr_gatt_map_rebuild (DrGattMap *map, GList *chars, const char *label, GError **error)
{
  static const char *const required[] = {
    DR_UUID_ROLL_MEASUREMENT,
    DR_UUID_HEAD_INFO,
    DR_UUID_CONTROL_POINT,
    DR_UUID_STATUS,
  };

  dr_gatt_map_clear (map);
  for (GList *l = chars; l != NULL; l = l->next)
    {
      GDBusProxy *proxy = l->data;
      g_autoptr (GVariant) uuid = g_dbus_proxy_get_cached_property (proxy, "UUID");
      g_autofree char *key = NULL;

      if (uuid == NULL || !g_variant_is_of_type (uuid, G_VARIANT_TYPE_STRING))
        continue;
      key = g_ascii_strdown (g_variant_get_string (uuid, NULL), -1);
      if (g_hash_table_contains (map->paths, key))
        continue;
      if (g_str_equal (key, DR_UUID_ROLL_MEASUREMENT))
        {
          /* Documented: NotifyAcquired is there when AcquireNotify is. */
          g_autoptr (GVariant) acquired
              = g_dbus_proxy_get_cached_property (proxy, "NotifyAcquired");
          map->can_acquire = acquired != NULL;
        }
      g_hash_table_insert (map->paths, g_steal_pointer (&key),
                           g_strdup (g_dbus_proxy_get_object_path (proxy)));
    }

  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (!g_hash_table_contains (map->paths, required[i]))
      {
        g_set_error (error, DR_ERROR, DR_ERROR_NOT_FOUND,
                     "Device %s has no roller characteristic %s", label, required[i]);
        return FALSE;
      }
  return TRUE;
}

const char *
dr_gatt_map_lookup (DrGattMap *map, const char *uuid)
{
  return uuid != NULL ? g_hash_table_lookup (map->paths, uuid) : NULL;
}

gboolean
dr_gatt_map_has_path (DrGattMap *map, const char *path)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, map->paths);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_str_equal (value, path))
      return TRUE;
  return FALSE;
}

guint
dr_gatt_map_size (DrGattMap *map)
{
  return g_hash_table_size (map->paths);
}

gboolean
dr_gatt_map_can_acquire (DrGattMap *map)
{
  return map->can_acquire;
}
