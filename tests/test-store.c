/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-store.c: the SQLite store on real files in a scratch directory:
 * permissions, schema version, refusing foreign and newer files, frames
 * with their duplicate check and acks, sessions and the queries (checked
 * as the service sends them), crash recovery, a full disk, and damage:
 * found, moved aside, replaced, refused when not ours, salvaged.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dr-error.h"
#include "salvage.h"
#include "service-variants.h"
#include "store-test-util.h"
#include "store-worker.h"
#include "store.h"

typedef struct
{
  char *tmpdir;
  char *path; /* tmpdir/state/dermaroll/dermaroll.db: two directories to create */
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->tmpdir = g_dir_make_tmp ("dermaroll-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->tmpdir, "state", "dermaroll", "dermaroll.db", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  store_test_rm_rf (f->tmpdir);
  g_free (f->tmpdir);
  g_free (f->path);
}

static DrStore *
open_store (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  DrStore *store = dr_store_open (f->path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static int64_t
add_roller (DrStore *store, const char *address)
{
  g_autoptr (GError) error = NULL;
  int64_t id = -1;

  g_assert_true (dr_store_ensure_roller (store, address, "Roller", &id, &error));
  g_assert_no_error (error);
  return id;
}

static gboolean
add_frame (DrStore *store, int64_t roller, uint64_t t0, uint16_t seq, uint8_t flags)
{
  g_autoptr (GError) error = NULL;
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = store_test_frame (buf, t0, seq, flags, 5, seq * 200u, 0);
  gboolean inserted = FALSE;

  g_assert_true (dr_store_add_frame (store, roller, (int64_t) t0 + 5, buf, len, DR_CODEC_OK,
                                     &inserted, &error));
  g_assert_no_error (error);
  return inserted;
}

/* The store's answers as Manager1 sends them (service-variants.h): the
 * checks below cover the rows and their D-Bus types together. */
static GVariant *
list_sessions (DrStore *store, int64_t since_ms, int64_t until_ms, GError **error)
{
  g_autoptr (GPtrArray) rows = dr_store_list_sessions (store, since_ms, until_ms, error);
  return rows != NULL ? g_variant_ref_sink (dr_sessions_to_variant (rows)) : NULL;
}

static GVariant *
session_coverage (DrStore *store, uint64_t session_id, GError **error)
{
  g_autoptr (GPtrArray) rows = dr_store_session_coverage (store, session_id, error);
  return rows != NULL ? g_variant_ref_sink (dr_coverage_to_variant (rows)) : NULL;
}

static GVariant *
session_events (DrStore *store, uint64_t session_id, GError **error)
{
  g_autoptr (GPtrArray) rows = dr_store_session_events (store, session_id, error);
  return rows != NULL ? g_variant_ref_sink (dr_events_to_variant (rows)) : NULL;
}

static GVariant *
session_samples (DrStore *store, uint64_t session_id, GError **error)
{
  g_autoptr (GArray) rows = dr_store_session_samples (store, session_id, error);
  return rows != NULL ? g_variant_ref_sink (dr_samples_to_variant (rows)) : NULL;
}

static void
commit (DrStore *store)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (dr_store_commit (store, TRUE, &error));
  g_assert_no_error (error);
}

static void
begin (DrStore *store)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (dr_store_begin (store, &error));
  g_assert_no_error (error);
}

static guint
file_mode (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

/* Paths */

static void
test_default_path (void)
{
  g_autofree char *home_default
      = g_build_filename (g_get_home_dir (), ".local", "state", "dermaroll", "dermaroll.db", NULL);
  char *path;

  g_setenv ("STATE_DIRECTORY", "/var/lib/dermaroll:/var/lib/other", TRUE);
  g_setenv ("XDG_STATE_HOME", "/home/u/.state", TRUE);
  path = dr_store_default_path ();
  g_assert_cmpstr (path, ==, "/var/lib/dermaroll/dermaroll.db");
  g_free (path);

  g_unsetenv ("STATE_DIRECTORY");
  path = dr_store_default_path ();
  g_assert_cmpstr (path, ==, "/home/u/.state/dermaroll/dermaroll.db");
  g_free (path);

  /* The XDG spec: a relative XDG_STATE_HOME is invalid and ignored. */
  g_setenv ("XDG_STATE_HOME", "relative/state", TRUE);
  path = dr_store_default_path ();
  g_assert_cmpstr (path, ==, home_default);
  g_free (path);

  g_unsetenv ("XDG_STATE_HOME");
  path = dr_store_default_path ();
  g_assert_cmpstr (path, ==, home_default);
  g_free (path);
}

/* Opening */

static void
test_open_permissions (Fixture *f, gconstpointer data)
{
  g_autoptr (DrStore) store = NULL;
  g_autofree char *dir = g_path_get_dirname (f->path);
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  mode_t old_umask = umask (022);

  store = open_store (f);
  umask (old_umask);

  g_assert_cmpstr (dr_store_get_path (store), ==, f->path);
  g_assert_cmpuint (file_mode (parent), ==, 0700);
  g_assert_cmpuint (file_mode (dir), ==, 0700);
  g_assert_cmpuint (file_mode (f->path), ==, 0600);
  /* SQLite gives the -wal file the database file's mode. */
  g_assert_cmpuint (file_mode (wal), ==, 0600);
}

static void
test_open_permissions_umask (Fixture *f, gconstpointer data)
{
  g_autoptr (DrStore) store = NULL;
  g_autofree char *dir = g_path_get_dirname (f->path);
  /* A umask that would leave the owner unable to write or enter. */
  mode_t old_umask = umask (0277);

  store = open_store (f);
  umask (old_umask);
  g_assert_cmpuint (file_mode (dir), ==, 0700);
  g_assert_cmpuint (file_mode (f->path), ==, 0600);
}

static void
test_open_existing_dir (Fixture *f, gconstpointer data)
{
  g_autoptr (DrStore) store = NULL;
  g_autofree char *dir = g_path_get_dirname (f->path);

  /* A directory that exists is the owner's: its mode is left alone, but
   * one that others can enter is said out loud. */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (dir, 0750), ==, 0);
  g_test_expect_message (
      "dermaroll", G_LOG_LEVEL_WARNING,
      "database directory *open to other users (mode 0750, not 0700)*chmod 700*");
  store = open_store (f);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (file_mode (dir), ==, 0750);
  g_assert_cmpuint (file_mode (f->path), ==, 0600);
}

/* An existing directory that is 0700 says nothing (fatal warnings would
 * fail the test). */
static void
test_open_existing_private_dir (Fixture *f, gconstpointer data)
{
  g_autoptr (DrStore) store = NULL;
  g_autofree char *dir = g_path_get_dirname (f->path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  store = open_store (f);
  g_clear_pointer (&store, dr_store_free);
  /* And the file, once it is there and 0600, neither. */
  store = open_store (f);
  g_assert_cmpuint (file_mode (dir), ==, 0700);
  g_assert_cmpuint (file_mode (f->path), ==, 0600);
}

/* A world-readable directory and database from elsewhere (a copy, a
 * restore, a umask of 022 before this daemon made them): both reported,
 * neither changed, the data still opened. */
static void
test_open_existing_world_readable (Fixture *f, gconstpointer data)
{
  g_autoptr (DrStore) store = NULL;
  g_autofree char *dir = g_path_get_dirname (f->path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  store = open_store (f);
  g_clear_pointer (&store, dr_store_free);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (f->path, 0644), ==, 0);

  g_test_expect_message ("dermaroll", G_LOG_LEVEL_WARNING,
                         "database directory *open to other users (mode 0755, not 0700)*");
  g_test_expect_message ("dermaroll", G_LOG_LEVEL_WARNING,
                         "database *dermaroll.db is open to other users (mode 0644, not 0600)*"
                         "chmod 600 *dermaroll.db");
  store = open_store (f);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (file_mode (dir), ==, 0755);
  g_assert_cmpuint (file_mode (f->path), ==, 0644);
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 6);
}

static void
test_schema_version (Fixture *f, gconstpointer data)
{
  g_autoptr (DrStore) store = open_store (f);
  g_autofree char *journal_mode = store_test_sql_text (f->path, "PRAGMA journal_mode");

  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 6);
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA application_id"), ==, 0x44524c4c);
  g_assert_cmpstr (journal_mode, ==, "wal");
  g_assert_cmpint (
      store_test_sql_int (f->path,
                          "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                          " ('rollers', 'heads', 'frames', 'malformed_frames', 'sessions',"
                          "  'session_zones', 'events', 'settings')"),
      ==, 8);
  g_clear_pointer (&store, dr_store_free);

  /* Opening again migrates nothing and keeps the version. */
  store = open_store (f);
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 6);
}

static void
test_not_a_database (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;
  g_autofree char *dir = g_path_get_dirname (f->path);
  g_autofree char *expected
      = g_strdup_printf ("%s: not a dermaroll database (file is not a database)", f->path);
  g_autofree char *contents = g_strnfill (4096, 'x');
  g_autofree char *after = NULL;
  gsize after_len = 0;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (f->path, contents, -1, NULL));

  store = dr_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, DR_ERROR, DR_ERROR_STORE);
  g_assert_cmpstr (error->message, ==, expected);

  /* Refused, never overwritten. */
  g_assert_true (g_file_get_contents (f->path, &after, &after_len, NULL));
  g_assert_cmpmem (after, after_len, contents, strlen (contents));
}

static void
test_foreign_database (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;
  g_autofree char *dir = g_path_get_dirname (f->path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  store_test_sql_exec (
      f->path, "CREATE TABLE photos (id INTEGER PRIMARY KEY); INSERT INTO photos DEFAULT VALUES");

  store = dr_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, DR_ERROR, DR_ERROR_STORE);
  g_assert_true (g_str_has_prefix (error->message, f->path));
  g_assert_nonnull (strstr (error->message, "not a dermaroll database"));
  /* Untouched: no schema of ours, not switched to WAL. */
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM photos"), ==, 1);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM sqlite_master"), ==, 1);
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 0);
}

static void
test_newer_version (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autofree char *expected = NULL;

  add_roller (store, "AA:BB:CC:DD:EE:FF");
  g_clear_pointer (&store, dr_store_free);
  store_test_sql_exec (f->path, "PRAGMA user_version = 99");

  store = dr_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, DR_ERROR, DR_ERROR_STORE);
  expected = g_strdup_printf ("%s: schema version 99 is newer than this dermarolld supports (6);"
                              " refusing to touch it",
                              f->path);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 99);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM rollers"), ==, 1);
}

/* Rollers, heads, settings */

static void
test_rollers (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GPtrArray) rollers = NULL;
  int64_t a, b, again;
  DrStoreRoller *r;

  g_assert_true (dr_store_ensure_roller (store, "AA:AA:AA:AA:AA:01", "Left", &a, &error));
  g_assert_true (dr_store_ensure_roller (store, "AA:AA:AA:AA:AA:02", NULL, &b, &error));
  g_assert_no_error (error);
  g_assert_cmpint (a, !=, b);
  /* Same address: same row; an unknown name keeps the known one, a new one replaces it. */
  g_assert_true (dr_store_ensure_roller (store, "AA:AA:AA:AA:AA:01", "", &again, &error));
  g_assert_cmpint (again, ==, a);
  g_assert_true (dr_store_ensure_roller (store, "AA:AA:AA:AA:AA:02", "Right", &again, &error));
  g_assert_cmpint (again, ==, b);
  g_assert_true (dr_store_set_roller_paired (store, b, TRUE, &error));
  g_assert_no_error (error);

  g_assert_false (dr_store_set_roller_paired (store, 999, TRUE, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no roller 999");
  g_clear_error (&error);

  rollers = dr_store_list_rollers (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rollers->len, ==, 2);
  r = g_ptr_array_index (rollers, 0);
  g_assert_cmpint (r->id, ==, a);
  g_assert_cmpstr (r->address, ==, "AA:AA:AA:AA:AA:01");
  g_assert_cmpstr (r->name, ==, "Left");
  g_assert_false (r->paired);
  r = g_ptr_array_index (rollers, 1);
  g_assert_cmpint (r->id, ==, b);
  g_assert_cmpstr (r->name, ==, "Right");
  g_assert_true (r->paired);
}

/* Forget of a roller that is not paired: its row goes when nothing of
 * the user's is stored under it, and stays when a frame or a session is. */
static void
test_rollers_delete_if_unused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GPtrArray) rollers = NULL;
  int64_t ghost = add_roller (store, "AA:AA:AA:AA:AA:01");
  int64_t framed = add_roller (store, "AA:AA:AA:AA:AA:02");
  int64_t treated = add_roller (store, "AA:AA:AA:AA:AA:03");
  gboolean deleted = FALSE;

  g_assert_true (add_frame (store, framed, 1000, 0, 0));
  g_assert_true (dr_store_session_begin (store, 1, treated, 1000, 500, 77, &error));
  g_assert_no_error (error);

  g_assert_true (dr_store_delete_roller_if_unused (store, ghost, &deleted, &error));
  g_assert_no_error (error);
  g_assert_true (deleted);
  g_assert_true (dr_store_delete_roller_if_unused (store, framed, &deleted, &error));
  g_assert_false (deleted);
  g_assert_true (dr_store_delete_roller_if_unused (store, treated, &deleted, &error));
  g_assert_false (deleted);
  /* Gone already, or never there: nothing to do, not an error. */
  g_assert_true (dr_store_delete_roller_if_unused (store, ghost, &deleted, &error));
  g_assert_no_error (error);
  g_assert_false (deleted);

  rollers = dr_store_list_rollers (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rollers->len, ==, 2);
  g_assert_cmpint (((DrStoreRoller *) g_ptr_array_index (rollers, 0))->id, ==, framed);
  g_assert_cmpint (((DrStoreRoller *) g_ptr_array_index (rollers, 1))->id, ==, treated);
}

static void
test_heads (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GHashTable) heads = NULL;
  DrHeadInfo head = { 1, 500, 192, 150, 200, 100, 77 };
  double revolutions = -1;
  uint64_t sessions = 99;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");

  /* A head never seen has no revolutions and no sessions yet. */
  g_assert_true (dr_store_get_head_revolutions (store, 77, &revolutions, &error));
  g_assert_cmpfloat (revolutions, ==, 0.0);
  g_assert_true (dr_store_get_head_sessions (store, 77, &sessions, &error));
  g_assert_cmpuint (sessions, ==, 0);

  g_assert_true (dr_store_set_head (store, &head, 123.25, &error));
  g_assert_true (dr_store_get_head_revolutions (store, 77, &revolutions, &error));
  g_assert_cmpfloat (revolutions, ==, 123.25);
  g_assert_true (dr_store_set_head (store, &head, 200.5, &error));
  g_assert_true (dr_store_get_head_revolutions (store, 77, &revolutions, &error));
  g_assert_cmpfloat (revolutions, ==, 200.5);

  g_assert_true (dr_store_session_begin (store, 1, roller, 1000, 500, 77, &error));
  g_assert_true (dr_store_session_begin (store, 2, roller, 2000, 500, 77, &error));
  /* A head counted before its Head Info was stored. */
  g_assert_true (dr_store_session_begin (store, 3, roller, 3000, 500, 78, &error));
  g_assert_no_error (error);
  g_assert_true (dr_store_get_head_sessions (store, 77, &sessions, &error));
  g_assert_cmpuint (sessions, ==, 2);
  g_assert_true (dr_store_get_head_sessions (store, 78, &sessions, &error));
  g_assert_cmpuint (sessions, ==, 1);
  /* Sessions counted, revolutions kept. */
  g_assert_true (dr_store_get_head_revolutions (store, 77, &revolutions, &error));
  g_assert_cmpfloat (revolutions, ==, 200.5);

  heads = dr_store_list_head_revolutions (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (heads), ==, 2);
  g_assert_cmpfloat (*(double *) g_hash_table_lookup (heads, GUINT_TO_POINTER (77)), ==, 200.5);
  g_assert_cmpfloat (*(double *) g_hash_table_lookup (heads, GUINT_TO_POINTER (78)), ==, 0.0);
}

static void
test_excluded_zones (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_auto (GStrv) zones = NULL;

  zones = dr_store_excluded_zones (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (zones), ==, 0);
  g_clear_pointer (&zones, g_strfreev);

  g_assert_true (dr_store_set_zone_excluded (store, "nose", TRUE, &error));
  g_assert_true (dr_store_set_zone_excluded (store, "forehead", TRUE, &error));
  g_assert_true (dr_store_set_zone_excluded (store, "forehead", TRUE, &error));
  g_assert_true (dr_store_set_zone_excluded (store, "chin", TRUE, &error));
  g_assert_true (dr_store_set_zone_excluded (store, "chin", FALSE, &error));
  g_assert_true (dr_store_set_zone_excluded (store, "neck", FALSE, &error));
  g_assert_no_error (error);
  g_clear_pointer (&store, dr_store_free);

  store = open_store (f);
  zones = dr_store_excluded_zones (store, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (zones, ((const char *[]){ "forehead", "nose", NULL }));
}

/* Frames */

static void
test_frames_duplicate (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  DrStoreFrameCounts counts;

  begin (store);
  g_assert_true (dr_store_in_transaction (store));
  g_assert_true (add_frame (store, roller, 1700000000000, 7, 0));
  g_assert_false (add_frame (store, roller, 1700000000000, 7, 0));
  /* Replayed from the roller's memory (history flag): still the same frame. */
  g_assert_false (add_frame (store, roller, 1700000000000, 7, DR_FRAME_FLAG_HISTORY));
  /* Same seq, other t0 (the counter wrapped): another frame. */
  g_assert_true (add_frame (store, roller, 1700000600000, 7, 0));
  /* Same key, other roller: another frame. */
  g_assert_true (add_frame (store, other, 1700000000000, 7, 0));
  commit (store);
  g_assert_false (dr_store_in_transaction (store));
  /* Still a duplicate after the commit and after reopening. */
  g_assert_false (add_frame (store, roller, 1700000000000, 7, 0));
  g_clear_pointer (&store, dr_store_free);
  store = open_store (f);
  g_assert_false (add_frame (store, roller, 1700000000000, 7, 0));

  g_assert_true (dr_store_frame_counts (store, roller, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts.frames, ==, 2);
  g_assert_cmpuint (counts.malformed, ==, 0);
  g_assert_cmpuint (counts.seq_gaps, ==, 0);
  g_assert_cmpint (store_test_sql_int (
                       f->path, "SELECT flags FROM frames WHERE seq = 7 AND t0_ms = 1700000000000"
                                " AND roller_id = 1"),
                   ==, 0);
}

static void
test_frames_malformed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = store_test_frame (buf, 1700000000000, 1, 0, 3, 0, 0);
  gboolean inserted = FALSE;
  DrStoreFrameCounts counts;
  g_autofree char *reason = NULL;

  buf[len] = 0xEE; /* one byte too many */
  g_assert_true (dr_store_add_frame (store, roller, 10, buf, len + 1, DR_CODEC_ERR_LENGTH_MISMATCH,
                                     &inserted, &error));
  g_assert_true (inserted);
  /* The same bytes again: malformed frames have no key, each one counts. */
  g_assert_true (dr_store_add_frame (store, roller, 11, buf, len + 1, DR_CODEC_ERR_LENGTH_MISMATCH,
                                     &inserted, &error));
  /* An empty notification. */
  g_assert_true (
      dr_store_add_frame (store, roller, 12, NULL, 0, DR_CODEC_ERR_TRUNCATED, &inserted, &error));
  g_assert_no_error (error);

  /* A well-formed frame claimed with fewer bytes than a header is a bug. */
  g_assert_false (dr_store_add_frame (store, roller, 13, buf, 5, DR_CODEC_OK, &inserted, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (dr_store_add_dropped (store, roller, 3, &error));
  g_assert_true (dr_store_add_dropped (store, roller, 2, &error));
  g_assert_no_error (error);
  g_assert_false (dr_store_add_dropped (store, 999, 2, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_clear_pointer (&store, dr_store_free);
  store = open_store (f);
  g_assert_true (dr_store_frame_counts (store, roller, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts.frames, ==, 0);
  g_assert_cmpuint (counts.malformed, ==, 3);
  g_assert_cmpuint (counts.seq_gaps, ==, 5);

  reason = store_test_sql_text (f->path, "SELECT reason FROM malformed_frames ORDER BY id LIMIT 1");
  g_assert_cmpstr (reason, ==, "length-mismatch");
  g_assert_cmpint (
      store_test_sql_int (f->path, "SELECT length (raw) FROM malformed_frames ORDER BY id LIMIT 1"),
      ==, (int64_t) len + 1);
  g_assert_cmpint (store_test_sql_int (
                       f->path, "SELECT length (raw) FROM malformed_frames WHERE received_ms = 12"),
                   ==, 0);

  g_assert_false (dr_store_frame_counts (store, 999, &counts, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
}

/* Malformed frames are a ring of the newest DR_STORE_MALFORMED_KEEP per
 * roller (fault matrix row 5): the oldest goes in the same transaction,
 * counted; another roller's ring is its own. */
static void
test_frames_malformed_ring (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  const guint n = DR_STORE_MALFORMED_KEEP + 250;
  uint8_t buf[8] = { 0 };
  DrStoreFrameCounts counts;
  uint64_t kept, dropped;

  begin (store);
  for (guint i = 0; i < n; i++)
    {
      memcpy (buf, &i, sizeof i);
      g_assert_true (dr_store_add_frame (store, roller, i, buf, sizeof buf, DR_CODEC_ERR_TRUNCATED,
                                         NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_true (
      dr_store_add_frame (store, other, 1, buf, 3, DR_CODEC_ERR_TRUNCATED, NULL, &error));
  commit (store);

  g_assert_true (dr_store_frame_counts (store, roller, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts.malformed, ==, DR_STORE_MALFORMED_KEEP);
  g_assert_cmpuint (counts.malformed_dropped, ==, n - DR_STORE_MALFORMED_KEEP);
  g_assert_true (dr_store_malformed_counts (store, roller, &kept, &dropped, &error));
  g_assert_cmpuint (kept, ==, DR_STORE_MALFORMED_KEEP);
  g_assert_cmpuint (dropped, ==, n - DR_STORE_MALFORMED_KEEP);
  /* the newest kept, in order */
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT min(received_ms) FROM malformed_frames"
                                                " WHERE roller_id = 1"),
                   ==, n - DR_STORE_MALFORMED_KEEP);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT max(received_ms) FROM malformed_frames"
                                                " WHERE roller_id = 1"),
                   ==, n - 1);
  g_assert_true (dr_store_malformed_counts (store, other, &kept, &dropped, &error));
  g_assert_cmpuint (kept, ==, 1);
  g_assert_cmpuint (dropped, ==, 0);
  g_assert_false (dr_store_malformed_counts (store, 999, &kept, &dropped, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
}

/* Takes a file of today's schema back to before schema 5 (people), so
 * that the older migration tests below can take it back further. */
#define UNDO_SCHEMA_6 "ALTER TABLE sessions DROP COLUMN ended;"
#define UNDO_SCHEMA_5                                                                              \
  UNDO_SCHEMA_6                                                                                    \
  "DROP INDEX sessions_by_person;"                                                                 \
  "ALTER TABLE sessions DROP COLUMN person_id;"                                                    \
  "ALTER TABLE rollers DROP COLUMN person_id;"                                                     \
  "DROP TABLE deleted_sessions;"                                                                   \
  "DROP TABLE person_excluded_zones;"                                                              \
  "DROP TABLE people;"                                                                             \
  "DELETE FROM settings WHERE key = 'default-person';"

/* A file the old daemon let grow without bound is cut back to the ring
 * when the schema goes to version 3, the dropped ones counted. */
static void
test_migrate_from_2 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  uint64_t kept, dropped;

  g_clear_pointer (&store, dr_store_free);
  store_test_sql_exec (
      f->path, UNDO_SCHEMA_5
      "ALTER TABLE session_zones DROP COLUMN passes_horizontal;"
      "ALTER TABLE session_zones DROP COLUMN passes_vertical;"
      "ALTER TABLE session_zones DROP COLUMN passes_diagonal;"
      "ALTER TABLE session_zones DROP COLUMN passes_unknown;"
      "ALTER TABLE rollers DROP COLUMN malformed_kept;"
      "ALTER TABLE rollers DROP COLUMN malformed_dropped;"
      "WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1499)"
      " INSERT INTO malformed_frames (roller_id, received_ms, reason, raw)"
      " SELECT 1, i, 'truncated', x'00' FROM n;"
      "INSERT INTO malformed_frames (roller_id, received_ms, reason, raw)"
      " VALUES (2, 5, 'truncated', x'00');"
      "PRAGMA user_version = 2");
  store = open_store (f);
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 6);
  g_assert_true (dr_store_malformed_counts (store, roller, &kept, &dropped, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kept, ==, DR_STORE_MALFORMED_KEEP);
  g_assert_cmpuint (dropped, ==, 1500 - DR_STORE_MALFORMED_KEEP);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT min(received_ms) FROM malformed_frames"
                                                " WHERE roller_id = 1"),
                   ==, 1500 - DR_STORE_MALFORMED_KEEP);
  g_assert_true (dr_store_malformed_counts (store, other, &kept, &dropped, &error));
  g_assert_cmpuint (kept, ==, 1);
  g_assert_cmpuint (dropped, ==, 0);
}

typedef struct
{
  GPtrArray *frames;
  guint stop_after;
} Collect;

static gboolean
collect_frame (const uint8_t *raw, size_t len, int64_t received_ms, gpointer user_data)
{
  Collect *c = user_data;
  DrFrame frame;

  g_assert_cmpint (dr_frame_decode (raw, len, &frame), ==, DR_CODEC_OK);
  g_assert_cmpint (received_ms, ==, (int64_t) frame.t0_ms + 5);
  g_ptr_array_add (c->frames, g_memdup2 (&frame, sizeof frame));
  return c->frames->len < c->stop_after;
}

static void
test_frames_foreach (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GPtrArray) frames = g_ptr_array_new_with_free_func (g_free);
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  Collect c = { frames, G_MAXUINT };
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len;

  /* Stored out of order; read back in (t0, seq) order, bytes intact. */
  add_frame (store, roller, 3000, 3, 0);
  add_frame (store, roller, 1000, 1, 0);
  add_frame (store, roller, 2000, 2, DR_FRAME_FLAG_HISTORY);
  add_frame (store, roller, 4000, 4, 0);
  add_frame (store, other, 2500, 9, 0);

  g_assert_true (dr_store_foreach_frame (store, roller, 1000, 4000, collect_frame, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (frames->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      DrFrame *frame = g_ptr_array_index (frames, i);
      g_assert_cmpuint (frame->t0_ms, ==, 1000 * (i + 1));
      g_assert_cmpuint (frame->seq, ==, i + 1);
      g_assert_cmpuint (frame->n_samples, ==, 5);
      g_assert_cmpuint (frame->samples[4].ticks, ==, (i + 1) * 200 + 160);
    }
  g_assert_cmpuint (((DrFrame *) g_ptr_array_index (frames, 1))->flags, ==, DR_FRAME_FLAG_HISTORY);

  /* until 0: no end; stopping early. */
  g_ptr_array_set_size (frames, 0);
  c.stop_after = 2;
  g_assert_true (dr_store_foreach_frame (store, roller, 2000, 0, collect_frame, &c, &error));
  g_assert_cmpuint (frames->len, ==, 2);
  g_assert_cmpuint (((DrFrame *) g_ptr_array_index (frames, 1))->t0_ms, ==, 3000);

  /* The raw bytes are the very bytes received. */
  len = store_test_frame (buf, 4000, 4, 0, 5, 800, 0);
  g_clear_pointer (&store, dr_store_free);
  {
    sqlite3_stmt *stmt = store_test_sql_row (f->path, "SELECT raw FROM frames WHERE seq = 4");

    g_assert_cmpmem (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0), buf, len);
    store_test_sql_done (stmt);
  }
}

/* The frames of a session to resume, in the order the roller made them:
 * by seq along the order they came in, never by t0. */
static void
test_frames_production_order (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GPtrArray) frames = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) baseline = NULL;
  Collect c = { frames, G_MAXUINT };
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  const uint16_t expected[] = { 65531, 65532, 65533, 65534, 65535, 0, 1 };
  DrFrame frame;

  /* In the order they come in. The session starts at 10000 */
  add_frame (store, roller, 5000, 65530, 0); /* made right before it */
  add_frame (store, roller, 10000, 65531, 0);
  add_frame (store, roller, 11000, 65532, 0);
  add_frame (store, roller, 12000, 65535, 0); /* live, ahead of two kept ones */
  /* SET_TIME set the roller's clock back 5 s; seq wrapped */
  add_frame (store, roller, 7000, 0, 0);
  add_frame (store, roller, 11500, 65533, DR_FRAME_FLAG_HISTORY); /* history after live */
  add_frame (store, roller, 11750, 65534, DR_FRAME_FLAG_HISTORY);
  add_frame (store, roller, 8000, 1, 0);
  add_frame (store, roller, 3000, 65000, DR_FRAME_FLAG_HISTORY); /* an older session's, late */
  add_frame (store, other, 10500, 65532, 0);

  g_assert_true (
      dr_store_foreach_frame_produced (store, roller, 10000, &baseline, collect_frame, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (frames->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < frames->len; i++)
    g_assert_cmpuint (((DrFrame *) g_ptr_array_index (frames, i))->seq, ==, expected[i]);
  g_assert_nonnull (baseline);
  g_assert_cmpint (
      dr_frame_decode (g_bytes_get_data (baseline, NULL), g_bytes_get_size (baseline), &frame), ==,
      DR_CODEC_OK);
  g_assert_cmpuint (frame.seq, ==, 65530);

  /* The frame that holds the session's first sample is in, though its t0
   * is before it: its first sample is at 10000, its last at 10040. */
  g_ptr_array_set_size (frames, 0);
  g_clear_pointer (&baseline, g_bytes_unref);
  g_assert_true (
      dr_store_foreach_frame_produced (store, roller, 10030, &baseline, collect_frame, &c, &error));
  g_assert_cmpuint (frames->len, ==, G_N_ELEMENTS (expected));
  g_assert_cmpuint (((DrFrame *) g_ptr_array_index (frames, 0))->seq, ==, 65531);

  /* A roller that started again: its live seq goes back behind everything
   * before, and its frames come after them. */
  add_frame (store, roller, 9000, 0, 0);
  add_frame (store, roller, 9100, 1, 0);
  g_ptr_array_set_size (frames, 0);
  g_assert_true (
      dr_store_foreach_frame_produced (store, roller, 10000, NULL, collect_frame, &c, &error));
  g_assert_cmpuint (frames->len, ==, G_N_ELEMENTS (expected) + 2);
  g_assert_cmpuint (((DrFrame *) g_ptr_array_index (frames, frames->len - 2))->t0_ms, ==, 9000);
  g_assert_cmpuint (((DrFrame *) g_ptr_array_index (frames, frames->len - 1))->t0_ms, ==, 9100);

  /* Nothing since: nothing. */
  g_ptr_array_set_size (frames, 0);
  g_assert_true (
      dr_store_foreach_frame_produced (store, roller, 50000, NULL, collect_frame, &c, &error));
  g_assert_cmpuint (frames->len, ==, 0);
}

/* With the roller's clock set back, the frames it made after the acked one
 * have earlier t0s: they are still unacked, and acking them moves on. */
static void
test_acks_clock_set_back (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GArray) keys = NULL;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  DrFrameKey key = { 2000, 11 };
  gboolean has_1600 = FALSE;

  add_frame (store, roller, 1000, 10, 0);
  add_frame (store, roller, 2000, 11, 0);
  add_frame (store, roller, 1500, 12, 0); /* clock set back */
  add_frame (store, roller, 1600, 13, 0);

  g_assert_true (dr_store_mark_acked (store, roller, &key, &error));
  g_assert_no_error (error);
  keys = dr_store_unacked_frame_keys (store, roller, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (keys->len, ==, 2);
  g_assert_cmpuint (g_array_index (keys, DrFrameKey, 0).seq, ==, 12);
  g_assert_cmpuint (g_array_index (keys, DrFrameKey, 1).seq, ==, 13);
  g_clear_pointer (&keys, g_array_unref);

  key = (DrFrameKey){ 1500, 12 };
  g_assert_true (dr_store_mark_acked (store, roller, &key, &error));
  keys = dr_store_unacked_frame_keys (store, roller, &error);
  for (guint i = 0; i < keys->len; i++)
    {
      DrFrameKey k = g_array_index (keys, DrFrameKey, i);
      g_assert_cmpuint (k.seq, !=, 10);
      g_assert_cmpuint (k.seq, !=, 12);
      has_1600 |= k.seq == 13;
    }
  g_assert_true (has_1600);
}

/* GetSessionSamples: the samples inside the session's time span, decoded
 * from whichever frames hold them, in order; an open session runs on. */
static void
test_session_samples (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GVariant) samples = NULL;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  gint64 t;
  guint32 ticks;
  guint16 force;
  guchar zone;

  /* Frames of 5 samples 10 ms apart: 1000..1040, 2000..2040, 3000..3040. */
  add_frame (store, roller, 1000, 1, 0);
  add_frame (store, roller, 2000, 2, 0);
  add_frame (store, roller, 3000, 3, 0);
  add_frame (store, other, 2010, 7, 0);
  g_assert_true (dr_store_session_begin (store, 1, roller, 1020, 500, 77, &error));
  g_assert_no_error (error);
  g_assert_true (dr_store_session_begin (store, 2, roller, 3000, 500, 77, &error));
  commit (store);

  /* Session 1 ends at 2010: 1020, 1030, 1040, 2000, 2010. */
  begin (store);
  {
    DrEngineConfig config;
    g_autoptr (DrEngine) engine = NULL;
    dr_engine_config_init_defaults (&config);
    engine = dr_engine_new (&config);
    g_assert_true (dr_store_session_update (store, 1, 2010, 0.0, &config, engine, &error));
    g_assert_no_error (error);
  }
  commit (store);

  samples = session_samples (store, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (samples), ==, "a(xuqy)");
  g_assert_cmpuint (g_variant_n_children (samples), ==, 5);
  g_variant_get_child (samples, 0, "(xuqy)", &t, &ticks, &force, &zone);
  g_assert_cmpint (t, ==, 1020);
  g_assert_cmpuint (ticks, ==, 200 + 2 * 40); /* frame 1: ticks from seq·200, +40 a sample */
  g_assert_cmpuint (force, ==, 2000);
  g_assert_cmpuint (zone, ==, 0);
  g_variant_get_child (samples, 4, "(xuqy)", &t, &ticks, &force, &zone);
  g_assert_cmpint (t, ==, 2010);
  g_assert_cmpuint (ticks, ==, 400 + 40);
  g_clear_pointer (&samples, g_variant_unref);

  /* Session 2 is open: everything from 3000 on. */
  samples = session_samples (store, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (samples), ==, 5);
  g_clear_pointer (&samples, g_variant_unref);

  g_assert_null (session_samples (store, 42, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
}

static void
assert_keys (GArray *keys, const DrFrameKey *expected, guint n)
{
  g_assert_cmpuint (keys->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (g_array_index (keys, DrFrameKey, i).t0_ms, ==, expected[i].t0_ms);
      g_assert_cmpuint (g_array_index (keys, DrFrameKey, i).seq, ==, expected[i].seq);
    }
}

static void
test_acks (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GArray) keys = NULL;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  const DrFrameKey all[] = { { 1000, 65534 }, { 1250, 65535 }, { 1500, 0 }, { 1750, 1 } };
  DrFrameKey key;

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    add_frame (store, roller, all[i].t0_ms, all[i].seq, 0);
  add_frame (store, other, 1100, 5, 0);

  keys = dr_store_unacked_frame_keys (store, roller, &error);
  g_assert_no_error (error);
  assert_keys (keys, all, 4);
  g_clear_pointer (&keys, g_array_unref);

  /* Across the seq wrap: the order is the roller's, by time. */
  key = all[1];
  g_assert_true (dr_store_mark_acked (store, roller, &key, &error));
  g_assert_no_error (error);
  keys = dr_store_unacked_frame_keys (store, roller, &error);
  assert_keys (keys, all + 2, 2);
  g_clear_pointer (&keys, g_array_unref);

  /* A late ack for an older frame does not move it back. */
  key = all[0];
  g_assert_true (dr_store_mark_acked (store, roller, &key, &error));
  g_assert_no_error (error);

  /* Other rollers are their own. */
  keys = dr_store_unacked_frame_keys (store, other, &error);
  g_assert_cmpuint (keys->len, ==, 1);
  g_clear_pointer (&keys, g_array_unref);

  /* Kept across a restart; a frame stored late behind the ack is not unacked. */
  g_clear_pointer (&store, dr_store_free);
  store = open_store (f);
  add_frame (store, roller, 1200, 65533, DR_FRAME_FLAG_HISTORY);
  keys = dr_store_unacked_frame_keys (store, roller, &error);
  g_assert_no_error (error);
  assert_keys (keys, all + 2, 2);
  g_clear_pointer (&keys, g_array_unref);

  key = all[3];
  g_assert_true (dr_store_mark_acked (store, roller, &key, &error));
  keys = dr_store_unacked_frame_keys (store, roller, &error);
  g_assert_cmpuint (keys->len, ==, 0);
  g_clear_pointer (&keys, g_array_unref);

  g_assert_null (dr_store_unacked_frame_keys (store, 999, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (dr_store_mark_acked (store, 999, &key, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
}

/* Sessions */

static const DrHeadInfo test_head = {
  .version = 1,
  .needle_length_um = 500,
  .needle_count = 192,
  .drum_diameter_10um = 1500,
  .drum_width_10um = 2000,
  .ticks_per_rev = 100,
  .head_id = 77,
};

/* An engine that has rolled the forehead and the nose and some contact
 * with no zone, so the totals differ from zone to zone. */
static DrEngine *
rolled_engine (const DrEngineConfig *config, uint64_t t0)
{
  DrEngine *engine = dr_engine_new (config);
  const uint8_t zones[] = { 0, 0, 0, 3, DR_ZONE_UNKNOWN, 0 };
  uint32_t ticks = 1000;

  dr_engine_set_head (engine, &test_head, 0.0);
  for (guint i = 0; i < G_N_ELEMENTS (zones); i++)
    {
      uint8_t buf[DR_FRAME_MAX_LEN];
      size_t len = store_test_frame (buf, t0 + 250 * i, (uint16_t) i, 0, 25, ticks, zones[i]);
      DrFrame frame;

      g_assert_cmpint (dr_frame_decode (buf, len, &frame), ==, DR_CODEC_OK);
      dr_engine_feed (engine, &frame);
      ticks += 25 * 40;
    }
  return engine;
}

static void
assert_coverage_matches (GVariant *coverage, const DrEngineConfig *config, const DrEngine *engine)
{
  g_assert_cmpstr (g_variant_get_type_string (coverage), ==, "a{s(dddd)}");
  g_assert_cmpuint (g_variant_n_children (coverage), ==, config->n_zones + 1);
  for (int zone = -1; zone < (int) config->n_zones; zone++)
    {
      const char *name = zone < 0 ? "unassigned" : dr_engine_config_zone_name (config, zone);
      const DrZoneTotals *t = dr_engine_zone_totals (engine, zone);
      double cov, passes, rolled, peak;

      g_assert_true (g_variant_lookup (coverage, name, "(dddd)", &cov, &passes, &rolled, &peak));
      g_assert_cmpfloat (cov, ==, t->coverage);
      g_assert_cmpfloat (passes, ==, t->passes);
      g_assert_cmpfloat (rolled, ==, t->rolled_cm2);
      g_assert_cmpfloat (peak, ==, t->peak_force_n);
    }
}

static void
test_sessions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (DrEngine) engine = NULL;
  g_autoptr (GVariant) sessions = NULL;
  g_autoptr (GVariant) coverage = NULL;
  g_autoptr (GVariant) first = NULL;
  DrEngineConfig config;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  const uint64_t t0 = 1700000000000;
  uint64_t max_id = 99;
  double cov, passes, rolled, peak;
  guint64 id;
  const char *address;
  gint64 start, end;
  double mean;

  dr_engine_config_init_defaults (&config);
  engine = rolled_engine (&config, t0);
  /* The engine really rolled something, else this test proves little. */
  g_assert_cmpfloat (dr_engine_zone_totals (engine, 0)->rolled_cm2, >, 0.0);
  g_assert_cmpfloat (dr_engine_zone_totals (engine, 3)->rolled_cm2, >, 0.0);
  g_assert_cmpfloat (dr_engine_zone_totals (engine, DR_ZONE_UNASSIGNED)->rolled_cm2, >, 0.0);
  g_assert_cmpfloat (dr_engine_zone_totals (engine, 0)->rolled_cm2, !=,
                     dr_engine_zone_totals (engine, 3)->rolled_cm2);

  g_assert_true (dr_store_max_session_id (store, &max_id, &error));
  g_assert_cmpuint (max_id, ==, 0);

  g_assert_true (dr_store_session_begin (store, 1, roller, (int64_t) t0, 500, 77, &error));
  g_assert_true (dr_store_session_begin (store, 2, other, (int64_t) t0 + 60000, 250, 78, &error));
  g_assert_true (
      dr_store_session_begin (store, 3, roller, (int64_t) t0 + 3600000, 500, 77, &error));
  g_assert_no_error (error);
  /* Ids are the caller's: a second begin of the same id is an error. */
  g_assert_false (dr_store_session_begin (store, 3, roller, (int64_t) t0, 500, 77, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_STORE);
  g_clear_error (&error);
  g_assert_true (dr_store_max_session_id (store, &max_id, &error));
  g_assert_cmpuint (max_id, ==, 3);

  /* While active: end 0. Then ended. */
  g_assert_true (dr_store_session_update (store, 1, 0, 0.125, &config, engine, &error));
  g_assert_true (
      dr_store_session_update (store, 1, (int64_t) t0 + 1490, 0.25, &config, engine, &error));
  g_assert_no_error (error);
  g_assert_false (dr_store_session_update (store, 42, 0, 0.0, &config, engine, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no session 42");
  g_clear_error (&error);

  sessions = list_sessions (store, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (sessions), ==, "a(tsxxd)");
  g_assert_cmpuint (g_variant_n_children (sessions), ==, 3);
  g_variant_get_child (sessions, 0, "(t&sxxd)", &id, &address, &start, &end, &mean);
  g_assert_cmpuint (id, ==, 1);
  g_assert_cmpstr (address, ==, "AA:BB:CC:DD:EE:FF");
  g_assert_cmpint (start, ==, (gint64) t0);
  g_assert_cmpint (end, ==, (gint64) t0 + 1490);
  g_assert_cmpfloat (mean, ==, 0.25);
  g_variant_get_child (sessions, 1, "(t&sxxd)", &id, &address, &start, &end, &mean);
  g_assert_cmpuint (id, ==, 2);
  g_assert_cmpstr (address, ==, "11:22:33:44:55:66");
  g_assert_cmpint (end, ==, 0); /* still open */
  g_assert_cmpfloat (mean, ==, 0.0);
  g_variant_get_child (sessions, 2, "(t&sxxd)", &id, NULL, NULL, NULL, NULL);
  g_assert_cmpuint (id, ==, 3);
  g_clear_pointer (&sessions, g_variant_unref);

  /* since inclusive, until exclusive. */
  sessions = list_sessions (store, (int64_t) t0 + 60000, (int64_t) t0 + 3600000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (sessions), ==, 1);
  g_variant_get_child (sessions, 0, "(t&sxxd)", &id, NULL, NULL, NULL, NULL);
  g_assert_cmpuint (id, ==, 2);
  g_clear_pointer (&sessions, g_variant_unref);
  sessions = list_sessions (store, (int64_t) t0 + 1, 0, &error);
  g_assert_cmpuint (g_variant_n_children (sessions), ==, 2);
  g_clear_pointer (&sessions, g_variant_unref);

  g_assert_null (list_sessions (store, 1000, 1000, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (list_sessions (store, 1000, 10, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Every configured zone in configuration order, then "unassigned". */
  coverage = session_coverage (store, 1, &error);
  g_assert_no_error (error);
  assert_coverage_matches (coverage, &config, engine);
  first = g_variant_get_child_value (coverage, 0);
  g_variant_get (first, "{&s(dddd)}", &address, NULL, NULL, NULL, NULL);
  g_assert_cmpstr (address, ==, "forehead");
  g_clear_pointer (&first, g_variant_unref);
  first = g_variant_get_child_value (coverage, config.n_zones);
  g_variant_get (first, "{&s(dddd)}", &address, NULL, NULL, NULL, NULL);
  g_assert_cmpstr (address, ==, "unassigned");
  g_assert_true (g_variant_lookup (coverage, "neck", "(dddd)", &cov, &passes, &rolled, &peak));
  g_assert_cmpfloat (rolled, ==, 0.0);
  g_assert_cmpfloat (peak, ==, 0.0);
  g_clear_pointer (&coverage, g_variant_unref);

  /* A session with no update yet has no totals. */
  coverage = session_coverage (store, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (coverage), ==, 0);
  g_clear_pointer (&coverage, g_variant_unref);

  g_assert_null (session_coverage (store, 42, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no session 42");
  g_clear_error (&error);

  /* Kept across a restart. */
  g_clear_pointer (&store, dr_store_free);
  store = open_store (f);
  coverage = session_coverage (store, 1, &error);
  g_assert_no_error (error);
  assert_coverage_matches (coverage, &config, engine);
  sessions = list_sessions (store, 0, 0, &error);
  g_assert_cmpuint (g_variant_n_children (sessions), ==, 3);
}

static void
test_events (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GVariant) events = NULL;
  g_autoptr (GVariant) expected = NULL;
  DrEngineConfig config;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  const DrEvent input[] = {
    { .kind = DR_EVENT_SESSION_STARTED, .time_ms = 1000, .zone = 0 },
    { .kind = DR_EVENT_PRESSURE_STARTED,
      .time_ms = 1200,
      .zone = 1,
      .force_n = 5.5,
      .limit_n = 5.0 },
    { .kind = DR_EVENT_PRESSURE_ENDED,
      .time_ms = 1900,
      .zone = 1,
      .limit_n = 5.0,
      .peak_n = 6.25,
      .duration_ms = 700 },
    { .kind = DR_EVENT_EXCLUDED_ZONE, .time_ms = 2000, .zone = 3 },
    { .kind = DR_EVENT_OVER_TREATED, .time_ms = 2100, .zone = DR_ZONE_UNASSIGNED },
    { .kind = DR_EVENT_TOO_SOON, .time_ms = 2200, .zone = 6, .last_treated_ms = 500 },
    { .kind = DR_EVENT_HEAD_WORN, .time_ms = 2300, .zone = 0, .head_id = 77, .wear = 1.02 },
    { .kind = DR_EVENT_SEQ_GAP, .time_ms = 2400, .zone = 0, .count = 3 },
    { .kind = DR_EVENT_COUNTER_RESET, .time_ms = 2500, .zone = 0 },
    /* Stored out of order: read back by time. */
    { .kind = DR_EVENT_SESSION_ENDED, .time_ms = 9000, .zone = 0, .duration_ms = 8000 },
    { .kind = DR_EVENT_SEQ_GAP, .time_ms = 1100, .zone = 0, .count = 1 },
  };

  dr_engine_config_init_defaults (&config);
  g_assert_true (dr_store_session_begin (store, 5, roller, 1000, 500, 77, &error));
  for (guint i = 0; i < G_N_ELEMENTS (input); i++)
    g_assert_true (dr_store_add_event (store, 5, roller, &config, &input[i], &error));
  /* Outside any session: stored, in no session's list. */
  g_assert_true (dr_store_add_event (store, 0, roller, &config, &input[7], &error));
  g_assert_no_error (error);

  events = session_events (store, 5, &error);
  g_assert_no_error (error);
  expected = g_variant_parse (
      G_VARIANT_TYPE ("a(xsa{sv})"),
      "[(1000, 'session-started', {'person': <objectpath '/org/dermaroll/person/1'>}),"
      " (1100, 'seq-gap', {'frames': <uint32 1>}),"
      " (1200, 'pressure-started', {'zone': <'left-cheek'>, 'force-n': <5.5>, 'limit-n': <5.0>}),"
      " (1900, 'pressure-ended',"
      "  {'zone': <'left-cheek'>, 'peak-n': <6.25>, 'duration-ms': <int64 700>}),"
      " (2000, 'excluded', {'zone': <'nose'>}),"
      " (2100, 'over-treated', {'zone': <'unassigned'>}),"
      " (2200, 'too-soon', {'zone': <'neck'>, 'last-treated-ms': <int64 500>}),"
      " (2300, 'head-worn', {'head-id': <uint32 77>, 'wear': <1.02>}),"
      " (2400, 'seq-gap', {'frames': <uint32 3>}),"
      " (2500, 'counter-reset', @a{sv} {}),"
      " (9000, 'session-ended', @a{sv} {})]",
      NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpvariant (events, expected);
  g_clear_pointer (&events, g_variant_unref);

  /* A session without events. */
  g_assert_true (dr_store_session_begin (store, 6, roller, 10000, 500, 77, &error));
  events = session_events (store, 6, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (events), ==, "a(xsa{sv})");
  g_assert_cmpuint (g_variant_n_children (events), ==, 0);

  g_assert_null (session_events (store, 42, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no session 42");
}

static void
test_zone_last_treated (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (DrEngine) engine = NULL;
  g_autoptr (DrEngine) idle = NULL;
  DrEngineConfig config;
  int64_t last[DR_MAX_ZONES];
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");

  dr_engine_config_init_defaults (&config);
  engine = rolled_engine (&config, 1000000);
  idle = dr_engine_new (&config);

  g_assert_true (dr_store_zone_last_treated (store, &config, last, &error));
  for (int i = 0; i < DR_MAX_ZONES; i++)
    g_assert_cmpint (last[i], ==, G_MININT64);

  /* Forehead and nose rolled in sessions 1 and 2, nothing in 3, session 4
   * still open. */
  g_assert_true (dr_store_session_begin (store, 1, roller, 1000000, 500, 77, &error));
  g_assert_true (dr_store_session_update (store, 1, 1002000, 0.1, &config, engine, &error));
  g_assert_true (dr_store_session_begin (store, 2, roller, 5000000, 500, 77, &error));
  g_assert_true (dr_store_session_update (store, 2, 5002000, 0.1, &config, engine, &error));
  g_assert_true (dr_store_session_begin (store, 3, roller, 9000000, 500, 77, &error));
  g_assert_true (dr_store_session_update (store, 3, 9002000, 0.0, &config, idle, &error));
  g_assert_true (dr_store_session_begin (store, 4, roller, 9500000, 500, 77, &error));
  g_assert_true (dr_store_session_update (store, 4, 0, 0.1, &config, engine, &error));
  g_assert_no_error (error);

  g_assert_true (dr_store_zone_last_treated (store, &config, last, &error));
  g_assert_no_error (error);
  g_assert_cmpint (last[0], ==, 5002000);
  g_assert_cmpint (last[3], ==, 5002000);
  g_assert_cmpint (last[1], ==, G_MININT64);
  g_assert_cmpint (last[6], ==, G_MININT64);
}

/* The rest rule's history: per zone and needle length, the latest end of
 * an ended session that rolled there. */
static int
treatment_cmp (gconstpointer a, gconstpointer b)
{
  const DrTreatment *x = a, *y = b;

  if (x->zone != y->zone)
    return x->zone - y->zone;
  return (int) x->needle_length_um - (int) y->needle_length_um;
}

static void
test_zone_treatments (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (DrEngine) engine = NULL;
  g_autoptr (GArray) treatments = NULL;
  DrEngineConfig config;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  const DrTreatment *t;

  dr_engine_config_init_defaults (&config);
  engine = rolled_engine (&config, 1000000);

  treatments = dr_store_zone_treatments_before (store, &config, G_MAXINT64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (treatments->len, ==, 0);
  g_clear_pointer (&treatments, g_array_unref);

  /* 1.5 mm then 0.25 mm twice; a 1.5 mm session still open. */
  g_assert_true (dr_store_session_begin (store, 1, roller, 1000000, 1500, 77, &error));
  g_assert_true (dr_store_session_update (store, 1, 1002000, 0.1, &config, engine, &error));
  g_assert_true (dr_store_session_begin (store, 2, roller, 5000000, 250, 78, &error));
  g_assert_true (dr_store_session_update (store, 2, 5002000, 0.1, &config, engine, &error));
  g_assert_true (dr_store_session_begin (store, 3, roller, 7000000, 250, 78, &error));
  g_assert_true (dr_store_session_update (store, 3, 7002000, 0.1, &config, engine, &error));
  g_assert_true (dr_store_session_begin (store, 4, roller, 9500000, 1500, 77, &error));
  g_assert_true (dr_store_session_update (store, 4, 0, 0.1, &config, engine, &error));
  g_assert_no_error (error);

  treatments = dr_store_zone_treatments_before (store, &config, G_MAXINT64, &error);
  g_assert_no_error (error);
  g_array_sort (treatments, treatment_cmp);
  /* rolled_engine rolls the forehead and the nose. */
  g_assert_cmpuint (treatments->len, ==, 4);
  t = &g_array_index (treatments, DrTreatment, 0);
  g_assert_cmpint (t->zone, ==, 0);
  g_assert_cmpuint (t->needle_length_um, ==, 250);
  g_assert_cmpint (t->treated_at_ms, ==, 7002000);
  t = &g_array_index (treatments, DrTreatment, 1);
  g_assert_cmpint (t->zone, ==, 0);
  g_assert_cmpuint (t->needle_length_um, ==, 1500);
  g_assert_cmpint (t->treated_at_ms, ==, 1002000);
  t = &g_array_index (treatments, DrTreatment, 3);
  g_assert_cmpint (t->zone, ==, 3);
  g_assert_cmpuint (t->needle_length_um, ==, 1500);
  g_clear_pointer (&treatments, g_array_unref);

  /* Before session 3 started: its 0.25 mm treatment is not there yet. */
  treatments = dr_store_zone_treatments_before (store, &config, 7000000, &error);
  g_assert_no_error (error);
  g_array_sort (treatments, treatment_cmp);
  g_assert_cmpuint (treatments->len, ==, 4);
  g_assert_cmpint (g_array_index (treatments, DrTreatment, 0).treated_at_ms, ==, 5002000);
}

/* Crash recovery */

/* A session's revolutions are in its head's count once it is marked so;
 * one begun and never ended is not. */
static void
test_head_counted (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  gboolean counted = TRUE;

  g_assert_true (dr_store_session_begin (store, 1, roller, 1000, 500, 7, &error));
  g_assert_true (dr_store_get_head_counted (store, 1, &counted, &error));
  g_assert_no_error (error);
  g_assert_false (counted);
  g_assert_true (dr_store_mark_head_counted (store, 1, &error));
  g_assert_true (dr_store_get_head_counted (store, 1, &counted, &error));
  g_assert_true (counted);

  g_assert_false (dr_store_get_head_counted (store, 99, &counted, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (dr_store_mark_head_counted (store, 99, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
}

/* A database of schema 1 (before head_counted): sessions that ended were
 * counted into their heads, one a crash left open was not. */
static void
test_migrate_from_1 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  gboolean counted = FALSE;

  g_assert_true (dr_store_session_begin (store, 1, roller, 1000, 500, 7, &error));
  g_assert_true (dr_store_session_begin (store, 2, roller, 5000, 500, 7, &error));
  g_assert_true (dr_store_commit (store, TRUE, &error));
  g_clear_pointer (&store, dr_store_free);
  /* Schema 1 as today's daemon made it; session 1 ended, 2 open. */
  store_test_sql_exec (f->path,
                       UNDO_SCHEMA_5 "ALTER TABLE sessions DROP COLUMN head_counted;"
                                     "ALTER TABLE session_zones DROP COLUMN passes_horizontal;"
                                     "ALTER TABLE session_zones DROP COLUMN passes_vertical;"
                                     "ALTER TABLE session_zones DROP COLUMN passes_diagonal;"
                                     "ALTER TABLE session_zones DROP COLUMN passes_unknown;"
                                     "ALTER TABLE rollers DROP COLUMN malformed_kept;"
                                     "ALTER TABLE rollers DROP COLUMN malformed_dropped;"
                                     "UPDATE sessions SET end_ms = 2000 WHERE id = 1;"
                                     "UPDATE sessions SET end_ms = NULL WHERE id = 2;"
                                     "PRAGMA user_version = 1");
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 1);

  store = open_store (f);
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 6);
  g_assert_true (dr_store_get_head_counted (store, 1, &counted, &error));
  g_assert_no_error (error);
  g_assert_true (counted);
  g_assert_true (dr_store_get_head_counted (store, 2, &counted, &error));
  g_assert_false (counted);
  /* and closed, as a crash's sessions are */
  g_assert_cmpint (
      store_test_sql_int (f->path, "SELECT count(*) FROM sessions WHERE end_ms IS NULL"), ==, 0);
}

/* A database of schema 3 (before passes by direction): its sessions came
 * from version 1 frames, so every pass is of no known direction and the
 * coverage stays what it was. */
static void
test_migrate_from_3 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (DrEngine) engine = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  DrEngineConfig config;
  const DrZoneTotals *forehead;

  dr_engine_config_init_defaults (&config);
  engine = rolled_engine (&config, 1700000000000);
  forehead = dr_engine_zone_totals (engine, 0);
  g_assert_cmpfloat (forehead->passes, >, 0.0);
  g_assert_true (dr_store_session_begin (store, 1, roller, 1700000000000, 500, 7, &error));
  g_assert_true (dr_store_session_update (store, 1, 1700000001490, 0.25, &config, engine, &error));
  g_assert_true (dr_store_commit (store, TRUE, &error));
  g_assert_no_error (error);
  g_clear_pointer (&store, dr_store_free);
  /* Schema 3 as today's daemon made it, with an odd coverage to see it kept. */
  store_test_sql_exec (f->path, UNDO_SCHEMA_5
                       "ALTER TABLE session_zones DROP COLUMN passes_horizontal;"
                       "ALTER TABLE session_zones DROP COLUMN passes_vertical;"
                       "ALTER TABLE session_zones DROP COLUMN passes_diagonal;"
                       "ALTER TABLE session_zones DROP COLUMN passes_unknown;"
                       "UPDATE session_zones SET coverage = 0.375 WHERE zone = 'forehead';"
                       "PRAGMA user_version = 3");

  store = open_store (f);
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 6);
  rows = dr_store_session_coverage (store, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, >, 1);
  for (guint i = 0; i < rows->len; i++)
    {
      const DrStoreZoneCoverage *z = g_ptr_array_index (rows, i);

      g_assert_cmpfloat (z->passes_by_direction[DR_DIRECTION_UNKNOWN], ==, z->passes);
      g_assert_cmpfloat (z->passes_by_direction[DR_DIRECTION_HORIZONTAL], ==, 0.0);
      g_assert_cmpfloat (z->passes_by_direction[DR_DIRECTION_VERTICAL], ==, 0.0);
      g_assert_cmpfloat (z->passes_by_direction[DR_DIRECTION_DIAGONAL], ==, 0.0);
      if (g_str_equal (z->zone, "forehead"))
        {
          g_assert_cmpfloat (z->coverage, ==, 0.375);
          g_assert_cmpfloat (z->passes, ==, forehead->passes);
        }
    }
}

static void
test_crash_recovery (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (DrEngine) engine = NULL;
  g_autoptr (GVariant) sessions = NULL;
  g_autoptr (GVariant) coverage = NULL;
  DrEngineConfig config;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  const int64_t t0 = 1700000000000;
  gint64 start, end;
  guint64 id;

  dr_engine_config_init_defaults (&config);
  engine = rolled_engine (&config, (uint64_t) t0);

  /* Session 1 (roller): open, frames up to t0 + 2000 (5 samples of 10 ms
   * each: its last sample at t0 + 2040), then a frame with an unsynced
   * clock and another roller's later frame that must not count.
   * Session 2 (other): open, no frames. Session 3: closed properly. */
  begin (store);
  g_assert_true (dr_store_session_begin (store, 1, roller, t0, 500, 77, &error));
  g_assert_true (dr_store_session_update (store, 1, 0, 0.5, &config, engine, &error));
  g_assert_true (dr_store_session_begin (store, 2, other, t0 + 100000, 500, 78, &error));
  g_assert_true (dr_store_session_begin (store, 3, roller, t0 - 100000, 500, 77, &error));
  g_assert_true (dr_store_session_update (store, 3, t0 - 90000, 0.5, &config, engine, &error));
  g_assert_no_error (error);
  add_frame (store, roller, (uint64_t) t0 - 95000, 1, 0);
  add_frame (store, roller, (uint64_t) t0, 2, 0);
  add_frame (store, roller, (uint64_t) t0 + 2000, 3, 0);
  add_frame (store, roller, (uint64_t) t0 + 1000, 4, 0);
  add_frame (store, roller, (uint64_t) t0 + 5000000, 5, DR_FRAME_FLAG_CLOCK_UNSYNCED);
  add_frame (store, other, (uint64_t) t0 + 9000, 1, 0);
  commit (store);
  /* The daemon dies: nothing closes the sessions. */
  g_clear_pointer (&store, dr_store_free);

  store = open_store (f);
  sessions = list_sessions (store, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (sessions), ==, 3);
  g_variant_get_child (sessions, 0, "(t&sxxd)", &id, NULL, &start, &end, NULL);
  g_assert_cmpuint (id, ==, 3);
  g_assert_cmpint (end, ==, t0 - 90000); /* untouched */
  g_variant_get_child (sessions, 1, "(t&sxxd)", &id, NULL, &start, &end, NULL);
  g_assert_cmpuint (id, ==, 1);
  g_assert_cmpint (end, ==, t0 + 2040);
  g_variant_get_child (sessions, 2, "(t&sxxd)", &id, NULL, &start, &end, NULL);
  g_assert_cmpuint (id, ==, 2);
  g_assert_cmpint (end, ==, start); /* other's frame is before its start */

  /* Its totals are what was stored. */
  coverage = session_coverage (store, 1, &error);
  g_assert_no_error (error);
  assert_coverage_matches (coverage, &config, engine);
  g_assert_cmpint (
      store_test_sql_int (f->path, "SELECT count(*) FROM sessions WHERE end_ms IS NULL"), ==, 0);
}

static void
assert_last_session (DrStore *store, int64_t roller, uint64_t id, gboolean resumable)
{
  g_autoptr (GError) error = NULL;
  uint64_t last_id = 0;
  int64_t start = 0, end = 0;
  gboolean last_resumable = !resumable;

  g_assert_true (
      dr_store_last_session (store, roller, &last_id, &start, &end, &last_resumable, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (last_id, ==, id);
  g_assert_cmpint (last_resumable, ==, resumable);
}

/* Only a session nobody ended (a crash left it open) may be resumed; one
 * the daemon ended never is, though both have an end_ms once the store is
 * open, and a resumed one stays resumable until it is ended. */
static void
test_session_resumable (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (DrEngine) engine = NULL;
  DrEngineConfig config;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  const int64_t t0 = 1700000000000;

  dr_engine_config_init_defaults (&config);
  engine = rolled_engine (&config, (uint64_t) t0);
  begin (store);
  g_assert_true (dr_store_session_begin (store, 1, roller, t0, 500, 77, &error));
  g_assert_true (dr_store_session_update (store, 1, t0 + 1490, 0.5, &config, engine, &error));
  g_assert_true (dr_store_session_begin (store, 2, other, t0, 500, 78, &error));
  g_assert_true (dr_store_session_update (store, 2, 0, 0.5, &config, engine, &error));
  g_assert_no_error (error);
  commit (store);
  assert_last_session (store, roller, 1, FALSE);
  assert_last_session (store, other, 2, TRUE);
  g_clear_pointer (&store, dr_store_free);

  /* Reopened (2 is closed at its last frame), and again with 2 untouched. */
  for (int run = 0; run < 2; run++)
    {
      store = open_store (f);
      assert_last_session (store, roller, 1, FALSE);
      assert_last_session (store, other, 2, TRUE);
      g_clear_pointer (&store, dr_store_free);
    }
  g_assert_cmpint (
      store_test_sql_int (f->path, "SELECT count(*) FROM sessions WHERE end_ms IS NULL"), ==, 0);

  /* The resumed session rolls on (end_ms NULL again), then is ended. */
  store = open_store (f);
  begin (store);
  g_assert_true (dr_store_session_update (store, 2, 0, 0.5, &config, engine, &error));
  commit (store);
  assert_last_session (store, other, 2, TRUE);
  begin (store);
  g_assert_true (dr_store_session_update (store, 2, t0 + 1490, 0.5, &config, engine, &error));
  g_assert_no_error (error);
  commit (store);
  assert_last_session (store, other, 2, FALSE);
  g_clear_pointer (&store, dr_store_free);
  store = open_store (f);
  assert_last_session (store, other, 2, FALSE);
}

/* Schema 5 had no sessions.ended: a session still open was left open by a
 * crash (resumable), one with an end was ended. */
static void
test_migrate_from_5 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (DrEngine) engine = NULL;
  DrEngineConfig config;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t other = add_roller (store, "11:22:33:44:55:66");
  const int64_t t0 = 1700000000000;

  dr_engine_config_init_defaults (&config);
  engine = rolled_engine (&config, (uint64_t) t0);
  begin (store);
  g_assert_true (dr_store_session_begin (store, 1, roller, t0, 500, 77, &error));
  g_assert_true (dr_store_session_update (store, 1, t0 + 1490, 0.5, &config, engine, &error));
  g_assert_true (dr_store_session_begin (store, 2, other, t0, 500, 78, &error));
  g_assert_no_error (error);
  commit (store);
  g_clear_pointer (&store, dr_store_free);
  store_test_sql_exec (f->path, UNDO_SCHEMA_6 "UPDATE sessions SET end_ms = NULL WHERE id = 2;"
                                              "PRAGMA user_version = 5");

  store = open_store (f);
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 6);
  assert_last_session (store, roller, 1, FALSE);
  assert_last_session (store, other, 2, TRUE);
}

/* Errors */

static void
test_disk_full (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autofree char *limit = NULL;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t pages = store_test_sql_int (f->path, "PRAGMA page_count");
  DrStoreFrameCounts counts;
  guint stored = 0;
  gboolean full = FALSE;

  begin (store);
  for (guint i = 0; i < 20; i++)
    add_frame (store, roller, 1000 + i, (uint16_t) i, 0);
  commit (store);

  /* A disk with room for a few more pages. */
  limit = g_strdup_printf ("PRAGMA max_page_count = %" G_GINT64_FORMAT, pages + 3);
  g_assert_true (dr_store_exec (store, limit, &error));
  g_assert_no_error (error);

  begin (store);
  for (guint i = 0; i < 10000 && !full; i++)
    {
      uint8_t buf[DR_FRAME_MAX_LEN];
      size_t len = store_test_frame (buf, 100000 + i, (uint16_t) i, 0, 25, 0, 0);
      gboolean inserted;

      if (dr_store_add_frame (store, roller, 0, buf, len, DR_CODEC_OK, &inserted, &error))
        stored++;
      else
        full = TRUE;
    }
  g_assert_true (full);
  g_assert_error (error, DR_ERROR, DR_ERROR_STORE);
  g_assert_true (g_str_has_prefix (error->message, f->path));
  g_assert_nonnull (strstr (error->message, "cannot store frame: database or disk is full"));
  g_clear_error (&error);
  g_test_message ("full after %u frames", stored);

  /* Whatever SQLite did with the transaction, the store goes on: the
   * commit ends it (or finds it rolled back) and the next begin works. */
  if (!dr_store_commit (store, TRUE, &error))
    {
      g_test_message ("commit after a full disk: %s", error->message);
      g_clear_error (&error);
    }
  g_assert_false (dr_store_in_transaction (store));

  /* Room again. */
  g_assert_true (dr_store_exec (store, "PRAGMA max_page_count = 1073741823", &error));
  begin (store);
  g_assert_true (add_frame (store, roller, 500000, 1, 0));
  commit (store);

  /* Nothing committed before was lost. */
  g_clear_pointer (&store, dr_store_free);
  store = open_store (f);
  g_assert_true (dr_store_frame_counts (store, roller, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counts.frames, >=, 21);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames WHERE t0_ms < 1020"),
                   ==, 20);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames WHERE t0_ms = 500000"),
                   ==, 1);
}

static void
test_savepoints (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");

  begin (store);
  g_assert_true (dr_store_savepoint (store, &error));
  add_frame (store, roller, 1000, 1, 0);
  g_assert_true (dr_store_end_savepoint (store, TRUE, &error));
  g_assert_true (dr_store_savepoint (store, &error));
  add_frame (store, roller, 2000, 2, 0);
  g_assert_true (dr_store_end_savepoint (store, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (dr_store_in_transaction (store));
  commit (store);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 1);

  /* A rolled back transaction is gone; the next one works. */
  begin (store);
  add_frame (store, roller, 3000, 3, 0);
  g_assert_true (dr_store_rollback (store));
  g_assert_false (dr_store_in_transaction (store));
  g_assert_true (add_frame (store, roller, 4000, 4, 0));
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 2);
}

static gint64
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_size : 0;
}

/* The write-ahead log is checkpointed at 1 MiB and cut back to that when it
 * starts over: on a small disk it cannot grow into the space the database
 * needs (SQLite's default lets it reach 4 MiB and keeps the file that big). */
static void
test_wal_bounded (Fixture *f, gconstpointer data)
{
  g_autoptr (DrStore) store = open_store (f);
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  gint64 largest = 0;
  guint seq = 0;

  /* About 6 MiB through the log, 20 frames a commit as the daemon batches. */
  for (guint c = 0; c < 400; c++)
    {
      begin (store);
      for (guint i = 0; i < 20; i++, seq++)
        {
          g_autoptr (GError) error = NULL;
          uint8_t buf[DR_FRAME_MAX_LEN];
          size_t len = store_test_frame (buf, 1000000 + 250 * (uint64_t) seq, (uint16_t) seq, 0, 25,
                                         seq * 1000u, 0);

          g_assert_true (
              dr_store_add_frame (store, roller, 0, buf, len, DR_CODEC_OK, NULL, &error));
          g_assert_no_error (error);
        }
      /* Not synced: the log grows the same, without 400 fsyncs. */
      g_assert_true (dr_store_commit (store, FALSE, NULL));
      largest = MAX (largest, file_size (wal));
    }
  g_test_message ("largest write-ahead log: %" G_GINT64_FORMAT " bytes", largest);
  /* 1 MiB, and the one transaction that passes it. */
  g_assert_cmpint (largest, <=, 1024 * 1024 + 128 * 1024);
}

/* Damage (row 7 of the fault matrix, tests/faults/README.md) */

#define DAMAGE_FRAMES 600

/* The store's warnings about a damaged file are expected here: noted,
 * not fatal (g_test_init makes warnings fatal), until damage_log_take (). */
static GMutex damage_log_lock;
static GString *damage_log;
static guint damage_log_handler_id;
static GLogLevelFlags damage_log_saved_fatal;

static void
damage_log_handler (const char *domain, GLogLevelFlags level, const char *message,
                    gpointer user_data)
{
  g_mutex_lock (&damage_log_lock);
  if (damage_log == NULL)
    damage_log = g_string_new (NULL);
  g_string_append_printf (damage_log, "%s\n", message);
  g_mutex_unlock (&damage_log_lock);
}

static void
damage_log_start (void)
{
  damage_log_saved_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  damage_log_handler_id
      = g_log_set_handler ("dermaroll", G_LOG_LEVEL_WARNING, damage_log_handler, NULL);
}

static char *
damage_log_take (void)
{
  char *log;

  g_log_remove_handler ("dermaroll", damage_log_handler_id);
  g_log_set_always_fatal (damage_log_saved_fatal);
  g_mutex_lock (&damage_log_lock);
  log = damage_log ? g_string_free (g_steal_pointer (&damage_log), FALSE) : g_strdup ("");
  g_mutex_unlock (&damage_log_lock);
  return log;
}

/* Our database, checkpointed and closed: DAMAGE_FRAMES frames of one roller. */
static void
make_database (Fixture *f)
{
  g_autoptr (DrStore) store = open_store (f);
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");

  begin (store);
  for (guint i = 0; i < DAMAGE_FRAMES; i++)
    add_frame (store, roller, 1000 + 50 * i, (uint16_t) i, 0);
  commit (store);
}

static GBytes *
read_file (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

/* 4 KiB of garbage (a fixed pattern) at @offset of the file. */
static void
write_garbage (const char *path, goffset offset, gsize len)
{
  g_autofree guint8 *garbage = g_malloc (len);
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  FILE *file = fopen (path, "r+b");

  for (gsize i = 0; i < len; i++)
    garbage[i] = (guint8) g_rand_int_range (rand, 0, 256);
  g_assert_nonnull (file);
  g_assert_cmpint (fseeko (file, offset, SEEK_SET), ==, 0);
  g_assert_cmpuint (fwrite (garbage, 1, len, file), ==, len);
  g_assert_cmpint (fclose (file), ==, 0);
}

/* Garbage over a leaf page of the frames table, in its middle. Returns
 * the page's number. */
static int64_t
damage_frames_leaf (Fixture *f)
{
  int64_t leaves = store_test_sql_int (
      f->path, "SELECT count(*) FROM dbstat WHERE name = 'frames' AND pagetype = 'leaf'");
  g_autofree char *sql
      = g_strdup_printf ("SELECT pageno FROM dbstat WHERE name = 'frames' AND pagetype = 'leaf'"
                         " ORDER BY pageno LIMIT 1 OFFSET %" G_GINT64_FORMAT,
                         leaves / 2);
  int64_t page = store_test_sql_int (f->path, sql);
  int64_t page_size = store_test_sql_int (f->path, "PRAGMA page_size");

  g_assert_cmpint (leaves, >, 4);
  write_garbage (f->path, (page - 1) * page_size, (gsize) page_size);
  return page;
}

/* The one FILE.corrupt-* in the database's directory (NULL: none). */
static char *
find_moved_aside (Fixture *f)
{
  g_autofree char *dir = g_path_get_dirname (f->path);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  char *found = NULL;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    if (strstr (name, ".corrupt-") != NULL && !g_str_has_suffix (name, "-wal")
        && !g_str_has_suffix (name, "-shm"))
      {
        g_assert_null (found);
        found = g_build_filename (dir, name, NULL);
      }
  return found;
}

/* dermaroll.db.corrupt-YYYYMMDDTHHMMSS, byte for byte what was there. */
static void
assert_moved_aside (Fixture *f, const char *moved_to, GBytes *original)
{
  g_autofree char *base = g_path_get_basename (moved_to);
  g_autoptr (GBytes) now = NULL;

  g_assert_true (g_regex_match_simple ("^dermaroll\\.db\\.corrupt-[0-9]{8}T[0-9]{6}$", base, 0, 0));
  now = read_file (moved_to);
  g_assert_true (g_bytes_equal (now, original));
}

static void
test_damage_quick_check (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;
  g_autoptr (GBytes) damaged = NULL;
  int64_t page;

  make_database (f);
  page = damage_frames_leaf (f);
  g_test_message ("garbage over frames leaf page %" G_GINT64_FORMAT, page);
  damaged = read_file (f->path);
  damage_log_start ();

  /* The page is not read at start: the open succeeds... */
  store = open_store (f);
  g_assert_false (dr_store_is_corrupt (store));
  /* ...and the check finds it. */
  g_assert_false (dr_store_quick_check (store, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_STORE);
  g_assert_true (g_str_has_prefix (error->message, f->path));
  g_assert_true (dr_store_is_corrupt (store));
  g_clear_pointer (&store, dr_store_free);
  /* Closing wrote nothing into it. */
  {
    g_autoptr (GBytes) after = read_file (f->path);
    g_assert_true (g_bytes_equal (after, damaged));
  }
  g_free (damage_log_take ());
}

typedef struct
{
  guint failed;
  guint64 committed;
  char *found;
  char *moved_to;
  gboolean damaged;
} WorkerWatch;

static void
on_write_failed (DrStoreWorker *worker, guint64 serial, const GError *error, gpointer user_data)
{
  WorkerWatch *w = user_data;
  w->failed++;
}

static void
on_committed (DrStoreWorker *worker, guint64 serial, gpointer user_data)
{
  WorkerWatch *w = user_data;
  w->committed = MAX (w->committed, serial);
}

static void
on_damaged (DrStoreWorker *worker, const char *found, const char *moved_to, gpointer user_data)
{
  WorkerWatch *w = user_data;
  w->damaged = TRUE;
  w->found = g_strdup (found);
  w->moved_to = g_strdup (moved_to);
}

static gboolean
count_frame_cb (const uint8_t *raw, size_t len, int64_t received_ms, gpointer user_data)
{
  (*(guint *) user_data)++;
  return TRUE;
}

/* A write that reads every frame: it meets the damaged page. */
static gboolean
job_read_all (DrStore *store, gpointer data, GError **error)
{
  guint n = 0;
  return dr_store_foreach_frame (store, 1, 0, 0, count_frame_cb, &n, error);
}

typedef struct
{
  uint64_t t0;
  uint16_t seq;
} FrameJob;

static gboolean
job_add_frame (DrStore *store, gpointer data, GError **error)
{
  FrameJob *job = data;
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = store_test_frame (buf, job->t0, job->seq, 0, 5, 0, 0);
  gboolean inserted;

  return dr_store_add_frame (store, 1, 0, buf, len, DR_CODEC_OK, &inserted, error);
}

static void
wait_worker (gboolean *done, guint64 *committed, guint64 serial)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (!(done ? *done : *committed >= serial) && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

static void
test_damage_during_write (Fixture *f, gconstpointer data)
{
  g_autoptr (DrStoreWorker) worker = NULL;
  g_autoptr (GBytes) damaged = NULL;
  g_autofree char *log = NULL;
  WorkerWatch w = { 0 };
  FrameJob before = { 900000, 1000 }, after = { 900050, 1001 };
  guint64 serial;

  make_database (f);
  damage_frames_leaf (f);
  damaged = read_file (f->path);
  damage_log_start ();

  worker = dr_store_worker_new (open_store (f), NULL);
  g_signal_connect (worker, "write-failed", G_CALLBACK (on_write_failed), &w);
  g_signal_connect (worker, "committed", G_CALLBACK (on_committed), &w);
  g_signal_connect (worker, "damaged", G_CALLBACK (on_damaged), &w);

  /* A frame in the open transaction, then the write that meets the damage:
   * SQLITE_CORRUPT during a write. */
  dr_store_worker_write (worker, job_add_frame, &before, NULL);
  dr_store_worker_write (worker, job_read_all, NULL, NULL);
  serial = dr_store_worker_write (worker, job_add_frame, &after, NULL);
  dr_store_worker_flush (worker);
  wait_worker (NULL, &w.committed, serial);

  g_assert_true (w.damaged);
  g_assert_nonnull (w.moved_to);
  g_assert_nonnull (strstr (w.found, "malformed"));
  g_assert_cmpuint (w.failed, ==, 1); /* the write that met it */
  g_assert_cmpuint (w.committed, >=, serial);
  dr_store_worker_close (worker);

  /* Moved aside untouched: the frame of the open transaction is not in it. */
  assert_moved_aside (f, w.moved_to, damaged);
  {
    g_autofree char *found = find_moved_aside (f);
    g_assert_cmpstr (found, ==, w.moved_to);
  }
  /* A fresh database, with the roller, and the frames not stored before. */
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA quick_check = 1"), ==, 0);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM rollers WHERE id = 1"), ==,
                   1);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 2);
  /* Said in the log, with the file and where it went. */
  log = damage_log_take ();
  g_assert_nonnull (strstr (log, f->path));
  g_assert_nonnull (strstr (log, w.moved_to));
  g_free (w.found);
  g_free (w.moved_to);
}

static void
test_damage_check_worker (Fixture *f, gconstpointer data)
{
  g_autoptr (DrStoreWorker) worker = NULL;
  g_autoptr (GBytes) damaged = NULL;
  WorkerWatch w = { 0 };

  make_database (f);
  damage_frames_leaf (f);
  damaged = read_file (f->path);
  damage_log_start ();

  worker = dr_store_worker_new (open_store (f), NULL);
  g_signal_connect (worker, "damaged", G_CALLBACK (on_damaged), &w);
  dr_store_worker_check (worker);
  wait_worker (&w.damaged, NULL, 0);
  g_assert_true (w.damaged);
  dr_store_worker_close (worker);
  assert_moved_aside (f, w.moved_to, damaged);
  g_free (w.found);
  g_free (w.moved_to);
  g_free (damage_log_take ());
}

/* At start: a damaged file of ours is moved aside and replaced. */
static void
assert_replaced_at_start (Fixture *f, GBytes *damaged)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;
  g_autofree char *moved_to = NULL;
  g_autofree char *damage = NULL;

  damage_log_start ();
  store = dr_store_open_or_replace (f->path, &moved_to, &damage, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_test_message ("%s", moved_to ? "moved aside at open" : "opened; the check finds it");
  if (moved_to == NULL)
    {
      /* SQLite could open it: the integrity check finds it. */
      g_assert_false (dr_store_quick_check (store, &error));
      g_clear_error (&error);
      store = dr_store_replace_damaged (g_steal_pointer (&store), &moved_to, &error);
      g_assert_no_error (error);
      g_assert_nonnull (store);
    }
  else
    {
      g_assert_nonnull (damage);
    }
  assert_moved_aside (f, moved_to, damaged);
  g_assert_true (dr_store_quick_check (store, &error));
  g_assert_no_error (error);
  {
    g_autofree char *log = damage_log_take ();
    g_assert_nonnull (strstr (log, f->path));
  }
}

static void
test_damage_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) damaged = NULL;
  struct stat st;

  make_database (f);
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (truncate (f->path, st.st_size / 2 + 100), ==, 0);
  damaged = read_file (f->path);
  assert_replaced_at_start (f, damaged);
}

static void
test_damage_garbage_header (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) damaged = NULL;

  make_database (f);
  write_garbage (f->path, 0, 100);
  damaged = read_file (f->path);
  assert_replaced_at_start (f, damaged);
}

/* Not ours: refused, never moved or touched. */
static void
assert_refused_at_start (Fixture *f, GBytes *original, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;
  g_autofree char *moved_to = NULL;
  g_autofree char *damage = NULL;
  g_autofree char *aside = NULL;
  g_autoptr (GBytes) after = NULL;

  store = dr_store_open_or_replace (f->path, &moved_to, &damage, &error);
  g_assert_null (store);
  g_assert_error (error, DR_ERROR, DR_ERROR_STORE);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, f->path));
  g_assert_nonnull (strstr (error->message, what));
  g_assert_nonnull (strstr (error->message, "refusing to touch it"));
  g_assert_null (moved_to);
  aside = find_moved_aside (f);
  g_assert_null (aside);
  after = read_file (f->path);
  g_assert_true (g_bytes_equal (after, original));
}

static void
test_damage_other_application (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_path_get_dirname (f->path);
  g_autoptr (GBytes) original = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  store_test_sql_exec (
      f->path, "CREATE TABLE photos (id INTEGER PRIMARY KEY); INSERT INTO photos DEFAULT VALUES");
  original = read_file (f->path);
  assert_refused_at_start (f, original, "another application");
  /* Even with a damaged page, it is still someone else's. */
  write_garbage (f->path, 4096, 4096);
  g_clear_pointer (&original, g_bytes_unref);
  original = read_file (f->path);
  assert_refused_at_start (f, original, "not a dermaroll database");
}

static void
test_damage_text_file (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_path_get_dirname (f->path);
  const char *text = "[Desktop Entry]\nName=my notes\n";
  g_autoptr (GBytes) original = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (f->path, text, -1, NULL));
  original = read_file (f->path);
  assert_refused_at_start (f, original, "a text file");
}

static void
test_damage_salvage (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;
  g_autoptr (GBytes) damaged = NULL;
  g_autofree char *damaged_path = g_strconcat (f->path, ".damaged", NULL);
  DrEngineConfig config;
  DrSalvageResult result;
  int64_t page, rows_on_page;

  make_database (f);
  /* How many frames the page to be damaged holds. */
  {
    int64_t leaves = store_test_sql_int (
        f->path, "SELECT count(*) FROM dbstat WHERE name = 'frames' AND pagetype = 'leaf'");
    g_autofree char *sql
        = g_strdup_printf ("SELECT ncell FROM dbstat WHERE name = 'frames' AND pagetype = 'leaf'"
                           " ORDER BY pageno LIMIT 1 OFFSET %" G_GINT64_FORMAT,
                           leaves / 2);
    rows_on_page = store_test_sql_int (f->path, sql);
  }
  page = damage_frames_leaf (f);
  g_assert_cmpint (g_rename (f->path, damaged_path), ==, 0);
  damaged = read_file (damaged_path);

  dr_engine_config_init_defaults (&config);
  store = open_store (f);
  g_assert_true (dr_salvage (damaged_path, store, &config, &result, &error));
  g_assert_no_error (error);
  g_test_message ("page %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT
                  " frames) damaged: %" G_GUINT64_FORMAT " frames salvaged, %" G_GUINT64_FORMAT
                  " sessions",
                  page, rows_on_page, result.frames_stored, result.sessions);
  /* Every frame but those on the damaged page, once. */
  g_assert_cmpuint (result.frames_stored, ==, DAMAGE_FRAMES - rows_on_page);
  g_assert_cmpuint (result.frames_read, ==, DAMAGE_FRAMES - rows_on_page);
  g_assert_cmpuint (result.rollers, ==, 1);
  g_assert_cmpuint (result.sessions, >=, 1);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==,
                   DAMAGE_FRAMES - rows_on_page);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM sessions"), ==,
                   (int64_t) result.sessions);
  g_assert_cmpint (
      store_test_sql_int (f->path, "SELECT count(*) FROM sessions WHERE end_ms IS NULL"), ==, 0);
  /* The damaged file was only read. */
  {
    g_autoptr (GBytes) after = read_file (damaged_path);
    g_assert_true (g_bytes_equal (after, damaged));
  }
  /* A second salvage adds nothing. */
  g_assert_true (dr_salvage (damaged_path, store, &config, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (result.frames_stored, ==, 0);
}

/* People */

/* A database of schema 4, made from its schema as the daemon before people
 * wrote it (tests/data/schema-4.sql) and filled with rows as that daemon
 * wrote them: everything becomes the default person's, nothing is lost. */
static void
test_migrate_from_4 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *schema = NULL;
  g_autofree char *dir = g_path_get_dirname (f->path);
  g_autoptr (DrStore) store = NULL;
  g_autoptr (GPtrArray) people = NULL;
  g_autoptr (GPtrArray) sessions = NULL;
  g_autoptr (GPtrArray) rollers = NULL;
  g_autoptr (GHashTable) by_person = NULL;
  g_autoptr (GArray) all = NULL;
  g_auto (GStrv) excluded = NULL;
  const DrStorePerson *person;
  DrEngineConfig config;
  GArray *theirs;
  uint8_t frame[DR_FRAME_MAX_LEN];
  size_t len;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  dr_engine_config_init_defaults (&config);
  g_assert_true (g_file_get_contents (
      g_test_get_filename (G_TEST_DIST, "data", "schema-4.sql", NULL), &schema, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, schema, NULL, NULL, NULL), ==, SQLITE_OK);
  /* The rows as the daemon of schema 4 wrote them (its own statements). */
  g_assert_cmpint (
      sqlite3_exec (
          db,
          "PRAGMA application_id = 1146244172; PRAGMA user_version = 4;"
          "INSERT INTO rollers (address, name) VALUES ('AA:BB:CC:DD:EE:FF', 'Roller A');"
          "INSERT INTO rollers (address, name) VALUES ('11:22:33:44:55:66', 'Roller B');"
          "UPDATE rollers SET paired = 1 WHERE id = 1;"
          "INSERT INTO heads (head_id, sessions) VALUES (77, 3);"
          "INSERT INTO sessions (id, roller_id, start_ms, needle_length_um, head_id, head_counted)"
          " VALUES (1, 1, 1000000, 1500, 77, 1), (2, 2, 5000000, 250, 77, 1),"
          "  (3, 1, 9000000, 500, 77, 0);"
          "UPDATE sessions SET end_ms = 2000000, mean_coverage = 0.5 WHERE id = 1;"
          "UPDATE sessions SET end_ms = 6000000, mean_coverage = 0.25 WHERE id = 2;"
          "INSERT INTO session_zones (session_id, zone, zone_id, coverage, passes, rolled_cm2,"
          "  revolutions, punctures_per_cm2, peak_force_n, source, passes_horizontal,"
          "  passes_vertical, passes_diagonal, passes_unknown)"
          " VALUES (1, 'chin', 5, 0.5, 3, 54, 10, 100, 3.5, 'sensor', 0, 0, 0, 3),"
          "  (2, 'forehead', 0, 0.25, 1.5, 90, 12, 50, 2.5, 'user', 0, 0, 0, 1.5);"
          "INSERT INTO events (session_id, roller_id, time_ms, kind) VALUES"
          "  (1, 1, 1000000, 'session-started'), (1, 1, 2000000, 'session-ended'),"
          "  (2, 2, 5000000, 'session-started'), (NULL, 1, 7000000, 'seq-gap');"
          "INSERT OR REPLACE INTO settings (key, value) VALUES ('excluded-zone:' || 'nose', 1);"
          "INSERT OR REPLACE INTO settings (key, value) VALUES ('excluded-zone:' || 'chin', 1);"
          "INSERT OR REPLACE INTO settings (key, value) VALUES ('something-else', 'kept');",
          NULL, NULL, NULL),
      ==, SQLITE_OK);
  len = store_test_frame (frame, 1000000, 1, 0, 5, 0, 5);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "INSERT INTO frames (roller_id, t0_ms, seq, flags,"
                                       " received_ms, raw) VALUES (1, 1000000, 1, 0, 1000500, ?)",
                                       -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_blob (stmt, 1, frame, (int) len, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  g_assert_cmpint (g_chmod (f->path, 0600), ==, 0);

  store = open_store (f);
  g_assert_cmpint (store_test_sql_int (f->path, "PRAGMA user_version"), ==, 6);

  /* One person, the default, named "default", with the excluded zones. */
  people = dr_store_list_people (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (people->len, ==, 1);
  person = g_ptr_array_index (people, 0);
  g_assert_cmpstr (person->name, ==, "default");
  g_assert_true (person->is_default);
  g_assert_cmpint (person->id, ==, dr_store_default_person (store));
  g_assert_cmpstrv (person->excluded_zones, ((const char *[]){ "chin", "nose", NULL }));
  excluded = dr_store_excluded_zones (store, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (excluded, ((const char *[]){ "chin", "nose", NULL }));
  /* moved, not copied; other settings untouched */
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM settings"
                                                " WHERE key GLOB 'excluded-zone:*'"),
                   ==, 0);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM settings"
                                                " WHERE key = 'something-else' AND value = 'kept'"),
                   ==, 1);

  /* Rollers and sessions are the default person's; nothing else moved. */
  rollers = dr_store_list_rollers (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rollers->len, ==, 2);
  for (guint i = 0; i < rollers->len; i++)
    g_assert_cmpint (((DrStoreRoller *) g_ptr_array_index (rollers, i))->person_id, ==, person->id);
  g_assert_true (((DrStoreRoller *) g_ptr_array_index (rollers, 0))->paired);
  sessions = dr_store_list_person_sessions (store, 0, 0, person->id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sessions->len, ==, 3);
  for (guint i = 0; i < sessions->len; i++)
    {
      const DrStoreSession *s = g_ptr_array_index (sessions, i);
      g_assert_cmpuint (s->id, ==, i + 1);
      g_assert_cmpint (s->person_id, ==, person->id);
    }
  /* the open one was closed as a crash's are, at its last frame or start */
  g_assert_cmpint (((DrStoreSession *) g_ptr_array_index (sessions, 2))->end_ms, ==, 9000000);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 1);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM events"), ==, 4);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM session_zones"), ==, 2);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT sessions FROM heads WHERE head_id = 77"),
                   ==, 3);

  /* The rest rule's history is the default person's, as it was everyone's. */
  all = dr_store_zone_treatments_before (store, &config, G_MAXINT64, &error);
  g_assert_no_error (error);
  by_person = dr_store_treatments_by_person (store, &config, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (by_person), ==, 1);
  theirs = g_hash_table_lookup (by_person, &person->id);
  g_assert_nonnull (theirs);
  g_assert_cmpuint (theirs->len, ==, 2);
  g_assert_cmpuint (all->len, ==, 2);

  /* A new roller is the default person's too. */
  g_assert_cmpint (add_roller (store, "22:22:22:22:22:22"), ==, 3);
  g_assert_cmpint (
      store_test_sql_int (f->path,
                          "SELECT person_id FROM rollers WHERE address = '22:22:22:22:22:22'"),
      ==, person->id);
}

static void
test_people (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GPtrArray) people = NULL;
  int64_t def = dr_store_default_person (store);
  int64_t alice = 0, bob = 0, carol = 0;

  g_assert_cmpint (def, ==, 1);
  g_assert_true (dr_store_add_person (store, "Alice", &alice, &error));
  g_assert_no_error (error);
  g_assert_true (dr_store_add_person (store, "Bob", &bob, &error));
  g_assert_cmpint (alice, ==, 2);
  g_assert_cmpint (bob, ==, 3);

  /* bad names, taken names */
  g_assert_false (dr_store_add_person (store, "", NULL, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (dr_store_add_person (store, " \t ", NULL, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (dr_store_add_person (store, "Al\x1b[2Jice", NULL, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (dr_store_add_person (store, "Alice", NULL, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (dr_store_rename_person (store, bob, "Alice", &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (dr_store_rename_person (store, 99, "Zed", &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (dr_store_rename_person (store, bob, "Bob", &error));
  g_assert_true (dr_store_rename_person (store, bob, "Robert", &error));
  g_assert_no_error (error);

  /* the default person stays */
  g_assert_false (dr_store_remove_person (store, def, FALSE, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_REFUSED);
  g_clear_error (&error);

  /* ids are never given again */
  g_assert_true (dr_store_remove_person (store, bob, FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (dr_store_remove_person (store, bob, FALSE, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (dr_store_add_person (store, "Robert", &carol, &error));
  g_assert_cmpint (carol, ==, 4);
  g_assert_true (dr_store_set_person_zone_excluded (store, alice, "nose", TRUE, &error));
  g_assert_true (dr_store_set_person_zone_excluded (store, carol, "chin", TRUE, &error));
  g_assert_false (dr_store_set_person_zone_excluded (store, bob, "chin", TRUE, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_pointer (&store, dr_store_free);

  store = open_store (f);
  people = dr_store_list_people (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (people->len, ==, 3);
  g_assert_cmpstr (((DrStorePerson *) g_ptr_array_index (people, 0))->name, ==, "default");
  g_assert_cmpstr (((DrStorePerson *) g_ptr_array_index (people, 1))->name, ==, "Alice");
  g_assert_cmpstrv (((DrStorePerson *) g_ptr_array_index (people, 1))->excluded_zones,
                    ((const char *[]){ "nose", NULL }));
  g_assert_cmpstr (((DrStorePerson *) g_ptr_array_index (people, 2))->name, ==, "Robert");
  g_assert_cmpint (((DrStorePerson *) g_ptr_array_index (people, 2))->id, ==, carol);
  g_assert_cmpstrv (((DrStorePerson *) g_ptr_array_index (people, 2))->excluded_zones,
                    ((const char *[]){ "chin", NULL }));
}

/* Sessions of a roller belong to its person as each begins; a person
 * removed keeps their sessions (nobody's) or takes them along, never the
 * frames. */
static void
test_people_sessions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (DrEngine) engine = NULL;
  g_autoptr (GHashTable) by_person = NULL;
  g_autoptr (GArray) treatments = NULL;
  DrEngineConfig config;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t def = dr_store_default_person (store);
  int64_t alice = 0, bob = 0;
  uint64_t max_id = 0, last_id = 0;
  int64_t last_start = 0, last_end = 0;
  gboolean resumable = TRUE;

  dr_engine_config_init_defaults (&config);
  engine = rolled_engine (&config, 1000000);
  g_assert_true (dr_store_add_person (store, "Alice", &alice, &error));
  g_assert_true (dr_store_add_person (store, "Bob", &bob, &error));
  g_assert_no_error (error);
  g_assert_true (add_frame (store, roller, 1000000, 1, 0));

  /* 1 default's, 2 Alice's, 3 Bob's, 4 Alice's */
  g_assert_true (dr_store_session_begin (store, 1, roller, 1000000, 500, 77, &error));
  g_assert_true (dr_store_session_update (store, 1, 1001490, 0.5, &config, engine, &error));
  g_assert_true (dr_store_set_roller_person (store, roller, alice, &error));
  g_assert_true (dr_store_session_begin (store, 2, roller, 2000000, 1500, 77, &error));
  g_assert_true (dr_store_session_update (store, 2, 2001490, 0.5, &config, engine, &error));
  g_assert_true (dr_store_add_event (
      store, 2, roller, &config, &(DrEvent){ .kind = DR_EVENT_SESSION_STARTED, .time_ms = 2000000 },
      &error));
  g_assert_true (dr_store_set_roller_person (store, roller, bob, &error));
  g_assert_true (dr_store_session_begin (store, 3, roller, 3000000, 500, 77, &error));
  g_assert_true (dr_store_session_update (store, 3, 3001490, 0.5, &config, engine, &error));
  g_assert_true (dr_store_set_roller_person (store, roller, alice, &error));
  g_assert_true (dr_store_session_begin (store, 4, roller, 4000000, 250, 77, &error));
  g_assert_true (dr_store_session_update (store, 4, 4001490, 0.5, &config, engine, &error));
  g_assert_no_error (error);
  g_assert_false (dr_store_set_roller_person (store, roller, 99, &error));
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_clear_error (&error);

  rows = dr_store_list_person_sessions (store, 0, 0, alice, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpuint (((DrStoreSession *) g_ptr_array_index (rows, 0))->id, ==, 2);
  g_assert_cmpuint (((DrStoreSession *) g_ptr_array_index (rows, 1))->id, ==, 4);
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = dr_store_list_person_sessions (store, 0, 0, 99, &error);
  g_assert_error (error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_assert_null (rows);
  g_clear_error (&error);

  /* the rest rule's history per person */
  treatments = dr_store_person_treatments_before (store, &config, alice, G_MAXINT64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (treatments->len, >, 0);
  for (guint i = 0; i < treatments->len; i++)
    {
      const DrTreatment *t = &g_array_index (treatments, DrTreatment, i);
      g_assert_true (t->needle_length_um == 1500 || t->needle_length_um == 250);
    }
  g_clear_pointer (&treatments, g_array_unref);
  treatments = dr_store_person_treatments_before (store, &config, alice, 3000000, &error);
  for (guint i = 0; i < treatments->len; i++)
    g_assert_cmpint (g_array_index (treatments, DrTreatment, i).needle_length_um, ==, 1500);
  by_person = dr_store_treatments_by_person (store, &config, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (by_person), ==, 3);

  /* Bob goes, his session stays: nobody's */
  g_assert_true (dr_store_remove_person (store, bob, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM sessions"
                                                " WHERE id = 3 AND person_id IS NULL"),
                   ==, 1);
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = dr_store_list_person_sessions (store, 0, 0, 0, &error);
  g_assert_cmpuint (rows->len, ==, 4);
  g_assert_cmpint (((DrStoreSession *) g_ptr_array_index (rows, 2))->person_id, ==, 0);
  g_assert_cmpint (((DrStoreSession *) g_ptr_array_index (rows, 0))->person_id, ==, def);

  /* Alice goes with her data: her sessions, totals and events; never the
   * frames; her roller is the default person's again */
  g_assert_true (dr_store_remove_person (store, alice, TRUE, &error));
  g_assert_no_error (error);
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = dr_store_list_sessions (store, 0, 0, &error);
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpuint (((DrStoreSession *) g_ptr_array_index (rows, 0))->id, ==, 1);
  g_assert_cmpuint (((DrStoreSession *) g_ptr_array_index (rows, 1))->id, ==, 3);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM session_zones"
                                                " WHERE session_id IN (2, 4)"),
                   ==, 0);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM events WHERE session_id = 2"),
                   ==, 0);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 1);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT person_id FROM rollers"), ==, def);
  /* the deleted ids are not given again; the roller's last session is the
   * deleted one's time, with nothing to resume */
  g_assert_true (dr_store_max_session_id (store, &max_id, &error));
  g_assert_cmpuint (max_id, ==, 4);
  g_assert_true (
      dr_store_last_session (store, roller, &last_id, &last_start, &last_end, &resumable, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (last_id, ==, 0);
  g_assert_cmpint (last_start, ==, 4000000);
  g_assert_cmpint (last_end, ==, 4001490);
}

/* A damaged file is replaced by a fresh one with the same people. */
static void
test_people_damage (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GPtrArray) people = NULL;
  g_autoptr (GPtrArray) rollers = NULL;
  g_autofree char *moved_to = NULL;
  int64_t roller = add_roller (store, "AA:BB:CC:DD:EE:FF");
  int64_t alice = 0, bob = 0, carol = 0;

  g_assert_true (dr_store_add_person (store, "Alice", &alice, &error));
  g_assert_true (dr_store_add_person (store, "Bob", &bob, &error));
  g_assert_true (dr_store_set_person_zone_excluded (store, alice, "nose", TRUE, &error));
  g_assert_true (dr_store_set_roller_person (store, roller, alice, &error));
  g_assert_true (dr_store_remove_person (store, bob, FALSE, &error));
  g_assert_no_error (error);

  store = dr_store_replace_damaged (g_steal_pointer (&store), &moved_to, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  people = dr_store_list_people (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (people->len, ==, 2);
  g_assert_cmpint (((DrStorePerson *) g_ptr_array_index (people, 1))->id, ==, alice);
  g_assert_cmpstr (((DrStorePerson *) g_ptr_array_index (people, 1))->name, ==, "Alice");
  g_assert_cmpstrv (((DrStorePerson *) g_ptr_array_index (people, 1))->excluded_zones,
                    ((const char *[]){ "nose", NULL }));
  g_assert_true (((DrStorePerson *) g_ptr_array_index (people, 0))->is_default);
  rollers = dr_store_list_rollers (store, &error);
  g_assert_cmpuint (rollers->len, ==, 1);
  g_assert_cmpint (((DrStoreRoller *) g_ptr_array_index (rollers, 0))->person_id, ==, alice);
  /* Bob's id stays given */
  g_assert_true (dr_store_add_person (store, "Carol", &carol, &error));
  g_assert_no_error (error);
  g_assert_cmpint (carol, ==, bob + 1);
}

/* The notification kinds the user switched: kept as given, read again on
 * open, and carried into a fresh file after damage. */
static void
test_notification_choices (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = open_store (f);
  g_autoptr (GHashTable) choices = dr_store_notification_choices (store);
  g_autofree char *moved_to = NULL;

  g_assert_cmpuint (g_hash_table_size (choices), ==, 0);
  g_assert_true (dr_store_set_notification_enabled (store, "low-battery", FALSE, &error));
  g_assert_true (dr_store_set_notification_enabled (store, "zone-ready", FALSE, &error));
  g_assert_true (dr_store_set_notification_enabled (store, "zone-ready", TRUE, &error));
  g_assert_no_error (error);
  g_clear_pointer (&store, dr_store_free);

  store = open_store (f);
  g_clear_pointer (&choices, g_hash_table_unref);
  choices = dr_store_notification_choices (store);
  g_assert_cmpuint (g_hash_table_size (choices), ==, 2);
  g_assert_false (GPOINTER_TO_INT (g_hash_table_lookup (choices, "low-battery")));
  g_assert_true (GPOINTER_TO_INT (g_hash_table_lookup (choices, "zone-ready")));

  store = dr_store_replace_damaged (g_steal_pointer (&store), &moved_to, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_clear_pointer (&choices, g_hash_table_unref);
  choices = dr_store_notification_choices (store);
  g_assert_cmpuint (g_hash_table_size (choices), ==, 2);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT value FROM settings"
                                                " WHERE key = 'notify:low-battery'"),
                   ==, 0);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT value FROM settings"
                                                " WHERE key = 'notify:zone-ready'"),
                   ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func)                                                                            \
  g_test_add ("/store/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  g_test_add_func ("/store/default-path", test_default_path);
  ADD ("open/permissions", test_open_permissions);
  ADD ("open/permissions-umask", test_open_permissions_umask);
  ADD ("open/existing-dir", test_open_existing_dir);
  ADD ("open/existing-private-dir", test_open_existing_private_dir);
  ADD ("open/existing-world-readable", test_open_existing_world_readable);
  ADD ("open/schema-version", test_schema_version);
  ADD ("open/not-a-database", test_not_a_database);
  ADD ("open/foreign-database", test_foreign_database);
  ADD ("open/newer-version", test_newer_version);
  ADD ("rollers", test_rollers);
  ADD ("rollers/delete-if-unused", test_rollers_delete_if_unused);
  ADD ("heads", test_heads);
  ADD ("excluded-zones", test_excluded_zones);
  ADD ("frames/duplicate", test_frames_duplicate);
  ADD ("frames/malformed", test_frames_malformed);
  ADD ("frames/malformed-ring", test_frames_malformed_ring);
  ADD ("frames/foreach", test_frames_foreach);
  ADD ("frames/production-order", test_frames_production_order);
  ADD ("session-samples", test_session_samples);
  ADD ("acks", test_acks);
  ADD ("acks/clock-set-back", test_acks_clock_set_back);
  ADD ("sessions", test_sessions);
  ADD ("events", test_events);
  ADD ("zone-last-treated", test_zone_last_treated);
  ADD ("zone-treatments", test_zone_treatments);
  ADD ("crash-recovery", test_crash_recovery);
  ADD ("head-counted", test_head_counted);
  ADD ("session-resumable", test_session_resumable);
  ADD ("open/migrate-from-1", test_migrate_from_1);
  ADD ("open/migrate-from-2", test_migrate_from_2);
  ADD ("open/migrate-from-3", test_migrate_from_3);
  ADD ("open/migrate-from-4", test_migrate_from_4);
  ADD ("open/migrate-from-5", test_migrate_from_5);
  ADD ("people", test_people);
  ADD ("people/sessions", test_people_sessions);
  ADD ("people/damage", test_people_damage);
  ADD ("settings/notification-choices", test_notification_choices);
  ADD ("disk-full", test_disk_full);
  ADD ("savepoints", test_savepoints);
  ADD ("wal-bounded", test_wal_bounded);
  ADD ("damage/quick-check", test_damage_quick_check);
  ADD ("damage/during-write", test_damage_during_write);
  ADD ("damage/check-on-worker", test_damage_check_worker);
  ADD ("damage/truncated", test_damage_truncated);
  ADD ("damage/garbage-header", test_damage_garbage_header);
  ADD ("damage/other-application", test_damage_other_application);
  ADD ("damage/text-file", test_damage_text_file);
  ADD ("damage/salvage", test_damage_salvage);
#undef ADD

  return g_test_run ();
}
