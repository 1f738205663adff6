/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rollers-page.c: the Rollers view (see rollers-page.h). */
#include "rollers-page.h"

#include <glib/gi18n.h>
#include <math.h>

struct _DrRollersPage
{
  AdwBin parent_instance;

  DrDaemonLink *link;
  GPtrArray *rollers; /* DrDBusRoller1, as listed */
  GtkStack *stack;    /* "empty", "list" */
  GtkListBox *list;
  GPtrArray *rows; /* AdwActionRow, one per roller */
};

enum
{
  PROP_0,
  PROP_LINK,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE (DrRollersPage, dr_rollers_page, ADW_TYPE_BIN)

/* What a person wants to know about the roller, in one line. */
static char *
describe (DrDBusRoller1 *roller)
{
  GString *text = g_string_new (NULL);
  const char *phase = dr_dbus_roller1_get_link_phase (roller);
  double wear = dr_dbus_roller1_get_head_wear (roller);
  guint battery = dr_dbus_roller1_get_battery (roller);
  guint needle_um = dr_dbus_roller1_get_needle_length (roller);

  if (!dr_dbus_roller1_get_paired (roller))
    {
      gint16 rssi = dr_dbus_roller1_get_rssi (roller);

      g_string_append (text, _ ("not paired"));
      if (phase != NULL && phase[0] != '\0' && g_strcmp0 (phase, "idle") != 0)
        g_string_append_printf (text, " · %s", phase);
      if (rssi != 0)
        /* TRANSLATORS: signal strength. */
        g_string_append_printf (text, _ (" · signal %d dBm"), rssi);
      return g_string_free (text, FALSE);
    }
  if (dr_dbus_roller1_get_connected (roller))
    g_string_append (text, _ ("connected"));
  else
    g_string_append (
        text, phase && phase[0] && g_strcmp0 (phase, "idle") != 0 ? phase : _ ("not connected"));
  if (battery > 0)
    /* TRANSLATORS: the battery level. */
    g_string_append_printf (text, _ (" · battery %u %%"), battery);
  if (needle_um > 0)
    {
      char mm[G_ASCII_DTOSTR_BUF_SIZE];

      g_ascii_formatd (mm, sizeof mm, "%.2f", needle_um / 1000.0);
      /* TRANSLATORS: the needle length in mm, then how worn the head is. */
      g_string_append_printf (text, _ (" · %s mm head, %d %% worn"), mm,
                              (int) floor (CLAMP (wear, 0, 9.99) * 100 + 0.5));
    }
  if (wear >= 1.0)
    g_string_append (text, _ (" · replace the head"));
  return g_string_free (text, FALSE);
}

/* A link phase of a pairing in progress: the row spins. */
static gboolean
pairing (DrDBusRoller1 *roller)
{
  static const char *const phases[]
      = { "discovering", "pairing", "trusting", "connecting", "resolving", "setup", NULL };
  const char *phase = dr_dbus_roller1_get_link_phase (roller);

  return !dr_dbus_roller1_get_paired (roller) && phase != NULL && g_strv_contains (phases, phase);
}

static void
fill_row (AdwActionRow *row, DrDBusRoller1 *roller)
{
  GtkWidget *spinner = g_object_get_data (G_OBJECT (row), "dr-spinner");

  const char *name = dr_dbus_roller1_get_name (roller);
  const char *address = dr_dbus_roller1_get_address (roller);
  g_autofree char *title = NULL;
  g_autofree char *subtitle = describe (roller);

  title = name && name[0] && g_strcmp0 (name, address) != 0
              ? g_strdup_printf ("%s (%s)", name, address)
              : g_strdup (address);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (row, subtitle);
  if (spinner != NULL)
    {
      gtk_spinner_set_spinning (GTK_SPINNER (spinner), pairing (roller));
      gtk_widget_set_visible (spinner, pairing (roller));
    }
}

static void
on_roller_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  DrRollersPage *self = user_data;

  for (guint i = 0; i < self->rollers->len; i++)
    if (g_ptr_array_index (self->rollers, i) == (gpointer) object)
      fill_row (g_ptr_array_index (self->rows, i), DR_DBUS_ROLLER1 (object));
}

static void
disconnect_rollers (DrRollersPage *self)
{
  for (guint i = 0; i < self->rollers->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->rollers, i), self);
  g_ptr_array_set_size (self->rollers, 0);
}

static void
rebuild (DrRollersPage *self)
{
  /* What a row shows; Force and Coverage (10 and 2 a second) are not. */
  static const char *const shown[]
      = { "notify::name",       "notify::rssi",    "notify::paired",        "notify::connected",
          "notify::link-phase", "notify::battery", "notify::needle-length", "notify::head-wear" };
  GtkWidget *row;

  disconnect_rollers (self);
  while ((row = GTK_WIDGET (gtk_list_box_get_row_at_index (self->list, 0))) != NULL)
    gtk_list_box_remove (self->list, row);
  g_ptr_array_set_size (self->rows, 0);
  g_ptr_array_unref (self->rollers);
  self->rollers = dr_daemon_link_list_rollers (self->link);
  for (guint i = 0; i < self->rollers->len; i++)
    {
      DrDBusRoller1 *roller = g_ptr_array_index (self->rollers, i);
      gboolean paired = dr_dbus_roller1_get_paired (roller);
      GtkWidget *button = gtk_button_new_with_mnemonic (paired ? _ ("_Forget") : _ ("_Pair"));

      row = adw_action_row_new ();
      {
        GtkWidget *spinner = gtk_spinner_new ();

        adw_action_row_add_suffix (ADW_ACTION_ROW (row), spinner);
        g_object_set_data (G_OBJECT (row), "dr-spinner", spinner);
      }
      fill_row (ADW_ACTION_ROW (row), roller);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      if (!paired)
        gtk_widget_add_css_class (button, "suggested-action");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), paired ? "win.forget" : "win.pair");
      gtk_actionable_set_action_target_value (
          GTK_ACTIONABLE (button), g_variant_new_string (dr_dbus_roller1_get_address (roller)));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      gtk_list_box_append (self->list, row);
      g_ptr_array_add (self->rows, row);
      for (gsize k = 0; k < G_N_ELEMENTS (shown); k++)
        g_signal_connect (roller, shown[k], G_CALLBACK (on_roller_notify), self);
    }
  gtk_stack_set_visible_child_name (self->stack, self->rollers->len ? "list" : "empty");
}

static void
on_rollers_changed (DrDaemonLink *link, gpointer user_data)
{
  rebuild (DR_ROLLERS_PAGE (user_data));
}

static void
dr_rollers_page_constructed (GObject *object)
{
  DrRollersPage *self = DR_ROLLERS_PAGE (object);

  G_OBJECT_CLASS (dr_rollers_page_parent_class)->constructed (object);
  g_signal_connect_object (self->link, "rollers-changed", G_CALLBACK (on_rollers_changed), self, 0);
  rebuild (self);
}

static void
dr_rollers_page_dispose (GObject *object)
{
  DrRollersPage *self = DR_ROLLERS_PAGE (object);

  if (self->rollers != NULL)
    disconnect_rollers (self);
  g_clear_pointer (&self->rollers, g_ptr_array_unref);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_object (&self->link);
  G_OBJECT_CLASS (dr_rollers_page_parent_class)->dispose (object);
}

static void
dr_rollers_page_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  DrRollersPage *self = DR_ROLLERS_PAGE (object);

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
dr_rollers_page_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  switch (id)
    {
      case PROP_LINK:
        g_value_set_object (value, DR_ROLLERS_PAGE (object)->link);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
dr_rollers_page_class_init (DrRollersPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = dr_rollers_page_constructed;
  object_class->dispose = dr_rollers_page_dispose;
  object_class->set_property = dr_rollers_page_set_property;
  object_class->get_property = dr_rollers_page_get_property;

  props[PROP_LINK]
      = g_param_spec_object ("link", NULL, NULL, DR_TYPE_DAEMON_LINK,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
dr_rollers_page_init (DrRollersPage *self)
{
  GtkWidget *empty = adw_status_page_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *hint = gtk_label_new (
      _ ("Switch the roller on: rollers in range appear here while this page is open."));

  self->rollers = g_ptr_array_new_with_free_func (g_object_unref);
  self->rows = g_ptr_array_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "bluetooth-active-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), _ ("Looking for rollers"));
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   _ ("Switch the roller on and keep it close."));

  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "boxed-list");
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

  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_stack_add_named (self->stack, empty, "empty");
  gtk_stack_add_named (self->stack, scrolled, "list");
  adw_bin_set_child (ADW_BIN (self), GTK_WIDGET (self->stack));
}

GtkWidget *
dr_rollers_page_new (DrDaemonLink *link)
{
  return g_object_new (DR_TYPE_ROLLERS_PAGE, "link", link, NULL);
}

guint
dr_rollers_page_get_n_rows (DrRollersPage *self)
{
  g_return_val_if_fail (DR_IS_ROLLERS_PAGE (self), 0);
  return self->rows->len;
}

void
dr_rollers_page_get_row (DrRollersPage *self, guint i, const char **title, const char **subtitle)
{
  g_return_if_fail (DR_IS_ROLLERS_PAGE (self));
  g_return_if_fail (i < self->rows->len);

  *title = adw_preferences_row_get_title (g_ptr_array_index (self->rows, i));
  *subtitle = adw_action_row_get_subtitle (g_ptr_array_index (self->rows, i));
}
