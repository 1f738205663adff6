/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon-link.h: DrDaemonLink, the app's one way to dermarolld: it watches
 * the daemon's bus name (asking the bus to start it), and while the daemon
 * is there holds its object manager (the generated proxies of common/),
 * the Manager1 proxy and the roller shown (the first by address). When
 * the daemon leaves it drops them and waits for it to come back: no
 * polling, the bus says when.
 *
 * "rollers-changed" says that an object (a roller, a person) came or
 * went, or a roller was paired or forgotten: dr_daemon_link_list_rollers()
 * and dr_daemon_link_list_people() then list them anew.
 *
 * Properties, notified when they change: "available" (the daemon owns its
 * name and its objects are loaded), "manager" (DrDBusManager1, NULL while
 * unavailable), "roller" (DrDBusRoller1: the first paired roller by
 * address, else the first one seen; NULL when the daemon knows none), "person" (DrDBusPerson1: the
 * one the roller rolls for, NULL while its object is not known).
 */
#pragma once

#include <gio/gio.h>

#include "dr-dbus.h"

G_BEGIN_DECLS

#define DR_TYPE_DAEMON_LINK (dr_daemon_link_get_type ())
G_DECLARE_FINAL_TYPE (DrDaemonLink, dr_daemon_link, DR, DAEMON_LINK, GObject)

/* Watches the daemon on the session bus (system: the system bus). */
DrDaemonLink *dr_daemon_link_new (gboolean system);

gboolean dr_daemon_link_get_available (DrDaemonLink *self);
DrDBusManager1 *dr_daemon_link_get_manager (DrDaemonLink *self);
DrDBusRoller1 *dr_daemon_link_get_roller (DrDaemonLink *self);
DrDBusPerson1 *dr_daemon_link_get_person (DrDaemonLink *self);
/* Every roller the daemon knows, paired ones first, then by address. */
GPtrArray *dr_daemon_link_list_rollers (DrDaemonLink *self);
/* Every person (Person1) the daemon has, by name. */
GPtrArray *dr_daemon_link_list_people (DrDaemonLink *self);

G_END_DECLS
