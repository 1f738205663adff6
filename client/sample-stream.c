/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sample-stream.c: see sample-stream.h. */
#include "sample-stream.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <string.h>
#include <unistd.h>

#include "dr-error.h"

/* The daemon's record: see ExportSamples in org.dermaroll.Manager1.xml. */
#define RECORD_SIZE 16
#define BUFFER_SIZE (64 * 1024)

typedef struct
{
  gboolean done;
  gboolean ok;
  guint64 count;
  GError *error;
} Reply;

static void
export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Reply *reply = user_data;

  reply->ok = dr_dbus_manager1_call_export_samples_finish (DR_DBUS_MANAGER1 (source), &reply->count,
                                                           NULL, result, &reply->error);
  reply->done = TRUE;
}

gboolean
dr_sample_stream_read (DrDBusManager1 *manager, guint64 id, DrSampleStreamFunc func,
                       gpointer user_data, guint64 *count, GError **error)
{
  g_autoptr (GUnixFDList) fd_list = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree guint8 *buffer = g_malloc (BUFFER_SIZE);
  GMainContext *context = g_main_context_ref_thread_default ();
  Reply reply = { 0 };
  GError *local = NULL;
  guint64 n = 0;
  gsize have = 0;
  int fds[2];

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, &local))
    {
      g_propagate_prefixed_error (error, local, "cannot make a pipe for the samples: ");
      g_main_context_unref (context);
      return FALSE;
    }
  /* The list takes the write end: once the call is sent, the daemon's copy
   * is the only one, and its closing is our end of the stream. */
  fd_list = g_unix_fd_list_new_from_array (&fds[1], 1);
  dr_dbus_manager1_call_export_samples (manager, id, g_variant_new_handle (0),
                                        G_DBUS_CALL_FLAGS_NONE, G_MAXINT, fd_list, cancellable,
                                        export_done, &reply);
  g_clear_object (&fd_list);

  for (;;)
    {
      ssize_t got = read (fds[0], buffer + have, BUFFER_SIZE - have);
      gsize off = 0;

      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          int saved = errno;
          g_set_error (&local, G_IO_ERROR, g_io_error_from_errno (saved),
                       "cannot read the samples: %s", g_strerror (saved));
          break;
        }
      if (got == 0)
        break;
      have += (gsize) got;
      for (; have - off >= RECORD_SIZE; off += RECORD_SIZE)
        {
          const guint8 *r = buffer + off;
          guint64 time;
          guint32 ticks;
          guint16 force;

          memcpy (&time, r, 8);
          memcpy (&ticks, r + 8, 4);
          memcpy (&force, r + 12, 2);
          n++;
          if (!func ((gint64) GUINT64_FROM_LE (time), GUINT32_FROM_LE (ticks),
                     GUINT16_FROM_LE (force), r[14], user_data, &local))
            break;
        }
      if (local != NULL)
        break;
      memmove (buffer, buffer + off, have - off);
      have -= off;
    }
  /* Closing our end stops a daemon still writing (EPIPE): it answers
   * Closed, which the error we already have takes precedence over. */
  close (fds[0]);
  if (local != NULL)
    g_cancellable_cancel (cancellable);
  while (!reply.done)
    g_main_context_iteration (context, TRUE);
  g_main_context_unref (context);

  if (local != NULL)
    {
      g_clear_error (&reply.error);
      g_propagate_error (error, local);
      return FALSE;
    }
  if (!reply.ok)
    {
      g_propagate_error (error, reply.error);
      return FALSE;
    }
  if (have != 0 || reply.count != n)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_FAILED,
                   "the samples of session %" G_GUINT64_FORMAT " stopped short: %" G_GUINT64_FORMAT
                   " of %" G_GUINT64_FORMAT " came",
                   id, n, reply.count);
      return FALSE;
    }
  if (count != NULL)
    *count = n;
  return TRUE;
}
