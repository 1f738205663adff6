/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-notify-socket.c: the reader of an AcquireNotify socket, on a real
 * SOCK_SEQPACKET pair. Every datagram is one frame, in order; a paused
 * socket reads nothing (what is sent waits in the socket) until it is
 * resumed, yet drains when asked; the other end closing is a hangup after
 * the frames still in the socket. Waits run the main loop with a timeout;
 * nothing sleeps.
 */
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "notify-socket.h"

#define WAIT_TIMEOUT_MS 10000

typedef struct
{
  int peer; /* the end bluetoothd would write to */
  DrNotifySocket *socket;
  GPtrArray *frames; /* GBytes */
  gboolean hangup;
} Fixture;

static void
on_frame (DrNotifySocket *socket, gpointer data, guint len, gpointer user_data)
{
  Fixture *f = user_data;
  g_ptr_array_add (f->frames, g_bytes_new (data, len));
}

static void
on_hangup (DrNotifySocket *socket, gpointer user_data)
{
  Fixture *f = user_data;
  f->hangup = TRUE;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  int fds[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds));
  f->peer = fds[1];
  f->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  f->socket = dr_notify_socket_new (fds[0], 23, "test");
  g_signal_connect (f->socket, "frame", G_CALLBACK (on_frame), f);
  g_signal_connect (f->socket, "hangup", G_CALLBACK (on_hangup), f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->socket);
  if (f->peer >= 0)
    close (f->peer);
  g_ptr_array_unref (f->frames);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
send_frames (Fixture *f, guint first, guint n)
{
  for (guint i = first; i < first + n; i++)
    {
      guint8 frame[4] = { 0xd7, (guint8) i, (guint8) (i >> 8), 0x01 };
      g_assert_cmpint (send (f->peer, frame, sizeof frame, MSG_NOSIGNAL), ==, sizeof frame);
    }
}

static gboolean
on_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context until @n frames arrived (and @hangup, when TRUE);
 * FALSE after the timeout. */
static gboolean
wait_frames (Fixture *f, guint n, gboolean hangup)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (WAIT_TIMEOUT_MS, on_timeout, &timed_out);

  while ((f->frames->len < n || (hangup && !f->hangup)) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return f->frames->len >= n && (!hangup || f->hangup);
}

/* Whatever is ready now has run. */
static void
run_ready (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
assert_in_order (Fixture *f, guint n)
{
  g_assert_cmpuint (f->frames->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (f->frames, i), &len);

      g_assert_cmpuint (len, ==, 4);
      g_assert_cmpuint (data[1] | data[2] << 8, ==, i);
    }
}

/* More than one recvmmsg () takes (RX_BATCH): all of them, in order. A
 * socket holds a few hundred such datagrams. */
static void
test_frames_in_order (Fixture *f, gconstpointer data)
{
  send_frames (f, 0, 100);
  g_assert_true (wait_frames (f, 100, FALSE));
  send_frames (f, 100, 100);
  g_assert_true (wait_frames (f, 200, FALSE));
  assert_in_order (f, 200);
  g_assert_false (f->hangup);
}

/* Paused: nothing is read, and nothing is lost; resumed, it all comes in
 * order. A hangup while paused waits too. */
static void
test_paused (Fixture *f, gconstpointer data)
{
  send_frames (f, 0, 5);
  g_assert_true (wait_frames (f, 5, FALSE));

  dr_notify_socket_set_paused (f->socket, TRUE);
  send_frames (f, 5, 50);
  run_ready ();
  g_assert_cmpuint (f->frames->len, ==, 5);
  close (f->peer);
  f->peer = -1;
  run_ready ();
  g_assert_false (f->hangup);
  g_assert_cmpuint (f->frames->len, ==, 5);

  dr_notify_socket_set_paused (f->socket, FALSE);
  g_assert_true (wait_frames (f, 55, TRUE));
  assert_in_order (f, 55);
}

/* Asked to drain, a paused socket reads what is there, and stays paused. */
static void
test_drain_while_paused (Fixture *f, gconstpointer data)
{
  dr_notify_socket_set_paused (f->socket, TRUE);
  send_frames (f, 0, 40);
  run_ready ();
  g_assert_cmpuint (f->frames->len, ==, 0);
  g_assert_true (dr_notify_socket_drain (f->socket));
  assert_in_order (f, 40);

  send_frames (f, 40, 3);
  run_ready ();
  g_assert_cmpuint (f->frames->len, ==, 40);
  dr_notify_socket_set_paused (f->socket, FALSE);
  g_assert_true (wait_frames (f, 43, FALSE));
  assert_in_order (f, 43);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_writer_default_set_use_stderr (TRUE);

#define ADD(name, func)                                                                            \
  g_test_add ("/notify-socket/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("frames-in-order", test_frames_in_order);
  ADD ("paused", test_paused);
  ADD ("drain-while-paused", test_drain_while_paused);
#undef ADD

  return g_test_run ();
}
