/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-sd-notify.c: READY=1, WATCHDOG=1 and STOPPING=1 reach $NOTIFY_SOCKET.
 *
 * The test plays the service manager: it binds a datagram socket, points
 * $NOTIFY_SOCKET at it and reads what daemon/sd-notify.c sends, driving
 * the default main context as dermarolld does. It also checks that with
 * no watchdog asked for there is no timer at all (an idle daemon must not
 * wake up).
 */
#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sd-notify.h"

typedef struct
{
  char *dir;
  char *path;
  int fd;
  GPtrArray *messages; /* every datagram, in order */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  f->dir = g_dir_make_tmp ("dr-sd-notify-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "notify", NULL);
  g_assert_cmpuint (strlen (f->path), <, sizeof addr.sun_path);
  strcpy (addr.sun_path, f->path);
  f->fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  g_assert_cmpint (f->fd, >=, 0);
  g_assert_cmpint (bind (f->fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  f->messages = g_ptr_array_new_with_free_func (g_free);
  g_setenv ("NOTIFY_SOCKET", f->path, TRUE);
  g_unsetenv ("WATCHDOG_USEC");
  g_unsetenv ("WATCHDOG_PID");
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  dr_sd_notify_stopping ();
  g_unsetenv ("NOTIFY_SOCKET");
  close (f->fd);
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
  g_ptr_array_unref (f->messages);
}

static void
drain (Fixture *f)
{
  char buf[512];
  ssize_t n;

  while ((n = recv (f->fd, buf, sizeof buf - 1, 0)) > 0)
    g_ptr_array_add (f->messages, g_strndup (buf, n));
}

static gboolean
on_readable (int fd, GIOCondition condition, gpointer user_data)
{
  drain (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;
  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static guint
count (Fixture *f, const char *line)
{
  guint n = 0;
  for (guint i = 0; i < f->messages->len; i++)
    {
      g_auto (GStrv) lines = g_strsplit (g_ptr_array_index (f->messages, i), "\n", -1);
      if (g_strv_contains ((const char *const *) lines, line))
        n++;
    }
  return n;
}

/* Turns the default main context until @line has arrived @n times, or
 * fails after 10 s (a hang, not a timing assumption). */
static void
wait_for (Fixture *f, const char *line, guint n)
{
  gboolean timed_out = FALSE;
  guint fd_id = g_unix_fd_add (f->fd, G_IO_IN, on_readable, f);
  guint timeout_id = g_timeout_add_seconds (10, on_timeout, &timed_out);

  drain (f);
  while (count (f, line) < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("%s did not arrive %u times within 10 s", line, n);
  g_source_remove (timeout_id);
  g_source_remove (fd_id);
}

/* TRUE when the default main context has no timeout to wait for. */
static gboolean
main_context_has_no_timer (void)
{
  GMainContext *context = g_main_context_default ();
  GPollFD fds[16];
  int priority, timeout = 0;

  g_assert_true (g_main_context_acquire (context));
  g_main_context_prepare (context, &priority);
  g_main_context_query (context, G_MAXINT, &timeout, fds, G_N_ELEMENTS (fds));
  g_main_context_release (context);
  return timeout == -1;
}

static void
test_ready_and_watchdog (Fixture *f, gconstpointer data)
{
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());

  /* 200 ms: the daemon pings every 100 ms. */
  g_setenv ("WATCHDOG_USEC", "200000", TRUE);
  g_setenv ("WATCHDOG_PID", pid, TRUE);
  dr_sd_notify_ready ();
  g_assert_cmpuint (dr_sd_notify_get_watchdog_usec (), ==, 200000);

  wait_for (f, "READY=1", 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (f->messages, 0), "READY=1\n"));
  /* The first ping comes at once, the next ones from the timer, which
   * only fires while the main context runs. */
  wait_for (f, "WATCHDOG=1", 3);
  g_assert_false (main_context_has_no_timer ());

  /* A second READY (name lost and acquired again) adds no second timer. */
  dr_sd_notify_ready ();
  wait_for (f, "READY=1", 2);

  dr_sd_notify_stopping ();
  wait_for (f, "STOPPING=1", 1);
  g_assert_true (main_context_has_no_timer ());
}

static void
test_no_watchdog (Fixture *f, gconstpointer data)
{
  dr_sd_notify_ready ();
  wait_for (f, "READY=1", 1);
  g_assert_cmpuint (dr_sd_notify_get_watchdog_usec (), ==, 0);
  g_assert_cmpuint (count (f, "WATCHDOG=1"), ==, 0);
  g_assert_true (main_context_has_no_timer ());
}

static void
test_watchdog_for_another_pid (Fixture *f, gconstpointer data)
{
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid () + 1);

  /* A child that inherited its parent's environment must not ping. */
  g_setenv ("WATCHDOG_USEC", "200000", TRUE);
  g_setenv ("WATCHDOG_PID", pid, TRUE);
  dr_sd_notify_ready ();
  wait_for (f, "READY=1", 1);
  g_assert_cmpuint (dr_sd_notify_get_watchdog_usec (), ==, 0);
  g_assert_true (main_context_has_no_timer ());
}

static void
test_outside_systemd (void)
{
  /* No $NOTIFY_SOCKET: nothing to send, nothing to fail. */
  g_unsetenv ("NOTIFY_SOCKET");
  g_unsetenv ("WATCHDOG_USEC");
  dr_sd_notify_ready ();
  dr_sd_notify_stopping ();
  g_assert_true (main_context_has_no_timer ());
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/sd-notify/ready-and-watchdog", Fixture, NULL, fixture_set_up,
              test_ready_and_watchdog, fixture_tear_down);
  g_test_add ("/sd-notify/no-watchdog", Fixture, NULL, fixture_set_up, test_no_watchdog,
              fixture_tear_down);
  g_test_add ("/sd-notify/watchdog-for-another-pid", Fixture, NULL, fixture_set_up,
              test_watchdog_for_another_pid, fixture_tear_down);
  g_test_add_func ("/sd-notify/outside-systemd", test_outside_systemd);
  return g_test_run ();
}
