/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* salvage.c: dermarolld --salvage (salvage.h). */
#include "salvage.h"

#include <string.h>

#include "dr-error.h"

typedef struct
{
  int64_t roller_id;
  DrHeadInfo head;
  gboolean has_head;
  GPtrArray *frames; /* GBytes: the frames new to the current database */
} Roller;

static void
roller_free (gpointer data)
{
  Roller *roller = data;
  g_ptr_array_unref (roller->frames);
  g_free (roller);
}

typedef struct
{
  DrStore *store;
  GHashTable *rollers; /* address → Roller */
  GPtrArray *order;    /* Roller, as first met */
  DrSalvageResult *result;
  GError *error;
} Salvage;

static gboolean
on_frame (const char *address, const char *name, const DrHeadInfo *head, const uint8_t *raw,
          size_t len, int64_t received_ms, gpointer user_data)
{
  Salvage *s = user_data;
  Roller *roller = g_hash_table_lookup (s->rollers, address);
  DrFrame frame;
  gboolean inserted = FALSE;

  s->result->frames_read++;
  if (dr_frame_decode (raw, len, &frame) != DR_CODEC_OK)
    {
      s->result->frames_malformed++;
      return TRUE;
    }
  if (roller == NULL)
    {
      roller = g_new0 (Roller, 1);
      roller->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      if (!dr_store_ensure_roller (s->store, address, name, &roller->roller_id, &s->error))
        {
          roller_free (roller);
          return FALSE;
        }
      g_hash_table_insert (s->rollers, g_strdup (address), roller);
      g_ptr_array_add (s->order, roller);
    }
  if (head != NULL)
    {
      roller->head = *head;
      roller->has_head = TRUE;
    }
  if (!dr_store_add_frame (s->store, roller->roller_id, received_ms, raw, len, DR_CODEC_OK,
                           &inserted, &s->error))
    return FALSE;
  if (inserted)
    {
      s->result->frames_stored++;
      g_ptr_array_add (roller->frames, g_bytes_new (raw, len));
    }
  return TRUE;
}

/* The order the roller produced them in: by t0, then seq (the store's
 * frame order). */
static gint
compare_frames (gconstpointer a, gconstpointer b)
{
  DrFrame fa, fb;

  dr_frame_decode (g_bytes_get_data (*(GBytes **) a, NULL), g_bytes_get_size (*(GBytes **) a), &fa);
  dr_frame_decode (g_bytes_get_data (*(GBytes **) b, NULL), g_bytes_get_size (*(GBytes **) b), &fb);
  if (fa.t0_ms != fb.t0_ms)
    return fa.t0_ms < fb.t0_ms ? -1 : 1;
  return (fa.seq > fb.seq) - (fa.seq < fb.seq);
}

typedef struct
{
  Salvage *salvage;
  Roller *roller;
  const DrEngineConfig *config;
  DrEngine *engine;
  uint64_t session_id;
} Replay;

static void
on_event (const DrEvent *event, void *user_data)
{
  Replay *r = user_data;
  Salvage *s = r->salvage;

  if (s->error != NULL)
    return;
  if (event->kind == DR_EVENT_SESSION_STARTED)
    {
      if (!dr_store_max_session_id (s->store, &r->session_id, &s->error))
        return;
      r->session_id++;
      if (!dr_store_session_begin (s->store, r->session_id, r->roller->roller_id, event->time_ms,
                                   r->roller->has_head ? r->roller->head.needle_length_um : 0,
                                   r->roller->has_head ? r->roller->head.head_id : 0, &s->error))
        return;
      s->result->sessions++;
    }
  if (!dr_store_add_event (s->store, r->session_id, r->roller->roller_id, r->config, event,
                           &s->error))
    return;
  if (event->kind == DR_EVENT_SESSION_ENDED && r->session_id != 0)
    {
      dr_store_session_update (s->store, r->session_id, MAX (event->time_ms, 1),
                               dr_engine_mean_coverage (r->engine), r->config, r->engine,
                               &s->error);
      r->session_id = 0;
    }
}

static gboolean
recompute (Salvage *s, Roller *roller, const DrEngineConfig *config)
{
  Replay r = { s, roller, config, dr_engine_new (config), 0 };

  g_ptr_array_sort (roller->frames, compare_frames);
  dr_engine_set_event_func (r.engine, on_event, &r);
  if (roller->has_head)
    dr_engine_set_head (r.engine, &roller->head, 0);
  for (guint i = 0; i < roller->frames->len && s->error == NULL; i++)
    {
      GBytes *bytes = g_ptr_array_index (roller->frames, i);
      DrFrame frame;

      if (dr_frame_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &frame)
          == DR_CODEC_OK)
        dr_engine_feed (r.engine, &frame);
    }
  if (s->error == NULL)
    dr_engine_stop_session (r.engine);
  dr_engine_free (r.engine);
  return s->error == NULL;
}

gboolean
dr_salvage (const char *damaged_path, DrStore *store, const DrEngineConfig *config,
            DrSalvageResult *result, GError **error)
{
  g_autoptr (GHashTable) rollers
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, roller_free);
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  Salvage s = { store, rollers, order, result, NULL };
  g_autoptr (GError) local = NULL;

  memset (result, 0, sizeof *result);
  if (g_strcmp0 (damaged_path, dr_store_get_path (store)) == 0)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                   "%s is the current database; salvage reads a damaged one into it", damaged_path);
      return FALSE;
    }
  /* One transaction: a salvage is stored whole or not at all. */
  if (!dr_store_begin (store, error))
    return FALSE;
  if (!dr_store_salvage_frames (damaged_path, on_frame, &s, &result->unreadable, &local))
    {
      dr_store_rollback (store);
      g_propagate_error (error,
                         s.error != NULL ? g_steal_pointer (&s.error) : g_steal_pointer (&local));
      return FALSE;
    }
  for (guint i = 0; i < order->len; i++)
    if (!recompute (&s, g_ptr_array_index (order, i), config))
      {
        dr_store_rollback (store);
        g_propagate_error (error, g_steal_pointer (&s.error));
        return FALSE;
      }
  result->rollers = order->len;
  return dr_store_commit (store, TRUE, error);
}
