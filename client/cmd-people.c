/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-people.c: the people whose skin is treated: listing them, adding,
 * renaming and removing one, and giving a roller to one (Person1 objects,
 * Manager1.AddPerson/RemovePerson, Roller1.SetPerson).
 *
 * People are named by their Name, as a person types it; the daemon's
 * object paths never show, except in --json.
 */
#include "commands.h"

#include <string.h>

#include "dr-error.h"
#include "format.h"
#include "json-writer.h"
#include "people.h"
#include "roller-view.h"
#include "table.h"

/* "nose, chin", "—" for none. */
static char *
joined_or_dash (const char *const *items)
{
  if (items == NULL || items[0] == NULL)
    return g_strdup ("—");
  return g_strjoinv (", ", (char **) items);
}

static void
json_string_array (DrJson *json, const char *key, const char *const *items)
{
  dr_json_key (json, key);
  dr_json_begin_array (json);
  for (gsize i = 0; items != NULL && items[i] != NULL; i++)
    dr_json_string (json, items[i]);
  dr_json_end_array (json);
}

int
dr_cmd_people (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  gboolean names_only = FALSE;
  const GOptionEntry entries[]
      = { { "names", 0, 0, G_OPTION_ARG_NONE, &names_only,
            "Only the names, one a line (for scripts and shell completion)", NULL },
          { NULL } };
  g_autoptr (GError) error = NULL;
  GList *people;
  const char *default_path;
  int status = dr_ctl_parse (ctl, cmd, entries, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 1)
    return dr_ctl_usage (cmd, "people takes no arguments");
  if (names_only && ctl->json)
    return dr_ctl_usage (cmd, "--names and --json exclude each other");
  people = dr_ctl_people (ctl, &error);
  if (people == NULL)
    return dr_ctl_fail (ctl, error);
  default_path = dr_dbus_manager1_get_default_person (ctl->manager);

  if (names_only)
    {
      for (GList *l = people; l != NULL; l = l->next)
        g_print ("%s\n", dr_dbus_person1_get_name (l->data));
      return DR_EXIT_OK;
    }

  if (ctl->json)
    {
      g_autoptr (DrJson) json = dr_json_new (TRUE);

      dr_json_begin_array (json);
      for (GList *l = people; l != NULL; l = l->next)
        {
          const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (l->data));
          g_auto (GStrv) rollers = dr_people_rollers (ctl->objects, path);

          dr_json_begin_object (json);
          dr_json_member_string (json, "name", dr_dbus_person1_get_name (l->data));
          dr_json_member_string (json, "object_path", path);
          dr_json_member_bool (json, "default", g_strcmp0 (path, default_path) == 0);
          json_string_array (json, "rollers", (const char *const *) rollers);
          json_string_array (json, "excluded_zones", dr_dbus_person1_get_excluded_zones (l->data));
          dr_json_end_object (json);
        }
      dr_json_end_array (json);
      dr_ctl_print_json (g_steal_pointer (&json));
      return DR_EXIT_OK;
    }

  {
    g_autoptr (DrTable) table
        = dr_table_new (ctl->colour, "NAME", "DEFAULT", "ROLLERS", "EXCLUDED ZONES", (char *) NULL);
    g_autofree char *text = NULL;

    for (GList *l = people; l != NULL; l = l->next)
      {
        const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (l->data));
        g_auto (GStrv) rollers = dr_people_rollers (ctl->objects, path);
        gboolean is_default = g_strcmp0 (path, default_path) == 0;

        dr_table_add (table, dr_dbus_person1_get_name (l->data));
        dr_table_add_coloured (table, is_default ? DR_COLOUR_BOLD : DR_COLOUR_DIM,
                               is_default ? "yes" : "no");
        dr_table_take (table, joined_or_dash ((const char *const *) rollers));
        dr_table_take (table, joined_or_dash (dr_dbus_person1_get_excluded_zones (l->data)));
      }
    text = dr_table_render (table);
    dr_ctl_print (text);
  }
  return DR_EXIT_OK;
}

/* ---- person add / rename / remove / use --------------------------------- */

/* How many stored sessions are @person's, for what remove says; -1 when
 * the daemon does not say. */
static gint64
count_sessions (DrCtl *ctl, DrDBusPerson1 *person)
{
  g_autoptr (GVariant) sessions = NULL;

  if (!dr_dbus_manager1_call_list_person_sessions_sync (
          ctl->manager, 0, 0, g_dbus_proxy_get_object_path (G_DBUS_PROXY (person)),
          G_DBUS_CALL_FLAGS_NONE, -1, &sessions, NULL, NULL))
    return -1;
  return (gint64) g_variant_n_children (sessions);
}

static char *
sessions_text (gint64 n)
{
  if (n < 0)
    return g_strdup ("sessions");
  return g_strdup_printf ("%" G_GINT64_FORMAT " session%s", n, n == 1 ? "" : "s");
}

static int
person_add (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *word = NULL;

  if (argc != 3)
    return dr_ctl_usage (cmd, "person add needs one NAME");
  if (!dr_ctl_connect (ctl, &error))
    return dr_ctl_fail (ctl, error);
  /* The daemon checks the name (empty, taken) and says what is wrong. */
  if (!dr_dbus_manager1_call_add_person_sync (ctl->manager, argv[2], G_DBUS_CALL_FLAGS_NONE, -1,
                                              &path, NULL, &error))
    return dr_ctl_fail (ctl, error);
  word = dr_fmt_shell_word (argv[2]);
  g_print ("Added %s. Give them a roller with: dermarollctl person use %s\n", argv[2], word);
  return DR_EXIT_OK;
}

static int
person_rename (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusPerson1) person = NULL;
  g_autofree char *old_name = NULL;
  int status;

  if (argc != 4)
    return dr_ctl_usage (cmd, "person rename needs OLD and NEW names");
  status = dr_ctl_resolve_person (ctl, cmd, argv[2], &person);
  if (status >= 0)
    return status;
  old_name = g_strdup (dr_dbus_person1_get_name (person));
  if (!dr_dbus_person1_call_rename_sync (person, argv[3], G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return dr_ctl_fail (ctl, error);
  g_print ("Renamed %s to %s.\n", old_name, argv[3]);
  return DR_EXIT_OK;
}

static int
person_remove (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv, gboolean delete_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusPerson1) person = NULL;
  g_autofree char *name = NULL;
  g_autofree char *sessions = NULL;
  g_auto (GStrv) rollers = NULL;
  const char *path;
  gint64 n_sessions;
  int status;

  if (argc != 3)
    return dr_ctl_usage (cmd, "person remove needs one NAME");
  status = dr_ctl_resolve_person (ctl, cmd, argv[2], &person);
  if (status >= 0)
    return status;
  path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (person));
  name = g_strdup (dr_dbus_person1_get_name (person));
  /* Asked before: afterwards the sessions are nobody's, or gone. */
  n_sessions = count_sessions (ctl, person);
  sessions = sessions_text (n_sessions);
  rollers = dr_people_rollers (ctl->objects, path);
  if (!dr_dbus_manager1_call_remove_person_sync (ctl->manager, path, delete_data,
                                                 G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return dr_ctl_fail (ctl, error);
  if (delete_data)
    g_print ("Removed %s and deleted their %s.\n", name, sessions);
  else
    g_print ("Removed %s. Their %s %s in the database, owned by nobody.\n", name, sessions,
             n_sessions == 1 ? "stays" : "stay");
  if (rollers[0] != NULL)
    {
      g_autofree char *list = g_strjoinv (", ", rollers);
      DrDBusPerson1 *fallback
          = dr_people_lookup (ctl->people, dr_dbus_manager1_get_default_person (ctl->manager));

      g_print ("%s %s to %s, the default person.\n", list, rollers[1] != NULL ? "go" : "goes",
               fallback ? dr_dbus_person1_get_name (fallback) : "the default person");
    }
  return DR_EXIT_OK;
}

static int
person_use (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusPerson1) person = NULL;
  g_autoptr (DrDBusRoller1) roller = NULL;
  g_autofree char *title = NULL;
  g_autofree char *before_person = NULL;
  const char *path;
  guint64 before_session;
  int status;

  if (argc != 3)
    return dr_ctl_usage (cmd, "person use needs one NAME");
  status = dr_ctl_resolve_person (ctl, cmd, argv[2], &person);
  if (status >= 0)
    return status;
  status = dr_ctl_resolve_roller (ctl, cmd, NULL, &roller);
  if (status >= 0)
    return status;
  path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (person));
  before_session = dr_dbus_roller1_get_active_session (roller);
  before_person = g_strdup (dr_dbus_roller1_get_person (roller));
  if (!dr_dbus_roller1_call_set_person_sync (roller, path, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                             &error))
    return dr_ctl_fail (ctl, error);
  title = dr_roller_view_title (roller);
  if (g_strcmp0 (before_person, path) == 0)
    {
      g_print ("%s already rolls for %s.\n", title, dr_dbus_person1_get_name (person));
      return DR_EXIT_OK;
    }
  g_print ("%s now rolls for %s: their history, rest and excluded zones apply.\n", title,
           dr_dbus_person1_get_name (person));
  /* Roller1.SetPerson ends a session in progress for the one before. */
  if (before_session != 0)
    {
      const char *was = dr_ctl_person_name (ctl, before_person);
      g_print ("Session %" G_GUINT64_FORMAT "%s%s ended first.\n", before_session,
               was ? " of " : "", was ? was : "");
    }
  return DR_EXIT_OK;
}

int
dr_cmd_person (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  gboolean delete_data = FALSE;
  const GOptionEntry entries[]
      = { { "delete-data", 0, 0, G_OPTION_ARG_NONE, &delete_data,
            "With remove: delete the person's sessions too (otherwise they stay, owned by "
            "nobody)",
            NULL },
          { NULL } };
  const char *what;
  int status = dr_ctl_parse (ctl, cmd, entries, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc < 2)
    return dr_ctl_usage (cmd, "person needs add, rename, remove or use");
  what = argv[1];
  if (delete_data && !g_str_equal (what, "remove"))
    return dr_ctl_usage (cmd, "--delete-data is for person remove");
  if (ctl->roller != NULL && !g_str_equal (what, "use"))
    return dr_ctl_usage (cmd, "--roller is for person use");
  if (g_str_equal (what, "add"))
    return person_add (ctl, cmd, argc, argv);
  if (g_str_equal (what, "rename"))
    return person_rename (ctl, cmd, argc, argv);
  if (g_str_equal (what, "remove"))
    return person_remove (ctl, cmd, argc, argv, delete_data);
  if (g_str_equal (what, "use"))
    return person_use (ctl, cmd, argc, argv);
  return dr_ctl_usage (cmd, "unknown person command \"%s\" (add, rename, remove or use)", what);
}
