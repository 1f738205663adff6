/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-notifier.c: DrNotifier against dbusmock's notification_daemon
 * template on a private session bus: the calls, their text, the urgency
 * and desktop-entry hints, replaces_id, the rate limit, and the default
 * action (the template's EmitSignal plays the server's ActionInvoked).
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "aftercare.h"
#include "notifier.h"

/* 2025-12-01 10:00 UTC; main () runs the test in UTC. */
#define SESSION_END_MS ((gint64) 1764583200000)
#define DAY_MS ((gint64) 86400000)

typedef struct
{
  GSubprocess *bus;
  GSubprocess *mock;
  GDBusConnection *connection;
  GPtrArray *calls; /* GVariant* Notify args, in order */
  guint signal_id;
  gint64 now_us;
} Fixture;

static gint64
fake_clock (gpointer user_data)
{
  Fixture *f = user_data;
  return f->now_us;
}

static void
on_method_called (GDBusConnection *connection, const char *sender, const char *path,
                  const char *iface, const char *signal, GVariant *params, gpointer user_data)
{
  Fixture *f = user_data;
  const char *method;
  g_autoptr (GVariant) args = NULL;

  g_variant_get (params, "(&s@av)", &method, &args);
  if (g_str_equal (method, "Notify"))
    g_ptr_array_add (f->calls, g_variant_ref (args));
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;
  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context until @n Notify calls were seen, or 5 s passed. */
static void
wait_for_calls (Fixture *f, guint n)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (5000, timeout_cb, &timed_out);

  while (f->calls->len < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_cmpuint (f->calls->len, ==, n);
}

/* Lets every reply in flight arrive: a round trip to the mock behind them. */
static void
settle (Fixture *f)
{
  g_autoptr (GVariant) reply = NULL;
  gboolean done = FALSE;
  guint id = g_timeout_add (200, timeout_cb, &done);

  reply = g_dbus_connection_call_sync (f->connection, "org.freedesktop.Notifications",
                                       "/org/freedesktop/Notifications",
                                       "org.freedesktop.Notifications", "GetServerInformation",
                                       NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, NULL);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  (void) id;
}

static char *
read_line (GInputStream *stream)
{
  g_autoptr (GDataInputStream) data = g_data_input_stream_new (stream);
  g_data_input_stream_set_newline_type (data, G_DATA_STREAM_NEWLINE_TYPE_LF);
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (data), FALSE);
  return g_data_input_stream_read_line (data, NULL, NULL, NULL);
}

static void
name_appeared (GDBusConnection *c, const char *name, const char *owner, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
fixture_setup (Fixture *f, gconstpointer with_server)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *address = NULL;

  f->bus = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "dbus-daemon", "--session",
                             "--nofork", "--print-address", NULL);
  g_assert_no_error (error);
  address = read_line (g_subprocess_get_stdout_pipe (f->bus));
  g_assert_nonnull (address);

  f->connection = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  f->calls = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  if (GPOINTER_TO_INT (with_server))
    {
      g_autoptr (GSubprocessLauncher) launcher
          = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
      gboolean appeared = FALSE, timed_out = FALSE;
      guint watch, timer;

      g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", address, TRUE);
      f->mock = g_subprocess_launcher_spawn (launcher, &error, "/usr/bin/python3", "-m", "dbusmock",
                                             "--template", "notification_daemon", NULL);
      g_assert_no_error (error);
      watch = g_bus_watch_name_on_connection (f->connection, "org.freedesktop.Notifications",
                                              G_BUS_NAME_WATCHER_FLAGS_NONE, name_appeared, NULL,
                                              &appeared, NULL);
      timer = g_timeout_add (10000, timeout_cb, &timed_out);
      while (!appeared && !timed_out)
        g_main_context_iteration (NULL, TRUE);
      g_bus_unwatch_name (watch);
      g_assert_true (appeared);
      g_source_remove (timer);

      f->signal_id = g_dbus_connection_signal_subscribe (
          f->connection, NULL, "org.freedesktop.DBus.Mock", "MethodCalled",
          "/org/freedesktop/Notifications", NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_method_called, f,
          NULL);
    }
  f->now_us = 1000000000;
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  if (f->signal_id)
    g_dbus_connection_signal_unsubscribe (f->connection, f->signal_id);
  g_clear_pointer (&f->calls, g_ptr_array_unref);
  g_clear_object (&f->connection);
  /* Every process this test started goes, whatever the outcome. */
  if (f->mock)
    {
      g_subprocess_force_exit (f->mock);
      g_subprocess_wait (f->mock, NULL, NULL);
      g_clear_object (&f->mock);
    }
  if (f->bus)
    {
      g_subprocess_force_exit (f->bus);
      g_subprocess_wait (f->bus, NULL, NULL);
      g_clear_object (&f->bus);
    }
}

static DrNotifier *
notifier_new (Fixture *f, const DrNotifierOptions *options)
{
  DrNotifierOptions defaults;
  DrNotifier *n;

  dr_notifier_options_init (&defaults);
  n = dr_notifier_new (f->connection, options ? options : &defaults);
  dr_notifier_set_clock (n, fake_clock, f);
  return n;
}

/* Notify(s app, u replaces, s icon, s summary, s body, as actions, a{sv} hints, i timeout) */
static void
check_call (Fixture *f, guint i, guint32 replaces, const char *summary, const char *body_part,
            guint8 urgency)
{
  GVariant *args = g_ptr_array_index (f->calls, i);
  g_autoptr (GVariant) app = g_variant_get_child_value (args, 0);
  g_autoptr (GVariant) rep = g_variant_get_child_value (args, 1);
  g_autoptr (GVariant) sum = g_variant_get_child_value (args, 3);
  g_autoptr (GVariant) body = g_variant_get_child_value (args, 4);
  g_autoptr (GVariant) hints = g_variant_get_child_value (args, 6);
  g_autoptr (GVariant) app_s = g_variant_get_variant (app);
  g_autoptr (GVariant) rep_u = g_variant_get_variant (rep);
  g_autoptr (GVariant) sum_s = g_variant_get_variant (sum);
  g_autoptr (GVariant) body_s = g_variant_get_variant (body);
  g_autoptr (GVariant) hints_d = g_variant_get_variant (hints);
  guint8 got_urgency = 255;
  const char *desktop_entry = NULL;

  g_assert_cmpstr (g_variant_get_string (app_s, NULL), ==, "dermaroll");
  g_assert_cmpuint (g_variant_get_uint32 (rep_u), ==, replaces);
  g_assert_cmpstr (g_variant_get_string (sum_s, NULL), ==, summary);
  if (strstr (g_variant_get_string (body_s, NULL), body_part) == NULL)
    g_error ("body \"%s\" lacks \"%s\"", g_variant_get_string (body_s, NULL), body_part);
  g_assert_true (g_variant_lookup (hints_d, "urgency", "y", &got_urgency));
  g_assert_cmpuint (got_urgency, ==, urgency);
  /* The app's .desktop file is named for its id, which D-Bus activation needs. */
  g_assert_true (g_variant_lookup (hints_d, "desktop-entry", "&s", &desktop_entry));
  g_assert_cmpstr (desktop_entry, ==, "org.dermaroll.App");
}

/* The actions of call @i, key and label pairs: "default" and its label, or none. */
static char **
actions_of (Fixture *f, guint i)
{
  g_autoptr (GVariant) actions = g_variant_get_child_value (g_ptr_array_index (f->calls, i), 5);
  g_autoptr (GVariant) actions_as = g_variant_get_variant (actions);
  return g_variant_dup_strv (actions_as, NULL);
}

static void
on_session_activated (DrNotifier *notifier, guint64 session_id, gpointer user_data)
{
  g_array_append_val ((GArray *) user_data, session_id);
}

/* Emits ActionInvoked(@id, @action) from the mock server, as a click would. */
static void
invoke_action (Fixture *f, guint32 id, const char *action)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  GVariantBuilder args;

  g_variant_builder_init (&args, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&args, "v", g_variant_new_uint32 (id));
  g_variant_builder_add (&args, "v", g_variant_new_string (action));
  reply = g_dbus_connection_call_sync (f->connection, "org.freedesktop.Notifications",
                                       "/org/freedesktop/Notifications",
                                       "org.freedesktop.DBus.Mock", "EmitSignal",
                                       g_variant_new ("(sssav)", "", "ActionInvoked", "us", &args),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
}

/* Runs the main context until @activated has @n ids, or 5 s passed. */
static void
wait_for_activations (GArray *activated, guint n)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (5000, timeout_cb, &timed_out);

  while (activated->len < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_cmpuint (activated->len, ==, n);
}

static void
test_pressure (Fixture *f, gconstpointer data)
{
  g_autoptr (DrNotifier) n = notifier_new (f, NULL);

  dr_notifier_pressure_started (n, "C0:FF:EE:00:00:01", 0, "forehead", 6.23, 5.0);
  wait_for_calls (f, 1);
  check_call (f, 0, 0, "Too much pressure", "forehead: 6.2 N, limit 5.0 N", 2);
  settle (f);

  /* The end of the episode rewrites the same popup: replaces_id is the id
   * the server gave the first (the template counts from 1). */
  dr_notifier_pressure_ended (n, "C0:FF:EE:00:00:01", 0, "forehead", 6.41, 5.0, 640);
  wait_for_calls (f, 2);
  check_call (f, 1, 1, "Pressure back to normal", "forehead: peak 6.4 N for 0.6 s (limit 5.0 N)",
              1);
}

/* A notification about a session has the default action, one about none
 * has no action; the server's ActionInvoked(id, "default") for it is
 * "session-activated" with that session, once; another action, an id not
 * ours and a notification without a session are nothing. */
static void
test_default_action (Fixture *f, gconstpointer data)
{
  g_autoptr (DrNotifier) n = notifier_new (f, NULL);
  g_autoptr (GArray) activated = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (GVariant) coverage = g_variant_ref_sink (
      g_variant_new_array (G_VARIANT_TYPE ("{sd}"),
                           (GVariant *[]){ g_variant_new_dict_entry (g_variant_new_string ("chin"),
                                                                     g_variant_new_double (1.0)) },
                           1));
  const char *const with_default[] = { "default", "Show the session", NULL };
  const char *const none[] = { NULL };

  g_signal_connect (n, "session-activated", G_CALLBACK (on_session_activated), activated);
  dr_notifier_pressure_started (n, "C0:FF:EE:00:00:01", 41, "chin", 5.5, 5.0);
  wait_for_calls (f, 1);
  settle (f);
  dr_notifier_battery (n, "C0:FF:EE:00:00:01", 10);
  wait_for_calls (f, 2);
  settle (f);
  dr_notifier_session_ended (n, "C0:FF:EE:00:00:01", 42, NULL, coverage, NULL, NULL, 500,
                             SESSION_END_MS, NULL);
  wait_for_calls (f, 3);
  settle (f);
  {
    g_auto (GStrv) a0 = actions_of (f, 0);
    g_auto (GStrv) a1 = actions_of (f, 1);
    g_auto (GStrv) a2 = actions_of (f, 2);
    g_assert_cmpstrv (a0, with_default);
    g_assert_cmpstrv (a1, none);
    g_assert_cmpstrv (a2, with_default);
  }

  /* The template numbers from 1: pressure 1, battery 2, summary 3. */
  invoke_action (f, 2, "default");
  invoke_action (f, 3, "other");
  invoke_action (f, 99, "default");
  invoke_action (f, 3, "default");
  wait_for_activations (activated, 1);
  g_assert_cmpuint (g_array_index (activated, guint64, 0), ==, 42);
  invoke_action (f, 1, "default");
  wait_for_activations (activated, 2);
  g_assert_cmpuint (g_array_index (activated, guint64, 1), ==, 41);
  settle (f);
  g_assert_cmpuint (activated->len, ==, 2);
}

static void
test_rate_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (DrNotifier) n = notifier_new (f, NULL);
  const char *roller = "C0:FF:EE:00:00:01";

  dr_notifier_pressure_started (n, roller, 0, "chin", 5.5, 5.0);
  wait_for_calls (f, 1);
  settle (f);

  /* 9.999 s later: held back. */
  f->now_us += 9999000;
  dr_notifier_pressure_started (n, roller, 0, "chin", 5.6, 5.0);
  settle (f);
  g_assert_cmpuint (f->calls->len, ==, 1);

  /* Another roller is not held back by the first one's popup. */
  dr_notifier_pressure_started (n, "C0:FF:EE:00:00:02", 0, "nose", 5.7, 5.0);
  wait_for_calls (f, 2);
  check_call (f, 1, 0, "Too much pressure", "nose: 5.7 N", 2);
  settle (f);

  /* 10 s after the first: a new popup, in place of the first one. */
  f->now_us += 1000;
  dr_notifier_pressure_started (n, roller, 0, "chin", 5.8, 5.0);
  wait_for_calls (f, 3);
  check_call (f, 2, 1, "Too much pressure", "chin: 5.8 N", 2);
  g_assert_cmpuint (dr_notifier_get_n_sent (n), ==, 3);
}

static void
test_update_before_reply (Fixture *f, gconstpointer data)
{
  g_autoptr (DrNotifier) n = notifier_new (f, NULL);

  /* The end arrives before the server answered the start: it must still
   * replace it rather than open a second popup. */
  dr_notifier_pressure_started (n, "C0:FF:EE:00:00:01", 0, "neck", 3.5, 3.0);
  dr_notifier_pressure_ended (n, "C0:FF:EE:00:00:01", 0, "neck", 3.6, 3.0, 300);
  wait_for_calls (f, 2);
  check_call (f, 0, 0, "Too much pressure", "neck: 3.5 N", 2);
  check_call (f, 1, 1, "Pressure back to normal", "peak 3.6 N for 0.3 s", 1);
}

static void
test_kinds (Fixture *f, gconstpointer data)
{
  g_autoptr (DrNotifier) n = notifier_new (f, NULL);
  const char *roller = "C0:FF:EE:00:00:01";
  g_autoptr (GVariant) coverage = NULL;
  const char *excluded[] = { "nose", NULL };
  GVariantBuilder b;

  dr_notifier_zone_warning (n, roller, 0, DR_NOTIFY_EXCLUDED_ZONE, "nose", NULL);
  wait_for_calls (f, 1);
  check_call (f, 0, 0, "Excluded zone", "nose is excluded", 2);

  dr_notifier_zone_warning (n, roller, 0, DR_NOTIFY_OVER_TREATED, "chin", NULL);
  wait_for_calls (f, 2);
  check_call (f, 1, 0, "Zone over-treated", "chin has had twice its target passes", 1);

  dr_notifier_zone_warning (n, roller, 0, DR_NOTIFY_TOO_SOON, "forehead", "treated 2.0 days ago");
  wait_for_calls (f, 3);
  check_call (f, 2, 0, "Too soon for this zone", "forehead needs more rest", 1);

  dr_notifier_head_worn (n, roller, 4242, 2512, 1.0048);
  wait_for_calls (f, 4);
  check_call (f, 3, 0, "Replace the needle head",
              "Needle head 4242 has rolled 2512 revolutions (100 %", 1);

  /* Above 15 % nothing; at 15 % a popup. */
  dr_notifier_battery (n, roller, 16);
  dr_notifier_battery (n, roller, 15);
  wait_for_calls (f, 5);
  check_call (f, 4, 0, "Roller battery low", "15 % left", 1);

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sd}"));
  g_variant_builder_add (&b, "{sd}", "forehead", 1.0);
  g_variant_builder_add (&b, "{sd}", "chin", 0.5);
  g_variant_builder_add (&b, "{sd}", "neck", 0.0);
  g_variant_builder_add (&b, "{sd}", "nose", 0.0);
  coverage = g_variant_ref_sink (g_variant_builder_end (&b));
  dr_notifier_session_ended (n, roller, 7, NULL, coverage, NULL, excluded, 1500, SESSION_END_MS,
                             NULL);
  wait_for_calls (f, 6);
  check_call (f, 5, 0, "Session 7 finished",
              "Coverage: forehead 100 %, chin 50 %, neck 0 %\nMissed: neck\nAftercare:\n- Apply",
              1);
}

static char *
body_of (Fixture *f, guint i)
{
  g_autoptr (GVariant) body = g_variant_get_child_value (g_ptr_array_index (f->calls, i), 4);
  g_autoptr (GVariant) body_s = g_variant_get_variant (body);
  return g_variant_dup_string (body_s, NULL);
}

/* The summary's aftercare is the table's, for the session's needle, and
 * each treated zone's next date is a local date: this year without the
 * year, another year with it, the same day with the time, none: any time. */
static void
test_summary_aftercare (Fixture *f, gconstpointer data)
{
  g_autoptr (DrNotifier) n = notifier_new (f, NULL);
  g_autoptr (GVariant) coverage = NULL;
  g_autoptr (GVariant) again = NULL;
  g_autoptr (GString) expected = g_string_new ("Coverage: forehead 100 %, nose 80 %\n"
                                               "Missed: none\nAftercare:");
  g_autofree char *body = NULL;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sd}"));
  g_variant_builder_add (&b, "{sd}", "forehead", 1.0);
  g_variant_builder_add (&b, "{sd}", "nose", 0.8);
  coverage = g_variant_ref_sink (g_variant_builder_end (&b));
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sx)"));
  g_variant_builder_add (&b, "(sx)", "forehead", SESSION_END_MS + 7 * DAY_MS);
  g_variant_builder_add (&b, "(sx)", "nose", SESSION_END_MS + 42 * DAY_MS);
  g_variant_builder_add (&b, "(sx)", "chin", SESSION_END_MS + 2 * 3600 * 1000);
  g_variant_builder_add (&b, "(sx)", "neck", (gint64) 0);
  again = g_variant_ref_sink (g_variant_builder_end (&b));

  dr_notifier_session_ended (n, "C0:FF:EE:00:00:01", 9, NULL, coverage, NULL, NULL, 500,
                             SESSION_END_MS, again);
  wait_for_calls (f, 1);
  for (const char *const *line = dr_aftercare_for_needle (500); *line; line++)
    g_string_append_printf (expected, "\n- %s", *line);
  g_string_append (expected, "\nNext session:\nforehead: again from 8 Dec\n"
                             "nose: again from 12 Jan 2026\nchin: again from today 12:00\n"
                             "neck: any time");
  body = body_of (f, 0);
  g_assert_cmpstr (body, ==, expected->str);
  g_assert_nonnull (strstr (body, "No retinoids or acids (AHA, BHA, vitamin C) for 24 hours."));
  g_assert_nonnull (strstr (body, "70 % isopropyl alcohol"));
  g_assert_null (strstr (body, "bleeding"));
}

/* The summary says whose session it was and which directions a rolled
 * zone missed (version 1 passes, of no known direction, say nothing; a
 * zone not rolled is "missed", not "missing" directions). */
static void
test_summary_person_and_directions (Fixture *f, gconstpointer data)
{
  g_autoptr (DrNotifier) n = notifier_new (f, NULL);
  g_autoptr (GVariant) coverage = NULL;
  g_autoptr (GVariant) directions = NULL;
  g_autofree char *body = NULL;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sd}"));
  g_variant_builder_add (&b, "{sd}", "forehead", 1.0);
  g_variant_builder_add (&b, "{sd}", "upper-lip", 0.67);
  g_variant_builder_add (&b, "{sd}", "chin", 0.33);
  g_variant_builder_add (&b, "{sd}", "nose", 0.5);
  g_variant_builder_add (&b, "{sd}", "neck", 0.0);
  coverage = g_variant_ref_sink (g_variant_builder_end (&b));
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{s(dddd)}"));
  g_variant_builder_add (&b, "{s(dddd)}", "forehead", 2.0, 2.0, 2.0, 0.0);
  g_variant_builder_add (&b, "{s(dddd)}", "upper-lip", 2.5, 1.5, 0.0, 0.0);
  g_variant_builder_add (&b, "{s(dddd)}", "chin", 6.0, 0.0, 0.0, 0.0);
  g_variant_builder_add (&b, "{s(dddd)}", "nose", 0.0, 0.0, 0.0, 3.0);
  g_variant_builder_add (&b, "{s(dddd)}", "neck", 0.0, 0.0, 0.0, 0.0);
  directions = g_variant_ref_sink (g_variant_builder_end (&b));

  dr_notifier_session_ended (n, "C0:FF:EE:00:00:01", 4, "Ann", coverage, directions, NULL, 500,
                             SESSION_END_MS, NULL);
  wait_for_calls (f, 1);
  body = body_of (f, 0);
  g_assert_true (g_str_has_prefix (
      body, "For Ann.\nCoverage: forehead 100 %, upper-lip 67 % (diagonal missing), chin 33 % "
            "(vertical and diagonal missing), nose 50 %, neck 0 %\nMissed: neck\nAftercare:"));
}

/* A needle not known gets the longest class's advice. */
static void
test_summary_needle_unknown (Fixture *f, gconstpointer data)
{
  g_autoptr (DrNotifier) n = notifier_new (f, NULL);
  g_autoptr (GVariant) coverage = g_variant_ref_sink (
      g_variant_new_array (G_VARIANT_TYPE ("{sd}"),
                           (GVariant *[]){ g_variant_new_dict_entry (g_variant_new_string ("chin"),
                                                                     g_variant_new_double (1.0)) },
                           1));
  g_autofree char *body = NULL;

  dr_notifier_session_ended (n, "C0:FF:EE:00:00:01", 3, NULL, coverage, NULL, NULL, 0,
                             SESSION_END_MS, NULL);
  wait_for_calls (f, 1);
  body = body_of (f, 0);
  g_assert_nonnull (strstr (body, "Pinpoint bleeding is possible"));
  g_assert_nonnull (strstr (body, "for 72 hours"));
  g_assert_null (strstr (body, "Next session"));
}

/* Zones that come ready together join one notification per person, in
 * place; after the interval a new popup starts a new list; another person
 * has their own; a name, when given, comes first. */
static void
test_zone_ready (Fixture *f, gconstpointer data)
{
  g_autoptr (DrNotifier) n = notifier_new (f, NULL);

  dr_notifier_zone_ready (n, 0, NULL, "forehead");
  wait_for_calls (f, 1);
  check_call (f, 0, 0, "Ready for the next session", "forehead is ready for the next session", 0);
  settle (f);

  dr_notifier_zone_ready (n, 0, NULL, "nose");
  wait_for_calls (f, 2);
  check_call (f, 1, 1, "Ready for the next session",
              "forehead and nose are ready for the next session", 0);
  settle (f);
  dr_notifier_zone_ready (n, 0, NULL, "chin");
  wait_for_calls (f, 3);
  check_call (f, 2, 1, "Ready for the next session",
              "forehead, nose and chin are ready for the next session", 0);
  settle (f);
  /* The same zone again changes nothing. */
  dr_notifier_zone_ready (n, 0, NULL, "nose");
  settle (f);
  g_assert_cmpuint (f->calls->len, ==, 3);

  dr_notifier_zone_ready (n, 1, "Anna", "neck");
  wait_for_calls (f, 4);
  check_call (f, 3, 0, "Ready for the next session", "Anna: neck is ready for the next session", 0);
  settle (f);

  f->now_us += 10 * G_USEC_PER_SEC;
  dr_notifier_zone_ready (n, 0, NULL, "neck");
  wait_for_calls (f, 5);
  check_call (f, 4, 1, "Ready for the next session", "neck is ready for the next session", 0);
}

static void
test_zone_ready_disabled (Fixture *f, gconstpointer data)
{
  DrNotifierOptions options;
  g_autoptr (DrNotifier) n = NULL;

  dr_notifier_options_init (&options);
  options.enabled[DR_NOTIFY_ZONE_READY] = FALSE;
  n = notifier_new (f, &options);
  dr_notifier_zone_ready (n, 0, NULL, "forehead");
  dr_notifier_battery (n, "C0:FF:EE:00:00:01", 10);
  wait_for_calls (f, 1);
  check_call (f, 0, 0, "Roller battery low", "10 % left", 1);
  g_assert_cmpuint (dr_notifier_get_n_sent (n), ==, 1);
}

static void
test_disabled (Fixture *f, gconstpointer data)
{
  DrNotifierOptions options;
  g_autoptr (DrNotifier) n = NULL;

  dr_notifier_options_init (&options);
  options.enabled[DR_NOTIFY_OVER_PRESSURE] = FALSE;
  n = notifier_new (f, &options);
  dr_notifier_pressure_started (n, "C0:FF:EE:00:00:01", 0, "chin", 5.5, 5.0);
  dr_notifier_zone_warning (n, "C0:FF:EE:00:00:01", 0, DR_NOTIFY_EXCLUDED_ZONE, "nose", NULL);
  wait_for_calls (f, 1);
  check_call (f, 0, 0, "Excluded zone", "nose", 2);
  g_assert_cmpuint (dr_notifier_get_n_sent (n), ==, 1);
}

/* A damaged database: critical, whatever kinds are off, never held back,
 * and updated in place. */
static void
test_store_problem (Fixture *f, gconstpointer data)
{
  DrNotifierOptions options;
  g_autoptr (DrNotifier) n = NULL;

  dr_notifier_options_init (&options);
  for (guint i = 0; i < DR_N_NOTIFY_KINDS; i++)
    options.enabled[i] = FALSE;
  n = notifier_new (f, &options);
  dr_notifier_store_problem (n, "The dermaroll database is damaged", "moved to /x.corrupt-1");
  wait_for_calls (f, 1);
  check_call (f, 0, 0, "The dermaroll database is damaged", "moved to /x.corrupt-1", 2);
  settle (f);
  dr_notifier_store_problem (n, "The dermaroll database is damaged", "moved to /x.corrupt-2");
  wait_for_calls (f, 2);
  check_call (f, 1, 1, "The dermaroll database is damaged", "moved to /x.corrupt-2", 2);
}

static void
test_no_server (Fixture *f, gconstpointer data)
{
  g_autoptr (DrNotifier) n = notifier_new (f, NULL);

  /* No server on this bus: said once, then quiet, and nothing breaks. */
  g_test_expect_message ("dermaroll", G_LOG_LEVEL_MESSAGE,
                         "desktop notifications are unavailable*");
  dr_notifier_pressure_started (n, "C0:FF:EE:00:00:01", 0, "chin", 5.5, 5.0);
  settle (f);
  f->now_us += 20000000;
  dr_notifier_pressure_started (n, "C0:FF:EE:00:00:01", 0, "chin", 5.5, 5.0);
  settle (f);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (dr_notifier_get_n_sent (n), ==, 2);
}

static void
test_options (void)
{
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  DrNotifierOptions options;
  int fd;

  dr_notifier_options_init (&options);
  fd = g_file_open_tmp ("notifier-XXXXXX.conf", &path, &error);
  g_assert_no_error (error);
  close (fd);

  g_assert_true (g_file_set_contents (path,
                                      "[engine]\nsession-gap-s=60\n[notifications]\n"
                                      "session-summary=false\nzone-ready=false\n"
                                      "min-interval-s=2.5\n",
                                      -1, NULL));
  g_assert_true (dr_notifier_options_load_file (&options, path, &error));
  g_assert_no_error (error);
  g_assert_false (options.enabled[DR_NOTIFY_SESSION_SUMMARY]);
  g_assert_false (options.enabled[DR_NOTIFY_ZONE_READY]);
  g_assert_true (options.enabled[DR_NOTIFY_OVER_PRESSURE]);
  g_assert_cmpuint (options.min_interval_ms, ==, 2500);

  g_assert_true (g_file_set_contents (path, "[notifications]\nover-pressure=maybe\n", -1, NULL));
  g_assert_false (dr_notifier_options_load_file (&options, path, &error));
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message,
                            "[notifications] over-pressure: must be true or false, got \"maybe\""));
  g_clear_error (&error);
  /* Left as it was. */
  g_assert_true (options.enabled[DR_NOTIFY_OVER_PRESSURE]);

  g_assert_true (g_file_set_contents (path, "[notifications]\nloud=true\n", -1, NULL));
  g_assert_false (dr_notifier_options_load_file (&options, path, &error));
  g_assert_nonnull (strstr (error->message, "[notifications] loud: unknown key"));
  g_clear_error (&error);

  /* Every problem of the group, one a line, not only the first. */
  g_assert_true (g_file_set_contents (path,
                                      "[notifications]\nover-pressure=maybe\nloud=true\n"
                                      "min-interval-s=-1\n",
                                      -1, NULL));
  g_assert_false (dr_notifier_options_load_file (&options, path, &error));
  {
    g_auto (GStrv) lines = g_strsplit (error->message, "\n", -1);
    g_autofree char *l0 = g_strdup_printf ("%s: [notifications] over-pressure: must be true or "
                                           "false, got \"maybe\"",
                                           path);
    g_autofree char *l2 = g_strdup_printf ("%s: [notifications] min-interval-s: must be a number "
                                           "of seconds from 0 to 3600, got \"-1\"",
                                           path);

    g_assert_cmpuint (g_strv_length (lines), ==, 3);
    g_assert_cmpstr (lines[0], ==, l0);
    g_assert_true (strstr (lines[1], "[notifications] loud: unknown key") != NULL);
    g_assert_cmpstr (lines[2], ==, l2);
  }
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  /* The summary's dates are local: a fixed zone makes them known. */
  g_setenv ("TZ", "UTC", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/notifier/pressure/critical-then-update", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_pressure, fixture_teardown);
  g_test_add ("/notifier/pressure/update-before-reply", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_update_before_reply, fixture_teardown);
  g_test_add ("/notifier/action/default-opens-session", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_default_action, fixture_teardown);
  g_test_add ("/notifier/rate-limit/10s-per-kind-per-roller", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_rate_limit, fixture_teardown);
  g_test_add ("/notifier/kinds/texts", Fixture, GINT_TO_POINTER (TRUE), fixture_setup, test_kinds,
              fixture_teardown);
  g_test_add ("/notifier/summary/aftercare-and-next-session", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_summary_aftercare, fixture_teardown);
  g_test_add ("/notifier/summary/person-and-directions", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_summary_person_and_directions, fixture_teardown);
  g_test_add ("/notifier/summary/needle-not-known", Fixture, GINT_TO_POINTER (TRUE), fixture_setup,
              test_summary_needle_unknown, fixture_teardown);
  g_test_add ("/notifier/zone-ready/joined-per-person", Fixture, GINT_TO_POINTER (TRUE),
              fixture_setup, test_zone_ready, fixture_teardown);
  g_test_add ("/notifier/zone-ready/disabled", Fixture, GINT_TO_POINTER (TRUE), fixture_setup,
              test_zone_ready_disabled, fixture_teardown);
  g_test_add ("/notifier/kinds/disabled", Fixture, GINT_TO_POINTER (TRUE), fixture_setup,
              test_disabled, fixture_teardown);
  g_test_add ("/notifier/store-problem", Fixture, GINT_TO_POINTER (TRUE), fixture_setup,
              test_store_problem, fixture_teardown);
  g_test_add ("/notifier/no-server", Fixture, GINT_TO_POINTER (FALSE), fixture_setup,
              test_no_server, fixture_teardown);
  g_test_add_func ("/notifier/options/load", test_options);
  return g_test_run ();
}
