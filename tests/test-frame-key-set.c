/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-frame-key-set.c: the daemon's set of seen frame keys. */
#include <glib.h>

#include "frame-key-set.h"

static guint64
key (guint64 t0, guint16 seq)
{
  DrFrameKey k = { t0, seq };
  return dr_frame_key_pack (&k);
}

static void
test_add_contains (void)
{
  g_autoptr (DrFrameKeySet) set = dr_frame_key_set_new ();

  g_assert_false (dr_frame_key_set_contains (set, key (1700000000000, 7)));
  g_assert_true (dr_frame_key_set_add (set, key (1700000000000, 7)));
  g_assert_false (dr_frame_key_set_add (set, key (1700000000000, 7)));
  g_assert_true (dr_frame_key_set_contains (set, key (1700000000000, 7)));
  /* Same t0, another seq; same seq, another t0: other frames. */
  g_assert_false (dr_frame_key_set_contains (set, key (1700000000000, 8)));
  g_assert_false (dr_frame_key_set_contains (set, key (1700000000001, 7)));
  g_assert_cmpuint (dr_frame_key_set_size (set), ==, 1);
}

/* The key of t0 0, seq 0 is the table's empty marker: kept aside. */
static void
test_zero_key (void)
{
  g_autoptr (DrFrameKeySet) set = dr_frame_key_set_new ();

  g_assert_false (dr_frame_key_set_contains (set, 0));
  g_assert_true (dr_frame_key_set_add (set, 0));
  g_assert_false (dr_frame_key_set_add (set, 0));
  g_assert_true (dr_frame_key_set_contains (set, 0));
  g_assert_cmpuint (dr_frame_key_set_size (set), ==, 1);
  dr_frame_key_set_clear (set);
  g_assert_false (dr_frame_key_set_contains (set, 0));
}

/* A burst: 100,000 frames of a stream (t0 += 250 ms, seq wrapping), all
 * found again, none of the next ones, and none after clear. */
static void
test_burst_and_clear (void)
{
  g_autoptr (DrFrameKeySet) set = dr_frame_key_set_new ();
  const guint n = 100000;

  for (guint i = 0; i < n; i++)
    g_assert_true (
        dr_frame_key_set_add (set, key (1700000000000 + 250 * (guint64) i, (guint16) (65000 + i))));
  g_assert_cmpuint (dr_frame_key_set_size (set), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_true (dr_frame_key_set_contains (
        set, key (1700000000000 + 250 * (guint64) i, (guint16) (65000 + i))));
  for (guint i = n; i < 2 * n; i++)
    g_assert_false (dr_frame_key_set_contains (
        set, key (1700000000000 + 250 * (guint64) i, (guint16) (65000 + i))));

  dr_frame_key_set_clear (set);
  g_assert_cmpuint (dr_frame_key_set_size (set), ==, 0);
  for (guint i = 0; i < n; i += 997)
    g_assert_false (dr_frame_key_set_contains (
        set, key (1700000000000 + 250 * (guint64) i, (guint16) (65000 + i))));
  g_assert_true (dr_frame_key_set_add (set, key (1, 1)));
  g_assert_true (dr_frame_key_set_contains (set, key (1, 1)));
}

/* Removal keeps every other key findable, across collisions and the wrap
 * of the table's end (a small table, many keys in few slots). */
static void
test_remove (void)
{
  g_autoptr (DrFrameKeySet) set = dr_frame_key_set_new ();
  const guint n = 5000;

  for (guint i = 1; i <= n; i++)
    dr_frame_key_set_add (set, key (i, (guint16) i));
  for (guint i = 1; i <= n; i += 3)
    g_assert_true (dr_frame_key_set_remove (set, key (i, (guint16) i)));
  g_assert_false (dr_frame_key_set_remove (set, key (1, 1)));
  for (guint i = 1; i <= n; i++)
    g_assert_cmpint (dr_frame_key_set_contains (set, key (i, (guint16) i)), ==, (i - 1) % 3 != 0);
  g_assert_cmpuint (dr_frame_key_set_size (set), ==, n - (n + 2) / 3);

  g_assert_true (dr_frame_key_set_add (set, 0));
  g_assert_true (dr_frame_key_set_remove (set, 0));
  g_assert_false (dr_frame_key_set_contains (set, 0));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/frame-key-set/add-contains", test_add_contains);
  g_test_add_func ("/frame-key-set/zero-key", test_zero_key);
  g_test_add_func ("/frame-key-set/burst-and-clear", test_burst_and_clear);
  g_test_add_func ("/frame-key-set/remove", test_remove);
  return g_test_run ();
}
