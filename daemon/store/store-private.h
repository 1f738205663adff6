/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-private.h: what the parts of the store share, and nothing outside
 * daemon/store/ may use.
 *
 * The connection and its cached statements (struct _DrStore), the error
 * and statement helpers every part runs its SQL through, and the steps of
 * dr_store_open () that live with the tables they concern.
 */
#pragma once

#include <sqlite3.h>

#include "store.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

struct _DrStore
{
  char *path;
  sqlite3 *db;
  /* FALSE when the file system refused WAL; then every commit runs with
   * synchronous=FULL and is durable by itself. */
  gboolean wal;
  sqlite3_stmt *insert_frame;
  sqlite3_stmt *insert_malformed;
  sqlite3_stmt *count_malformed; /* one more kept */
  sqlite3_stmt *drop_malformed;  /* the oldest beyond the ring, if any */
  sqlite3_stmt *count_dropped;   /* it went */
  /* The worker runs every write job in a savepoint: cached, as jobs are
   * as frequent as frames. */
  sqlite3_stmt *savepoint;
  sqlite3_stmt *release;
  sqlite3_stmt *rollback_to;
  /* SQLite said SQLITE_CORRUPT or SQLITE_NOTADB, or quick_check found a
   * problem: nothing more may be written into this file. */
  gboolean corrupt;
  /* What a fresh database needs to go on where this one stopped, should
   * this one be found damaged (store-damage.c): rollers by id
   * (DrStoreRoller*) and the sessions still open (StoreOpenSession*). */
  GHashTable *rollers;
  GHashTable *open_sessions;
  /* The people (StorePerson* by id), as the people table holds them; the
   * default person's id and the highest id ever given (AUTOINCREMENT's). */
  GHashTable *people;
  int64_t default_person;
  int64_t people_seq;
  /* The notification kinds the user switched, by kind key: a copy of the
   * "notify:KIND" settings rows, so a fresh file after damage keeps them. */
  GHashTable *notify_choices;
};

typedef struct
{
  int64_t id;
  char *name;
  GHashTable *excluded; /* zone names (a set) */
} StorePerson;

/* store-people.c */
void store_person_free (gpointer person);
/* NotFound, with its id, for a person the people table does not have. */
gboolean store_person_exists (DrStore *self, int64_t person_id, GError **error);
/* dr_store_open (): the people table into the cache. */
gboolean store_load_people (DrStore *self, GError **error);
/* store-settings.c: the notification choices into the cache (dr_store_open ()),
 * and @choices (a cache of a damaged file's) into @fresh. */
gboolean store_load_settings (DrStore *self, GError **error);
gboolean store_carry_over_settings (DrStore *fresh, GHashTable *choices, GError **error);
/* store-damage.c: @people (StorePerson* by id) into @fresh, same ids. */
gboolean store_carry_over_people (DrStore *fresh, GHashTable *people, int64_t default_person,
                                  int64_t people_seq, GError **error);

typedef struct
{
  uint64_t id;
  int64_t roller_id;
  int64_t start_ms;
  uint16_t needle_length_um;
  uint32_t head_id;
} StoreOpenSession;

/* store-damage.c: keeps the caches above; @name NULL or "" keeps the
 * known name. */
void store_remember_roller (DrStore *self, int64_t roller_id, const char *address, const char *name,
                            int paired);
void store_remember_session (DrStore *self, const StoreOpenSession *session);
void store_remember_roller_person (DrStore *self, int64_t roller_id, int64_t person_id);
void store_forget_session (DrStore *self, uint64_t session_id);

/* Errors (store.c): each says what failed, the database ones with the
 * file; they return FALSE. */
gboolean store_set_db_error (DrStore *self, GError **error, const char *what);
gboolean store_no_session_error (GError **error, uint64_t session_id);
gboolean store_no_roller_error (GError **error, int64_t roller_id);

/* Statements (store.c). store_prepare () for a statement used once and
 * finalized, store_prepare_persistent () for one cached for the store's
 * lifetime. */
sqlite3_stmt *store_prepare (DrStore *self, const char *sql, GError **error);
sqlite3_stmt *store_prepare_persistent (DrStore *self, const char *sql, GError **error);
/* Runs a statement that returns no rows and resets it. */
gboolean store_step_done (DrStore *self, sqlite3_stmt *stmt, const char *what, GError **error);
/* Steps a query that returns at most one row: TRUE with *has_row set. */
gboolean store_step_row (DrStore *self, sqlite3_stmt *stmt, gboolean *has_row, const char *what,
                         GError **error);
gboolean store_exec (DrStore *self, const char *sql, const char *what, GError **error);
/* The first column of @sql's row, 0 when there is none. */
gboolean store_query_int (DrStore *self, const char *sql, int64_t *value, GError **error);

/* An UPDATE of one roller's row (store-rollers.c): NotFound, not a silent
 * no-op, when no roller has that id. */
gboolean store_step_roller_update (DrStore *self, sqlite3_stmt *stmt, int64_t roller_id,
                                   const char *what, GError **error);

/* dr_store_open () (store.c), telling whether SQLite found the file
 * damaged or not a database when it fails. */
DrStore *store_open (const char *path, gboolean *damaged, GError **error);

/* The steps of dr_store_open (), in order, each with its tables.
 * store-schema.c: a dermaroll database, an empty file, or an error. */
gboolean store_check_identity (DrStore *self, int64_t *version, GError **error);
/* store-schema.c: the schema brought forward to this version. */
gboolean store_migrate (DrStore *self, GError **error);
/* store-sessions.c: sessions a crashed daemon left open, closed. */
gboolean store_close_open_sessions (DrStore *self, GError **error);
/* store-frames.c: the frame inserts, prepared. */
gboolean store_prepare_frame_statements (DrStore *self, GError **error);

/* Little-endian fields of a raw frame's header (PROTOCOL.md). */
static inline uint16_t
store_read_u16le (const uint8_t *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

static inline uint64_t
store_read_u64le (const uint8_t *p)
{
  uint64_t v = 0;

  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

G_END_DECLS
