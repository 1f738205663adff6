/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* notifier.c: desktop notifications for what the engine finds.
 *
 * Texts say what happened in the person's terms (zone, newtons, days) and
 * what to do about it. Each (roller, kind) owns one notification id; a
 * new popup of a kind within min_interval_ms of the last is dropped, while
 * an update of a shown one (the end of an over-pressure episode) always
 * goes through, in place.
 */
#include "notifier.h"

#include <math.h>

#include "aftercare.h"
#include "dr-error.h"
#include "dr-quote.h"
#include "stroke-directions.h"

#define NOTIFICATIONS_NAME "org.freedesktop.Notifications"
#define NOTIFICATIONS_PATH "/org/freedesktop/Notifications"

enum
{
  URGENCY_LOW = 0,
  URGENCY_NORMAL = 1,
  URGENCY_CRITICAL = 2,
};

/* Each kind's key in the [notifications] group of the config file, and on
 * the bus (Manager1.NotificationKinds); NULL-terminated for g_strjoinv. */
static const char *const kind_keys[DR_N_NOTIFY_KINDS + 1] = {
  [DR_NOTIFY_OVER_PRESSURE] = "over-pressure",
  [DR_NOTIFY_EXCLUDED_ZONE] = "excluded-zone",
  [DR_NOTIFY_OVER_TREATED] = "over-treated",
  [DR_NOTIFY_TOO_SOON] = "too-soon",
  [DR_NOTIFY_HEAD_WORN] = "head-worn",
  [DR_NOTIFY_LOW_BATTERY] = "low-battery",
  [DR_NOTIFY_SESSION_SUMMARY] = "session-summary",
  [DR_NOTIFY_ZONE_READY] = "zone-ready",
};

typedef struct
{
  char *summary;
  char *body;
  guint8 urgency;
  guint64 session_id; /* 0: about no session, no default action */
} Content;

typedef struct
{
  DrNotifier *notifier;
  char *key;
  guint32 id;         /* server's id of our notification, 0 before the first */
  guint64 session_id; /* the session of the content last sent */
  gint64 last_popup_us;
  gboolean in_flight; /* a Notify without reply yet: its id is still unknown */
  Content pending;    /* sent once the reply in flight gives us the id */
  gboolean has_pending;
  GPtrArray *zones; /* zone-ready: the zones its shown popup names */
} Slot;

struct _DrNotifier
{
  GObject parent_instance;

  GDBusConnection *connection;
  guint action_signal_id; /* ActionInvoked, from the server */
  DrNotifierOptions options;
  GHashTable *slots; /* "roller/kind" → Slot */
  GCancellable *cancellable;
  gint64 (*clock) (gpointer);
  gpointer clock_data;
  gboolean warned_no_server;
  guint n_sent;
};

G_DEFINE_FINAL_TYPE (DrNotifier, dr_notifier, G_TYPE_OBJECT)

enum
{
  SIGNAL_SESSION_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

const char *
dr_notify_kind_key (DrNotifyKind kind)
{
  g_return_val_if_fail (kind < DR_N_NOTIFY_KINDS, NULL);
  return kind_keys[kind];
}

gboolean
dr_notify_kind_from_key (const char *key, DrNotifyKind *kind)
{
  for (guint i = 0; i < DR_N_NOTIFY_KINDS; i++)
    if (g_strcmp0 (key, kind_keys[i]) == 0)
      {
        *kind = (DrNotifyKind) i;
        return TRUE;
      }
  return FALSE;
}

char *
dr_notify_kind_list_keys (void)
{
  return g_strjoinv (", ", (char **) kind_keys);
}

void
dr_notifier_options_init (DrNotifierOptions *options)
{
  for (guint i = 0; i < DR_N_NOTIFY_KINDS; i++)
    options->enabled[i] = TRUE;
  options->min_interval_ms = 10000;
}

gboolean
dr_notifier_options_load_file (DrNotifierOptions *options, const char *path, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) keys = NULL;
  g_autoptr (GString) problems = NULL;
  DrNotifierOptions result = *options;
  const char *group = "notifications";

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, DR_ERROR, DR_ERROR_CONFIG, "%s: %s", path, local->message);
      return FALSE;
    }
  if (!g_key_file_has_group (file, group))
    return TRUE;

  /* Every problem of the group, not just the first (issue 8). */
  problems = g_string_new (NULL);
  keys = g_key_file_get_keys (file, group, NULL, NULL);
  for (char **k = keys; k && *k; k++)
    {
      g_autofree char *raw = g_key_file_get_value (file, group, *k, NULL);
      g_autofree char *quoted = dr_quote (raw);
      DrNotifyKind kind;

      if (g_str_equal (*k, "min-interval-s"))
        {
          char *end = NULL;
          double seconds = g_ascii_strtod (raw, &end);
          if (end == raw || *end != '\0' || !(seconds >= 0 && seconds <= 3600))
            g_string_append_printf (problems,
                                    "%s%s: [%s] %s: must be a number of seconds from 0 to 3600, "
                                    "got %s",
                                    problems->len ? "\n" : "", path, group, *k, quoted);
          else
            result.min_interval_ms = (guint) lround (seconds * 1000.0);
          continue;
        }
      if (dr_notify_kind_from_key (*k, &kind))
        {
          if (g_str_equal (raw, "true"))
            result.enabled[kind] = TRUE;
          else if (g_str_equal (raw, "false"))
            result.enabled[kind] = FALSE;
          else
            g_string_append_printf (problems, "%s%s: [%s] %s: must be true or false, got %s",
                                    problems->len ? "\n" : "", path, group, *k, quoted);
        }
      else
        {
          g_autofree char *kinds = dr_notify_kind_list_keys ();
          g_string_append_printf (problems,
                                  "%s%s: [%s] %s: unknown key (known: %s, min-interval-s)",
                                  problems->len ? "\n" : "", path, group, *k, kinds);
        }
    }
  if (problems->len > 0)
    {
      g_set_error_literal (error, DR_ERROR, DR_ERROR_CONFIG, problems->str);
      return FALSE;
    }
  *options = result;
  return TRUE;
}

static gint64
default_clock (gpointer user_data)
{
  return g_get_monotonic_time ();
}

static void
content_clear (Content *content)
{
  g_clear_pointer (&content->summary, g_free);
  g_clear_pointer (&content->body, g_free);
}

static void
slot_free (gpointer data)
{
  Slot *slot = data;
  content_clear (&slot->pending);
  g_clear_pointer (&slot->zones, g_ptr_array_unref);
  g_free (slot->key);
  g_free (slot);
}

/* The server says which of its notifications was clicked: ours only if
 * one of our slots holds that id, and only one about a session has the
 * default action. */
static void
on_action_invoked (GDBusConnection *connection, const char *sender, const char *path,
                   const char *iface, const char *signal, GVariant *params, gpointer user_data)
{
  DrNotifier *self = user_data;
  GHashTableIter iter;
  gpointer value;
  const char *action;
  guint32 id;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(us)")))
    return;
  g_variant_get (params, "(u&s)", &id, &action);
  if (id == 0 || !g_str_equal (action, "default"))
    return;
  g_hash_table_iter_init (&iter, self->slots);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Slot *slot = value;
      if (slot->id == id && slot->session_id != 0)
        {
          g_signal_emit (self, signals[SIGNAL_SESSION_ACTIVATED], 0, slot->session_id);
          return;
        }
    }
}

static void
dr_notifier_dispose (GObject *object)
{
  DrNotifier *self = DR_NOTIFIER (object);

  /* Replies still in flight hold slots: cancel them before the slots go. */
  g_cancellable_cancel (self->cancellable);
  if (self->action_signal_id != 0)
    g_dbus_connection_signal_unsubscribe (self->connection, self->action_signal_id);
  self->action_signal_id = 0;
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (dr_notifier_parent_class)->dispose (object);
}

static void
dr_notifier_finalize (GObject *object)
{
  DrNotifier *self = DR_NOTIFIER (object);

  g_clear_object (&self->cancellable);
  g_hash_table_unref (self->slots);
  G_OBJECT_CLASS (dr_notifier_parent_class)->finalize (object);
}

static void
dr_notifier_class_init (DrNotifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = dr_notifier_dispose;
  object_class->finalize = dr_notifier_finalize;

  /* The person clicked a notification about session @id. */
  signals[SIGNAL_SESSION_ACTIVATED]
      = g_signal_new ("session-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
}

static void
dr_notifier_init (DrNotifier *self)
{
  self->slots = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, slot_free);
  self->cancellable = g_cancellable_new ();
  self->clock = default_clock;
}

DrNotifier *
dr_notifier_new (GDBusConnection *connection, const DrNotifierOptions *options)
{
  DrNotifier *self = g_object_new (DR_TYPE_NOTIFIER, NULL);

  self->options = *options;
  if (connection != NULL)
    {
      self->connection = g_object_ref (connection);
      self->action_signal_id = g_dbus_connection_signal_subscribe (
          connection, NOTIFICATIONS_NAME, NOTIFICATIONS_NAME, "ActionInvoked", NOTIFICATIONS_PATH,
          NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_action_invoked, self, NULL);
    }
  return self;
}

void
dr_notifier_set_clock (DrNotifier *self, gint64 (*clock) (gpointer), gpointer user_data)
{
  self->clock = clock ? clock : default_clock;
  self->clock_data = user_data;
}

void
dr_notifier_set_enabled (DrNotifier *self, DrNotifyKind kind, gboolean enabled)
{
  g_return_if_fail (DR_IS_NOTIFIER (self));
  g_return_if_fail (kind < DR_N_NOTIFY_KINDS);
  self->options.enabled[kind] = enabled;
}

gboolean
dr_notifier_get_enabled (DrNotifier *self, DrNotifyKind kind)
{
  g_return_val_if_fail (DR_IS_NOTIFIER (self), FALSE);
  g_return_val_if_fail (kind < DR_N_NOTIFY_KINDS, FALSE);
  return self->options.enabled[kind];
}

guint
dr_notifier_get_n_sent (DrNotifier *self)
{
  return self->n_sent;
}

static void send_now (Slot *slot, const char *summary, const char *body, guint8 urgency,
                      guint64 session_id);

static void
notify_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  Slot *slot = user_data;
  DrNotifier *self;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the notifier is gone, and the slot with it */

  self = slot->notifier;
  slot->in_flight = FALSE;
  if (reply)
    g_variant_get (reply, "(u)", &slot->id);
  else if (!self->warned_no_server)
    {
      g_autofree char *msg = g_dbus_error_get_remote_error (error);
      g_message ("desktop notifications are unavailable (%s: %s); events are still stored "
                 "and signalled",
                 msg ? msg : "error", error->message);
      self->warned_no_server = TRUE;
    }

  if (slot->has_pending)
    {
      Content pending = slot->pending;
      slot->pending = (Content){ 0 };
      slot->has_pending = FALSE;
      send_now (slot, pending.summary, pending.body, pending.urgency, pending.session_id);
      content_clear (&pending);
    }
}

static void
send_now (Slot *slot, const char *summary, const char *body, guint8 urgency, guint64 session_id)
{
  DrNotifier *self = slot->notifier;
  GVariantBuilder hints, actions;

  if (self->connection == NULL)
    return;
  if (slot->in_flight)
    {
      /* The id is not known yet; send this once it is, so it replaces. */
      content_clear (&slot->pending);
      slot->pending.summary = g_strdup (summary);
      slot->pending.body = g_strdup (body);
      slot->pending.urgency = urgency;
      slot->pending.session_id = session_id;
      slot->has_pending = TRUE;
      return;
    }

  g_variant_builder_init (&hints, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&hints, "{sv}", "urgency", g_variant_new_byte (urgency));
  g_variant_builder_add (&hints, "{sv}", "category", g_variant_new_string ("device"));
  /* The app's id: its .desktop file's name, which D-Bus activation needs. */
  g_variant_builder_add (&hints, "{sv}", "desktop-entry",
                         g_variant_new_string ("org.dermaroll.App"));
  g_variant_builder_init (&actions, G_VARIANT_TYPE ("as"));
  if (session_id != 0)
    {
      /* A click on the notification itself: the server shows no button. */
      g_variant_builder_add (&actions, "s", "default");
      g_variant_builder_add (&actions, "s", "Show the session");
    }

  slot->session_id = session_id;
  slot->in_flight = TRUE;
  self->n_sent++;
  g_dbus_connection_call (
      self->connection, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH, NOTIFICATIONS_NAME, "Notify",
      g_variant_new ("(susssasa{sv}i)", "dermaroll", slot->id, "dialog-warning", summary, body,
                     &actions, &hints, -1),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, self->cancellable, notify_done, slot);
}

static Slot *
get_slot_by_key (DrNotifier *self, char *key)
{
  Slot *slot = g_hash_table_lookup (self->slots, key);

  if (slot == NULL)
    {
      slot = g_new0 (Slot, 1);
      slot->notifier = self;
      slot->key = g_steal_pointer (&key);
      g_hash_table_insert (self->slots, slot->key, slot);
    }
  else
    g_free (key);
  return slot;
}

static Slot *
get_slot (DrNotifier *self, const char *roller, DrNotifyKind kind)
{
  return get_slot_by_key (self, g_strdup_printf ("%s/%s", roller, kind_keys[kind]));
}

/* A new popup, subject to the per-kind interval. */
static void
popup (DrNotifier *self, const char *roller, DrNotifyKind kind, guint64 session_id,
       const char *summary, const char *body, guint8 urgency)
{
  Slot *slot;
  gint64 now;

  if (!self->options.enabled[kind])
    return;
  slot = get_slot (self, roller, kind);
  now = self->clock (self->clock_data);
  if (slot->last_popup_us != 0
      && now - slot->last_popup_us < (gint64) self->options.min_interval_ms * 1000)
    {
      g_debug ("%s: %s notification held back (one per %u ms)", roller, kind_keys[kind],
               self->options.min_interval_ms);
      return;
    }
  slot->last_popup_us = now;
  send_now (slot, summary, body, urgency, session_id);
}

/* Rewrites the shown notification of a kind, if there is one. */
static void
update (DrNotifier *self, const char *roller, DrNotifyKind kind, guint64 session_id,
        const char *summary, const char *body, guint8 urgency)
{
  Slot *slot;

  if (!self->options.enabled[kind])
    return;
  slot = get_slot (self, roller, kind);
  if (slot->last_popup_us == 0)
    return;
  send_now (slot, summary, body, urgency, session_id);
}

void
dr_notifier_pressure_started (DrNotifier *self, const char *roller, guint64 session_id,
                              const char *zone, double force_n, double limit_n)
{
  g_autofree char *body = g_strdup_printf ("%s: %.1f N, limit %.1f N. Press lighter: too much "
                                           "pressure irritates the skin and makes it bleed.",
                                           zone, force_n, limit_n);
  popup (self, roller, DR_NOTIFY_OVER_PRESSURE, session_id, "Too much pressure", body,
         URGENCY_CRITICAL);
}

void
dr_notifier_pressure_ended (DrNotifier *self, const char *roller, guint64 session_id,
                            const char *zone, double peak_n, double limit_n, gint64 duration_ms)
{
  g_autofree char *body = g_strdup_printf ("%s: peak %.1f N for %.1f s (limit %.1f N).", zone,
                                           peak_n, (double) duration_ms / 1000.0, limit_n);
  update (self, roller, DR_NOTIFY_OVER_PRESSURE, session_id, "Pressure back to normal", body,
          URGENCY_NORMAL);
}

void
dr_notifier_zone_warning (DrNotifier *self, const char *roller, guint64 session_id,
                          DrNotifyKind kind, const char *zone, const char *detail)
{
  g_autofree char *body = NULL;
  const char *summary;
  guint8 urgency = URGENCY_NORMAL;

  switch (kind)
    {
      case DR_NOTIFY_EXCLUDED_ZONE:
        summary = "Excluded zone";
        body = g_strdup_printf ("%s is excluded (active acne, rosacea or eczema): keep the roller "
                                "away from it.",
                                zone);
        urgency = URGENCY_CRITICAL;
        break;
      case DR_NOTIFY_OVER_TREATED:
        summary = "Zone over-treated";
        body = g_strdup_printf ("%s has had twice its target passes. Move on to another zone.",
                                zone);
        break;
      case DR_NOTIFY_TOO_SOON:
        summary = "Too soon for this zone";
        body = g_strdup_printf ("%s needs more rest before the next session%s%s.", zone,
                                detail ? ": " : "", detail ? detail : "");
        break;
      case DR_NOTIFY_OVER_PRESSURE:
      case DR_NOTIFY_HEAD_WORN:
      case DR_NOTIFY_LOW_BATTERY:
      case DR_NOTIFY_SESSION_SUMMARY:
      case DR_NOTIFY_ZONE_READY:
      case DR_N_NOTIFY_KINDS:
      default:
        g_return_if_reached ();
    }
  popup (self, roller, kind, session_id, summary, body, urgency);
}

void
dr_notifier_head_worn (DrNotifier *self, const char *roller, guint32 head_id, double revolutions,
                       double wear)
{
  g_autofree char *body = g_strdup_printf ("Needle head %u has rolled %.0f revolutions (%.0f %% of "
                                           "its life). Blunt needles tear the skin: replace it.",
                                           head_id, revolutions, wear * 100.0);
  popup (self, roller, DR_NOTIFY_HEAD_WORN, 0, "Replace the needle head", body, URGENCY_NORMAL);
}

/* Not a kind the config can switch off, and never held back: records are
 * at stake. */
void
dr_notifier_store_problem (DrNotifier *self, const char *summary, const char *body)
{
  g_return_if_fail (self != NULL);
  send_now (get_slot_by_key (self, g_strdup ("/store")), summary, body, URGENCY_CRITICAL, 0);
}

void
dr_notifier_battery (DrNotifier *self, const char *roller, guint8 percent)
{
  g_autofree char *body = NULL;

  if (percent > DR_LOW_BATTERY_PERCENT)
    return;
  body = g_strdup_printf ("%u %% left. Charge the roller before the next session.", percent);
  popup (self, roller, DR_NOTIFY_LOW_BATTERY, 0, "Roller battery low", body, URGENCY_NORMAL);
}

char *
dr_notifier_format_again (gint64 at_ms, gint64 now_ms)
{
  g_autoptr (GDateTime) at = g_date_time_new_from_unix_local (at_ms / 1000);
  g_autoptr (GDateTime) now = g_date_time_new_from_unix_local (now_ms / 1000);

  if (at == NULL || now == NULL)
    return g_strdup ("?");
  if (g_date_time_get_year (at) != g_date_time_get_year (now))
    return g_date_time_format (at, "%-d %b %Y");
  /* A rest configured shorter than a day ends today: the day alone would
   * say nothing. */
  if (g_date_time_get_day_of_year (at) == g_date_time_get_day_of_year (now))
    return g_date_time_format (at, "today %H:%M");
  return g_date_time_format (at, "%-d %b");
}

void
dr_notifier_session_ended (DrNotifier *self, const char *roller, guint64 session_id,
                           const char *person_name, GVariant *coverage,
                           GVariant *passes_by_direction, const char *const *excluded,
                           guint16 needle_length_um, gint64 ended_ms, GVariant *again)
{
  g_autoptr (GString) body = g_string_new (NULL);
  g_autoptr (GString) missed = g_string_new (NULL);
  g_autofree char *summary = g_strdup_printf ("Session %" G_GUINT64_FORMAT " finished", session_id);
  GVariantIter iter;
  const char *zone;
  double value;
  gint64 at_ms;

  if (person_name != NULL)
    g_string_append_printf (body, "For %s.\n", person_name);
  g_string_append (body, "Coverage:");
  g_variant_iter_init (&iter, coverage);
  while (g_variant_iter_next (&iter, "{&sd}", &zone, &value))
    {
      double h, v, d, u;
      g_autofree char *missing_dirs = NULL;

      if (g_str_equal (zone, "unassigned"))
        continue;
      if (excluded && g_strv_contains (excluded, zone))
        continue;
      /* The technique asks for every direction: a zone rolled one way only
       * is not done, whatever its area says. */
      if (value > 0.0 && passes_by_direction != NULL
          && g_variant_lookup (passes_by_direction, zone, "(dddd)", &h, &v, &d, &u))
        missing_dirs = dr_stroke_directions_missing (h, v, d);
      g_string_append_printf (body, " %s %.0f %%%s%s%s,", zone, value * 100.0,
                              missing_dirs ? " (" : "", missing_dirs ? missing_dirs : "",
                              missing_dirs ? ")" : "");
      if (value <= 0.0)
        g_string_append_printf (missed, "%s%s", missed->len ? ", " : "", zone);
    }
  g_string_truncate (body, body->len - (body->str[body->len - 1] == ',' ? 1 : 0));
  g_string_append_printf (body, "\nMissed: %s", missed->len ? missed->str : "none");
  /* The advice for the skin this session's needles leave, then when each
   * zone it treated may be treated again (rest-status's answer). */
  g_string_append (body, "\nAftercare:");
  for (const char *const *line = dr_aftercare_for_needle (needle_length_um); *line; line++)
    g_string_append_printf (body, "\n- %s", *line);
  if (again != NULL && g_variant_n_children (again) > 0)
    {
      g_string_append (body, "\nNext session:");
      g_variant_iter_init (&iter, again);
      while (g_variant_iter_next (&iter, "(&sx)", &zone, &at_ms))
        {
          g_autofree char *when
              = at_ms > ended_ms ? dr_notifier_format_again (at_ms, ended_ms) : NULL;
          g_string_append_printf (body, "\n%s: %s%s", zone, when ? "again from " : "any time",
                                  when ? when : "");
        }
    }
  popup (self, roller, DR_NOTIFY_SESSION_SUMMARY, session_id, summary, body->str, URGENCY_NORMAL);
}

/* "forehead", "forehead and nose", "forehead, nose and chin". */
static void
append_zone_list (GString *out, GPtrArray *zones)
{
  for (guint i = 0; i < zones->len; i++)
    g_string_append_printf (out, "%s%s",
                            i == 0                ? ""
                            : i + 1 == zones->len ? " and "
                                                  : ", ",
                            (const char *) g_ptr_array_index (zones, i));
}

void
dr_notifier_zone_ready (DrNotifier *self, guint person_id, const char *person_name,
                        const char *zone)
{
  g_autoptr (GString) body = g_string_new (NULL);
  Slot *slot;
  gint64 now;
  gboolean join;

  g_return_if_fail (self != NULL);
  g_return_if_fail (zone != NULL);

  if (!self->options.enabled[DR_NOTIFY_ZONE_READY])
    return;
  /* Keyed by person, not roller: the skin is ready, whichever roller. */
  slot = get_slot_by_key (
      self, g_strdup_printf ("person/%u/%s", person_id, kind_keys[DR_NOTIFY_ZONE_READY]));
  now = self->clock (self->clock_data);
  /* The zones of one session come ready together: within the interval
   * they join the shown popup rather than being held back. */
  join = slot->last_popup_us != 0
         && now - slot->last_popup_us < (gint64) self->options.min_interval_ms * 1000;
  if (!join || slot->zones == NULL)
    {
      g_clear_pointer (&slot->zones, g_ptr_array_unref);
      slot->zones = g_ptr_array_new_with_free_func (g_free);
      slot->last_popup_us = now;
    }
  for (guint i = 0; i < slot->zones->len; i++)
    if (g_str_equal (g_ptr_array_index (slot->zones, i), zone))
      return;
  g_ptr_array_add (slot->zones, g_strdup (zone));

  if (person_name != NULL)
    g_string_append_printf (body, "%s: ", person_name);
  append_zone_list (body, slot->zones);
  g_string_append_printf (body,
                          " %s ready for the next session: the rest after the last "
                          "treatment is over.",
                          slot->zones->len == 1 ? "is" : "are");
  send_now (slot, "Ready for the next session", body->str, URGENCY_LOW, 0);
}
