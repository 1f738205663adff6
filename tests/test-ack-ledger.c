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

/* A frame passes the seq check (live or history) and is taken in. */
static void
pass (DrAckLedger *l, guint16 seq, gboolean live, DrLedgerVerdict want)
{
  DrFrameKey key = k (seq);
  guint16 first = 0, last = 0;

  g_assert_cmpint (dr_ack_ledger_check_seq (l, &key, live, &first, &last), ==, DR_SEQ_TAKE);
  take (l, seq, want);
}

/* A live frame that skips seqs opens a gap: seqs first..last. */
static void
gap_at (DrAckLedger *l, guint16 seq, guint16 want_first, guint16 want_last)
{
  DrFrameKey key = k (seq);
  guint16 first = 0, last = 0;

  g_assert_cmpint (dr_ack_ledger_check_seq (l, &key, TRUE, &first, &last), ==, DR_SEQ_GAP);
  g_assert_cmpuint (first, ==, want_first);
  g_assert_cmpuint (last, ==, want_last);
  g_assert_true (dr_ack_ledger_gap_open (l));
}

/* Frame 3 lost on the air: no ACK goes past 2 until the replay brought
 * it, though the frames after it are committed; then they all go. */
static void
test_gap_holds_ack (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  /* The link's history at set-up gives the seq to follow. */
  pass (l, 1, FALSE, DR_LEDGER_NEW);
  pass (l, 2, TRUE, DR_LEDGER_NEW);
  gap_at (l, 4, 3, 3);
  /* What came before the gap may be acknowledged. */
  g_assert_true (dr_ack_ledger_committed (l, 102, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 2);
  dr_ack_ledger_ack_sent (l);

  /* The replay: 2 was not acknowledged yet on the roller, 3 and 4 are new. */
  pass (l, 2, FALSE, DR_LEDGER_DUPLICATE);
  pass (l, 3, FALSE, DR_LEDGER_NEW);
  pass (l, 4, FALSE, DR_LEDGER_NEW);
  /* All durable, but the gap is open: nothing past it. */
  g_assert_false (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_false (blocked);
  g_assert_true (dr_ack_ledger_gap_open (l));

  /* The replay is in, with every frame of the gap. */
  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 0);
  g_assert_false (dr_ack_ledger_gap_open (l));
  g_assert_true (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 4);
  /* The live 4 that opened the gap, taken in after the replay, is a
   * duplicate and opens nothing; the stream goes on. */
  pass (l, 4, TRUE, DR_LEDGER_DUPLICATE);
  pass (l, 5, TRUE, DR_LEDGER_NEW);
  g_assert_true (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 5);
}

/* Frames the roller lost itself (never stored) are not in its replay:
 * once the replay is in, they count as lost and ACKs pass them, or the
 * stream would stall for good. */
static void
test_gap_lost_in_roller (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  pass (l, 1, FALSE, DR_LEDGER_NEW);
  gap_at (l, 5, 2, 4);
  pass (l, 1, FALSE, DR_LEDGER_DUPLICATE);
  pass (l, 5, FALSE, DR_LEDGER_NEW);
  g_assert_true (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 1);
  g_assert_false (dr_ack_ledger_committed (l, 999, &ack, &blocked));

  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 3);
  g_assert_true (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 5);
  pass (l, 5, TRUE, DR_LEDGER_DUPLICATE);
  pass (l, 6, TRUE, DR_LEDGER_NEW);
}

/* Some of the gap came back, some not: the count says how many not. */
static void
test_gap_partly_recovered (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();

  pass (l, 10, FALSE, DR_LEDGER_NEW);
  gap_at (l, 14, 11, 13);
  pass (l, 11, FALSE, DR_LEDGER_NEW);
  pass (l, 13, FALSE, DR_LEDGER_NEW);
  pass (l, 14, FALSE, DR_LEDGER_NEW);
  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 1);
  /* Closed twice (the link went as well): nothing more. */
  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 0);
}

/* The gap across the 65535 -> 0 wrap. */
static void
test_gap_seq_wrap (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  pass (l, 65534, FALSE, DR_LEDGER_NEW);
  gap_at (l, 1, 65535, 0);
  pass (l, 65535, FALSE, DR_LEDGER_NEW);
  pass (l, 0, FALSE, DR_LEDGER_NEW);
  pass (l, 1, FALSE, DR_LEDGER_NEW);
  g_assert_true (dr_ack_ledger_committed (l, 65535 + 200, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 65534);
  g_assert_false (dr_ack_ledger_committed (l, 65535 + 200, &ack, &blocked));
  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 0);
  g_assert_true (dr_ack_ledger_committed (l, 65535 + 200, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 1);
}

/* Not a gap: history (it is what fills gaps; a hole in it is the roller's
 * own loss), the next live frame, the same one again. */
static void
test_gap_not (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();

  pass (l, 500, FALSE, DR_LEDGER_NEW);
  pass (l, 501, TRUE, DR_LEDGER_NEW);
  pass (l, 501, TRUE, DR_LEDGER_DUPLICATE);
  pass (l, 510, FALSE, DR_LEDGER_NEW);
  pass (l, 511, TRUE, DR_LEDGER_NEW);
  g_assert_false (dr_ack_ledger_gap_open (l));
}

/* A live frame with nothing to follow: the first one there is (frames
 * made before it may have been lost on the air), or one whose seq went
 * back (the roller rebooted). No ACK past it before the roller's history
 * is in; what it lacks is not known, so nothing counts as lost. */
static void
test_gap_unknown (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey key;
  guint16 first, last;
  DrFrameKey ack;
  gboolean blocked;

  key = k (3);
  g_assert_cmpint (dr_ack_ledger_check_seq (l, &key, TRUE, &first, &last), ==, DR_SEQ_UNKNOWN);
  g_assert_true (dr_ack_ledger_gap_open (l));
  /* The replay: 0..2 were lost on the air before it, 4 was made since. */
  for (guint16 seq = 0; seq <= 4; seq++)
    pass (l, seq, FALSE, DR_LEDGER_NEW);
  g_assert_false (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 0);
  g_assert_true (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 4);
  /* The held live 3 and 4: behind the replay's last, but taken in before:
   * duplicates, not a new start. */
  pass (l, 3, TRUE, DR_LEDGER_DUPLICATE);
  pass (l, 4, TRUE, DR_LEDGER_DUPLICATE);
  pass (l, 5, TRUE, DR_LEDGER_NEW);

  /* The seq went back to a frame never seen: a reboot. */
  key = (DrFrameKey){ 1800000000000, 1 };
  g_assert_cmpint (dr_ack_ledger_check_seq (l, &key, TRUE, &first, &last), ==, DR_SEQ_UNKNOWN);
  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 0);
  /* A replay without it (it brought an older frame): the frame is taken,
   * once. */
  pass (l, 5, FALSE, DR_LEDGER_DUPLICATE);
  g_assert_cmpint (dr_ack_ledger_check_seq (l, &key, TRUE, &first, &last), ==, DR_SEQ_TAKE);
  g_assert_false (dr_ack_ledger_gap_open (l));
}

/* Gaps one after the other, the second before the first one's fence was
 * passed: only the open gap's fence holds ACKs back, and the frames
 * between the two are acknowledged. */
static void
test_gap_after_gap (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();
  DrFrameKey ack;
  gboolean blocked;

  pass (l, 1, FALSE, DR_LEDGER_NEW);
  gap_at (l, 3, 2, 2);
  pass (l, 2, FALSE, DR_LEDGER_NEW);
  pass (l, 3, FALSE, DR_LEDGER_NEW);
  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 0);
  pass (l, 3, TRUE, DR_LEDGER_DUPLICATE);
  /* No commit came meanwhile: the first fence is still queued. */
  gap_at (l, 5, 4, 4);
  g_assert_true (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 3);
  pass (l, 4, FALSE, DR_LEDGER_NEW);
  pass (l, 5, FALSE, DR_LEDGER_NEW);
  g_assert_false (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 0);
  g_assert_true (dr_ack_ledger_committed (l, 999, &ack, &blocked));
  g_assert_cmpuint (ack.seq, ==, 5);
}

/* While a gap is open, ACKs of what came before it may go out, several;
 * frames held behind it are still known when the roller sends them again,
 * however many, since none of those ACKs covered them. */
static void
test_gap_held_stays_seen (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();

  pass (l, 1, FALSE, DR_LEDGER_NEW);
  gap_at (l, 4, 2, 3);
  pass (l, 2, FALSE, DR_LEDGER_NEW);
  for (guint i = 0; i < 4; i++)
    dr_ack_ledger_ack_sent (l);
  pass (l, 2, FALSE, DR_LEDGER_DUPLICATE);
  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 1);
}

/* The replay went further than the live frames held meanwhile: those
 * are behind it, and the seq to follow stays where the replay left it. */
static void
test_gap_held_behind_replay (void)
{
  g_autoptr (DrAckLedger) l = dr_ack_ledger_new ();

  pass (l, 1, FALSE, DR_LEDGER_NEW);
  gap_at (l, 3, 2, 2);
  for (guint16 seq = 1; seq <= 6; seq++)
    pass (l, seq, FALSE, seq == 1 ? DR_LEDGER_DUPLICATE : DR_LEDGER_NEW);
  g_assert_cmpuint (dr_ack_ledger_close_gap (l), ==, 0);
  /* Held while the replay ran: 3, 4, 5; then 7 comes live, 6 came. */
  pass (l, 3, TRUE, DR_LEDGER_DUPLICATE);
  pass (l, 4, TRUE, DR_LEDGER_DUPLICATE);
  pass (l, 5, TRUE, DR_LEDGER_DUPLICATE);
  pass (l, 7, TRUE, DR_LEDGER_NEW);
  g_assert_false (dr_ack_ledger_gap_open (l));
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
  g_test_add_func ("/ack-ledger/gap-holds-ack", test_gap_holds_ack);
  g_test_add_func ("/ack-ledger/gap-lost-in-roller", test_gap_lost_in_roller);
  g_test_add_func ("/ack-ledger/gap-partly-recovered", test_gap_partly_recovered);
  g_test_add_func ("/ack-ledger/gap-seq-wrap", test_gap_seq_wrap);
  g_test_add_func ("/ack-ledger/gap-not", test_gap_not);
  g_test_add_func ("/ack-ledger/gap-unknown", test_gap_unknown);
  g_test_add_func ("/ack-ledger/gap-after-gap", test_gap_after_gap);
  g_test_add_func ("/ack-ledger/gap-held-behind-replay", test_gap_held_behind_replay);
  g_test_add_func ("/ack-ledger/gap-held-stays-seen", test_gap_held_stays_seen);
  return g_test_run ();
}
