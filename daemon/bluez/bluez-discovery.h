/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bluez-discovery.h: LE discovery for rollers on every powered adapter,
 * owned by DrBluez. DrBluez tells it what changed (bluetoothd, adapters)
 * and hands it the powered adapters (Adapter1 proxies, borrowed) when a
 * start needs them; it never looks at DrBluez itself.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _DrBluezDiscovery DrBluezDiscovery;

DrBluezDiscovery *dr_bluez_discovery_new (GDBusConnection *connection);
/* @tidy: bluetoothd is there; send StopDiscovery where we discover. */
void dr_bluez_discovery_free (DrBluezDiscovery *discovery, gboolean tidy);

void dr_bluez_discovery_bluetoothd_left (DrBluezDiscovery *discovery);
/* A (new) bluetoothd is there: start again if wanted. */
void dr_bluez_discovery_resume (DrBluezDiscovery *discovery, GList *adapters);
void dr_bluez_discovery_adapter_powered (DrBluezDiscovery *discovery, const char *adapter_path);
/* Powered off or removed: its session is over. */
void dr_bluez_discovery_adapter_gone (DrBluezDiscovery *discovery, const char *adapter_path);

gboolean dr_bluez_discovery_is_requested (DrBluezDiscovery *discovery);

/* A user's discovery; @task returns TRUE once started on at least one
 * adapter, NotFound when there is none. */
void dr_bluez_discovery_start (DrBluezDiscovery *discovery, GList *adapters, GTask *task);
void dr_bluez_discovery_stop (DrBluezDiscovery *discovery, GTask *task);
/* A link's discovery, counted apart from the user's. */
void dr_bluez_discovery_hold (DrBluezDiscovery *discovery, GList *adapters);
void dr_bluez_discovery_release (DrBluezDiscovery *discovery);

G_END_DECLS
