/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller-view.c: see roller-view.h. */
#include "roller-view.h"

#include <math.h>
#include <string.h>

void
dr_roller_view_json (DrJson *json, DrDBusRoller1 *roller, const char *person_name)
{
  GVariant *coverage = dr_dbus_roller1_get_coverage (roller);

  dr_json_begin_object (json);
  dr_json_member_string (json, "address", dr_dbus_roller1_get_address (roller));
  dr_json_member_string (json, "name", dr_dbus_roller1_get_name (roller));
  dr_json_member_string (json, "object_path", g_dbus_proxy_get_object_path (G_DBUS_PROXY (roller)));
  dr_json_member_bool (json, "paired", dr_dbus_roller1_get_paired (roller));
  dr_json_member_bool (json, "connected", dr_dbus_roller1_get_connected (roller));
  dr_json_member_uint (json, "battery_percent", dr_dbus_roller1_get_battery (roller));
  dr_json_member_string (json, "firmware_version", dr_dbus_roller1_get_firmware_version (roller));
  dr_json_member_uint (json, "needle_length_um", dr_dbus_roller1_get_needle_length (roller));
  dr_json_member_uint (json, "needle_count", dr_dbus_roller1_get_needle_count (roller));
  dr_json_member_uint (json, "head_id", dr_dbus_roller1_get_head_id (roller));
  dr_json_member_double (json, "head_wear", dr_dbus_roller1_get_head_wear (roller));
  dr_json_member_uint (json, "active_session", dr_dbus_roller1_get_active_session (roller));
  dr_json_member_string (json, "person", person_name);
  dr_json_member_string (json, "person_object_path", dr_dbus_roller1_get_person (roller));
  dr_json_member_string (json, "zone", dr_dbus_roller1_get_zone (roller));
  dr_json_member_string (json, "current_zone", dr_dbus_roller1_get_current_zone (roller));
  dr_json_member_double (json, "force_n", dr_dbus_roller1_get_force (roller));
  dr_json_member_double (json, "force_limit_n", dr_dbus_roller1_get_force_limit (roller));
  dr_json_key (json, "coverage");
  if (coverage != NULL)
    dr_json_variant (json, coverage);
  else
    {
      dr_json_begin_object (json);
      dr_json_end_object (json);
    }
  dr_json_member_uint (json, "dropped_frames", dr_dbus_roller1_get_dropped_frames (roller));
  dr_json_member_uint (json, "malformed_frames", dr_dbus_roller1_get_malformed_frames (roller));
  dr_roller_view_json_rssi (json, roller);
  dr_json_end_object (json);
}

char *
dr_roller_view_title (DrDBusRoller1 *roller)
{
  const char *address = dr_dbus_roller1_get_address (roller);
  const char *name = dr_dbus_roller1_get_name (roller);

  if (name == NULL || name[0] == '\0' || g_strcmp0 (name, address) == 0)
    return g_strdup (address);
  return g_strdup_printf ("%s (%s)", name, address);
}

void
dr_roller_view_json_rssi (DrJson *json, DrDBusRoller1 *roller)
{
  /* RSSI 0 means bluetoothd gave none: null rather than a made-up 0 dBm. */
  dr_json_key (json, "rssi_dbm");
  if (dr_dbus_roller1_get_rssi (roller) != 0)
    dr_json_int (json, dr_dbus_roller1_get_rssi (roller));
  else
    dr_json_null (json);
}

char *
dr_text_bar (double fraction, guint width)
{
  GString *out = g_string_new ("[");
  guint filled;

  if (!isfinite (fraction))
    fraction = 0;
  fraction = CLAMP (fraction, 0.0, 1.0);
  filled = (guint) lround (fraction * width);
  for (guint i = 0; i < width; i++)
    g_string_append (out, i < filled ? "█" : "░");
  g_string_append_c (out, ']');
  return g_string_free (out, FALSE);
}

DrColour
dr_force_colour (double force_n, double limit_n)
{
  if (limit_n <= 0)
    return DR_COLOUR_NONE;
  if (force_n > limit_n)
    return DR_COLOUR_RED;
  if (force_n > 0.8 * limit_n)
    return DR_COLOUR_YELLOW;
  return DR_COLOUR_GREEN;
}

char *
dr_force_bar (double force_n, double limit_n, guint width, gboolean colour)
{
  GString *out = g_string_new ("[");
  g_autofree char *force = dr_fmt_newtons (force_n);
  g_autofree char *limit = limit_n > 0 ? dr_fmt_newtons (limit_n) : g_strdup ("—");
  double span = limit_n > 0 ? 1.5 * limit_n : 10.0;
  guint mark = limit_n > 0 ? (guint) lround (width / 1.5) : width + 1;
  guint filled;
  DrColour c = dr_force_colour (force_n, limit_n);

  if (!isfinite (force_n) || force_n < 0)
    force_n = 0;
  filled = (guint) lround (MIN (force_n / span, 1.0) * width);
  if (colour)
    g_string_append (out, dr_fmt_colour_on (c));
  for (guint i = 0; i < width; i++)
    {
      if (i == mark)
        {
          /* The limit mark stays plain so it shows on a full bar too. */
          if (colour)
            g_string_append_printf (out, "%s|%s", dr_fmt_colour_off (), dr_fmt_colour_on (c));
          else
            g_string_append_c (out, '|');
        }
      g_string_append (out, i < filled ? "█" : "░");
    }
  if (colour)
    g_string_append (out, dr_fmt_colour_off ());
  g_string_append_printf (out, "]  %s / %s", force, limit);
  return g_string_free (out, FALSE);
}

DrColour
dr_battery_colour (guint battery_percent)
{
  if (battery_percent == 0)
    return DR_COLOUR_NONE;
  if (battery_percent <= DR_BATTERY_LOW_PERCENT)
    return DR_COLOUR_RED;
  return DR_COLOUR_NONE;
}

DrColour
dr_wear_colour (double wear)
{
  if (wear >= 1.0)
    return DR_COLOUR_RED;
  if (wear >= 0.8)
    return DR_COLOUR_YELLOW;
  return DR_COLOUR_NONE;
}

DrColour
dr_coverage_colour (double coverage)
{
  if (coverage >= 1.0)
    return DR_COLOUR_GREEN;
  if (coverage >= 0.5)
    return DR_COLOUR_YELLOW;
  return DR_COLOUR_NONE;
}

char *
dr_fmt_battery (DrDBusRoller1 *roller)
{
  guint battery = dr_dbus_roller1_get_battery (roller);

  /* The daemon reports 0 until it has read the level. */
  if (battery == 0)
    return g_strdup ("—");
  return g_strdup_printf ("%u %%", battery);
}

static int
order_of (const char *const *order, const char *name)
{
  if (order != NULL)
    for (int i = 0; order[i] != NULL; i++)
      if (strcmp (order[i], name) == 0)
        return i;
  /* "unassigned" after every real zone. */
  return strcmp (name, "unassigned") == 0 ? G_MAXINT : G_MAXINT - 1;
}

static gint
compare_zones (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const char *za = *(const char *const *) a, *zb = *(const char *const *) b;
  int oa = order_of (user_data, za), ob = order_of (user_data, zb);

  if (oa != ob)
    return oa < ob ? -1 : 1;
  return strcmp (za, zb);
}

GPtrArray *
dr_coverage_zone_names (GVariant *coverage, const char *const *zone_order)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *name;
  double value;

  if (coverage == NULL)
    return names;
  g_variant_iter_init (&iter, coverage);
  while (g_variant_iter_next (&iter, "{&sd}", &name, &value))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort_with_data (names, compare_zones, (gpointer) zone_order);
  return names;
}
