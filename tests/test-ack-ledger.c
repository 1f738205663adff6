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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ack-ledger/ack-up-to-commit", test_ack_up_to_commit);
  g_test_add_func ("/ack-ledger/duplicates", test_duplicates);
  g_test_add_func ("/ack-ledger/preload", test_preload);
  g_test_add_func ("/ack-ledger/failed-write-blocks", test_failed_write_blocks);
  g_test_add_func ("/ack-ledger/failed-first", test_failed_first);
  return g_test_run ();
}
