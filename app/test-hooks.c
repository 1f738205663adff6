/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-hooks.c: the app's test actions (see test-hooks.h). */
#include "test-hooks.h"

#include "preferences-window.h"
#include "window.h"
#include "zones.h"

/* A JSON string of UTF-8 @text. */
static void
append_json_string (GString *json, const char *text)
{
  g_string_append_c (json, '"');
  for (const char *p = text; *p != '\0'; p++)
    if (*p == '"' || *p == '\\')
      g_string_append_printf (json, "\\%c", *p);
    else if ((guchar) *p < 0x20)
      g_string_append_printf (json, "\\u%04x", (guchar) *p);
    else
      g_string_append_c (json, *p);
  g_string_append_c (json, '"');
}

/* A JSON array of the strings of @strings. */
static void
append_json_strings (GString *json, GPtrArray *strings)
{
  g_string_append_c (json, '[');
  for (guint i = 0; i < strings->len; i++)
    {
      if (i)
        g_string_append (json, ", ");
      append_json_string (json, g_ptr_array_index (strings, i));
    }
  g_string_append_c (json, ']');
}

/* @widget's point (@x, @y) in the rendered picture: in the window's
 * coordinates, less the origin of the window's own bounds (its CSD frame
 * lies before its coordinates' origin; the paintable starts at the
 * frame), less the picture's origin. */
static void
add_point (GString *json, GtkWidget *widget, GtkWidget *window, const graphene_rect_t *bounds,
           double x, double y)
{
  graphene_point_t p;
  graphene_rect_t own;

  if (!gtk_widget_compute_point (widget, window, &GRAPHENE_POINT_INIT ((float) x, (float) y), &p)
      || !gtk_widget_compute_bounds (window, window, &own))
    {
      g_string_append (json, "null");
      return;
    }
  g_string_append_printf (json, "[%d, %d]", (int) (p.x - own.origin.x - bounds->origin.x),
                          (int) (p.y - own.origin.y - bounds->origin.y));
}

/* The first window of @type in focus order (the active one first). */
static GtkWindow *
find_window (GtkApplication *application, GType type)
{
  for (GList *l = gtk_application_get_windows (application); l != NULL; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type))
      return l->data;
  return NULL;
}

static void
append_notifications (GString *json, GtkApplication *application)
{
  GtkWindow *window = find_window (application, DR_TYPE_PREFERENCES_WINDOW);
  DrPreferencesWindow *preferences = window ? DR_PREFERENCES_WINDOW (window) : NULL;

  g_string_append (json, ", \"notifications\": ");
  if (preferences == NULL)
    {
      g_string_append (json, "null");
      return;
    }
  g_string_append (json, "[");
  for (guint i = 0; i < dr_preferences_window_get_n_kinds (preferences); i++)
    {
      const char *kind, *title;
      gboolean active;

      dr_preferences_window_get_kind (preferences, i, &kind, &title, &active);
      g_string_append (json, i ? ", [" : "[");
      append_json_string (json, kind);
      g_string_append (json, ", ");
      append_json_string (json, title);
      g_string_append_printf (json, ", %s]", active ? "true" : "false");
    }
  g_string_append (json, "]");
}

static gboolean
render (DrAppWindow *window, const char *path, GError **error)
{
  GtkWidget *widget = GTK_WIDGET (window);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  DrLivePage *live = dr_app_window_get_live_page (window);
  DrFaceMapView *map = dr_app_window_get_visible_map (window);
  GtkWidget *gauge = GTK_WIDGET (dr_live_page_get_gauge (live));
  graphene_rect_t bounds;
  g_autoptr (GString) json = g_string_new (NULL);
  g_autofree char *json_path = g_strconcat (path, ".json", NULL);
  const char *const *zones = dr_face_zone_names ();
  double x, y;

  gdk_paintable_snapshot (paintable, snapshot, gdk_paintable_get_intrinsic_width (paintable),
                          gdk_paintable_get_intrinsic_height (paintable));
  node = gtk_snapshot_free_to_node (snapshot);
  /* Nothing to draw now (the bus name comes before the first frame; a
   * resize is waiting for its layout): the test asks again. */
  if (renderer == NULL || node == NULL || !gtk_widget_get_mapped (widget))
    {
      static const char not_drawn[] = "{\"drawn\": false}\n";
      return g_file_set_contents (json_path, not_drawn, -1, error);
    }
  gsk_render_node_get_bounds (node, &bounds);
  texture = gsk_renderer_render_texture (renderer, node, &bounds);
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s", path);
      return FALSE;
    }

  g_string_append_printf (
      json,
      "{\"drawn\": true, \"dark\": %s, \"state\": \"%s\", \"view\": \"%s\", "
      "\"history-sessions\": %u, \"history-session\": %" G_GUINT64_FORMAT ", \"zones\": {",
      adw_style_manager_get_dark (adw_style_manager_get_default ()) ? "true" : "false",
      dr_app_window_get_state (window), dr_app_window_get_view (window),
      dr_history_page_get_n_sessions (dr_app_window_get_history_page (window)),
      dr_history_page_get_shown_session (dr_app_window_get_history_page (window)));
  for (int i = 0; zones[i] != NULL; i++)
    {
      g_string_append_printf (json, "%s\"%s\": ", i ? ", " : "", zones[i]);
      if (map != NULL && dr_face_map_view_zone_point (map, zones[i], &x, &y))
        add_point (json, GTK_WIDGET (map), widget, &bounds, x, y);
      else
        g_string_append (json, "null");
    }
  g_string_append (json, "}, \"gauge\": ");
  dr_force_gauge_fill_point (DR_FORCE_GAUGE (gauge), &x, &y);
  add_point (json, gauge, widget, &bounds, x, y);
  g_string_append_printf (json, ", \"gauge-warning\": %s, \"session\": ",
                          dr_force_gauge_get_warning (DR_FORCE_GAUGE (gauge)) ? "true" : "false");
  append_json_string (json, dr_live_page_get_session_text (live));
  g_string_append (json, ", \"rollers\": [");
  {
    DrRollersPage *rollers = dr_app_window_get_rollers_page (window);

    for (guint i = 0; i < dr_rollers_page_get_n_rows (rollers); i++)
      {
        const char *title, *subtitle;

        dr_rollers_page_get_row (rollers, i, &title, &subtitle);
        g_string_append (json, i ? ", [" : "[");
        append_json_string (json, title);
        g_string_append (json, ", ");
        append_json_string (json, subtitle);
        g_string_append (json, "]");
      }
  }
  g_string_append (json, "], \"toasts\": ");
  append_json_strings (json, dr_app_window_get_toasts (window));
  g_string_append (json, ", \"alerts\": ");
  append_json_strings (json, dr_app_window_get_alerts (window));
  g_string_append (json, ", \"chart\": {");
  {
    DrCoverageChart *chart
        = g_strcmp0 (dr_app_window_get_view (window), "history") == 0
              ? dr_history_page_get_chart (dr_app_window_get_history_page (window))
              : NULL;

    for (int i = 0; chart != NULL && zones[i] != NULL; i++)
      {
        g_string_append_printf (json, "%s\"%s\": [", i ? ", " : "", zones[i]);
        for (int ago = 0; ago < 2; ago++)
          {
            if (ago)
              g_string_append (json, ", ");
            if (dr_coverage_chart_cell_point (chart, zones[i], ago, &x, &y))
              add_point (json, GTK_WIDGET (chart), widget, &bounds, x, y);
            else
              g_string_append (json, "null");
          }
        g_string_append (json, "]");
      }
  }
  g_string_append (json, "}, \"labels\": {");
  for (int i = 0; map != NULL && zones[i] != NULL; i++)
    {
      g_string_append_printf (json, "%s\"%s\": ", i ? ", " : "", zones[i]);
      append_json_string (json, dr_face_map_view_get_label_text (map, zones[i]));
    }
  g_string_append (json, "}, \"people\": [");
  {
    DrPeoplePage *people = dr_app_window_get_people_page (window);

    for (guint i = 0; i < dr_people_page_get_n_rows (people); i++)
      {
        const char *title, *subtitle;

        dr_people_page_get_row (people, i, &title, &subtitle);
        g_string_append (json, i ? ", [" : "[");
        append_json_string (json, title);
        g_string_append (json, ", ");
        append_json_string (json, subtitle);
        g_string_append (json, "]");
      }
  }
  g_string_append (json, "]");
  append_notifications (json, gtk_window_get_application (GTK_WINDOW (window)));
  g_string_append (json, "}\n");
  return g_file_set_contents (json_path, json->str, (gssize) json->len, error);
}

static void
on_render (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkApplication *application = user_data;
  GtkWindow *window = find_window (application, DR_TYPE_APP_WINDOW);
  g_autoptr (GError) error = NULL;

  if (!DR_IS_APP_WINDOW (window))
    g_warning ("test-render: no window");
  else if (!render (DR_APP_WINDOW (window), g_variant_get_string (parameter, NULL), &error))
    g_warning ("test-render: %s", error->message);
}

static void
on_toggle_notification (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkWindow *window = find_window (user_data, DR_TYPE_PREFERENCES_WINDOW);
  const char *kind = g_variant_get_string (parameter, NULL);

  if (window == NULL)
    g_warning ("test-toggle-notification: no preferences window");
  else if (!dr_preferences_window_toggle (DR_PREFERENCES_WINDOW (window), kind))
    g_warning ("test-toggle-notification: no switch for %s", kind);
}

void
dr_test_hooks_install (GtkApplication *application)
{
  g_autoptr (GSimpleAction) render_action
      = g_simple_action_new ("test-render", G_VARIANT_TYPE_STRING);
  g_autoptr (GSimpleAction) toggle_action
      = g_simple_action_new ("test-toggle-notification", G_VARIANT_TYPE_STRING);

  g_signal_connect (render_action, "activate", G_CALLBACK (on_render), application);
  g_action_map_add_action (G_ACTION_MAP (application), G_ACTION (render_action));
  g_signal_connect (toggle_action, "activate", G_CALLBACK (on_toggle_notification), application);
  g_action_map_add_action (G_ACTION_MAP (application), G_ACTION (toggle_action));
}
