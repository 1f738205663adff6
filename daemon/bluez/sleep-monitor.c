/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sleep-monitor.c: DrSleepMonitor, logind's PrepareForSleep(false) as a
 * "resumed" signal. A signal subscription, no proxy: logind need not be
 * there (it is not on the private buses of the tests unless they want it),
 * and nothing is ever asked of it.
 */
#include "sleep-monitor.h"

#define LOGIND_BUS_NAME "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_MANAGER_IFACE "org.freedesktop.login1.Manager"

struct _DrSleepMonitor
{
  GObject parent_instance;

  GDBusConnection *connection;
  guint subscription_id;
};

G_DEFINE_TYPE (DrSleepMonitor, dr_sleep_monitor, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONNECTION,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  RESUMED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
on_prepare_for_sleep (GDBusConnection *connection, const char *sender, const char *object_path,
                      const char *interface_name, const char *signal_name, GVariant *parameters,
                      gpointer user_data)
{
  DrSleepMonitor *self = user_data;
  gboolean start;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (parameters, "(b)", &start);
  g_debug ("logind: %s", start ? "going to sleep" : "resumed");
  /* Going to sleep needs nothing: the links are gone on resume whatever
   * we do, and bluetoothd may not even tell us. */
  if (!start)
    g_signal_emit (self, signals[RESUMED], 0);
}

static void
dr_sleep_monitor_constructed (GObject *object)
{
  DrSleepMonitor *self = DR_SLEEP_MONITOR (object);

  G_OBJECT_CLASS (dr_sleep_monitor_parent_class)->constructed (object);
  g_return_if_fail (G_IS_DBUS_CONNECTION (self->connection));
  self->subscription_id = g_dbus_connection_signal_subscribe (
      self->connection, LOGIND_BUS_NAME, LOGIND_MANAGER_IFACE, "PrepareForSleep", LOGIND_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_prepare_for_sleep, self, NULL);
}

static void
dr_sleep_monitor_dispose (GObject *object)
{
  DrSleepMonitor *self = DR_SLEEP_MONITOR (object);

  if (self->subscription_id != 0)
    g_dbus_connection_signal_unsubscribe (self->connection, self->subscription_id);
  self->subscription_id = 0;
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (dr_sleep_monitor_parent_class)->dispose (object);
}

static void
dr_sleep_monitor_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  DrSleepMonitor *self = DR_SLEEP_MONITOR (object);

  switch (prop_id)
    {
      case PROP_CONNECTION:
        self->connection = g_value_dup_object (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_sleep_monitor_init (DrSleepMonitor *self)
{
}

static void
dr_sleep_monitor_class_init (DrSleepMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = dr_sleep_monitor_constructed;
  object_class->dispose = dr_sleep_monitor_dispose;
  object_class->set_property = dr_sleep_monitor_set_property;

  props[PROP_CONNECTION]
      = g_param_spec_object ("connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
                             G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[RESUMED] = g_signal_new ("resumed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 0);
}

DrSleepMonitor *
dr_sleep_monitor_new (GDBusConnection *connection)
{
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);
  return g_object_new (DR_TYPE_SLEEP_MONITOR, "connection", connection, NULL);
}
