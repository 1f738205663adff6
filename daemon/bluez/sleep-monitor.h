/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sleep-monitor.h: logind's PrepareForSleep, as a "resumed" signal.
 *
 * After a suspend every Bluetooth link is gone whatever bluetoothd says,
 * so the one thing dermarolld wants to hear from logind is that the
 * machine woke up. Going to sleep needs nothing.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define DR_TYPE_SLEEP_MONITOR (dr_sleep_monitor_get_type ())
G_DECLARE_FINAL_TYPE (DrSleepMonitor, dr_sleep_monitor, DR, SLEEP_MONITOR, GObject)

/* Signal resumed (): PrepareForSleep(false).
 * @connection: where logind is looked for (property "connection"). */
DrSleepMonitor *dr_sleep_monitor_new (GDBusConnection *connection);

G_END_DECLS
