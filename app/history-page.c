/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* history-page.c: the History view (see history-page.h). */
#include "history-page.h"

#include <glib/gi18n.h>
#include <math.h>

#include "coverage-chart.h"

#define HISTORY_DAYS 90

struct _DrHistoryPage
{
  AdwBin parent_instance;

  DrDBusManager1 *manager;
  DrDBusRoller1 *roller;
  DrDBusPerson1 *person; /* whose sessions; NULL: everybody's */
  GCancellable *list_cancellable;
  GCancellable *session_cancellable;

  GtkStack *stack; /* "empty", "list", "session" */
  GtkListBox *list;
  GtkWidget *chart;
  guint n_sessions;
  GHashTable *about; /* session id → its row's line, for the session's page */
  GtkWidget *map;
  GtkWidget *session_title;
  GtkWidget *session_subtitle;
  guint64 shown; /* the session whose map is shown or asked for */
};

enum
{
  SIGNAL_WARNING,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (DrHistoryPage, dr_history_page, ADW_TYPE_BIN)

static char *
local_time (gint64 ms)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_local (ms / 1000);

  /* TRANSLATORS: a session's start, strftime-style: "2 Dec 2026, 14:05". */
  return t ? g_date_time_format (t, _ ("%-d %b %Y, %H:%M")) : g_strdup ("?");
}

static char *
duration_text (gint64 ms)
{
  gint64 min = (MAX (ms, 0) + 30000) / 60000;

  if (min < 1)
    return g_strdup (_ ("under a minute"));
  return g_strdup_printf (g_dngettext (NULL, "%d minute", "%d minutes", (gulong) min), (int) min);
}

static char *
percent (double value)
{
  return g_strdup_printf ("%d %%",
                          (int) floor (CLAMP (isfinite (value) ? value : 0, 0, 1) * 100 + 0.5));
}

static void
warn_error (DrHistoryPage *self, const char *what, GError *error)
{
  g_autofree char *text = NULL;

  g_dbus_error_strip_remote_error (error);
  text = g_strdup_printf ("%s: %s", what, error->message);
  g_signal_emit (self, signals[SIGNAL_WARNING], 0, text);
}

typedef struct
{
  DrHistoryPage *self; /* not a reference: the call is cancelled first */
  gint64 start_ms;
} ChartCall;

static void
on_chart_coverage (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree ChartCall *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) coverage = NULL;

  if (!dr_dbus_manager1_call_get_session_coverage_finish (DR_DBUS_MANAGER1 (source), &coverage,
                                                          result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("GetSessionCoverage: %s", error->message);
      return;
    }
  dr_coverage_chart_add_session (DR_COVERAGE_CHART (call->self->chart), call->start_ms, coverage);
}

static void
on_sessions (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) sessions = NULL;
  DrHistoryPage *self;
  GtkWidget *row;
  gsize n;

  /* ListPersonSessions, or ListSessions while the person is not known:
   * (t s x x d) first either way. */
  sessions = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (sessions == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        warn_error (DR_HISTORY_PAGE (user_data), _ ("Cannot read the sessions"), error);
      return;
    }
  self = DR_HISTORY_PAGE (user_data);
  dr_coverage_chart_clear (DR_COVERAGE_CHART (self->chart), g_get_real_time () / 1000);
  while ((row = GTK_WIDGET (gtk_list_box_get_row_at_index (self->list, 0))) != NULL)
    gtk_list_box_remove (self->list, row);
  g_hash_table_remove_all (self->about);
  {
    GVariant *list = g_variant_get_child_value (sessions, 0);

    g_variant_unref (sessions);
    sessions = list;
  }
  n = g_variant_n_children (sessions);
  /* Oldest first from the daemon: newest first here. */
  for (gsize i = n; i > 0; i--)
    {
      guint64 id;
      const char *roller;
      gint64 start_ms, end_ms;
      double mean;
      g_autofree char *subtitle = NULL;
      g_autofree char *when = NULL;
      g_autofree char *pct = NULL;
      g_autofree char *length = NULL;

      g_autoptr (GVariant) session = g_variant_get_child_value (sessions, i - 1);

      g_variant_get_child (session, 0, "t", &id);
      g_variant_get_child (session, 1, "&s", &roller);
      g_variant_get_child (session, 2, "x", &start_ms);
      g_variant_get_child (session, 3, "x", &end_ms);
      g_variant_get_child (session, 4, "d", &mean);
      when = local_time (start_ms);
      pct = percent (mean);
      length = end_ms ? duration_text (end_ms - start_ms) : g_strdup (_ ("in progress"));
      /* TRANSLATORS: duration · roller address · mean coverage. */
      subtitle = g_strdup_printf (_ ("%s · roller %s · %s covered"), length, roller, pct);
      /* The chart's weeks: each session's coverage, asked with the list's
       * cancellable. */
      if (g_get_real_time () / 1000 - start_ms
          < (gint64) DR_COVERAGE_CHART_WEEKS * 7 * 24 * 3600 * 1000)
        {
          ChartCall *call = g_new (ChartCall, 1);

          call->self = self;
          call->start_ms = start_ms;
          dr_dbus_manager1_call_get_session_coverage (self->manager, id, G_DBUS_CALL_FLAGS_NONE, -1,
                                                      self->list_cancellable, on_chart_coverage,
                                                      call);
        }
      g_hash_table_insert (self->about, g_memdup2 (&id, sizeof id),
                           g_strdup_printf ("%s · %s", when, subtitle));
      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), when);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 gtk_image_new_from_icon_name ("go-next-symbolic"));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "win.show-session");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (row), g_variant_new_uint64 (id));
      gtk_list_box_append (self->list, row);
    }
  self->n_sessions = (guint) n;
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "session") != 0)
    gtk_stack_set_visible_child_name (self->stack, n ? "list" : "empty");
}

static void
reload (DrHistoryPage *self)
{
  gint64 since_ms;

  g_cancellable_cancel (self->list_cancellable);
  g_clear_object (&self->list_cancellable);
  if (self->manager == NULL)
    return;
  self->list_cancellable = g_cancellable_new ();
  since_ms = g_get_real_time () / 1000 - (gint64) HISTORY_DAYS * 24 * 3600 * 1000;
  if (self->person != NULL)
    g_dbus_proxy_call (G_DBUS_PROXY (self->manager), "ListPersonSessions",
                       g_variant_new ("(xxo)", since_ms, (gint64) 0,
                                      g_dbus_proxy_get_object_path (G_DBUS_PROXY (self->person))),
                       G_DBUS_CALL_FLAGS_NONE, -1, self->list_cancellable, on_sessions, self);
  else
    g_dbus_proxy_call (G_DBUS_PROXY (self->manager), "ListSessions",
                       g_variant_new ("(xx)", since_ms, (gint64) 0), G_DBUS_CALL_FLAGS_NONE, -1,
                       self->list_cancellable, on_sessions, self);
}

static void
on_session_coverage (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) zones = NULL;
  DrHistoryPage *self;
  GVariantBuilder coverage, passes;
  GVariantIter iter;
  const char *name;
  double c, h, v, d, u;

  if (!dr_dbus_manager1_call_get_session_coverage_by_direction_finish (DR_DBUS_MANAGER1 (source),
                                                                       &zones, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        warn_error (DR_HISTORY_PAGE (user_data), _ ("Cannot read the session"), error);
      return;
    }
  self = DR_HISTORY_PAGE (user_data);
  g_clear_object (&self->session_cancellable);
  g_variant_builder_init (&coverage, G_VARIANT_TYPE ("a{sd}"));
  g_variant_builder_init (&passes, G_VARIANT_TYPE ("a{s(dddd)}"));
  g_variant_iter_init (&iter, zones);
  while (g_variant_iter_next (&iter, "{&s(ddddd)}", &name, &c, &h, &v, &d, &u))
    {
      g_variant_builder_add (&coverage, "{sd}", name, c);
      g_variant_builder_add (&passes, "{s(dddd)}", name, h, v, d, u);
    }
  {
    g_autoptr (GVariant) cv = g_variant_ref_sink (g_variant_builder_end (&coverage));
    g_autoptr (GVariant) pv = g_variant_ref_sink (g_variant_builder_end (&passes));
    g_autofree char *title = NULL;
    g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT, self->shown);
    const char *subtitle = g_hash_table_lookup (self->about, &self->shown);

    title = g_strdup_printf (_ ("Session %s"), id);
    dr_face_map_view_set_coverage (DR_FACE_MAP_VIEW (self->map), cv);
    dr_face_map_view_set_passes (DR_FACE_MAP_VIEW (self->map), pv);
    gtk_label_set_text (GTK_LABEL (self->session_title), title);
    gtk_label_set_text (GTK_LABEL (self->session_subtitle), subtitle ? subtitle : "");
  }
  gtk_stack_set_visible_child_name (self->stack, "session");
}

static void
on_back (GtkButton *button, gpointer user_data)
{
  DrHistoryPage *self = user_data;

  g_cancellable_cancel (self->session_cancellable);
  g_clear_object (&self->session_cancellable);
  self->shown = 0;
  gtk_stack_set_visible_child_name (self->stack, self->n_sessions ? "list" : "empty");
}

static void
on_session_ended (DrDBusRoller1 *roller, guint64 id, GVariant *coverage, gpointer user_data)
{
  reload (DR_HISTORY_PAGE (user_data));
}

static void
dr_history_page_dispose (GObject *object)
{
  DrHistoryPage *self = DR_HISTORY_PAGE (object);

  g_cancellable_cancel (self->list_cancellable);
  g_clear_object (&self->list_cancellable);
  g_cancellable_cancel (self->session_cancellable);
  g_clear_object (&self->session_cancellable);
  if (self->roller != NULL)
    g_signal_handlers_disconnect_by_data (self->roller, self);
  g_clear_object (&self->roller);
  g_clear_object (&self->person);
  g_clear_object (&self->manager);
  g_clear_pointer (&self->about, g_hash_table_unref);
  G_OBJECT_CLASS (dr_history_page_parent_class)->dispose (object);
}

static void
dr_history_page_class_init (DrHistoryPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = dr_history_page_dispose;
  signals[SIGNAL_WARNING] = g_signal_new ("warning", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
dr_history_page_init (DrHistoryPage *self)
{
  GtkWidget *empty = adw_status_page_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *session = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *titles = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *back = gtk_button_new_from_icon_name ("go-previous-symbolic");

  self->about = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "document-open-recent-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), _ ("No sessions yet"));
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   _ ("Sessions appear here once they have ended."));

  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "boxed-list");
  gtk_widget_set_margin_top (GTK_WIDGET (self->list), 18);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->list), 18);
  gtk_widget_set_margin_start (GTK_WIDGET (self->list), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self->list), 12);
  {
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *heading = gtk_label_new (_ ("Coverage per zone, week by week"));

    gtk_widget_add_css_class (heading, "heading");
    gtk_label_set_xalign (GTK_LABEL (heading), 0);
    gtk_widget_set_margin_top (heading, 18);
    gtk_widget_set_margin_start (heading, 12);
    self->chart = dr_coverage_chart_new ();
    gtk_widget_set_margin_start (self->chart, 12);
    gtk_widget_set_margin_end (self->chart, 12);
    gtk_box_append (GTK_BOX (box), heading);
    gtk_box_append (GTK_BOX (box), self->chart);
    {
      g_autofree char *text = g_strdup_printf (
          _ ("The last %d weeks, this week on the right; grey: no session that week."),
          DR_COVERAGE_CHART_WEEKS);
      GtkWidget *caption = gtk_label_new (text);

      gtk_widget_add_css_class (caption, "dim-label");
      gtk_widget_add_css_class (caption, "caption");
      gtk_label_set_xalign (GTK_LABEL (caption), 0);
      gtk_label_set_wrap (GTK_LABEL (caption), TRUE);
      gtk_widget_set_margin_start (caption, 12);
      gtk_box_append (GTK_BOX (box), caption);
    }
    gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->list));
    adw_clamp_set_child (ADW_CLAMP (clamp), box);
  }
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);

  gtk_widget_set_tooltip_text (back, _ ("Back to the sessions"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (back), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Back to the sessions"), -1);
  g_signal_connect (back, "clicked", G_CALLBACK (on_back), self);
  gtk_box_append (GTK_BOX (header), back);
  self->session_title = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->session_title, "title-4");
  gtk_label_set_xalign (GTK_LABEL (self->session_title), 0);
  self->session_subtitle = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->session_subtitle, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (self->session_subtitle), 0);
  gtk_box_append (GTK_BOX (titles), self->session_title);
  gtk_box_append (GTK_BOX (titles), self->session_subtitle);
  gtk_box_append (GTK_BOX (header), titles);
  gtk_box_append (GTK_BOX (session), header);
  self->map = dr_face_map_view_new ();
  gtk_widget_set_vexpand (self->map, TRUE);
  gtk_box_append (GTK_BOX (session), self->map);
  gtk_widget_set_margin_start (session, 18);
  gtk_widget_set_margin_end (session, 18);
  gtk_widget_set_margin_top (session, 12);
  gtk_widget_set_margin_bottom (session, 18);

  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_stack_add_named (self->stack, empty, "empty");
  gtk_stack_add_named (self->stack, scrolled, "list");
  gtk_stack_add_named (self->stack, session, "session");
  gtk_stack_set_visible_child_name (self->stack, "empty");
  adw_bin_set_child (ADW_BIN (self), GTK_WIDGET (self->stack));
}

GtkWidget *
dr_history_page_new (void)
{
  return g_object_new (DR_TYPE_HISTORY_PAGE, NULL);
}

void
dr_history_page_set_manager (DrHistoryPage *self, DrDBusManager1 *manager)
{
  g_return_if_fail (DR_IS_HISTORY_PAGE (self));

  if (!g_set_object (&self->manager, manager))
    return;
  reload (self);
  if (manager != NULL && self->shown != 0)
    dr_history_page_show_session (self, self->shown);
}

void
dr_history_page_set_roller (DrHistoryPage *self, DrDBusRoller1 *roller)
{
  g_return_if_fail (DR_IS_HISTORY_PAGE (self));

  if (roller == self->roller)
    return;
  if (self->roller != NULL)
    g_signal_handlers_disconnect_by_data (self->roller, self);
  g_set_object (&self->roller, roller);
  if (roller != NULL)
    g_signal_connect (roller, "session-ended", G_CALLBACK (on_session_ended), self);
}

void
dr_history_page_set_person (DrHistoryPage *self, DrDBusPerson1 *person)
{
  g_return_if_fail (DR_IS_HISTORY_PAGE (self));

  if (g_set_object (&self->person, person))
    reload (self);
}

void
dr_history_page_show_session (DrHistoryPage *self, guint64 id)
{
  g_return_if_fail (DR_IS_HISTORY_PAGE (self));

  g_cancellable_cancel (self->session_cancellable);
  g_clear_object (&self->session_cancellable);
  /* Asked before the daemon is known (the app just started for it): shown
   * once the manager is there. */
  self->shown = id;
  if (self->manager == NULL)
    return;
  self->session_cancellable = g_cancellable_new ();
  dr_dbus_manager1_call_get_session_coverage_by_direction (
      self->manager, id, G_DBUS_CALL_FLAGS_NONE, -1, self->session_cancellable, on_session_coverage,
      self);
}

DrFaceMapView *
dr_history_page_get_map (DrHistoryPage *self)
{
  g_return_val_if_fail (DR_IS_HISTORY_PAGE (self), NULL);
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "session") == 0
             ? DR_FACE_MAP_VIEW (self->map)
             : NULL;
}

DrCoverageChart *
dr_history_page_get_chart (DrHistoryPage *self)
{
  g_return_val_if_fail (DR_IS_HISTORY_PAGE (self), NULL);
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "list") == 0
             ? DR_COVERAGE_CHART (self->chart)
             : NULL;
}

guint64
dr_history_page_get_shown_session (DrHistoryPage *self)
{
  g_return_val_if_fail (DR_IS_HISTORY_PAGE (self), 0);
  return dr_history_page_get_map (self) != NULL ? self->shown : 0;
}

guint
dr_history_page_get_n_sessions (DrHistoryPage *self)
{
  g_return_val_if_fail (DR_IS_HISTORY_PAGE (self), 0);
  return self->n_sessions;
}
