/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sample-export.c: see sample-export.h. */
#include "sample-export.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "dr-error.h"
#include "store.h"

/* Big enough that a write is a pipe's worth (64 KiB) and syscalls stay
 * well under one per thousand samples, small enough to be nothing. */
#define BUFFER_RECORDS 4096

typedef struct
{
  char *db_path;
  guint64 session_id;
  int fd;
  guint64 n_samples;
} Export;

typedef struct
{
  Export *export;
  GCancellable *cancellable;
  guint8 buffer[BUFFER_RECORDS * DR_SAMPLE_RECORD_SIZE];
  gsize used;
  GError *error; /* why the store's walk was stopped */
} Writer;

static void
export_free (gpointer data)
{
  Export *export = data;

  if (export->fd >= 0)
    close (export->fd);
  g_free (export->db_path);
  g_free (export);
}

/* All of @len, or an error: the fd is non-blocking so that a reader that
 * stops cannot keep the thread from seeing the cancellable. */
static gboolean
write_all (Writer *w, const guint8 *data, gsize len, GError **error)
{
  GPollFD fds[2] = { { .fd = w->export->fd, .events = G_IO_OUT } };
  guint n_fds = g_cancellable_make_pollfd (w->cancellable, &fds[1]) ? 2 : 1;
  gboolean ok = TRUE;

  while (len > 0)
    {
      ssize_t n = write (w->export->fd, data, len);

      if (n > 0)
        {
          data += n;
          len -= (gsize) n;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        {
          int ready = g_poll (fds, n_fds, DR_SAMPLE_EXPORT_STALL_S * 1000);

          if (g_cancellable_set_error_if_cancelled (w->cancellable, error))
            {
              ok = FALSE;
              break;
            }
          if (ready == 0)
            {
              g_set_error (error, DR_ERROR, DR_ERROR_TIMED_OUT,
                           "the reader took nothing for %d s after %" G_GUINT64_FORMAT " samples",
                           DR_SAMPLE_EXPORT_STALL_S, w->export->n_samples);
              ok = FALSE;
              break;
            }
          continue;
        }
      if (n < 0 && errno == EPIPE)
        g_set_error (error, DR_ERROR, DR_ERROR_CLOSED,
                     "the reader closed its end after %" G_GUINT64_FORMAT " samples",
                     w->export->n_samples);
      else
        g_set_error (error, DR_ERROR, DR_ERROR_FAILED,
                     "cannot write samples to the file descriptor: %s",
                     n < 0 ? g_strerror (errno) : "nothing written");
      ok = FALSE;
      break;
    }
  if (n_fds == 2)
    g_cancellable_release_fd (w->cancellable);
  return ok;
}

static gboolean
flush (Writer *w, GError **error)
{
  gsize used = w->used;

  w->used = 0;
  if (g_cancellable_set_error_if_cancelled (w->cancellable, error)
      || !write_all (w, w->buffer, used, error))
    return FALSE;
  w->export->n_samples += used / DR_SAMPLE_RECORD_SIZE;
  return TRUE;
}

static gboolean
put_sample (const DrStoreSample *sample, gpointer user_data)
{
  Writer *w = user_data;
  guint8 *r = w->buffer + w->used;
  guint64 time = GUINT64_TO_LE ((guint64) sample->time_ms);
  guint32 ticks = GUINT32_TO_LE (sample->ticks);
  guint16 force = GUINT16_TO_LE (sample->force_mn);

  memcpy (r, &time, 8);
  memcpy (r + 8, &ticks, 4);
  memcpy (r + 12, &force, 2);
  r[14] = sample->zone;
  r[15] = 0;
  w->used += DR_SAMPLE_RECORD_SIZE;
  if (w->used == sizeof w->buffer)
    return flush (w, &w->error);
  return TRUE;
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Export *export = task_data;
  g_autofree Writer *w = g_new0 (Writer, 1);
  g_autoptr (DrStore) store = NULL;
  GError *error = NULL;
  int flags;

  w->export = export;
  w->cancellable = cancellable;
  flags = fcntl (export->fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0)
    fcntl (export->fd, F_SETFL, flags | O_NONBLOCK);

  store = dr_store_open_reader (export->db_path, &error);
  if (store == NULL
      || !dr_store_session_foreach_sample (store, export->session_id, put_sample, w, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (w->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&w->error));
      return;
    }
  if (!flush (w, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* Closed before the reply, so that the reader sees the end of the
   * stream no later than the count. */
  close (g_steal_fd (&export->fd));
  g_task_return_boolean (task, TRUE);
}

void
dr_sample_export_async (const char *db_path, guint64 session_id, int fd, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Export *export = g_new0 (Export, 1);

  export->db_path = g_strdup (db_path);
  export->session_id = session_id;
  export->fd = fd;
  g_task_set_source_tag (task, dr_sample_export_async);
  g_task_set_task_data (task, export, export_free);
  /* The reply waits for the stream: the task's cancellable alone would
   * answer before the thread stops writing. */
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, export_thread);
}

gboolean
dr_sample_export_finish (GAsyncResult *result, guint64 *n_samples, GError **error)
{
  Export *export = g_task_get_task_data (G_TASK (result));

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  if (n_samples != NULL)
    *n_samples = export->n_samples;
  return g_task_propagate_boolean (G_TASK (result), error);
}
