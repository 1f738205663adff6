/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zone-list.h: the daemon's configured zones (Manager1.GetZones), which
 * order zone names in every table and tell excluded zones and targets.
 */
#pragma once

#include "dr-dbus.h"

G_BEGIN_DECLS

typedef struct
{
  guint8 id;
  char *name;
  double area_cm2;
  double target_passes;
  gboolean excluded;
} DrZoneInfo;

/* The zones by id; NULL and @error when the call fails. */
GArray *dr_zone_list_fetch (DrDBusManager1 *manager, GError **error);
const DrZoneInfo *dr_zone_list_find (GArray *zones, const char *name);
/* Sets each zone's excluded flag from a person's ExcludedZones: GetZones
 * gives the default person's. */
void dr_zone_list_set_excluded (GArray *zones, const char *const *excluded);
/* The names in id order, NULL-terminated; free with g_strfreev. */
char **dr_zone_list_names (GArray *zones);

G_END_DECLS
