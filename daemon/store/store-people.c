/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-people.c: the people whose skin is treated, their excluded zones,
 * which person each roller is for, and removing a person with or without
 * their sessions.
 *
 * Every change is mirrored in the connection's cache of people (names,
 * excluded zones, the default, the highest id ever given), so that a
 * fresh database made after damage (store-damage.c) goes on with the same
 * people under the same ids.
 */
#include "store-private.h"

#include <string.h>

#include "dr-error.h"
#include "dr-quote.h"

/* Names longer than this are refused: a name is a label, and a client's
 * megabyte must not end up in every listing. */
#define PERSON_NAME_MAX_BYTES 200

/* The cache */

void
store_person_free (gpointer data)
{
  StorePerson *person = data;

  if (person == NULL)
    return;
  g_free (person->name);
  g_clear_pointer (&person->excluded, g_hash_table_unref);
  g_free (person);
}

static StorePerson *
cache_person (DrStore *self, int64_t id, const char *name)
{
  StorePerson *person = g_hash_table_lookup (self->people, &id);

  if (person == NULL)
    {
      person = g_new0 (StorePerson, 1);
      person->id = id;
      person->excluded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (self->people, &person->id, person);
    }
  g_free (person->name);
  person->name = g_strdup (name);
  self->people_seq = MAX (self->people_seq, id);
  return person;
}

gboolean
store_load_people (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) people = NULL;
  g_autoptr (sqlite3_stmt) zones = NULL;
  int rc;

  people = store_prepare (self, "SELECT id, name FROM people", error);
  zones = store_prepare (self, "SELECT person_id, zone FROM person_excluded_zones", error);
  if (people == NULL || zones == NULL)
    return FALSE;
  if (!store_query_int (self, "SELECT value FROM settings WHERE key = 'default-person'",
                        &self->default_person, error)
      || !store_query_int (self,
                           "SELECT coalesce (max (seq), 0) FROM sqlite_sequence"
                           " WHERE name = 'people'",
                           &self->people_seq, error))
    return FALSE;
  while ((rc = sqlite3_step (people)) == SQLITE_ROW)
    cache_person (self, sqlite3_column_int64 (people, 0),
                  (const char *) sqlite3_column_text (people, 1));
  if (rc != SQLITE_DONE)
    return store_set_db_error (self, error, "cannot read people");
  while ((rc = sqlite3_step (zones)) == SQLITE_ROW)
    {
      int64_t id = sqlite3_column_int64 (zones, 0);
      StorePerson *person = g_hash_table_lookup (self->people, &id);

      if (person != NULL)
        g_hash_table_add (person->excluded,
                          g_strdup ((const char *) sqlite3_column_text (zones, 1)));
    }
  if (rc != SQLITE_DONE)
    return store_set_db_error (self, error, "cannot read excluded zones");
  if (self->default_person == 0 || !g_hash_table_contains (self->people, &self->default_person))
    {
      g_set_error (error, DR_ERROR, DR_ERROR_STORE,
                   "%s: the default person (settings \"default-person\" = %" G_GINT64_FORMAT
                   ") is not in the people table",
                   self->path, self->default_person);
      return FALSE;
    }
  return TRUE;
}

/* Names */

gboolean
dr_store_check_person_name (const char *name, GError **error)
{
  const char *p;

  g_return_val_if_fail (name != NULL, FALSE);

  for (p = name; *p != '\0' && g_ascii_isspace (*p); p++)
    ;
  if (*p == '\0')
    {
      g_set_error_literal (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                           "a person's name must not be empty or only spaces");
      return FALSE;
    }
  if (strlen (name) > PERSON_NAME_MAX_BYTES)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                   "a person's name must be at most %d bytes long, not %zu", PERSON_NAME_MAX_BYTES,
                   strlen (name));
      return FALSE;
    }
  if (!g_utf8_validate (name, -1, NULL))
    {
      g_set_error_literal (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                           "a person's name must be valid UTF-8");
      return FALSE;
    }
  /* Names are printed in terminals and notifications: no escapes. */
  for (p = name; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                     "a person's name must not contain control characters (U+%04X at byte %zu)",
                     g_utf8_get_char (p), (size_t) (p - name));
        return FALSE;
      }
  return TRUE;
}

/* Asked of the table, not the cache: a write run again after its
 * transaction was rolled back must find what the file holds. */
static gboolean
name_in_use (DrStore *self, const char *name, int64_t except_id, gboolean *in_use, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
      = store_prepare (self, "SELECT id FROM people WHERE name = ?1 AND id <> ?2", error);
  gboolean has_row;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, except_id);
  if (!store_step_row (self, stmt, &has_row, "cannot read people", error))
    return FALSE;
  *in_use = has_row;
  if (has_row)
    {
      g_autofree char *quoted = dr_quote (name);

      g_set_error (error, DR_ERROR, DR_ERROR_EXISTS,
                   "%s is already the name of another person (person %" G_GINT64_FORMAT ")", quoted,
                   (int64_t) sqlite3_column_int64 (stmt, 0));
    }
  return !has_row;
}

gboolean
store_person_exists (DrStore *self, int64_t person_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = store_prepare (self, "SELECT 1 FROM people WHERE id = ?", error);
  gboolean has_row;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person_id);
  if (!store_step_row (self, stmt, &has_row, "cannot read people", error))
    return FALSE;
  if (!has_row)
    g_set_error (error, DR_ERROR, DR_ERROR_NOT_FOUND, "no person %" G_GINT64_FORMAT, person_id);
  return has_row;
}

/* People */

void
dr_store_person_free (DrStorePerson *person)
{
  if (person == NULL)
    return;
  g_free (person->name);
  g_strfreev (person->excluded_zones);
  g_free (person);
}

GPtrArray *
dr_store_list_people (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) people = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  stmt = store_prepare (self, "SELECT id, name FROM people ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  people = g_ptr_array_new_with_free_func ((GDestroyNotify) dr_store_person_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrStorePerson *person = g_new0 (DrStorePerson, 1);

      person->id = sqlite3_column_int64 (stmt, 0);
      person->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      person->is_default = person->id == self->default_person;
      g_ptr_array_add (people, person);
    }
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read people");
      return NULL;
    }
  for (guint i = 0; i < people->len; i++)
    {
      DrStorePerson *person = g_ptr_array_index (people, i);

      person->excluded_zones = dr_store_person_excluded_zones (self, person->id, error);
      if (person->excluded_zones == NULL)
        return NULL;
    }
  return g_steal_pointer (&people);
}

int64_t
dr_store_default_person (DrStore *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->default_person;
}

gboolean
dr_store_add_person (DrStore *self, const char *name, int64_t *person_id, GError **error)
{
  g_autoptr (sqlite3_stmt) insert = NULL;
  int64_t id;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  gboolean in_use;

  if (!dr_store_check_person_name (name, error) || !name_in_use (self, name, 0, &in_use, error))
    return FALSE;
  insert = store_prepare (self, "INSERT INTO people (name) VALUES (?)", error);
  if (insert == NULL)
    return FALSE;
  sqlite3_bind_text (insert, 1, name, -1, SQLITE_STATIC);
  if (!store_step_done (self, insert, "cannot store person", error))
    return FALSE;
  id = sqlite3_last_insert_rowid (self->db);
  cache_person (self, id, name);
  if (person_id != NULL)
    *person_id = id;
  return TRUE;
}

gboolean
dr_store_rename_person (DrStore *self, int64_t person_id, const char *name, GError **error)
{
  g_autoptr (sqlite3_stmt) update = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  gboolean in_use;

  if (!store_person_exists (self, person_id, error) || !dr_store_check_person_name (name, error)
      || !name_in_use (self, name, person_id, &in_use, error))
    return FALSE;
  update = store_prepare (self, "UPDATE people SET name = ?2 WHERE id = ?1", error);
  if (update == NULL)
    return FALSE;
  sqlite3_bind_int64 (update, 1, person_id);
  sqlite3_bind_text (update, 2, name, -1, SQLITE_STATIC);
  if (!store_step_done (self, update, "cannot rename person", error))
    return FALSE;
  cache_person (self, person_id, name);
  return TRUE;
}

gboolean
dr_store_remove_person (DrStore *self, int64_t person_id, gboolean delete_data, GError **error)
{
  /* In dependency order: nothing may point at the person when it goes
   * (foreign keys are on). The raw frames are never touched: they are
   * the roller's record, and the engine can recount any of them. */
  static const char *const steps[] = {
    "UPDATE rollers SET person_id = ?2 WHERE person_id = ?1",
    /* With their data (the next four): only the id and times stay, so
     * that ids are never given again and a roller's clock floor and resume
     * do not fall back onto an older session (store-sessions.c). */
    "INSERT OR REPLACE INTO deleted_sessions (id, roller_id, start_ms, end_ms)"
    "  SELECT id, roller_id, start_ms, coalesce (end_ms, start_ms) FROM sessions"
    "  WHERE person_id = ?1",
    "DELETE FROM events WHERE session_id IN (SELECT id FROM sessions WHERE person_id = ?1)",
    "DELETE FROM session_zones WHERE session_id IN (SELECT id FROM sessions WHERE person_id = ?1)",
    "DELETE FROM sessions WHERE person_id = ?1",
    /* Without (nothing left to do with): the sessions are nobody's. */
    "UPDATE sessions SET person_id = NULL WHERE person_id = ?1",
    "DELETE FROM person_excluded_zones WHERE person_id = ?1",
    "DELETE FROM people WHERE id = ?1",
  };
  static const gboolean with_data_only[G_N_ELEMENTS (steps)]
      = { FALSE, TRUE, TRUE, TRUE, TRUE, FALSE, FALSE, FALSE };
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!store_person_exists (self, person_id, error))
    return FALSE;
  if (person_id == self->default_person)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_REFUSED,
                   "person %" G_GINT64_FORMAT " is the default person, which always exists",
                   person_id);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autoptr (sqlite3_stmt) stmt = NULL;

      if (with_data_only[i] && !delete_data)
        continue;
      stmt = store_prepare (self, steps[i], error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, person_id);
      if (sqlite3_bind_parameter_count (stmt) >= 2)
        sqlite3_bind_int64 (stmt, 2, self->default_person);
      if (!store_step_done (self, stmt, "cannot remove person", error))
        return FALSE;
    }
  g_hash_table_remove (self->people, &person_id);
  g_hash_table_iter_init (&iter, self->rollers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      DrStoreRoller *roller = value;
      if (roller->person_id == person_id)
        roller->person_id = self->default_person;
    }
  return TRUE;
}

gboolean
dr_store_set_roller_person (DrStore *self, int64_t roller_id, int64_t person_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  DrStoreRoller *roller;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!store_person_exists (self, person_id, error))
    return FALSE;
  stmt = store_prepare (self, "UPDATE rollers SET person_id = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person_id);
  sqlite3_bind_int64 (stmt, 2, roller_id);
  if (!store_step_roller_update (self, stmt, roller_id, "cannot store roller", error))
    return FALSE;
  roller = g_hash_table_lookup (self->rollers, &roller_id);
  if (roller != NULL)
    roller->person_id = person_id;
  return TRUE;
}

/* Excluded zones */

gboolean
dr_store_set_person_zone_excluded (DrStore *self, int64_t person_id, const char *zone,
                                   gboolean excluded, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  StorePerson *person;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (zone != NULL, FALSE);

  if (!store_person_exists (self, person_id, error))
    return FALSE;
  stmt = store_prepare (self,
                        excluded ? "INSERT OR IGNORE INTO person_excluded_zones (person_id, zone)"
                                   " VALUES (?, ?)"
                                 : "DELETE FROM person_excluded_zones"
                                   " WHERE person_id = ? AND zone = ?",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, person_id);
  sqlite3_bind_text (stmt, 2, zone, -1, SQLITE_STATIC);
  if (!store_step_done (self, stmt, "cannot store excluded zone", error))
    return FALSE;
  person = g_hash_table_lookup (self->people, &person_id);
  if (person != NULL && excluded)
    g_hash_table_add (person->excluded, g_strdup (zone));
  else if (person != NULL)
    g_hash_table_remove (person->excluded, zone);
  return TRUE;
}

char **
dr_store_person_excluded_zones (DrStore *self, int64_t person_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) zones = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  if (!store_person_exists (self, person_id, error))
    return NULL;
  stmt = store_prepare (
      self, "SELECT zone FROM person_excluded_zones WHERE person_id = ? ORDER BY zone", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, person_id);
  zones = g_ptr_array_new_with_free_func (g_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (zones, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read excluded zones");
      return NULL;
    }
  g_ptr_array_add (zones, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&zones), FALSE);
}

/* A fresh database after damage */

gboolean
store_carry_over_people (DrStore *fresh, GHashTable *people, int64_t default_person,
                         int64_t people_seq, GError **error)
{
  g_autoptr (sqlite3_stmt) person = NULL;
  g_autoptr (sqlite3_stmt) zone = NULL;
  g_autoptr (sqlite3_stmt) default_row = NULL;
  g_autoptr (sqlite3_stmt) seq = NULL;
  GHashTableIter iter;
  gpointer value;

  /* The fresh file's own default person gives way to the old file's
   * people, ids and all. */
  if (!store_exec (fresh,
                   "DELETE FROM person_excluded_zones; UPDATE rollers SET person_id = NULL;"
                   " DELETE FROM people",
                   "cannot store people", error))
    return FALSE;
  g_hash_table_remove_all (fresh->people);
  person = store_prepare (fresh, "INSERT INTO people (id, name) VALUES (?, ?)", error);
  zone = store_prepare (fresh, "INSERT INTO person_excluded_zones (person_id, zone) VALUES (?, ?)",
                        error);
  default_row = store_prepare (
      fresh, "INSERT OR REPLACE INTO settings (key, value) VALUES ('default-person', ?)", error);
  seq = store_prepare (fresh, "UPDATE sqlite_sequence SET seq = max (seq, ?) WHERE name = 'people'",
                       error);
  if (person == NULL || zone == NULL || default_row == NULL || seq == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, people);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      StorePerson *p = value;
      StorePerson *copy;
      GHashTableIter zones;
      gpointer name;

      sqlite3_bind_int64 (person, 1, p->id);
      sqlite3_bind_text (person, 2, p->name, -1, SQLITE_STATIC);
      if (!store_step_done (fresh, person, "cannot store person", error))
        return FALSE;
      copy = cache_person (fresh, p->id, p->name);
      g_hash_table_iter_init (&zones, p->excluded);
      while (g_hash_table_iter_next (&zones, &name, NULL))
        {
          sqlite3_bind_int64 (zone, 1, p->id);
          sqlite3_bind_text (zone, 2, name, -1, SQLITE_STATIC);
          if (!store_step_done (fresh, zone, "cannot store excluded zone", error))
            return FALSE;
          g_hash_table_add (copy->excluded, g_strdup (name));
        }
    }
  sqlite3_bind_int64 (default_row, 1, default_person);
  sqlite3_bind_int64 (seq, 1, people_seq);
  if (!store_step_done (fresh, default_row, "cannot store the default person", error)
      || !store_step_done (fresh, seq, "cannot store people", error))
    return FALSE;
  fresh->default_person = default_person;
  fresh->people_seq = MAX (fresh->people_seq, people_seq);
  return TRUE;
}
