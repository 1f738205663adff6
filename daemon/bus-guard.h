/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-guard.h: answers, with a bounded message, the calls GDBus itself
 * would answer by quoting a client's string whole.
 *
 * GDBus answers Properties.Get/Set/GetAll of an unknown interface with "No
 * such interface “…”" and a call to an unknown object with its path, the
 * client's string in full: a 1 MB name makes a 1 MB error. No interface,
 * property or object of ours has a name that is not a valid D-Bus name of
 * at most 255 bytes, so a call naming one is answered here, before GDBus
 * sees it, with the same error name and the name quoted by dr_quote ().
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Longest object path of ours there could be; longer ones are unknown. */
#define DR_BUS_GUARD_MAX_PATH 255

/* Installs the guard on @connection; the id is for
 * g_dbus_connection_remove_filter (). */
guint dr_bus_guard_install (GDBusConnection *connection);

G_END_DECLS
