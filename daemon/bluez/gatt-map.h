/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gatt-map.h: the roller's characteristics by UUID, for one resolution.
 *
 * Rebuilt from the object manager on every ServicesResolved = true and
 * cleared when the services go: no object path outlives the resolution
 * it came from.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _DrGattMap DrGattMap;

DrGattMap *dr_gatt_map_new (void);
void dr_gatt_map_free (DrGattMap *map);
void dr_gatt_map_clear (DrGattMap *map);

/* From @chars (GattCharacteristic1 proxies under the device): the first
 * of each UUID. NotFound when one the roller must have is missing (the
 * map is filled anyway); @label names the device in messages. */
gboolean dr_gatt_map_rebuild (DrGattMap *map, GList *chars, const char *label, GError **error);

/* Object path of @uuid (lower case), or NULL. */
const char *dr_gatt_map_lookup (DrGattMap *map, const char *uuid);
gboolean dr_gatt_map_has_path (DrGattMap *map, const char *path);
guint dr_gatt_map_size (DrGattMap *map);
/* Roll Measurement shows NotifyAcquired: AcquireNotify is there. */
gboolean dr_gatt_map_can_acquire (DrGattMap *map);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrGattMap, dr_gatt_map_free)

G_END_DECLS
