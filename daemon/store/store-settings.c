/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-settings.c: the user's settings, kept as key/value rows; for now
 * the excluded zones.
 */
#include "store-private.h"

#include <string.h>

#define EXCLUDED_ZONE_PREFIX "excluded-zone:"

gboolean
dr_store_set_zone_excluded (DrStore *self, const char *zone, gboolean excluded, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (zone != NULL, FALSE);

  /* One settings row per excluded zone: "excluded-zone:<name>" = 1. */
  stmt = store_prepare (
      self,
      excluded ? "INSERT OR REPLACE INTO settings (key, value) VALUES ('" EXCLUDED_ZONE_PREFIX
                 "' || ?, 1)"
               : "DELETE FROM settings WHERE key = '" EXCLUDED_ZONE_PREFIX "' || ?",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, zone, -1, SQLITE_STATIC);
  return store_step_done (self, stmt, "cannot store setting", error);
}

char **
dr_store_excluded_zones (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) zones = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  stmt = store_prepare (self,
                        "SELECT substr (key, ?1) FROM settings"
                        " WHERE key GLOB '" EXCLUDED_ZONE_PREFIX "*' AND value = 1 ORDER BY key",
                        error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, (int) strlen (EXCLUDED_ZONE_PREFIX) + 1);
  zones = g_ptr_array_new_with_free_func (g_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (zones, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read settings");
      return NULL;
    }
  g_ptr_array_add (zones, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&zones), FALSE);
}
