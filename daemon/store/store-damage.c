/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-damage.c: a damaged database: finding it, moving it aside, going
 * on with a fresh one, and reading what is left of it.
 *
 * A damaged file is never written into, rewritten or deleted: it is
 * renamed, with its -wal and -shm, to dermaroll.db.corrupt-YYYYMMDDTHHMMSS
 * so that the frames in it can be salvaged (dr_store_salvage_frames ()).
 * Only a file that is positively ours is moved; another application's
 * SQLite file or a text file at our path is refused and left where it is.
 */
#include "store-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "dr-error.h"

/* What a fresh database needs to go on */

void
store_remember_roller (DrStore *self, int64_t roller_id, const char *address, const char *name,
                       int paired)
{
  DrStoreRoller *roller = g_hash_table_lookup (self->rollers, &roller_id);

  if (roller == NULL)
    {
      if (address == NULL)
        return;
      roller = g_new0 (DrStoreRoller, 1);
      roller->id = roller_id;
      roller->address = g_strdup (address);
      roller->name = g_strdup ("");
      roller->person_id = self->default_person;
      g_hash_table_insert (self->rollers, &roller->id, roller);
    }
  if (name != NULL && name[0] != '\0')
    {
      g_free (roller->name);
      roller->name = g_strdup (name);
    }
  if (paired >= 0)
    roller->paired = paired != 0;
}

void
store_remember_roller_person (DrStore *self, int64_t roller_id, int64_t person_id)
{
  DrStoreRoller *roller = g_hash_table_lookup (self->rollers, &roller_id);

  if (roller != NULL)
    roller->person_id = person_id;
}

void
store_remember_session (DrStore *self, const StoreOpenSession *session)
{
  StoreOpenSession *copy = g_memdup2 (session, sizeof *session);
  g_hash_table_replace (self->open_sessions, &copy->id, copy);
}

void
store_forget_session (DrStore *self, uint64_t session_id)
{
  g_hash_table_remove (self->open_sessions, &session_id);
}

/* Finding damage */

gboolean
dr_store_is_corrupt (DrStore *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->corrupt;
}

gboolean
dr_store_quick_check (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GString) found = g_string_new (NULL);
  int rc;

  g_return_val_if_fail (self != NULL, FALSE);

  /* The first 10 problems say enough; the file is moved aside whole. */
  stmt = store_prepare (self, "PRAGMA quick_check (10)", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *line = (const char *) sqlite3_column_text (stmt, 0);

      if (line == NULL || g_str_equal (line, "ok"))
        continue;
      g_string_append_printf (found, "%s%s", found->len > 0 ? "; " : "", line);
    }
  if (rc != SQLITE_DONE)
    return store_set_db_error (self, error, "integrity check failed");
  if (found->len > 0)
    {
      if (!self->corrupt)
        g_warning ("%s: the database is damaged (integrity check: %s)", self->path, found->str);
      self->corrupt = TRUE;
      g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: integrity check: %s", self->path,
                   found->str);
      return FALSE;
    }
  return TRUE;
}

/* Moving aside */

static gboolean
rename_aside (const char *from, const char *to, GError **error)
{
  if (g_rename (from, to) == 0 || errno == ENOENT)
    return TRUE;
  {
    int saved_errno = errno;
    g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: cannot move the damaged database to %s: %s",
                 from, to, g_strerror (saved_errno));
  }
  return FALSE;
}

/* Renames @path and its -wal and -shm to @path.corrupt-STAMP (and
 * -STAMP-wal, -STAMP-shm, so that SQLite finds them together); returns the
 * new name of @path. The file must be closed. */
static char *
move_aside (const char *path, GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%S");
  g_autofree char *target = g_strdup_printf ("%s.corrupt-%s", path, stamp);
  static const char *const suffixes[] = { "-wal", "-shm" };

  /* Never over an earlier one: two damages in one second get -2, -3... */
  for (int n = 2; g_file_test (target, G_FILE_TEST_EXISTS); n++)
    {
      g_free (target);
      target = g_strdup_printf ("%s.corrupt-%s-%d", path, stamp, n);
    }
  /* The -wal first: a database file without its log looks older, never
   * damaged further. */
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (path, suffixes[i], NULL);
      g_autofree char *to = g_strconcat (target, suffixes[i], NULL);
      if (!rename_aside (from, to, error))
        return NULL;
    }
  if (g_rename (path, target) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, DR_ERROR, DR_ERROR_STORE,
                   "%s: cannot move the damaged database to %s: %s", path, target,
                   g_strerror (saved_errno));
      return NULL;
    }
  return g_steal_pointer (&target);
}

/* The people, the notification choices, rollers and open sessions of the damaged database, in the
 * fresh one under the same ids, so that the daemon's objects go on
 * writing. */
static gboolean
carry_over (DrStore *fresh, GHashTable *people, int64_t default_person, int64_t people_seq,
            GHashTable *notify_choices, GHashTable *rollers, GHashTable *open_sessions,
            GError **error)
{
  g_autoptr (sqlite3_stmt) roller = NULL;
  g_autoptr (sqlite3_stmt) session = NULL;
  GHashTableIter iter;
  gpointer value;

  roller = store_prepare (
      fresh, "INSERT INTO rollers (id, address, name, paired, person_id) VALUES (?, ?, ?, ?, ?)",
      error);
  /* A session is its roller's person's: switching person ends it. */
  session = store_prepare (fresh,
                           "INSERT INTO sessions (id, roller_id, start_ms, needle_length_um,"
                           "  head_id, person_id)"
                           " VALUES (?1, ?2, ?3, ?4, ?5,"
                           "  (SELECT person_id FROM rollers WHERE id = ?2))",
                           error);
  if (roller == NULL || session == NULL || !dr_store_begin (fresh, error))
    return FALSE;
  if (!store_carry_over_people (fresh, people, default_person, people_seq, error)
      || !store_carry_over_settings (fresh, notify_choices, error))
    goto fail;
  g_hash_table_iter_init (&iter, rollers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      DrStoreRoller *r = value;

      sqlite3_bind_int64 (roller, 1, r->id);
      sqlite3_bind_text (roller, 2, r->address, -1, SQLITE_STATIC);
      sqlite3_bind_text (roller, 3, r->name, -1, SQLITE_STATIC);
      sqlite3_bind_int (roller, 4, r->paired ? 1 : 0);
      sqlite3_bind_int64 (
          roller, 5, g_hash_table_contains (people, &r->person_id) ? r->person_id : default_person);
      if (!store_step_done (fresh, roller, "cannot store roller", error))
        goto fail;
      store_remember_roller (fresh, r->id, r->address, r->name, r->paired);
      store_remember_roller_person (fresh, r->id, r->person_id);
    }
  g_hash_table_iter_init (&iter, open_sessions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      StoreOpenSession *s = value;

      sqlite3_bind_int64 (session, 1, (sqlite3_int64) s->id);
      sqlite3_bind_int64 (session, 2, s->roller_id);
      sqlite3_bind_int64 (session, 3, s->start_ms);
      sqlite3_bind_int (session, 4, s->needle_length_um);
      sqlite3_bind_int64 (session, 5, s->head_id);
      if (!store_step_done (fresh, session, "cannot store session", error))
        goto fail;
      store_remember_session (fresh, s);
    }
  return dr_store_commit (fresh, TRUE, error);

fail:
  dr_store_rollback (fresh);
  return FALSE;
}

DrStore *
dr_store_replace_damaged (DrStore *self, char **moved_to, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *target = NULL;
  g_autoptr (GHashTable) rollers = NULL;
  g_autoptr (GHashTable) open_sessions = NULL;
  g_autoptr (GHashTable) people = NULL;
  g_autoptr (GHashTable) notify_choices = NULL;
  int64_t default_person, people_seq;
  g_autoptr (GPtrArray) rollers_read = NULL;
  g_autoptr (DrStore) fresh = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  path = g_strdup (self->path);
  /* The rollers the damaged file can still tell, with those this
   * connection met. */
  dr_store_rollback (self);
  rollers_read = dr_store_list_rollers (self, NULL);
  rollers = g_steal_pointer (&self->rollers);
  open_sessions = g_steal_pointer (&self->open_sessions);
  people = g_steal_pointer (&self->people);
  notify_choices = g_steal_pointer (&self->notify_choices);
  default_person = self->default_person;
  people_seq = self->people_seq;
  /* Closed without a checkpoint: the file stays as it was found. */
  self->corrupt = TRUE;
  dr_store_free (self);

  target = move_aside (path, error);
  if (target == NULL)
    return NULL;
  fresh = dr_store_open (path, error);
  if (fresh == NULL
      || !carry_over (fresh, people, default_person, people_seq, notify_choices, rollers,
                      open_sessions, error))
    return NULL;
  if (moved_to != NULL)
    *moved_to = g_steal_pointer (&target);
  return g_steal_pointer (&fresh);
}

/* Telling ours from others' at start */

/* The frames table as our schema writes it into sqlite_master, found in
 * the file even when the header is garbage. */
static const char our_schema_mark[]
    = "CREATE TABLE frames (  id INTEGER PRIMARY KEY,  roller_id INTEGER NOT NULL "
      "REFERENCES rollers (id)";

typedef enum
{
  FILE_OURS,
  FILE_TEXT,
  FILE_OTHER_SQLITE,
  FILE_UNKNOWN,
} FileKind;

static FileKind
classify_file (const char *path)
{
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (path, FALSE, NULL);
  const char *data;
  gsize len;

  if (mapped == NULL)
    return FILE_UNKNOWN;
  data = g_mapped_file_get_contents (mapped);
  len = g_mapped_file_get_length (mapped);
  if (len >= 72 && memcmp (data, "SQLite format 3", 16) == 0)
    {
      /* PRAGMA application_id, big-endian at offset 68: "DRLL". */
      if (memcmp (data + 68, "DRLL", 4) == 0)
        return FILE_OURS;
    }
  if (len > 0 && memmem (data, len, our_schema_mark, sizeof our_schema_mark - 1) != NULL)
    return FILE_OURS;
  if (len >= 16 && memcmp (data, "SQLite format 3", 16) == 0)
    return FILE_OTHER_SQLITE;
  if (len > 0 && memchr (data, '\0', len) == NULL && g_utf8_validate (data, (gssize) len, NULL))
    return FILE_TEXT;
  return FILE_UNKNOWN;
}

DrStore *
dr_store_open_or_replace (const char *path, char **moved_to, char **damage, GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean damaged = FALSE;
  DrStore *store;

  g_return_val_if_fail (path != NULL, NULL);

  store = store_open (path, &damaged, &local);
  if (store != NULL)
    return store;
  if (damaged)
    {
      switch (classify_file (path))
        {
          case FILE_OURS:
            {
              g_autofree char *target = NULL;
              g_autoptr (DrStore) fresh = NULL;

              target = move_aside (path, error);
              if (target == NULL)
                return NULL;
              fresh = dr_store_open (path, error);
              if (fresh == NULL)
                return NULL;
              g_warning ("%s: the database is damaged (%s); moved it to %s and started a fresh "
                         "one (dermarolld --salvage %s recovers its readable frames)",
                         path, local->message, target, target);
              if (damage != NULL)
                *damage = g_strdup (local->message);
              if (moved_to != NULL)
                *moved_to = g_steal_pointer (&target);
              return g_steal_pointer (&fresh);
            }
          case FILE_TEXT:
            g_set_error (error, DR_ERROR, DR_ERROR_STORE,
                         "%s: a text file, not a dermaroll database; refusing to touch it (move "
                         "it away, or choose another file with --db)",
                         path);
            return NULL;
          case FILE_OTHER_SQLITE:
          case FILE_UNKNOWN:
          default:
            g_set_error (error, DR_ERROR, DR_ERROR_STORE,
                         "%s: not a dermaroll database (%s); refusing to touch it (move it "
                         "away, or choose another file with --db)",
                         path, local->message);
            return NULL;
        }
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return NULL;
}

/* Salvage */

/* A copy to read from: opening a database can write (WAL recovery, the
 * -shm file), and the damaged file must stay as it is. */
static char *
copy_for_reading (const char *path, char **tmpdir, GError **error)
{
  g_autofree char *dir = g_dir_make_tmp ("dermaroll-salvage-XXXXXX", error);
  g_autofree char *copy = NULL;
  static const char *const suffixes[] = { "", "-wal" };

  if (dir == NULL)
    return NULL;
  copy = g_build_filename (dir, "damaged.db", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (path, suffixes[i], NULL);
      g_autofree char *to = g_strconcat (copy, suffixes[i], NULL);
      g_autofree char *contents = NULL;
      gsize len;
      g_autoptr (GError) local = NULL;

      if (!g_file_get_contents (from, &contents, &len, &local))
        {
          if (i > 0 && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            continue;
          g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s", local->message);
          g_rmdir (dir);
          return NULL;
        }
      if (!g_file_set_contents_full (to, contents, (gssize) len, G_FILE_SET_CONTENTS_NONE, 0600,
                                     &local))
        {
          g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s", local->message);
          return NULL;
        }
    }
  *tmpdir = g_steal_pointer (&dir);
  return g_steal_pointer (&copy);
}

static void
remove_copy (const char *dir)
{
  static const char *const names[]
      = { "damaged.db", "damaged.db-wal", "damaged.db-shm", "damaged.db-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *file = g_build_filename (dir, names[i], NULL);
      g_unlink (file);
    }
  g_rmdir (dir);
}

typedef struct
{
  char *address;
  char *name;
  DrHeadInfo head;
  gboolean has_head;
} SalvageRoller;

static void
salvage_roller_free (gpointer data)
{
  SalvageRoller *roller = data;
  g_free (roller->address);
  g_free (roller->name);
  g_free (roller);
}

/* Each roller's address by id, and the head of its latest session, as far
 * as those tables are readable. */
static GHashTable *
read_rollers (sqlite3 *db)
{
  GHashTable *rollers
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, salvage_roller_free);
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT id, address, name FROM rollers ORDER BY id", -1, &stmt, NULL)
      == SQLITE_OK)
    {
      while (sqlite3_step (stmt) == SQLITE_ROW)
        {
          const char *address = (const char *) sqlite3_column_text (stmt, 1);
          const char *name = (const char *) sqlite3_column_text (stmt, 2);
          gint64 id = sqlite3_column_int64 (stmt, 0);
          SalvageRoller *roller;

          if (address == NULL)
            continue;
          roller = g_new0 (SalvageRoller, 1);
          roller->address = g_strdup (address);
          roller->name = g_strdup (name ? name : "");
          g_hash_table_insert (rollers, g_memdup2 (&id, sizeof id), roller);
        }
    }
  sqlite3_finalize (stmt);
  stmt = NULL;
  if (sqlite3_prepare_v2 (db,
                          "SELECT s.roller_id, h.head_id, h.needle_length_um, h.needle_count,"
                          "  h.drum_diameter_10um, h.drum_width_10um, h.ticks_per_rev"
                          " FROM sessions s JOIN heads h ON h.head_id = s.head_id"
                          " ORDER BY s.start_ms",
                          -1, &stmt, NULL)
      == SQLITE_OK)
    {
      while (sqlite3_step (stmt) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (stmt, 0);
          SalvageRoller *roller = g_hash_table_lookup (rollers, &id);

          if (roller == NULL || sqlite3_column_int (stmt, 6) == 0)
            continue;
          roller->head.head_id = (uint32_t) sqlite3_column_int64 (stmt, 1);
          roller->head.needle_length_um = (uint16_t) sqlite3_column_int (stmt, 2);
          roller->head.needle_count = (uint16_t) sqlite3_column_int (stmt, 3);
          roller->head.drum_diameter_10um = (uint16_t) sqlite3_column_int (stmt, 4);
          roller->head.drum_width_10um = (uint16_t) sqlite3_column_int (stmt, 5);
          roller->head.ticks_per_rev = (uint16_t) sqlite3_column_int (stmt, 6);
          roller->has_head = TRUE;
        }
    }
  sqlite3_finalize (stmt);
  return rollers;
}

gboolean
dr_store_salvage_frames (const char *path, DrStoreSalvageFunc func, gpointer user_data,
                         uint64_t *n_unreadable, GError **error)
{
  g_autofree char *tmpdir = NULL;
  g_autofree char *copy = NULL;
  g_autoptr (GHashTable) rollers = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *scan = NULL;
  int64_t next_id = 1, bound = 0, page_count = 0, page_size = 0;
  uint64_t unreadable = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (path != NULL && func != NULL, FALSE);

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: no such file", path);
      return FALSE;
    }
  copy = copy_for_reading (path, &tmpdir, error);
  if (copy == NULL)
    return FALSE;
  if (sqlite3_open_v2 (copy, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: cannot open: %s", path,
                   db ? sqlite3_errmsg (db) : "out of memory");
      goto out;
    }
  if (sqlite3_prepare_v2 (db,
                          "SELECT id, roller_id, received_ms, raw FROM frames WHERE id >= ?"
                          " ORDER BY id",
                          -1, &scan, NULL)
      != SQLITE_OK)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_STORE,
                   "%s: no frames table can be read (%s): nothing to salvage", path,
                   sqlite3_errmsg (db));
      goto out;
    }
  rollers = read_rollers (db);

  /* Row ids are not known past a damaged page: no row can be beyond the
   * largest id, or, when that is unreadable too, beyond one row per 8
   * bytes of the file. */
  {
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, "SELECT max(id) FROM frames", -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step (stmt) == SQLITE_ROW)
      bound = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    if (sqlite3_prepare_v2 (db, "PRAGMA page_count", -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step (stmt) == SQLITE_ROW)
      page_count = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    if (sqlite3_prepare_v2 (db, "PRAGMA page_size", -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step (stmt) == SQLITE_ROW)
      page_size = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    if (bound <= 0)
      bound = page_count * page_size / 8;
  }

  /* Row by row in id order; where a page errors, go on one id further
   * (seeking the id itself: the seek lands past the damaged page once the
   * id is beyond it). */
  while (next_id <= bound || bound <= 0)
    {
      int rc;

      sqlite3_reset (scan);
      sqlite3_bind_int64 (scan, 1, next_id);
      while ((rc = sqlite3_step (scan)) == SQLITE_ROW)
        {
          int64_t id = sqlite3_column_int64 (scan, 0);
          int64_t roller_id = sqlite3_column_int64 (scan, 1);
          SalvageRoller *roller = g_hash_table_lookup (rollers, &roller_id);
          g_autofree char *fallback = NULL;

          if (id < next_id)
            break; /* a damaged page can send the scan back */
          next_id = id + 1;
          if (sqlite3_column_type (scan, 3) != SQLITE_BLOB)
            {
              unreadable++;
              continue;
            }
          if (roller == NULL)
            fallback = g_strdup_printf ("salvaged-roller-%" G_GINT64_FORMAT, roller_id);
          if (!func (roller ? roller->address : fallback, roller ? roller->name : "",
                     roller && roller->has_head ? &roller->head : NULL,
                     sqlite3_column_blob (scan, 3), (size_t) sqlite3_column_bytes (scan, 3),
                     sqlite3_column_int64 (scan, 2), user_data))
            {
              g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: salvage stopped", path);
              goto out;
            }
        }
      if (rc == SQLITE_DONE)
        break;
      /* Past the damage, if there is anything past it. */
      next_id++;
      unreadable++;
      if (bound <= 0)
        break;
    }
  if (n_unreadable != NULL)
    *n_unreadable = unreadable;
  ok = TRUE;

out:
  sqlite3_finalize (scan);
  sqlite3_close (db);
  if (tmpdir != NULL)
    remove_copy (tmpdir);
  return ok;
}
