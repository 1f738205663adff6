/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ack-ledger.c: seen frames in generations, pending ACKs in arrival order,
 * and the frames that are not on disk yet.
 *
 * A frame can come back until an ACK covering it has reached the roller.
 * Keys are kept in generations rotated at each ACK sent: two rotations
 * after a frame was seen, at least one later ACK went out while the link
 * was up, which the roller only processes after the one covering it.
 *
 * A frame is durable once its own write (the one after NEW or RESTORE) is
 * committed. Until then it is in flight, and if that write fails it is
 * missing until the roller sends it again. Pending ACKs are only let go
 * when the write they wait for is settled, so a failure reported late
 * (the disk still full at the next batch) still finds its frames. An ACK
 * is cumulative on the roller: once a pending ACK of a frame that is not
 * durable has been passed over, no later one goes out until that frame is
 * durable (the blocking set).
 *
 * An open seq gap is a fence in the pending queue: nothing at or behind it
 * is let go until the gap is closed, and the fence is dropped then. A
 * frame whose ACK waits behind it stays seen across ACK rotations: with a gap
 * holding it, later ACKs need not cover it. */
#include "ack-ledger.h"

#include "frame-key-set.h"

#define SEEN_GENERATIONS 3

typedef struct
{
  guint64 serial; /* store write the ACK waits for */
  DrFrameKey key;
  gboolean write;  /* @serial is the frame's own write */
  gboolean failed; /* that write failed: the frame is not on disk */
  gboolean fence;  /* not a frame: where seq gap number @gap opened (serial 0) */
  guint64 gap;
  GList link; /* in pending or spare; data is the PendingAck */
} PendingAck;

/* Entries let go are kept for the next frames, up to this many: taking a
 * frame in allocates nothing once the ledger has seen its usual depth. */
#define SPARE_MAX 1024

struct _DrAckLedger
{
  DrFrameKeySet *seen[SEEN_GENERATIONS];
  DrFrameKeySet *in_flight; /* own write queued, not settled */
  DrFrameKeySet *missing;   /* counted, write failed, not sent again yet */
  DrFrameKeySet *blocking;  /* passed over while not durable: no ACK until they are */
  GQueue pending;           /* PendingAck, in arrival order */
  GQueue spare;             /* PendingAck to reuse */
  guint64 writing;          /* packed key classify () said to write; record () binds it */
  gboolean have_writing;
  gboolean have_seq; /* last_seq: the last frame taken in */
  guint16 last_seq;
  gboolean gap_open;
  guint64 gap_number; /* of the open gap, or the last one */
  gboolean gap_known; /* GAP, not UNKNOWN: gap_first..gap_last never came */
  guint16 gap_first, gap_last;
  guint gap_recovered;    /* its frames that came since it opened */
  guint gap_recovered_to; /* offset in it past the last one that came */
  gboolean have_unknown;  /* the frame of the last UNKNOWN gap: taken the next time */
  guint64 unknown;
};

DrAckLedger *
dr_ack_ledger_new (void)
{
  DrAckLedger *ledger = g_new0 (DrAckLedger, 1);

  for (guint i = 0; i < SEEN_GENERATIONS; i++)
    ledger->seen[i] = dr_frame_key_set_new ();
  ledger->in_flight = dr_frame_key_set_new ();
  ledger->missing = dr_frame_key_set_new ();
  ledger->blocking = dr_frame_key_set_new ();
  g_queue_init (&ledger->pending);
  g_queue_init (&ledger->spare);
  return ledger;
}

static PendingAck *
ack_take (DrAckLedger *ledger)
{
  GList *link = g_queue_pop_head_link (&ledger->spare);
  PendingAck *ack;

  if (link == NULL)
    {
      ack = g_new0 (PendingAck, 1);
      ack->link.data = ack;
      return ack;
    }
  ack = link->data;
  *ack = (PendingAck){ .link = { .data = ack } };
  return ack;
}

/* The head of pending, let go. */
static void
ack_drop_head (DrAckLedger *ledger)
{
  PendingAck *ack = g_queue_pop_head_link (&ledger->pending)->data;

  if (ledger->spare.length < SPARE_MAX)
    g_queue_push_head_link (&ledger->spare, &ack->link);
  else
    g_free (ack);
}

static void
acks_free (GQueue *queue)
{
  GList *link;

  while ((link = g_queue_pop_head_link (queue)) != NULL)
    g_free (link->data);
}

void
dr_ack_ledger_free (DrAckLedger *ledger)
{
  if (ledger == NULL)
    return;
  for (guint i = 0; i < SEEN_GENERATIONS; i++)
    dr_frame_key_set_free (ledger->seen[i]);
  dr_frame_key_set_free (ledger->in_flight);
  dr_frame_key_set_free (ledger->missing);
  dr_frame_key_set_free (ledger->blocking);
  acks_free (&ledger->pending);
  acks_free (&ledger->spare);
  g_free (ledger);
}

void
dr_ack_ledger_preload (DrAckLedger *ledger, const DrFrameKey *keys, guint n_keys)
{
  for (guint i = 0; i < n_keys; i++)
    dr_frame_key_set_add (ledger->seen[0], dr_frame_key_pack (&keys[i]));
}

static gboolean
seen (DrAckLedger *ledger, guint64 key)
{
  for (guint i = 0; i < SEEN_GENERATIONS; i++)
    if (dr_frame_key_set_contains (ledger->seen[i], key))
      return TRUE;
  return FALSE;
}

static DrLedgerVerdict
to_write (DrAckLedger *ledger, guint64 key, DrLedgerVerdict verdict)
{
  dr_frame_key_set_add (ledger->seen[0], key);
  dr_frame_key_set_add (ledger->in_flight, key);
  ledger->writing = key;
  ledger->have_writing = TRUE;
  return verdict;
}

DrLedgerVerdict
dr_ack_ledger_classify (DrAckLedger *ledger, const DrFrameKey *key)
{
  guint64 k = dr_frame_key_pack (key);

  ledger->have_writing = FALSE;
  if (dr_frame_key_set_remove (ledger->missing, k))
    return to_write (ledger, k, DR_LEDGER_RESTORE);
  /* Stored, or on its way: if that write fails, the frame becomes missing
   * and is asked for again. */
  if (seen (ledger, k))
    return DR_LEDGER_DUPLICATE;
  return to_write (ledger, k, DR_LEDGER_NEW);
}

void
dr_ack_ledger_record (DrAckLedger *ledger, const DrFrameKey *key, guint64 serial)
{
  PendingAck *ack = ack_take (ledger);
  guint64 k = dr_frame_key_pack (key);

  ack->serial = serial;
  ack->key = *key;
  if (ledger->have_writing && ledger->writing == k)
    {
      ack->write = TRUE;
      /* Nothing to wait for: it counts as written. */
      if (serial == 0)
        dr_frame_key_set_remove (ledger->in_flight, k);
    }
  ledger->have_writing = FALSE;
  g_queue_push_tail_link (&ledger->pending, &ack->link);
}

void
dr_ack_ledger_write_failed (DrAckLedger *ledger, guint64 serial)
{
  for (GList *l = ledger->pending.head; l; l = l->next)
    {
      PendingAck *ack = l->data;
      guint64 k;

      if (ack->serial != serial || !ack->write)
        continue;
      ack->failed = TRUE;
      k = dr_frame_key_pack (&ack->key);
      dr_frame_key_set_remove (ledger->in_flight, k);
      dr_frame_key_set_add (ledger->missing, k);
    }
}

gboolean
dr_ack_ledger_committed (DrAckLedger *ledger, guint64 serial, DrFrameKey *ack, gboolean *blocked)
{
  PendingAck *head;
  gboolean have = FALSE;

  while ((head = g_queue_peek_head (&ledger->pending)) && head->serial <= serial)
    {
      guint64 k = dr_frame_key_pack (&head->key);

      if (head->fence)
        {
          /* The roller erases up to an ACK's seq: past a gap, it would
           * erase the frames the history replay is to bring. The fences
           * of closed gaps go. */
          if (ledger->gap_open && head->gap == ledger->gap_number)
            break;
          ack_drop_head (ledger);
          continue;
        }

      if (head->write && !head->failed)
        {
          dr_frame_key_set_remove (ledger->in_flight, k);
          dr_frame_key_set_remove (ledger->blocking, k);
        }
      if (dr_frame_key_set_contains (ledger->in_flight, k)
          || dr_frame_key_set_contains (ledger->missing, k))
        {
          /* Never past a frame that is not on disk: the roller would
           * erase it. The ones after it wait until it is. */
          dr_frame_key_set_add (ledger->blocking, k);
        }
      else if (dr_frame_key_set_size (ledger->blocking) == 0)
        {
          have = TRUE;
          *ack = head->key;
        }
      ack_drop_head (ledger);
    }
  *blocked = dr_frame_key_set_size (ledger->missing) > 0;
  return have;
}

void
dr_ack_ledger_ack_sent (DrAckLedger *ledger)
{
  DrFrameKeySet *oldest = ledger->seen[SEEN_GENERATIONS - 1];
  gboolean behind = FALSE;

  for (guint i = SEEN_GENERATIONS - 1; i > 0; i--)
    ledger->seen[i] = ledger->seen[i - 1];
  dr_frame_key_set_clear (oldest);
  ledger->seen[0] = oldest;
  /* Frames behind the open gap's fence: their ACK does not go out with
   * the ones before the gap, so they can come again however many go. */
  for (GList *l = ledger->pending.head; l && ledger->gap_open; l = l->next)
    {
      PendingAck *ack = l->data;

      if (ack->fence && ack->gap == ledger->gap_number)
        behind = TRUE;
      else if (behind && !ack->fence)
        dr_frame_key_set_add (oldest, dr_frame_key_pack (&ack->key));
    }
}

guint
dr_ack_ledger_n_missing (DrAckLedger *ledger)
{
  return dr_frame_key_set_size (ledger->missing);
}

DrSeqCheck
dr_ack_ledger_check_seq (DrAckLedger *ledger, const DrFrameKey *key, gboolean live, guint16 *first,
                         guint16 *last)
{
  guint16 seq = key->seq;
  guint64 k = dr_frame_key_pack (key);
  guint16 ahead = (guint16) (seq - ledger->last_seq);
  DrSeqCheck check;
  PendingAck *fence;

  /* Each of the gap's seqs once: a replay sends them oldest first, and
   * one may come again in a later replay. */
  if (ledger->gap_open && ledger->gap_known)
    {
      guint16 offset = (guint16) (seq - ledger->gap_first);

      if (offset <= (guint16) (ledger->gap_last - ledger->gap_first)
          && offset >= ledger->gap_recovered_to)
        {
          ledger->gap_recovered++;
          ledger->gap_recovered_to = offset + 1u;
        }
    }
  /* The seq to follow moves forward only: a frame behind it was taken in
   * before (held while a replay brought it, or sent again in a replay),
   * unless it is new: then the roller started over (a reboot). The frame
   * an UNKNOWN gap was opened for is taken when it comes again, whatever
   * the replay brought: a new start. */
  if (!live || ledger->gap_open)
    {
      if (!ledger->have_seq || (ahead >= 1 && ahead < 0x8000u))
        check = DR_SEQ_TAKE;
      else
        return DR_SEQ_TAKE;
    }
  else if (ledger->have_unknown && ledger->unknown == k)
    check = DR_SEQ_TAKE;
  else if (!ledger->have_seq)
    check = DR_SEQ_UNKNOWN; /* the first frame there is */
  else if (ahead == 1)
    check = DR_SEQ_TAKE;
  else if (ahead >= 2 && ahead < 0x8000u)
    check = DR_SEQ_GAP;
  else if (ahead == 0 || seen (ledger, k) || dr_frame_key_set_contains (ledger->missing, k))
    return DR_SEQ_TAKE;
  else
    check = DR_SEQ_UNKNOWN;
  if (check == DR_SEQ_UNKNOWN)
    {
      ledger->have_unknown = TRUE;
      ledger->unknown = k;
    }
  else if (live)
    ledger->have_unknown = FALSE;
  if (check == DR_SEQ_TAKE)
    {
      ledger->have_seq = TRUE;
      ledger->last_seq = seq;
      return check;
    }
  ledger->gap_open = TRUE;
  ledger->gap_known = check == DR_SEQ_GAP;
  ledger->gap_first = (guint16) (ledger->last_seq + 1);
  ledger->gap_last = (guint16) (seq - 1);
  ledger->gap_recovered = 0;
  ledger->gap_recovered_to = 0;
  fence = ack_take (ledger);
  fence->fence = TRUE;
  fence->gap = ++ledger->gap_number;
  g_queue_push_tail_link (&ledger->pending, &fence->link);
  *first = ledger->gap_first;
  *last = ledger->gap_last;
  return check;
}

gboolean
dr_ack_ledger_gap_open (DrAckLedger *ledger)
{
  return ledger->gap_open;
}

guint
dr_ack_ledger_n_pending (DrAckLedger *ledger)
{
  return g_queue_get_length (&ledger->pending);
}

guint
dr_ack_ledger_close_gap (DrAckLedger *ledger)
{
  guint size = (guint) (guint16) (ledger->gap_last - ledger->gap_first) + 1;

  if (!ledger->gap_open)
    return 0;
  ledger->gap_open = FALSE;
  if (!ledger->gap_known)
    return 0;
  return size - MIN (ledger->gap_recovered, size);
}
