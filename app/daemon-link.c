/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon-link.c: the daemon on the bus, its objects and the roller shown
 * (see daemon-link.h). */
#include "daemon-link.h"

#include "dr-error.h"

#define DR_BUS_NAME "org.dermaroll"
#define DR_MANAGER_PATH "/org/dermaroll"

struct _DrDaemonLink
{
  GObject parent_instance;

  gboolean system;
  guint watch_id;
  GCancellable *cancellable; /* the object manager being made; cancelled when the name goes */
  GDBusObjectManager *objects;
  DrDBusManager1 *manager;
  DrDBusRoller1 *roller;
  DrDBusPerson1 *person; /* the roller's (Roller1.Person) */
};

enum
{
  PROP_0,
  PROP_SYSTEM,
  PROP_AVAILABLE,
  PROP_MANAGER,
  PROP_ROLLER,
  PROP_PERSON,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  SIGNAL_ROLLERS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (DrDaemonLink, dr_daemon_link, G_TYPE_OBJECT)

/* The roller's person, from the object manager: Roller1.Person may name
 * one before its object is announced, or after it went. */
static void
choose_person (DrDaemonLink *self)
{
  g_autoptr (DrDBusPerson1) person = NULL;
  const char *path = self->roller ? dr_dbus_roller1_get_person (self->roller) : NULL;

  if (self->objects != NULL && path != NULL && g_variant_is_object_path (path))
    {
      g_autoptr (GDBusObject) object = g_dbus_object_manager_get_object (self->objects, path);

      if (object != NULL)
        person = dr_dbus_object_get_person1 (DR_DBUS_OBJECT (object));
    }
  if (person == self->person)
    return;
  g_set_object (&self->person, person);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PERSON]);
}

static void
on_roller_person (GObject *roller, GParamSpec *pspec, gpointer user_data)
{
  choose_person (DR_DAEMON_LINK (user_data));
}

/* The daemon's objects that have the interface @iface, sorted by @compare. */
static GPtrArray *
list_interfaces (DrDaemonLink *self, const char *iface, GCompareFunc compare)
{
  GPtrArray *found = g_ptr_array_new_with_free_func (g_object_unref);
  GList *objects;

  if (self->objects == NULL)
    return found;
  objects = g_dbus_object_manager_get_objects (self->objects);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      GDBusInterface *interface = g_dbus_object_get_interface (G_DBUS_OBJECT (l->data), iface);

      if (interface != NULL)
        g_ptr_array_add (found, interface);
    }
  g_list_free_full (objects, g_object_unref);
  g_ptr_array_sort (found, compare);
  return found;
}

static gint
compare_rollers (gconstpointer a, gconstpointer b)
{
  DrDBusRoller1 *ra = *(DrDBusRoller1 *const *) a, *rb = *(DrDBusRoller1 *const *) b;
  gboolean pa = dr_dbus_roller1_get_paired (ra), pb = dr_dbus_roller1_get_paired (rb);

  if (pa != pb)
    return pa ? -1 : 1;
  return g_strcmp0 (dr_dbus_roller1_get_address (ra), dr_dbus_roller1_get_address (rb));
}

GPtrArray *
dr_daemon_link_list_rollers (DrDaemonLink *self)
{
  g_return_val_if_fail (DR_IS_DAEMON_LINK (self), g_ptr_array_new ());
  return list_interfaces (self, "org.dermaroll.Roller1", compare_rollers);
}

static gint
compare_people (gconstpointer a, gconstpointer b)
{
  return g_utf8_collate (dr_dbus_person1_get_name (*(DrDBusPerson1 *const *) a),
                         dr_dbus_person1_get_name (*(DrDBusPerson1 *const *) b));
}

GPtrArray *
dr_daemon_link_list_people (DrDaemonLink *self)
{
  g_return_val_if_fail (DR_IS_DAEMON_LINK (self), g_ptr_array_new ());
  return list_interfaces (self, "org.dermaroll.Person1", compare_people);
}

static void choose_roller (DrDaemonLink *self);

static void
on_roller_paired (GObject *roller, GParamSpec *pspec, gpointer user_data)
{
  DrDaemonLink *self = user_data;

  choose_roller (self);
  g_signal_emit (self, signals[SIGNAL_ROLLERS_CHANGED], 0);
}

/* The roller shown: a paired one before one only seen, then the first
 * by address, so that it does not change with the order the daemon
 * announced them in. Every roller's Paired is followed for it. */
static void
choose_roller (DrDaemonLink *self)
{
  g_autoptr (GPtrArray) rollers = dr_daemon_link_list_rollers (self);
  DrDBusRoller1 *best = rollers->len ? g_ptr_array_index (rollers, 0) : NULL;

  for (guint i = 0; i < rollers->len; i++)
    {
      GObject *roller = g_ptr_array_index (rollers, i);

      if (g_signal_handler_find (roller, G_SIGNAL_MATCH_FUNC | G_SIGNAL_MATCH_DATA, 0, 0, NULL,
                                 on_roller_paired, self)
          == 0)
        g_signal_connect (roller, "notify::paired", G_CALLBACK (on_roller_paired), self);
    }
  if (best != self->roller)
    {
      if (self->roller != NULL)
        g_signal_handlers_disconnect_by_func (self->roller, on_roller_person, self);
      g_set_object (&self->roller, best);
      if (best != NULL)
        g_signal_connect (best, "notify::person", G_CALLBACK (on_roller_person), self);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ROLLER]);
    }
  choose_person (self);
}

static void
on_objects_changed (GDBusObjectManager *objects, GDBusObject *object, gpointer user_data)
{
  DrDaemonLink *self = DR_DAEMON_LINK (user_data);

  choose_roller (self);
  g_signal_emit (self, signals[SIGNAL_ROLLERS_CHANGED], 0);
}

/* Every proxy this link connected to, let go. */
static void
disconnect_rollers (DrDaemonLink *self)
{
  g_autoptr (GPtrArray) rollers = dr_daemon_link_list_rollers (self);

  for (guint i = 0; i < rollers->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (rollers, i), self);
}

static void
drop_objects (DrDaemonLink *self)
{
  gboolean was_available = self->objects != NULL;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  disconnect_rollers (self);
  if (self->objects != NULL)
    g_signal_handlers_disconnect_by_data (self->objects, self);
  g_clear_object (&self->objects);
  g_clear_object (&self->manager);
  choose_roller (self);
  if (was_available)
    {
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MANAGER]);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_AVAILABLE]);
      g_signal_emit (self, signals[SIGNAL_ROLLERS_CHANGED], 0);
    }
}

/* The object manager is ready after the Manager1 proxy: available then. */
static void
on_objects_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusObjectManager) objects
      = dr_dbus_object_manager_client_new_finish (result, &error);
  DrDaemonLink *self;

  if (objects == NULL)
    {
      /* Cancelled: the name went, or the link is being disposed. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("cannot read the service's objects: %s", error->message);
      return;
    }
  self = DR_DAEMON_LINK (user_data);
  self->objects = g_steal_pointer (&objects);
  g_signal_connect (self->objects, "object-added", G_CALLBACK (on_objects_changed), self);
  g_signal_connect (self->objects, "object-removed", G_CALLBACK (on_objects_changed), self);
  g_signal_connect (self->objects, "interface-added", G_CALLBACK (on_objects_changed), self);
  g_signal_connect (self->objects, "interface-removed", G_CALLBACK (on_objects_changed), self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MANAGER]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_AVAILABLE]);
  choose_roller (self);
  g_signal_emit (self, signals[SIGNAL_ROLLERS_CHANGED], 0);
}

/* The Manager1 proxy first (the object manager lists the objects below
 * its own path only), then the object manager. */
static void
on_manager_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrDBusManager1) manager = dr_dbus_manager1_proxy_new_finish (result, &error);
  DrDaemonLink *self;

  if (manager == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("cannot reach the service's Manager1: %s", error->message);
      return;
    }
  self = DR_DAEMON_LINK (user_data);
  self->manager = g_steal_pointer (&manager);
  /* user_data is not a reference: the callback only runs uncancelled,
   * and dispose cancels. */
  dr_dbus_object_manager_client_new (g_dbus_proxy_get_connection (G_DBUS_PROXY (self->manager)),
                                     G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
                                     DR_BUS_NAME, DR_MANAGER_PATH, self->cancellable,
                                     on_objects_ready, self);
}

static void
on_name_appeared (GDBusConnection *connection, const char *name, const char *owner,
                  gpointer user_data)
{
  DrDaemonLink *self = user_data;

  drop_objects (self);
  self->cancellable = g_cancellable_new ();
  /* user_data is not a reference: the callback only runs uncancelled,
   * and dispose cancels. */
  dr_dbus_manager1_proxy_new (connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, DR_BUS_NAME,
                              DR_MANAGER_PATH, self->cancellable, on_manager_ready, self);
}

static void
on_name_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  drop_objects (DR_DAEMON_LINK (user_data));
}

static void
dr_daemon_link_constructed (GObject *object)
{
  DrDaemonLink *self = DR_DAEMON_LINK (object);

  G_OBJECT_CLASS (dr_daemon_link_parent_class)->constructed (object);
  /* Remote org.dermaroll.Error.* names become DR_ERROR codes. */
  (void) DR_ERROR;
  /* AUTO_START: installed with its D-Bus service file, the daemon is
   * started for us; otherwise we wait until it is. */
  self->watch_id = g_bus_watch_name (self->system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION,
                                     DR_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_AUTO_START,
                                     on_name_appeared, on_name_vanished, self, NULL);
}

static void
dr_daemon_link_dispose (GObject *object)
{
  DrDaemonLink *self = DR_DAEMON_LINK (object);

  g_clear_handle_id (&self->watch_id, g_bus_unwatch_name);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  disconnect_rollers (self);
  if (self->objects != NULL)
    g_signal_handlers_disconnect_by_data (self->objects, self);
  g_clear_object (&self->objects);
  g_clear_object (&self->manager);
  if (self->roller != NULL)
    g_signal_handlers_disconnect_by_data (self->roller, self);
  g_clear_object (&self->roller);
  g_clear_object (&self->person);
  G_OBJECT_CLASS (dr_daemon_link_parent_class)->dispose (object);
}

static void
dr_daemon_link_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  DrDaemonLink *self = DR_DAEMON_LINK (object);

  switch (id)
    {
      case PROP_SYSTEM:
        g_value_set_boolean (value, self->system);
        break;
      case PROP_AVAILABLE:
        g_value_set_boolean (value, dr_daemon_link_get_available (self));
        break;
      case PROP_MANAGER:
        g_value_set_object (value, dr_daemon_link_get_manager (self));
        break;
      case PROP_ROLLER:
        g_value_set_object (value, self->roller);
        break;
      case PROP_PERSON:
        g_value_set_object (value, self->person);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
dr_daemon_link_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  DrDaemonLink *self = DR_DAEMON_LINK (object);

  switch (id)
    {
      case PROP_SYSTEM:
        self->system = g_value_get_boolean (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
dr_daemon_link_class_init (DrDaemonLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = dr_daemon_link_constructed;
  object_class->dispose = dr_daemon_link_dispose;
  object_class->get_property = dr_daemon_link_get_property;
  object_class->set_property = dr_daemon_link_set_property;

  props[PROP_SYSTEM]
      = g_param_spec_boolean ("system", NULL, NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_AVAILABLE] = g_param_spec_boolean ("available", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_MANAGER] = g_param_spec_object ("manager", NULL, NULL, DR_DBUS_TYPE_MANAGER1,
                                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_ROLLER] = g_param_spec_object ("roller", NULL, NULL, DR_DBUS_TYPE_ROLLER1,
                                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_PERSON] = g_param_spec_object ("person", NULL, NULL, DR_DBUS_TYPE_PERSON1,
                                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_ROLLERS_CHANGED]
      = g_signal_new ("rollers-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 0);
}

static void
dr_daemon_link_init (DrDaemonLink *self)
{
}

DrDaemonLink *
dr_daemon_link_new (gboolean system)
{
  return g_object_new (DR_TYPE_DAEMON_LINK, "system", system, NULL);
}

gboolean
dr_daemon_link_get_available (DrDaemonLink *self)
{
  g_return_val_if_fail (DR_IS_DAEMON_LINK (self), FALSE);
  return self->objects != NULL;
}

DrDBusManager1 *
dr_daemon_link_get_manager (DrDaemonLink *self)
{
  g_return_val_if_fail (DR_IS_DAEMON_LINK (self), NULL);
  /* Made first, handed out once the objects are there too. */
  return self->objects != NULL ? self->manager : NULL;
}

DrDBusRoller1 *
dr_daemon_link_get_roller (DrDaemonLink *self)
{
  g_return_val_if_fail (DR_IS_DAEMON_LINK (self), NULL);
  return self->roller;
}

DrDBusPerson1 *
dr_daemon_link_get_person (DrDaemonLink *self)
{
  g_return_val_if_fail (DR_IS_DAEMON_LINK (self), NULL);
  return self->person;
}
