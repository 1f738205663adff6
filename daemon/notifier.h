/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* notifier.h: desktop notifications through org.freedesktop.Notifications.
 *
 * One notification per roller and kind, updated in place (replaces_id)
 * rather than stacked; at most one new popup per kind per roller per
 * interval (10 s by default). Notifications are a courtesy on top of the
 * stored events and D-Bus signals, never a replacement: with no
 * notification server the notifier logs that once and stays quiet.
 *
 * A notification about a session (its summary, a warning during it)
 * carries the "default" action; when the server reports it invoked, the
 * notifier emits "session-activated" (guint64 session id) and leaves
 * opening the app to its owner.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  DR_NOTIFY_OVER_PRESSURE,
  DR_NOTIFY_EXCLUDED_ZONE,
  DR_NOTIFY_OVER_TREATED,
  DR_NOTIFY_TOO_SOON,
  DR_NOTIFY_HEAD_WORN,
  DR_NOTIFY_LOW_BATTERY,
  DR_NOTIFY_SESSION_SUMMARY,
  DR_NOTIFY_ZONE_READY,
  DR_N_NOTIFY_KINDS
} DrNotifyKind;

/* Each kind can be switched off in the config file's [notifications]
 * group: over-pressure, excluded-zone, over-treated, too-soon, head-worn,
 * low-battery, session-summary, zone-ready (the kind's key). The file
 * gives the default; Manager1.SetNotificationEnabled switches a kind for
 * the user, remembered in the store, which then overrides the file. */

/* The kind's key ("over-pressure"). */
const char *dr_notify_kind_key (DrNotifyKind kind);
/* FALSE for a key that names no kind. */
gboolean dr_notify_kind_from_key (const char *key, DrNotifyKind *kind);
/* Every kind's key, ", "-separated, for messages. */
char *dr_notify_kind_list_keys (void);

#define DR_LOW_BATTERY_PERCENT 15

typedef struct
{
  gboolean enabled[DR_N_NOTIFY_KINDS];
  guint min_interval_ms; /* between new popups of one kind for one roller */
} DrNotifierOptions;

void dr_notifier_options_init (DrNotifierOptions *options);
/* Reads the [notifications] group of @path (missing group: defaults).
 * Errors name the file, group and key. */
gboolean dr_notifier_options_load_file (DrNotifierOptions *options, const char *path,
                                        GError **error);

#define DR_TYPE_NOTIFIER (dr_notifier_get_type ())
G_DECLARE_FINAL_TYPE (DrNotifier, dr_notifier, DR, NOTIFIER, GObject)

/* @connection: the session bus, or NULL for a notifier that only counts. */
DrNotifier *dr_notifier_new (GDBusConnection *connection, const DrNotifierOptions *options);

/* For tests: a clock in µs instead of g_get_monotonic_time. */
void dr_notifier_set_clock (DrNotifier *notifier, gint64 (*clock) (gpointer), gpointer user_data);

/* @roller: the roller's address, the key of "one per roller and kind";
 * @session_id: the session it happened in, 0 for none (no default action). */
void dr_notifier_pressure_started (DrNotifier *notifier, const char *roller, guint64 session_id,
                                   const char *zone, double force_n, double limit_n);
void dr_notifier_pressure_ended (DrNotifier *notifier, const char *roller, guint64 session_id,
                                 const char *zone, double peak_n, double limit_n,
                                 gint64 duration_ms);
void dr_notifier_zone_warning (DrNotifier *notifier, const char *roller, guint64 session_id,
                               DrNotifyKind kind, const char *zone, const char *detail);
void dr_notifier_head_worn (DrNotifier *notifier, const char *roller, guint32 head_id,
                            double revolutions, double wear);
void dr_notifier_battery (DrNotifier *notifier, const char *roller, guint8 percent);
/* @person_name: whose session it was ("For Ann." first), NULL to leave it
 * out; @coverage: a{sd} zone → coverage 0..1; @passes_by_direction:
 * a{s(dddd)} as Roller1.PassesByDirection, NULL for none, naming a rolled
 * zone's missing directions next to its coverage; @excluded: zones not to
 * count as missed; @needle_length_um: the session's needles (0: not known), whose
 * class picks the aftercare lines; @again: a(sx), for each zone the session
 * treated, the Unix ms from which it may be treated again (0: at once),
 * said as a local date (dr_notifier_format_again, from @ended_ms, when the
 * session ended); NULL or empty: no next-session lines. */
void dr_notifier_session_ended (DrNotifier *notifier, const char *roller, guint64 session_id,
                                const char *person_name, GVariant *coverage,
                                GVariant *passes_by_direction, const char *const *excluded,
                                guint16 needle_length_um, gint64 ended_ms, GVariant *again);

/* @zone of person @person_id has rested long enough: "forehead is ready for
 * the next session". One notification per person: zones that become ready
 * within min_interval of its popup join it, in place ("forehead and nose
 * are ready ..."), instead of being held back. @person_name: said before
 * the zones when not NULL. */
void dr_notifier_zone_ready (DrNotifier *notifier, guint person_id, const char *person_name,
                             const char *zone);

/* "8 Dec" for a local date in the year of @now_ms, "8 Dec 2027" in another
 * year, "today 14:05" on the day of @now_ms itself. */
char *dr_notifier_format_again (gint64 at_ms, gint64 now_ms);

/* The database is damaged or cannot be written: one critical notification,
 * updated in place, whatever the config says. */
void dr_notifier_store_problem (DrNotifier *notifier, const char *summary, const char *body);

/* Switches a kind on or off from now on (a popup already shown stays). */
void dr_notifier_set_enabled (DrNotifier *notifier, DrNotifyKind kind, gboolean enabled);
gboolean dr_notifier_get_enabled (DrNotifier *notifier, DrNotifyKind kind);

/* Notify calls sent so far (for tests and logs). */
guint dr_notifier_get_n_sent (DrNotifier *notifier);

G_END_DECLS
