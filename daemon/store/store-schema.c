/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-schema.c: the schema, its migrations, and telling our files from
 * others.
 *
 * PRAGMA user_version is the schema version, PRAGMA application_id marks
 * the file as dermaroll's; a file of another application, or of a newer
 * dermarolld, is refused, never changed.
 */
#include "store-private.h"

#include "dr-error.h"

/* PRAGMA application_id: "DRLL". Tells our files from other SQLite files. */
#define DR_STORE_APPLICATION_ID 0x44524c4c

/* Forward migrations: migrations[i] takes the schema from version i to
 * version i + 1. Append, never edit: files in the field are at every
 * version that ever shipped. */
static const char *const migrations[] = {
  /* 0 → 1: the initial schema. */
  "CREATE TABLE rollers ("
  "  id INTEGER PRIMARY KEY,"
  "  address TEXT NOT NULL UNIQUE,"
  "  name TEXT NOT NULL DEFAULT '',"
  "  paired INTEGER NOT NULL DEFAULT 0,"
  "  dropped_frames INTEGER NOT NULL DEFAULT 0,"
  /* Last frame key acknowledged to the roller (NULL: none). Acks erase
   * frames on the roller in production order, so the key, not a row id:
   * history frames stored late still sort where the roller has them. */
  "  acked_t0_ms INTEGER,"
  "  acked_seq INTEGER"
  ");"
  "CREATE TABLE heads ("
  "  head_id INTEGER PRIMARY KEY,"
  "  needle_length_um INTEGER NOT NULL DEFAULT 0,"
  "  needle_count INTEGER NOT NULL DEFAULT 0,"
  "  drum_diameter_10um INTEGER NOT NULL DEFAULT 0,"
  "  drum_width_10um INTEGER NOT NULL DEFAULT 0,"
  "  ticks_per_rev INTEGER NOT NULL DEFAULT 0,"
  "  revolutions REAL NOT NULL DEFAULT 0,"
  "  sessions INTEGER NOT NULL DEFAULT 0"
  ");"
  /* Well-formed frames exactly as received; t0 and seq are copied out of
   * the raw header for the duplicate check and for range scans. */
  "CREATE TABLE frames ("
  "  id INTEGER PRIMARY KEY,"
  "  roller_id INTEGER NOT NULL REFERENCES rollers (id),"
  "  t0_ms INTEGER NOT NULL,"
  "  seq INTEGER NOT NULL,"
  "  flags INTEGER NOT NULL,"
  "  received_ms INTEGER NOT NULL,"
  "  raw BLOB NOT NULL,"
  "  UNIQUE (roller_id, t0_ms, seq)"
  ");"
  "CREATE TABLE malformed_frames ("
  "  id INTEGER PRIMARY KEY,"
  "  roller_id INTEGER NOT NULL REFERENCES rollers (id),"
  "  received_ms INTEGER NOT NULL,"
  "  reason TEXT NOT NULL,"
  "  raw BLOB NOT NULL"
  ");"
  "CREATE INDEX malformed_frames_by_roller ON malformed_frames (roller_id);"
  "CREATE TABLE sessions ("
  "  id INTEGER PRIMARY KEY,"
  "  roller_id INTEGER NOT NULL REFERENCES rollers (id),"
  "  start_ms INTEGER NOT NULL,"
  "  end_ms INTEGER," /* NULL while the session is open */
  "  needle_length_um INTEGER NOT NULL,"
  "  head_id INTEGER NOT NULL,"
  "  mean_coverage REAL NOT NULL DEFAULT 0"
  ");"
  "CREATE INDEX sessions_by_start ON sessions (start_ms);"
  "CREATE INDEX sessions_by_roller ON sessions (roller_id, start_ms);"
  /* zone_id is the zone's id in the configuration of the time (-1 for
   * unassigned): it only orders the rows as the configuration does. */
  "CREATE TABLE session_zones ("
  "  session_id INTEGER NOT NULL REFERENCES sessions (id),"
  "  zone TEXT NOT NULL,"
  "  zone_id INTEGER NOT NULL,"
  "  coverage REAL NOT NULL,"
  "  passes REAL NOT NULL,"
  "  rolled_cm2 REAL NOT NULL,"
  "  revolutions REAL NOT NULL,"
  "  punctures_per_cm2 REAL NOT NULL,"
  "  peak_force_n REAL NOT NULL,"
  "  source TEXT NOT NULL,"
  "  PRIMARY KEY (session_id, zone)"
  ") WITHOUT ROWID;"
  /* Details as columns, NULL where the kind has none; session_id is NULL
   * for events outside any session (a seq gap while idle). */
  "CREATE TABLE events ("
  "  id INTEGER PRIMARY KEY,"
  "  session_id INTEGER REFERENCES sessions (id),"
  "  roller_id INTEGER NOT NULL REFERENCES rollers (id),"
  "  time_ms INTEGER NOT NULL,"
  "  kind TEXT NOT NULL,"
  "  zone TEXT,"
  "  force_n REAL,"
  "  limit_n REAL,"
  "  peak_n REAL,"
  "  duration_ms INTEGER,"
  "  last_treated_ms INTEGER,"
  "  head_id INTEGER,"
  "  wear REAL,"
  "  frames INTEGER"
  ");"
  "CREATE INDEX events_by_session ON events (session_id, time_ms);"
  "CREATE TABLE settings ("
  "  key TEXT PRIMARY KEY,"
  "  value"
  ");",
  /* 1 → 2: whether a session's revolutions are in its head's stored count.
   * The heads row is written when a session ends; a session a crash left
   * open is not in it, and the daemon that resumes it must add it. A
   * session still open here was left open by a crash. */
  "ALTER TABLE sessions ADD COLUMN head_counted INTEGER NOT NULL DEFAULT 1;"
  "UPDATE sessions SET head_counted = 0 WHERE end_ms IS NULL;",
  /* 2 → 3: malformed frames kept as a ring of the newest
   * DR_STORE_MALFORMED_KEEP per roller (they are diagnostics, not the
   * user's data: a flood of garbage must not fill the disk), with how many
   * are kept and how many were dropped from it. A file that grew unbounded
   * before is cut back to the ring here, the dropped ones counted. */
  "ALTER TABLE rollers ADD COLUMN malformed_kept INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE rollers ADD COLUMN malformed_dropped INTEGER NOT NULL DEFAULT 0;"
  "UPDATE rollers SET malformed_dropped = max (0, (SELECT count(*) FROM malformed_frames"
  "  WHERE roller_id = rollers.id) - " G_STRINGIFY (
      DR_STORE_MALFORMED_KEEP) ");"
                               "DELETE FROM malformed_frames WHERE id IN (SELECT id FROM (SELECT "
                               "id, row_number ()"
                               "  OVER (PARTITION BY roller_id ORDER BY id DESC) AS newer FROM "
                               "malformed_frames)"
                               "  WHERE newer > " G_STRINGIFY (
                                   DR_STORE_MALFORMED_KEEP) ");"
                                                            "UPDATE rollers SET malformed_kept = "
                                                            "(SELECT count(*) FROM malformed_frames"
                                                            "  WHERE roller_id = rollers.id);",
  /* 3 → 4: passes by stroke direction (protocol version 2). Sessions
   * stored before came from version 1 frames: all their passes were of no
   * known direction, and their coverage stays what it was. */
  "ALTER TABLE session_zones ADD COLUMN passes_horizontal REAL NOT NULL DEFAULT 0;"
  "ALTER TABLE session_zones ADD COLUMN passes_vertical REAL NOT NULL DEFAULT 0;"
  "ALTER TABLE session_zones ADD COLUMN passes_diagonal REAL NOT NULL DEFAULT 0;"
  "ALTER TABLE session_zones ADD COLUMN passes_unknown REAL NOT NULL DEFAULT 0;"
  "UPDATE session_zones SET passes_unknown = passes;",
  /* 4 → 5: people. History, rest intervals and excluded zones belong to a
   * person, not to the computer or a roller. AUTOINCREMENT: a removed
   * person's id (their D-Bus path) is never given to another. One person,
   * named "default", is made here and remembered as the default (settings
   * "default-person"): every roller and session of the file so far is
   * theirs, and so are the excluded zones, moved from their settings rows.
   * sessions.person_id NULL is a session whose person was removed without
   * their data. deleted_sessions keeps only the id and times of sessions
   * deleted with their person: ids are never given again, and a roller's
   * clock floor and resumed session stay where they were. */
  "CREATE TABLE people ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  name TEXT NOT NULL UNIQUE"
  ");"
  "INSERT INTO people (name) VALUES ('default');"
  "INSERT OR REPLACE INTO settings (key, value) VALUES ('default-person', last_insert_rowid ());"
  "CREATE TABLE person_excluded_zones ("
  "  person_id INTEGER NOT NULL REFERENCES people (id),"
  "  zone TEXT NOT NULL,"
  "  PRIMARY KEY (person_id, zone)"
  ") WITHOUT ROWID;"
  "INSERT INTO person_excluded_zones (person_id, zone)"
  "  SELECT (SELECT value FROM settings WHERE key = 'default-person'), substr (key, 15)"
  "  FROM settings WHERE key GLOB 'excluded-zone:*' AND value = 1;"
  "DELETE FROM settings WHERE key GLOB 'excluded-zone:*';"
  "ALTER TABLE rollers ADD COLUMN person_id INTEGER REFERENCES people (id);"
  "UPDATE rollers SET person_id = (SELECT value FROM settings WHERE key = 'default-person');"
  "ALTER TABLE sessions ADD COLUMN person_id INTEGER REFERENCES people (id);"
  "UPDATE sessions SET person_id = (SELECT value FROM settings WHERE key = 'default-person');"
  "CREATE INDEX sessions_by_person ON sessions (person_id, start_ms);"
  "CREATE TABLE deleted_sessions ("
  "  id INTEGER PRIMARY KEY,"
  "  roller_id INTEGER NOT NULL REFERENCES rollers (id),"
  "  start_ms INTEGER NOT NULL,"
  "  end_ms INTEGER NOT NULL"
  ");",
  /* 5 → 6: whether the daemon ended the session (StopSession, the session
   * gap, a clean shutdown, another person), as against a crash leaving it
   * open. Both have an end_ms once the store is open (the one a crash left
   * open gets its last frame's), but only a session nobody ended may be
   * resumed by the next daemon: one that was ended stays ended. A session
   * still open here was left open by a crash. */
  "ALTER TABLE sessions ADD COLUMN ended INTEGER NOT NULL DEFAULT 1;"
  "UPDATE sessions SET ended = 0 WHERE end_ms IS NULL;",
};

#define DR_STORE_SCHEMA_VERSION ((int) G_N_ELEMENTS (migrations))

/* Tells a dermaroll database (or an empty file) from anything else before
 * anything is written to it. */
gboolean
store_check_identity (DrStore *self, int64_t *version, GError **error)
{
  int64_t application_id = 0;
  int64_t n_objects = 0;

  /* The first read of the header is where SQLite finds out the file is not
   * a database at all. */
  if (sqlite3_exec (self->db, "PRAGMA application_id", NULL, NULL, NULL) != SQLITE_OK)
    {
      int rc = sqlite3_errcode (self->db);
      if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
        g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: not a dermaroll database (%s)",
                     self->path, sqlite3_errmsg (self->db));
      else
        store_set_db_error (self, error, "cannot read database");
      return FALSE;
    }
  if (!store_query_int (self, "PRAGMA application_id", &application_id, error)
      || !store_query_int (self, "PRAGMA user_version", version, error)
      || !store_query_int (self, "SELECT count(*) FROM sqlite_master", &n_objects, error))
    return FALSE;

  if (application_id == DR_STORE_APPLICATION_ID)
    {
      if (*version > DR_STORE_SCHEMA_VERSION)
        {
          g_set_error (error, DR_ERROR, DR_ERROR_STORE,
                       "%s: schema version %" G_GINT64_FORMAT
                       " is newer than this dermarolld supports (%d); refusing to touch it",
                       self->path, *version, DR_STORE_SCHEMA_VERSION);
          return FALSE;
        }
      return TRUE;
    }
  if (application_id == 0 && *version == 0 && n_objects == 0)
    return TRUE; /* new, empty */

  g_set_error (error, DR_ERROR, DR_ERROR_STORE,
               "%s: not a dermaroll database (SQLite database of another application, "
               "application id 0x%08" G_GINT64_MODIFIER "x); refusing to touch it",
               self->path, application_id);
  return FALSE;
}

gboolean
store_migrate (DrStore *self, GError **error)
{
  int64_t version;

  /* IMMEDIATE: two daemons starting at once must not both migrate. */
  if (!store_exec (self, "BEGIN IMMEDIATE", "cannot begin migration", error))
    return FALSE;
  /* Read again under the write lock. */
  if (!store_query_int (self, "PRAGMA user_version", &version, error))
    goto fail;
  if (version > DR_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_STORE,
                   "%s: schema version %" G_GINT64_FORMAT
                   " is newer than this dermarolld supports (%d)",
                   self->path, version, DR_STORE_SCHEMA_VERSION);
      goto fail;
    }
  for (int64_t v = version; v < DR_STORE_SCHEMA_VERSION; v++)
    {
      g_autofree char *what
          = g_strdup_printf ("cannot migrate schema to version %" G_GINT64_FORMAT, v + 1);
      if (!store_exec (self, migrations[v], what, error))
        goto fail;
    }
  if (version < DR_STORE_SCHEMA_VERSION)
    {
      g_autofree char *sql
          = g_strdup_printf ("PRAGMA application_id = %d; PRAGMA user_version = %d",
                             DR_STORE_APPLICATION_ID, DR_STORE_SCHEMA_VERSION);
      if (!store_exec (self, sql, "cannot set schema version", error))
        goto fail;
    }
  return dr_store_commit (self, TRUE, error);

fail:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}
