/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zone-list.c: see zone-list.h. */
#include "zone-list.h"

static void
zone_info_clear (gpointer data)
{
  DrZoneInfo *zone = data;
  g_free (zone->name);
}

static gint
compare_id (gconstpointer a, gconstpointer b)
{
  const DrZoneInfo *za = a, *zb = b;
  return (gint) za->id - (gint) zb->id;
}

GArray *
dr_zone_list_fetch (DrDBusManager1 *manager, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  GArray *zones;
  GVariantIter iter;
  DrZoneInfo zone;
  const char *name;

  if (!dr_dbus_manager1_call_get_zones_sync (manager, G_DBUS_CALL_FLAGS_NONE, -1, &reply, NULL,
                                             error))
    return NULL;
  zones = g_array_new (FALSE, TRUE, sizeof (DrZoneInfo));
  g_array_set_clear_func (zones, zone_info_clear);
  g_variant_iter_init (&iter, reply);
  while (g_variant_iter_next (&iter, "(y&sddb)", &zone.id, &name, &zone.area_cm2,
                              &zone.target_passes, &zone.excluded))
    {
      zone.name = g_strdup (name);
      g_array_append_val (zones, zone);
    }
  /* Documented "by id"; sorted here so nothing depends on it. */
  g_array_sort (zones, compare_id);
  /* cppcheck-suppress memleak ; zone.name belongs to the array now: zone_info_clear frees it */
  return zones;
}

const DrZoneInfo *
dr_zone_list_find (GArray *zones, const char *name)
{
  for (guint i = 0; zones != NULL && i < zones->len; i++)
    {
      const DrZoneInfo *zone = &g_array_index (zones, DrZoneInfo, i);
      if (g_strcmp0 (zone->name, name) == 0)
        return zone;
    }
  return NULL;
}

void
dr_zone_list_set_excluded (GArray *zones, const char *const *excluded)
{
  for (guint i = 0; zones != NULL && i < zones->len; i++)
    {
      DrZoneInfo *zone = &g_array_index (zones, DrZoneInfo, i);
      zone->excluded = excluded != NULL && g_strv_contains (excluded, zone->name);
    }
}

char **
dr_zone_list_names (GArray *zones)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char **names;

  for (guint i = 0; zones != NULL && i < zones->len; i++)
    g_strv_builder_add (builder, g_array_index (zones, DrZoneInfo, i).name);
  names = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return names;
}
