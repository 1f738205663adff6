/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctl.c: option parsing, error messages and the connection to dermarolld
 * shared by every command; see ctl.h.
 */
#include "ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dr-error.h"
#include "format.h"
#include "people.h"

/* Activation starts dermarolld and waits for it to own its name. */
#define START_TIMEOUT_MS (30 * 1000)

static gboolean
roller_option (const char *option_name, const char *value, gpointer data, GError **error)
{
  DrCtl *ctl = data;

  g_free (ctl->roller);
  ctl->roller = g_strdup (value);
  return TRUE;
}

static gboolean
person_option (const char *option_name, const char *value, gpointer data, GError **error)
{
  DrCtl *ctl = data;

  g_free (ctl->person);
  ctl->person = g_strdup (value);
  return TRUE;
}

int
dr_ctl_parse (DrCtl *ctl, const DrCommand *cmd, const GOptionEntry *entries, int *argc,
              char ***argv)
{
  const GOptionEntry system_entries[]
      = { { "system", 0, 0, G_OPTION_ARG_NONE, &ctl->system,
            "Talk to dermarolld on the system bus, not the session bus", NULL },
          { NULL } };
  GOptionEntry roller_entries[]
      = { { "roller", 'r', 0, G_OPTION_ARG_CALLBACK, (gpointer) roller_option,
            "The roller to use (needed when several are known)", "ADDRESS" },
          { NULL } };
  GOptionEntry person_entries[]
      = { { "person", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer) person_option,
            "The person whose sessions, zones and rest are meant (default: the default person; "
            "'dermarollctl people' lists them)",
            "NAME" },
          { NULL } };
  GOptionEntry json_entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, "Print JSON for scripts", NULL },
          { NULL } };
  g_autofree char *parameter
      = g_strdup_printf ("%s%s%s", cmd->name, cmd->args ? " " : "", cmd->args ? cmd->args : "");
  g_autoptr (GOptionContext) context = g_option_context_new (parameter);
  GOptionGroup *main_group = g_option_group_new (NULL, NULL, NULL, ctl, NULL);
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (context, cmd->summary);
  if (cmd->description != NULL)
    g_option_context_set_description (context, cmd->description);
  if (entries != NULL)
    g_option_group_add_entries (main_group, entries);
  /* Always parsed, shown only where they mean something: a command that
   * does not take them says so, rather than "Unknown option". */
  if (!(cmd->flags & DR_CMD_ROLLER))
    roller_entries[0].flags |= G_OPTION_FLAG_HIDDEN;
  if (!(cmd->flags & DR_CMD_JSON))
    json_entries[0].flags |= G_OPTION_FLAG_HIDDEN;
  if (!(cmd->flags & DR_CMD_PERSON))
    person_entries[0].flags |= G_OPTION_FLAG_HIDDEN;
  g_option_group_add_entries (main_group, roller_entries);
  g_option_group_add_entries (main_group, person_entries);
  g_option_group_add_entries (main_group, json_entries);
  g_option_group_add_entries (main_group, system_entries);
  g_option_context_set_main_group (context, main_group);

  if (!g_option_context_parse (context, argc, argv, &error))
    return dr_ctl_usage (cmd, "%s", error->message);

  /* Given before the command's name, these reach every command. */
  if (ctl->json && !(cmd->flags & DR_CMD_JSON))
    return dr_ctl_usage (cmd, "%s has no --json output", cmd->name);
  if (ctl->roller != NULL && !(cmd->flags & DR_CMD_ROLLER))
    return dr_ctl_usage (cmd, "%s does not take --roller", cmd->name);
  if (ctl->person != NULL && !(cmd->flags & DR_CMD_PERSON))
    return dr_ctl_usage (cmd, "%s does not take --person", cmd->name);
  if (ctl->roller != NULL && !dr_address_is_valid (ctl->roller))
    return dr_ctl_usage (cmd, "--roller: \"%s\" is not a Bluetooth address (AA:BB:CC:DD:EE:FF)",
                         ctl->roller);
  return -1;
}

/* Every error the client reports is one "dermarollctl: MESSAGE" line on
 * stderr; usage errors and failures differ only in what follows it. */
static void print_error_v (const char *format, va_list args) G_GNUC_PRINTF (1, 0);

static void
print_error_v (const char *format, va_list args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);

  g_printerr ("dermarollctl: %s\n", message);
}

int
dr_ctl_usage (const DrCommand *cmd, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  print_error_v (format, args);
  va_end (args);
  if (cmd != NULL)
    g_printerr ("Try 'dermarollctl %s --help'.\n", cmd->name);
  else
    g_printerr ("Try 'dermarollctl --help'.\n");
  return DR_EXIT_USAGE;
}

int
dr_ctl_failf (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  print_error_v (format, args);
  va_end (args);
  return DR_EXIT_FAILURE;
}

const char *
dr_ctl_bus_name (DrCtl *ctl)
{
  return ctl->system ? "system" : "session";
}

static gboolean
daemon_has_name (DrCtl *ctl)
{
  g_autoptr (GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  if (ctl->connection == NULL || g_dbus_connection_is_closed (ctl->connection))
    return FALSE;
  reply = g_dbus_connection_call_sync (
      ctl->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new ("(s)", DR_BUS_NAME), G_VARIANT_TYPE ("(b)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

static char *
not_running_message (DrCtl *ctl)
{
  return g_strdup_printf ("dermarolld is not running (%s not on the %s bus)", DR_BUS_NAME,
                          dr_ctl_bus_name (ctl));
}

/* The file dermarolld reads when started without --config (daemon/main.c). */
static char *
daemon_config_path (DrCtl *ctl)
{
  g_autofree char *user
      = g_build_filename (g_get_user_config_dir (), "dermaroll", "dermaroll.conf", NULL);

  if (!ctl->system && g_file_test (user, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&user);
  return g_strdup (SYSCONFDIR "/dermaroll/dermaroll.conf");
}

/* dbus-daemon only says that the process it started exited, and with
 * which status: 78 (EX_CONFIG) is dermarolld refusing its configuration,
 * which the user can fix. Through systemd the status is not passed on, so a
 * failed unit gets the same hint. NULL for any other failure. */
static char *
config_refused_message (DrCtl *ctl, const GError *error)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);
  g_autofree char *path = daemon_config_path (ctl);
  const char *check
      = ctl->system ? "dermarolld --check-config --system" : "dermarolld --check-config";

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED)
      && g_str_has_suffix (error->message, " status 78"))
    return g_strdup_printf ("dermarolld refused its configuration and did not start: run '%s' "
                            "to see every problem (config file: %s)",
                            check, path);
  if (remote != NULL && g_str_has_prefix (remote, "org.freedesktop.systemd1."))
    return g_strdup_printf ("dermarolld could not be started (%s); if it refused its "
                            "configuration, '%s' lists every problem (config file: %s); its "
                            "log: journalctl %s-u dermarolld",
                            error->message, check, path, ctl->system ? "" : "--user ");
  return NULL;
}

int
dr_ctl_fail (DrCtl *ctl, const GError *error)
{
  g_autoptr (GError) copy = g_error_copy (error);
  g_autofree char *remote = g_dbus_error_get_remote_error (error);
  g_autofree char *message = NULL;

  g_dbus_error_strip_remote_error (copy);

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED))
    message = g_strdup (copy->message);
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
           || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)
           || ((error->domain == G_DBUS_ERROR || error->domain == G_IO_ERROR)
               && ctl->connection != NULL && !daemon_has_name (ctl)))
    /* Whatever the bus said, a daemon that is not there is the cause. */
    message = not_running_message (ctl);
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY)
           || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT)
           || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    message = g_strdup_printf ("dermarolld did not answer in time (%s)", copy->message);
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
    message = g_strdup_printf (
        "not allowed to talk to dermarolld on the %s bus%s: %s", dr_ctl_bus_name (ctl),
        ctl->system ? " (are you in the dermaroll group?)" : "", copy->message);
  else
    message = g_strdup (copy->message);

  g_debug ("error %s %d (%s): %s", g_quark_to_string (error->domain), error->code,
           remote ? remote : "local", error->message);
  return dr_ctl_failf ("%s", message);
}

gboolean
dr_ctl_connect (DrCtl *ctl, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GBusType type = ctl->system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION;

  if (ctl->manager != NULL)
    return TRUE;

  /* Remote org.dermaroll.Error.* names become DR_ERROR codes from here on. */
  (void) DR_ERROR;

  ctl->connection = g_bus_get_sync (type, NULL, &local_error);
  if (ctl->connection == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "cannot connect to the %s bus: %s",
                   dr_ctl_bus_name (ctl), local_error->message);
      return FALSE;
    }

  if (!daemon_has_name (ctl))
    {
      /* Installed with its D-Bus service file, the first call starts it;
       * otherwise the bus says ServiceUnknown and it is simply not running. */
      g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
          ctl->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
          "StartServiceByName", g_variant_new ("(su)", DR_BUS_NAME, 0), G_VARIANT_TYPE ("(u)"),
          G_DBUS_CALL_FLAGS_NONE, START_TIMEOUT_MS, NULL, &local_error);
      if (reply == NULL)
        {
          g_autofree char *not_running = not_running_message (ctl);
          g_autofree char *refused = config_refused_message (ctl, local_error);

          if (g_error_matches (local_error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN))
            g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN, not_running);
          else if (refused != NULL)
            g_set_error_literal (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED, refused);
          else
            {
              g_dbus_error_strip_remote_error (local_error);
              g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED,
                           "%s and could not be started: %s", not_running, local_error->message);
            }
          return FALSE;
        }
    }

  ctl->manager
      = dr_dbus_manager1_proxy_new_sync (ctl->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                         DR_BUS_NAME, DR_MANAGER_PATH, NULL, error);
  return ctl->manager != NULL;
}

gboolean
dr_ctl_connect_objects (DrCtl *ctl, GError **error)
{
  if (ctl->objects != NULL)
    return TRUE;
  if (!dr_ctl_connect (ctl, error))
    return FALSE;
  ctl->objects = dr_dbus_object_manager_client_new_sync (
      ctl->connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, DR_BUS_NAME,
      DR_MANAGER_PATH, NULL, error);
  return ctl->objects != NULL;
}

static gint
compare_address (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (dr_dbus_roller1_get_address ((DrDBusRoller1 *) a),
                    dr_dbus_roller1_get_address ((DrDBusRoller1 *) b));
}

GList *
dr_ctl_list_rollers (DrCtl *ctl)
{
  GList *objects, *rollers = NULL;

  g_return_val_if_fail (ctl->objects != NULL, NULL);
  objects = g_dbus_object_manager_get_objects (ctl->objects);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      DrDBusRoller1 *roller = dr_dbus_object_get_roller1 (DR_DBUS_OBJECT (l->data));
      if (roller != NULL)
        rollers = g_list_prepend (rollers, roller);
    }
  g_list_free_full (objects, g_object_unref);
  return g_list_sort (rollers, compare_address);
}

static char *
addresses (GList *rollers)
{
  GString *out = g_string_new (NULL);

  for (GList *l = rollers; l != NULL; l = l->next)
    g_string_append_printf (out, "%s%s", out->len ? ", " : "",
                            dr_dbus_roller1_get_address (l->data));
  return g_string_free (out, FALSE);
}

DrDBusRoller1 *
dr_ctl_find_roller (DrCtl *ctl, const char *address, GError **error)
{
  g_autolist (DrDBusRoller1) rollers = NULL;
  g_autolist (DrDBusRoller1) paired = NULL;
  g_autofree char *known = NULL;

  if (!dr_ctl_connect_objects (ctl, error))
    return NULL;
  rollers = dr_ctl_list_rollers (ctl);

  if (address != NULL)
    {
      for (GList *l = rollers; l != NULL; l = l->next)
        if (g_ascii_strcasecmp (dr_dbus_roller1_get_address (l->data), address) == 0)
          return g_object_ref (l->data);
      known = addresses (rollers);
      g_set_error (error, DR_ERROR, DR_ERROR_NOT_FOUND, "unknown roller %s (%s%s)", address,
                   rollers ? "known rollers: " : "no roller is known yet", rollers ? known : "");
      return NULL;
    }

  for (GList *l = rollers; l != NULL; l = l->next)
    if (dr_dbus_roller1_get_paired (l->data))
      paired = g_list_append (paired, g_object_ref (l->data));
  if (paired != NULL && paired->next == NULL)
    return g_object_ref (paired->data);
  if (paired == NULL && rollers != NULL && rollers->next == NULL)
    return g_object_ref (rollers->data);
  if (rollers == NULL)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_NOT_FOUND,
                   "no roller is known yet; pair one with 'dermarollctl pair ADDRESS'");
      return NULL;
    }
  known = addresses (paired ? paired : rollers);
  g_set_error (error, DR_ERROR, DR_ERROR_NOT_FOUND,
               "%u rollers are known (%s); choose one with --roller ADDRESS",
               g_list_length (paired ? paired : rollers), known);
  return NULL;
}

int
dr_ctl_resolve_roller (DrCtl *ctl, const DrCommand *cmd, const char *address,
                       DrDBusRoller1 **roller_out)
{
  g_autoptr (GError) error = NULL;

  if (address != NULL && ctl->roller != NULL && g_ascii_strcasecmp (address, ctl->roller) != 0)
    return dr_ctl_usage (cmd, "two different rollers given: %s and --roller %s", address,
                         ctl->roller);
  if (address == NULL)
    address = ctl->roller;
  if (address != NULL && !dr_address_is_valid (address))
    return dr_ctl_usage (cmd, "\"%s\" is not a Bluetooth address (AA:BB:CC:DD:EE:FF)", address);
  *roller_out = dr_ctl_find_roller (ctl, address, &error);
  if (*roller_out == NULL)
    return dr_ctl_fail (ctl, error);
  return -1;
}

GList *
dr_ctl_people (DrCtl *ctl, GError **error)
{
  if (ctl->people != NULL)
    return ctl->people;
  if (!dr_ctl_connect_objects (ctl, error))
    return NULL;
  ctl->people = dr_people_list (ctl->objects);
  if (ctl->people == NULL)
    /* The daemon always has its default person: none at all is a daemon
     * from before people, which the rest of the command would not
     * understand either. */
    g_set_error (error, DR_ERROR, DR_ERROR_NOT_SUPPORTED,
                 "dermarolld has no people (Person1 objects): is it older than this "
                 "dermarollctl?");
  return ctl->people;
}

const char *
dr_ctl_person_name (DrCtl *ctl, const char *path)
{
  DrDBusPerson1 *person;

  if (path == NULL || g_str_equal (path, DR_PEOPLE_NOBODY))
    return NULL;
  person = dr_people_lookup (dr_ctl_people (ctl, NULL), path);
  return person ? dr_dbus_person1_get_name (person) : NULL;
}

int
dr_ctl_resolve_person (DrCtl *ctl, const DrCommand *cmd, const char *name,
                       DrDBusPerson1 **person_out)
{
  g_autoptr (GError) error = NULL;
  GList *people;
  DrDBusPerson1 *person;

  if (name == NULL)
    name = ctl->person;
  people = dr_ctl_people (ctl, &error);
  if (people == NULL)
    return dr_ctl_fail (ctl, error);
  if (name == NULL)
    {
      const char *path = dr_dbus_manager1_get_default_person (ctl->manager);

      person = dr_people_lookup (people, path);
      if (person == NULL)
        return dr_ctl_failf ("dermarolld names no default person it has (DefaultPerson is "
                             "\"%s\")",
                             path ? path : "");
    }
  else
    {
      person = dr_people_find (people, name);
      if (person == NULL)
        {
          g_autofree char *known = dr_people_names (people);
          return dr_ctl_usage (cmd, "unknown person \"%s\" (known people: %s)", name, known);
        }
    }
  *person_out = g_object_ref (person);
  return -1;
}

void
dr_ctl_print (const char *text)
{
  fputs (text, stdout);
}

void
dr_ctl_print_json (DrJson *json)
{
  g_autofree char *text = dr_json_free_to_string (json);

  dr_ctl_print (text);
}
