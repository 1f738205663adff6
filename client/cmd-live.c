/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-live.c: the commands that run until Ctrl-C (or --timeout): scan and
 * watch.
 *
 * Both follow the daemon's object manager, so rollers that appear, change
 * or go away are seen as it happens, and both stop with status 1 when the
 * daemon leaves the bus. On a terminal `watch` keeps a live panel (force
 * bar, zone, coverage) at the bottom and scrolls the events above it; on a
 * pipe it prints the events and state changes as lines, and the panel
 * once at the end. --json prints one JSON object a line instead.
 */
#include "commands.h"

#include <glib-unix.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "json-writer.h"
#include "roller-view.h"
#include "table.h"
#include "zone-list.h"

/* What scan and watch share: the main loop, how it ends, and how. */
typedef struct
{
  DrCtl *ctl;
  GMainLoop *loop;
  int status;
  guint sigint_id;
  guint sigterm_id;
  guint timeout_id;
  gulong owner_id;
} Live;

static gboolean
on_stop_signal (gpointer user_data)
{
  Live *live = user_data;

  /* Ctrl-C is how a person ends these commands: success. */
  live->status = DR_EXIT_OK;
  g_main_loop_quit (live->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  Live *live = user_data;

  live->timeout_id = 0;
  live->status = DR_EXIT_OK;
  g_main_loop_quit (live->loop);
  return G_SOURCE_REMOVE;
}

static void
on_name_owner (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Live *live = user_data;
  g_autofree char *owner = g_dbus_object_manager_client_get_name_owner (
      G_DBUS_OBJECT_MANAGER_CLIENT (live->ctl->objects));

  if (owner == NULL)
    {
      live->status = dr_ctl_failf ("dermarolld is not running any more (%s left the %s bus)",
                                   DR_BUS_NAME, dr_ctl_bus_name (live->ctl));
      g_main_loop_quit (live->loop);
    }
}

static void
live_init (Live *live, DrCtl *ctl, double timeout_s)
{
  live->ctl = ctl;
  live->loop = g_main_loop_new (NULL, FALSE);
  live->status = DR_EXIT_OK;
  live->sigint_id = g_unix_signal_add (SIGINT, on_stop_signal, live);
  live->sigterm_id = g_unix_signal_add (SIGTERM, on_stop_signal, live);
  if (timeout_s > 0)
    live->timeout_id = g_timeout_add ((guint) ceil (timeout_s * 1000), on_timeout, live);
  live->owner_id
      = g_signal_connect (ctl->objects, "notify::name-owner", G_CALLBACK (on_name_owner), live);
}

static void
live_clear (Live *live)
{
  g_clear_handle_id (&live->sigint_id, g_source_remove);
  g_clear_handle_id (&live->sigterm_id, g_source_remove);
  g_clear_handle_id (&live->timeout_id, g_source_remove);
  g_clear_signal_handler (&live->owner_id, live->ctl->objects);
  g_clear_pointer (&live->loop, g_main_loop_unref);
}

static gboolean
check_timeout (const DrCommand *cmd, double timeout_s, int *status)
{
  if (timeout_s < 0 || !isfinite (timeout_s) || timeout_s > 86400.0 * 365)
    {
      *status = dr_ctl_usage (cmd, "--timeout must be a number of seconds > 0");
      return FALSE;
    }
  return TRUE;
}

static char *
now_clock (void)
{
  return dr_fmt_local_clock (g_get_real_time () / 1000);
}

/* With --json, scan and watch print one object a line, each an event
 * that starts with its time and kind. */
static DrJson *
event_json_begin (const char *event)
{
  DrJson *json = dr_json_new (FALSE);
  g_autofree char *time = dr_fmt_iso8601 (g_get_real_time () / 1000);

  dr_json_begin_object (json);
  dr_json_member_string (json, "time", time);
  dr_json_member_string (json, "event", event);
  return json;
}

static void
event_json_end (DrJson *json)
{
  g_autofree char *text = NULL;

  dr_json_end_object (json);
  text = dr_json_free_to_string (json);
  g_print ("%s\n", text);
  /* Scripts read this as it comes: never sit in a pipe's buffer. */
  fflush (stdout);
}

/* ---- scan --------------------------------------------------------------- */

typedef struct
{
  Live live;
  GHashTable *seen; /* object path → TRUE */
  gboolean header_done;
} Scan;

static void
scan_show (Scan *scan, DrDBusRoller1 *roller, const char *what)
{
  DrCtl *ctl = scan->live.ctl;
  const char *address = dr_dbus_roller1_get_address (roller);

  if (ctl->json)
    {
      DrJson *json = event_json_begin (what);

      dr_json_member_string (json, "address", address);
      dr_json_member_string (json, "name", dr_dbus_roller1_get_name (roller));
      dr_json_member_bool (json, "paired", dr_dbus_roller1_get_paired (roller));
      dr_json_member_bool (json, "connected", dr_dbus_roller1_get_connected (roller));
      dr_roller_view_json_rssi (json, roller);
      event_json_end (json);
      return;
    }

  if (!scan->header_done)
    {
      g_autofree char *header = g_strdup_printf ("%-17s  %-24s  %7s  %-6s  %s", "ADDRESS", "NAME",
                                                 "RSSI", "PAIRED", "");
      g_autofree char *coloured = dr_fmt_coloured (ctl->colour, DR_COLOUR_BOLD, header);
      g_print ("%s\n", g_strchomp (coloured));
      scan->header_done = TRUE;
    }
  {
    const char *name = dr_dbus_roller1_get_name (roller);
    g_autofree char *name_cell = NULL;
    gsize width = dr_text_width (name);

    /* %-24s pads bytes, not cells: pad by hand for "µ" and friends. */
    name_cell = g_strdup_printf ("%s%*s", name, width < 24 ? (int) (24 - width) : 0, "");
    gint16 rssi = dr_dbus_roller1_get_rssi (roller);
    g_autofree char *rssi_cell
        = rssi != 0 ? g_strdup_printf ("%3d dBm", rssi) : g_strdup ("      —");

    g_print ("%-17s  %s  %s  %-6s  %s\n", address, name_cell, rssi_cell,
             dr_dbus_roller1_get_paired (roller) ? "yes" : "no", what);
  }
  fflush (stdout);
}

static void
scan_object_added (GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
  Scan *scan = user_data;
  g_autoptr (DrDBusRoller1) roller = dr_dbus_object_get_roller1 (DR_DBUS_OBJECT (object));
  const char *path = g_dbus_object_get_object_path (object);

  if (roller == NULL || g_hash_table_contains (scan->seen, path))
    return;
  g_hash_table_add (scan->seen, g_strdup (path));
  scan_show (scan, roller, "new");
}

int
dr_cmd_scan (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  double timeout_s = 0;
  const GOptionEntry entries[] = { { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout_s,
                                     "Stop after S seconds (default: Ctrl-C)", "S" },
                                   { NULL } };
  g_autoptr (GError) error = NULL;
  g_autolist (DrDBusRoller1) rollers = NULL;
  Scan scan = { 0 };
  gulong added_id;
  int status = dr_ctl_parse (ctl, cmd, entries, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 1)
    return dr_ctl_usage (cmd, "scan takes no arguments");
  if (!check_timeout (cmd, timeout_s, &status))
    return status;
  if (!dr_ctl_connect_objects (ctl, &error))
    return dr_ctl_fail (ctl, error);

  /* Ctrl-C is ours before discovery starts: a SIGINT that comes while
   * StartDiscovery is answered must stop the scan, not kill the process
   * and leave the daemon discovering. */
  live_init (&scan.live, ctl, timeout_s);
  if (!dr_dbus_manager1_call_start_discovery_sync (ctl->manager, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                                   &error))
    {
      live_clear (&scan.live);
      return dr_ctl_fail (ctl, error);
    }
  if (!ctl->json && isatty (STDERR_FILENO))
    g_printerr ("Scanning for rollers%s… (Ctrl-C to stop)\n", timeout_s > 0 ? " for a while" : "");

  scan.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* Rollers the daemon already knows first, then each new one. */
  rollers = dr_ctl_list_rollers (ctl);
  for (GList *l = rollers; l != NULL; l = l->next)
    {
      g_hash_table_add (scan.seen, g_strdup (g_dbus_proxy_get_object_path (l->data)));
      scan_show (&scan, l->data, "known");
    }
  added_id = g_signal_connect (ctl->objects, "object-added", G_CALLBACK (scan_object_added), &scan);
  g_main_loop_run (scan.live.loop);
  g_signal_handler_disconnect (ctl->objects, added_id);

  status = scan.live.status;
  if (status == DR_EXIT_OK
      && !dr_dbus_manager1_call_stop_discovery_sync (ctl->manager, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                                     &error))
    status = dr_ctl_fail (ctl, error);
  if (status == DR_EXIT_OK && !ctl->json)
    g_print ("%u roller%s seen.%s\n", g_hash_table_size (scan.seen),
             g_hash_table_size (scan.seen) == 1 ? "" : "s",
             g_hash_table_size (scan.seen) ? " Pair one with 'dermarollctl pair ADDRESS'." : "");
  live_clear (&scan.live);
  g_hash_table_unref (scan.seen);
  return status;
}

/* ---- watch -------------------------------------------------------------- */

typedef struct
{
  Live live;
  gboolean tty; /* live panel redrawn in place */
  DrDBusRoller1 *roller;
  GArray *zones;
  char **zone_order;
  guint panel_lines; /* lines of the panel now on screen */
  guint redraw_id;
  GSList *roller_handlers; /* signal ids on roller */
  gulong added_id;
  gulong removed_id;
  guint gone_id; /* the roller's object went; the daemon may follow */
} Watch;

/* The Person1 the roller rolls for, from the object manager (kept up to
 * date by it); NULL when the daemon names none it has. */
static DrDBusPerson1 *
watch_person (Watch *watch)
{
  const char *path = dr_dbus_roller1_get_person (watch->roller);
  g_autoptr (GDBusObject) object = NULL;

  if (path == NULL || !g_variant_is_object_path (path))
    return NULL;
  object = g_dbus_object_manager_get_object (watch->live.ctl->objects, path);
  return object ? dr_dbus_object_get_person1 (DR_DBUS_OBJECT (object)) : NULL;
}

static char *
watch_panel (Watch *watch)
{
  DrDBusRoller1 *r = watch->roller;
  DrCtl *ctl = watch->live.ctl;
  GString *out = g_string_new (NULL);
  const char *address = dr_dbus_roller1_get_address (r);
  const char *name = dr_dbus_roller1_get_name (r);
  const char *zone = dr_dbus_roller1_get_zone (r);
  const char *rolled = dr_dbus_roller1_get_current_zone (r);
  gboolean connected = dr_dbus_roller1_get_connected (r);
  guint64 session = dr_dbus_roller1_get_active_session (r);
  g_autofree char *battery = dr_fmt_battery (r);
  g_autofree char *state
      = dr_fmt_coloured (ctl->colour, connected ? DR_COLOUR_GREEN : DR_COLOUR_DIM,
                         connected ? "connected" : "not connected");
  g_autofree char *force = dr_force_bar (dr_dbus_roller1_get_force (r),
                                         dr_dbus_roller1_get_force_limit (r), 30, ctl->colour);
  g_autofree char *session_text
      = session ? g_strdup_printf ("session %" G_GUINT64_FORMAT, session) : g_strdup ("no session");
  GVariant *coverage = dr_dbus_roller1_get_coverage (r);
  /* Excluded marks are the skin's being rolled: the roller's person's, not
   * GetZones' (the default person's). */
  g_autoptr (DrDBusPerson1) person = watch_person (watch);
  const char *const *excluded = person ? dr_dbus_person1_get_excluded_zones (person) : NULL;
  g_autofree char *for_whom
      = person ? g_strdup_printf (" · for %s", dr_dbus_person1_get_name (person)) : g_strdup ("");

  g_string_append_printf (
      out, "%s%s%s%s · %s · battery %s%s · %s\n", g_strcmp0 (name, address) ? name : "",
      g_strcmp0 (name, address) ? " (" : "", address, g_strcmp0 (name, address) ? ")" : "", state,
      battery, for_whom, session_text);
  g_string_append_printf (out, "  Force  %s\n", force);
  /* The zone the user set, and the one the last contact was in. */
  g_string_append_printf (out, "  Zone   %s · rolling %s\n", zone && zone[0] ? zone : "—",
                          rolled && rolled[0] ? rolled : "—");
  if (coverage != NULL && g_variant_n_children (coverage) > 0)
    {
      g_autoptr (GPtrArray) names
          = dr_coverage_zone_names (coverage, (const char *const *) watch->zone_order);
      /* The daemon keeps the last session's coverage once it ended. */
      g_string_append_printf (out, "  Coverage of %s\n",
                              session ? "this session" : "the last session");
      for (guint i = 0; i < names->len; i++)
        {
          const char *zname = g_ptr_array_index (names, i);
          const DrZoneInfo *info = dr_zone_list_find (watch->zones, zname);
          gboolean is_excluded = person ? excluded != NULL && g_strv_contains (excluded, zname)
                                        : info != NULL && info->excluded;
          double value = 0;
          g_autofree char *bar = NULL;
          g_autofree char *pct = NULL;
          g_autofree char *pct_c = NULL;
          gsize w = dr_text_width (zname);

          g_variant_lookup (coverage, zname, "d", &value);
          bar = dr_text_bar (value, 20);
          pct = dr_fmt_percent (value);
          pct_c = dr_fmt_coloured (ctl->colour, dr_coverage_colour (value), pct);
          g_string_append_printf (out, "    %s%*s %s %5s%s\n", zname, w < 12 ? (int) (12 - w) : 0,
                                  "", bar, pct_c, is_excluded ? "  excluded" : "");
        }
    }
  return g_string_free (out, FALSE);
}

static void
watch_erase_panel (Watch *watch)
{
  if (!watch->tty || watch->panel_lines == 0)
    return;
  /* To the start of the panel's first line, then clear to the end. */
  g_print ("\033[%uF\033[J", watch->panel_lines);
  watch->panel_lines = 0;
}

static void
watch_draw_panel (Watch *watch)
{
  g_autofree char *panel = NULL;

  if (!watch->tty || watch->roller == NULL)
    return;
  panel = watch_panel (watch);
  for (const char *p = panel; *p; p++)
    watch->panel_lines += *p == '\n';
  g_print ("%s", panel);
  fflush (stdout);
}

static gboolean
watch_redraw (gpointer user_data)
{
  Watch *watch = user_data;

  watch->redraw_id = 0;
  watch_erase_panel (watch);
  watch_draw_panel (watch);
  return G_SOURCE_REMOVE;
}

static void
watch_queue_redraw (Watch *watch)
{
  /* Force comes 10 times a second, coverage twice: one redraw per 50 ms. */
  if (watch->tty && watch->redraw_id == 0)
    watch->redraw_id = g_timeout_add (50, watch_redraw, watch);
}

/* One event line: above the panel on a terminal, a line on a pipe. */
static void
watch_event (Watch *watch, DrColour colour, const char *kind, const char *zone, const char *text)
{
  DrCtl *ctl = watch->live.ctl;
  g_autofree char *clock = now_clock ();
  g_autofree char *kind_c = NULL;
  g_autofree char *padded = g_strdup_printf ("%-14s", kind);

  kind_c = dr_fmt_coloured (ctl->colour, colour, padded);
  watch_erase_panel (watch);
  g_print ("%s  %s %-12s %s\n", clock, kind_c, zone ? zone : "", text ? text : "");
  watch_draw_panel (watch);
  fflush (stdout);
}

static void
on_pressure_warning (DrDBusRoller1 *r, guint64 session, const char *zone, double force,
                     double limit, gpointer user_data)
{
  Watch *watch = user_data;

  if (watch->live.ctl->json)
    {
      DrJson *json = event_json_begin ("pressure-warning");
      dr_json_member_uint (json, "session", session);
      dr_json_member_string (json, "zone", zone);
      dr_json_member_double (json, "force_n", force);
      dr_json_member_double (json, "limit_n", limit);
      event_json_end (json);
      return;
    }
  {
    g_autofree char *f = dr_fmt_newtons (force);
    g_autofree char *l = dr_fmt_newtons (limit);
    g_autofree char *text = g_strdup_printf ("%s, over the %s limit: press lighter", f, l);
    watch_event (watch, DR_COLOUR_RED, "OVER-PRESSURE", zone, text);
  }
}

static void
on_pressure_cleared (DrDBusRoller1 *r, guint64 session, const char *zone, double peak,
                     guint64 duration_ms, gpointer user_data)
{
  Watch *watch = user_data;

  if (watch->live.ctl->json)
    {
      DrJson *json = event_json_begin ("pressure-cleared");
      dr_json_member_uint (json, "session", session);
      dr_json_member_string (json, "zone", zone);
      dr_json_member_double (json, "peak_n", peak);
      dr_json_member_uint (json, "duration_ms", duration_ms);
      event_json_end (json);
      return;
    }
  {
    g_autofree char *p = dr_fmt_newtons (peak);
    g_autofree char *d = dr_fmt_duration ((gint64) MIN (duration_ms, (guint64) G_MAXINT64));
    g_autofree char *text = g_strdup_printf ("pressure back under the limit (peak %s, %s)", p, d);
    watch_event (watch, DR_COLOUR_GREEN, "pressure ok", zone, text);
  }
}

static void
on_zone_warning (DrDBusRoller1 *r, guint64 session, const char *zone, const char *kind,
                 gpointer user_data)
{
  Watch *watch = user_data;
  const char *text;

  if (watch->live.ctl->json)
    {
      DrJson *json = event_json_begin ("zone-warning");
      dr_json_member_uint (json, "session", session);
      dr_json_member_string (json, "zone", zone);
      dr_json_member_string (json, "kind", kind);
      event_json_end (json);
      return;
    }
  if (g_str_equal (kind, "excluded"))
    text = "this zone is excluded: do not roll here";
  else if (g_str_equal (kind, "over-treated"))
    text = "twice the target passes: move on";
  else if (g_str_equal (kind, "too-soon"))
    text = "treated too recently for this needle length";
  else
    text = kind;
  watch_event (watch, g_str_equal (kind, "excluded") ? DR_COLOUR_RED : DR_COLOUR_YELLOW, kind, zone,
               text);
}

static void
on_session_started (DrDBusRoller1 *r, guint64 id, gpointer user_data)
{
  Watch *watch = user_data;
  g_autofree char *text = NULL;

  if (watch->live.ctl->json)
    {
      DrJson *json = event_json_begin ("session-started");
      dr_json_member_uint (json, "session", id);
      event_json_end (json);
      return;
    }
  text = g_strdup_printf ("session %" G_GUINT64_FORMAT " started", id);
  watch_event (watch, DR_COLOUR_CYAN, "session", NULL, text);
}

static void
on_session_ended (DrDBusRoller1 *r, guint64 id, GVariant *coverage, gpointer user_data)
{
  Watch *watch = user_data;
  g_autoptr (GPtrArray) names = NULL;
  GString *text;

  if (watch->live.ctl->json)
    {
      DrJson *json = event_json_begin ("session-ended");
      dr_json_member_uint (json, "session", id);
      dr_json_key (json, "coverage");
      dr_json_variant (json, coverage);
      event_json_end (json);
      return;
    }
  names = dr_coverage_zone_names (coverage, (const char *const *) watch->zone_order);
  text = g_string_new (NULL);
  g_string_append_printf (text, "session %" G_GUINT64_FORMAT " ended:", id);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      double value = 0;
      g_autofree char *pct = NULL;

      g_variant_lookup (coverage, name, "d", &value);
      pct = dr_fmt_percent (value);
      g_string_append_printf (text, "%s %s %s", i ? "," : "", name, pct);
    }
  watch_event (watch, DR_COLOUR_CYAN, "session", NULL, text->str);
  g_string_free (text, TRUE);
}

static void
on_head_worn (DrDBusRoller1 *r, guint head_id, double wear, gpointer user_data)
{
  Watch *watch = user_data;
  g_autofree char *pct = NULL;
  g_autofree char *text = NULL;

  if (watch->live.ctl->json)
    {
      DrJson *json = event_json_begin ("head-worn");
      dr_json_member_uint (json, "head_id", head_id);
      dr_json_member_double (json, "wear", wear);
      event_json_end (json);
      return;
    }
  pct = dr_fmt_percent (wear);
  text = g_strdup_printf ("needle head #%u at %s of its life: replace it", head_id, pct);
  watch_event (watch, DR_COLOUR_YELLOW, "head worn", NULL, text);
}

static void
on_properties_changed (GDBusProxy *proxy, GVariant *changed, GStrv invalidated, gpointer user_data)
{
  Watch *watch = user_data;
  DrDBusRoller1 *r = watch->roller;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  if (watch->live.ctl->json)
    {
      /* Every change, Force included: the daemon already limits the rate. */
      DrJson *json = event_json_begin ("properties-changed");
      dr_json_key (json, "changed");
      dr_json_variant (json, changed);
      event_json_end (json);
      return;
    }

  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      /* State worth a line of its own; Force and Coverage are the panel's. */
      if (g_str_equal (name, "Connected"))
        watch_event (watch, dr_dbus_roller1_get_connected (r) ? DR_COLOUR_GREEN : DR_COLOUR_DIM,
                     dr_dbus_roller1_get_connected (r) ? "connected" : "disconnected", NULL, NULL);
      else if (g_str_equal (name, "Zone"))
        {
          const char *zone = dr_dbus_roller1_get_zone (r);
          watch_event (watch, DR_COLOUR_NONE, "zone", zone && zone[0] ? zone : "—",
                       zone && zone[0] ? "is being rolled" : "none set");
        }
      else if (g_str_equal (name, "CurrentZone"))
        {
          /* Changes only when the roller moves to another zone. */
          const char *rolled = dr_dbus_roller1_get_current_zone (r);
          if (rolled && rolled[0])
            watch_event (watch, DR_COLOUR_NONE, "rolling", rolled, "is under the roller");
        }
      else if (g_str_equal (name, "Battery"))
        {
          g_autofree char *battery = dr_fmt_battery (r);
          guint level = dr_dbus_roller1_get_battery (r);
          watch_event (watch, dr_battery_colour (level), "battery", NULL, battery);
        }
      else if (g_str_equal (name, "HeadId") || g_str_equal (name, "NeedleLength"))
        {
          g_autofree char *length = dr_fmt_micrometres (dr_dbus_roller1_get_needle_length (r));
          g_autofree char *text
              = g_strdup_printf ("#%u, %s", dr_dbus_roller1_get_head_id (r), length);
          watch_event (watch, DR_COLOUR_NONE, "needle head", NULL, text);
        }
      g_variant_unref (value);
    }
  watch_queue_redraw (watch);
}

static void
watch_attach (Watch *watch, DrDBusRoller1 *roller)
{
  DrCtl *ctl = watch->live.ctl;
  struct
  {
    const char *signal;
    GCallback callback;
  } handlers[] = {
    { "pressure-warning", G_CALLBACK (on_pressure_warning) },
    { "pressure-cleared", G_CALLBACK (on_pressure_cleared) },
    { "zone-warning", G_CALLBACK (on_zone_warning) },
    { "session-started", G_CALLBACK (on_session_started) },
    { "session-ended", G_CALLBACK (on_session_ended) },
    { "head-worn", G_CALLBACK (on_head_worn) },
    { "g-properties-changed", G_CALLBACK (on_properties_changed) },
  };

  watch->roller = g_object_ref (roller);
  for (gsize i = 0; i < G_N_ELEMENTS (handlers); i++)
    watch->roller_handlers = g_slist_prepend (
        watch->roller_handlers, GSIZE_TO_POINTER (g_signal_connect (roller, handlers[i].signal,
                                                                    handlers[i].callback, watch)));

  if (ctl->json)
    {
      DrJson *json = event_json_begin ("watching");
      dr_json_key (json, "roller");
      dr_roller_view_json (json, roller,
                           dr_ctl_person_name (ctl, dr_dbus_roller1_get_person (roller)));
      event_json_end (json);
    }
  else if (!watch->tty)
    {
      g_autofree char *panel = watch_panel (watch);
      g_print ("Watching %s", panel);
      fflush (stdout);
    }
  watch_draw_panel (watch);
}

static void
watch_object_added (GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
  Watch *watch = user_data;
  g_autoptr (DrDBusRoller1) roller = dr_dbus_object_get_roller1 (DR_DBUS_OBJECT (object));

  if (watch->roller != NULL || roller == NULL)
    return;
  watch_attach (watch, roller);
}

static gboolean
watch_roller_gone (gpointer user_data)
{
  Watch *watch = user_data;

  watch->gone_id = 0;
  watch_erase_panel (watch);
  watch->live.status = dr_ctl_failf ("roller %s is gone from dermarolld",
                                     dr_dbus_roller1_get_address (watch->roller));
  g_main_loop_quit (watch->live.loop);
  return G_SOURCE_REMOVE;
}

static void
watch_object_removed (GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
  Watch *watch = user_data;

  if (watch->roller == NULL || watch->gone_id != 0
      || g_strcmp0 (g_dbus_object_get_object_path (object),
                    g_dbus_proxy_get_object_path (G_DBUS_PROXY (watch->roller)))
             != 0)
    return;
  /* A daemon that shuts down unexports its rollers first and leaves the
   * bus a moment later: give on_name_owner () the chance to say so. */
  watch->gone_id = g_timeout_add (1000, watch_roller_gone, watch);
}

int
dr_cmd_watch (DrCtl *ctl, const DrCommand *cmd, int argc, char **argv)
{
  double timeout_s = 0;
  const GOptionEntry entries[] = { { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout_s,
                                     "Stop after S seconds (default: Ctrl-C)", "S" },
                                   { NULL } };
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusRoller1) roller = NULL;
  g_autolist (DrDBusRoller1) rollers = NULL;
  Watch watch = { 0 };
  int status = dr_ctl_parse (ctl, cmd, entries, &argc, &argv);

  if (status >= 0)
    return status;
  if (argc != 1)
    return dr_ctl_usage (cmd, "watch takes no arguments (the roller: --roller ADDRESS)");
  /* A live view is read as it happens, on a pipe too (`watch --json | jq`):
   * every line goes out when it is complete. */
  setvbuf (stdout, NULL, _IOLBF, 0);
  if (!check_timeout (cmd, timeout_s, &status))
    return status;
  if (!dr_ctl_connect_objects (ctl, &error))
    return dr_ctl_fail (ctl, error);
  watch.zones = dr_zone_list_fetch (ctl->manager, &error);
  if (watch.zones == NULL)
    return dr_ctl_fail (ctl, error);
  watch.zone_order = dr_zone_list_names (watch.zones);

  /* With no roller at all yet, wait for the first: `watch` is often
   * started before the roller is switched on. */
  rollers = dr_ctl_list_rollers (ctl);
  if (ctl->roller != NULL || rollers != NULL)
    {
      status = dr_ctl_resolve_roller (ctl, cmd, NULL, &roller);
      if (status >= 0)
        {
          g_array_unref (watch.zones);
          g_strfreev (watch.zone_order);
          return status;
        }
    }
  else if (!ctl->json)
    g_printerr ("Waiting for a roller to appear…\n");

  watch.tty = !ctl->json && isatty (STDOUT_FILENO);
  live_init (&watch.live, ctl, timeout_s);
  watch.added_id
      = g_signal_connect (ctl->objects, "object-added", G_CALLBACK (watch_object_added), &watch);
  watch.removed_id = g_signal_connect (ctl->objects, "object-removed",
                                       G_CALLBACK (watch_object_removed), &watch);
  if (roller != NULL)
    watch_attach (&watch, roller);

  g_main_loop_run (watch.live.loop);

  g_clear_handle_id (&watch.redraw_id, g_source_remove);
  g_clear_handle_id (&watch.gone_id, g_source_remove);
  if (watch.roller != NULL)
    {
      if (watch.tty)
        {
          /* Leave the last state on screen, up to date. */
          watch_erase_panel (&watch);
          watch_draw_panel (&watch);
        }
      else if (!ctl->json && watch.live.status == DR_EXIT_OK)
        {
          g_autofree char *panel = watch_panel (&watch);
          g_print ("Last state: %s", panel);
        }
      for (GSList *l = watch.roller_handlers; l != NULL; l = l->next)
        g_signal_handler_disconnect (watch.roller, GPOINTER_TO_SIZE (l->data));
      g_slist_free (watch.roller_handlers);
      g_clear_object (&watch.roller);
    }
  g_signal_handler_disconnect (ctl->objects, watch.added_id);
  g_signal_handler_disconnect (ctl->objects, watch.removed_id);
  status = watch.live.status;
  live_clear (&watch.live);
  g_array_unref (watch.zones);
  g_strfreev (watch.zone_order);
  return status;
}
