/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-test-util.h: helpers shared by the store tests and the store
 * benchmark: scratch directories, encoded frames, and a second connection
 * to the database file.
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "roller-protocol.h"

/* Removes @path and everything under it. */
static inline void
store_test_rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);

  if (dir != NULL)
    {
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          store_test_rm_rf (child);
        }
      g_dir_close (dir);
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}

/* A well-formed frame of @n samples: 10 ms apart, 40 ticks each, 2 N in
 * @zone. Returns its length. */
static inline size_t
store_test_frame (uint8_t buf[DR_FRAME_MAX_LEN], uint64_t t0_ms, uint16_t seq, uint8_t flags,
                  unsigned n, uint32_t first_ticks, uint8_t zone)
{
  DrFrame frame;
  size_t len = 0;

  memset (&frame, 0, sizeof frame);
  frame.version = DR_PROTOCOL_VERSION;
  frame.flags = flags;
  frame.seq = seq;
  frame.t0_ms = t0_ms;
  frame.n_samples = (uint8_t) n;
  for (unsigned i = 0; i < n; i++)
    {
      frame.samples[i].dt_ms = i == 0 ? 0 : 10;
      frame.samples[i].ticks = first_ticks + 40 * i;
      frame.samples[i].force_mn = 2000;
      frame.samples[i].zone = zone;
    }
  g_assert_cmpint (dr_frame_encode (&frame, buf, DR_FRAME_MAX_LEN, &len), ==, DR_CODEC_OK);
  return len;
}

/* A second connection, as another process would see the file: @sql
 * stepped to its first row on a read-only connection of its own. Give it
 * back with store_test_sql_done (). */
static inline sqlite3_stmt *
store_test_sql_row (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return stmt;
}

static inline void
store_test_sql_done (sqlite3_stmt *stmt)
{
  sqlite3 *db = sqlite3_db_handle (stmt);

  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* The first column of @sql's first row (a count, a PRAGMA). */
static inline int64_t
store_test_sql_int (const char *path, const char *sql)
{
  sqlite3_stmt *stmt = store_test_sql_row (path, sql);
  int64_t value = sqlite3_column_int64 (stmt, 0);

  store_test_sql_done (stmt);
  return value;
}

static inline char *
store_test_sql_text (const char *path, const char *sql)
{
  sqlite3_stmt *stmt = store_test_sql_row (path, sql);
  char *value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));

  store_test_sql_done (stmt);
  return value;
}

/* Runs @sql that returns no rows on a writable connection of its own:
 * what another program could do to the file. */
static inline void
store_test_sql_exec (const char *path, const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}
