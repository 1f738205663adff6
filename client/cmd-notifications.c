/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-notifications.c: which kinds of desktop notification the daemon
 * sends (Manager1.NotificationKinds), and switching one on or off
 * (Manager1.SetNotificationEnabled), remembered by the daemon.
 */
#include "commands.h"

#include "dr-error.h"
#include "json-writer.h"
#include "table.h"

static int
list_kinds (DrCtl *ctl)
{
  GVariant *kinds = dr_dbus_manager1_get_notification_kinds (ctl->manager);
  GVariantIter iter;
  const char *kind;
  gboolean enabled;

  if (kinds == NULL)
    {
      g_autoptr (GError) error = g_error_new_literal (
          DR_ERROR, DR_ERROR_NOT_SUPPORTED,
          "the daemon offers no notification kinds (a daemon older than this dermarollctl)");
      return dr_ctl_fail (ctl, error);
    }
  if (ctl->json)
    {
      g_autoptr (DrJson) json = dr_json_new (TRUE);

      dr_json_begin_array (json);
      g_variant_iter_init (&iter, kinds);
      while (g_variant_iter_next (&iter, "(&sb)", &kind, &enabled))
        {
          dr_json_begin_object (json);
          dr_json_member_string (json, "kind", kind);
          dr_json_member_bool (json, "enabled", enabled);
          dr_json_end_object (json);
        }
      dr_json_end_array (json);
      dr_ctl_print_json (g_steal_pointer (&json));
      return DR_EXIT_OK;
    }

  {
    g_autoptr (DrTable) table = dr_table_new (ctl->colour, "KIND", "ENABLED", (char *) NULL);
    g_autofree char *text = NULL;

    g_variant_iter_init (&iter, kinds);
    while (g_variant_iter_next (&iter, "(&sb)", &kind, &enabled))
      {
        dr_table_add (table, kind);
        dr_table_add_coloured (table, enabled ? DR_COLOUR_NONE : DR_COLOUR_YELLOW,
                               enabled ? "yes" : "no");
      }
    text = dr_table_render (table);
    dr_ctl_print (text);
  }
  return DR_EXIT_OK;
}

static int
set_enabled (DrCtl *ctl, const char *kind, gboolean enabled)
{
  g_autoptr (GError) error = NULL;

  /* The daemon checks the kind and its error lists the valid ones. */
  if (!dr_dbus_manager1_call_set_notification_enabled_sync (
          ctl->manager, kind, enabled, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return dr_ctl_fail (ctl, error);
  if (enabled)
    g_print ("%s notifications are on.\n", kind);
  else
    g_print ("%s notifications are off (the warnings are still recorded). Switch them on "
             "again with: dermarollctl notifications enable %s\n",
             kind, kind);
  return DR_EXIT_OK;
}

int
dr_cmd_notifications (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  const char *what;
  int status = dr_ctl_parse (ctl, cmd, NULL, &argc, &argv);

  if (status >= 0)
    return status;
  what = argc >= 2 ? argv[1] : "list";
  if (g_str_equal (what, "list"))
    {
      if (argc > 2)
        return dr_ctl_usage (cmd, "notifications list takes no arguments");
    }
  else if (g_str_equal (what, "enable") || g_str_equal (what, "disable"))
    {
      if (argc != 3)
        return dr_ctl_usage (cmd, "notifications %s needs one KIND", what);
      if (ctl->json)
        return dr_ctl_usage (cmd, "--json is for notifications list");
    }
  else
    return dr_ctl_usage (cmd, "unknown notifications command \"%s\" (list, enable or disable)",
                         what);
  if (!dr_ctl_connect (ctl, &error))
    return dr_ctl_fail (ctl, error);
  if (g_str_equal (what, "list"))
    return list_kinds (ctl);
  return set_enabled (ctl, argv[2], g_str_equal (what, "enable"));
}
