/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bluez-agent.h: the NoInputNoOutput org.bluez.Agent1 for the roller's
 * Just Works pairing.
 *
 * Exported for as long as the object lives; registered with every
 * bluetoothd that appears (not as the default agent: BlueZ asks the agent
 * of the client that called Pair). It answers bluetoothd only, and says
 * yes only for the addresses being paired right now.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define DR_TYPE_BLUEZ_AGENT (dr_bluez_agent_get_type ())
G_DECLARE_FINAL_TYPE (DrBluezAgent, dr_bluez_agent, DR, BLUEZ_AGENT, GObject)

/* Signal ready (): the registration with the current bluetoothd was
 * answered (for better or worse); dr_bluez_agent_is_pending() is FALSE.
 * @connection: the system bus (property "connection"). */
DrBluezAgent *dr_bluez_agent_new (GDBusConnection *connection);

/* bluetoothd is @name_owner now (NULL: gone); @manager resolves the
 * device paths it asks about. Registers with a new one. */
void dr_bluez_agent_set_bluetoothd (DrBluezAgent *agent, const char *name_owner,
                                    GDBusObjectManager *manager);
/* TRUE while RegisterAgent is on its way: a Pair sent now finds no agent. */
gboolean dr_bluez_agent_is_pending (DrBluezAgent *agent);
/* Just Works is accepted for @address while set. */
void dr_bluez_agent_set_pairing (DrBluezAgent *agent, const char *address, gboolean pairing);

G_END_DECLS
