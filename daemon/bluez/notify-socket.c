/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* notify-socket.c: DrNotifySocket, the reader of an AcquireNotify fd.
 *
 * BlueZ writes each notification as one datagram (SOCK_SEQPACKET), at
 * most MTU - 3 bytes long. One recvmmsg() takes up to RX_BATCH of them
 * into slots of the whole MTU (a datagram longer than its slot would be
 * cut), and one wake-up reads at most RX_ROUNDS batches so that a busy
 * roller cannot starve the rest of the main loop.
 */
#include "notify-socket.h"

#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Notifications read per recvmmsg() and batches per wake-up. */
#define RX_BATCH 32
#define RX_ROUNDS 8
#define ATT_MIN_MTU 23
#define ATT_MAX_MTU 517

struct _DrNotifySocket
{
  GObject parent_instance;

  char *label;
  int fd; /* -1 once closed */
  guint watch_id;
  gsize rx_slot;
  guint8 *rx_buf;
  gboolean warned_truncated;
  gboolean paused;
};

G_DEFINE_TYPE (DrNotifySocket, dr_notify_socket, G_TYPE_OBJECT)

enum
{
  FRAME,
  HANGUP,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef enum
{
  READ_MORE,    /* stopped to let others run; more may be waiting */
  READ_DRAINED, /* nothing left for now */
  READ_EOF,     /* the socket is closed or broken */
  READ_STOPPED, /* a handler closed the socket */
} ReadResult;

/* An empty datagram is also what end-of-file looks like. */
static gboolean
socket_at_eof (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };

  if (poll (&pfd, 1, 0) < 0)
    return TRUE;
  return (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) != 0;
}

/* With @drain it reads until nothing is left. */
static ReadResult
socket_read (DrNotifySocket *self, gboolean drain)
{
  struct mmsghdr msgs[RX_BATCH];
  struct iovec iov[RX_BATCH];
  int fd = self->fd;

  for (guint round = 0; drain || round < RX_ROUNDS; round++)
    {
      int n;

      memset (msgs, 0, sizeof msgs);
      for (guint i = 0; i < RX_BATCH; i++)
        {
          iov[i].iov_base = self->rx_buf + i * self->rx_slot;
          iov[i].iov_len = self->rx_slot;
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
      n = recvmmsg (fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK)
            return READ_DRAINED;
          g_debug ("%s: notification socket: %s", self->label, g_strerror (errno));
          return READ_EOF;
        }
      for (int i = 0; i < n; i++)
        {
          gsize len = msgs[i].msg_len;

          if (len == 0 && socket_at_eof (fd))
            return READ_EOF;
          if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) && !self->warned_truncated)
            {
              /* Passed on as it is: the codec rejects it as malformed. */
              g_warning ("%s: a notification longer than the MTU (%zu) was cut", self->label,
                         self->rx_slot);
              self->warned_truncated = TRUE;
            }
          g_signal_emit (self, signals[FRAME], 0, iov[i].iov_base, (guint) len);
          if (self->fd < 0)
            return READ_STOPPED;
        }
      if (n < RX_BATCH)
        return READ_DRAINED;
    }
  return READ_MORE;
}

static gboolean
on_socket_ready (int fd, GIOCondition condition, gpointer user_data)
{
  g_autoptr (DrNotifySocket) self = g_object_ref (user_data);
  gboolean hup = (condition & (G_IO_HUP | G_IO_ERR)) != 0;
  ReadResult r = READ_DRAINED;

  /* On HUP, first take every frame still in the socket. */
  if (condition & G_IO_IN || hup)
    r = socket_read (self, hup);
  if (r == READ_STOPPED)
    return G_SOURCE_REMOVE;
  if (r == READ_EOF || hup)
    {
      self->watch_id = 0;
      g_signal_emit (self, signals[HANGUP], 0);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
socket_watch (DrNotifySocket *self)
{
  self->watch_id = g_unix_fd_add (self->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_socket_ready, self);
}

void
dr_notify_socket_set_paused (DrNotifySocket *self, gboolean paused)
{
  g_return_if_fail (DR_IS_NOTIFY_SOCKET (self));

  if (self->fd < 0 || self->paused == paused)
    return;
  self->paused = paused;
  if (paused)
    g_clear_handle_id (&self->watch_id, g_source_remove);
  else if (self->watch_id == 0)
    socket_watch (self);
}

gboolean
dr_notify_socket_drain (DrNotifySocket *self)
{
  g_autoptr (DrNotifySocket) hold = NULL;

  g_return_val_if_fail (DR_IS_NOTIFY_SOCKET (self), FALSE);
  if (self->fd < 0)
    return TRUE;
  hold = g_object_ref (self);
  return socket_read (self, TRUE) != READ_STOPPED;
}

void
dr_notify_socket_close (DrNotifySocket *self)
{
  g_return_if_fail (DR_IS_NOTIFY_SOCKET (self));

  g_clear_handle_id (&self->watch_id, g_source_remove);
  if (self->fd >= 0)
    {
      g_debug ("%s: closing notification socket %d", self->label, self->fd);
      close (self->fd);
      self->fd = -1;
    }
  g_clear_pointer (&self->rx_buf, g_free);
}

static void
dr_notify_socket_dispose (GObject *object)
{
  dr_notify_socket_close (DR_NOTIFY_SOCKET (object));
  G_OBJECT_CLASS (dr_notify_socket_parent_class)->dispose (object);
}

static void
dr_notify_socket_finalize (GObject *object)
{
  g_free (DR_NOTIFY_SOCKET (object)->label);
  G_OBJECT_CLASS (dr_notify_socket_parent_class)->finalize (object);
}

static void
dr_notify_socket_init (DrNotifySocket *self)
{
  self->fd = -1;
}

static void
dr_notify_socket_class_init (DrNotifySocketClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = dr_notify_socket_dispose;
  object_class->finalize = dr_notify_socket_finalize;

  signals[FRAME] = g_signal_new ("frame", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 2, G_TYPE_POINTER, G_TYPE_UINT);
  signals[HANGUP] = g_signal_new ("hangup", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                  NULL, NULL, G_TYPE_NONE, 0);
}

DrNotifySocket *
dr_notify_socket_new (int fd, guint mtu, const char *label)
{
  DrNotifySocket *self;

  g_return_val_if_fail (fd >= 0, NULL);

  self = g_object_new (DR_TYPE_NOTIFY_SOCKET, NULL);
  self->label = g_strdup (label);
  self->fd = fd;
  /* A notification is at most MTU - 3 bytes; a datagram longer than the
   * slot would be cut, so the slot is the whole MTU. */
  self->rx_slot = CLAMP (mtu, ATT_MIN_MTU, ATT_MAX_MTU);
  self->rx_buf = g_malloc (self->rx_slot * RX_BATCH);
  socket_watch (self);
  return self;
}
