/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-settings.c: the user's settings. The excluded zones, which were
 * settings rows before schema 5, are the default person's now
 * (store-people.c); these keep the calls that know no person working.
 * Which notification kinds the user wants are settings rows
 * "notify:KIND" = 0 or 1, cached for a fresh file after damage.
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

#define NOTIFY_PREFIX "notify:"

gboolean
store_load_settings (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) rows = NULL;
  int rc;

  rows = store_prepare (self,
                        "SELECT substr (key, length ('" NOTIFY_PREFIX "') + 1), value"
                        " FROM settings WHERE key GLOB '" NOTIFY_PREFIX "*'",
                        error);
  if (rows == NULL)
    return FALSE;
  while ((rc = sqlite3_step (rows)) == SQLITE_ROW)
    g_hash_table_insert (self->notify_choices,
                         g_strdup ((const char *) sqlite3_column_text (rows, 0)),
                         GINT_TO_POINTER (sqlite3_column_int (rows, 1) != 0));
  if (rc != SQLITE_DONE)
    return store_set_db_error (self, error, "cannot read the notification settings");
  return TRUE;
}

static gboolean
write_notify_choice (DrStore *self, const char *kind, gboolean enabled, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *key = g_strconcat (NOTIFY_PREFIX, kind, NULL);

  stmt = store_prepare (self, "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 2, enabled ? 1 : 0);
  return store_step_done (self, stmt, "cannot store a notification setting", error);
}

gboolean
store_carry_over_settings (DrStore *fresh, GHashTable *choices, GError **error)
{
  GHashTableIter iter;
  gpointer kind, enabled;

  g_hash_table_iter_init (&iter, choices);
  while (g_hash_table_iter_next (&iter, &kind, &enabled))
    {
      if (!write_notify_choice (fresh, kind, GPOINTER_TO_INT (enabled), error))
        return FALSE;
      g_hash_table_insert (fresh->notify_choices, g_strdup (kind), enabled);
    }
  return TRUE;
}

GHashTable *
dr_store_notification_choices (DrStore *self)
{
  GHashTable *copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer kind, enabled;

  g_return_val_if_fail (self != NULL, copy);

  g_hash_table_iter_init (&iter, self->notify_choices);
  while (g_hash_table_iter_next (&iter, &kind, &enabled))
    g_hash_table_insert (copy, g_strdup (kind), enabled);
  return copy;
}

gboolean
dr_store_set_notification_enabled (DrStore *self, const char *kind, gboolean enabled,
                                   GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  if (!write_notify_choice (self, kind, enabled, error))
    return FALSE;
  /* Read only for a fresh file after damage; a choice whose job is
   * undone later stays in it, which errs towards what the user asked. */
  g_hash_table_insert (self->notify_choices, g_strdup (kind), GINT_TO_POINTER (enabled));
  return TRUE;
}
