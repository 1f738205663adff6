/* store-worker.c: the thread that owns the DrStore.
 *
 * Jobs arrive on one GAsyncQueue, in order. The first write after a commit
 * opens a transaction and sets a deadline 250 ms later; the thread waits on
 * the queue at most until then, and commits durably when it passes (or on
 * flush and quit). With nothing pending it waits on the queue without a
 * timeout, so an idle worker never wakes up.
 */
#include "store-worker.h"

#include <malloc.h>

#include "dr-error.h"

#define BATCH_US (250 * G_TIME_SPAN_MILLISECOND)

typedef enum
{
  JOB_WRITE,
  JOB_QUERY,
  JOB_FLUSH,
  JOB_QUIT,
} JobKind;

typedef struct
{
  JobKind kind;
  guint64 serial;   /* JOB_WRITE */
  gboolean retried; /* JOB_WRITE: already run again after a lost transaction */
  DrStoreWriteFunc write;
  DrStoreQueryFunc query;
  gpointer data;
  GDestroyNotify destroy;
  GTask *task; /* JOB_QUERY */
} Job;

/* The callbacks, shared with the reports on their way to the main context
 * so that dr_store_worker_free () can silence those still in flight. */
typedef struct
{
  GMutex lock;
  gboolean alive;
  DrStoreCommittedFunc committed_func;
  gpointer committed_data;
  DrStoreFailedFunc failed_func;
  gpointer failed_data;
} Listener;

typedef struct
{
  guint64 serial;
  GError *error;
} Failure;

/* What one commit tells the main context. */
typedef struct
{
  Listener *listener;
  guint64 serial; /* highest write serial handled; 0: none */
  GArray *failures;
} Report;

struct _DrStoreWorker
{
  DrStore *store;
  char *path;
  GMainContext *context;
  GAsyncQueue *queue;
  GThread *thread;
  Listener *listener;
  guint64 last_serial; /* under the queue's lock */
  guint n_errors;      /* atomic */

  /* Worker thread only. */
  GPtrArray *batch;     /* write jobs applied in the open transaction */
  gint64 deadline;      /* monotonic time to commit by; 0: nothing pending */
  guint64 batch_serial; /* highest write serial handled since the last report */
  GArray *failures;     /* Failure, since the last report */
};

static void run_write (DrStoreWorker *self, Job *job);

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

static void
listener_clear (gpointer data)
{
  Listener *listener = data;
  g_mutex_clear (&listener->lock);
}

static void
listener_unref (Listener *listener)
{
  g_atomic_rc_box_release_full (listener, listener_clear);
}

static void
report_free (gpointer data)
{
  Report *report = data;

  listener_unref (report->listener);
  g_array_unref (report->failures);
  g_free (report);
}

static gboolean
report_dispatch (gpointer data)
{
  Report *report = data;
  Listener *listener = report->listener;
  DrStoreCommittedFunc committed_func;
  DrStoreFailedFunc failed_func;
  gpointer committed_data, failed_data;
  gboolean alive;

  g_mutex_lock (&listener->lock);
  alive = listener->alive;
  committed_func = listener->committed_func;
  committed_data = listener->committed_data;
  failed_func = listener->failed_func;
  failed_data = listener->failed_data;
  g_mutex_unlock (&listener->lock);

  if (!alive)
    return G_SOURCE_REMOVE;
  /* Failures first: a committed serial covers them. */
  for (guint i = 0; failed_func != NULL && i < report->failures->len; i++)
    {
      Failure *failure = &g_array_index (report->failures, Failure, i);
      failed_func (failure->serial, failure->error, failed_data);
    }
  if (committed_func != NULL && report->serial != 0)
    committed_func (report->serial, committed_data);
  return G_SOURCE_REMOVE;
}

static void
send_report (DrStoreWorker *self)
{
  Report *report;
  GSource *source;

  if (self->batch_serial == 0 && self->failures->len == 0)
    return;
  report = g_new0 (Report, 1);
  report->listener = g_atomic_rc_box_acquire (self->listener);
  report->serial = self->batch_serial;
  report->failures = g_steal_pointer (&self->failures);
  self->failures = failures_new ();
  self->batch_serial = 0;
  /* An idle source, not g_main_context_invoke_full (): that one runs the
   * callback right here, on this thread, whenever it can acquire the
   * context (the global default one while the main thread is not
   * iterating). Sources of one priority are dispatched in the order they
   * were attached: the main context sees the commits in order. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, report_dispatch, report, report_free);
  g_source_set_static_name (source, "[dermaroll] store commit");
  g_source_attach (source, self->context);
  g_source_unref (source);
}

/* Writes */

static void
arm_deadline (DrStoreWorker *self)
{
  if (self->deadline == 0)
    self->deadline = g_get_monotonic_time () + BATCH_US;
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
  arm_deadline (self);
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

static void
run_write (DrStoreWorker *self, Job *job)
{
  g_autoptr (GError) error = NULL;

  self->batch_serial = MAX (self->batch_serial, job->serial);
  arm_deadline (self);

  if (!dr_store_begin (self->store, &error) || !dr_store_savepoint (self->store, &error))
    {
      fail_job (self, job, error);
      return;
    }
  if (job->write (self->store, job->data, &error))
    {
      if (dr_store_end_savepoint (self->store, TRUE, &error))
        {
          /* Kept until the commit, in case the batch has to be replayed. */
          g_ptr_array_add (self->batch, job);
          return;
        }
    }
  else if (error == NULL)
    {
      g_critical ("a store write function failed without setting an error");
      error = g_error_new (DR_ERROR, DR_ERROR_FAILED, "%s: write failed", self->path);
    }

  if (dr_store_in_transaction (self->store) && dr_store_end_savepoint (self->store, FALSE, NULL))
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

/* Commits durably what is pending and tells the main context. */
static void
finish_batch (DrStoreWorker *self)
{
  g_autoptr (GError) error = NULL;

  if (dr_store_in_transaction (self->store))
    {
      gboolean committed = dr_store_commit (self->store, FALSE, &error);

      if (!committed && self->batch->len > 0)
        {
          /* The commit was rolled back: run the batch again, once. */
          g_warning ("%s", error->message);
          g_atomic_int_inc (&self->n_errors);
          g_clear_error (&error);
          replay_batch (self);
          committed = dr_store_commit (self->store, FALSE, &error);
        }
      if (!committed)
        discard_batch (self, error);
      g_clear_error (&error);
    }
  /* Committed, but only on disk once synced. A failed fsync cannot be
   * retried (the kernel may have dropped the dirty pages): none of the
   * batch counts as stored; the roller sends those frames again and the
   * duplicate check keeps them single. */
  if (self->batch->len > 0 && !dr_store_sync (self->store, &error))
    discard_batch (self, error);

  /* On disk: the jobs' data can go. */
  for (guint i = 0; i < self->batch->len; i++)
    job_free (g_ptr_array_index (self->batch, i));
  g_ptr_array_set_size (self->batch, 0);
  self->deadline = 0;
  send_report (self);

  /* A burst (a history sync, a fast roller) grows SQLite's page cache and
   * leaves the freed job memory in malloc's arenas; when nothing else is
   * queued, give both back rather than keep them for the idle hours. */
  if (g_async_queue_length (self->queue) <= 0)
    {
      dr_store_release_memory (self->store);
      malloc_trim (0);
    }
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

static void
run_query (DrStoreWorker *self, Job *job)
{
  g_autoptr (GError) error = NULL;
  gpointer result;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (job->task)))
    {
      job_release_data (job);
      g_task_return_error_if_cancelled (job->task);
      return;
    }
  result = job->query (self->store, job->data, &error);
  job_release_data (job);
  if (error != NULL)
    g_task_return_error (job->task, g_steal_pointer (&error));
  else
    g_task_return_pointer (job->task, result, NULL);

  /* A failed read can take the transaction down too. */
  if (self->batch->len > 0 && !dr_store_in_transaction (self->store))
    replay_batch (self);
}

/* The thread */

static gpointer
worker_thread (gpointer data)
{
  DrStoreWorker *self = data;

  for (;;)
    {
      Job *job;

      if (self->deadline == 0)
        {
          job = g_async_queue_pop (self->queue);
        }
      else
        {
          gint64 remaining = self->deadline - g_get_monotonic_time ();

          job = remaining > 0 ? g_async_queue_timeout_pop (self->queue, (guint64) remaining) : NULL;
          if (job == NULL)
            {
              finish_batch (self);
              continue;
            }
        }

      switch (job->kind)
        {
          case JOB_WRITE:
            run_write (self, job);
            break;
          case JOB_QUERY:
            run_query (self, job);
            job_free (job);
            break;
          case JOB_FLUSH:
            finish_batch (self);
            job_free (job);
            break;
          case JOB_QUIT:
            finish_batch (self);
            job_free (job);
            return NULL;
          default:
            g_assert_not_reached ();
        }
    }
}

static void
push (DrStoreWorker *self, Job *job)
{
  g_async_queue_push (self->queue, job);
}

DrStoreWorker *
dr_store_worker_new (DrStore *store, GMainContext *context)
{
  DrStoreWorker *self;

  g_return_val_if_fail (store != NULL, NULL);

  self = g_new0 (DrStoreWorker, 1);
  self->store = store;
  self->path = g_strdup (dr_store_get_path (store));
  self->context
      = context != NULL ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  self->queue = g_async_queue_new ();
  self->listener = g_atomic_rc_box_new0 (Listener);
  g_mutex_init (&self->listener->lock);
  self->listener->alive = TRUE;
  self->batch = g_ptr_array_new ();
  self->failures = failures_new ();
  self->thread = g_thread_new ("dr-store", worker_thread, self);
  return self;
}

void
dr_store_worker_free (DrStoreWorker *self)
{
  Job *quit;
  Job *job;

  if (self == NULL)
    return;

  quit = g_new0 (Job, 1);
  quit->kind = JOB_QUIT;
  push (self, quit);
  g_thread_join (self->thread);

  g_mutex_lock (&self->listener->lock);
  self->listener->alive = FALSE;
  g_mutex_unlock (&self->listener->lock);
  listener_unref (self->listener);

  /* Jobs queued after free () began are a caller's bug; do not leak them. */
  while ((job = g_async_queue_try_pop (self->queue)) != NULL)
    {
      if (job->task != NULL)
        g_task_return_new_error (job->task, DR_ERROR, DR_ERROR_CLOSED, "the store is closed");
      job_free (job);
    }
  g_async_queue_unref (self->queue);
  g_ptr_array_unref (self->batch);
  g_array_unref (self->failures);
  dr_store_free (self->store);
  g_main_context_unref (self->context);
  g_free (self->path);
  g_free (self);
}

void
dr_store_worker_set_committed_func (DrStoreWorker *self, DrStoreCommittedFunc func,
                                    gpointer user_data)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->listener->lock);
  self->listener->committed_func = func;
  self->listener->committed_data = user_data;
  g_mutex_unlock (&self->listener->lock);
}

void
dr_store_worker_set_failed_func (DrStoreWorker *self, DrStoreFailedFunc func, gpointer user_data)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->listener->lock);
  self->listener->failed_func = func;
  self->listener->failed_data = user_data;
  g_mutex_unlock (&self->listener->lock);
}

guint64
dr_store_worker_write (DrStoreWorker *self, DrStoreWriteFunc func, gpointer data,
                       GDestroyNotify destroy)
{
  Job *job;
  guint64 serial;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (func != NULL, 0);

  job = g_new0 (Job, 1);
  job->kind = JOB_WRITE;
  job->write = func;
  job->data = data;
  job->destroy = destroy;
  /* Serial and queue position are taken together, so serials follow the
   * order the worker applies the writes in, from any thread. */
  g_async_queue_lock (self->queue);
  serial = job->serial = ++self->last_serial;
  g_async_queue_push_unlocked (self->queue, job);
  g_async_queue_unlock (self->queue);
  return serial;
}

void
dr_store_worker_flush (DrStoreWorker *self)
{
  Job *job;

  g_return_if_fail (self != NULL);

  job = g_new0 (Job, 1);
  job->kind = JOB_FLUSH;
  push (self, job);
}

void
dr_store_worker_query (DrStoreWorker *self, DrStoreQueryFunc func, gpointer data,
                       GDestroyNotify destroy, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job;

  g_return_if_fail (self != NULL);
  g_return_if_fail (func != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = g_new0 (Job, 1);
  job->kind = JOB_QUERY;
  job->query = func;
  job->data = data;
  job->destroy = destroy;
  job->task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, dr_store_worker_query);
  g_task_set_name (job->task, "dr_store_worker_query");
  /* The result's type is the caller's: GTask could not free it if it
   * dropped it for a late cancellation, so a result once made is delivered. */
  g_task_set_check_cancellable (job->task, FALSE);
  push (self, job);
}

gpointer
dr_store_worker_query_finish (DrStoreWorker *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == dr_store_worker_query, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

guint
dr_store_worker_get_n_errors (DrStoreWorker *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return (guint) g_atomic_int_get (&self->n_errors);
}
