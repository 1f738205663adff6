/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bluez-agent.c: DrBluezAgent, the NoInputNoOutput Agent1 of dermarolld.
 *
 * The roller has no display and no keys: Just Works is all it can do, and
 * the agent's whole job is to say yes to that for the roller being paired
 * and no to everything and everyone else. It is registered again with
 * every bluetoothd that appears, since a restarted bluetoothd knows no
 * agents.
 */
#include "bluez-agent.h"

#define BLUEZ_BUS_NAME "org.bluez"
#define DEVICE_IFACE "org.bluez.Device1"
#define AGENT_MANAGER_IFACE "org.bluez.AgentManager1"
#define AGENT_MANAGER_PATH "/org/bluez"
#define AGENT_PATH "/org/dermaroll/agent"
#define AGENT_CAPABILITY "NoInputNoOutput"
#define BLUEZ_ERROR_REJECTED "org.bluez.Error.Rejected"

struct _DrBluezAgent
{
  GObject parent_instance;

  GDBusConnection *connection;
  guint registration_id;
  char *name_owner;            /* bluetoothd, or NULL */
  GDBusObjectManager *manager; /* resolves device paths */
  GCancellable *cancellable;   /* the registration with name_owner */
  gboolean pending;            /* RegisterAgent sent, not answered yet */
  GHashTable *pairing;         /* upper case addresses we say yes for */
};

G_DEFINE_TYPE (DrBluezAgent, dr_bluez_agent, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONNECTION,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  READY,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char agent_xml[] = "<node>"
                                "  <interface name='org.bluez.Agent1'>"
                                "    <method name='Release'/>"
                                "    <method name='RequestPinCode'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='s' name='pincode' direction='out'/>"
                                "    </method>"
                                "    <method name='DisplayPinCode'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='s' name='pincode' direction='in'/>"
                                "    </method>"
                                "    <method name='RequestPasskey'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='u' name='passkey' direction='out'/>"
                                "    </method>"
                                "    <method name='DisplayPasskey'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='u' name='passkey' direction='in'/>"
                                "      <arg type='q' name='entered' direction='in'/>"
                                "    </method>"
                                "    <method name='RequestConfirmation'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='u' name='passkey' direction='in'/>"
                                "    </method>"
                                "    <method name='RequestAuthorization'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "    </method>"
                                "    <method name='AuthorizeService'>"
                                "      <arg type='o' name='device' direction='in'/>"
                                "      <arg type='s' name='uuid' direction='in'/>"
                                "    </method>"
                                "    <method name='Cancel'/>"
                                "  </interface>"
                                "</node>";

/* Just Works only for a roller we are pairing right now: should bluetoothd
 * ever ask us about another device, saying yes to whatever asks would let
 * any device in range (one merely advertising the roller service included)
 * pair itself with the computer. */
static gboolean
agent_device_is_ours (DrBluezAgent *self, const char *device_path)
{
  g_autoptr (GDBusInterface) device = NULL;
  g_autoptr (GVariant) address = NULL;
  g_autofree char *key = NULL;

  if (self->manager == NULL || device_path == NULL)
    return FALSE;
  device = g_dbus_object_manager_get_interface (self->manager, device_path, DEVICE_IFACE);
  if (device == NULL)
    return FALSE;
  address = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (device), "Address");
  if (address == NULL || !g_variant_is_of_type (address, G_VARIANT_TYPE_STRING))
    return FALSE;
  key = g_ascii_strup (g_variant_get_string (address, NULL), -1);
  return g_hash_table_contains (self->pairing, key);
}

static void
agent_method_call (GDBusConnection *connection, const char *sender, const char *object_path,
                   const char *interface_name, const char *method_name, GVariant *parameters,
                   GDBusMethodInvocation *invocation, gpointer user_data)
{
  DrBluezAgent *self = user_data;
  g_autofree char *device = NULL;

  /* The agent answers bluetoothd only; anyone else on the bus could
   * otherwise make us approve a pairing. */
  if (self->name_owner == NULL || g_strcmp0 (sender, self->name_owner) != 0)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, BLUEZ_ERROR_REJECTED,
                                                  "Only bluetoothd may call this agent");
      return;
    }
  if (g_variant_n_children (parameters) > 0)
    {
      g_autoptr (GVariant) first = g_variant_get_child_value (parameters, 0);
      if (g_variant_is_of_type (first, G_VARIANT_TYPE_OBJECT_PATH))
        device = g_variant_dup_string (first, NULL);
    }

  g_debug ("agent: %s(%s)", method_name, device ? device : "");

  if (g_str_equal (method_name, "Release") || g_str_equal (method_name, "Cancel")
      || g_str_equal (method_name, "DisplayPinCode") || g_str_equal (method_name, "DisplayPasskey"))
    {
      /* Nothing to show: the roller has no display and neither do we. */
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "RequestPinCode")
           || g_str_equal (method_name, "RequestPasskey"))
    {
      /* NoInputNoOutput: a roller never asks; nothing else gets a code. */
      g_dbus_method_invocation_return_dbus_error (invocation, BLUEZ_ERROR_REJECTED,
                                                  "dermaroll has no input for a code");
    }
  else if (g_str_equal (method_name, "RequestConfirmation")
           || g_str_equal (method_name, "RequestAuthorization")
           || g_str_equal (method_name, "AuthorizeService"))
    {
      if (agent_device_is_ours (self, device))
        g_dbus_method_invocation_return_value (invocation, NULL);
      else
        g_dbus_method_invocation_return_dbus_error (invocation, BLUEZ_ERROR_REJECTED,
                                                    "Not a dermaroll roller");
    }
  else
    g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                           "Unknown method %s", method_name);
}

static const GDBusInterfaceVTable agent_vtable = { agent_method_call, NULL, NULL, { 0 } };

/* Registered or not, pairing may go ahead now: without our agent it
 * still works with the system's default one, if there is one. */
static void
agent_settled (DrBluezAgent *self)
{
  if (!self->pending)
    return;
  self->pending = FALSE;
  g_signal_emit (self, signals[READY], 0);
}

static void
on_register_agent_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DrBluezAgent *self = user_data; /* not touched when cancelled (dispose ran) */
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *remote = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  remote = error ? g_dbus_error_get_remote_error (error) : NULL;
  if (error != NULL && g_strcmp0 (remote, "org.bluez.Error.AlreadyExists") != 0)
    {
      g_warning ("agent: RegisterAgent failed, pairing will need another agent: %s",
                 error->message);
      agent_settled (self);
      return;
    }
  /* Registered, not made the default agent: BlueZ asks the agent of the
   * client that called Pair, which is us for the roller, while a desktop's
   * own default agent keeps pairing everything else. */
  g_debug ("agent: registered at %s (%s)", AGENT_PATH, AGENT_CAPABILITY);
  agent_settled (self);
}

void
dr_bluez_agent_set_bluetoothd (DrBluezAgent *self, const char *name_owner,
                               GDBusObjectManager *manager)
{
  g_return_if_fail (DR_IS_BLUEZ_AGENT (self));

  if (manager != self->manager)
    g_set_object (&self->manager, manager);
  if (g_strcmp0 (name_owner, self->name_owner) == 0)
    return;
  /* Whatever we asked the old instance is moot. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->pending = FALSE;
  g_free (self->name_owner);
  self->name_owner = g_strdup (name_owner);

  if (self->name_owner == NULL || self->registration_id == 0)
    return;
  self->pending = TRUE;
  g_dbus_connection_call (self->connection, BLUEZ_BUS_NAME, AGENT_MANAGER_PATH, AGENT_MANAGER_IFACE,
                          "RegisterAgent", g_variant_new ("(os)", AGENT_PATH, AGENT_CAPABILITY),
                          NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable,
                          on_register_agent_done, self);
}

gboolean
dr_bluez_agent_is_pending (DrBluezAgent *self)
{
  g_return_val_if_fail (DR_IS_BLUEZ_AGENT (self), FALSE);
  return self->pending;
}

void
dr_bluez_agent_set_pairing (DrBluezAgent *self, const char *address, gboolean pairing)
{
  g_autofree char *key = NULL;

  g_return_if_fail (DR_IS_BLUEZ_AGENT (self));
  g_return_if_fail (address != NULL);
  key = g_ascii_strup (address, -1);
  if (pairing)
    g_hash_table_add (self->pairing, g_steal_pointer (&key));
  else
    g_hash_table_remove (self->pairing, key);
}

static void
dr_bluez_agent_constructed (GObject *object)
{
  DrBluezAgent *self = DR_BLUEZ_AGENT (object);
  g_autoptr (GDBusNodeInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  G_OBJECT_CLASS (dr_bluez_agent_parent_class)->constructed (object);
  g_return_if_fail (G_IS_DBUS_CONNECTION (self->connection));

  info = g_dbus_node_info_new_for_xml (agent_xml, &error);
  g_assert_no_error (error);
  self->registration_id = g_dbus_connection_register_object (
      self->connection, AGENT_PATH, info->interfaces[0], &agent_vtable, self, NULL, &error);
  if (self->registration_id == 0)
    g_warning ("agent: cannot export %s: %s", AGENT_PATH, error->message);
}

static void
dr_bluez_agent_dispose (GObject *object)
{
  DrBluezAgent *self = DR_BLUEZ_AGENT (object);

  g_cancellable_cancel (self->cancellable);
  /* Tidy up on bluetoothd's side while the connection lives on (tests
   * reuse it); if it does not, bluetoothd does this for us. Nobody waits
   * for the answer. */
  if (self->registration_id != 0)
    {
      if (self->name_owner != NULL && !g_dbus_connection_is_closed (self->connection))
        g_dbus_connection_call (self->connection, BLUEZ_BUS_NAME, AGENT_MANAGER_PATH,
                                AGENT_MANAGER_IFACE, "UnregisterAgent",
                                g_variant_new ("(o)", AGENT_PATH), NULL,
                                G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
      g_dbus_connection_unregister_object (self->connection, self->registration_id);
      self->registration_id = 0;
    }
  g_clear_pointer (&self->name_owner, g_free);
  g_clear_object (&self->manager);
  G_OBJECT_CLASS (dr_bluez_agent_parent_class)->dispose (object);
}

static void
dr_bluez_agent_finalize (GObject *object)
{
  DrBluezAgent *self = DR_BLUEZ_AGENT (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->pairing, g_hash_table_unref);
  G_OBJECT_CLASS (dr_bluez_agent_parent_class)->finalize (object);
}

static void
dr_bluez_agent_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  DrBluezAgent *self = DR_BLUEZ_AGENT (object);

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
dr_bluez_agent_init (DrBluezAgent *self)
{
  self->cancellable = g_cancellable_new ();
  self->pairing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
dr_bluez_agent_class_init (DrBluezAgentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = dr_bluez_agent_constructed;
  object_class->dispose = dr_bluez_agent_dispose;
  object_class->finalize = dr_bluez_agent_finalize;
  object_class->set_property = dr_bluez_agent_set_property;

  props[PROP_CONNECTION]
      = g_param_spec_object ("connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
                             G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 0);
}

DrBluezAgent *
dr_bluez_agent_new (GDBusConnection *connection)
{
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);
  return g_object_new (DR_TYPE_BLUEZ_AGENT, "connection", connection, NULL);
}
