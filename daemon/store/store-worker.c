/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-worker.c: the thread that owns the DrStore.
 *
 * Jobs arrive in one inbox, in order, and the thread takes the whole inbox
 * at once. A write does not wake the thread: it only has to be applied by
 * its commit deadline, 250 ms after it was queued, so the thread sleeps
 * until the first pending write's deadline and then applies and commits
 * everything queued by then in one transaction. It is woken early only by
 * what cannot wait (a query, a flush, a check, quitting), by a large batch
 * (so that a burst is applied while it arrives rather than all at the
 * deadline), or by the first write when it sleeps with no deadline at all.
 * With nothing pending it waits without a timeout, so an idle worker never
 * wakes up.
 */
#include "store-worker.h"

#include <malloc.h>

#include "dr-error.h"

#define BATCH_US (250 * G_TIME_SPAN_MILLISECOND)
/* Writes in the inbox that wake the thread before the deadline: applied
 * while a burst (a history sync, flat-out ingest) still arrives, so that
 * neither the inbox nor the commit at the deadline grows without bound. */
#define LARGE_BATCH 512
/* Only a real burst (DR_STORE_WORKER_BURST_WRITES) leaves enough behind
 * to be worth giving back: doing it at every commit cost more than the
 * writes (SQLite then reads its pages in again). */
#define BURST_WRITES DR_STORE_WORKER_BURST_WRITES
#define FULL_BATCH DR_STORE_WORKER_FULL_BATCH
/* Writes waiting in the inbox past which the worker says it is
 * backlogged, until it takes them: a producer that stops reading meanwhile
 * (the notification socket) bounds the memory the queue holds, and the
 * roller keeps what is not read. The thread is busy then (a commit, or
 * the inbox before): it wakes at LARGE_BATCH otherwise. */
#define BACKLOG_HIGH DR_STORE_WORKER_BACKLOG_WRITES

typedef enum
{
  JOB_WRITE,
  JOB_QUERY,
  JOB_FLUSH,
  JOB_CHECK,
  JOB_QUIT,
} JobKind;

typedef struct
{
  JobKind kind;
  guint64 serial;     /* JOB_WRITE */
  gint64 queued_us;   /* JOB_WRITE: monotonic time it was queued */
  gint64 batch_us;    /* JOB_WRITE: committed at most this long after it was queued */
  gboolean retried;   /* JOB_WRITE: already run again after a lost transaction */
  gboolean statement; /* JOB_WRITE: one SQL statement, run without a savepoint */
  DrStoreWriteFunc write;
  DrStoreQueryFunc query;
  gpointer data;
  GDestroyNotify destroy;
  GTask *task; /* JOB_QUERY */
} Job;

/* Shared with the reports on their way to the main context, so that
 * dr_store_worker_close () can silence those still in flight: a report
 * holds no reference on the worker (it would keep a dropped worker open
 * until the main context runs again), and @open is only cleared on the
 * main context, where the reports are dispatched too. */
typedef struct
{
  gint open; /* atomic */
  DrStoreWorker *worker;
} Mailbox;

typedef struct
{
  guint64 serial;
  GError *error;
} Failure;

/* What one commit tells the main context. */
typedef struct
{
  Mailbox *mailbox;
  guint64 serial; /* highest write serial handled; 0: none */
  GArray *failures;
  char *damage;   /* the database was found damaged: what was found */
  char *moved_to; /* where it went; NULL: it could not be moved */
  gboolean trim;  /* a burst is over: malloc_trim () once everyone heard */
} Report;

struct _DrStoreWorker
{
  GObject parent_instance;

  DrStore *store;
  char *path;
  GMainContext *context;
  GThread *thread;
  Mailbox *mailbox;

  /* Under @lock: what is queued for the thread, and what it sleeps on. */
  GMutex lock;
  GCond cond;
  GPtrArray *inbox;      /* Job, in order */
  guint inbox_writes;    /* write jobs in @inbox */
  gint64 inbox_deadline; /* commit deadline of the first write in @inbox; 0: none */
  gboolean urgent;       /* @inbox holds a job that cannot wait for the deadline */
  gboolean sleeping;     /* the thread waits on @cond ... */
  gint64 sleep_until;    /* ... until this monotonic time; 0: without a timeout */
  guint64 last_serial;
  gboolean closed;     /* the quit job is queued */
  gboolean backlogged; /* as last posted to the main context */
  DrStoreWorkerStats stats;

  guint n_errors; /* atomic */
  /* Main context only: write serial → GTask of dr_store_worker_write_async,
   * answered by the commit report that covers it. */
  GHashTable *pending;
  gboolean backlogged_shown; /* the "backlogged" property */

  /* Worker thread only. */
  GPtrArray *work;  /* the jobs taken from the inbox, being run */
  GPtrArray *batch; /* write jobs applied in the open transaction */
  guint writes_since_release;
  gint64 deadline;          /* monotonic time to commit by; 0: nothing pending */
  guint64 batch_serial;     /* highest write serial handled since the last report */
  GArray *failures;         /* Failure, since the last report */
  gboolean checkpoint_owed; /* a write failed since the last checkpoint that worked */
  gboolean trim_owed;       /* by the next report */
  char *damage;             /* since the last report */
  char *moved_to;
  GError *dead; /* the store is gone (damaged and not replaced) */
};

enum
{
  PROP_0,
  PROP_STORE,
  PROP_CONTEXT,
  PROP_BACKLOGGED,
  N_PROPS
};

enum
{
  SIGNAL_COMMITTED,
  SIGNAL_WRITE_FAILED,
  SIGNAL_DAMAGED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (DrStoreWorker, dr_store_worker, G_TYPE_OBJECT)

static void run_write (DrStoreWorker *self, Job *job);
static void discard_batch (DrStoreWorker *self, const GError *error);

static Job *
job_new (JobKind kind)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->batch_us = BATCH_US;
  return job;
}

static void
job_free (Job *job)
{
  if (job->destroy != NULL)
    job->destroy (job->data);
  g_clear_object (&job->task);
  g_free (job);
}

static void
failure_clear (gpointer data)
{
  Failure *failure = data;
  g_clear_error (&failure->error);
}

static GArray *
failures_new (void)
{
  GArray *failures = g_array_new (FALSE, FALSE, sizeof (Failure));
  g_array_set_clear_func (failures, failure_clear);
  return failures;
}

/* Reports */

/* The writes waiting for @report: a failed one gets its error, the rest up
 * to the committed serial succeed. */
static void
answer_pending (DrStoreWorker *self, const Report *report)
{
  GHashTableIter iter;
  gpointer key, value;

  if (g_hash_table_size (self->pending) == 0)
    return;
  for (guint i = 0; i < report->failures->len; i++)
    {
      Failure *failure = &g_array_index (report->failures, Failure, i);
      GTask *task = g_hash_table_lookup (self->pending, &failure->serial);

      if (task == NULL)
        continue;
      g_task_return_error (task, g_error_copy (failure->error));
      g_hash_table_remove (self->pending, &failure->serial);
    }
  if (report->serial == 0)
    return;
  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (*(guint64 *) key > report->serial)
        continue;
      g_task_return_boolean (value, TRUE);
      g_hash_table_iter_remove (&iter);
    }
}

static void
report_free (gpointer data)
{
  Report *report = data;

  g_atomic_rc_box_release (report->mailbox);
  g_array_unref (report->failures);
  g_free (report->damage);
  g_free (report->moved_to);
  g_free (report);
}

static gboolean
report_dispatch (gpointer data)
{
  Report *report = data;
  Mailbox *mailbox = report->mailbox;
  g_autoptr (DrStoreWorker) self = NULL;

  if (!g_atomic_int_get (&mailbox->open))
    return G_SOURCE_REMOVE;
  /* A handler may drop the worker. */
  self = g_object_ref (mailbox->worker);
  /* Failures first: a committed serial covers them. */
  for (guint i = 0; i < report->failures->len && g_atomic_int_get (&mailbox->open); i++)
    {
      Failure *failure = &g_array_index (report->failures, Failure, i);
      g_signal_emit (self, signals[SIGNAL_WRITE_FAILED], 0, failure->serial, failure->error);
    }
  if (report->damage != NULL && g_atomic_int_get (&mailbox->open))
    g_signal_emit (self, signals[SIGNAL_DAMAGED], 0, report->damage, report->moved_to);
  if (report->serial != 0 && g_atomic_int_get (&mailbox->open))
    g_signal_emit (self, signals[SIGNAL_COMMITTED], 0, report->serial);
  if (report->trim)
    malloc_trim (0);
  /* After the signals: whoever answers a caller finds the daemon told. */
  if (g_atomic_int_get (&mailbox->open))
    answer_pending (self, report);
  return G_SOURCE_REMOVE;
}

/* Runs @func (@data) on the worker's main context; @destroy frees @data
 * even if it never runs. An idle source, not g_main_context_invoke_full ():
 * that one runs the callback right here, on this thread, whenever it can
 * acquire the context (the global default one while the main thread is
 * not iterating). Sources of one priority are dispatched in the order they
 * were attached: the main context sees the commits in order. */
static void
post (DrStoreWorker *self, GSourceFunc func, gpointer data, GDestroyNotify destroy,
      const char *name)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, destroy);
  g_source_set_static_name (source, name);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

static void
send_report (DrStoreWorker *self)
{
  Report *report;

  if (self->batch_serial == 0 && self->failures->len == 0 && self->damage == NULL)
    return;
  report = g_new0 (Report, 1);
  report->mailbox = g_atomic_rc_box_acquire (self->mailbox);
  report->serial = self->batch_serial;
  report->trim = self->trim_owed;
  self->trim_owed = FALSE;
  report->damage = g_steal_pointer (&self->damage);
  report->moved_to = g_steal_pointer (&self->moved_to);
  report->failures = g_steal_pointer (&self->failures);
  self->failures = failures_new ();
  self->batch_serial = 0;
  post (self, report_dispatch, report, report_free, "[dermaroll] store commit");
}

typedef struct
{
  Mailbox *mailbox;
  gboolean backlogged;
} BacklogReport;

static void
backlog_report_free (gpointer data)
{
  BacklogReport *report = data;

  g_atomic_rc_box_release (report->mailbox);
  g_free (report);
}

static gboolean
backlog_report_dispatch (gpointer data)
{
  BacklogReport *report = data;
  DrStoreWorker *self = report->mailbox->worker;

  if (g_atomic_int_get (&report->mailbox->open) && self->backlogged_shown != report->backlogged)
    {
      self->backlogged_shown = report->backlogged;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BACKLOGGED]);
    }
  return G_SOURCE_REMOVE;
}

/* Under @lock, from either thread: the change reaches the main context in
 * order with the commit reports. */
static void
set_backlogged (DrStoreWorker *self, gboolean backlogged)
{
  BacklogReport *report;

  if (self->backlogged == backlogged)
    return;
  self->backlogged = backlogged;
  report = g_new0 (BacklogReport, 1);
  report->mailbox = g_atomic_rc_box_acquire (self->mailbox);
  report->backlogged = backlogged;
  post (self, backlog_report_dispatch, report, backlog_report_free, "[dermaroll] store backlog");
}

/* Writes */

/* A write is committed at most 250 ms (or the longer time it was queued
 * with) after it was queued; what is not a write (a failure's report) as
 * soon as the next batch ends. */
static void
arm_deadline (DrStoreWorker *self, const Job *job)
{
  gint64 deadline = job != NULL && job->queued_us != 0 ? job->queued_us + job->batch_us
                                                       : g_get_monotonic_time () + BATCH_US;

  if (self->deadline == 0 || deadline < self->deadline)
    self->deadline = deadline;
}

static void
fail_job (DrStoreWorker *self, Job *job, const GError *error)
{
  Failure failure = { job->serial, g_error_copy (error) };

  /* Store errors name the file already. */
  if (g_str_has_prefix (error->message, self->path))
    g_warning ("write %" G_GUINT64_FORMAT " failed: %s", job->serial, error->message);
  else
    g_warning ("%s: write %" G_GUINT64_FORMAT " failed: %s", self->path, job->serial,
               error->message);
  g_atomic_int_inc (&self->n_errors);
  g_array_append_val (self->failures, failure);
  arm_deadline (self, job);
  job_free (job);
}

/* SQLite rolled the whole transaction back (an I/O error or a full disk
 * can do that): the writes applied in it are gone. Each is run once more in
 * a new transaction; one that was already run again fails for good. */
static void
replay_batch (DrStoreWorker *self)
{
  g_autoptr (GPtrArray) lost = g_steal_pointer (&self->batch);
  g_autoptr (GError) error = NULL;

  self->batch = g_ptr_array_new ();
  dr_store_rollback (self->store);
  error = g_error_new (DR_ERROR, DR_ERROR_STORE, "%s: transaction rolled back by an earlier error",
                       self->path);
  for (guint i = 0; i < lost->len; i++)
    {
      Job *job = g_ptr_array_index (lost, i);

      if (job->retried)
        {
          fail_job (self, job, error);
          continue;
        }
      job->retried = TRUE;
      run_write (self, job);
    }
}

/* The database was found damaged (by any statement, or the integrity
 * check): nothing more goes into it. It is moved aside whole and a fresh
 * one takes its place; the writes of the open transaction, never committed
 * to the old file, are run again in the new one, so what is acked is what
 * the fresh file holds. TRUE when the store was damaged. */
static gboolean
handle_damage (DrStoreWorker *self, const char *found)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *moved_to = NULL;
  DrStore *fresh;

  if (self->store == NULL || !dr_store_is_corrupt (self->store))
    return FALSE;
  fresh = dr_store_replace_damaged (g_steal_pointer (&self->store), &moved_to, &error);
  g_free (self->damage);
  self->damage = g_strdup (found);
  g_free (self->moved_to);
  if (fresh == NULL)
    {
      g_warning ("%s: the database is damaged (%s) and cannot be replaced: %s; nothing more is "
                 "stored until dermarolld is restarted",
                 self->path, found, error->message);
      self->moved_to = NULL;
      self->dead = g_error_new (DR_ERROR, DR_ERROR_STORE, "%s: the database is damaged and %s",
                                self->path, error->message);
      discard_batch (self, self->dead);
    }
  else
    {
      g_autofree char *what = g_str_has_prefix (found, self->path)
                                  ? g_strdup (found)
                                  : g_strdup_printf ("%s: %s", self->path, found);
      g_warning ("%s: the database is damaged; moved it to %s, going on with a fresh one "
                 "(dermarolld --salvage %s recovers its readable frames)",
                 what, moved_to, moved_to);
      self->store = fresh;
      self->moved_to = g_steal_pointer (&moved_to);
      if (self->batch->len > 0)
        replay_batch (self);
    }
  arm_deadline (self, NULL);
  return TRUE;
}

static void
run_write (DrStoreWorker *self, Job *job)
{
  g_autoptr (GError) error = NULL;

  self->batch_serial = MAX (self->batch_serial, job->serial);
  self->writes_since_release++;
  arm_deadline (self, job);

  if (self->dead != NULL)
    {
      fail_job (self, job, self->dead);
      return;
    }
  /* A write of several statements that fails alone (a full disk fails the
   * statement that needed the page, and a job's own check can fail after
   * its first statement) must leave nothing behind while the transaction
   * goes on with the others: it runs in a savepoint. One statement needs
   * none: SQLite undoes a failed statement by itself. */
  if (!dr_store_begin (self->store, &error)
      || (!job->statement && !dr_store_savepoint (self->store, &error)))
    {
      fail_job (self, job, error);
      return;
    }
  if (job->write (self->store, job->data, &error))
    {
      if (job->statement || dr_store_end_savepoint (self->store, TRUE, &error))
        {
          /* Kept until the commit, in case the batch has to be replayed. */
          g_ptr_array_add (self->batch, job);
          /* A burst: writes that may wait do not, once they are many. Each
           * holds its data, and the roller's ledger an entry, until the
           * commit: a second of a flat-out stream kept the daemon's memory
           * four times as high as 250 ms of it. */
          if (self->batch->len == LARGE_BATCH)
            {
              const Job *first = g_ptr_array_index (self->batch, 0);
              gint64 deadline = first->queued_us + BATCH_US;

              if (first->queued_us != 0 && deadline < self->deadline)
                self->deadline = deadline;
            }
          /* And never more than FULL_BATCH at all: at a flat-out stream's
           * 100,000 frames a second, 250 ms of them kept the daemon at
           * 30-50 MB. */
          if (self->batch->len >= FULL_BATCH)
            self->deadline = g_get_monotonic_time ();
          return;
        }
    }
  else if (error == NULL)
    {
      g_critical ("a store write function failed without setting an error");
      error = g_error_new (DR_ERROR, DR_ERROR_FAILED, "%s: write failed", self->path);
    }

  if (dr_store_is_corrupt (self->store))
    {
      fail_job (self, job, error);
      handle_damage (self, error->message);
      return;
    }
  /* Only this job failed when the transaction is still there. */
  if (dr_store_in_transaction (self->store)
      && (job->statement || dr_store_end_savepoint (self->store, FALSE, NULL)))
    {
      fail_job (self, job, error);
      return;
    }
  fail_job (self, job, error);
  replay_batch (self);
}

static void
discard_batch (DrStoreWorker *self, const GError *error)
{
  for (guint i = 0; i < self->batch->len; i++)
    fail_job (self, g_ptr_array_index (self->batch, i), error);
  g_ptr_array_set_size (self->batch, 0);
}

/* A burst (a history sync, a fast roller) grows SQLite's page cache and
 * leaves the freed job memory in malloc's arenas; once it is over (nothing
 * else queued), both are given back rather than kept for the idle hours.
 * Not after an ordinary commit: there is little to give back, and SQLite
 * would read its pages in again for the next batch. */
static void
release_after_burst (DrStoreWorker *self)
{
  gboolean drained;

  if (self->writes_since_release < BURST_WRITES || self->store == NULL)
    return;
  g_mutex_lock (&self->lock);
  drained = self->inbox->len == 0;
  g_mutex_unlock (&self->lock);
  if (!drained)
    return;
  dr_store_release_memory (self->store);
  /* malloc's free memory is given back on the main context, after the
   * report: the burst's frames there (the roller's ACK ledger) are only
   * freed once it hears of the commit. */
  self->trim_owed = TRUE;
  self->writes_since_release = 0;
  g_mutex_lock (&self->lock);
  self->stats.releases++;
  g_mutex_unlock (&self->lock);
}

/* Commits durably what is pending and tells the main context. */
static void
finish_batch (DrStoreWorker *self)
{
  g_autoptr (GError) error = NULL;
  gboolean open = self->store != NULL && dr_store_in_transaction (self->store);

  if (open)
    {
      gboolean committed = dr_store_commit (self->store, FALSE, &error);

      if (!committed && handle_damage (self, error->message))
        {
          g_clear_error (&error);
          committed = self->store != NULL && dr_store_commit (self->store, FALSE, &error);
        }
      else if (!committed && self->batch->len > 0)
        {
          /* The commit was rolled back: run the batch again, once. */
          g_warning ("%s", error->message);
          g_atomic_int_inc (&self->n_errors);
          g_clear_error (&error);
          replay_batch (self);
          committed = dr_store_commit (self->store, FALSE, &error);
        }
      if (!committed)
        discard_batch (self, error != NULL ? error : self->dead);
      g_clear_error (&error);
    }
  /* Committed, but only on disk once synced. A failed fsync cannot be
   * retried (the kernel may have dropped the dirty pages): none of the
   * batch counts as stored; the roller sends those frames again and the
   * duplicate check keeps them single. */
  if (self->batch->len > 0 && self->store != NULL && !dr_store_sync (self->store, &error))
    discard_batch (self, error);

  /* On disk: the jobs' data can go. */
  for (guint i = 0; i < self->batch->len; i++)
    job_free (g_ptr_array_index (self->batch, i));
  g_ptr_array_set_size (self->batch, 0);
  self->deadline = 0;
  if (open)
    {
      g_mutex_lock (&self->lock);
      self->stats.commits++;
      g_mutex_unlock (&self->lock);
    }

  /* A write failed: the disk may be full, perhaps of the write-ahead log
   * itself. A checkpoint gives the log's space back once the database file
   * can take its pages; it is tried after each batch until it works, and
   * before the report, so that a commit reported after a failure has it
   * behind it. */
  if (self->failures->len > 0)
    self->checkpoint_owed = TRUE;
  g_clear_error (&error);
  if (self->checkpoint_owed)
    {
      if (dr_store_checkpoint (self->store, &error))
        {
          g_info ("%s: write-ahead log checkpointed after a failed write", self->path);
          self->checkpoint_owed = FALSE;
        }
      else
        {
          g_debug ("%s", error->message);
          g_clear_error (&error);
        }
    }
  /* Before the report: whoever hears of the commit finds it done. */
  release_after_burst (self);
  send_report (self);
}

/* Queries */

/* The caller's data goes before the answer does, so that by the time its
 * callback runs on the main context nothing of the query is left here. */
static void
job_release_data (Job *job)
{
  if (job->destroy != NULL)
    job->destroy (job->data);
  job->destroy = NULL;
  job->data = NULL;
}

static gboolean
drop_task (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/* The task holds a reference on the worker, its source object. Dropped
 * here it could be the last one, and dispose would then join the thread
 * it runs on: the task goes back to its own context to be let go. */
static void
hand_back_task (GTask *task)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, drop_task, task, g_object_unref);
  g_source_set_static_name (source, "[dermaroll] store query done");
  g_source_attach (source, g_task_get_context (task));
  g_source_unref (source);
}

static void
run_query (DrStoreWorker *self, Job *job)
{
  g_autoptr (GError) error = NULL;
  gpointer result;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (job->task)))
    {
      job_release_data (job);
      g_task_return_error_if_cancelled (job->task);
      hand_back_task (g_steal_pointer (&job->task));
      return;
    }
  if (self->dead != NULL)
    {
      job_release_data (job);
      g_task_return_error (job->task, g_error_copy (self->dead));
      hand_back_task (g_steal_pointer (&job->task));
      return;
    }
  result = job->query (self->store, job->data, &error);
  job_release_data (job);
  if (error != NULL)
    g_task_return_error (job->task, g_steal_pointer (&error));
  else
    g_task_return_pointer (job->task, result, NULL);
  hand_back_task (g_steal_pointer (&job->task));

  if (dr_store_is_corrupt (self->store))
    {
      handle_damage (self, "a query met a damaged page");
      send_report (self);
      return;
    }
  /* A failed read can take the transaction down too. */
  if (self->batch->len > 0 && !dr_store_in_transaction (self->store))
    replay_batch (self);
}

static void
run_check (DrStoreWorker *self)
{
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  if (self->store == NULL)
    return;
  if (dr_store_quick_check (self->store, &error))
    {
      g_debug ("%s: integrity check passed in %" G_GINT64_FORMAT " ms", self->path,
               (g_get_monotonic_time () - start) / 1000);
      return;
    }
  /* A check that could not run at all (an I/O error) proves no damage. */
  if (!handle_damage (self, error->message))
    g_warning ("%s", error->message);
  send_report (self);
}

/* The thread */

/* Runs one job taken from the inbox; FALSE after the quit job. */
static gboolean
run_job (DrStoreWorker *self, Job *job)
{
  switch (job->kind)
    {
      case JOB_WRITE:
        run_write (self, job);
        return TRUE;
      case JOB_QUERY:
        run_query (self, job);
        break;
      case JOB_FLUSH:
        finish_batch (self);
        break;
      case JOB_CHECK:
        run_check (self);
        break;
      case JOB_QUIT:
        finish_batch (self);
        job_free (job);
        return FALSE;
      default:
        g_assert_not_reached ();
    }
  job_free (job);
  return TRUE;
}

static gpointer
worker_thread (gpointer data)
{
  DrStoreWorker *self = data;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      gint64 deadline = self->deadline;
      gint64 now;
      gboolean due, running = TRUE;

      if (self->inbox_deadline != 0 && (deadline == 0 || self->inbox_deadline < deadline))
        deadline = self->inbox_deadline;
      now = g_get_monotonic_time ();
      due = deadline != 0 && now >= deadline;
      if (!due && !self->urgent && self->inbox_writes < LARGE_BATCH)
        {
          self->sleeping = TRUE;
          self->sleep_until = deadline;
          if (deadline == 0)
            g_cond_wait (&self->cond, &self->lock);
          else
            g_cond_wait_until (&self->cond, &self->lock, deadline);
          self->sleeping = FALSE;
          self->stats.wakeups++;
          continue;
        }

      /* The whole inbox in one go: the lock is not taken per job. */
      {
        GPtrArray *taken = self->inbox;

        self->inbox = self->work;
        self->work = taken;
      }
      self->inbox_writes = 0;
      /* Taken: what waits for the thread now is what comes next. */
      set_backlogged (self, FALSE);
      self->inbox_deadline = 0;
      self->urgent = FALSE;
      g_mutex_unlock (&self->lock);

      for (guint i = 0; i < self->work->len && running; i++)
        running = run_job (self, g_ptr_array_index (self->work, i));
      g_ptr_array_set_size (self->work, 0);
      if (!running)
        return NULL;
      if (self->deadline != 0 && g_get_monotonic_time () >= self->deadline)
        finish_batch (self);
      g_mutex_lock (&self->lock);
    }
}

/* Queues @job, numbering it when it is a write: serial and queue position
 * are taken together, so serials follow the order the worker applies the
 * writes in, from any thread. The thread is woken only when it must act
 * before it would wake anyway. FALSE, with @job not queued, once the quit
 * job is: nothing runs after it. */
static gboolean
push_serial (DrStoreWorker *self, Job *job, guint64 *serial)
{
  gboolean wake = FALSE;

  if (job->kind == JOB_WRITE)
    job->queued_us = g_get_monotonic_time ();
  g_mutex_lock (&self->lock);
  if (self->closed)
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  if (job->kind == JOB_WRITE)
    {
      gint64 deadline = job->queued_us + job->batch_us;

      job->serial = ++self->last_serial;
      /* The earliest deadline in the inbox: a 250 ms write after one that
       * may wait longer brings the commit forward. */
      if (self->inbox_deadline == 0 || deadline < self->inbox_deadline)
        {
          self->inbox_deadline = deadline;
          /* Asleep with no deadline, or a later one (a write that may wait
           * longer, or a clock step). */
          wake = self->sleep_until == 0 || deadline < self->sleep_until;
        }
      if (++self->inbox_writes == LARGE_BATCH)
        wake = TRUE;
      if (self->inbox_writes >= BACKLOG_HIGH)
        set_backlogged (self, TRUE);
    }
  else
    {
      self->urgent = TRUE;
      wake = TRUE;
    }
  if (serial != NULL)
    *serial = job->serial;
  if (job->kind == JOB_QUIT)
    self->closed = TRUE;
  g_ptr_array_add (self->inbox, job);
  if (wake && self->sleeping)
    {
      /* Once: the thread re-reads everything when it runs. */
      self->sleeping = FALSE;
      self->stats.signals++;
      g_cond_signal (&self->cond);
    }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
push (DrStoreWorker *self, Job *job)
{
  return push_serial (self, job, NULL);
}

/* GObject */

static void
dr_store_worker_init (DrStoreWorker *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->inbox = g_ptr_array_new ();
  self->work = g_ptr_array_new ();
  self->mailbox = g_atomic_rc_box_new0 (Mailbox);
  self->mailbox->worker = self;
  self->mailbox->open = TRUE;
  self->batch = g_ptr_array_new ();
  self->failures = failures_new ();
  self->pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
}

static void
dr_store_worker_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  DrStoreWorker *self = DR_STORE_WORKER (object);

  switch (prop_id)
    {
      case PROP_STORE:
        self->store = g_value_get_pointer (value);
        break;
      case PROP_CONTEXT:
        self->context = g_value_dup_boxed (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_store_worker_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DrStoreWorker *self = DR_STORE_WORKER (object);

  switch (prop_id)
    {
      case PROP_BACKLOGGED:
        g_value_set_boolean (value, self->backlogged_shown);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_store_worker_constructed (GObject *object)
{
  DrStoreWorker *self = DR_STORE_WORKER (object);

  G_OBJECT_CLASS (dr_store_worker_parent_class)->constructed (object);

  if (self->context == NULL)
    self->context = g_main_context_ref_thread_default ();
  if (self->store == NULL)
    {
      g_critical ("a DrStoreWorker needs a store");
      return;
    }
  self->path = g_strdup (dr_store_get_path (self->store));
  self->thread = g_thread_new ("dr-store", worker_thread, self);
}

static void
dr_store_worker_dispose (GObject *object)
{
  dr_store_worker_close (DR_STORE_WORKER (object));
  G_OBJECT_CLASS (dr_store_worker_parent_class)->dispose (object);
}

static void
dr_store_worker_finalize (GObject *object)
{
  DrStoreWorker *self = DR_STORE_WORKER (object);

  g_ptr_array_unref (self->inbox);
  g_ptr_array_unref (self->work);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_ptr_array_unref (self->batch);
  g_array_unref (self->failures);
  g_hash_table_unref (self->pending);
  g_atomic_rc_box_release (self->mailbox);
  g_main_context_unref (self->context);
  g_free (self->damage);
  g_free (self->moved_to);
  g_clear_error (&self->dead);
  g_free (self->path);
  G_OBJECT_CLASS (dr_store_worker_parent_class)->finalize (object);
}

static void
dr_store_worker_class_init (DrStoreWorkerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->set_property = dr_store_worker_set_property;
  object_class->get_property = dr_store_worker_get_property;
  object_class->constructed = dr_store_worker_constructed;
  object_class->dispose = dr_store_worker_dispose;
  object_class->finalize = dr_store_worker_finalize;

  /* A DrStore is no GObject: the worker takes it over as it is. */
  props[PROP_STORE] = g_param_spec_pointer (
      "store", NULL, NULL, G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_CONTEXT]
      = g_param_spec_boxed ("context", NULL, NULL, G_TYPE_MAIN_CONTEXT,
                            G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_BACKLOGGED] = g_param_spec_boolean ("backlogged", NULL, NULL, FALSE,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_COMMITTED]
      = g_signal_new ("committed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
  signals[SIGNAL_WRITE_FAILED] = g_signal_new (
      "write-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_DAMAGED]
      = g_signal_new ("damaged", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

/* API */

DrStoreWorker *
dr_store_worker_new (DrStore *store, GMainContext *context)
{
  g_return_val_if_fail (store != NULL, NULL);

  return g_object_new (DR_TYPE_STORE_WORKER, "store", store, "context", context, NULL);
}

void
dr_store_worker_close (DrStoreWorker *self)
{
  Job *job;

  g_return_if_fail (DR_IS_STORE_WORKER (self));

  job = job_new (JOB_QUIT);
  if (!push (self, job))
    {
      job_free (job);
      return; /* closed already */
    }
  if (self->thread != NULL)
    g_thread_join (g_steal_pointer (&self->thread));
  g_atomic_int_set (&self->mailbox->open, FALSE);
  /* Their reports are silenced: the last commit may have them, or not. */
  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, self->pending);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      g_task_return_new_error (value, DR_ERROR, DR_ERROR_CLOSED,
                               "%s: the store closed before the write was confirmed", self->path);
    g_hash_table_remove_all (self->pending);
  }

  /* Without a thread (no store), the quit job is still there. */
  for (guint i = 0; i < self->inbox->len; i++)
    {
      job = g_ptr_array_index (self->inbox, i);
      if (job->task != NULL)
        g_task_return_new_error (job->task, DR_ERROR, DR_ERROR_CLOSED, "the store is closed");
      job_free (job);
    }
  g_ptr_array_set_size (self->inbox, 0);
  g_clear_pointer (&self->store, dr_store_free);
}

static guint64
write_job (DrStoreWorker *self, DrStoreWriteFunc func, gpointer data, GDestroyNotify destroy,
           gboolean statement, gint64 batch_us)
{
  Job *job;

  g_return_val_if_fail (DR_IS_STORE_WORKER (self), 0);
  g_return_val_if_fail (func != NULL, 0);

  job = job_new (JOB_WRITE);
  job->write = func;
  job->data = data;
  job->destroy = destroy;
  job->statement = statement;
  job->batch_us = batch_us;
  if (!push (self, job))
    {
      /* Serial 0 would say "nothing to wait for": a caller's bug. */
      g_critical ("%s: write after the store worker was closed", self->path);
      job_free (job);
      return 0;
    }
  return job->serial;
}

guint64
dr_store_worker_write (DrStoreWorker *self, DrStoreWriteFunc func, gpointer data,
                       GDestroyNotify destroy)
{
  return write_job (self, func, data, destroy, FALSE, BATCH_US);
}

guint64
dr_store_worker_write_statement (DrStoreWorker *self, DrStoreWriteFunc func, gpointer data,
                                 GDestroyNotify destroy)
{
  return write_job (self, func, data, destroy, TRUE, BATCH_US);
}

guint64
dr_store_worker_write_statement_within (DrStoreWorker *self, DrStoreWriteFunc func, gpointer data,
                                        GDestroyNotify destroy, guint within_ms)
{
  return write_job (self, func, data, destroy, TRUE,
                    MAX ((gint64) within_ms * G_TIME_SPAN_MILLISECOND, BATCH_US));
}

void
dr_store_worker_write_async (DrStoreWorker *self, DrStoreWriteFunc func, gpointer data,
                             GDestroyNotify destroy, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  guint64 serial;
  Job *job;

  g_return_if_fail (DR_IS_STORE_WORKER (self));
  g_return_if_fail (func != NULL);

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, dr_store_worker_write_async);
  g_task_set_name (task, "dr_store_worker_write_async");
  job = job_new (JOB_WRITE);
  job->write = func;
  job->data = data;
  job->destroy = destroy;
  if (!push_serial (self, job, &serial))
    {
      job_free (job);
      g_task_return_new_error (task, DR_ERROR, DR_ERROR_CLOSED, "%s: the store is closed",
                               self->path);
      return;
    }
  /* The worker may have run it already; only this context hears of it. */
  g_hash_table_insert (self->pending, g_memdup2 (&serial, sizeof serial), g_steal_pointer (&task));
  /* Someone waits for it: no 250 ms batch. */
  dr_store_worker_flush (self);
}

gboolean
dr_store_worker_write_finish (DrStoreWorker *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (DR_IS_STORE_WORKER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == dr_store_worker_write_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
dr_store_worker_flush (DrStoreWorker *self)
{
  Job *job;

  g_return_if_fail (DR_IS_STORE_WORKER (self));

  job = job_new (JOB_FLUSH);
  if (!push (self, job))
    job_free (job); /* closing committed everything */
}

void
dr_store_worker_query (DrStoreWorker *self, DrStoreQueryFunc func, gpointer data,
                       GDestroyNotify destroy, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job;

  g_return_if_fail (DR_IS_STORE_WORKER (self));
  g_return_if_fail (func != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = job_new (JOB_QUERY);
  job->query = func;
  job->data = data;
  job->destroy = destroy;
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, dr_store_worker_query);
  g_task_set_name (job->task, "dr_store_worker_query");
  /* The result's type is the caller's: GTask could not free it if it
   * dropped it for a late cancellation, so a result once made is delivered. */
  g_task_set_check_cancellable (job->task, FALSE);
  if (!push (self, job))
    {
      g_task_return_new_error (job->task, DR_ERROR, DR_ERROR_CLOSED, "the store is closed");
      job_free (job);
    }
}

gpointer
dr_store_worker_query_finish (DrStoreWorker *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (DR_IS_STORE_WORKER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == dr_store_worker_query, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
dr_store_worker_check (DrStoreWorker *self)
{
  Job *job;

  g_return_if_fail (DR_IS_STORE_WORKER (self));

  job = job_new (JOB_CHECK);
  if (!push (self, job))
    job_free (job);
}

guint
dr_store_worker_get_n_errors (DrStoreWorker *self)
{
  g_return_val_if_fail (DR_IS_STORE_WORKER (self), 0);
  return (guint) g_atomic_int_get (&self->n_errors);
}

void
dr_store_worker_get_stats (DrStoreWorker *self, DrStoreWorkerStats *stats)
{
  g_return_if_fail (DR_IS_STORE_WORKER (self));
  g_return_if_fail (stats != NULL);

  g_mutex_lock (&self->lock);
  *stats = self->stats;
  g_mutex_unlock (&self->lock);
}
