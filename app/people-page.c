/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* people-page.c: the People view (see people-page.h). */
#include "people-page.h"

#include <glib/gi18n.h>

struct _DrPeoplePage
{
  AdwBin parent_instance;

  DrDaemonLink *link;
  GPtrArray *people; /* DrDBusPerson1, as listed */
  GtkListBox *list;
  GtkWidget *add_row;
  GPtrArray *rows; /* AdwActionRow, one per person */
};

enum
{
  PROP_0,
  PROP_LINK,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE (DrPeoplePage, dr_people_page, ADW_TYPE_BIN)

static gboolean
rolls_for (DrPeoplePage *self, DrDBusPerson1 *person)
{
  DrDBusRoller1 *roller = dr_daemon_link_get_roller (self->link);

  return roller != NULL
         && g_strcmp0 (dr_dbus_roller1_get_person (roller),
                       g_dbus_proxy_get_object_path (G_DBUS_PROXY (person)))
                == 0;
}

static char *
describe (DrPeoplePage *self, DrDBusPerson1 *person)
{
  const char *const *excluded = (const char *const *) dr_dbus_person1_get_excluded_zones (person);
  GString *text = g_string_new (NULL);

  if (excluded != NULL && excluded[0] != NULL)
    {
      g_autofree char *zones = g_strjoinv (", ", (char **) excluded);
      /* TRANSLATORS: the zones a person excluded, e.g. "chin, nose". */
      g_string_append_printf (text, _ ("excluded: %s"), zones);
    }
  else
    g_string_append (text, _ ("no zone excluded"));
  if (rolls_for (self, person))
    {
      const char *name = dr_dbus_roller1_get_name (dr_daemon_link_get_roller (self->link));
      /* TRANSLATORS: the roller's name. */
      g_string_append_printf (text, _ (" · %s rolls for them"), name);
    }
  return g_string_free (text, FALSE);
}

/* A question about the person of @button's row, answered with Cancel or
 * @action (@label, looking like @appearance); @on_response gets the page
 * and finds the person's path and name on the dialog ("dr-person",
 * "dr-name"). */
static AdwMessageDialog *
ask (DrPeoplePage *self, GtkButton *button, const char *heading, const char *body,
     const char *action, const char *label, AdwResponseAppearance appearance, GCallback on_response)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (
      adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), heading, body));

  adw_message_dialog_add_responses (dialog, "cancel", _ ("_Cancel"), action, label, NULL);
  adw_message_dialog_set_response_appearance (dialog, action, appearance);
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "dr-person",
                          g_strdup (g_object_get_data (G_OBJECT (button), "dr-person")), g_free);
  g_object_set_data_full (G_OBJECT (dialog), "dr-name",
                          g_strdup (g_object_get_data (G_OBJECT (button), "dr-name")), g_free);
  g_signal_connect_object (dialog, "response", on_response, self, 0);
  return dialog;
}

static void
on_remove_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  const char *path = g_object_get_data (G_OBJECT (dialog), "dr-person");

  if (g_strcmp0 (response, "remove") == 0)
    gtk_widget_activate_action (GTK_WIDGET (user_data), "win.remove-person", "o", path);
}

/* Removing asks first; the sessions always stay (owned by nobody). */
static void
on_remove_clicked (GtkButton *button, gpointer user_data)
{
  DrPeoplePage *self = user_data;
  g_autofree char *heading = g_strdup_printf (
      _ ("Remove %s?"), (char *) g_object_get_data (G_OBJECT (button), "dr-name"));
  AdwMessageDialog *dialog
      = ask (self, button, heading,
             _ ("Their sessions stay, owned by nobody; their rollers go to the default person."),
             "remove", _ ("_Remove"), ADW_RESPONSE_DESTRUCTIVE, G_CALLBACK (on_remove_response));

  adw_message_dialog_set_default_response (dialog, "cancel");
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_rename_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  const char *path = g_object_get_data (G_OBJECT (dialog), "dr-person");
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));

  if (g_strcmp0 (response, "rename") == 0)
    gtk_widget_activate_action (GTK_WIDGET (user_data), "win.rename-person", "(os)", path,
                                gtk_editable_get_text (entry));
}

static void
on_rename_entry_changed (GtkEditable *entry, gpointer user_data)
{
  const char *old_name = g_object_get_data (G_OBJECT (user_data), "dr-name");
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (user_data), "rename",
                                           name[0] != '\0' && g_strcmp0 (name, old_name) != 0);
}

/* The new name in a dialog; the daemon checks it (taken, too long) and
 * says so in a toast. */
static void
on_rename_clicked (GtkButton *button, gpointer user_data)
{
  DrPeoplePage *self = user_data;
  const char *name = g_object_get_data (G_OBJECT (button), "dr-name");
  g_autofree char *heading = g_strdup_printf (_ ("Rename %s"), name);
  AdwMessageDialog *dialog
      = ask (self, button, heading,
             _ ("Their sessions, rest and excluded zones stay theirs under the new name."),
             "rename", _ ("_Rename"), ADW_RESPONSE_SUGGESTED, G_CALLBACK (on_rename_response));
  GtkWidget *entry = gtk_entry_new ();

  gtk_editable_set_text (GTK_EDITABLE (entry), name);
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("New name"), -1);
  adw_message_dialog_set_extra_child (dialog, entry);
  adw_message_dialog_set_response_enabled (dialog, "rename", FALSE);
  adw_message_dialog_set_default_response (dialog, "rename");
  g_signal_connect (entry, "changed", G_CALLBACK (on_rename_entry_changed), dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* A flat icon button at the end of @person's row; @clicked finds the
 * person's path and name on it ("dr-person", "dr-name"). */
static void
add_person_button (DrPeoplePage *self, GtkWidget *row, DrDBusPerson1 *person, const char *icon,
                   const char *label, GCallback clicked)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  g_object_set_data_full (G_OBJECT (button), "dr-person",
                          g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (person))), g_free);
  g_object_set_data_full (G_OBJECT (button), "dr-name",
                          g_strdup (dr_dbus_person1_get_name (person)), g_free);
  g_signal_connect (button, "clicked", clicked, self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
}

static void rebuild (DrPeoplePage *self);

static void
on_person_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  rebuild (DR_PEOPLE_PAGE (user_data));
}

static void
disconnect_people (DrPeoplePage *self)
{
  for (guint i = 0; i < self->people->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->people, i), self);
  g_ptr_array_set_size (self->people, 0);
}

static void
rebuild (DrPeoplePage *self)
{
  DrDBusManager1 *manager = dr_daemon_link_get_manager (self->link);
  const char *default_path = manager ? dr_dbus_manager1_get_default_person (manager) : NULL;
  GtkWidget *row;

  disconnect_people (self);
  for (guint i = 0; i < self->rows->len; i++)
    gtk_list_box_remove (self->list, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);
  g_ptr_array_unref (self->people);
  self->people = dr_daemon_link_list_people (self->link);
  for (guint i = 0; i < self->people->len; i++)
    {
      DrDBusPerson1 *person = g_ptr_array_index (self->people, i);
      g_autofree char *subtitle = describe (self, person);

      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), dr_dbus_person1_get_name (person));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      if (dr_daemon_link_get_roller (self->link) != NULL && !rolls_for (self, person))
        {
          GtkWidget *use = gtk_button_new_with_mnemonic (_ ("_Use the roller"));

          gtk_widget_set_valign (use, GTK_ALIGN_CENTER);
          gtk_actionable_set_action_name (GTK_ACTIONABLE (use), "win.use-person");
          gtk_actionable_set_action_target_value (
              GTK_ACTIONABLE (use),
              g_variant_new_object_path (g_dbus_proxy_get_object_path (G_DBUS_PROXY (person))));
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), use);
        }
      add_person_button (self, row, person, "document-edit-symbolic", _ ("Rename this person"),
                         G_CALLBACK (on_rename_clicked));
      if (g_strcmp0 (g_dbus_proxy_get_object_path (G_DBUS_PROXY (person)), default_path) != 0)
        add_person_button (self, row, person, "user-trash-symbolic", _ ("Remove this person"),
                           G_CALLBACK (on_remove_clicked));
      gtk_list_box_append (self->list, row);
      g_ptr_array_add (self->rows, row);
      g_signal_connect (person, "notify::name", G_CALLBACK (on_person_notify), self);
      g_signal_connect (person, "notify::excluded-zones", G_CALLBACK (on_person_notify), self);
    }
}

static void
on_link_changed (gpointer instance, gpointer user_data)
{
  rebuild (DR_PEOPLE_PAGE (user_data));
}

static void
on_link_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  rebuild (DR_PEOPLE_PAGE (user_data));
}

static void
on_add (AdwEntryRow *row, gpointer user_data)
{
  const char *name = gtk_editable_get_text (GTK_EDITABLE (row));

  if (gtk_widget_activate_action (GTK_WIDGET (row), "win.add-person", "s", name))
    gtk_editable_set_text (GTK_EDITABLE (row), "");
}

static void
dr_people_page_constructed (GObject *object)
{
  DrPeoplePage *self = DR_PEOPLE_PAGE (object);

  G_OBJECT_CLASS (dr_people_page_parent_class)->constructed (object);
  g_signal_connect_object (self->link, "rollers-changed", G_CALLBACK (on_link_changed), self, 0);
  /* Whose the roller is: its Person, and the person the link found. */
  g_signal_connect_object (self->link, "notify::person", G_CALLBACK (on_link_notify), self, 0);
  g_signal_connect_object (self->link, "notify::roller", G_CALLBACK (on_link_notify), self, 0);
  rebuild (self);
}

static void
dr_people_page_dispose (GObject *object)
{
  DrPeoplePage *self = DR_PEOPLE_PAGE (object);

  if (self->people != NULL)
    disconnect_people (self);
  g_clear_pointer (&self->people, g_ptr_array_unref);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_object (&self->link);
  G_OBJECT_CLASS (dr_people_page_parent_class)->dispose (object);
}

static void
dr_people_page_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  switch (id)
    {
      case PROP_LINK:
        DR_PEOPLE_PAGE (object)->link = g_value_dup_object (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
dr_people_page_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  switch (id)
    {
      case PROP_LINK:
        g_value_set_object (value, DR_PEOPLE_PAGE (object)->link);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
dr_people_page_class_init (DrPeoplePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = dr_people_page_constructed;
  object_class->dispose = dr_people_page_dispose;
  object_class->set_property = dr_people_page_set_property;
  object_class->get_property = dr_people_page_get_property;

  props[PROP_LINK]
      = g_param_spec_object ("link", NULL, NULL, DR_TYPE_DAEMON_LINK,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
dr_people_page_init (DrPeoplePage *self)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *hint = gtk_label_new (
      _ ("Each person has their own skin: their history, rest and excluded zones. Exclude a "
         "zone by clicking it on the Live map."));

  self->people = g_ptr_array_new_with_free_func (g_object_unref);
  self->rows = g_ptr_array_new ();
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "boxed-list");
  self->add_row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->add_row), _ ("Add a person"));
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (self->add_row), TRUE);
  g_signal_connect (self->add_row, "apply", G_CALLBACK (on_add), self);
  gtk_list_box_append (self->list, self->add_row);
  gtk_label_set_wrap (GTK_LABEL (hint), TRUE);
  gtk_widget_add_css_class (hint, "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->list));
  gtk_box_append (GTK_BOX (box), hint);
  gtk_widget_set_margin_top (box, 18);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  adw_bin_set_child (ADW_BIN (self), scrolled);
}

GtkWidget *
dr_people_page_new (DrDaemonLink *link)
{
  return g_object_new (DR_TYPE_PEOPLE_PAGE, "link", link, NULL);
}

guint
dr_people_page_get_n_rows (DrPeoplePage *self)
{
  g_return_val_if_fail (DR_IS_PEOPLE_PAGE (self), 0);
  return self->rows->len;
}

void
dr_people_page_get_row (DrPeoplePage *self, guint i, const char **title, const char **subtitle)
{
  g_return_if_fail (DR_IS_PEOPLE_PAGE (self));
  g_return_if_fail (i < self->rows->len);

  *title = adw_preferences_row_get_title (g_ptr_array_index (self->rows, i));
  *subtitle = adw_action_row_get_subtitle (g_ptr_array_index (self->rows, i));
}
