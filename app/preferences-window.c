/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* preferences-window.c: the app's preferences (see preferences-window.h). */
#include "preferences-window.h"

#include <glib/gi18n.h>

struct _DrPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  DrDaemonLink *link;
  GCancellable *cancellable;
  DrDBusManager1 *manager; /* whose NotificationKinds the switches show */
  AdwPreferencesGroup *group;
  GtkWidget *absent;  /* the row that says the daemon is not there */
  GPtrArray *rows;    /* AdwActionRow, one per kind, the kind as its widget name */
  GPtrArray *toggles; /* GtkSwitch, in the same order */
  gboolean syncing;   /* the switches are being set from the daemon */
};

enum
{
  PROP_0,
  PROP_LINK,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE (DrPreferencesWindow, dr_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* The kinds this app knows, in words; a kind of a newer daemon shows by
 * its name. */
static const struct
{
  const char *kind;
  const char *title;
  const char *subtitle;
} kind_texts[] = {
  { "over-pressure", N_ ("Too much pressure"), N_ ("While rolling, above the needles' limit") },
  { "excluded-zone", N_ ("Excluded zone"), N_ ("Rolling a zone the person excluded") },
  { "over-treated", N_ ("Zone over-treated"), N_ ("More passes than the zone should have") },
  { "too-soon", N_ ("Too soon for a zone"), N_ ("A zone rolled before its rest is over") },
  { "head-worn", N_ ("Needle head worn"), N_ ("Time to replace the head") },
  { "low-battery", N_ ("Low battery"), N_ ("The roller's battery at 15 % or less") },
  { "session-summary", N_ ("Session summary"),
    N_ ("When a session ends: coverage, aftercare, next dates") },
  { "zone-ready", N_ ("Zone ready again"), N_ ("A zone's rest is over") },
};

static void sync_from_daemon (DrPreferencesWindow *self);

static void
on_set_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  DrPreferencesWindow *self;

  if (dr_dbus_manager1_call_set_notification_enabled_finish (DR_DBUS_MANAGER1 (source), result,
                                                             &error)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = DR_PREFERENCES_WINDOW (user_data);
  g_dbus_error_strip_remote_error (error);
  {
    g_autofree char *text
        = g_strdup_printf (_ ("Cannot change the notifications: %s"), error->message);
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (text));
  }
  /* Back to what the daemon has. */
  sync_from_daemon (self);
}

static void
on_switch_active (GtkSwitch *toggle, GParamSpec *pspec, gpointer user_data)
{
  DrPreferencesWindow *self = user_data;
  const char *kind = gtk_widget_get_name (GTK_WIDGET (toggle));

  if (self->syncing || self->manager == NULL)
    return;
  dr_dbus_manager1_call_set_notification_enabled (
      self->manager, kind, gtk_switch_get_active (toggle), G_DBUS_CALL_FLAGS_NONE, -1,
      self->cancellable, on_set_done, self);
}

static void
clear_rows (DrPreferencesWindow *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->group, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);
  g_ptr_array_set_size (self->toggles, 0);
}

static GtkWidget *
add_row (DrPreferencesWindow *self, const char *kind)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *toggle = gtk_switch_new ();
  const char *title = kind, *subtitle = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (kind_texts); i++)
    if (g_str_equal (kind_texts[i].kind, kind))
      {
        title = _ (kind_texts[i].title);
        subtitle = _ (kind_texts[i].subtitle);
      }
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_name (row, kind);
  gtk_widget_set_name (toggle, kind);
  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
  g_signal_connect (toggle, "notify::active", G_CALLBACK (on_switch_active), self);
  adw_preferences_group_add (self->group, row);
  g_ptr_array_add (self->rows, row);
  g_ptr_array_add (self->toggles, toggle);
  return toggle;
}

/* One row per kind the daemon offers, each switch as the daemon says;
 * rows are made anew only when the kinds themselves change. */
static void
sync_from_daemon (DrPreferencesWindow *self)
{
  GVariant *kinds = self->manager ? dr_dbus_manager1_get_notification_kinds (self->manager) : NULL;
  gsize n = kinds ? g_variant_n_children (kinds) : 0;
  gboolean same = n == self->rows->len;
  GVariantIter iter;
  const char *kind;
  gboolean enabled;
  guint i = 0;

  gtk_widget_set_visible (self->absent, n == 0);
  if (kinds == NULL)
    {
      clear_rows (self);
      return;
    }
  g_variant_iter_init (&iter, kinds);
  while (same && g_variant_iter_next (&iter, "(&sb)", &kind, &enabled))
    same = g_str_equal (gtk_widget_get_name (g_ptr_array_index (self->rows, i++)), kind);
  self->syncing = TRUE;
  if (!same)
    clear_rows (self);
  i = 0;
  g_variant_iter_init (&iter, kinds);
  while (g_variant_iter_next (&iter, "(&sb)", &kind, &enabled))
    {
      GtkWidget *toggle = same ? g_ptr_array_index (self->toggles, i++) : add_row (self, kind);

      gtk_switch_set_active (GTK_SWITCH (toggle), enabled);
    }
  self->syncing = FALSE;
}

static void
on_kinds_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  sync_from_daemon (DR_PREFERENCES_WINDOW (user_data));
}

static void
on_manager_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  DrPreferencesWindow *self = user_data;
  DrDBusManager1 *manager = dr_daemon_link_get_manager (self->link);

  if (manager != self->manager)
    {
      if (self->manager != NULL)
        g_signal_handlers_disconnect_by_data (self->manager, self);
      g_set_object (&self->manager, manager);
      if (manager != NULL)
        g_signal_connect (manager, "notify::notification-kinds", G_CALLBACK (on_kinds_changed),
                          self);
    }
  sync_from_daemon (self);
}

static void
dr_preferences_window_constructed (GObject *object)
{
  DrPreferencesWindow *self = DR_PREFERENCES_WINDOW (object);

  G_OBJECT_CLASS (dr_preferences_window_parent_class)->constructed (object);
  g_signal_connect_object (self->link, "notify::manager", G_CALLBACK (on_manager_changed), self, 0);
  on_manager_changed (NULL, NULL, self);
}

static void
dr_preferences_window_dispose (GObject *object)
{
  DrPreferencesWindow *self = DR_PREFERENCES_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->manager != NULL)
    g_signal_handlers_disconnect_by_data (self->manager, self);
  g_clear_object (&self->manager);
  g_clear_object (&self->link);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->toggles, g_ptr_array_unref);
  G_OBJECT_CLASS (dr_preferences_window_parent_class)->dispose (object);
}

static void
dr_preferences_window_set_property (GObject *object, guint id, const GValue *value,
                                    GParamSpec *pspec)
{
  switch (id)
    {
      case PROP_LINK:
        DR_PREFERENCES_WINDOW (object)->link = g_value_dup_object (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
dr_preferences_window_class_init (DrPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = dr_preferences_window_constructed;
  object_class->dispose = dr_preferences_window_dispose;
  object_class->set_property = dr_preferences_window_set_property;

  props[PROP_LINK]
      = g_param_spec_object ("link", NULL, NULL, DR_TYPE_DAEMON_LINK,
                             G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
dr_preferences_window_init (DrPreferencesWindow *self)
{
  GtkWidget *page = adw_preferences_page_new ();

  self->cancellable = g_cancellable_new ();
  self->rows = g_ptr_array_new ();
  self->toggles = g_ptr_array_new ();
  gtk_window_set_title (GTK_WINDOW (self), _ ("Preferences"));
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (page), _ ("Notifications"));
  adw_preferences_page_set_icon_name (ADW_PREFERENCES_PAGE (page),
                                      "preferences-system-notifications-symbolic");
  self->group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->group, _ ("Desktop notifications"));
  adw_preferences_group_set_description (
      self->group, _ ("Which warnings pop up on the desktop. Every one is still recorded with "
                      "its session, and shown in this app while it is open."));
  self->absent = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->absent),
                                 _ ("The dermaroll service is not running"));
  adw_preferences_group_add (self->group, self->absent);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), self->group);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), ADW_PREFERENCES_PAGE (page));
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (self), FALSE);
}

GtkWidget *
dr_preferences_window_new (DrDaemonLink *link)
{
  return g_object_new (DR_TYPE_PREFERENCES_WINDOW, "link", link, NULL);
}

guint
dr_preferences_window_get_n_kinds (DrPreferencesWindow *self)
{
  g_return_val_if_fail (DR_IS_PREFERENCES_WINDOW (self), 0);
  return self->rows->len;
}

void
dr_preferences_window_get_kind (DrPreferencesWindow *self, guint i, const char **kind,
                                const char **title, gboolean *active)
{
  g_return_if_fail (DR_IS_PREFERENCES_WINDOW (self));
  g_return_if_fail (i < self->rows->len);

  *kind = gtk_widget_get_name (g_ptr_array_index (self->rows, i));
  *title = adw_preferences_row_get_title (g_ptr_array_index (self->rows, i));
  *active = gtk_switch_get_active (g_ptr_array_index (self->toggles, i));
}

gboolean
dr_preferences_window_toggle (DrPreferencesWindow *self, const char *kind)
{
  g_return_val_if_fail (DR_IS_PREFERENCES_WINDOW (self), FALSE);

  for (guint i = 0; i < self->toggles->len; i++)
    {
      GtkSwitch *toggle = g_ptr_array_index (self->toggles, i);

      if (g_str_equal (gtk_widget_get_name (GTK_WIDGET (toggle)), kind))
        {
          gtk_switch_set_active (toggle, !gtk_switch_get_active (toggle));
          return TRUE;
        }
    }
  return FALSE;
}
