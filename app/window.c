/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* window.c: one window of the app (see window.h). */
#include "window.h"

#include <glib/gi18n.h>

#include "dr-error.h"

struct _DrAppWindow
{
  AdwApplicationWindow parent_instance;

  DrDaemonLink *link;
  GCancellable *cancellable; /* calls made from this window */
  AdwToastOverlay *toasts;
  GtkStack *state;
  AdwViewStack *views;
  DrLivePage *live;
  DrHistoryPage *history;
  DrRollersPage *rollers;
  DrPeoplePage *people;
  gboolean discovering;    /* we asked the daemon to look for rollers */
  GPtrArray *toasts_shown; /* every toast's text, for the test hook */
  GPtrArray *alerts_shown; /* every alert's heading and body, for the test hook */
  GSimpleAction *stop;
};

enum
{
  PROP_0,
  PROP_LINK,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE (DrAppWindow, dr_app_window, ADW_TYPE_APPLICATION_WINDOW)

static void
toast (DrAppWindow *self, const char *message)
{
  AdwToast *t = adw_toast_new (message);

  g_ptr_array_add (self->toasts_shown, g_strdup (message));
  adw_toast_set_timeout (t, 5);
  adw_toast_overlay_add_toast (self->toasts, t);
}

/* An error the user must act on: a dialog that says what to do, the
 * daemon's own words under it. */
static void
alert (DrAppWindow *self, const char *heading, const char *advice, const char *detail)
{
  g_autofree char *body = g_strdup_printf ("%s\n\n%s", advice, detail);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);

  g_ptr_array_add (self->alerts_shown, g_strdup_printf ("%s\n%s", heading, body));
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _ ("_Close"));
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");
  gtk_window_present (GTK_WINDOW (dialog));
}

/* What to do when Pair failed, by the daemon's registered error. */
static const char *
pair_advice (const GError *error)
{
  if (error->domain == DR_ERROR)
    switch (error->code)
      {
        case DR_ERROR_REFUSED:
          return _ ("The roller refused to pair. Switch it off and on again, then pair it again. "
                    "If it is still paired with another computer or phone, remove it there "
                    "first.");
        case DR_ERROR_NOT_FOUND:
          return _ ("The roller was not found. Switch it on, bring it close to this computer, "
                    "check that Bluetooth is on, then pair it again.");
        case DR_ERROR_TIMED_OUT:
          return _ ("The roller did not answer in time. Bring it closer, check that its battery "
                    "is charged, then pair it again.");
        case DR_ERROR_IN_PROGRESS:
          return _ ("The roller is being paired already: wait for that to finish.");
        default:
          break;
      }
  return _ ("Pair it again. If this happens again, restart the dermaroll service "
            "(“systemctl --user restart dermarolld”).");
}

static void
update_stop (DrAppWindow *self)
{
  g_simple_action_set_enabled (self->stop, dr_daemon_link_get_roller (self->link) != NULL
                                               && dr_live_page_get_session_active (self->live));
}

static void
on_discovery (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (dr_dbus_manager1_call_start_discovery_finish (DR_DBUS_MANAGER1 (source), result, &error))
    return;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_dbus_error_strip_remote_error (error);
  {
    g_autofree char *text = g_strdup_printf (_ ("Cannot look for rollers: %s"), error->message);
    toast (DR_APP_WINDOW (user_data), text);
  }
}

/* While the Rollers view is on screen, the daemon looks for rollers. */
static void
update_discovery (DrAppWindow *self)
{
  DrDBusManager1 *manager = dr_daemon_link_get_manager (self->link);
  gboolean want = manager != NULL && g_strcmp0 (dr_app_window_get_view (self), "rollers") == 0
                  && gtk_widget_get_mapped (GTK_WIDGET (self));

  if (manager == NULL)
    self->discovering = FALSE;
  if (want == self->discovering)
    return;
  self->discovering = want;
  if (want)
    dr_dbus_manager1_call_start_discovery (manager, G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable,
                                           on_discovery, self);
  else
    dr_dbus_manager1_call_stop_discovery (manager, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
}

static void
on_view_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  update_discovery (DR_APP_WINDOW (user_data));
}

static void
on_link_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  DrAppWindow *self = user_data;

  gtk_stack_set_visible_child_name (
      self->state, dr_daemon_link_get_available (self->link) ? "views" : "no-daemon");
  dr_live_page_set_manager (self->live, dr_daemon_link_get_manager (self->link));
  dr_live_page_set_roller (self->live, dr_daemon_link_get_roller (self->link));
  dr_live_page_set_person (self->live, dr_daemon_link_get_person (self->link));
  dr_history_page_set_manager (self->history, dr_daemon_link_get_manager (self->link));
  dr_history_page_set_roller (self->history, dr_daemon_link_get_roller (self->link));
  dr_history_page_set_person (self->history, dr_daemon_link_get_person (self->link));
  update_stop (self);
  update_discovery (self);
}

static void
on_session_active (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  update_stop (DR_APP_WINDOW (user_data));
}

static void
on_warning (GtkWidget *page, const char *message, gpointer user_data)
{
  toast (DR_APP_WINDOW (user_data), message);
}

static void
on_stopped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  guint64 id = 0;

  if (dr_dbus_roller1_call_stop_session_finish (DR_DBUS_ROLLER1 (source), &id, result, &error))
    return;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_dbus_error_strip_remote_error (error);
  {
    g_autofree char *text = g_strdup_printf (_ ("Cannot stop the session: %s"), error->message);
    toast (DR_APP_WINDOW (user_data), text);
  }
}

static void
on_stop (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrAppWindow *self = user_data;
  DrDBusRoller1 *roller = dr_daemon_link_get_roller (self->link);

  if (roller == NULL)
    return;
  dr_dbus_roller1_call_stop_session (roller, G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable,
                                     on_stopped, self);
}

static void
on_paired (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;

  if (dr_dbus_manager1_call_pair_finish (DR_DBUS_MANAGER1 (source), &path, result, &error))
    text = g_strdup (_ ("Paired: the roller connects whenever it is in range"));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  else
    {
      g_dbus_error_strip_remote_error (error);
      alert (DR_APP_WINDOW (user_data), _ ("Cannot pair the roller"), pair_advice (error),
             error->message);
      return;
    }
  toast (DR_APP_WINDOW (user_data), text);
}

static void
on_pair (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrAppWindow *self = user_data;
  DrDBusManager1 *manager = dr_daemon_link_get_manager (self->link);

  if (manager == NULL)
    return;
  /* Pair looks for the roller for up to 30 s, then pairs and connects. */
  dr_dbus_manager1_call_pair (manager, g_variant_get_string (parameter, NULL),
                              G_DBUS_CALL_FLAGS_NONE, 90 * 1000, self->cancellable, on_paired,
                              self);
}

static void
on_forgotten (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (dr_dbus_manager1_call_forget_finish (DR_DBUS_MANAGER1 (source), result, &error)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_dbus_error_strip_remote_error (error);
  {
    g_autofree char *text = g_strdup_printf (_ ("Cannot forget the roller: %s"), error->message);
    toast (DR_APP_WINDOW (user_data), text);
  }
}

static void
on_forget (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrAppWindow *self = user_data;
  DrDBusManager1 *manager = dr_daemon_link_get_manager (self->link);
  g_autoptr (GPtrArray) rollers = dr_daemon_link_list_rollers (self->link);
  const char *address = g_variant_get_string (parameter, NULL);

  if (manager == NULL)
    return;
  for (guint i = 0; i < rollers->len; i++)
    if (g_strcmp0 (dr_dbus_roller1_get_address (g_ptr_array_index (rollers, i)), address) == 0)
      dr_dbus_manager1_call_forget (
          manager, g_dbus_proxy_get_object_path (G_DBUS_PROXY (g_ptr_array_index (rollers, i))),
          G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, on_forgotten, self);
}

static void
on_people_call (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);

  if (reply != NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_dbus_error_strip_remote_error (error);
  toast (DR_APP_WINDOW (user_data), error->message);
}

static void
on_add_person (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrAppWindow *self = user_data;
  DrDBusManager1 *manager = dr_daemon_link_get_manager (self->link);

  if (manager != NULL)
    g_dbus_proxy_call (G_DBUS_PROXY (manager), "AddPerson",
                       g_variant_new ("(s)", g_variant_get_string (parameter, NULL)),
                       G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, on_people_call, self);
}

static void
on_use_person (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrAppWindow *self = user_data;
  DrDBusRoller1 *roller = dr_daemon_link_get_roller (self->link);

  if (roller != NULL)
    g_dbus_proxy_call (G_DBUS_PROXY (roller), "SetPerson",
                       g_variant_new ("(o)", g_variant_get_string (parameter, NULL)),
                       G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, on_people_call, self);
}

static void
on_rename_person (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrAppWindow *self = user_data;
  const char *path, *name;
  g_autoptr (GPtrArray) people = dr_daemon_link_list_people (self->link);

  g_variant_get (parameter, "(&o&s)", &path, &name);
  for (guint i = 0; i < people->len; i++)
    {
      GDBusProxy *person = g_ptr_array_index (people, i);

      if (g_strcmp0 (g_dbus_proxy_get_object_path (person), path) == 0)
        g_dbus_proxy_call (person, "Rename", g_variant_new ("(s)", name), G_DBUS_CALL_FLAGS_NONE,
                           -1, self->cancellable, on_people_call, self);
    }
}

static void
on_remove_person (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrAppWindow *self = user_data;
  DrDBusManager1 *manager = dr_daemon_link_get_manager (self->link);

  /* Never the person's data: only the daemon's CLI deletes it, by name. */
  if (manager != NULL)
    g_dbus_proxy_call (G_DBUS_PROXY (manager), "RemovePerson",
                       g_variant_new ("(ob)", g_variant_get_string (parameter, NULL), FALSE),
                       G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, on_people_call, self);
}

static void
on_toggle_excluded (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrAppWindow *self = user_data;
  DrDBusPerson1 *person = dr_daemon_link_get_person (self->link);
  const char *zone = g_variant_get_string (parameter, NULL);
  const char *const *excluded;

  if (person == NULL)
    {
      toast (self, _ ("No roller yet: zones are excluded for the person a roller rolls for"));
      return;
    }
  excluded = (const char *const *) dr_dbus_person1_get_excluded_zones (person);
  g_dbus_proxy_call (
      G_DBUS_PROXY (person), "SetZoneExcluded",
      g_variant_new ("(sb)", zone, !(excluded != NULL && g_strv_contains (excluded, zone))),
      G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, on_people_call, self);
}

static void
on_show_view (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrAppWindow *self = user_data;
  const char *name = g_variant_get_string (parameter, NULL);

  if (adw_view_stack_get_child_by_name (self->views, name) != NULL)
    adw_view_stack_set_visible_child_name (self->views, name);
}

static void
on_show_session (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DrAppWindow *self = user_data;

  adw_view_stack_set_visible_child_name (self->views, "history");
  dr_history_page_show_session (self->history, g_variant_get_uint64 (parameter));
}

static void
on_mapped (GtkWidget *widget, gpointer user_data)
{
  update_discovery (DR_APP_WINDOW (widget));
}

static void
dr_app_window_constructed (GObject *object)
{
  DrAppWindow *self = DR_APP_WINDOW (object);
  AdwViewStackPage *page;

  G_OBJECT_CLASS (dr_app_window_parent_class)->constructed (object);
  /* The Rollers view needs the link, which only comes as a property. */
  self->rollers = DR_ROLLERS_PAGE (dr_rollers_page_new (self->link));
  page = adw_view_stack_add_titled (self->views, GTK_WIDGET (self->rollers), "rollers",
                                    _ ("Rollers"));
  adw_view_stack_page_set_icon_name (page, "bluetooth-active-symbolic");
  self->people = DR_PEOPLE_PAGE (dr_people_page_new (self->link));
  page = adw_view_stack_add_titled (self->views, GTK_WIDGET (self->people), "people", _ ("People"));
  adw_view_stack_page_set_icon_name (page, "system-users-symbolic");
  g_signal_connect (self, "map", G_CALLBACK (on_mapped), NULL);
  g_signal_connect (self, "unmap", G_CALLBACK (on_mapped), NULL);
  g_signal_connect_object (self->link, "notify::available", G_CALLBACK (on_link_changed), self, 0);
  g_signal_connect_object (self->link, "notify::roller", G_CALLBACK (on_link_changed), self, 0);
  g_signal_connect_object (self->link, "notify::person", G_CALLBACK (on_link_changed), self, 0);
  on_link_changed (NULL, NULL, self);
}

static void
dr_app_window_dispose (GObject *object)
{
  DrAppWindow *self = DR_APP_WINDOW (object);

  /* Stop the discovery this window asked for. */
  if (self->discovering && dr_daemon_link_get_manager (self->link) != NULL)
    dr_dbus_manager1_call_stop_discovery (dr_daemon_link_get_manager (self->link),
                                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
  self->discovering = FALSE;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->link);
  g_clear_object (&self->stop);
  g_clear_pointer (&self->toasts_shown, g_ptr_array_unref);
  g_clear_pointer (&self->alerts_shown, g_ptr_array_unref);
  G_OBJECT_CLASS (dr_app_window_parent_class)->dispose (object);
}

static void
dr_app_window_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  DrAppWindow *self = DR_APP_WINDOW (object);

  switch (id)
    {
      case PROP_LINK:
        self->link = g_value_dup_object (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
dr_app_window_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  DrAppWindow *self = DR_APP_WINDOW (object);

  switch (id)
    {
      case PROP_LINK:
        g_value_set_object (value, self->link);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
dr_app_window_class_init (DrAppWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = dr_app_window_constructed;
  object_class->dispose = dr_app_window_dispose;
  object_class->set_property = dr_app_window_set_property;
  object_class->get_property = dr_app_window_get_property;

  props[PROP_LINK]
      = g_param_spec_object ("link", NULL, NULL, DR_TYPE_DAEMON_LINK,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
dr_app_window_init (DrAppWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *switcher_title = adw_view_switcher_title_new ();
  GtkWidget *switcher_bar = adw_view_switcher_bar_new ();
  GtkWidget *views = adw_view_stack_new ();
  GtkWidget *views_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *no_daemon = adw_status_page_new ();
  AdwViewStackPage *page;

  self->cancellable = g_cancellable_new ();
  self->toasts_shown = g_ptr_array_new_with_free_func (g_free);
  self->alerts_shown = g_ptr_array_new_with_free_func (g_free);
  gtk_window_set_title (GTK_WINDOW (self), _ ("Dermaroll"));
  gtk_window_set_default_size (GTK_WINDOW (self), 720, 860);

  self->live = DR_LIVE_PAGE (dr_live_page_new ());
  page = adw_view_stack_add_titled (ADW_VIEW_STACK (views), GTK_WIDGET (self->live), "live",
                                    _ ("Live"));
  adw_view_stack_page_set_icon_name (page, "media-record-symbolic");
  g_signal_connect_object (self->live, "warning", G_CALLBACK (on_warning), self, 0);
  self->history = DR_HISTORY_PAGE (dr_history_page_new ());
  page = adw_view_stack_add_titled (ADW_VIEW_STACK (views), GTK_WIDGET (self->history), "history",
                                    _ ("History"));
  adw_view_stack_page_set_icon_name (page, "document-open-recent-symbolic");
  g_signal_connect_object (self->history, "warning", G_CALLBACK (on_warning), self, 0);
  self->views = ADW_VIEW_STACK (views);
  g_signal_connect_object (views, "notify::visible-child-name", G_CALLBACK (on_view_changed), self,
                           0);
  g_signal_connect_object (self->live, "notify::session-active", G_CALLBACK (on_session_active),
                           self, 0);

  adw_view_switcher_title_set_stack (ADW_VIEW_SWITCHER_TITLE (switcher_title),
                                     ADW_VIEW_STACK (views));
  adw_view_switcher_title_set_title (ADW_VIEW_SWITCHER_TITLE (switcher_title), _ ("Dermaroll"));
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), switcher_title);
  {
    g_autoptr (GMenu) menu = g_menu_new ();
    GtkWidget *button = gtk_menu_button_new ();

    g_menu_append (menu, _ ("_Preferences"), "app.preferences");
    g_menu_append (menu, _ ("_Quit"), "app.quit");
    gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (button), G_MENU_MODEL (menu));
    gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (button), "open-menu-symbolic");
    gtk_menu_button_set_primary (GTK_MENU_BUTTON (button), TRUE);
    gtk_widget_set_tooltip_text (button, _ ("Main menu"));
    adw_header_bar_pack_end (ADW_HEADER_BAR (header), button);
  }
  adw_view_switcher_bar_set_stack (ADW_VIEW_SWITCHER_BAR (switcher_bar), ADW_VIEW_STACK (views));
  g_object_bind_property (switcher_title, "title-visible", switcher_bar, "reveal",
                          G_BINDING_SYNC_CREATE);
  gtk_widget_set_vexpand (views, TRUE);
  gtk_box_append (GTK_BOX (views_box), views);
  gtk_box_append (GTK_BOX (views_box), switcher_bar);

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (no_daemon), "dialog-warning-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (no_daemon),
                             _ ("The dermaroll service is not running"));
  adw_status_page_set_description (
      ADW_STATUS_PAGE (no_daemon),
      _ ("Start it with “systemctl --user start dermarolld”. This window follows it as soon "
         "as it is there."));

  self->state = GTK_STACK (gtk_stack_new ());
  gtk_stack_add_named (self->state, no_daemon, "no-daemon");
  gtk_stack_add_named (self->state, views_box, "views");
  gtk_widget_set_vexpand (GTK_WIDGET (self->state), TRUE);

  self->toasts = ADW_TOAST_OVERLAY (adw_toast_overlay_new ());
  adw_toast_overlay_set_child (self->toasts, GTK_WIDGET (self->state));
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->toasts));
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (self), box);

  self->stop = g_simple_action_new ("stop", NULL);
  g_simple_action_set_enabled (self->stop, FALSE);
  g_signal_connect (self->stop, "activate", G_CALLBACK (on_stop), self);
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (self->stop));
  {
    static const GActionEntry entries[] = {
      { "show-session", on_show_session, "t", NULL, NULL, { 0 } },
      { "show-view", on_show_view, "s", NULL, NULL, { 0 } },
      { "pair", on_pair, "s", NULL, NULL, { 0 } },
      { "forget", on_forget, "s", NULL, NULL, { 0 } },
      { "add-person", on_add_person, "s", NULL, NULL, { 0 } },
      { "use-person", on_use_person, "o", NULL, NULL, { 0 } },
      { "rename-person", on_rename_person, "(os)", NULL, NULL, { 0 } },
      { "remove-person", on_remove_person, "o", NULL, NULL, { 0 } },
      { "toggle-excluded", on_toggle_excluded, "s", NULL, NULL, { 0 } },
    };
    g_action_map_add_action_entries (G_ACTION_MAP (self), entries, G_N_ELEMENTS (entries), self);
  }
}

DrAppWindow *
dr_app_window_new (GtkApplication *application, DrDaemonLink *link)
{
  return g_object_new (DR_TYPE_APP_WINDOW, "application", application, "link", link, NULL);
}

DrLivePage *
dr_app_window_get_live_page (DrAppWindow *self)
{
  g_return_val_if_fail (DR_IS_APP_WINDOW (self), NULL);
  return self->live;
}

DrRollersPage *
dr_app_window_get_rollers_page (DrAppWindow *self)
{
  g_return_val_if_fail (DR_IS_APP_WINDOW (self), NULL);
  return self->rollers;
}

DrPeoplePage *
dr_app_window_get_people_page (DrAppWindow *self)
{
  g_return_val_if_fail (DR_IS_APP_WINDOW (self), NULL);
  return self->people;
}

DrHistoryPage *
dr_app_window_get_history_page (DrAppWindow *self)
{
  g_return_val_if_fail (DR_IS_APP_WINDOW (self), NULL);
  return self->history;
}

const char *
dr_app_window_get_view (DrAppWindow *self)
{
  g_return_val_if_fail (DR_IS_APP_WINDOW (self), NULL);
  return adw_view_stack_get_visible_child_name (self->views);
}

DrFaceMapView *
dr_app_window_get_visible_map (DrAppWindow *self)
{
  const char *view = dr_app_window_get_view (self);

  if (g_strcmp0 (view, "live") == 0)
    return dr_live_page_get_map (self->live);
  if (g_strcmp0 (view, "history") == 0)
    return dr_history_page_get_map (self->history);
  return NULL;
}

GPtrArray *
dr_app_window_get_toasts (DrAppWindow *self)
{
  g_return_val_if_fail (DR_IS_APP_WINDOW (self), NULL);
  return self->toasts_shown;
}

GPtrArray *
dr_app_window_get_alerts (DrAppWindow *self)
{
  g_return_val_if_fail (DR_IS_APP_WINDOW (self), NULL);
  return self->alerts_shown;
}

const char *
dr_app_window_get_state (DrAppWindow *self)
{
  g_return_val_if_fail (DR_IS_APP_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->state);
}
