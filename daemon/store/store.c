/* store.c: dermaroll's SQLite database.
 *
 * One connection, used from one thread at a time. The hot path is
 * dr_store_add_frame (): its statements are prepared once and cached, and it
 * allocates nothing. Everything else prepares its statement when called.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dr-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* PRAGMA application_id: "DRLL". Tells our files from other SQLite files. */
#define DR_STORE_APPLICATION_ID 0x44524c4c
#define UNASSIGNED_ZONE_NAME "unassigned"
#define EXCLUDED_ZONE_PREFIX "excluded-zone:"

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
};

#define DR_STORE_SCHEMA_VERSION ((int) G_N_ELEMENTS (migrations))

struct _DrStore
{
  char *path;
  sqlite3 *db;
  /* FALSE when the file system refused WAL; then every commit runs with
   * synchronous=FULL and is durable by itself. */
  gboolean wal;
  sqlite3_stmt *insert_frame;
  sqlite3_stmt *insert_malformed;
  /* The worker runs every write job in a savepoint: cached, as jobs are
   * as frequent as frames. */
  sqlite3_stmt *savepoint;
  sqlite3_stmt *release;
  sqlite3_stmt *rollback_to;
};

/* Errors */

static gboolean
set_db_error (DrStore *self, GError **error, const char *what)
{
  g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: %s: %s", self->path, what,
               sqlite3_errmsg (self->db));
  return FALSE;
}

static gboolean
no_session_error (GError **error, uint64_t session_id)
{
  g_set_error (error, DR_ERROR, DR_ERROR_NOT_FOUND, "no session %" G_GUINT64_FORMAT, session_id);
  return FALSE;
}

static gboolean
no_roller_error (GError **error, int64_t roller_id)
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
      set_db_error (self, error, "cannot prepare statement");
      return NULL;
    }
  return stmt;
}

/* For a statement used once and finalized. */
static sqlite3_stmt *
prepare (DrStore *self, const char *sql, GError **error)
{
  return prepare_with_flags (self, sql, 0, error);
}

/* For a statement cached for the store's lifetime. */
static sqlite3_stmt *
prepare_persistent (DrStore *self, const char *sql, GError **error)
{
  return prepare_with_flags (self, sql, SQLITE_PREPARE_PERSISTENT, error);
}

/* Runs a statement that returns no rows and resets it, so cached
 * statements are ready for the next call. */
static gboolean
step_done (DrStore *self, sqlite3_stmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    {
      /* The message belongs to the failed step: read it before reset. */
      set_db_error (self, error, what);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* Steps a query that returns at most one row: TRUE with *has_row set, or
 * FALSE on error. */
static gboolean
step_row (DrStore *self, sqlite3_stmt *stmt, gboolean *has_row, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    {
      *has_row = rc == SQLITE_ROW;
      return TRUE;
    }
  return set_db_error (self, error, what);
}

static gboolean
exec (DrStore *self, const char *sql, const char *what, GError **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_db_error (self, error, what);
  return TRUE;
}

static gboolean
query_int (DrStore *self, const char *sql, int64_t *value, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = prepare (self, sql, error);
  gboolean has_row;

  if (stmt == NULL || !step_row (self, stmt, &has_row, "cannot read", error))
    return FALSE;
  *value = has_row ? sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}

static gboolean
session_exists (DrStore *self, uint64_t session_id, gboolean *exists, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = prepare (self, "SELECT 1 FROM sessions WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) session_id);
  return step_row (self, stmt, exists, "cannot read session", error);
}

static inline uint16_t
read_u16le (const uint8_t *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

static inline uint64_t
read_u64le (const uint8_t *p)
{
  uint64_t v = 0;

  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
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

/* Personal health data: the directory is 0700 and the file 0600 from the
 * moment they exist, whatever the umask. What already exists is the
 * owner's choice and is left as it is. */
static gboolean
create_private_file (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
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
  if (fd < 0 && errno == EEXIST)
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

/* Tells a dermaroll database (or an empty file) from anything else before
 * anything is written to it. */
static gboolean
check_identity (DrStore *self, int64_t *version, GError **error)
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
        set_db_error (self, error, "cannot read database");
      return FALSE;
    }
  if (!query_int (self, "PRAGMA application_id", &application_id, error)
      || !query_int (self, "PRAGMA user_version", version, error)
      || !query_int (self, "SELECT count(*) FROM sqlite_master", &n_objects, error))
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
               "application id 0x%08" G_GINT64_MODIFIER "x)",
               self->path, application_id);
  return FALSE;
}

static gboolean
migrate (DrStore *self, GError **error)
{
  int64_t version;

  /* IMMEDIATE: two daemons starting at once must not both migrate. */
  if (!exec (self, "BEGIN IMMEDIATE", "cannot begin migration", error))
    return FALSE;
  /* Read again under the write lock. */
  if (!query_int (self, "PRAGMA user_version", &version, error))
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
      if (!exec (self, migrations[v], what, error))
        goto fail;
    }
  if (version < DR_STORE_SCHEMA_VERSION)
    {
      g_autofree char *sql
          = g_strdup_printf ("PRAGMA application_id = %d; PRAGMA user_version = %d",
                             DR_STORE_APPLICATION_ID, DR_STORE_SCHEMA_VERSION);
      if (!exec (self, sql, "cannot set schema version", error))
        goto fail;
    }
  return dr_store_commit (self, TRUE, error);

fail:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

/* Time of the last sample of a raw well-formed frame. */
static int64_t
frame_end_ms (const uint8_t *raw, size_t len)
{
  DrFrame frame;
  int64_t t;

  if (dr_frame_decode (raw, len, &frame) != DR_CODEC_OK)
    return len >= 12 ? (int64_t) read_u64le (raw + 4) : 0;
  t = (int64_t) frame.t0_ms;
  for (unsigned i = 1; i < frame.n_samples; i++)
    t += frame.samples[i].dt_ms;
  return t;
}

/* A session the daemon did not close (it died, or the machine lost power)
 * ends at its roller's last stored frame before the next session, or at its
 * start when it has none; its stored totals stay as they are. Frames with
 * an unsynced clock are left out: their t0 counts from the roller's boot. */
static gboolean
close_open_sessions (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) open_sessions = NULL;
  g_autoptr (sqlite3_stmt) last_frame = NULL;
  g_autoptr (sqlite3_stmt) close_session = NULL;
  gboolean any = FALSE;
  int rc;

  open_sessions = prepare (self,
                           "SELECT s.id, s.roller_id, s.start_ms,"
                           "  (SELECT min(n.start_ms) FROM sessions n"
                           "   WHERE n.roller_id = s.roller_id AND n.start_ms > s.start_ms)"
                           " FROM sessions s WHERE s.end_ms IS NULL",
                           error);
  last_frame = prepare (self,
                        "SELECT raw FROM frames"
                        " WHERE roller_id = ?1 AND t0_ms >= ?2 AND t0_ms < ?3 AND (flags & ?4) = 0"
                        " ORDER BY t0_ms DESC, seq DESC LIMIT 1",
                        error);
  close_session = prepare (self, "UPDATE sessions SET end_ms = ?2 WHERE id = ?1", error);
  if (open_sessions == NULL || last_frame == NULL || close_session == NULL)
    return FALSE;

  while ((rc = sqlite3_step (open_sessions)) == SQLITE_ROW)
    {
      int64_t id = sqlite3_column_int64 (open_sessions, 0);
      int64_t start_ms = sqlite3_column_int64 (open_sessions, 2);
      int64_t end_ms = start_ms;
      gboolean has_row;

      if (!any && !dr_store_begin (self, error))
        return FALSE;
      any = TRUE;

      sqlite3_bind_int64 (last_frame, 1, sqlite3_column_int64 (open_sessions, 1));
      sqlite3_bind_int64 (last_frame, 2, start_ms);
      sqlite3_bind_int64 (last_frame, 3,
                          sqlite3_column_type (open_sessions, 3) == SQLITE_NULL
                              ? G_MAXINT64
                              : sqlite3_column_int64 (open_sessions, 3));
      sqlite3_bind_int (last_frame, 4, DR_FRAME_FLAG_CLOCK_UNSYNCED);
      if (!step_row (self, last_frame, &has_row, "cannot read frames", error))
        goto fail;
      if (has_row)
        end_ms = MAX (start_ms, frame_end_ms (sqlite3_column_blob (last_frame, 0),
                                              (size_t) sqlite3_column_bytes (last_frame, 0)));
      sqlite3_reset (last_frame);

      sqlite3_bind_int64 (close_session, 1, id);
      sqlite3_bind_int64 (close_session, 2, end_ms);
      if (!step_done (self, close_session, "cannot close session", error))
        goto fail;
      g_message ("%s: closed session %" G_GINT64_FORMAT " left open by a previous run", self->path,
                 id);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, "cannot read sessions");
      goto fail;
    }
  return !any || dr_store_commit (self, TRUE, error);

fail:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

static gboolean
configure (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  /* WAL: readers never block the writer and a commit is one append. Some
   * file systems (network ones) cannot do WAL; SQLite then keeps its
   * rollback journal and says so in the result. */
  stmt = prepare (self, "PRAGMA journal_mode = WAL", error);
  if (stmt == NULL || !step_row (self, stmt, &has_row, "cannot set journal mode", error))
    return FALSE;
  self->wal
      = has_row && g_ascii_strcasecmp ((const char *) sqlite3_column_text (stmt, 0), "wal") == 0;
  if (!self->wal)
    g_warning ("%s: the file system does not support WAL; every commit will be fsynced",
               self->path);

  return exec (self, self->wal ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL",
               "cannot set synchronous", error)
         && exec (self, "PRAGMA foreign_keys = ON", "cannot enable foreign keys", error);
}

DrStore *
dr_store_open (const char *path, GError **error)
{
  g_autoptr (DrStore) self = NULL;
  int64_t version = 0;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!create_private_file (path, error))
    return NULL;

  self = g_new0 (DrStore, 1);
  self->path = g_strdup (path);
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

  if (!check_identity (self, &version, error) || !configure (self, error) || !migrate (self, error)
      || !close_open_sessions (self, error))
    return NULL;

  self->insert_frame = prepare_persistent (self,
                                           "INSERT INTO frames"
                                           " (roller_id, t0_ms, seq, flags, received_ms, raw)"
                                           " VALUES (?, ?, ?, ?, ?, ?)"
                                           " ON CONFLICT (roller_id, t0_ms, seq) DO NOTHING",
                                           error);
  if (self->insert_frame == NULL)
    return NULL;
  self->insert_malformed = prepare_persistent (self,
                                               "INSERT INTO malformed_frames"
                                               " (roller_id, received_ms, reason, raw)"
                                               " VALUES (?, ?, ?, ?)",
                                               error);
  if (self->insert_malformed == NULL)
    return NULL;
  self->savepoint = prepare_persistent (self, "SAVEPOINT job", error);
  self->release = prepare_persistent (self, "RELEASE job", error);
  self->rollback_to = prepare_persistent (self, "ROLLBACK TO job", error);
  if (self->savepoint == NULL || self->release == NULL || self->rollback_to == NULL)
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
  sqlite3_finalize (self->savepoint);
  sqlite3_finalize (self->release);
  sqlite3_finalize (self->rollback_to);
  /* An open transaction is rolled back: only what was committed counts. */
  if (self->db != NULL && sqlite3_close (self->db) != SQLITE_OK)
    g_warning ("%s: cannot close: %s", self->path, sqlite3_errmsg (self->db));
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
dr_store_exec (DrStore *self, const char *sql, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);
  return exec (self, sql, "cannot execute", error);
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
  return exec (self, "BEGIN IMMEDIATE", "cannot begin transaction", error);
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
dr_store_commit (DrStore *self, gboolean durable, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (dr_store_in_transaction (self)
      && sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
      set_db_error (self, error, "cannot commit");
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
  return step_done (self, self->savepoint, "cannot begin savepoint", error);
}

gboolean
dr_store_end_savepoint (DrStore *self, gboolean keep, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  /* ROLLBACK TO undoes the changes but leaves the savepoint open. */
  if (!keep && !step_done (self, self->rollback_to, "cannot roll back savepoint", error))
    return FALSE;
  return step_done (self, self->release, "cannot release savepoint", error);
}

/* Rollers */

/* Runs an UPDATE of the roller @roller_id's row: NotFound, not a silent
 * no-op, when no roller has that id. */
static gboolean
step_roller_update (DrStore *self, sqlite3_stmt *stmt, int64_t roller_id, const char *what,
                    GError **error)
{
  if (!step_done (self, stmt, what, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    return no_roller_error (error, roller_id);
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
  upsert = prepare (self,
                    "INSERT INTO rollers (address, name) VALUES (?1, coalesce (?2, ''))"
                    " ON CONFLICT (address) DO UPDATE SET name = excluded.name"
                    " WHERE excluded.name <> '' AND excluded.name <> name",
                    error);
  select = prepare (self, "SELECT id FROM rollers WHERE address = ?", error);
  if (upsert == NULL || select == NULL)
    return FALSE;
  sqlite3_bind_text (upsert, 1, address, -1, SQLITE_STATIC);
  sqlite3_bind_text (upsert, 2, name, -1, SQLITE_STATIC);
  if (!step_done (self, upsert, "cannot store roller", error))
    return FALSE;
  sqlite3_bind_text (select, 1, address, -1, SQLITE_STATIC);
  if (!step_row (self, select, &has_row, "cannot read roller", error))
    return FALSE;
  g_assert (has_row);
  if (roller_id != NULL)
    *roller_id = sqlite3_column_int64 (select, 0);
  return TRUE;
}

gboolean
dr_store_set_roller_paired (DrStore *self, int64_t roller_id, gboolean paired, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  stmt = prepare (self, "UPDATE rollers SET paired = ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, paired ? 1 : 0);
  sqlite3_bind_int64 (stmt, 2, roller_id);
  return step_roller_update (self, stmt, roller_id, "cannot store roller", error);
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

  stmt = prepare (self, "SELECT id, address, name, paired FROM rollers ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  rollers = g_ptr_array_new_with_free_func ((GDestroyNotify) dr_store_roller_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrStoreRoller *roller = g_new0 (DrStoreRoller, 1);

      roller->id = sqlite3_column_int64 (stmt, 0);
      roller->address = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      roller->name = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      roller->paired = sqlite3_column_int (stmt, 3) != 0;
      g_ptr_array_add (rollers, roller);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, "cannot read rollers");
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
  sqlite3_stmt *stmt = prepare (self, sql, error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, head_id);
  if (!step_row (self, stmt, has_row, "cannot read head", error))
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

  stmt = prepare (self,
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
  return step_done (self, stmt, "cannot store head", error);
}

GHashTable *
dr_store_list_head_revolutions (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GHashTable) heads = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  stmt = prepare (self, "SELECT head_id, revolutions FROM heads", error);
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
      set_db_error (self, error, "cannot read heads");
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

/* Frames */

gboolean
dr_store_add_frame (DrStore *self, int64_t roller_id, int64_t received_ms, const uint8_t *raw,
                    size_t len, DrCodecStatus status, gboolean *inserted, GError **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (raw != NULL || len == 0, FALSE);
  g_return_val_if_fail (len <= G_MAXINT, FALSE);

  if (status == DR_CODEC_OK)
    {
      if (len < DR_FRAME_HEADER_LEN)
        {
          g_set_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                       "a well-formed frame has at least %d bytes, not %zu", DR_FRAME_HEADER_LEN,
                       len);
          return FALSE;
        }
      /* The header as PROTOCOL.md lays it out; the caller already decoded
       * the frame, so no second decode here. SQLITE_STATIC: the statement
       * is stepped and reset before @raw can go away. */
      stmt = self->insert_frame;
      sqlite3_bind_int64 (stmt, 1, roller_id);
      sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) read_u64le (raw + 4));
      sqlite3_bind_int (stmt, 3, read_u16le (raw + 2));
      sqlite3_bind_int (stmt, 4, raw[1]);
      sqlite3_bind_int64 (stmt, 5, received_ms);
      sqlite3_bind_blob (stmt, 6, raw, (int) len, SQLITE_STATIC);
      if (!step_done (self, stmt, "cannot store frame", error))
        return FALSE;
      if (inserted != NULL)
        *inserted = sqlite3_changes (self->db) > 0;
      return TRUE;
    }

  stmt = self->insert_malformed;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  sqlite3_bind_int64 (stmt, 2, received_ms);
  sqlite3_bind_text (stmt, 3, dr_codec_status_name (status), -1, SQLITE_STATIC);
  /* A zero-length blob must not be bound as NULL. */
  if (len == 0)
    sqlite3_bind_zeroblob (stmt, 4, 0);
  else
    sqlite3_bind_blob (stmt, 4, raw, (int) len, SQLITE_STATIC);
  if (!step_done (self, stmt, "cannot store malformed frame", error))
    return FALSE;
  if (inserted != NULL)
    *inserted = TRUE;
  return TRUE;
}

static gboolean
read_acked_key (DrStore *self, int64_t roller_id, int64_t *t0_ms, int *seq, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  stmt = prepare (self, "SELECT acked_t0_ms, acked_seq FROM rollers WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  if (!step_row (self, stmt, &has_row, "cannot read roller", error))
    return FALSE;
  if (!has_row)
    return no_roller_error (error, roller_id);
  if (sqlite3_column_type (stmt, 0) == SQLITE_NULL)
    {
      /* Nothing acked yet: everything sorts after this. */
      *t0_ms = G_MININT64;
      *seq = -1;
    }
  else
    {
      *t0_ms = sqlite3_column_int64 (stmt, 0);
      *seq = sqlite3_column_int (stmt, 1);
    }
  return TRUE;
}

GArray *
dr_store_unacked_frame_keys (DrStore *self, int64_t roller_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GArray) keys = NULL;
  int64_t acked_t0;
  int acked_seq;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  if (!read_acked_key (self, roller_id, &acked_t0, &acked_seq, error))
    return NULL;
  stmt = prepare (self,
                  "SELECT t0_ms, seq FROM frames"
                  " WHERE roller_id = ?1 AND (t0_ms, seq) > (?2, ?3)"
                  " ORDER BY t0_ms, seq",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  sqlite3_bind_int64 (stmt, 2, acked_t0);
  sqlite3_bind_int (stmt, 3, acked_seq);
  keys = g_array_new (FALSE, FALSE, sizeof (DrFrameKey));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrFrameKey key = {
        .t0_ms = (uint64_t) sqlite3_column_int64 (stmt, 0),
        .seq = (uint16_t) sqlite3_column_int (stmt, 1),
      };
      g_array_append_val (keys, key);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, "cannot read frames");
      return NULL;
    }
  return g_steal_pointer (&keys);
}

gboolean
dr_store_mark_acked (DrStore *self, int64_t roller_id, const DrFrameKey *key, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int64_t acked_t0;
  int acked_seq;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  /* Acks only move forward: a late ack for an older frame changes nothing. */
  stmt = prepare (self,
                  "UPDATE rollers SET acked_t0_ms = ?2, acked_seq = ?3"
                  " WHERE id = ?1 AND (acked_t0_ms IS NULL OR (acked_t0_ms, acked_seq) < (?2, ?3))",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) key->t0_ms);
  sqlite3_bind_int (stmt, 3, key->seq);
  if (!step_done (self, stmt, "cannot store ack", error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    return read_acked_key (self, roller_id, &acked_t0, &acked_seq, error);
  return TRUE;
}

gboolean
dr_store_frame_counts (DrStore *self, int64_t roller_id, DrStoreFrameCounts *counts, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (counts != NULL, FALSE);

  stmt = prepare (self,
                  "SELECT (SELECT count(*) FROM frames WHERE roller_id = ?1),"
                  "  (SELECT count(*) FROM malformed_frames WHERE roller_id = ?1),"
                  "  dropped_frames"
                  " FROM rollers WHERE id = ?1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  if (!step_row (self, stmt, &has_row, "cannot count frames", error))
    return FALSE;
  if (!has_row)
    return no_roller_error (error, roller_id);
  counts->frames = (uint64_t) sqlite3_column_int64 (stmt, 0);
  counts->malformed = (uint64_t) sqlite3_column_int64 (stmt, 1);
  counts->seq_gaps = (uint64_t) sqlite3_column_int64 (stmt, 2);
  return TRUE;
}

gboolean
dr_store_add_dropped (DrStore *self, int64_t roller_id, uint64_t frames, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  stmt = prepare (self, "UPDATE rollers SET dropped_frames = dropped_frames + ? WHERE id = ?",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) frames);
  sqlite3_bind_int64 (stmt, 2, roller_id);
  return step_roller_update (self, stmt, roller_id, "cannot store dropped frames", error);
}

gboolean
dr_store_foreach_frame (DrStore *self, int64_t roller_id, int64_t since_ms, int64_t until_ms,
                        DrStoreFrameFunc func, gpointer user_data, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  stmt = prepare (self,
                  "SELECT raw, received_ms FROM frames"
                  " WHERE roller_id = ? AND t0_ms >= ? AND t0_ms < ?"
                  " ORDER BY t0_ms, seq",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  sqlite3_bind_int64 (stmt, 2, since_ms);
  sqlite3_bind_int64 (stmt, 3, until_ms == 0 ? G_MAXINT64 : until_ms);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const uint8_t *raw = sqlite3_column_blob (stmt, 0);
      size_t len = (size_t) sqlite3_column_bytes (stmt, 0);

      if (!func (raw, len, sqlite3_column_int64 (stmt, 1), user_data))
        return TRUE;
    }
  if (rc != SQLITE_DONE)
    return set_db_error (self, error, "cannot read frames");
  return TRUE;
}

/* Samples of a session, decoded from its frames */

/* A frame holds at most 25 samples; at the slowest rate the roller allows
 * (1 Hz) its first sample is at most this long before a session sample. */
#define FRAME_SPAN_MAX_MS (25 * 1000)

typedef struct
{
  GArray *samples;
  int64_t start_ms;
  int64_t end_ms; /* inclusive; G_MAXINT64 while open */
} SampleCollector;

static gboolean
collect_samples (const uint8_t *raw, size_t len, int64_t received_ms, gpointer user_data)
{
  SampleCollector *c = user_data;
  DrFrame frame;
  int64_t t;

  if (dr_frame_decode (raw, len, &frame) != DR_CODEC_OK)
    return TRUE;
  t = (int64_t) frame.t0_ms;
  for (unsigned i = 0; i < frame.n_samples; i++)
    {
      const DrSample *sample = &frame.samples[i];
      if (i > 0)
        t += sample->dt_ms;
      if (t < c->start_ms || t > c->end_ms)
        continue;
      g_array_append_vals (c->samples,
                           &(DrStoreSample){ .time_ms = t,
                                             .ticks = sample->ticks,
                                             .force_mn = sample->force_mn,
                                             .zone = sample->zone },
                           1);
    }
  return TRUE;
}

GArray *
dr_store_session_samples (DrStore *self, uint64_t session_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (DrStoreSample));
  SampleCollector collector = { samples, 0, 0 };
  gboolean has_row;
  int64_t roller_id;

  g_return_val_if_fail (self != NULL, NULL);

  stmt = prepare (self, "SELECT roller_id, start_ms, end_ms FROM sessions WHERE id = ?", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) session_id);
  if (!step_row (self, stmt, &has_row, "cannot read session", error))
    return NULL;
  if (!has_row)
    {
      no_session_error (error, session_id);
      return NULL;
    }
  roller_id = sqlite3_column_int64 (stmt, 0);
  collector.start_ms = sqlite3_column_int64 (stmt, 1);
  collector.end_ms
      = sqlite3_column_type (stmt, 2) == SQLITE_NULL ? G_MAXINT64 : sqlite3_column_int64 (stmt, 2);
  /* Sample times are t0 plus the dts: the frame holding the first sample
   * may start before the session, never after its last sample. */
  if (!dr_store_foreach_frame (self, roller_id, collector.start_ms - FRAME_SPAN_MAX_MS,
                               collector.end_ms == G_MAXINT64 ? 0 : collector.end_ms + 1,
                               collect_samples, &collector, error))
    return NULL;
  return g_steal_pointer (&samples);
}

/* Sessions */

gboolean
dr_store_max_session_id (DrStore *self, uint64_t *id, GError **error)
{
  int64_t max_id;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if (!query_int (self, "SELECT coalesce (max (id), 0) FROM sessions", &max_id, error))
    return FALSE;
  *id = (uint64_t) max_id;
  return TRUE;
}

void
dr_store_release_memory (DrStore *self)
{
  g_return_if_fail (self != NULL);
  sqlite3_db_release_memory (self->db);
}

gboolean
dr_store_last_session (DrStore *self, int64_t roller_id, uint64_t *session_id, int64_t *start_ms,
                       int64_t *end_ms, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  g_return_val_if_fail (self != NULL, FALSE);

  *session_id = 0;
  *start_ms = *end_ms = 0;
  stmt = prepare (self,
                  "SELECT id, start_ms, coalesce (end_ms, 0) FROM sessions WHERE roller_id = ?"
                  " ORDER BY start_ms DESC, id DESC LIMIT 1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  if (!step_row (self, stmt, &has_row, "cannot read sessions", error))
    return FALSE;
  if (has_row)
    {
      *session_id = (uint64_t) sqlite3_column_int64 (stmt, 0);
      *start_ms = sqlite3_column_int64 (stmt, 1);
      *end_ms = sqlite3_column_int64 (stmt, 2);
    }
  return TRUE;
}

gboolean
dr_store_session_begin (DrStore *self, uint64_t session_id, int64_t roller_id, int64_t start_ms,
                        uint16_t needle_length_um, uint32_t head_id, GError **error)
{
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (sqlite3_stmt) count_head = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (session_id > 0 && session_id <= G_MAXINT64, FALSE);

  insert = prepare (self,
                    "INSERT INTO sessions (id, roller_id, start_ms, needle_length_um, head_id)"
                    " VALUES (?, ?, ?, ?, ?)",
                    error);
  /* The head may not have been stored yet (Head Info unread); count the
   * session anyway, its details come with dr_store_set_head (). */
  count_head = prepare (self,
                        "INSERT INTO heads (head_id, sessions) VALUES (?, 1)"
                        " ON CONFLICT (head_id) DO UPDATE SET sessions = sessions + 1",
                        error);
  if (insert == NULL || count_head == NULL)
    return FALSE;
  sqlite3_bind_int64 (insert, 1, (sqlite3_int64) session_id);
  sqlite3_bind_int64 (insert, 2, roller_id);
  sqlite3_bind_int64 (insert, 3, start_ms);
  sqlite3_bind_int (insert, 4, needle_length_um);
  sqlite3_bind_int64 (insert, 5, head_id);
  sqlite3_bind_int64 (count_head, 1, head_id);
  return step_done (self, insert, "cannot store session", error)
         && step_done (self, count_head, "cannot store head", error);
}

static const char *
zone_source_name (DrZoneSource source)
{
  switch (source)
    {
      case DR_ZONE_SOURCE_SENSOR:
        return "sensor";
      case DR_ZONE_SOURCE_USER:
        return "user";
      case DR_ZONE_SOURCE_NONE:
      default:
        return "none";
    }
}

static const char *
zone_name (const DrEngineConfig *config, int zone)
{
  const char *name;

  if (zone == DR_ZONE_UNASSIGNED)
    return UNASSIGNED_ZONE_NAME;
  name = dr_engine_config_zone_name (config, zone);
  return name != NULL && name[0] != '\0' ? name : NULL;
}

gboolean
dr_store_session_update (DrStore *self, uint64_t session_id, int64_t end_ms, double mean_coverage,
                         const DrEngineConfig *config, const DrEngine *engine, GError **error)
{
  g_autoptr (sqlite3_stmt) update = NULL;
  g_autoptr (sqlite3_stmt) clear = NULL;
  g_autoptr (sqlite3_stmt) insert = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (engine != NULL, FALSE);

  update = prepare (
      self, "UPDATE sessions SET end_ms = nullif (?2, 0), mean_coverage = ?3 WHERE id = ?1", error);
  clear = prepare (self, "DELETE FROM session_zones WHERE session_id = ?", error);
  insert = prepare (self,
                    "INSERT INTO session_zones (session_id, zone, zone_id, coverage, passes,"
                    "  rolled_cm2, revolutions, punctures_per_cm2, peak_force_n, source)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    error);
  if (update == NULL || clear == NULL || insert == NULL)
    return FALSE;

  sqlite3_bind_int64 (update, 1, (sqlite3_int64) session_id);
  sqlite3_bind_int64 (update, 2, end_ms);
  sqlite3_bind_double (update, 3, mean_coverage);
  if (!step_done (self, update, "cannot store session", error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    return no_session_error (error, session_id);

  sqlite3_bind_int64 (clear, 1, (sqlite3_int64) session_id);
  if (!step_done (self, clear, "cannot store session totals", error))
    return FALSE;

  /* Every configured zone, then "unassigned" (id -1), from the engine. */
  for (int zone = 0; zone <= (int) config->n_zones; zone++)
    {
      int id = zone < (int) config->n_zones ? zone : DR_ZONE_UNASSIGNED;
      const char *name = zone_name (config, id);
      const DrZoneTotals *totals;

      if (name == NULL)
        continue;
      totals = dr_engine_zone_totals (engine, id);
      if (totals == NULL)
        continue;
      sqlite3_bind_int64 (insert, 1, (sqlite3_int64) session_id);
      sqlite3_bind_text (insert, 2, name, -1, SQLITE_STATIC);
      sqlite3_bind_int (insert, 3, id);
      sqlite3_bind_double (insert, 4, totals->coverage);
      sqlite3_bind_double (insert, 5, totals->passes);
      sqlite3_bind_double (insert, 6, totals->rolled_cm2);
      sqlite3_bind_double (insert, 7, totals->revolutions);
      sqlite3_bind_double (insert, 8, totals->punctures_per_cm2);
      sqlite3_bind_double (insert, 9, totals->peak_force_n);
      sqlite3_bind_text (insert, 10, zone_source_name (totals->source), -1, SQLITE_STATIC);
      if (!step_done (self, insert, "cannot store session totals", error))
        return FALSE;
    }
  return TRUE;
}

gboolean
dr_store_add_event (DrStore *self, uint64_t session_id, int64_t roller_id,
                    const DrEngineConfig *config, const DrEvent *event, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_zone = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (event != NULL, FALSE);

  stmt
      = prepare (self,
                 "INSERT INTO events (session_id, roller_id, time_ms, kind, zone, force_n, limit_n,"
                 "  peak_n, duration_ms, last_treated_ms, head_id, wear, frames)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 error);
  if (stmt == NULL)
    return FALSE;

  if (session_id != 0)
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) session_id);
  sqlite3_bind_int64 (stmt, 2, roller_id);
  sqlite3_bind_int64 (stmt, 3, event->time_ms);
  sqlite3_bind_text (stmt, 4, dr_event_kind_name (event->kind), -1, SQLITE_STATIC);

  /* Only the details Manager1.GetSessionEvents documents for the kind; the
   * rest stay NULL and are left out of the a{sv}. */
  switch (event->kind)
    {
      case DR_EVENT_PRESSURE_STARTED:
        has_zone = TRUE;
        sqlite3_bind_double (stmt, 6, event->force_n);
        sqlite3_bind_double (stmt, 7, event->limit_n);
        break;
      case DR_EVENT_PRESSURE_ENDED:
        has_zone = TRUE;
        sqlite3_bind_double (stmt, 8, event->peak_n);
        sqlite3_bind_int64 (stmt, 9, event->duration_ms);
        break;
      case DR_EVENT_EXCLUDED_ZONE:
      case DR_EVENT_OVER_TREATED:
        has_zone = TRUE;
        break;
      case DR_EVENT_TOO_SOON:
        has_zone = TRUE;
        sqlite3_bind_int64 (stmt, 10, event->last_treated_ms);
        break;
      case DR_EVENT_HEAD_WORN:
        sqlite3_bind_int64 (stmt, 11, event->head_id);
        sqlite3_bind_double (stmt, 12, event->wear);
        break;
      case DR_EVENT_SEQ_GAP:
        sqlite3_bind_int64 (stmt, 13, event->count);
        break;
      case DR_EVENT_SESSION_STARTED:
      case DR_EVENT_SESSION_ENDED:
      case DR_EVENT_COUNTER_RESET:
      case DR_N_EVENT_KINDS:
      default:
        break;
    }
  if (has_zone)
    {
      const char *name = zone_name (config, event->zone);
      sqlite3_bind_text (stmt, 5, name != NULL ? name : UNASSIGNED_ZONE_NAME, -1, SQLITE_STATIC);
    }
  return step_done (self, stmt, "cannot store event", error);
}

gboolean
dr_store_zone_last_treated (DrStore *self, const DrEngineConfig *config,
                            int64_t last_treated_ms[DR_MAX_ZONES], GError **error)
{
  return dr_store_zone_last_treated_before (self, config, G_MAXINT64, last_treated_ms, error);
}

gboolean
dr_store_zone_last_treated_before (DrStore *self, const DrEngineConfig *config, int64_t before_ms,
                                   int64_t last_treated_ms[DR_MAX_ZONES], GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);

  for (int i = 0; i < DR_MAX_ZONES; i++)
    last_treated_ms[i] = G_MININT64;

  /* Treated = rolled in contact there; a session still open is the
   * daemon's own and its engine knows it better. */
  stmt = prepare (self,
                  "SELECT z.zone, max (s.end_ms) FROM session_zones z"
                  " JOIN sessions s ON s.id = z.session_id"
                  " WHERE z.rolled_cm2 > 0 AND s.end_ms IS NOT NULL AND s.start_ms < ?1"
                  " GROUP BY z.zone",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, before_ms);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      int zone
          = dr_engine_config_zone_by_name (config, (const char *) sqlite3_column_text (stmt, 0));

      if (zone >= 0 && zone < DR_MAX_ZONES)
        last_treated_ms[zone] = sqlite3_column_int64 (stmt, 1);
    }
  if (rc != SQLITE_DONE)
    return set_db_error (self, error, "cannot read sessions");
  return TRUE;
}

/* Queries */

void
dr_store_session_free (DrStoreSession *session)
{
  if (session == NULL)
    return;
  g_free (session->address);
  g_free (session);
}

GPtrArray *
dr_store_list_sessions (DrStore *self, int64_t since_ms, int64_t until_ms, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) sessions = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  if (until_ms != 0 && until_ms <= since_ms)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                   "bad time range: until_ms %" G_GINT64_FORMAT
                   " is not after since_ms %" G_GINT64_FORMAT,
                   until_ms, since_ms);
      return NULL;
    }
  stmt = prepare (self,
                  "SELECT s.id, r.address, s.start_ms, coalesce (s.end_ms, 0), s.mean_coverage"
                  " FROM sessions s JOIN rollers r ON r.id = s.roller_id"
                  " WHERE s.start_ms >= ? AND s.start_ms < ?"
                  " ORDER BY s.start_ms, s.id",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, since_ms);
  sqlite3_bind_int64 (stmt, 2, until_ms == 0 ? G_MAXINT64 : until_ms);
  sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) dr_store_session_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrStoreSession *session = g_new0 (DrStoreSession, 1);

      session->id = (uint64_t) sqlite3_column_int64 (stmt, 0);
      session->address = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      session->start_ms = sqlite3_column_int64 (stmt, 2);
      session->end_ms = sqlite3_column_int64 (stmt, 3);
      session->mean_coverage = sqlite3_column_double (stmt, 4);
      g_ptr_array_add (sessions, session);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, "cannot read sessions");
      return NULL;
    }
  return g_steal_pointer (&sessions);
}

/* @sql with one parameter, the session id, bound; NotFound for an unknown
 * session rather than an empty answer. */
static sqlite3_stmt *
prepare_session_query (DrStore *self, uint64_t session_id, const char *sql, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean exists;

  if (!session_exists (self, session_id, &exists, error))
    return NULL;
  if (!exists)
    {
      no_session_error (error, session_id);
      return NULL;
    }
  stmt = prepare (self, sql, error);
  if (stmt != NULL)
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) session_id);
  return stmt;
}

void
dr_store_zone_coverage_free (DrStoreZoneCoverage *coverage)
{
  if (coverage == NULL)
    return;
  g_free (coverage->zone);
  g_free (coverage);
}

GPtrArray *
dr_store_session_coverage (DrStore *self, uint64_t session_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) zones = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  /* In the configuration's zone order, "unassigned" last. */
  stmt = prepare_session_query (self, session_id,
                                "SELECT zone, coverage, passes, rolled_cm2, peak_force_n"
                                " FROM session_zones WHERE session_id = ?"
                                " ORDER BY zone_id < 0, zone_id, zone",
                                error);
  if (stmt == NULL)
    return NULL;
  zones = g_ptr_array_new_with_free_func ((GDestroyNotify) dr_store_zone_coverage_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrStoreZoneCoverage *zone = g_new0 (DrStoreZoneCoverage, 1);

      zone->zone = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      zone->coverage = sqlite3_column_double (stmt, 1);
      zone->passes = sqlite3_column_double (stmt, 2);
      zone->rolled_cm2 = sqlite3_column_double (stmt, 3);
      zone->peak_force_n = sqlite3_column_double (stmt, 4);
      g_ptr_array_add (zones, zone);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, "cannot read session totals");
      return NULL;
    }
  return g_steal_pointer (&zones);
}

void
dr_store_event_free (DrStoreEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->kind);
  g_free (event->zone);
  g_free (event);
}

/* Details are NULL where the event's kind has none: FALSE for those, else
 * TRUE with @detail marked present. */
static gboolean
event_has (sqlite3_stmt *stmt, int column, DrStoreEvent *event, DrStoreEventDetails detail)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return FALSE;
  event->details |= detail;
  return TRUE;
}

GPtrArray *
dr_store_session_events (DrStore *self, uint64_t session_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) events = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  stmt = prepare_session_query (self, session_id,
                                "SELECT time_ms, kind, zone, force_n, limit_n, peak_n, duration_ms,"
                                "  last_treated_ms, head_id, wear, frames"
                                " FROM events WHERE session_id = ? ORDER BY time_ms, id",
                                error);
  if (stmt == NULL)
    return NULL;
  events = g_ptr_array_new_with_free_func ((GDestroyNotify) dr_store_event_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrStoreEvent *event = g_new0 (DrStoreEvent, 1);

      event->time_ms = sqlite3_column_int64 (stmt, 0);
      event->kind = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      if (event_has (stmt, 2, event, DR_STORE_EVENT_ZONE))
        event->zone = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      if (event_has (stmt, 3, event, DR_STORE_EVENT_FORCE_N))
        event->force_n = sqlite3_column_double (stmt, 3);
      if (event_has (stmt, 4, event, DR_STORE_EVENT_LIMIT_N))
        event->limit_n = sqlite3_column_double (stmt, 4);
      if (event_has (stmt, 5, event, DR_STORE_EVENT_PEAK_N))
        event->peak_n = sqlite3_column_double (stmt, 5);
      if (event_has (stmt, 6, event, DR_STORE_EVENT_DURATION_MS))
        event->duration_ms = sqlite3_column_int64 (stmt, 6);
      if (event_has (stmt, 7, event, DR_STORE_EVENT_LAST_TREATED_MS))
        event->last_treated_ms = sqlite3_column_int64 (stmt, 7);
      if (event_has (stmt, 8, event, DR_STORE_EVENT_HEAD_ID))
        event->head_id = (uint32_t) sqlite3_column_int64 (stmt, 8);
      if (event_has (stmt, 9, event, DR_STORE_EVENT_WEAR))
        event->wear = sqlite3_column_double (stmt, 9);
      if (event_has (stmt, 10, event, DR_STORE_EVENT_FRAMES))
        event->frames = (uint32_t) sqlite3_column_int64 (stmt, 10);
      g_ptr_array_add (events, event);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, "cannot read events");
      return NULL;
    }
  return g_steal_pointer (&events);
}

/* Settings */

gboolean
dr_store_set_zone_excluded (DrStore *self, const char *zone, gboolean excluded, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (zone != NULL, FALSE);

  /* One settings row per excluded zone: "excluded-zone:<name>" = 1. */
  stmt = prepare (
      self,
      excluded ? "INSERT OR REPLACE INTO settings (key, value) VALUES ('" EXCLUDED_ZONE_PREFIX
                 "' || ?, 1)"
               : "DELETE FROM settings WHERE key = '" EXCLUDED_ZONE_PREFIX "' || ?",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, zone, -1, SQLITE_STATIC);
  return step_done (self, stmt, "cannot store setting", error);
}

char **
dr_store_excluded_zones (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) zones = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  stmt = prepare (self,
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
      set_db_error (self, error, "cannot read settings");
      return NULL;
    }
  g_ptr_array_add (zones, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&zones), FALSE);
}
