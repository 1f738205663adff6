/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dr-error.c: registers the D-Bus names of DrError. */
#include "dr-error.h"

#include <gio/gio.h>

static const GDBusErrorEntry dr_error_entries[] = {
  { DR_ERROR_FAILED, "org.dermaroll.Error.Failed" },
  { DR_ERROR_NOT_FOUND, "org.dermaroll.Error.NotFound" },
  { DR_ERROR_INVALID_ARGUMENT, "org.dermaroll.Error.InvalidArgument" },
  { DR_ERROR_NOT_CONNECTED, "org.dermaroll.Error.NotConnected" },
  { DR_ERROR_IN_PROGRESS, "org.dermaroll.Error.InProgress" },
  { DR_ERROR_STORE, "org.dermaroll.Error.Store" },
  { DR_ERROR_CONFIG, "org.dermaroll.Error.Config" },
  { DR_ERROR_TIMED_OUT, "org.dermaroll.Error.TimedOut" },
  { DR_ERROR_REFUSED, "org.dermaroll.Error.Refused" },
  { DR_ERROR_NOT_SUPPORTED, "org.dermaroll.Error.NotSupported" },
  { DR_ERROR_CLOSED, "org.dermaroll.Error.Closed" },
  { DR_ERROR_CANCELLED, "org.dermaroll.Error.Cancelled" },
  { DR_ERROR_EXISTS, "org.dermaroll.Error.Exists" },
  { DR_ERROR_BUSY, "org.dermaroll.Error.Busy" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (dr_error_entries) == DR_N_ERRORS);

GQuark
dr_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("dermaroll-error-quark", &quark, dr_error_entries,
                                      G_N_ELEMENTS (dr_error_entries));
  return (GQuark) quark;
}

void
dr_error_return_gerror (GDBusMethodInvocation *invocation, const GError *error)
{
  if (error->domain == DR_ERROR)
    g_dbus_method_invocation_return_gerror (invocation, error);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_dbus_method_invocation_return_error_literal (invocation, DR_ERROR, DR_ERROR_CANCELLED,
                                                   error->message);
  else
    g_dbus_method_invocation_return_error_literal (invocation, DR_ERROR, DR_ERROR_FAILED,
                                                   error->message);
}
