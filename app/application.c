/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* application.c: the desktop app (see application.h). */
#include "application.h"

#include <glib/gi18n.h>

#include "daemon-link.h"
#include "preferences-window.h"
#include "test-hooks.h"
#include "window.h"

struct _DrApplication
{
  AdwApplication parent_instance;

  DrDaemonLink *link;
  GtkWindow *preferences; /* while open; a weak pointer */
};

G_DEFINE_FINAL_TYPE (DrApplication, dr_application, ADW_TYPE_APPLICATION)

/* The zone labels read on any fill, light or dark, in either style. */
static const char style_sheet[]
    = "facemap button.zone-label { background-color: rgba(255, 255, 255, 0.8); color: #1f2421;"
      " border-radius: 6px; padding: 1px 6px; min-height: 0; min-width: 0;"
      " font-size: 0.85em; font-weight: normal; }\n"
      "facemap button.zone-label:hover { background-color: rgba(255, 255, 255, 0.95); }\n"
      "facemap button.zone-label.compact { font-size: 0.75em; padding: 0 3px; }\n"
      "facemap button.zone-label.current { font-weight: bold; }\n";

static void
on_quit (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

/* The main window most recently focused (the preferences may be the
 * active window). */
static GtkWindow *
find_window (DrApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (DR_IS_APP_WINDOW (l->data))
      return l->data;
  return NULL;
}

static GtkWindow *
present_window (DrApplication *self)
{
  GtkWindow *window = find_window (self);

  if (window == NULL)
    window = GTK_WINDOW (dr_app_window_new (GTK_APPLICATION (self), self->link));
  gtk_window_present (window);
  return window;
}

/* The daemon's notifications ask for this when clicked
 * (org.freedesktop.Application.ActivateAction, which may start the app). */
static void
on_show_session (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkWindow *window = present_window (DR_APPLICATION (user_data));

  g_action_group_activate_action (G_ACTION_GROUP (window), "show-session", parameter);
}

/* One preferences window, over the main window. */
static void
on_preferences (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrApplication *self = user_data;

  if (self->preferences == NULL)
    {
      self->preferences = GTK_WINDOW (dr_preferences_window_new (self->link));
      g_object_add_weak_pointer (G_OBJECT (self->preferences), (gpointer *) &self->preferences);
      gtk_window_set_transient_for (self->preferences, present_window (self));
      gtk_window_set_application (self->preferences, GTK_APPLICATION (self));
    }
  gtk_window_present (self->preferences);
}

static void
dr_application_startup (GApplication *application)
{
  DrApplication *self = DR_APPLICATION (application);
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  g_autoptr (GSimpleAction) quit = g_simple_action_new ("quit", NULL);
  g_autoptr (GSimpleAction) show_session
      = g_simple_action_new ("show-session", G_VARIANT_TYPE_UINT64);
  g_autoptr (GSimpleAction) preferences = g_simple_action_new ("preferences", NULL);
  static const char *const quit_accels[] = { "<Control>q", NULL };
  static const char *const preferences_accels[] = { "<Control>comma", NULL };

  G_APPLICATION_CLASS (dr_application_parent_class)->startup (application);

  gtk_css_provider_load_from_data (css, style_sheet, -1);
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_signal_connect (quit, "activate", G_CALLBACK (on_quit), self);
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (quit));
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  g_signal_connect (preferences, "activate", G_CALLBACK (on_preferences), self);
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (preferences));
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences",
                                         preferences_accels);
  g_signal_connect (show_session, "activate", G_CALLBACK (on_show_session), self);
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (show_session));
  if (g_strcmp0 (g_getenv ("DERMAROLL_APP_TEST_HOOKS"), "1") == 0)
    dr_test_hooks_install (GTK_APPLICATION (self));
  self->link = dr_daemon_link_new (FALSE);
}

static void
dr_application_activate (GApplication *application)
{
  present_window (DR_APPLICATION (application));
}

static void
dr_application_shutdown (GApplication *application)
{
  DrApplication *self = DR_APPLICATION (application);

  if (self->preferences != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->preferences), (gpointer *) &self->preferences);
  self->preferences = NULL;
  g_clear_object (&self->link);
  G_APPLICATION_CLASS (dr_application_parent_class)->shutdown (application);
}

static void
dr_application_class_init (DrApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->startup = dr_application_startup;
  app_class->activate = dr_application_activate;
  app_class->shutdown = dr_application_shutdown;
}

static void
dr_application_init (DrApplication *self)
{
}

DrApplication *
dr_application_new (void)
{
  return g_object_new (DR_TYPE_APPLICATION, "application-id", DR_APPLICATION_ID, "flags",
                       G_APPLICATION_DEFAULT_FLAGS, NULL);
}
