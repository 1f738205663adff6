/* ack-ledger.c: seen frames in generations, pending ACKs in arrival order.
 *
 * A frame can come back until an ACK covering it has reached the roller.
 * Keys are kept in generations rotated at each ACK sent: two rotations
 * after a frame was seen, at least one later ACK went out while the link
 * was up, which the roller only processes after the one covering it. */
#include "ack-ledger.h"

#include "frame-key-set.h"

#define SEEN_GENERATIONS 3

typedef struct
{
  guint64 serial; /* store write the frame rode on */
  DrFrameKey key;
  gboolean failed; /* that write failed: the frame is not on disk */
} PendingAck;

struct _DrAckLedger
{
  DrFrameKeySet *seen[SEEN_GENERATIONS];
  DrFrameKeySet *missing; /* counted, write failed, not sent again yet */
  GQueue pending;         /* PendingAck, in arrival order */
};

DrAckLedger *
dr_ack_ledger_new (void)
{
  DrAckLedger *ledger = g_new0 (DrAckLedger, 1);

  for (guint i = 0; i < SEEN_GENERATIONS; i++)
    ledger->seen[i] = dr_frame_key_set_new ();
  ledger->missing = dr_frame_key_set_new ();
  g_queue_init (&ledger->pending);
  return ledger;
}

void
dr_ack_ledger_free (DrAckLedger *ledger)
{
  if (ledger == NULL)
    return;
  for (guint i = 0; i < SEEN_GENERATIONS; i++)
    dr_frame_key_set_free (ledger->seen[i]);
  dr_frame_key_set_free (ledger->missing);
  g_queue_clear_full (&ledger->pending, g_free);
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

DrLedgerVerdict
dr_ack_ledger_classify (DrAckLedger *ledger, const DrFrameKey *key)
{
  guint64 k = dr_frame_key_pack (key);

  if (dr_frame_key_set_remove (ledger->missing, k))
    {
      dr_frame_key_set_add (ledger->seen[0], k);
      return DR_LEDGER_RESTORE;
    }
  if (seen (ledger, k))
    return DR_LEDGER_DUPLICATE;
  dr_frame_key_set_add (ledger->seen[0], k);
  return DR_LEDGER_NEW;
}

void
dr_ack_ledger_record (DrAckLedger *ledger, const DrFrameKey *key, guint64 serial)
{
  PendingAck *ack = g_new0 (PendingAck, 1);

  ack->serial = serial;
  ack->key = *key;
  g_queue_push_tail (&ledger->pending, ack);
}

void
dr_ack_ledger_write_failed (DrAckLedger *ledger, guint64 serial)
{
  for (GList *l = ledger->pending.head; l; l = l->next)
    {
      PendingAck *ack = l->data;
      if (ack->serial != serial)
        continue;
      ack->failed = TRUE;
      dr_frame_key_set_add (ledger->missing, dr_frame_key_pack (&ack->key));
    }
}

gboolean
dr_ack_ledger_committed (DrAckLedger *ledger, guint64 serial, DrFrameKey *ack, gboolean *blocked)
{
  PendingAck *head;
  gboolean have = FALSE;

  *blocked = FALSE;
  while ((head = g_queue_peek_head (&ledger->pending)) && head->serial <= serial)
    {
      if (head->failed)
        {
          /* Never past a frame that is not on disk. The ones after it go
           * too: the roller sends them all again and the stored ones are
           * recognised as duplicates. */
          *blocked = TRUE;
          g_queue_clear_full (&ledger->pending, g_free);
          break;
        }
      have = TRUE;
      *ack = head->key;
      g_free (g_queue_pop_head (&ledger->pending));
    }
  return have;
}

void
dr_ack_ledger_ack_sent (DrAckLedger *ledger)
{
  DrFrameKeySet *oldest = ledger->seen[SEEN_GENERATIONS - 1];

  for (guint i = SEEN_GENERATIONS - 1; i > 0; i--)
    ledger->seen[i] = ledger->seen[i - 1];
  dr_frame_key_set_clear (oldest);
  ledger->seen[0] = oldest;
}

guint
dr_ack_ledger_n_missing (DrAckLedger *ledger)
{
  return dr_frame_key_set_size (ledger->missing);
}
