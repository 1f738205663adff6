/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd-notify.h: telling the service manager how dermarolld is doing.
 *
 * READY=1 once the bus name is ours, WATCHDOG=1 from the main loop while
 * the unit has WatchdogSec=, STOPPING=1 on the way out. Outside systemd
 * (no $NOTIFY_SOCKET) every call is a cheap no-op and no timer exists, so
 * an idle daemon never wakes up for nothing.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sends READY=1 and, when the service manager asked for a watchdog
 * ($WATCHDOG_USEC for this pid), starts pinging it from the default main
 * context at half the interval. Safe to call more than once (the name can
 * be lost and acquired again): the watchdog timer is never doubled. */
void dr_sd_notify_ready (void);

/* Sends STOPPING=1 and stops the watchdog timer. */
void dr_sd_notify_stopping (void);

/* The watchdog interval in µs the service manager asked for, 0 when there
 * is none. Read when dr_sd_notify_ready() started the timer. */
guint64 dr_sd_notify_get_watchdog_usec (void);

G_END_DECLS
