/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-rollers.c: the rollers the daemon knows, by address, and their
 * needle heads, whose revolutions add up across sessions.
 */
#include "store-private.h"

/* Rollers */

/* Runs an UPDATE of the roller @roller_id's row: NotFound, not a silent
 * no-op, when no roller has that id. */
gboolean
store_step_roller_update (DrStore *self, sqlite3_stmt *stmt, int64_t roller_id, const char *what,
                          GError **error)
{
  if (!store_step_done (self, stmt, what, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    return store_no_roller_error (error, roller_id);
  return TRUE;
}

gboolean
dr_store_ensure_roller (DrStore *self, const char *address, const char *name, int64_t *roller_id,
                        GError **error)
{
  g_autoptr (sqlite3_stmt) upsert = NULL;
  g_autoptr (sqlite3_stmt) select = NULL;
  gboolean has_row;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  /* A name we do not know (NULL or "") never replaces one we know. */
  upsert = store_prepare (self,
                          "INSERT INTO rollers (address, name, person_id)"
                          " VALUES (?1, coalesce (?2, ''), ?3)"
                          " ON CONFLICT (address) DO UPDATE SET name = excluded.name"
                          " WHERE excluded.name <> '' AND excluded.name <> name",
                          error);
  select = store_prepare (self, "SELECT id FROM rollers WHERE address = ?", error);
  if (upsert == NULL || select == NULL)
    return FALSE;
  sqlite3_bind_text (upsert, 1, address, -1, SQLITE_STATIC);
  sqlite3_bind_text (upsert, 2, name, -1, SQLITE_STATIC);
  /* A new roller is the default person's. */
  sqlite3_bind_int64 (upsert, 3, self->default_person);
  if (!store_step_done (self, upsert, "cannot store roller", error))
    return FALSE;
  sqlite3_bind_text (select, 1, address, -1, SQLITE_STATIC);
  if (!store_step_row (self, select, &has_row, "cannot read roller", error))
    return FALSE;
  g_assert (has_row);
  store_remember_roller (self, sqlite3_column_int64 (select, 0), address, name, -1);
  if (roller_id != NULL)
    *roller_id = sqlite3_column_int64 (select, 0);
  return TRUE;
}

gboolean
dr_store_set_roller_paired (DrStore *self, int64_t roller_id, gboolean paired, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  stmt = store_prepare (self, "UPDATE rollers SET paired = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, paired ? 1 : 0);
  sqlite3_bind_int64 (stmt, 2, roller_id);
  if (!store_step_roller_update (self, stmt, roller_id, "cannot store roller", error))
    return FALSE;
  store_remember_roller (self, roller_id, NULL, NULL, paired ? 1 : 0);
  return TRUE;
}

gboolean
dr_store_delete_roller_if_unused (DrStore *self, int64_t roller_id, gboolean *deleted,
                                  GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  stmt = store_prepare (self,
                        "DELETE FROM rollers WHERE id = ?1"
                        " AND NOT EXISTS (SELECT 1 FROM frames WHERE roller_id = ?1)"
                        " AND NOT EXISTS (SELECT 1 FROM malformed_frames WHERE roller_id = ?1)"
                        " AND NOT EXISTS (SELECT 1 FROM sessions WHERE roller_id = ?1)"
                        " AND NOT EXISTS (SELECT 1 FROM events WHERE roller_id = ?1)",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  if (!store_step_done (self, stmt, "cannot delete roller", error))
    return FALSE;
  if (deleted != NULL)
    *deleted = sqlite3_changes (self->db) > 0;
  if (sqlite3_changes (self->db) > 0)
    g_hash_table_remove (self->rollers, &roller_id);
  return TRUE;
}

void
dr_store_roller_free (DrStoreRoller *roller)
{
  if (roller == NULL)
    return;
  g_free (roller->address);
  g_free (roller->name);
  g_free (roller);
}

GPtrArray *
dr_store_list_rollers (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) rollers = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  stmt = store_prepare (self,
                        "SELECT id, address, name, paired, coalesce (person_id, ?)"
                        " FROM rollers ORDER BY id",
                        error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, self->default_person);
  rollers = g_ptr_array_new_with_free_func ((GDestroyNotify) dr_store_roller_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrStoreRoller *roller = g_new0 (DrStoreRoller, 1);

      roller->id = sqlite3_column_int64 (stmt, 0);
      roller->address = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      roller->name = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      roller->paired = sqlite3_column_int (stmt, 3) != 0;
      roller->person_id = sqlite3_column_int64 (stmt, 4);
      store_remember_roller (self, roller->id, roller->address, roller->name, roller->paired);
      store_remember_roller_person (self, roller->id, roller->person_id);
      g_ptr_array_add (rollers, roller);
    }
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read rollers");
      return NULL;
    }
  return g_steal_pointer (&rollers);
}

/* Heads */

/* @sql with one parameter, the head id, bound and stepped to its one row
 * if the head is stored (*has_row); NULL on error. */
static sqlite3_stmt *
query_head (DrStore *self, const char *sql, uint32_t head_id, gboolean *has_row, GError **error)
{
  sqlite3_stmt *stmt = store_prepare (self, sql, error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, head_id);
  if (!store_step_row (self, stmt, has_row, "cannot read head", error))
    {
      sqlite3_finalize (stmt);
      return NULL;
    }
  return stmt;
}

gboolean
dr_store_get_head_revolutions (DrStore *self, uint32_t head_id, double *revolutions, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (revolutions != NULL, FALSE);

  stmt = query_head (self, "SELECT revolutions FROM heads WHERE head_id = ?", head_id, &has_row,
                     error);
  if (stmt == NULL)
    return FALSE;
  /* A head never seen is new: no revolutions yet. */
  *revolutions = has_row ? sqlite3_column_double (stmt, 0) : 0.0;
  return TRUE;
}

gboolean
dr_store_set_head (DrStore *self, const DrHeadInfo *head, double revolutions, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (head != NULL, FALSE);

  stmt = store_prepare (
      self,
      "INSERT INTO heads (head_id, needle_length_um, needle_count, drum_diameter_10um,"
      "  drum_width_10um, ticks_per_rev, revolutions)"
      " VALUES (?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT (head_id) DO UPDATE SET"
      "  needle_length_um = excluded.needle_length_um,"
      "  needle_count = excluded.needle_count,"
      "  drum_diameter_10um = excluded.drum_diameter_10um,"
      "  drum_width_10um = excluded.drum_width_10um,"
      "  ticks_per_rev = excluded.ticks_per_rev,"
      "  revolutions = excluded.revolutions",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, head->head_id);
  sqlite3_bind_int (stmt, 2, head->needle_length_um);
  sqlite3_bind_int (stmt, 3, head->needle_count);
  sqlite3_bind_int (stmt, 4, head->drum_diameter_10um);
  sqlite3_bind_int (stmt, 5, head->drum_width_10um);
  sqlite3_bind_int (stmt, 6, head->ticks_per_rev);
  sqlite3_bind_double (stmt, 7, revolutions);
  return store_step_done (self, stmt, "cannot store head", error);
}

GHashTable *
dr_store_list_head_revolutions (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GHashTable) heads = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  stmt = store_prepare (self, "SELECT head_id, revolutions FROM heads", error);
  if (stmt == NULL)
    return NULL;
  heads = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      double *revolutions = g_new (double, 1);

      *revolutions = sqlite3_column_double (stmt, 1);
      g_hash_table_insert (heads, GUINT_TO_POINTER ((guint32) sqlite3_column_int64 (stmt, 0)),
                           revolutions);
    }
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read heads");
      return NULL;
    }
  return g_steal_pointer (&heads);
}

gboolean
dr_store_get_head_sessions (DrStore *self, uint32_t head_id, uint64_t *sessions, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (sessions != NULL, FALSE);

  stmt
      = query_head (self, "SELECT sessions FROM heads WHERE head_id = ?", head_id, &has_row, error);
  if (stmt == NULL)
    return FALSE;
  *sessions = has_row ? (uint64_t) sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}
