/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-zones.c: the zones the daemon knows, and excluding or including one
 * (Manager1.GetZones, SetZoneExcluded).
 */
#include "commands.h"

#include "face-map.h"
#include "format.h"
#include "json-writer.h"
#include "table.h"
#include "zone-list.h"

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

  if (names_only)
    {
      for (guint i = 0; i < zones->len; i++)
        g_print ("%s\n", g_array_index (zones, DrZoneInfo, i).name);
      return DR_EXIT_OK;
    }

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
          dr_json_end_object (json);
        }
      dr_json_end_array (json);
      dr_ctl_print_json (g_steal_pointer (&json));
      return DR_EXIT_OK;
    }

  {
    g_autoptr (DrTable) table = dr_table_new (ctl->colour, "ID", "ZONE", "AREA", "TARGET PASSES",
                                              "EXCLUDED", (char *) NULL);
    g_autofree char *text = NULL;

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
        dr_table_add_coloured (table, z->excluded ? DR_COLOUR_RED : DR_COLOUR_NONE,
                               z->excluded ? "yes" : "no");
      }
    text = dr_table_render (table);
    dr_ctl_print (text);
  }
  return DR_EXIT_OK;
}

static int
set_excluded (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv, gboolean excluded)
{
  g_autoptr (GError) error = NULL;
  int status = dr_ctl_parse (ctl, cmd, NULL, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 2)
    return dr_ctl_usage (cmd, "%s needs one ZONE", cmd->name);
  if (!dr_ctl_connect (ctl, &error))
    return dr_ctl_fail (ctl, error);
  /* The daemon checks the name and its error lists the valid ones. */
  if (!dr_dbus_manager1_call_set_zone_excluded_sync (ctl->manager, argv[1], excluded,
                                                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return dr_ctl_fail (ctl, error);
  if (excluded)
    g_print ("Excluded %s: every roller warns on contact there until 'dermarollctl include %s'.\n",
             argv[1], argv[1]);
  else
    g_print ("Included %s again.\n", argv[1]);
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
