/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-zones.c: the zones the daemon knows, for one person: excluded or
 * not, when last treated and when free again (Manager1.GetZones,
 * Person1.ExcludedZones, GetRestStatus); and excluding or including one
 * (Person1.SetZoneExcluded).
 */
#include "commands.h"

#include "face-map.h"
#include "format.h"
#include "json-writer.h"
#include "people.h"
#include "table.h"
#include "zone-list.h"

/* The zone's rest for scripts: null for "never treated" and for "free
 * now" rather than the daemon's 0, as for a session's end_ms. */
static void
zone_rest_json (DrJson *json, const DrRest *rest)
{
  dr_json_key (json, "last_treated_ms");
  if (rest != NULL && rest->last_treated_ms != 0)
    dr_json_int (json, rest->last_treated_ms);
  else
    dr_json_null (json);
  dr_json_key (json, "free_from_ms");
  if (rest != NULL && rest->free_from_ms != 0)
    dr_json_int (json, rest->free_from_ms);
  else
    dr_json_null (json);
}

int
dr_cmd_zones (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  gboolean names_only = FALSE;
  const GOptionEntry entries[]
      = { { "names", 0, 0, G_OPTION_ARG_NONE, &names_only,
            "Only the names, one a line (for scripts and shell completion)", NULL },
          { NULL } };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) zones = NULL;
  g_autoptr (DrDBusPerson1) person = NULL;
  g_autoptr (GHashTable) rest = NULL;
  gint64 now_ms = g_get_real_time () / 1000;
  int status = dr_ctl_parse (ctl, cmd, entries, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 1)
    return dr_ctl_usage (cmd, "zones takes no arguments");
  if (names_only && ctl->json)
    return dr_ctl_usage (cmd, "--names and --json exclude each other");
  if (!dr_ctl_connect (ctl, &error))
    return dr_ctl_fail (ctl, error);
  zones = dr_zone_list_fetch (ctl->manager, &error);
  if (zones == NULL)
    return dr_ctl_fail (ctl, error);

  /* Shell completion asks for the names alone, quickly: nobody's rest
   * (a --person given is still checked). */
  if (names_only)
    {
      if (ctl->person != NULL)
        {
          status = dr_ctl_resolve_person (ctl, cmd, NULL, &person);
          if (status >= 0)
            return status;
        }
      for (guint i = 0; i < zones->len; i++)
        g_print ("%s\n", g_array_index (zones, DrZoneInfo, i).name);
      return DR_EXIT_OK;
    }

  status = dr_ctl_resolve_person (ctl, cmd, NULL, &person);
  if (status >= 0)
    return status;
  dr_zone_list_set_excluded (zones, dr_dbus_person1_get_excluded_zones (person));
  rest = dr_people_rest_status (person, &error);
  if (rest == NULL)
    return dr_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr (DrJson) json = dr_json_new (TRUE);

      dr_json_begin_array (json);
      for (guint i = 0; i < zones->len; i++)
        {
          const DrZoneInfo *z = &g_array_index (zones, DrZoneInfo, i);
          dr_json_begin_object (json);
          dr_json_member_uint (json, "id", z->id);
          dr_json_member_string (json, "name", z->name);
          dr_json_member_double (json, "area_cm2", z->area_cm2);
          dr_json_member_double (json, "target_passes", z->target_passes);
          dr_json_member_bool (json, "excluded", z->excluded);
          dr_json_member_bool (json, "on_face", dr_face_map_is_face_zone (z->name));
          zone_rest_json (json, g_hash_table_lookup (rest, z->name));
          dr_json_end_object (json);
        }
      dr_json_end_array (json);
      dr_ctl_print_json (g_steal_pointer (&json));
      return DR_EXIT_OK;
    }

  {
    g_autoptr (DrTable) table
        = dr_table_new (ctl->colour, "ID", "ZONE", "AREA", "TARGET PASSES", "EXCLUDED",
                        "LAST TREATED", "AGAIN FROM", (char *) NULL);
    g_autofree char *text = NULL;
    const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (person));
    gboolean is_default = g_strcmp0 (path, dr_dbus_manager1_get_default_person (ctl->manager)) == 0;

    dr_table_align_right (table, 0);
    dr_table_align_right (table, 2);
    dr_table_align_right (table, 3);
    for (guint i = 0; i < zones->len; i++)
      {
        const DrZoneInfo *z = &g_array_index (zones, DrZoneInfo, i);
        dr_table_take (table, g_strdup_printf ("%u", z->id));
        dr_table_add (table, z->name);
        dr_table_take (table, dr_fmt_area (z->area_cm2));
        dr_table_take (table, g_strdup_printf ("%g", z->target_passes));
        const DrRest *r = g_hash_table_lookup (rest, z->name);
        gboolean resting = r != NULL && r->free_from_ms > now_ms;

        dr_table_add_coloured (table, z->excluded ? DR_COLOUR_RED : DR_COLOUR_NONE,
                               z->excluded ? "yes" : "no");
        dr_table_take (table, dr_fmt_local_time (r ? r->last_treated_ms : 0));
        dr_table_take_coloured (table, resting ? DR_COLOUR_YELLOW : DR_COLOUR_GREEN,
                                r ? dr_fmt_again_from (r->free_from_ms, now_ms) : g_strdup ("—"));
      }
    text = dr_table_render (table);
    g_print ("Zones of %s%s (local time):\n\n", dr_dbus_person1_get_name (person),
             is_default ? ", the default person" : "");
    dr_ctl_print (text);
  }
  return DR_EXIT_OK;
}

static int
set_excluded (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv, gboolean excluded)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusPerson1) person = NULL;
  g_autofree char *name = NULL;
  g_autofree char *undo = NULL;
  int status = dr_ctl_parse (ctl, cmd, NULL, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 2)
    return dr_ctl_usage (cmd, "%s needs one ZONE", cmd->name);
  status = dr_ctl_resolve_person (ctl, cmd, NULL, &person);
  if (status >= 0)
    return status;
  /* The daemon checks the name and its error lists the valid ones. */
  if (!dr_dbus_person1_call_set_zone_excluded_sync (person, argv[1], excluded,
                                                    G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return dr_ctl_fail (ctl, error);
  name = g_strdup (dr_dbus_person1_get_name (person));
  if (!excluded)
    {
      g_print ("Included %s again for %s.\n", argv[1], name);
      return DR_EXIT_OK;
    }
  /* The way back names the person only where the default would not do. */
  if (ctl->person != NULL)
    {
      g_autofree char *word = dr_fmt_shell_word (name);
      undo = g_strdup_printf ("dermarollctl include %s --person %s", argv[1], word);
    }
  else
    undo = g_strdup_printf ("dermarollctl include %s", argv[1]);
  g_print ("Excluded %s for %s: their rollers warn on contact there. Include it again with: %s\n",
           argv[1], name, undo);
  return DR_EXIT_OK;
}

int
dr_cmd_exclude (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  return set_excluded (ctl, cmd, argc, argv, TRUE);
}

int
dr_cmd_include (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  return set_excluded (ctl, cmd, argc, argv, FALSE);
}
