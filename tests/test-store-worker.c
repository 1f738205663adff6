/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-store-worker.c: the store's thread. Writes batched into durable
 * commits reported on the main context with their serial, queries in queue
 * order, flush, close and unref draining the queue, failing writes that stall
 * nothing, and no wake-ups while idle; frames queued together taken in one
 * batch and one commit, each failed frame reported by its serial, memory
 * given back after a burst only. Waits run the main loop with a
 * timeout; nothing sleeps.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "dr-error.h"
#include "store-test-util.h"
#include "store-worker.h"

#define WAIT_TIMEOUT_MS 10000

typedef struct
{
  char *tmpdir;
  char *path;
  DrStoreWorker *worker;
  int64_t roller;
  GThread *main_thread;
  GArray *commits;  /* guint64 serials, as reported */
  GArray *failures; /* guint64 serials */
  GPtrArray *failure_messages;
} Fixture;

static void
on_committed (DrStoreWorker *worker, guint64 serial, gpointer user_data)
{
  Fixture *f = user_data;

  /* On the main context, never on the worker's thread. */
  g_assert_true (g_thread_self () == f->main_thread);
  if (f->commits->len > 0)
    g_assert_cmpuint (serial, >, g_array_index (f->commits, guint64, f->commits->len - 1));
  g_array_append_val (f->commits, serial);
}

static void
on_failed (DrStoreWorker *worker, guint64 serial, const GError *error, gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_true (g_thread_self () == f->main_thread);
  g_array_append_val (f->failures, serial);
  g_ptr_array_add (f->failure_messages, g_strdup (error->message));
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;

  f->tmpdir = g_dir_make_tmp ("dermaroll-store-worker-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->tmpdir, "dermaroll.db", NULL);
  store = dr_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (dr_store_ensure_roller (store, "AA:BB:CC:DD:EE:FF", "Roller", &f->roller, &error));
  g_assert_no_error (error);

  f->main_thread = g_thread_self ();
  f->commits = g_array_new (FALSE, FALSE, sizeof (guint64));
  f->failures = g_array_new (FALSE, FALSE, sizeof (guint64));
  f->failure_messages = g_ptr_array_new_with_free_func (g_free);
  f->worker = dr_store_worker_new (g_steal_pointer (&store), NULL);
  g_signal_connect (f->worker, "committed", G_CALLBACK (on_committed), f);
  g_signal_connect (f->worker, "write-failed", G_CALLBACK (on_failed), f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->worker);
  /* Drop the reports that closing silenced. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  store_test_rm_rf (f->tmpdir);
  g_free (f->tmpdir);
  g_free (f->path);
  g_array_unref (f->commits);
  g_array_unref (f->failures);
  g_ptr_array_unref (f->failure_messages);
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context until @cond holds; FALSE after @timeout_ms. */
static gboolean
wait_for (gboolean (*cond) (Fixture *f, gconstpointer data), Fixture *f, gconstpointer data,
          guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, on_wait_timeout, &timed_out);

  while (!cond (f, data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return cond (f, data);
}

static gboolean
committed_up_to (Fixture *f, gconstpointer data)
{
  const guint64 *serial = data;

  return f->commits->len > 0 && g_array_index (f->commits, guint64, f->commits->len - 1) >= *serial;
}

static void
wait_committed (Fixture *f, guint64 serial)
{
  g_assert_true (wait_for (committed_up_to, f, &serial, WAIT_TIMEOUT_MS));
}

/* Jobs */

typedef struct
{
  int64_t roller;
  uint64_t t0_ms;
  uint16_t seq;
} FrameJob;

static gboolean
job_add_frame (DrStore *store, gpointer data, GError **error)
{
  FrameJob *job = data;
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = store_test_frame (buf, job->t0_ms, job->seq, 0, 25, 0, 0);

  return dr_store_add_frame (store, job->roller, 0, buf, len, DR_CODEC_OK, NULL, error);
}

static guint64
write_frame (Fixture *f, uint64_t t0_ms)
{
  FrameJob *job = g_new0 (FrameJob, 1);

  job->roller = f->roller;
  job->t0_ms = t0_ms;
  job->seq = (uint16_t) t0_ms;
  return dr_store_worker_write (f->worker, job_add_frame, job, g_free);
}

/* Stores a frame, then fails: the savepoint must take the frame back. */
static gboolean
job_half_then_fail (DrStore *store, gpointer data, GError **error)
{
  if (!job_add_frame (store, data, error))
    return FALSE;
  g_set_error (error, DR_ERROR, DR_ERROR_FAILED, "boom");
  return FALSE;
}

/* As SQLite does on an I/O error: the whole transaction is gone. */
static gboolean
job_lose_transaction (DrStore *store, gpointer data, GError **error)
{
  dr_store_rollback (store);
  g_set_error (error, DR_ERROR, DR_ERROR_STORE, "%s: disk I/O error (simulated)",
               dr_store_get_path (store));
  return FALSE;
}

/* A disk with no room left: the database may not grow past its pages. */
static gboolean
job_fill_disk (DrStore *store, gpointer data, GError **error)
{
  g_autofree char *sql = NULL;
  sqlite3_stmt *stmt = store_test_sql_row (dr_store_get_path (store), "PRAGMA page_count");

  sql = g_strdup_printf ("PRAGMA max_page_count = %d", sqlite3_column_int (stmt, 0));
  store_test_sql_done (stmt);
  return dr_store_exec (store, sql, error);
}

static gboolean
job_free_disk (DrStore *store, gpointer data, GError **error)
{
  return dr_store_exec (store, "PRAGMA max_page_count = 1073741823", error);
}

/* Frames enough to need new pages. */
static gboolean
job_add_many_frames (DrStore *store, gpointer data, GError **error)
{
  FrameJob *job = data;

  for (guint i = 0; i < 200; i++)
    {
      uint8_t buf[DR_FRAME_MAX_LEN];
      size_t len = store_test_frame (buf, job->t0_ms + i, (uint16_t) (job->seq + i), 0, 25, 0, 0);

      if (!dr_store_add_frame (store, job->roller, 0, buf, len, DR_CODEC_OK, NULL, error))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  DrStoreWorker *worker;
  gboolean done;
  gpointer result;
  GError *error;
} QueryResult;

static void
on_query_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  QueryResult *r = user_data;

  r->result = dr_store_worker_query_finish (r->worker, result, &r->error);
  r->done = TRUE;
}

static gboolean
query_done (Fixture *f, gconstpointer data)
{
  const QueryResult *r = data;
  return r->done;
}

static gpointer
query_frame_count (DrStore *store, gpointer data, GError **error)
{
  int64_t *roller = data;
  DrStoreFrameCounts counts;

  if (!dr_store_frame_counts (store, *roller, &counts, error))
    return NULL;
  return g_memdup2 (&counts.frames, sizeof counts.frames);
}

/* What the worker's transaction state is when the query runs. */
static gpointer
query_in_transaction (DrStore *store, gpointer data, GError **error)
{
  return GINT_TO_POINTER (dr_store_in_transaction (store) ? 2 : 1);
}

static gpointer
query_coverage (DrStore *store, gpointer data, GError **error)
{
  return dr_store_session_coverage (store, 42, error);
}

static gpointer
query_fail (DrStore *store, gpointer data, GError **error)
{
  g_assert_not_reached ();
}

static void
mark_destroyed (gpointer data)
{
  *(gboolean *) data = TRUE;
}

static guint64
run_frame_count_query (Fixture *f)
{
  QueryResult r = { f->worker };
  guint64 frames;

  dr_store_worker_query (f->worker, query_frame_count, g_memdup2 (&f->roller, sizeof f->roller),
                         g_free, NULL, on_query_done, &r);
  g_assert_true (wait_for (query_done, f, &r, WAIT_TIMEOUT_MS));
  g_assert_no_error (r.error);
  frames = *(guint64 *) r.result;
  g_free (r.result);
  return frames;
}

/* Tests */

static void
test_batch_commit (Fixture *f, gconstpointer data)
{
  guint64 first = 0, last = 0;

  for (guint i = 0; i < 500; i++)
    {
      last = write_frame (f, 1000 + i);
      if (i == 0)
        first = last;
    }
  g_assert_cmpuint (last, ==, first + 499);
  wait_committed (f, last);

  /* One batch, not a commit per write. */
  g_assert_cmpuint (f->commits->len, <=, 3);
  g_assert_cmpuint (g_array_index (f->commits, guint64, f->commits->len - 1), ==, last);
  g_assert_cmpuint (f->failures->len, ==, 0);
  /* Committed: another connection sees every frame. */
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 500);
  g_assert_cmpuint (dr_store_worker_get_n_errors (f->worker), ==, 0);

  /* The next write opens the next batch. */
  last = write_frame (f, 5000);
  wait_committed (f, last);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 501);
}

static void
test_query_sees_writes (Fixture *f, gconstpointer data)
{
  QueryResult r = { f->worker };

  for (guint i = 0; i < 10; i++)
    write_frame (f, 1000 + i);
  /* Queued behind the writes, inside their open transaction. */
  g_assert_cmpuint (run_frame_count_query (f), ==, 10);

  dr_store_worker_query (f->worker, query_in_transaction, NULL, NULL, NULL, on_query_done, &r);
  g_assert_true (wait_for (query_done, f, &r, WAIT_TIMEOUT_MS));
  g_assert_no_error (r.error);
  g_assert_cmpint (GPOINTER_TO_INT (r.result), ==, 2);

  /* A query's error comes back as it is. */
  r = (QueryResult){ f->worker };
  dr_store_worker_query (f->worker, query_coverage, NULL, NULL, NULL, on_query_done, &r);
  g_assert_true (wait_for (query_done, f, &r, WAIT_TIMEOUT_MS));
  g_assert_null (r.result);
  g_assert_error (r.error, DR_ERROR, DR_ERROR_NOT_FOUND);
  g_assert_cmpstr (r.error->message, ==, "no session 42");
  g_clear_error (&r.error);
}

static void
test_flush (Fixture *f, gconstpointer data)
{
  QueryResult r = { f->worker };
  guint64 serial;

  serial = write_frame (f, 1000);
  dr_store_worker_flush (f->worker);
  /* The query runs after the flush: the transaction is committed already,
   * well before the 250 ms batch would have ended. */
  dr_store_worker_query (f->worker, query_in_transaction, NULL, NULL, NULL, on_query_done, &r);
  g_assert_true (wait_for (query_done, f, &r, WAIT_TIMEOUT_MS));
  g_assert_cmpint (GPOINTER_TO_INT (r.result), ==, 1);
  wait_committed (f, serial);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 1);

  /* A flush with nothing pending reports nothing. */
  dr_store_worker_flush (f->worker);
  r = (QueryResult){ f->worker };
  dr_store_worker_query (f->worker, query_in_transaction, NULL, NULL, NULL, on_query_done, &r);
  g_assert_true (wait_for (query_done, f, &r, WAIT_TIMEOUT_MS));
  g_assert_cmpuint (f->commits->len, ==, 1);
}

static void
test_free_drains (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < 1000; i++)
    write_frame (f, 1000 + i);
  /* No waiting: dropping the worker applies the queue, commits and joins. */
  g_clear_object (&f->worker);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 1000);
  /* The reports still queued are dropped, not delivered after free. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (f->commits->len, ==, 0);
}

/* Closing is what dropping does, at a time of the owner's choosing; once
 * closed, nothing more runs. */
static void
test_close (Fixture *f, gconstpointer data)
{
  QueryResult r = { f->worker };

  for (guint i = 0; i < 100; i++)
    write_frame (f, 1000 + i);
  dr_store_worker_close (f->worker);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 100);
  dr_store_worker_close (f->worker);
  dr_store_worker_flush (f->worker);

  dr_store_worker_query (f->worker, query_fail, NULL, NULL, NULL, on_query_done, &r);
  g_assert_true (wait_for (query_done, f, &r, WAIT_TIMEOUT_MS));
  g_assert_null (r.result);
  g_assert_error (r.error, DR_ERROR, DR_ERROR_CLOSED);
  g_clear_error (&r.error);
  g_assert_cmpuint (f->commits->len, ==, 0);
}

static void
test_failing_write (Fixture *f, gconstpointer data)
{
  FrameJob *bad = g_new0 (FrameJob, 1);
  guint64 s1, s2, s3;

  bad->roller = f->roller;
  bad->t0_ms = 2000;
  s1 = write_frame (f, 1000);
  g_test_expect_message ("dermaroll", G_LOG_LEVEL_WARNING, "*dermaroll.db: write 2 failed: boom");
  s2 = dr_store_worker_write (f->worker, job_half_then_fail, bad, g_free);
  s3 = write_frame (f, 3000);
  wait_committed (f, s3);
  g_test_assert_expected_messages ();

  g_assert_cmpuint (s2, ==, s1 + 1);
  g_assert_cmpuint (f->failures->len, ==, 1);
  g_assert_cmpuint (g_array_index (f->failures, guint64, 0), ==, s2);
  g_assert_cmpstr (g_ptr_array_index (f->failure_messages, 0), ==, "boom");
  g_assert_cmpuint (dr_store_worker_get_n_errors (f->worker), ==, 1);
  /* The jobs around it went through, and nothing of the failed one stayed. */
  g_assert_cmpint (
      store_test_sql_int (f->path, "SELECT count(*) FROM frames WHERE t0_ms IN (1000, 3000)"), ==,
      2);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames WHERE t0_ms = 2000"),
                   ==, 0);

  /* And the worker goes on. */
  wait_committed (f, write_frame (f, 4000));
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 3);
}

typedef struct
{
  DrStoreWorker *worker;
  gboolean done;
  gboolean ok;
  GError *error;
  guint64 commits_seen; /* committed signals before the answer */
  guint64 failures_seen;
  Fixture *f;
} WriteResult;

static void
on_write_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WriteResult *r = user_data;

  g_assert_true (g_thread_self () == r->f->main_thread);
  g_assert_false (r->done);
  r->ok = dr_store_worker_write_finish (r->worker, result, &r->error);
  r->commits_seen = r->f->commits->len;
  r->failures_seen = r->f->failures->len;
  r->done = TRUE;
}

static gboolean
write_done (Fixture *f, gconstpointer data)
{
  const WriteResult *r = data;
  return r->done;
}

/* Answered once durable, after the committed signal that covers it,
 * without waiting for the batch; a failed one with its error. */
static void
test_write_async (Fixture *f, gconstpointer data)
{
  WriteResult ok = { f->worker, .f = f };
  WriteResult bad = { f->worker, .f = f };
  FrameJob *job = g_new0 (FrameJob, 1);
  FrameJob *half = g_new0 (FrameJob, 1);

  job->roller = half->roller = f->roller;
  job->t0_ms = 1000;
  half->t0_ms = 2000;
  dr_store_worker_write_async (f->worker, job_add_frame, job, g_free, on_write_done, &ok);
  g_assert_true (wait_for (write_done, f, &ok, WAIT_TIMEOUT_MS));
  g_assert_no_error (ok.error);
  g_assert_true (ok.ok);
  g_assert_cmpuint (ok.commits_seen, ==, 1);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames WHERE t0_ms = 1000"),
                   ==, 1);

  g_test_expect_message ("dermaroll", G_LOG_LEVEL_WARNING, "*dermaroll.db: write 2 failed: boom");
  dr_store_worker_write_async (f->worker, job_half_then_fail, half, g_free, on_write_done, &bad);
  g_assert_true (wait_for (write_done, f, &bad, WAIT_TIMEOUT_MS));
  g_test_assert_expected_messages ();
  g_assert_false (bad.ok);
  g_assert_error (bad.error, DR_ERROR, DR_ERROR_FAILED);
  g_assert_cmpuint (bad.failures_seen, ==, 1);
  g_clear_error (&bad.error);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames WHERE t0_ms = 2000"),
                   ==, 0);
}

/* Closed before it was confirmed: answered Closed, never left hanging. */
static void
test_write_async_close (Fixture *f, gconstpointer data)
{
  WriteResult r = { f->worker, .f = f };
  WriteResult late = { f->worker, .f = f };
  FrameJob *job = g_new0 (FrameJob, 1);
  FrameJob *after = g_new0 (FrameJob, 1);

  job->roller = after->roller = f->roller;
  job->t0_ms = 1000;
  after->t0_ms = 2000;
  dr_store_worker_write_async (f->worker, job_add_frame, job, g_free, on_write_done, &r);
  dr_store_worker_close (f->worker);
  dr_store_worker_write_async (f->worker, job_add_frame, after, g_free, on_write_done, &late);
  g_assert_true (wait_for (write_done, f, &r, WAIT_TIMEOUT_MS));
  g_assert_true (wait_for (write_done, f, &late, WAIT_TIMEOUT_MS));
  g_assert_error (r.error, DR_ERROR, DR_ERROR_CLOSED);
  g_assert_error (late.error, DR_ERROR, DR_ERROR_CLOSED);
  g_clear_error (&r.error);
  g_clear_error (&late.error);
  /* closing committed it all the same */
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames WHERE t0_ms = 1000"),
                   ==, 1);
}

static void
test_lost_transaction (Fixture *f, gconstpointer data)
{
  guint64 lost, last;

  /* Two writes, then one that takes the transaction down with it: the two
   * are run again in a new transaction and reach the disk. */
  write_frame (f, 1000);
  write_frame (f, 2000);
  g_test_expect_message ("dermaroll", G_LOG_LEVEL_WARNING,
                         "*write 3 failed: *disk I/O error (simulated)");
  lost = dr_store_worker_write (f->worker, job_lose_transaction, NULL, NULL);
  last = write_frame (f, 3000);
  wait_committed (f, last);
  g_test_assert_expected_messages ();

  g_assert_cmpuint (f->failures->len, ==, 1);
  g_assert_cmpuint (g_array_index (f->failures, guint64, 0), ==, lost);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 3);
}

static gboolean
failed_once (Fixture *f, gconstpointer data)
{
  return f->failures->len > 0;
}

static gint64
wal_size (Fixture *f)
{
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  GStatBuf st;

  return g_stat (wal, &st) == 0 ? (gint64) st.st_size : 0;
}

/* After a failed write the write-ahead log is checkpointed and truncated,
 * so that a log that filled the disk gives its space back. */
static void
test_checkpoint_after_failure (Fixture *f, gconstpointer data)
{
  FrameJob *many = g_new0 (FrameJob, 1);
  guint64 last;

  for (guint i = 0; i < 20; i++)
    last = write_frame (f, 1000 + i);
  wait_committed (f, last);
  g_assert_cmpint (wal_size (f), >, 0);

  many->roller = f->roller;
  many->t0_ms = 100000;
  many->seq = 10000;
  dr_store_worker_write (f->worker, job_fill_disk, NULL, NULL);
  g_test_expect_message ("dermaroll", G_LOG_LEVEL_WARNING, "*write * failed: *disk is full");
  dr_store_worker_write (f->worker, job_add_many_frames, many, g_free);
  g_assert_true (wait_for (failed_once, f, NULL, WAIT_TIMEOUT_MS));
  g_test_assert_expected_messages ();
  /* Reported after the checkpoint. */
  g_assert_cmpint (wal_size (f), ==, 0);

  /* Room again: the store goes on. */
  dr_store_worker_write (f->worker, job_free_disk, NULL, NULL);
  wait_committed (f, write_frame (f, 5000));
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 21);
}

static void
test_query_cancelled (Fixture *f, gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  QueryResult r = { f->worker };
  gboolean destroyed = FALSE;

  /* Not run (query_fail would fail the test), its data still freed. */
  g_cancellable_cancel (cancellable);
  dr_store_worker_query (f->worker, query_fail, &destroyed, mark_destroyed, cancellable,
                         on_query_done, &r);
  g_assert_true (wait_for (query_done, f, &r, WAIT_TIMEOUT_MS));
  g_assert_null (r.result);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&r.error);
  g_assert_true (destroyed);
}

/* voluntary_ctxt_switches of the worker thread: it goes up by one each
 * time the thread wakes from a wait. */
static gint64
worker_switches (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  if (dir == NULL)
    return -1;
  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *comm_path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
      g_autofree char *status_path = g_build_filename ("/proc/self/task", tid, "status", NULL);
      g_autofree char *comm = NULL;
      g_autofree char *status = NULL;
      const char *line;

      if (!g_file_get_contents (comm_path, &comm, NULL, NULL)
          || strcmp (g_strstrip (comm), "dr-store") != 0)
        continue;
      if (!g_file_get_contents (status_path, &status, NULL, NULL))
        return -1;
      line = strstr (status, "voluntary_ctxt_switches:");
      return line != NULL ? g_ascii_strtoll (line + strlen ("voluntary_ctxt_switches:"), NULL, 10)
                          : -1;
    }
  return -1;
}

static gboolean
never (Fixture *f, gconstpointer data)
{
  return FALSE;
}

static void
test_idle_no_wakeups (Fixture *f, gconstpointer data)
{
  gint64 before, after;

  wait_committed (f, write_frame (f, 1000));
  /* Let the batch end and the thread settle on the queue. */
  wait_for (never, f, NULL, 100);
  before = worker_switches ();
  if (before < 0)
    {
      g_test_skip ("no /proc/self/task/*/status");
      return;
    }
  /* Longer than two batch periods: a timer would have fired. */
  wait_for (never, f, NULL, 700);
  after = worker_switches ();
  g_assert_cmpint (after, ==, before);
}

/* Holds the worker's thread in a query until released, so that what the
 * test queues meanwhile is certain to be taken in one batch. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean entered;
  gboolean released;
  QueryResult result;
} Hold;

static gpointer
query_hold (DrStore *store, gpointer data, GError **error)
{
  Hold *hold = data;

  g_mutex_lock (&hold->lock);
  hold->entered = TRUE;
  g_cond_broadcast (&hold->cond);
  while (!hold->released)
    g_cond_wait (&hold->cond, &hold->lock);
  g_mutex_unlock (&hold->lock);
  return NULL;
}

static void
hold_start (Fixture *f, Hold *hold)
{
  gint64 end = g_get_monotonic_time () + WAIT_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;

  g_mutex_init (&hold->lock);
  g_cond_init (&hold->cond);
  hold->result = (QueryResult){ f->worker };
  dr_store_worker_query (f->worker, query_hold, hold, NULL, NULL, on_query_done, &hold->result);
  g_mutex_lock (&hold->lock);
  while (!hold->entered)
    g_assert_true (g_cond_wait_until (&hold->cond, &hold->lock, end) || hold->entered);
  g_mutex_unlock (&hold->lock);
}

static void
hold_release (Fixture *f, Hold *hold)
{
  g_mutex_lock (&hold->lock);
  hold->released = TRUE;
  g_cond_broadcast (&hold->cond);
  g_mutex_unlock (&hold->lock);
  g_assert_true (wait_for (query_done, f, &hold->result, WAIT_TIMEOUT_MS));
  g_mutex_clear (&hold->lock);
  g_cond_clear (&hold->cond);
}

static guint64
write_frame_to (Fixture *f, int64_t roller, uint64_t t0_ms)
{
  FrameJob *job = g_new0 (FrameJob, 1);

  job->roller = roller;
  job->t0_ms = t0_ms;
  job->seq = (uint16_t) t0_ms;
  return dr_store_worker_write_statement (f->worker, job_add_frame, job, g_free);
}

static gboolean
job_exec (DrStore *store, gpointer data, GError **error)
{
  return dr_store_exec (store, data, error);
}

/* Frames queued together are taken in one batch: one transaction, one
 * commit, one committed signal with the last serial, and queuing them woke
 * nothing. */
static void
test_one_batch_one_commit (Fixture *f, gconstpointer data)
{
  DrStoreWorkerStats before, after;
  Hold hold = { 0 };
  guint64 first = 0, last = 0;

  hold_start (f, &hold);
  dr_store_worker_get_stats (f->worker, &before);
  for (guint i = 0; i < 300; i++)
    {
      last = write_frame_to (f, f->roller, 1000 + i);
      if (i == 0)
        first = last;
    }
  /* Writes alone wake no one, whatever the thread is doing. */
  dr_store_worker_get_stats (f->worker, &after);
  g_assert_cmpuint (after.signals, ==, before.signals);
  dr_store_worker_flush (f->worker);
  hold_release (f, &hold);
  wait_committed (f, last);

  dr_store_worker_get_stats (f->worker, &after);
  g_assert_cmpuint (last, ==, first + 299);
  g_assert_cmpuint (after.commits, ==, before.commits + 1);
  g_assert_cmpuint (f->commits->len, ==, 1);
  g_assert_cmpuint (g_array_index (f->commits, guint64, 0), ==, last);
  g_assert_cmpuint (f->failures->len, ==, 0);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 300);
  /* An ordinary commit keeps its memory. */
  g_assert_cmpuint (after.releases, ==, 0);
}

/* A frame that fails in a batch fails alone, without a savepoint: exactly
 * its serial is reported, the frames around it are stored. */
static void
test_failing_frames (Fixture *f, gconstpointer data)
{
  g_autoptr (GArray) bad = g_array_new (FALSE, FALSE, sizeof (guint64));
  Hold hold = { 0 };
  guint64 last = 0;

  hold_start (f, &hold);
  g_test_expect_message ("dermaroll", G_LOG_LEVEL_WARNING, "*write * failed: *FOREIGN KEY*");
  g_test_expect_message ("dermaroll", G_LOG_LEVEL_WARNING, "*write * failed: *FOREIGN KEY*");
  g_test_expect_message ("dermaroll", G_LOG_LEVEL_WARNING, "*write * failed: *FOREIGN KEY*");
  for (guint i = 0; i < 30; i++)
    {
      /* No roller 999: the foreign key fails the INSERT. */
      gboolean fails = i % 10 == 5;

      last = write_frame_to (f, fails ? 999 : f->roller, 1000 + i);
      if (fails)
        g_array_append_val (bad, last);
    }
  hold_release (f, &hold);
  wait_committed (f, last);
  g_test_assert_expected_messages ();

  g_assert_cmpuint (f->failures->len, ==, 3);
  for (guint i = 0; i < bad->len; i++)
    g_assert_cmpuint (g_array_index (f->failures, guint64, i), ==, g_array_index (bad, guint64, i));
  g_assert_cmpuint (g_array_index (f->commits, guint64, f->commits->len - 1), ==, last);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 27);
  g_assert_cmpint (
      store_test_sql_int (f->path, "SELECT count(*) FROM frames WHERE t0_ms IN (1005, 1015, 1025)"),
      ==, 0);
  g_assert_cmpuint (dr_store_worker_get_n_errors (f->worker), ==, 3);
}

/* A batch where no frame can be stored (as on a disk that takes nothing):
 * every frame is reported failed, each by its own serial, and the worker
 * goes on once writes work again. */
static void
test_failing_batch (Fixture *f, gconstpointer data)
{
  g_autoptr (GArray) frames = g_array_new (FALSE, FALSE, sizeof (guint64));
  Hold hold = { 0 };
  guint64 last;

  hold_start (f, &hold);
  dr_store_worker_write (f->worker, job_exec, "PRAGMA query_only = 1", NULL);
  for (guint i = 0; i < 20; i++)
    {
      guint64 serial = write_frame_to (f, f->roller, 1000 + i);
      g_array_append_val (frames, serial);
    }
  last = dr_store_worker_write (f->worker, job_exec, "PRAGMA query_only = 0", NULL);
  /* Twenty warnings: one per frame. */
  for (guint i = 0; i < 20; i++)
    g_test_expect_message ("dermaroll", G_LOG_LEVEL_WARNING, "*write * failed: *");
  hold_release (f, &hold);
  wait_committed (f, last);
  g_test_assert_expected_messages ();

  g_assert_cmpuint (f->failures->len, ==, 20);
  for (guint i = 0; i < frames->len; i++)
    g_assert_cmpuint (g_array_index (f->failures, guint64, i), ==,
                      g_array_index (frames, guint64, i));
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 0);

  /* And the next frame is stored. */
  wait_committed (f, write_frame_to (f, f->roller, 5000));
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 1);
}

/* One frame and nothing after it: the deadline alone commits it, with no
 * flush and no other job to wake the thread. */
static void
test_deadline_single (Fixture *f, gconstpointer data)
{
  DrStoreWorkerStats stats;
  guint64 serial = write_frame_to (f, f->roller, 1000);

  wait_committed (f, serial);
  dr_store_worker_get_stats (f->worker, &stats);
  g_assert_cmpuint (stats.commits, ==, 1);
  /* At most the first write woke the sleeping thread to arm the deadline. */
  g_assert_cmpuint (stats.signals, <=, 1);
  g_assert_cmpuint (f->commits->len, ==, 1);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 1);
}

static guint64
write_frame_within (Fixture *f, uint64_t t0_ms, guint within_ms)
{
  FrameJob *job = g_new0 (FrameJob, 1);

  job->roller = f->roller;
  job->t0_ms = t0_ms;
  job->seq = (uint16_t) t0_ms;
  return dr_store_worker_write_statement_within (f->worker, job_add_frame, job, g_free, within_ms);
}

/* A write that may wait longer than the batch is still committed by its
 * own deadline, with no flush and no other job. */
static void
test_deadline_within_single (Fixture *f, gconstpointer data)
{
  DrStoreWorkerStats stats;
  guint64 serial = write_frame_within (f, 1000, 1000);

  wait_committed (f, serial);
  dr_store_worker_get_stats (f->worker, &stats);
  g_assert_cmpuint (stats.commits, ==, 1);
  g_assert_cmpuint (stats.signals, <=, 1);
  g_assert_cmpuint (f->commits->len, ==, 1);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 1);
}

/* Writes that may wait and ordinary ones in one batch: one transaction,
 * one commit, the last serial reported. The ordinary write brings the
 * commit forward: the others alone would wait a minute, past the wait's
 * timeout. */
static void
test_deadline_within_mixed (Fixture *f, gconstpointer data)
{
  DrStoreWorkerStats before, after;
  Hold hold = { 0 };
  guint64 last;

  hold_start (f, &hold);
  dr_store_worker_get_stats (f->worker, &before);
  write_frame_within (f, 1000, 60000);
  write_frame_to (f, f->roller, 1001);
  last = write_frame_within (f, 1002, 60000);
  hold_release (f, &hold);
  wait_committed (f, last);

  dr_store_worker_get_stats (f->worker, &after);
  g_assert_cmpuint (after.commits, ==, before.commits + 1);
  g_assert_cmpuint (f->commits->len, ==, 1);
  g_assert_cmpuint (g_array_index (f->commits, guint64, 0), ==, last);
  g_assert_cmpuint (f->failures->len, ==, 0);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==, 3);
}

/* Memory is given back after a burst, and not after an ordinary commit. */
static void
test_release_after_burst (Fixture *f, gconstpointer data)
{
  DrStoreWorkerStats stats;
  Hold hold = { 0 };
  guint64 last = 0;

  wait_committed (f, write_frame_to (f, f->roller, 1));
  dr_store_worker_get_stats (f->worker, &stats);
  g_assert_cmpuint (stats.releases, ==, 0);

  hold_start (f, &hold);
  for (guint i = 0; i < DR_STORE_WORKER_BURST_WRITES; i++)
    last = write_frame_to (f, f->roller, 1000 + i);
  hold_release (f, &hold);
  wait_committed (f, last);
  dr_store_worker_get_stats (f->worker, &stats);
  g_assert_cmpuint (stats.releases, ==, 1);

  /* The next, ordinary, commit keeps it. */
  wait_committed (f, write_frame_to (f, f->roller, 100000));
  dr_store_worker_get_stats (f->worker, &stats);
  g_assert_cmpuint (stats.releases, ==, 1);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==,
                   DR_STORE_WORKER_BURST_WRITES + 2);
}

static void
on_backlogged (DrStoreWorker *worker, GParamSpec *pspec, gpointer user_data)
{
  GArray *seen = user_data;
  gboolean backlogged;

  g_object_get (worker, "backlogged", &backlogged, NULL);
  g_array_append_val (seen, backlogged);
}

static gboolean
seen_count (Fixture *f, gconstpointer data)
{
  const GArray *seen = data;
  return seen->len >= 2 || (seen->len == 1 && g_array_index (seen, gboolean, 0));
}

/* A thread that cannot keep up says so once the writes waiting for it
 * reach DR_STORE_WORKER_BACKLOG_WRITES, and says it has caught up when it
 * has taken them; nothing is lost either way. */
static void
test_backlog (Fixture *f, gconstpointer data)
{
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (gboolean));
  Hold hold = { 0 };
  guint64 last;
  gboolean backlogged = TRUE;

  g_signal_connect (f->worker, "notify::backlogged", G_CALLBACK (on_backlogged), seen);
  hold_start (f, &hold);
  for (guint i = 0; i + 1 < DR_STORE_WORKER_BACKLOG_WRITES; i++)
    write_frame_to (f, f->roller, 1000 + i);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_get (f->worker, "backlogged", &backlogged, NULL);
  g_assert_false (backlogged);
  g_assert_cmpuint (seen->len, ==, 0);

  last = write_frame_to (f, f->roller, 1000 + DR_STORE_WORKER_BACKLOG_WRITES);
  g_assert_true (wait_for (seen_count, f, seen, WAIT_TIMEOUT_MS));
  g_assert_cmpuint (seen->len, ==, 1);
  g_assert_true (g_array_index (seen, gboolean, 0));

  hold_release (f, &hold);
  g_assert_true (wait_for (seen_count, f, seen, WAIT_TIMEOUT_MS));
  g_assert_false (g_array_index (seen, gboolean, 1));
  wait_committed (f, last);
  g_assert_cmpuint (seen->len, ==, 2);
  g_assert_cmpuint (f->failures->len, ==, 0);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==,
                   DR_STORE_WORKER_BACKLOG_WRITES);
}

/* A transaction of DR_STORE_WORKER_FULL_BATCH writes is committed without
 * waiting for its deadline: these may wait a minute, past the wait's
 * timeout. */
static void
test_full_batch (Fixture *f, gconstpointer data)
{
  Hold hold = { 0 };
  guint64 last = 0;

  hold_start (f, &hold);
  for (guint i = 0; i < DR_STORE_WORKER_FULL_BATCH; i++)
    last = write_frame_within (f, 1000 + i, 60000);
  hold_release (f, &hold);
  wait_committed (f, last);
  g_assert_cmpuint (f->commits->len, ==, 1);
  g_assert_cmpint (store_test_sql_int (f->path, "SELECT count(*) FROM frames"), ==,
                   DR_STORE_WORKER_FULL_BATCH);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func)                                                                            \
  g_test_add ("/store-worker/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("batch-commit", test_batch_commit);
  ADD ("query-sees-writes", test_query_sees_writes);
  ADD ("flush", test_flush);
  ADD ("free-drains", test_free_drains);
  ADD ("close", test_close);
  ADD ("failing-write", test_failing_write);
  ADD ("write-async", test_write_async);
  ADD ("write-async-close", test_write_async_close);
  ADD ("lost-transaction", test_lost_transaction);
  ADD ("checkpoint-after-failure", test_checkpoint_after_failure);
  ADD ("query-cancelled", test_query_cancelled);
  ADD ("idle-no-wakeups", test_idle_no_wakeups);
  ADD ("one-batch-one-commit", test_one_batch_one_commit);
  ADD ("failing-frames", test_failing_frames);
  ADD ("failing-batch", test_failing_batch);
  ADD ("deadline-single", test_deadline_single);
  ADD ("deadline-within-single", test_deadline_within_single);
  ADD ("deadline-within-mixed", test_deadline_within_mixed);
  ADD ("release-after-burst", test_release_after_burst);
  ADD ("backlog", test_backlog);
  ADD ("full-batch", test_full_batch);
#undef ADD

  return g_test_run ();
}
