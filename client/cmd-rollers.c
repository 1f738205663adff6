/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-rollers.c: the commands about rollers themselves: pair, forget,
 * list, status, zone, start, stop and sync.
 */
#include "commands.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "dr-error.h"
#include "format.h"
#include "json-writer.h"
#include "roller-view.h"
#include "table.h"
#include "zone-list.h"

/* Pair waits up to 30 s for the roller to show up, then pairs, trusts,
 * connects and reads its head: well past GDBus's default of 25 s. */
#define PAIR_TIMEOUT_MS (90 * 1000)

static const char *
yes_no (gboolean value)
{
  return value ? "yes" : "no";
}

/* A long call is quiet on a pipe, but tells a person at a terminal why
 * nothing happens. */
static void
progress (const char *message)
{
  if (isatty (STDERR_FILENO))
    g_printerr ("%s\n", message);
}

/* ---- pair / forget ------------------------------------------------------ */

/* What a pairing's LinkPhase means to the person waiting; NULL: nothing
 * worth a line ("idle" between two attempts, or after the last one). */
static const char *
phase_message (const char *phase)
{
  static const struct
  {
    const char *phase;
    const char *message;
  } messages[] = {
    { "discovering", "%s" },
    { "pairing", "Pairing…" },
    { "connecting", "Connecting…" },
    { "resolving", "Reading its services…" },
    { "setup", "Setting up (head, history, clock)…" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (messages); i++)
    if (g_strcmp0 (phase, messages[i].phase) == 0)
      return messages[i].message;
  return NULL;
}

typedef struct
{
  const char *address;
  GMainLoop *loop;
  char *last; /* the last line shown */
  char *path;
  GError *error;
  gboolean done;
} PairWait;

static void
pair_show_phase (PairWait *wait, DrDBusRoller1 *roller)
{
  const char *format;
  g_autofree char *line = NULL;

  if (wait->done || g_strcmp0 (dr_dbus_roller1_get_address (roller), wait->address) != 0)
    return;
  format = phase_message (dr_dbus_roller1_get_link_phase (roller));
  if (format == NULL)
    return;
  /* Only the search names the roller. */
  line = strstr (format, "%s") ? g_strdup_printf ("Searching for %s…", wait->address)
                               : g_strdup (format);
  if (g_strcmp0 (line, wait->last) == 0)
    return;
  progress (line);
  g_free (wait->last);
  wait->last = g_steal_pointer (&line);
}

static void
on_pair_object_added (GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
  g_autoptr (DrDBusRoller1) roller = dr_dbus_object_get_roller1 (DR_DBUS_OBJECT (object));

  if (roller != NULL)
    pair_show_phase (user_data, roller);
}

static void
on_pair_properties_changed (GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
                            GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
                            gpointer user_data)
{
  if (DR_DBUS_IS_ROLLER1 (proxy) && g_variant_lookup (changed, "LinkPhase", "&s", NULL))
    pair_show_phase (user_data, DR_DBUS_ROLLER1 (proxy));
}

static void
on_pair_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PairWait *wait = user_data;

  dr_dbus_manager1_call_pair_finish (DR_DBUS_MANAGER1 (source), &wait->path, result, &wait->error);
  wait->done = TRUE;
  g_main_loop_quit (wait->loop);
}

int
dr_cmd_pair (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *address = NULL;
  g_autoptr (DrDBusRoller1) roller = NULL;
  g_autofree char *title = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  PairWait wait = { 0 };
  gulong added_id, changed_id;
  int status = dr_ctl_parse (ctl, cmd, NULL, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 2)
    return dr_ctl_usage (cmd, "pair needs one ADDRESS");
  if (!dr_address_is_valid (argv[1]))
    return dr_ctl_usage (cmd, "\"%s\" is not a Bluetooth address (AA:BB:CC:DD:EE:FF)", argv[1]);
  address = g_ascii_strup (argv[1], -1);

  if (!dr_ctl_connect_objects (ctl, &error))
    return dr_ctl_fail (ctl, error);
  {
    g_autofree char *message = g_strdup_printf (
        "Pairing with %s (the roller must be on and near; up to 30 s)…", address);
    progress (message);
  }
  /* The roller's LinkPhase, as the daemon publishes it, says how far the
   * pairing got: shown as it changes. */
  loop = g_main_loop_new (NULL, FALSE);
  wait.address = address;
  wait.loop = loop;
  added_id
      = g_signal_connect (ctl->objects, "object-added", G_CALLBACK (on_pair_object_added), &wait);
  changed_id = g_signal_connect (ctl->objects, "interface-proxy-properties-changed",
                                 G_CALLBACK (on_pair_properties_changed), &wait);
  dr_dbus_manager1_call_pair (ctl->manager, address, G_DBUS_CALL_FLAGS_NONE, PAIR_TIMEOUT_MS, NULL,
                              on_pair_done, &wait);
  g_main_loop_run (loop);
  g_signal_handler_disconnect (ctl->objects, added_id);
  g_signal_handler_disconnect (ctl->objects, changed_id);
  g_free (wait.last);
  g_free (wait.path);
  if (wait.error != NULL)
    {
      error = wait.error;
      return dr_ctl_fail (ctl, error);
    }

  roller = dr_ctl_find_roller (ctl, address, NULL);
  title = roller ? dr_roller_view_title (roller) : g_strdup (address);
  g_print ("Paired %s.\n", title);
  return DR_EXIT_OK;
}

int
dr_cmd_forget (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusRoller1) roller = NULL;
  g_autofree char *title = NULL;
  int status = dr_ctl_parse (ctl, cmd, NULL, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 2)
    return dr_ctl_usage (cmd, "forget needs one ADDRESS");
  /* forget takes no --roller, so this only checks ADDRESS and finds it. */
  status = dr_ctl_resolve_roller (ctl, cmd, argv[1], &roller);
  if (status >= 0)
    return status;
  if (!dr_dbus_manager1_call_forget_sync (ctl->manager,
                                          g_dbus_proxy_get_object_path (G_DBUS_PROXY (roller)),
                                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return dr_ctl_fail (ctl, error);
  title = dr_roller_view_title (roller);
  /* A paired roller stays listed, unpaired, with its history; anything
   * else is gone from the list. Sessions are never deleted. */
  if (dr_dbus_roller1_get_paired (roller))
    g_print ("Forgot %s. Its stored sessions stay in the database.\n", title);
  else
    g_print ("Forgot %s; it is no longer listed. Any stored sessions stay in the database.\n",
             title);
  return DR_EXIT_OK;
}

/* ---- list / status ------------------------------------------------------ */

static char *
head_text (DrDBusRoller1 *roller)
{
  guint length = dr_dbus_roller1_get_needle_length (roller);
  guint count = dr_dbus_roller1_get_needle_count (roller);
  g_autofree char *um = dr_fmt_micrometres (length);

  if (length == 0 && count == 0)
    return g_strdup ("—");
  return g_strdup_printf ("%s × %u", um, count);
}

/* The name of the roller's person, "—" for one the daemon does not have. */
static char *
person_text (DrCtl *ctl, DrDBusRoller1 *roller)
{
  const char *name = dr_ctl_person_name (ctl, dr_dbus_roller1_get_person (roller));

  return g_strdup (name ? name : "—");
}

int
dr_cmd_list (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autolist (DrDBusRoller1) rollers = NULL;
  int status = dr_ctl_parse (ctl, cmd, NULL, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 1)
    return dr_ctl_usage (cmd, "list takes no arguments");
  if (!dr_ctl_connect_objects (ctl, &error))
    return dr_ctl_fail (ctl, error);
  rollers = dr_ctl_list_rollers (ctl);

  if (ctl->json)
    {
      g_autoptr (DrJson) json = dr_json_new (TRUE);
      dr_json_begin_array (json);
      for (GList *l = rollers; l != NULL; l = l->next)
        dr_roller_view_json (json, l->data,
                             dr_ctl_person_name (ctl, dr_dbus_roller1_get_person (l->data)));
      dr_json_end_array (json);
      dr_ctl_print_json (g_steal_pointer (&json));
      return DR_EXIT_OK;
    }

  if (rollers == NULL)
    {
      g_print ("No rollers known. Find one with 'dermarollctl scan', then 'dermarollctl pair "
               "ADDRESS'.\n");
      return DR_EXIT_OK;
    }

  {
    g_autoptr (DrTable) table
        = dr_table_new (ctl->colour, "ADDRESS", "NAME", "PERSON", "PAIRED", "CONNECTED", "BATTERY",
                        "NEEDLES", "HEAD WEAR", "SESSION", (char *) NULL);
    g_autofree char *text = NULL;

    dr_table_align_right (table, 5);
    dr_table_align_right (table, 7);
    dr_table_align_right (table, 8);
    for (GList *l = rollers; l != NULL; l = l->next)
      {
        DrDBusRoller1 *r = l->data;
        gboolean connected = dr_dbus_roller1_get_connected (r);
        double wear = dr_dbus_roller1_get_head_wear (r);
        guint64 session = dr_dbus_roller1_get_active_session (r);

        dr_table_add (table, dr_dbus_roller1_get_address (r));
        dr_table_add (table, dr_dbus_roller1_get_name (r));
        dr_table_take (table, person_text (ctl, r));
        dr_table_add (table, yes_no (dr_dbus_roller1_get_paired (r)));
        dr_table_add_coloured (table, connected ? DR_COLOUR_GREEN : DR_COLOUR_DIM,
                               yes_no (connected));
        dr_table_take_coloured (table, dr_battery_colour (dr_dbus_roller1_get_battery (r)),
                                dr_fmt_battery (r));
        dr_table_take (table, head_text (r));
        dr_table_take_coloured (table, dr_wear_colour (wear),
                                dr_dbus_roller1_get_needle_length (r) ? dr_fmt_percent (wear)
                                                                      : g_strdup ("—"));
        dr_table_take (table,
                       session ? g_strdup_printf ("%" G_GUINT64_FORMAT, session) : g_strdup ("—"));
      }
    text = dr_table_render (table);
    dr_ctl_print (text);
  }
  return DR_EXIT_OK;
}

static void
status_line (GString *out, gboolean colour, const char *key, DrColour c, const char *value)
{
  g_autofree char *v = dr_fmt_coloured (colour, c, value);
  g_autofree char *k = dr_fmt_coloured (colour, DR_COLOUR_BOLD, key);
  gsize pad = 14 > dr_text_width (key) ? 14 - dr_text_width (key) : 1;

  g_string_append_printf (out, "%s%*s%s\n", k, (int) pad, "", v);
}

int
dr_cmd_status (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusRoller1) roller = NULL;
  g_autoptr (GArray) zones = NULL;
  g_auto (GStrv) zone_order = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  GVariant *coverage;
  int status = dr_ctl_parse (ctl, cmd, NULL, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc > 2)
    return dr_ctl_usage (cmd, "status takes at most one ADDRESS");
  status = dr_ctl_resolve_roller (ctl, cmd, argc == 2 ? argv[1] : NULL, &roller);
  if (status >= 0)
    return status;

  if (ctl->json)
    {
      g_autoptr (DrJson) json = dr_json_new (TRUE);
      dr_roller_view_json (json, roller,
                           dr_ctl_person_name (ctl, dr_dbus_roller1_get_person (roller)));
      dr_ctl_print_json (g_steal_pointer (&json));
      return DR_EXIT_OK;
    }

  zones = dr_zone_list_fetch (ctl->manager, &error);
  if (zones == NULL)
    return dr_ctl_fail (ctl, error);
  zone_order = dr_zone_list_names (zones);

  {
    g_autofree char *title = dr_roller_view_title (roller);
    g_autofree char *battery = dr_fmt_battery (roller);
    g_autofree char *head = NULL;
    g_autofree char *force = NULL;
    g_autofree char *frames = NULL;
    g_autofree char *session = NULL;
    g_autofree char *person = person_text (ctl, roller);
    const char *firmware = dr_dbus_roller1_get_firmware_version (roller);
    const char *zone = dr_dbus_roller1_get_zone (roller);
    const char *rolled = dr_dbus_roller1_get_current_zone (roller);
    gboolean connected = dr_dbus_roller1_get_connected (roller);
    guint64 active = dr_dbus_roller1_get_active_session (roller);
    double wear = dr_dbus_roller1_get_head_wear (roller);
    double limit = dr_dbus_roller1_get_force_limit (roller);

    if (dr_dbus_roller1_get_needle_length (roller) != 0)
      {
        g_autofree char *length = dr_fmt_micrometres (dr_dbus_roller1_get_needle_length (roller));
        g_autofree char *worn = dr_fmt_percent (wear);
        head = g_strdup_printf ("#%u: %u needles of %s, %s worn%s",
                                dr_dbus_roller1_get_head_id (roller),
                                dr_dbus_roller1_get_needle_count (roller), length, worn,
                                wear >= 1.0 ? " (replace it)" : "");
      }
    else
      head = g_strdup ("— (not read yet)");
    force = dr_force_bar (dr_dbus_roller1_get_force (roller), limit, 24, ctl->colour);
    frames = g_strdup_printf ("%" G_GUINT64_FORMAT " dropped, %" G_GUINT64_FORMAT " malformed",
                              dr_dbus_roller1_get_dropped_frames (roller),
                              dr_dbus_roller1_get_malformed_frames (roller));
    session
        = active ? g_strdup_printf ("%" G_GUINT64_FORMAT " (active)", active) : g_strdup ("none");

    status_line (out, ctl->colour, "Roller", DR_COLOUR_NONE, title);
    status_line (out, ctl->colour, "Paired", DR_COLOUR_NONE,
                 yes_no (dr_dbus_roller1_get_paired (roller)));
    status_line (out, ctl->colour, "Connected", connected ? DR_COLOUR_GREEN : DR_COLOUR_DIM,
                 yes_no (connected));
    status_line (out, ctl->colour, "Battery",
                 dr_battery_colour (dr_dbus_roller1_get_battery (roller)), battery);
    status_line (out, ctl->colour, "Firmware", DR_COLOUR_NONE,
                 firmware && firmware[0] ? firmware : "— (not read yet)");
    status_line (out, ctl->colour, "Needle head", dr_wear_colour (wear), head);
    status_line (out, ctl->colour, "Person", DR_COLOUR_NONE, person);
    status_line (out, ctl->colour, "Session", DR_COLOUR_NONE, session);
    status_line (out, ctl->colour, "Zone", DR_COLOUR_NONE, zone && zone[0] ? zone : "—");
    status_line (out, ctl->colour, "Rolling", DR_COLOUR_NONE, rolled && rolled[0] ? rolled : "—");
    status_line (out, ctl->colour, "Force", DR_COLOUR_NONE, force);
    status_line (out, ctl->colour, "Frames", DR_COLOUR_NONE, frames);
    {
      gint16 rssi = dr_dbus_roller1_get_rssi (roller);
      g_autofree char *signal = rssi != 0 ? g_strdup_printf ("%d dBm", rssi)
                                          : g_strdup ("— (only known while discovering)");
      status_line (out, ctl->colour, "Signal", DR_COLOUR_NONE, signal);
    }
  }

  coverage = dr_dbus_roller1_get_coverage (roller);
  if (dr_dbus_roller1_get_active_session (roller) != 0 && coverage != NULL
      && g_variant_n_children (coverage) > 0)
    {
      g_autoptr (GPtrArray) names
          = dr_coverage_zone_names (coverage, (const char *const *) zone_order);
      g_autoptr (DrTable) table = dr_table_new (ctl->colour, "ZONE", "", "COVERAGE", (char *) NULL);
      g_autofree char *text = NULL;

      dr_table_align_right (table, 2);
      for (guint i = 0; i < names->len; i++)
        {
          const char *name = g_ptr_array_index (names, i);
          const DrZoneInfo *info = dr_zone_list_find (zones, name);
          double value = 0;

          g_variant_lookup (coverage, name, "d", &value);
          dr_table_take (table, info && info->excluded ? g_strdup_printf ("%s (excluded)", name)
                                                       : g_strdup (name));
          dr_table_take (table, dr_text_bar (value, 20));
          dr_table_take_coloured (table, dr_coverage_colour (value), dr_fmt_percent (value));
        }
      text = dr_table_render (table);
      g_string_append_printf (out, "\nCoverage of the active session:\n%s", text);
    }
  dr_ctl_print (out->str);
  return DR_EXIT_OK;
}

/* ---- zone / start / stop / sync ---------------------------------------- */

/* These act on one roller, --roller or the only one there is, and take no
 * options of their own: parses the common ones, checks that @argc is
 * @want_argc (the command's name included) or says @usage, then finds the
 * roller. Returns -1 to go on with *@roller_out set, or the exit status. */
static int
parse_for_roller (DrCtl *ctl, const DrCommand *cmd, int *argc, char ***argv, int want_argc,
                  const char *usage, DrDBusRoller1 **roller_out)
{
  int status = dr_ctl_parse (ctl, cmd, NULL, argc, argv);

  if (status >= 0)
    return status;
  if (*argc != want_argc)
    return dr_ctl_usage (cmd, "%s", usage);
  return dr_ctl_resolve_roller (ctl, cmd, NULL, roller_out);
}

int
dr_cmd_zone (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusRoller1) roller = NULL;
  g_autofree char *title = NULL;
  int status = parse_for_roller (ctl, cmd, &argc, &argv, 2, "zone needs one ZONE (\"\" for none)",
                                 &roller);

  if (status >= 0)
    return status;
  if (!dr_dbus_roller1_call_set_zone_sync (roller, argv[1], G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                           &error))
    return dr_ctl_fail (ctl, error);
  title = dr_roller_view_title (roller);
  if (argv[1][0] == '\0')
    g_print ("No zone set on %s: the roller's own sensor decides.\n", title);
  else
    g_print ("Rolling %s with %s.\n", argv[1], title);
  return DR_EXIT_OK;
}

int
dr_cmd_start (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusRoller1) roller = NULL;
  g_autofree char *title = NULL;
  guint64 before, id = 0;
  int status = parse_for_roller (ctl, cmd, &argc, &argv, 1, "start takes no arguments", &roller);

  if (status >= 0)
    return status;
  before = dr_dbus_roller1_get_active_session (roller);
  if (!dr_dbus_roller1_call_start_session_sync (roller, G_DBUS_CALL_FLAGS_NONE, -1, &id, NULL,
                                                &error))
    return dr_ctl_fail (ctl, error);
  title = dr_roller_view_title (roller);
  if (before != 0 && before == id)
    g_print ("Session %" G_GUINT64_FORMAT " is already running on %s.\n", id, title);
  else
    g_print ("Started session %" G_GUINT64_FORMAT " on %s.\n", id, title);
  return DR_EXIT_OK;
}

int
dr_cmd_stop (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusRoller1) roller = NULL;
  g_autofree char *title = NULL;
  guint64 id = 0;
  int status = parse_for_roller (ctl, cmd, &argc, &argv, 1, "stop takes no arguments", &roller);

  if (status >= 0)
    return status;
  if (!dr_dbus_roller1_call_stop_session_sync (roller, G_DBUS_CALL_FLAGS_NONE, -1, &id, NULL,
                                               &error))
    return dr_ctl_fail (ctl, error);
  title = dr_roller_view_title (roller);
  g_print ("Ended session %" G_GUINT64_FORMAT
           " on %s. Its coverage: dermarollctl coverage %" G_GUINT64_FORMAT
           "\nClean and disinfect the roller now.\n",
           id, title, id);
  return DR_EXIT_OK;
}

int
dr_cmd_sync (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusRoller1) roller = NULL;
  g_autofree char *title = NULL;
  int status = parse_for_roller (ctl, cmd, &argc, &argv, 1, "sync takes no arguments", &roller);

  if (status >= 0)
    return status;
  title = dr_roller_view_title (roller);
  {
    g_autofree char *message = g_strdup_printf ("Pulling the stored history from %s…", title);
    progress (message);
  }
  /* The roller may hold hours of frames: no timeout but the daemon's. */
  if (!dr_dbus_roller1_call_sync_history_sync (roller, G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL,
                                               &error))
    return dr_ctl_fail (ctl, error);
  g_print ("Synced the stored history of %s.\n", title);
  return DR_EXIT_OK;
}
