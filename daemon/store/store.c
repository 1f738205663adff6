/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store.c: the connection: opening, closing and transactions.
 *
 * One connection, used from one thread at a time. Opening creates the
 * file privately, checks it is ours, configures WAL, migrates the schema
 * (store-schema.c), closes what a crash left open (store-sessions.c) and
 * caches the hot path's statements. The other parts of the store each own
 * their tables: store-frames.c, store-sessions.c, store-queries.c,
 * store-rollers.c, store-people.c, store-settings.c; store-damage.c deals with a damaged
 * file. They share the statement helpers below through store-private.h;
 * the error helper is where any statement's SQLITE_CORRUPT is noticed.
 */
#include "store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dr-error.h"

/* What the write-ahead log may take on disk. SQLite's default checkpoints
 * it at 1000 pages (4 MiB) and never shrinks the file: on a small disk the
 * log alone could fill it and keep it full. */
#define WAL_LIMIT_BYTES (1024 * 1024)

/* Errors */

gboolean
store_set_db_error (DrStore *self, GError **error, const char *what)
{
  int rc = sqlite3_errcode (self->db) & 0xff;

  /* Whatever statement meets the damage, the file is not written again. */
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
    {
      if (!self->corrupt)
        g_warning ("%s: the database is damaged (%s: %s)", self->path, what,
                   sqlite3_errmsg (self->db));
      self->corrupt = TRUE;
    }
  g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: %s: %s", self->path, what,
               sqlite3_errmsg (self->db));
  return FALSE;
}

gboolean
store_no_session_error (GError **error, uint64_t session_id)
{
  g_set_error (error, DR_ERROR, DR_ERROR_NOT_FOUND, "no session %" G_GUINT64_FORMAT, session_id);
  return FALSE;
}

gboolean
store_no_roller_error (GError **error, int64_t roller_id)
{
  g_set_error (error, DR_ERROR, DR_ERROR_NOT_FOUND, "no roller %" G_GINT64_FORMAT, roller_id);
  return FALSE;
}

/* Statements */

/* One body for both kinds of statement: sqlite3_prepare_v3 () with no
 * flags is sqlite3_prepare_v2 (). */
static sqlite3_stmt *
prepare_with_flags (DrStore *self, const char *sql, unsigned int flags, GError **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v3 (self->db, sql, -1, flags, &stmt, NULL) != SQLITE_OK)
    {
      store_set_db_error (self, error, "cannot prepare statement");
      return NULL;
    }
  return stmt;
}

/* For a statement used once and finalized. */
sqlite3_stmt *
store_prepare (DrStore *self, const char *sql, GError **error)
{
  return prepare_with_flags (self, sql, 0, error);
}

/* For a statement cached for the store's lifetime. */
sqlite3_stmt *
store_prepare_persistent (DrStore *self, const char *sql, GError **error)
{
  return prepare_with_flags (self, sql, SQLITE_PREPARE_PERSISTENT, error);
}

/* Runs a statement that returns no rows and resets it, so cached
 * statements are ready for the next call. */
gboolean
store_step_done (DrStore *self, sqlite3_stmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    {
      /* The message belongs to the failed step: read it before reset. */
      store_set_db_error (self, error, what);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* Steps a query that returns at most one row: TRUE with *has_row set, or
 * FALSE on error. */
gboolean
store_step_row (DrStore *self, sqlite3_stmt *stmt, gboolean *has_row, const char *what,
                GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    {
      *has_row = rc == SQLITE_ROW;
      return TRUE;
    }
  return store_set_db_error (self, error, what);
}

gboolean
store_exec (DrStore *self, const char *sql, const char *what, GError **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return store_set_db_error (self, error, what);
  return TRUE;
}

gboolean
store_query_int (DrStore *self, const char *sql, int64_t *value, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = store_prepare (self, sql, error);
  gboolean has_row;

  if (stmt == NULL || !store_step_row (self, stmt, &has_row, "cannot read", error))
    return FALSE;
  *value = has_row ? sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}

/* Path */

char *
dr_store_default_path (void)
{
  const char *state_directory = g_getenv ("STATE_DIRECTORY");
  const char *xdg_state_home = g_getenv ("XDG_STATE_HOME");

  /* systemd joins several StateDirectory= entries with ':'; ours is the first. */
  if (state_directory != NULL && state_directory[0] != '\0')
    {
      g_auto (GStrv) dirs = g_strsplit (state_directory, ":", 2);
      return g_build_filename (dirs[0], "dermaroll.db", NULL);
    }
  /* The XDG spec says to ignore a relative XDG_STATE_HOME. */
  if (xdg_state_home != NULL && g_path_is_absolute (xdg_state_home))
    return g_build_filename (xdg_state_home, "dermaroll", "dermaroll.db", NULL);
  return g_build_filename (g_get_home_dir (), ".local", "state", "dermaroll", "dermaroll.db", NULL);
}

/* Opening */

/* What already exists is the owner's and is never chmod-ed behind their
 * back; but health data that other users may reach is said out loud, with
 * what to do about it. */
static void
warn_if_not_private (const char *what, const char *path, mode_t private_mode)
{
  struct stat st;

  if (stat (path, &st) != 0 || (st.st_mode & 077) == 0)
    return;
  g_warning ("%s %s is open to other users (mode %04o, not %04o); leaving it as it is. "
             "To keep the treatment data private: chmod %o %s",
             what, path, (unsigned int) (st.st_mode & 07777), (unsigned int) private_mode,
             (unsigned int) private_mode, path);
}

/* Personal health data: the directory is 0700 and the file 0600 from the
 * moment they exist, whatever the umask. What already exists is the
 * owner's choice and is left as it is, with a warning when it is open to
 * others. */
static gboolean
create_private_file (const char *path, gboolean *existed, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd;

  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    warn_if_not_private ("database directory", dir, 0700);
  else
    {
      if (g_mkdir_with_parents (dir, 0700) != 0 || chmod (dir, 0700) != 0)
        {
          int saved_errno = errno;
          g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: cannot create directory %s: %s", path,
                       dir, g_strerror (saved_errno));
          return FALSE;
        }
    }

  fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  *existed = fd < 0 && errno == EEXIST;
  if (*existed)
    /* cppcheck-suppress resourceLeak ; fd < 0 here: *existed means open () failed */
    return TRUE;
  if (fd < 0 || fchmod (fd, 0600) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: cannot create database file: %s", path,
                   g_strerror (saved_errno));
      if (fd >= 0)
        close (fd);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* The log is checkpointed once it holds WAL_LIMIT_BYTES, and cut back to
 * that size when it starts over after a checkpoint. */
static gboolean
configure_wal_limit (DrStore *self, GError **error)
{
  int64_t page_size = 0;

  if (!store_query_int (self, "PRAGMA page_size", &page_size, error))
    return FALSE;
  if (page_size <= 0)
    page_size = 4096;
  if (sqlite3_wal_autocheckpoint (self->db, (int) (WAL_LIMIT_BYTES / page_size)) != SQLITE_OK)
    return store_set_db_error (self, error, "cannot set the checkpoint threshold");
  /* It answers with a row, the limit set. */
  /* WAL_LIMIT_BYTES, written out: SQL is constant text (tests/check-sql-binding.py). */
  G_STATIC_ASSERT (WAL_LIMIT_BYTES == 1048576);
  return store_exec (self, "PRAGMA journal_size_limit = 1048576",
                     "cannot limit the write-ahead log", error);
}

static gboolean
configure (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  /* WAL: readers never block the writer and a commit is one append. Some
   * file systems (network ones) cannot do WAL; SQLite then keeps its
   * rollback journal and says so in the result. */
  stmt = store_prepare (self, "PRAGMA journal_mode = WAL", error);
  if (stmt == NULL || !store_step_row (self, stmt, &has_row, "cannot set journal mode", error))
    return FALSE;
  self->wal
      = has_row && g_ascii_strcasecmp ((const char *) sqlite3_column_text (stmt, 0), "wal") == 0;
  if (!self->wal)
    g_warning ("%s: the file system does not support WAL; every commit will be fsynced",
               self->path);

  if (self->wal && !configure_wal_limit (self, error))
    return FALSE;
  return store_exec (self, self->wal ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL",
                     "cannot set synchronous", error)
         && store_exec (self, "PRAGMA foreign_keys = ON", "cannot enable foreign keys", error);
}

/* @damaged: set when what failed was SQLite finding the file damaged or
 * not a database (SQLITE_CORRUPT, SQLITE_NOTADB). */
DrStore *
store_open (const char *path, gboolean *damaged, GError **error)
{
  g_autoptr (DrStore) self = NULL;
  int64_t version = 0;
  gboolean existed = FALSE;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!create_private_file (path, &existed, error))
    return NULL;

  self = g_new0 (DrStore, 1);
  self->path = g_strdup (path);
  self->rollers = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                         (GDestroyNotify) dr_store_roller_free);
  self->open_sessions = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  self->people = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, store_person_free);
  self->notify_choices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* Only the file we just made (or the one there) is opened: no
   * SQLITE_OPEN_CREATE, so the 0600 file cannot be raced by SQLite's 0644. */
  rc = sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: cannot open: %s", path,
                   self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, 5000);

  if (!store_check_identity (self, &version, error))
    goto fail;
  /* Only once it is known to be ours: another application's file is
   * refused, not lectured about. */
  if (existed)
    warn_if_not_private ("database", path, 0600);
  if (!configure (self, error) || !store_migrate (self, error) || !store_load_people (self, error)
      || !store_load_settings (self, error) || !store_close_open_sessions (self, error)
      || !store_prepare_frame_statements (self, error))
    goto fail;
  self->savepoint = store_prepare_persistent (self, "SAVEPOINT job", error);
  self->release = store_prepare_persistent (self, "RELEASE job", error);
  self->rollback_to = store_prepare_persistent (self, "ROLLBACK TO job", error);
  if (self->savepoint == NULL || self->release == NULL || self->rollback_to == NULL)
    goto fail;

  return g_steal_pointer (&self);

fail:
  if (damaged != NULL)
    {
      int code = sqlite3_errcode (self->db) & 0xff;
      *damaged = self->corrupt || code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
    }
  /* Nothing of a failed open may be checkpointed into the file. */
  self->corrupt = TRUE;
  return NULL;
}

DrStore *
dr_store_open (const char *path, GError **error)
{
  return store_open (path, NULL, error);
}

DrStore *
dr_store_open_reader (const char *path, GError **error)
{
  g_autoptr (DrStore) self = NULL;
  int64_t version = 0;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_new0 (DrStore, 1);
  self->path = g_strdup (path);
  rc = sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: cannot open to read: %s", path,
                   self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, 5000);
  /* One pass over the frames, each page read once: a cache would only
   * hold pages it never reads again (SQLite's default is 2 MiB). */
  if (!store_check_identity (self, &version, error)
      || !store_exec (self, "PRAGMA cache_size = -256", "cannot set the cache size", error))
    return NULL;
  return g_steal_pointer (&self);
}

void
dr_store_free (DrStore *self)
{
  if (self == NULL)
    return;
  sqlite3_finalize (self->insert_frame);
  sqlite3_finalize (self->insert_malformed);
  sqlite3_finalize (self->count_malformed);
  sqlite3_finalize (self->drop_malformed);
  sqlite3_finalize (self->count_dropped);
  sqlite3_finalize (self->savepoint);
  sqlite3_finalize (self->release);
  sqlite3_finalize (self->rollback_to);
  /* A damaged file is left exactly as it is: no checkpoint on close. */
  if (self->db != NULL && self->corrupt)
    sqlite3_db_config (self->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  /* An open transaction is rolled back: only what was committed counts. */
  if (self->db != NULL && sqlite3_close (self->db) != SQLITE_OK)
    g_warning ("%s: cannot close: %s", self->path, sqlite3_errmsg (self->db));
  g_clear_pointer (&self->rollers, g_hash_table_unref);
  g_clear_pointer (&self->open_sessions, g_hash_table_unref);
  g_clear_pointer (&self->people, g_hash_table_unref);
  g_clear_pointer (&self->notify_choices, g_hash_table_unref);
  g_free (self->path);
  g_free (self);
}

const char *
dr_store_get_path (DrStore *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

gboolean
dr_store_split_refusal (GError *local, GError **refusal, GError **error)
{
  g_return_val_if_fail (local != NULL, FALSE);

  if (local->domain == DR_ERROR && local->code != DR_ERROR_STORE)
    {
      /* A job run again after its batch was rolled back refuses again. */
      if (refusal != NULL)
        g_clear_error (refusal);
      g_propagate_error (refusal, local);
      return TRUE;
    }
  g_propagate_error (error, local);
  return FALSE;
}

gboolean
dr_store_exec (DrStore *self, const char *sql, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);
  return store_exec (self, sql, "cannot execute", error);
}

/* Transactions */

gboolean
dr_store_begin (DrStore *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (dr_store_in_transaction (self))
    return TRUE;
  /* IMMEDIATE takes the write lock now, so a write inside the batch never
   * fails half-way on a lock another connection holds. */
  return store_exec (self, "BEGIN IMMEDIATE", "cannot begin transaction", error);
}

/* In WAL mode with synchronous=NORMAL a COMMIT appends the transaction's
 * pages to the -wal file with write(2) but does not fsync it: the commit is
 * atomic and consistent, but a power cut may lose it. synchronous=FULL would
 * differ in exactly one thing, an fsync of the -wal file right after the
 * commit's frames are written, and SQLite refuses to change synchronous
 * inside a transaction ("Safety level may not be changed inside a
 * transaction", checked on 3.40). So a durable commit commits and then does
 * that very fsync itself, through the -wal file's own VFS handle
 * (SQLITE_FCNTL_JOURNAL_POINTER), which also fsyncs the directory the first
 * time, as SQLite does for a new -wal file. WAL frames are checksummed and
 * chained, and recovery keeps every frame up to the last valid commit
 * frame: once the file is synced the commit survives. Frames a checkpoint
 * already moved into the database file were synced there by the checkpoint
 * (with synchronous=NORMAL a checkpoint syncs both files), and the -wal file
 * is only rewritten from the start after such a checkpoint. As fsync is per
 * file, this also makes every earlier non-durable commit durable. */
gboolean
dr_store_sync (DrStore *self, GError **error)
{
  sqlite3_file *wal = NULL;
  int rc;

  if (!self->wal)
    return TRUE; /* synchronous=FULL: COMMIT synced the journal and the database */
  rc = sqlite3_file_control (self->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
  if (rc != SQLITE_OK || wal == NULL || wal->pMethods == NULL)
    return TRUE; /* no -wal file open: nothing was written since the last checkpoint */
  rc = wal->pMethods->xSync (wal, SQLITE_SYNC_NORMAL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: cannot sync the write-ahead log: %s",
                   self->path, sqlite3_errstr (rc));
      return FALSE;
    }
  return TRUE;
}

gboolean
dr_store_checkpoint (DrStore *self, GError **error)
{
  int rc;
  int log_frames = 0;
  int checkpointed = 0;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!self->wal)
    return TRUE;
  if (dr_store_in_transaction (self))
    {
      g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: cannot checkpoint inside a transaction",
                   self->path);
      return FALSE;
    }
  rc = sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                  &checkpointed);
  if (rc != SQLITE_OK)
    return store_set_db_error (self, error, "cannot checkpoint the write-ahead log");
  return TRUE;
}

gboolean
dr_store_commit (DrStore *self, gboolean durable, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (dr_store_in_transaction (self)
      && sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      store_set_db_error (self, error, "cannot commit");
      /* A failed COMMIT can leave the transaction open (SQLITE_BUSY);
       * roll it back so that the next begin starts clean. What earlier
       * commits stored is untouched. */
      if (dr_store_in_transaction (self))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return !durable || dr_store_sync (self, error);
}

gboolean
dr_store_in_transaction (DrStore *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return !sqlite3_get_autocommit (self->db);
}

void
dr_store_release_memory (DrStore *self)
{
  g_return_if_fail (self != NULL);
  sqlite3_db_release_memory (self->db);
}

gboolean
dr_store_rollback (DrStore *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (!dr_store_in_transaction (self))
    return TRUE;
  if (sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
    {
      g_warning ("%s: cannot roll back: %s", self->path, sqlite3_errmsg (self->db));
      return FALSE;
    }
  return TRUE;
}

gboolean
dr_store_savepoint (DrStore *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return store_step_done (self, self->savepoint, "cannot begin savepoint", error);
}

gboolean
dr_store_end_savepoint (DrStore *self, gboolean keep, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  /* ROLLBACK TO undoes the changes but leaves the savepoint open. */
  if (!keep && !store_step_done (self, self->rollback_to, "cannot roll back savepoint", error))
    return FALSE;
  return store_step_done (self, self->release, "cannot release savepoint", error);
}
