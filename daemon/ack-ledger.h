/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ack-ledger.h: which frames of one roller the daemon holds, and what it
 * may acknowledge.
 *
 * An ACK erases, on the roller, every frame up to its seq; so it may only
 * name a frame that is durably stored, and never one past a frame whose
 * write failed. The roller sends again whatever it still holds (after a
 * lost ACK, a reconnect or a daemon crash), so the ledger also says whether
 * a frame was taken in before: the engine must count each frame once.
 *
 * A live frame that skips seqs opens a gap: the frames between were lost
 * on the air, but the roller still holds them (it erases only what an ACK
 * covers). No ACK may pass the gap until the roller's history replay has
 * been taken in; what the replay did not bring, the roller lost itself,
 * and only then may ACKs go past it.
 */
#pragma once

#include <glib.h>

#include "frame-key.h"

G_BEGIN_DECLS

typedef enum
{
  DR_LEDGER_NEW,       /* never seen: count it, store it */
  DR_LEDGER_DUPLICATE, /* stored already, or its write is queued: only its ACK is owed */
  DR_LEDGER_RESTORE,   /* counted, but its write failed: store it again, do not count it */
} DrLedgerVerdict;

typedef enum
{
  DR_SEQ_TAKE,    /* a history frame, the next live one, or one again: take it in */
  DR_SEQ_GAP,     /* a live frame that skips seqs: they never came */
  DR_SEQ_UNKNOWN, /* a live frame with no seq to follow (the first one, or a
                   * new one whose seq went back: a reboot): the roller may
                   * hold frames made before it that never came */
} DrSeqCheck;

typedef struct _DrAckLedger DrAckLedger;

DrAckLedger *dr_ack_ledger_new (void);
void dr_ack_ledger_free (DrAckLedger *ledger);

/* Frames stored in an earlier run but never acknowledged. */
void dr_ack_ledger_preload (DrAckLedger *ledger, const DrFrameKey *keys, guint n_keys);

/* Says what to do with an arriving frame, and remembers it as seen. */
DrLedgerVerdict dr_ack_ledger_classify (DrAckLedger *ledger, const DrFrameKey *key);
/* The frame's ACK waits for store write @serial (0: nothing to wait for).
 * Right after a NEW or RESTORE verdict, @serial is the frame's own write:
 * until it is committed the frame is not durable. */
void dr_ack_ledger_record (DrAckLedger *ledger, const DrFrameKey *key, guint64 serial);
/* The store could not write @serial: a frame it carried is missing, and
 * RESTORE when it comes again, however late the failure is reported. */
void dr_ack_ledger_write_failed (DrAckLedger *ledger, guint64 serial);

/* The store made every write up to @serial durable, but those reported
 * to write_failed () before. TRUE with the frame the roller may now be
 * acknowledged up to in @ack: every frame before it (in arrival order) is
 * durable. No ACK goes past a frame whose write failed or is not settled,
 * until it is durable again. *blocked is set while frames whose write
 * failed wait to be sent again (RESTORE): ask the roller for them. */
gboolean dr_ack_ledger_committed (DrAckLedger *ledger, guint64 serial, DrFrameKey *ack,
                                  gboolean *blocked);
/* An ACK went out to the roller. */
void dr_ack_ledger_ack_sent (DrAckLedger *ledger);

/* Frames whose write failed and that the roller has not sent again yet. */
guint dr_ack_ledger_n_missing (DrAckLedger *ledger);

/* Frame @key is about to be taken in (history or live, in the order the
 * engine will take them). GAP: a live frame more than one seq ahead of
 * the last one taken in; seqs @first..@last never came. UNKNOWN: a live
 * frame with nothing before it to follow. Either way a gap is open and
 * the frame is not taken in (check it again once the gap is closed).
 * While a gap is open no ACK goes past the frames recorded before it, and
 * no further gap opens: hold live frames, ask the roller for its history,
 * take that in, then close the gap. */
DrSeqCheck dr_ack_ledger_check_seq (DrAckLedger *ledger, const DrFrameKey *key, gboolean live,
                                    guint16 *first, guint16 *last);
gboolean dr_ack_ledger_gap_open (DrAckLedger *ledger);
/* Frames taken in whose ACK committed () has not let go yet (and the
 * fences of gaps): 0 when every frame taken in is acknowledged. */
guint dr_ack_ledger_n_pending (DrAckLedger *ledger);
/* The history replay asked for after the gap is in (or the link went, and
 * the next link's replay brings what it held). ACKs may pass the gap
 * again. Returns how many of its frames did not come since it opened
 * (0 for an UNKNOWN one): after a complete replay, the roller did not
 * hold them (lost inside the roller, the engine counts them as dropped). */
guint dr_ack_ledger_close_gap (DrAckLedger *ledger);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrAckLedger, dr_ack_ledger_free)

G_END_DECLS
