/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-guard.c: what GDBus would echo unbounded, answered here (bus-guard.h).
 *
 * A GDBus filter runs on the connection's worker thread for every message
 * before it is dispatched; it only reads the message and, for a call it
 * takes, sends the error (g_dbus_connection_send_message is thread-safe)
 * and drops it.
 */
#include "bus-guard.h"

#include <string.h>

#include "dr-quote.h"

#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"

/* What is wrong with the call, or NULL when GDBus may have it. */
static char *
check_call (GDBusMessage *message, const char **error_name)
{
  const char *path = g_dbus_message_get_path (message);
  const char *iface = g_dbus_message_get_interface (message);
  const char *member = g_dbus_message_get_member (message);
  GVariant *body;
  const char *name = NULL;
  const char *prop = NULL;

  if (path != NULL && strlen (path) > DR_BUS_GUARD_MAX_PATH)
    {
      *error_name = "org.freedesktop.DBus.Error.UnknownObject";
      return g_strdup_printf ("No such object path (%zu bytes)", strlen (path));
    }
  if (g_strcmp0 (iface, PROPERTIES_IFACE) != 0)
    return NULL;
  body = g_dbus_message_get_body (message);
  if (body == NULL)
    return NULL;
  /* Get (ss), Set (ssv), GetAll (s): any other call GDBus refuses by type
   * without quoting. */
  if (g_strcmp0 (member, "GetAll") == 0 && g_variant_is_of_type (body, G_VARIANT_TYPE ("(s)")))
    g_variant_get (body, "(&s)", &name);
  else if (g_strcmp0 (member, "Get") == 0 && g_variant_is_of_type (body, G_VARIANT_TYPE ("(ss)")))
    g_variant_get (body, "(&s&s)", &name, &prop);
  else if (g_strcmp0 (member, "Set") == 0 && g_variant_is_of_type (body, G_VARIANT_TYPE ("(ssv)")))
    g_variant_get (body, "(&s&s@v)", &name, &prop, NULL);
  else
    return NULL;
  if (name != NULL && !g_dbus_is_interface_name (name))
    {
      g_autofree char *quoted = dr_quote (name);
      *error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      return g_strdup_printf ("No such interface %s", quoted);
    }
  if (prop != NULL && !g_dbus_is_member_name (prop))
    {
      g_autofree char *quoted = dr_quote (prop);
      *error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      return g_strdup_printf ("No such property %s", quoted);
    }
  return NULL;
}

static GDBusMessage *
guard_filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming,
              gpointer user_data)
{
  const char *error_name = NULL;
  g_autofree char *why = NULL;
  g_autoptr (GDBusMessage) reply = NULL;

  if (!incoming || g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    return message;
  why = check_call (message, &error_name);
  if (why == NULL)
    return message;
  if ((g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED) == 0)
    {
      reply = g_dbus_message_new_method_error_literal (message, error_name, why);
      g_dbus_connection_send_message (connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                      NULL);
    }
  g_object_unref (message);
  return NULL;
}

guint
dr_bus_guard_install (GDBusConnection *connection)
{
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), 0);
  return g_dbus_connection_add_filter (connection, guard_filter, NULL, NULL);
}
