/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-ack-ledger.c: what the daemon may acknowledge to the roller, and
 * how it recognises frames sent again. */
#include <glib.h>

#include "ack-ledger.h"

static DrFrameKey
k (guint16 seq)
{
  DrFrameKey key = { 1700000000000 + 250 * (guint64) seq, seq };
  return key;
}

/* Each frame rides on its own store write (serial = seq + 100 here). */
static void
take (DrAckLedger *l, guint16 seq, DrLedgerVerdict want)
{
  DrFrameKey key = k (seq);
  g_assert_cmpint (dr_ack_ledger_classify (l, &key), ==, want);
  dr_ack_ledger_record (l, &key, seq + 100);
}

/* The same, on store write @serial. */
static void
take_on (DrAckLedger *l, guint16 seq, guint64 serial, DrLedgerVerdict want)
{
  DrFrameKey key = k (seq);
  g_assert_cmpint (dr_ack_ledger_classify (l, &key), ==, want);
  dr_ack_ledger_record (l, &key, serial);
}

static void
test_ack_up_to_commit (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  for (guint16 seq = 1; seq <= 5; seq++)
    take (l, seq, DR_LEDGER_NEW);

  /* Nothing durable yet: nothing to acknowledge. */
  g_assert_false (dr_ack_ledger_committed (l, 100, &ack, &blocked));
  g_assert_false (blocked);
  /* Writes up to 103 durable: ACK seq 3, not further. */
  g_assert_true (dr_ack_ledger_committed (l, 103, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 3);
  g_assert_cmpuint (ack.t0_ms, ==, k (3).t0_ms);
  g_assert_true (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 5);
  g_assert_false (dr_ack_ledger_committed (l, 999, &ack, &blocked));
}

static void
test_duplicates (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  take (l, 1, DR_LEDGER_NEW);
  take (l, 2, DR_LEDGER_NEW);
  /* Sent again before any ACK: recognised, and still owed an ACK. */
  take (l, 1, DR_LEDGER_DUPLICATE);
  g_assert_true (dr_ack_ledger_committed (l, 200, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 1);

  /* An ACK may be lost with the link, so a frame is still recognised after
   * one and two more ACKs went out; at the third, a later ACK has reached
   * the roller after the one covering it, and the frame is forgotten. */
  dr_ack_ledger_ack_sent (l);
  take (l, 2, DR_LEDGER_DUPLICATE);
  dr_ack_ledger_ack_sent (l);
  take (l, 2, DR_LEDGER_DUPLICATE);
  dr_ack_ledger_ack_sent (l);
  take (l, 2, DR_LEDGER_NEW);
}

/* Frames a crashed run stored but never acknowledged come back as history. */
static void
test_preload (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey stored[] = { k (10), k (11) };

  dr_ack_ledger_preload (l, stored, G_N_ELEMENTS (stored));
  take (l, 10, DR_LEDGER_DUPLICATE);
  take (l, 11, DR_LEDGER_DUPLICATE);
  take (l, 12, DR_LEDGER_NEW);
}

static void
test_failed_write_blocks (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  for (guint16 seq = 1; seq <= 4; seq++)
    take (l, seq, DR_LEDGER_NEW);
  dr_ack_ledger_write_failed (l, 103); /* frame 3 is not on disk */
  g_assert_cmpuint (dr_ack_ledger_n_missing (l), ==, 1);

  /* Everything committed, but the ACK stops before frame 3. */
  g_assert_true (dr_ack_ledger_committed (l, 104, &ack, &blocked));
  g_assert_true (blocked);
  g_assert_cmpuint (ack.seq, ==, 2);
  /* Frame 4 is forgotten with it: the roller sends both again. */
  g_assert_false (dr_ack_ledger_committed (l, 999, &ack, &blocked));

  /* Sent again: 3 is stored again but not counted again; 4 was stored. */
  take (l, 3, DR_LEDGER_RESTORE);
  take (l, 4, DR_LEDGER_DUPLICATE);
  g_assert_cmpuint (dr_ack_ledger_n_missing (l), ==, 0);
  g_assert_true (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_false (blocked);
  g_assert_cmpuint (ack.seq, ==, 4);
  /* A third time it is only a duplicate. */
  take (l, 3, DR_LEDGER_DUPLICATE);
}

static void
test_failed_first (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  take (l, 1, DR_LEDGER_NEW);
  dr_ack_ledger_write_failed (l, 101);
  g_assert_false (dr_ack_ledger_committed (l, 101, &ack, &blocked));
  g_assert_true (blocked);
}

/* A full disk: every write fails for several batches while frames keep
 * coming and the roller sends the kept ones again. A failure reported in
 * a later batch than the first one still makes its frames missing; none is
 * taken for stored, and no ACK goes out before they all are. */
static void
test_full_across_commits (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  take (l, 1, DR_LEDGER_NEW);
  take (l, 2, DR_LEDGER_NEW);
  g_assert_true (dr_ack_ledger_committed (l, 102, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 2);
  dr_ack_ledger_ack_sent (l);

  /* 3 and 4 ride on the first failing batch, 5 and 6 on the next one: they
   * were queued before the first failure was reported. */
  for (guint16 seq = 3; seq <= 6; seq++)
    take (l, seq, DR_LEDGER_NEW);
  dr_ack_ledger_write_failed (l, 103);
  dr_ack_ledger_write_failed (l, 104);
  g_assert_false (dr_ack_ledger_committed (l, 104, &ack, &blocked));
  g_assert_true (blocked);
  dr_ack_ledger_write_failed (l, 105);
  dr_ack_ledger_write_failed (l, 106);
  g_assert_false (dr_ack_ledger_committed (l, 106, &ack, &blocked));
  g_assert_true (blocked);
  g_assert_cmpuint (dr_ack_ledger_n_missing (l), ==, 4);

  /* A live frame, failing too, in a batch of its own. */
  take (l, 7, DR_LEDGER_NEW);
  dr_ack_ledger_write_failed (l, 107);
  g_assert_false (dr_ack_ledger_committed (l, 107, &ack, &blocked));
  g_assert_cmpuint (dr_ack_ledger_n_missing (l), ==, 5);

  /* Asked again while the disk is still full: stored again, failing again. */
  for (guint16 seq = 3; seq <= 7; seq++)
    take_on (l, seq, 110 + seq, DR_LEDGER_RESTORE);
  for (guint16 seq = 3; seq <= 7; seq++)
    dr_ack_ledger_write_failed (l, 110 + seq);
  g_assert_false (dr_ack_ledger_committed (l, 117, &ack, &blocked));
  g_assert_true (blocked);
  g_assert_cmpuint (dr_ack_ledger_n_missing (l), ==, 5);

  /* Space again: asked once more, every one is stored, then acked. */
  for (guint16 seq = 3; seq <= 7; seq++)
    take_on (l, seq, 120 + seq, DR_LEDGER_RESTORE);
  g_assert_cmpuint (dr_ack_ledger_n_missing (l), ==, 0);
  g_assert_true (dr_ack_ledger_committed (l, 127, &ack, &blocked));
  g_assert_false (blocked);
  g_assert_cmpuint (ack.seq, ==, 7);
  /* And only now are they duplicates. */
  take_on (l, 5, 127, DR_LEDGER_DUPLICATE);
}

/* Frames stored after a failed one are not acked while it is missing: the
 * ACK is cumulative and would erase it on the roller. */
static void
test_no_ack_past_missing (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  take (l, 3, DR_LEDGER_NEW);
  dr_ack_ledger_write_failed (l, 103);
  g_assert_false (dr_ack_ledger_committed (l, 103, &ack, &blocked));
  g_assert_true (blocked);

  /* The store works again; a live frame is stored before 3 comes back. */
  take (l, 4, DR_LEDGER_NEW);
  g_assert_false (dr_ack_ledger_committed (l, 104, &ack, &blocked));
  g_assert_true (blocked);

  take_on (l, 3, 105, DR_LEDGER_RESTORE);
  take_on (l, 4, 105, DR_LEDGER_DUPLICATE);
  g_assert_true (dr_ack_ledger_committed (l, 105, &ack, &blocked));
  g_assert_false (blocked);
  g_assert_cmpuint (ack.seq, ==, 4);
}

/* A frame sent again is no longer missing, but it is not on disk either
 * until that write is committed: frames committed before it wait. */
static void
test_restore_in_flight_holds_ack (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  take (l, 3, DR_LEDGER_NEW);
  dr_ack_ledger_write_failed (l, 103);
  g_assert_false (dr_ack_ledger_committed (l, 103, &ack, &blocked));

  take_on (l, 10, 104, DR_LEDGER_NEW);    /* live */
  take_on (l, 3, 105, DR_LEDGER_RESTORE); /* history */
  g_assert_cmpuint (dr_ack_ledger_n_missing (l), ==, 0);
  g_assert_false (dr_ack_ledger_committed (l, 104, &ack, &blocked));
  g_assert_false (blocked);

  /* That write fails too: missing again, and still nothing acked. */
  dr_ack_ledger_write_failed (l, 105);
  g_assert_false (dr_ack_ledger_committed (l, 105, &ack, &blocked));
  g_assert_true (blocked);
  take_on (l, 3, 106, DR_LEDGER_RESTORE);
  take_on (l, 10, 106, DR_LEDGER_DUPLICATE);
  g_assert_true (dr_ack_ledger_committed (l, 106, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 10);
}

/* Sent again while its first write is queued: a duplicate; when that write
 * fails, the frame is missing all the same. */
static void
test_duplicate_of_failed_write (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  take (l, 3, DR_LEDGER_NEW);
  take_on (l, 3, 104, DR_LEDGER_DUPLICATE);
  dr_ack_ledger_write_failed (l, 103);
  g_assert_false (dr_ack_ledger_committed (l, 104, &ack, &blocked));
  g_assert_true (blocked);
  take_on (l, 3, 105, DR_LEDGER_RESTORE);
  g_assert_true (dr_ack_ledger_committed (l, 105, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ack-ledger/ack-up-to-commit", test_ack_up_to_commit);
  g_test_add_func ("/ack-ledger/duplicates", test_duplicates);
  g_test_add_func ("/ack-ledger/preload", test_preload);
  g_test_add_func ("/ack-ledger/failed-write-blocks", test_failed_write_blocks);
  g_test_add_func ("/ack-ledger/failed-first", test_failed_first);
  g_test_add_func ("/ack-ledger/full-across-commits", test_full_across_commits);
  g_test_add_func ("/ack-ledger/no-ack-past-missing", test_no_ack_past_missing);
  g_test_add_func ("/ack-ledger/restore-in-flight-holds-ack", test_restore_in_flight_holds_ack);
  g_test_add_func ("/ack-ledger/duplicate-of-failed-write", test_duplicate_of_failed_write);
  return g_test_run ();
}
