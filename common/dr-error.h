/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dr-error.h: dermaroll's one error domain. Each code's D-Bus name is
 * registered, so a GError crossing the bus arrives as
 * org.dermaroll.Error.<Name> with its message intact.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DR_ERROR (dr_error_quark ())

typedef enum
{
  DR_ERROR_FAILED,           /*< nick=org.dermaroll.Error.Failed >*/
  DR_ERROR_NOT_FOUND,        /*< nick=org.dermaroll.Error.NotFound >*/
  DR_ERROR_INVALID_ARGUMENT, /*< nick=org.dermaroll.Error.InvalidArgument >*/
  DR_ERROR_NOT_CONNECTED,    /*< nick=org.dermaroll.Error.NotConnected >*/
  DR_ERROR_IN_PROGRESS,      /*< nick=org.dermaroll.Error.InProgress >*/
  DR_ERROR_STORE,            /*< nick=org.dermaroll.Error.Store >*/
  DR_ERROR_CONFIG,           /*< nick=org.dermaroll.Error.Config >*/
  DR_ERROR_TIMED_OUT,        /*< nick=org.dermaroll.Error.TimedOut >*/
  DR_ERROR_REFUSED,          /*< nick=org.dermaroll.Error.Refused >*/
  DR_ERROR_NOT_SUPPORTED,    /*< nick=org.dermaroll.Error.NotSupported >*/
  DR_ERROR_CLOSED,           /*< nick=org.dermaroll.Error.Closed >*/
  DR_ERROR_CANCELLED,        /*< nick=org.dermaroll.Error.Cancelled >*/
  DR_ERROR_EXISTS,           /*< nick=org.dermaroll.Error.Exists >*/
  DR_ERROR_BUSY,             /*< nick=org.dermaroll.Error.Busy >*/
  DR_N_ERRORS                /*< skip >*/
} DrError;

GQuark dr_error_quark (void);

typedef struct _GDBusMethodInvocation GDBusMethodInvocation;

/* Answers @invocation with @error under a registered name: DR_ERROR codes
 * as they are, a cancelled operation as Cancelled, anything else (a GIO or
 * GDBus error from below) as Failed with its message, so that a client
 * never sees an unregistered org.gtk.GDBus.UnmappedGError name. */
void dr_error_return_gerror (GDBusMethodInvocation *invocation, const GError *error);

G_END_DECLS
