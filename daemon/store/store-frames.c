/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-frames.c: raw frames as received, malformed ones, and acks.
 *
 * The hot path is dr_store_add_frame (): its statements are prepared once
 * with the store and cached, and it allocates nothing.
 */
#include "store-private.h"

#include "dr-error.h"

/* The hot path's statements, cached for the store's lifetime. */
gboolean
store_prepare_frame_statements (DrStore *self, GError **error)
{
  self->insert_frame = store_prepare_persistent (self,
                                                 "INSERT INTO frames"
                                                 " (roller_id, t0_ms, seq, flags, received_ms, raw)"
                                                 " VALUES (?, ?, ?, ?, ?, ?)"
                                                 " ON CONFLICT (roller_id, t0_ms, seq) DO NOTHING",
                                                 error);
  if (self->insert_frame == NULL)
    return FALSE;
  self->insert_malformed = store_prepare_persistent (self,
                                                     "INSERT INTO malformed_frames"
                                                     " (roller_id, received_ms, reason, raw)"
                                                     " VALUES (?, ?, ?, ?)",
                                                     error);
  if (self->insert_malformed == NULL)
    return FALSE;
  self->count_malformed = store_prepare_persistent (
      self, "UPDATE rollers SET malformed_kept = malformed_kept + 1 WHERE id = ?", error);
  if (self->count_malformed == NULL)
    return FALSE;
  /* By the roller's index (which holds the row id): no scan of the ring. */
  self->drop_malformed = store_prepare_persistent (
      self,
      "DELETE FROM malformed_frames"
      " WHERE id = (SELECT min(id) FROM malformed_frames WHERE roller_id = ?1)"
      "  AND (SELECT malformed_kept FROM rollers WHERE id = ?1) > ?2",
      error);
  if (self->drop_malformed == NULL)
    return FALSE;
  self->count_dropped
      = store_prepare_persistent (self,
                                  "UPDATE rollers SET malformed_kept = malformed_kept - 1,"
                                  " malformed_dropped = malformed_dropped + 1 WHERE id = ?",
                                  error);
  if (self->count_dropped == NULL)
    return FALSE;
  return TRUE;
}

/* Frames */

gboolean
dr_store_add_frame (DrStore *self, int64_t roller_id, int64_t received_ms, const uint8_t *raw,
                    size_t len, DrCodecStatus status, gboolean *inserted, GError **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (raw != NULL || len == 0, FALSE);
  g_return_val_if_fail (len <= G_MAXINT, FALSE);

  if (status == DR_CODEC_OK)
    {
      if (len < DR_FRAME_HEADER_LEN)
        {
          g_set_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                       "a well-formed frame has at least %d bytes, not %zu", DR_FRAME_HEADER_LEN,
                       len);
          return FALSE;
        }
      /* The header as PROTOCOL.md lays it out; the caller already decoded
       * the frame, so no second decode here. SQLITE_STATIC: the statement
       * is stepped and reset before @raw can go away. */
      stmt = self->insert_frame;
      sqlite3_bind_int64 (stmt, 1, roller_id);
      sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) store_read_u64le (raw + 4));
      sqlite3_bind_int (stmt, 3, store_read_u16le (raw + 2));
      sqlite3_bind_int (stmt, 4, raw[1]);
      sqlite3_bind_int64 (stmt, 5, received_ms);
      sqlite3_bind_blob (stmt, 6, raw, (int) len, SQLITE_STATIC);
      if (!store_step_done (self, stmt, "cannot store frame", error))
        return FALSE;
      if (inserted != NULL)
        *inserted = sqlite3_changes (self->db) > 0;
      return TRUE;
    }

  stmt = self->insert_malformed;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  sqlite3_bind_int64 (stmt, 2, received_ms);
  sqlite3_bind_text (stmt, 3, dr_codec_status_name (status), -1, SQLITE_STATIC);
  /* A zero-length blob must not be bound as NULL. */
  if (len == 0)
    sqlite3_bind_zeroblob (stmt, 4, 0);
  else
    sqlite3_bind_blob (stmt, 4, raw, (int) len, SQLITE_STATIC);
  if (!store_step_done (self, stmt, "cannot store malformed frame", error))
    return FALSE;
  sqlite3_bind_int64 (self->count_malformed, 1, roller_id);
  if (!store_step_roller_update (self, self->count_malformed, roller_id,
                                 "cannot count malformed frame", error))
    return FALSE;
  /* The ring: they are diagnostics, and a roller sending garbage without
   * end must not fill the disk. */
  sqlite3_bind_int64 (self->drop_malformed, 1, roller_id);
  sqlite3_bind_int (self->drop_malformed, 2, DR_STORE_MALFORMED_KEEP);
  if (!store_step_done (self, self->drop_malformed, "cannot drop old malformed frame", error))
    return FALSE;
  if (sqlite3_changes (self->db) > 0)
    {
      sqlite3_bind_int64 (self->count_dropped, 1, roller_id);
      if (!store_step_roller_update (self, self->count_dropped, roller_id,
                                     "cannot count dropped malformed frame", error))
        return FALSE;
    }
  if (inserted != NULL)
    *inserted = TRUE;
  return TRUE;
}

static gboolean
read_acked_key (DrStore *self, int64_t roller_id, int64_t *t0_ms, int *seq, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  stmt = store_prepare (self, "SELECT acked_t0_ms, acked_seq FROM rollers WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  if (!store_step_row (self, stmt, &has_row, "cannot read roller", error))
    return FALSE;
  if (!has_row)
    return store_no_roller_error (error, roller_id);
  if (sqlite3_column_type (stmt, 0) == SQLITE_NULL)
    {
      /* Nothing acked yet: everything sorts after this. */
      *t0_ms = G_MININT64;
      *seq = -1;
    }
  else
    {
      *t0_ms = sqlite3_column_int64 (stmt, 0);
      *seq = sqlite3_column_int (stmt, 1);
    }
  return TRUE;
}

GArray *
dr_store_unacked_frame_keys (DrStore *self, int64_t roller_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GArray) keys = NULL;
  int64_t acked_t0;
  int acked_seq;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  if (!read_acked_key (self, roller_id, &acked_t0, &acked_seq, error))
    return NULL;
  /* After the acked frame by (t0, seq), or produced after it: stored
   * after it and ahead of its seq by less than half the seq space. The
   * second is for a roller whose clock was set back (SET_TIME after it ran
   * fast): its later frames have earlier t0s. Two searches rather than
   * one WHERE with OR: with the OR SQLite walks every frame of the roller
   * (a year's history: 140 ms at start-up), each half alone is a range of
   * the index or of the rowid that starts at the acked frame. */
  stmt = store_prepare (self,
                        "SELECT t0_ms, seq FROM frames"
                        " WHERE roller_id = ?1 AND (t0_ms, seq) > (?2, ?3)"
                        " UNION"
                        " SELECT t0_ms, seq FROM frames"
                        " WHERE id > (SELECT id FROM frames"
                        "             WHERE roller_id = ?1 AND t0_ms = ?2 AND seq = ?3)"
                        "  AND +roller_id = ?1 AND ((seq - ?3) & 65535) BETWEEN 1 AND 32767"
                        " ORDER BY 1, 2",
                        error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  sqlite3_bind_int64 (stmt, 2, acked_t0);
  sqlite3_bind_int (stmt, 3, acked_seq);
  keys = g_array_new (FALSE, FALSE, sizeof (DrFrameKey));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrFrameKey key = {
        .t0_ms = (uint64_t) sqlite3_column_int64 (stmt, 0),
        .seq = (uint16_t) sqlite3_column_int (stmt, 1),
      };
      g_array_append_val (keys, key);
    }
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read frames");
      return NULL;
    }
  return g_steal_pointer (&keys);
}

gboolean
dr_store_mark_acked (DrStore *self, int64_t roller_id, const DrFrameKey *key, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int64_t acked_t0;
  int acked_seq;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  /* Acks only move forward: a late ack for an older frame changes nothing.
   * Forward is later by (t0, seq), or produced later (stored later, seq
   * ahead) when the roller's clock was set back. */
  stmt = store_prepare (
      self,
      "UPDATE rollers SET acked_t0_ms = ?2, acked_seq = ?3"
      " WHERE id = ?1 AND (acked_t0_ms IS NULL OR (acked_t0_ms, acked_seq) < (?2, ?3)"
      "  OR ((?3 - acked_seq) & 65535 BETWEEN 1 AND 32767"
      "      AND (SELECT id FROM frames WHERE roller_id = ?1 AND t0_ms = ?2 AND seq = ?3)"
      "          > (SELECT f.id FROM frames f WHERE f.roller_id = ?1"
      "             AND f.t0_ms = rollers.acked_t0_ms AND f.seq = rollers.acked_seq)))",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) key->t0_ms);
  sqlite3_bind_int (stmt, 3, key->seq);
  if (!store_step_done (self, stmt, "cannot store ack", error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    return read_acked_key (self, roller_id, &acked_t0, &acked_seq, error);
  return TRUE;
}

gboolean
dr_store_frame_counts (DrStore *self, int64_t roller_id, DrStoreFrameCounts *counts, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (counts != NULL, FALSE);

  stmt = store_prepare (self,
                        "SELECT (SELECT count(*) FROM frames WHERE roller_id = ?1),"
                        "  (SELECT count(*) FROM malformed_frames WHERE roller_id = ?1),"
                        "  dropped_frames, malformed_dropped"
                        " FROM rollers WHERE id = ?1",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  if (!store_step_row (self, stmt, &has_row, "cannot count frames", error))
    return FALSE;
  if (!has_row)
    return store_no_roller_error (error, roller_id);
  counts->frames = (uint64_t) sqlite3_column_int64 (stmt, 0);
  counts->malformed = (uint64_t) sqlite3_column_int64 (stmt, 1);
  counts->seq_gaps = (uint64_t) sqlite3_column_int64 (stmt, 2);
  counts->malformed_dropped = (uint64_t) sqlite3_column_int64 (stmt, 3);
  return TRUE;
}

gboolean
dr_store_malformed_counts (DrStore *self, int64_t roller_id, uint64_t *kept, uint64_t *dropped,
                           GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  g_return_val_if_fail (self != NULL, FALSE);

  stmt = store_prepare (self, "SELECT malformed_kept, malformed_dropped FROM rollers WHERE id = ?",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  if (!store_step_row (self, stmt, &has_row, "cannot count malformed frames", error))
    return FALSE;
  if (!has_row)
    return store_no_roller_error (error, roller_id);
  *kept = (uint64_t) sqlite3_column_int64 (stmt, 0);
  *dropped = (uint64_t) sqlite3_column_int64 (stmt, 1);
  return TRUE;
}

gboolean
dr_store_add_dropped (DrStore *self, int64_t roller_id, uint64_t frames, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  stmt = store_prepare (self, "UPDATE rollers SET dropped_frames = dropped_frames + ? WHERE id = ?",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) frames);
  sqlite3_bind_int64 (stmt, 2, roller_id);
  return store_step_roller_update (self, stmt, roller_id, "cannot store dropped frames", error);
}

gboolean
dr_store_foreach_frame (DrStore *self, int64_t roller_id, int64_t since_ms, int64_t until_ms,
                        DrStoreFrameFunc func, gpointer user_data, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  stmt = store_prepare (self,
                        "SELECT raw, received_ms FROM frames"
                        " WHERE roller_id = ? AND t0_ms >= ? AND t0_ms < ?"
                        " ORDER BY t0_ms, seq",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  sqlite3_bind_int64 (stmt, 2, since_ms);
  sqlite3_bind_int64 (stmt, 3, until_ms == 0 ? G_MAXINT64 : until_ms);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const uint8_t *raw = sqlite3_column_blob (stmt, 0);
      size_t len = (size_t) sqlite3_column_bytes (stmt, 0);

      if (!func (raw, len, sqlite3_column_int64 (stmt, 1), user_data))
        return TRUE;
    }
  if (rc != SQLITE_DONE)
    return store_set_db_error (self, error, "cannot read frames");
  return TRUE;
}

/* A frame holds at most 25 samples; at the slowest rate the roller allows
 * (1 Hz) its first sample is at most this long before its last. */
#define FRAME_SPAN_MAX_MS (25 * 1000)

typedef struct
{
  int64_t ord; /* place in the roller's production order */
  int64_t id;  /* arrival order, for equal places */
  int64_t received_ms;
  GBytes *raw;
} ProducedFrame;

static void
produced_frame_clear (gpointer data)
{
  ProducedFrame *frame = data;
  g_clear_pointer (&frame->raw, g_bytes_unref);
}

static gint
produced_frame_compare (gconstpointer a, gconstpointer b)
{
  const ProducedFrame *x = a, *y = b;

  if (x->ord != y->ord)
    return x->ord < y->ord ? -1 : 1;
  return x->id < y->id ? -1 : (x->id > y->id);
}

/* Time of the last sample of a raw well-formed frame. */
static int64_t
frame_end_ms (const uint8_t *raw, size_t len)
{
  DrFrame frame;
  int64_t t;

  if (dr_frame_decode (raw, len, &frame) != DR_CODEC_OK)
    return len >= 12 ? (int64_t) store_read_u64le (raw + 4) : G_MININT64;
  t = (int64_t) dr_frame_end_ms (&frame);
  return t;
}

gboolean
dr_store_foreach_frame_produced (DrStore *self, int64_t roller_id, int64_t since_ms,
                                 GBytes **baseline, DrStoreFrameFunc func, gpointer user_data,
                                 GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GArray) frames = NULL;
  int64_t ord = 0, max_ord = 0, first_ord = 0;
  gboolean have_first = FALSE;
  uint16_t prev_seq = 0;
  int rc;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  if (baseline != NULL)
    *baseline = NULL;
  /* From the first frame that may hold a sample at @since_ms: the frame
   * before the first one is among them too, most of the time. */
  stmt = store_prepare (self,
                        "SELECT id, seq, flags, received_ms, raw FROM frames"
                        " WHERE roller_id = ?1 AND id >= (SELECT min (id) FROM frames"
                        "                                 WHERE roller_id = ?1 AND t0_ms >= ?2)"
                        " ORDER BY id",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  sqlite3_bind_int64 (stmt, 2,
                      since_ms > G_MININT64 + FRAME_SPAN_MAX_MS ? since_ms - FRAME_SPAN_MAX_MS
                                                                : G_MININT64);
  frames = g_array_new (FALSE, FALSE, sizeof (ProducedFrame));
  g_array_set_clear_func (frames, produced_frame_clear);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const uint8_t *raw = sqlite3_column_blob (stmt, 4);
      size_t len = (size_t) sqlite3_column_bytes (stmt, 4);
      ProducedFrame frame = {
        .id = sqlite3_column_int64 (stmt, 0),
        .received_ms = sqlite3_column_int64 (stmt, 3),
        .raw = g_bytes_new (raw, len),
      };
      uint16_t seq = (uint16_t) sqlite3_column_int (stmt, 1);
      gboolean live = (sqlite3_column_int (stmt, 2) & DR_FRAME_FLAG_HISTORY) == 0;

      /* Each frame's seq, against the one that came in before it, says how
       * far apart the roller made them, either way: history sent after
       * live frames sorts before them. */
      if (frames->len > 0)
        {
          ord += (int16_t) (uint16_t) (seq - prev_seq);
          /* Live frames go out as they are made: one behind everything
           * before it comes from a roller that started again. */
          if (live && ord <= max_ord)
            ord = max_ord + 1;
        }
      max_ord = MAX (max_ord, ord);
      prev_seq = seq;
      frame.ord = ord;
      /* The first to come in of the frames that reach @since_ms. */
      if (!have_first && frame_end_ms (raw, len) >= since_ms)
        {
          have_first = TRUE;
          first_ord = ord;
        }
      g_array_append_val (frames, frame);
    }
  if (rc != SQLITE_DONE)
    return store_set_db_error (self, error, "cannot read frames");
  if (!have_first)
    return TRUE;

  g_array_sort (frames, produced_frame_compare);
  for (guint i = 0; i < frames->len; i++)
    {
      ProducedFrame *frame = &g_array_index (frames, ProducedFrame, i);
      gsize len;
      const uint8_t *raw;

      if (frame->ord < first_ord)
        {
          if (frame->ord == first_ord - 1 && baseline != NULL)
            {
              g_clear_pointer (baseline, g_bytes_unref);
              *baseline = g_bytes_ref (frame->raw);
            }
          continue;
        }
      raw = g_bytes_get_data (frame->raw, &len);
      if (!func (raw, len, frame->received_ms, user_data))
        break;
    }
  return TRUE;
}
