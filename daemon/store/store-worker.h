/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-worker.h: runs a DrStore on its own thread.
 *
 * The main loop never waits for SQLite: writes are queued in order and
 * applied by the worker inside one transaction, committed durably at most
 * 250 ms after the first uncommitted write. Queuing a write does not wake
 * the worker: it takes what was queued in batches, at the commit deadline
 * or once a batch is large. Each commit reports back on the main context,
 * which is what releases ACKs to the roller. The worker sleeps when there
 * is nothing to do: no timer wakes it while idle. Queries go through the
 * same queue, so they see every write queued before them.
 */
#pragma once

#include <gio/gio.h>

#include "store.h"

G_BEGIN_DECLS

#define DR_TYPE_STORE_WORKER (dr_store_worker_get_type ())
G_DECLARE_FINAL_TYPE (DrStoreWorker, dr_store_worker, DR, STORE_WORKER, GObject)

/* A write, run on the worker thread inside the open transaction (it must
 * not begin or commit itself). A write that fails leaves nothing behind
 * (each runs in a savepoint, or is one statement, which SQLite undoes by
 * itself: see dr_store_worker_write_statement); its error is logged (with
 * the file) and the
 * worker goes on with the next job: a failing write never stalls the
 * queue. When SQLite rolls back the whole transaction (I/O error, disk
 * full), the writes before in the batch are run again once. */
typedef gboolean (*DrStoreWriteFunc) (DrStore *store, gpointer data, GError **error);
/* A query, run on the worker thread; its result is handed to the callback
 * on the main context. A query cancelled before it runs is not run
 * (G_IO_ERROR_CANCELLED); once run, its result is delivered even if
 * cancelled meanwhile, so that it is never leaked. */
typedef gpointer (*DrStoreQueryFunc) (DrStore *store, gpointer data, GError **error);
/* Signals, emitted on the worker's main context:
 *
 * committed (guint64 serial): after each durable commit, with the serial
 * of the last write job it handled: every write with a serial up to it is
 * on disk, except those reported by write-failed, which comes first.
 *
 * write-failed (guint64 serial, GError *error): for each write job that
 * failed (already logged): its data is not on disk, so whatever waits for
 * it (an ACK to the roller) must not be released; the roller sends
 * unacknowledged frames again.
 *
 * damaged (const char *found, const char *moved_to): the database was found
 * damaged (SQLITE_CORRUPT or SQLITE_NOTADB from any statement, or the
 * integrity check). Nothing more was written into it; it was moved to
 * @moved_to (with its -wal and -shm) and the worker goes on with a fresh
 * database at the same path, where the writes never committed to the old
 * one are run again. @moved_to NULL: it could not be moved aside, and
 * every later job fails. Comes before the committed signal of its report.
 *
 * The "backlogged" property (boolean, notified on the worker's main
 * context): TRUE from the moment more writes wait than the worker applies
 * in a few batches until it has caught up. What produces writes as fast
 * as it can read them (a roller's notification socket) stops reading
 * meanwhile, so that the queue, not the roller, would otherwise hold the
 * burst in memory. Writes queued while backlogged are still taken.
 */

/* Takes ownership of @store (the construct-only "store" property). Signals
 * are emitted on @context (the "context" property; the thread default
 * context at creation when NULL); query callbacks run on the thread
 * default context of the caller of dr_store_worker_query (), as with any
 * GTask. */
DrStoreWorker *dr_store_worker_new (DrStore *store, GMainContext *context);
/* Applies every queued job, commits durably, joins the thread, closes the
 * store; later calls do nothing, and dispose calls it, so dropping the
 * last reference closes too (a query holds one until its callback has
 * run: an owner that must know when the data is on disk closes first).
 * Call it from @context's thread: signals not yet emitted (including
 * those of this last commit) are dropped. Jobs queued after it are not
 * run (queries fail with DR_ERROR_CLOSED). */
void dr_store_worker_close (DrStoreWorker *worker);

/* Queues a write; returns the job's serial: once committed reports a
 * serial >= it, the write is on disk. */
guint64 dr_store_worker_write (DrStoreWorker *worker, DrStoreWriteFunc func, gpointer data,
                               GDestroyNotify destroy);

/* As dr_store_worker_write (), for a write that runs exactly one SQL
 * statement (a raw frame): it needs no savepoint of its own, as SQLite
 * undoes a failed statement and keeps the transaction. */
guint64 dr_store_worker_write_statement (DrStoreWorker *worker, DrStoreWriteFunc func,
                                         gpointer data, GDestroyNotify destroy);
/* As dr_store_worker_write_statement (), for a write nothing waits for
 * but an ACK that may come later (a live raw frame, the ACK's marker):
 * committed at most @within_ms after it was queued (at least the 250 ms
 * of the batch; with any write queued with a nearer deadline, at that
 * one's), so that a roller switched on but not rolling costs one commit
 * (and one ACK) a second, not four. */
guint64 dr_store_worker_write_statement_within (DrStoreWorker *worker, DrStoreWriteFunc func,
                                                gpointer data, GDestroyNotify destroy,
                                                guint within_ms);

/* Queues a write as dr_store_worker_write () and commits it at once;
 * @callback runs, exactly once, on the caller's main context when the
 * commit that holds it is durable (after the committed signal), or with
 * the write's error (after write-failed), or with DR_ERROR_CLOSED when the
 * worker closes first. The worker frees @data with @destroy once done with
 * it: to read what the write found there in @callback, pass destroy NULL
 * and free it there. */
void dr_store_worker_write_async (DrStoreWorker *worker, DrStoreWriteFunc func, gpointer data,
                                  GDestroyNotify destroy, GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean dr_store_worker_write_finish (DrStoreWorker *worker, GAsyncResult *result, GError **error);

/* Forces a durable commit of everything queued so far, without waiting for
 * the 250 ms batch (session end, shutdown). */
void dr_store_worker_flush (DrStoreWorker *worker);

void dr_store_worker_query (DrStoreWorker *worker, DrStoreQueryFunc func, gpointer data,
                            GDestroyNotify destroy, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data);
gpointer dr_store_worker_query_finish (DrStoreWorker *worker, GAsyncResult *result, GError **error);

/* Queues PRAGMA quick_check; a damaged database is then replaced as
 * described for the damaged signal. Queue it once the daemon is up: on a
 * large file it holds the queue for a while. */
void dr_store_worker_check (DrStoreWorker *worker);

/* Errors from writes so far (e.g. disk full); 0 while healthy. */
guint dr_store_worker_get_n_errors (DrStoreWorker *worker);

/* Writes applied since the worker last gave memory back (SQLite's page
 * cache, malloc's free arenas) past which a commit that empties the queue
 * gives it back: a burst. Ordinary commits keep it. */
#define DR_STORE_WORKER_BURST_WRITES 4096
/* Writes in one transaction past which it is committed without waiting
 * for its deadline: each holds its data until the commit. */
#define DR_STORE_WORKER_FULL_BATCH 4096
/* Writes waiting to be taken by the thread that make it "backlogged". */
#define DR_STORE_WORKER_BACKLOG_WRITES 2048

/* What the worker's thread did so far, for tests and benchmarks. */
typedef struct
{
  guint64 commits;  /* transactions committed (or tried) */
  guint64 signals;  /* times a queued job woke the thread */
  guint64 wakeups;  /* times the thread woke from a wait, for any reason */
  guint64 releases; /* times SQLite's cache and malloc's free memory were given back */
} DrStoreWorkerStats;

void dr_store_worker_get_stats (DrStoreWorker *worker, DrStoreWorkerStats *stats);

G_END_DECLS
