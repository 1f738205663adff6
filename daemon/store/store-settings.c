/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-settings.c: the user's settings. The excluded zones, which were
 * settings rows before schema 5, are the default person's now
 * (store-people.c); these keep the calls that know no person working.
 */
#include "store-private.h"

gboolean
dr_store_set_zone_excluded (DrStore *self, const char *zone, gboolean excluded, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (zone != NULL, FALSE);

  return dr_store_set_person_zone_excluded (self, self->default_person, zone, excluded, error);
}

char **
dr_store_excluded_zones (DrStore *self, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);

  return dr_store_person_excluded_zones (self, self->default_person, error);
}
