/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* live-page.c: the Live view (see live-page.h). */
#include "live-page.h"

#include <glib/gi18n.h>

#include "dr-error.h"
#include "zones.h"

struct _DrLivePage
{
  AdwBin parent_instance;

  DrDBusRoller1 *roller;
  DrDBusManager1 *manager;
  DrDBusPerson1 *person;
  GCancellable *rest_cancellable; /* the person's rest status being asked for */
  guint rest_timeout_id;          /* at the next end of a rest: ask again */
  GCancellable *cancellable;      /* the session's start being asked for; NULL: no call */

  GtkWidget *roller_label;
  GtkWidget *map;
  GtkWidget *gauge;
  GtkWidget *force_label;
  GtkWidget *session_label;

  guint64 session;   /* the active session, 0: none */
  gint64 started_ms; /* its start, 0 until known */
  guint tick_id;     /* once a second while a session runs */
};

enum
{
  PROP_0,
  PROP_SESSION_ACTIVE,
  N_PROPS
};

enum
{
  SIGNAL_WARNING,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (DrLivePage, dr_live_page, ADW_TYPE_BIN)

static void fetch_rest (DrLivePage *self);

/* "01:23", "1:02:03". */
static char *
elapsed_text (gint64 ms)
{
  gint64 s = MAX (ms, 0) / 1000;

  if (s >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", s / 3600, (int) (s / 60 % 60),
                            (int) (s % 60));
  return g_strdup_printf ("%02d:%02d", (int) (s / 60), (int) (s % 60));
}

static void
update_session_label (DrLivePage *self)
{
  g_autofree char *text = NULL;

  if (self->session == 0)
    text = g_strdup (_ ("No session in progress"));
  else
    {
      g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT, self->session);

      if (self->started_ms == 0)
        /* TRANSLATORS: the session's id. */
        text = g_strdup_printf (_ ("Session %s"), id);
      else
        {
          g_autofree char *elapsed = elapsed_text (g_get_real_time () / 1000 - self->started_ms);
          /* TRANSLATORS: the session's id, then its time so far: "Session 3 · 02:15". */
          text = g_strdup_printf (_ ("Session %s · %s"), id, elapsed);
        }
    }
  gtk_label_set_text (GTK_LABEL (self->session_label), text);
}

static void fetch_start (DrLivePage *self);

static gboolean
on_tick (gpointer user_data)
{
  DrLivePage *self = user_data;

  /* The session's row may not have been stored yet when it started: ask
   * again, one call at a time, until it is. */
  if (self->started_ms == 0 && self->cancellable == NULL)
    fetch_start (self);
  update_session_label (self);
  return G_SOURCE_CONTINUE;
}

static void
on_sessions (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) sessions = NULL;
  DrLivePage *self;
  GVariantIter iter;
  guint64 id;
  gint64 start_ms, end_ms;
  double mean;

  if (!dr_dbus_manager1_call_list_sessions_finish (DR_DBUS_MANAGER1 (source), &sessions, result,
                                                   &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("ListSessions: %s", error->message);
      return;
    }
  self = DR_LIVE_PAGE (user_data);
  g_clear_object (&self->cancellable);
  g_variant_iter_init (&iter, sessions);
  while (g_variant_iter_next (&iter, "(t&sxxd)", &id, NULL, &start_ms, &end_ms, &mean))
    if (id == self->session)
      self->started_ms = start_ms;
  update_session_label (self);
}

/* The session's start, for its time: from ListSessions over the last two
 * days (a session is not that long; the whole history might be). */
static void
fetch_start (DrLivePage *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->manager == NULL || self->session == 0)
    return;
  self->cancellable = g_cancellable_new ();
  dr_dbus_manager1_call_list_sessions (
      self->manager, g_get_real_time () / 1000 - 2 * 24 * 3600 * 1000, 0, G_DBUS_CALL_FLAGS_NONE,
      -1, self->cancellable, on_sessions, self);
}

static void
set_session (DrLivePage *self, guint64 session)
{
  gboolean was_active = self->session != 0;

  if (session == self->session)
    return;
  self->session = session;
  self->started_ms = 0;
  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (session != 0)
    self->tick_id = g_timeout_add_seconds (1, on_tick, self);
  fetch_start (self);
  update_session_label (self);
  if (was_active != (session != 0))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SESSION_ACTIVE]);
}

static void
update_roller_label (DrLivePage *self)
{
  g_autofree char *text = NULL;

  if (self->roller == NULL)
    text = g_strdup (_ ("No roller yet: pair one with “dermarollctl pair”"));
  else
    {
      const char *name = dr_dbus_roller1_get_name (self->roller);
      const char *phase = dr_dbus_roller1_get_link_phase (self->roller);

      text = g_strdup_printf ("%s · %s", name && name[0] ? name : _ ("Roller"),
                              dr_dbus_roller1_get_connected (self->roller) ? _ ("connected")
                              : phase && phase[0]                          ? phase
                                                                           : _ ("not connected"));
    }
  gtk_label_set_text (GTK_LABEL (self->roller_label), text);
}

static void
update_force (DrLivePage *self)
{
  double force = self->roller ? dr_dbus_roller1_get_force (self->roller) : 0;
  double limit = self->roller ? dr_dbus_roller1_get_force_limit (self->roller) : 0;
  g_autofree char *text = NULL;

  dr_force_gauge_set_force (DR_FORCE_GAUGE (self->gauge), force, limit);
  text = limit > 0 ? g_strdup_printf (_ ("%.1f N of %.1f N"), force, limit)
                   : g_strdup_printf (_ ("%.1f N"), force);
  gtk_label_set_text (GTK_LABEL (self->force_label), text);
}

static void
update_all (DrLivePage *self)
{
  DrFaceMapView *map = DR_FACE_MAP_VIEW (self->map);

  dr_face_map_view_set_coverage (map,
                                 self->roller ? dr_dbus_roller1_get_coverage (self->roller) : NULL);
  dr_face_map_view_set_passes (
      map, self->roller ? dr_dbus_roller1_get_passes_by_direction (self->roller) : NULL);
  dr_face_map_view_set_current_zone (
      map, self->roller ? dr_dbus_roller1_get_current_zone (self->roller) : NULL);
  update_force (self);
  update_roller_label (self);
  set_session (self, self->roller ? dr_dbus_roller1_get_active_session (self->roller) : 0);
}

static void
on_roller_notify (GObject *roller, GParamSpec *pspec, gpointer user_data)
{
  DrLivePage *self = user_data;
  const char *name = g_param_spec_get_name (pspec);
  DrFaceMapView *map = DR_FACE_MAP_VIEW (self->map);

  if (g_str_equal (name, "coverage"))
    {
      dr_face_map_view_set_coverage (map, dr_dbus_roller1_get_coverage (self->roller));
    }
  else if (g_str_equal (name, "passes-by-direction"))
    dr_face_map_view_set_passes (map, dr_dbus_roller1_get_passes_by_direction (self->roller));
  else if (g_str_equal (name, "current-zone"))
    dr_face_map_view_set_current_zone (map, dr_dbus_roller1_get_current_zone (self->roller));
  else if (g_str_equal (name, "force") || g_str_equal (name, "force-limit"))
    update_force (self);
  else if (g_str_equal (name, "active-session"))
    set_session (self, dr_dbus_roller1_get_active_session (self->roller));
  else if (g_str_equal (name, "name") || g_str_equal (name, "connected")
           || g_str_equal (name, "link-phase"))
    update_roller_label (self);
}

static void
warn (DrLivePage *self, const char *message)
{
  g_signal_emit (self, signals[SIGNAL_WARNING], 0, message);
}

static const char *
zone_words (const char *zone)
{
  int id = zone ? dr_face_zone_lookup (zone) : -1;

  return id >= 0 ? _ (dr_face_zones[id].label) : zone;
}

static void
on_pressure_warning (DrDBusRoller1 *roller, guint64 session, const char *zone, double force,
                     double limit, gpointer user_data)
{
  DrLivePage *self = user_data;
  g_autofree char *text = NULL;

  dr_force_gauge_set_warning (DR_FORCE_GAUGE (self->gauge), TRUE);
  /* TRANSLATORS: zone, force, limit. */
  text = g_strdup_printf (_ ("Over-pressure on the %s (%.1f N, limit %.1f N): press lighter"),
                          zone_words (zone), force, limit);
  warn (self, text);
}

static void
on_pressure_cleared (DrDBusRoller1 *roller, guint64 session, const char *zone, double peak,
                     guint64 duration_ms, gpointer user_data)
{
  dr_force_gauge_set_warning (DR_FORCE_GAUGE (DR_LIVE_PAGE (user_data)->gauge), FALSE);
}

static void
on_zone_warning (DrDBusRoller1 *roller, guint64 session, const char *zone, const char *kind,
                 gpointer user_data)
{
  g_autofree char *text = NULL;

  if (g_str_equal (kind, "excluded"))
    text = g_strdup_printf (_ ("The %s is excluded: do not roll there"), zone_words (zone));
  else if (g_str_equal (kind, "over-treated"))
    text = g_strdup_printf (_ ("The %s has twice its target passes: move on"), zone_words (zone));
  else if (g_str_equal (kind, "too-soon"))
    text = g_strdup_printf (_ ("The %s was treated too recently for this needle length"),
                            zone_words (zone));
  else
    text = g_strdup_printf ("%s: %s", zone_words (zone), kind);
  warn (DR_LIVE_PAGE (user_data), text);
}

static void
on_session_ended (DrDBusRoller1 *roller, guint64 id, GVariant *coverage, gpointer user_data)
{
  DrLivePage *self = user_data;

  /* An episode open at the end ends with the session. */
  dr_force_gauge_set_warning (DR_FORCE_GAUGE (self->gauge), FALSE);
  /* Its zones rest from now. */
  fetch_rest (self);
}

static void
on_head_worn (DrDBusRoller1 *roller, guint head_id, double wear, gpointer user_data)
{
  warn (DR_LIVE_PAGE (user_data), _ ("The needle head is worn out: replace the head"));
}

/* Clicking a zone on the Live map excludes it, or includes it again. */
static void
on_zone_activated (DrFaceMapView *map, const char *zone, gpointer user_data)
{
  gtk_widget_activate_action (GTK_WIDGET (user_data), "win.toggle-excluded", "s", zone);
}

static void
dr_live_page_dispose (GObject *object)
{
  DrLivePage *self = DR_LIVE_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->rest_cancellable);
  g_clear_object (&self->rest_cancellable);
  g_clear_handle_id (&self->rest_timeout_id, g_source_remove);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (self->roller != NULL)
    g_signal_handlers_disconnect_by_data (self->roller, self);
  g_clear_object (&self->roller);
  if (self->person != NULL)
    g_signal_handlers_disconnect_by_data (self->person, self);
  g_clear_object (&self->person);
  g_clear_object (&self->manager);
  G_OBJECT_CLASS (dr_live_page_parent_class)->dispose (object);
}

static void
dr_live_page_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  switch (id)
    {
      case PROP_SESSION_ACTIVE:
        g_value_set_boolean (value, dr_live_page_get_session_active (DR_LIVE_PAGE (object)));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
dr_live_page_class_init (DrLivePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = dr_live_page_dispose;
  object_class->get_property = dr_live_page_get_property;

  props[PROP_SESSION_ACTIVE] = g_param_spec_boolean ("session-active", NULL, NULL, FALSE,
                                                     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_WARNING] = g_signal_new ("warning", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
dr_live_page_init (DrLivePage *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *force_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *session_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *force_title = gtk_label_new (_ ("Force"));
  GtkWidget *stop = gtk_button_new_with_mnemonic (_ ("_Stop"));

  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 18);

  self->roller_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->roller_label, "dim-label");
  gtk_box_append (GTK_BOX (box), self->roller_label);

  self->map = dr_face_map_view_new ();
  g_signal_connect (self->map, "zone-activated", G_CALLBACK (on_zone_activated), self);
  gtk_widget_set_vexpand (self->map, TRUE);
  gtk_widget_set_hexpand (self->map, TRUE);
  gtk_box_append (GTK_BOX (box), self->map);

  gtk_widget_add_css_class (force_title, "heading");
  gtk_box_append (GTK_BOX (force_row), force_title);
  self->gauge = dr_force_gauge_new ();
  gtk_widget_set_hexpand (self->gauge, TRUE);
  gtk_widget_set_valign (self->gauge, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (force_row), self->gauge);
  self->force_label = gtk_label_new (NULL);
  gtk_label_set_width_chars (GTK_LABEL (self->force_label), 14);
  gtk_label_set_xalign (GTK_LABEL (self->force_label), 1);
  gtk_widget_add_css_class (self->force_label, "numeric");
  gtk_box_append (GTK_BOX (force_row), self->force_label);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->gauge), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  force_title, NULL, -1);
  gtk_box_append (GTK_BOX (box), force_row);

  self->session_label = gtk_label_new (NULL);
  gtk_widget_set_hexpand (self->session_label, TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->session_label), 0);
  gtk_widget_add_css_class (self->session_label, "title-4");
  gtk_widget_add_css_class (self->session_label, "numeric");
  gtk_box_append (GTK_BOX (session_row), self->session_label);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (stop), "win.stop");
  gtk_widget_add_css_class (stop, "destructive-action");
  gtk_widget_add_css_class (stop, "pill");
  gtk_box_append (GTK_BOX (session_row), stop);
  gtk_box_append (GTK_BOX (box), session_row);

  adw_bin_set_child (ADW_BIN (self), box);
  update_all (self);
}

GtkWidget *
dr_live_page_new (void)
{
  return g_object_new (DR_TYPE_LIVE_PAGE, NULL);
}

void
dr_live_page_set_roller (DrLivePage *self, DrDBusRoller1 *roller)
{
  g_return_if_fail (DR_IS_LIVE_PAGE (self));

  if (roller == self->roller)
    return;
  if (self->roller != NULL)
    g_signal_handlers_disconnect_by_data (self->roller, self);
  g_set_object (&self->roller, roller);
  dr_force_gauge_set_warning (DR_FORCE_GAUGE (self->gauge), FALSE);
  if (roller != NULL)
    {
      g_signal_connect (roller, "notify", G_CALLBACK (on_roller_notify), self);
      g_signal_connect (roller, "pressure-warning", G_CALLBACK (on_pressure_warning), self);
      g_signal_connect (roller, "pressure-cleared", G_CALLBACK (on_pressure_cleared), self);
      g_signal_connect (roller, "zone-warning", G_CALLBACK (on_zone_warning), self);
      g_signal_connect (roller, "session-ended", G_CALLBACK (on_session_ended), self);
      g_signal_connect (roller, "head-worn", G_CALLBACK (on_head_worn), self);
    }
  /* A new roller's session is another one. */
  set_session (self, 0);
  update_all (self);
}

static gboolean
on_rest_ends (gpointer user_data)
{
  DrLivePage *self = user_data;

  self->rest_timeout_id = 0;
  fetch_rest (self);
  return G_SOURCE_REMOVE;
}

static void
on_rest_status (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) status = NULL;
  DrLivePage *self;
  gint64 now_ms = g_get_real_time () / 1000, next = 0;
  GVariantIter iter;
  gint64 last, free_from;

  if (!dr_dbus_person1_call_get_rest_status_finish (DR_DBUS_PERSON1 (source), &status, result,
                                                    &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("GetRestStatus: %s", error->message);
      return;
    }
  self = DR_LIVE_PAGE (user_data);
  g_clear_object (&self->rest_cancellable);
  dr_face_map_view_set_rest (DR_FACE_MAP_VIEW (self->map), status, now_ms);
  /* One timeout to the next end of a rest, none while nothing rests. */
  g_variant_iter_init (&iter, status);
  while (g_variant_iter_next (&iter, "{&s(xx)}", NULL, &last, &free_from))
    if (free_from > now_ms && (next == 0 || free_from < next))
      next = free_from;
  g_clear_handle_id (&self->rest_timeout_id, g_source_remove);
  if (next != 0)
    self->rest_timeout_id = g_timeout_add_seconds (
        (guint) MIN ((next - now_ms) / 1000 + 1, (gint64) G_MAXUINT / 2), on_rest_ends, self);
}

/* The person's rest, asked again when they change, a session ends and a
 * rest ends. */
static void
fetch_rest (DrLivePage *self)
{
  g_cancellable_cancel (self->rest_cancellable);
  g_clear_object (&self->rest_cancellable);
  g_clear_handle_id (&self->rest_timeout_id, g_source_remove);
  if (self->person == NULL)
    {
      dr_face_map_view_set_rest (DR_FACE_MAP_VIEW (self->map), NULL, 0);
      return;
    }
  self->rest_cancellable = g_cancellable_new ();
  dr_dbus_person1_call_get_rest_status (self->person, G_DBUS_CALL_FLAGS_NONE, -1,
                                        self->rest_cancellable, on_rest_status, self);
}

static void
on_excluded_zones (GObject *person, GParamSpec *pspec, gpointer user_data)
{
  DrLivePage *self = user_data;

  dr_face_map_view_set_excluded (
      DR_FACE_MAP_VIEW (self->map),
      self->person ? (const char *const *) dr_dbus_person1_get_excluded_zones (self->person)
                   : NULL);
}

void
dr_live_page_set_person (DrLivePage *self, DrDBusPerson1 *person)
{
  g_return_if_fail (DR_IS_LIVE_PAGE (self));

  if (person == self->person)
    return;
  if (self->person != NULL)
    g_signal_handlers_disconnect_by_data (self->person, self);
  g_set_object (&self->person, person);
  if (person != NULL)
    g_signal_connect (person, "notify::excluded-zones", G_CALLBACK (on_excluded_zones), self);
  on_excluded_zones (NULL, NULL, self);
  fetch_rest (self);
}

void
dr_live_page_set_manager (DrLivePage *self, DrDBusManager1 *manager)
{
  g_return_if_fail (DR_IS_LIVE_PAGE (self));

  if (g_set_object (&self->manager, manager))
    fetch_start (self);
}

gboolean
dr_live_page_get_session_active (DrLivePage *self)
{
  g_return_val_if_fail (DR_IS_LIVE_PAGE (self), FALSE);
  return self->session != 0;
}

DrFaceMapView *
dr_live_page_get_map (DrLivePage *self)
{
  g_return_val_if_fail (DR_IS_LIVE_PAGE (self), NULL);
  return DR_FACE_MAP_VIEW (self->map);
}

const char *
dr_live_page_get_session_text (DrLivePage *self)
{
  g_return_val_if_fail (DR_IS_LIVE_PAGE (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->session_label));
}

DrForceGauge *
dr_live_page_get_gauge (DrLivePage *self)
{
  g_return_val_if_fail (DR_IS_LIVE_PAGE (self), NULL);
  return DR_FORCE_GAUGE (self->gauge);
}
