/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-queries.c: what Manager1 answers from: sessions in a time range,
 * a session's totals, events and samples, as plain rows (store.h) that
 * the service turns into D-Bus types.
 */
#include "store-private.h"

#include "dr-error.h"

static gboolean
session_exists (DrStore *self, uint64_t session_id, gboolean *exists, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
      = store_prepare (self, "SELECT 1 FROM sessions WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) session_id);
  return store_step_row (self, stmt, exists, "cannot read session", error);
}

/* Samples of a session, decoded from its frames */

/* A frame holds at most 25 samples; at the slowest rate the roller allows
 * (1 Hz) its first sample is at most this long before a session sample. */
#define FRAME_SPAN_MAX_MS (25 * 1000)

typedef struct
{
  DrStoreSampleFunc func;
  gpointer user_data;
  int64_t start_ms;
  int64_t end_ms; /* inclusive; G_MAXINT64 while open */
} SampleCollector;

static gboolean
collect_samples (const uint8_t *raw, size_t len, int64_t received_ms, gpointer user_data)
{
  SampleCollector *c = user_data;
  DrFrame frame;
  uint64_t wire_t; /* any t0 the air carries: summed unsigned, then converted */

  if (dr_frame_decode (raw, len, &frame) != DR_CODEC_OK)
    return TRUE;
  wire_t = frame.t0_ms;
  for (unsigned i = 0; i < frame.n_samples; i++)
    {
      const DrSample *sample = &frame.samples[i];
      int64_t t;

      if (i > 0)
        wire_t += sample->dt_ms;
      t = (int64_t) wire_t;
      if (t < c->start_ms || t > c->end_ms)
        continue;
      if (!c->func (&(DrStoreSample){ .time_ms = t,
                                      .ticks = sample->ticks,
                                      .force_mn = sample->force_mn,
                                      .zone = sample->zone },
                    c->user_data))
        return FALSE;
    }
  return TRUE;
}

gboolean
dr_store_session_foreach_sample (DrStore *self, uint64_t session_id, DrStoreSampleFunc func,
                                 gpointer user_data, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  SampleCollector collector = { func, user_data, 0, 0 };
  gboolean has_row;
  int64_t roller_id;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  stmt = store_prepare (self, "SELECT roller_id, start_ms, end_ms FROM sessions WHERE id = ?",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) session_id);
  if (!store_step_row (self, stmt, &has_row, "cannot read session", error))
    return FALSE;
  if (!has_row)
    {
      store_no_session_error (error, session_id);
      return FALSE;
    }
  roller_id = sqlite3_column_int64 (stmt, 0);
  collector.start_ms = sqlite3_column_int64 (stmt, 1);
  collector.end_ms
      = sqlite3_column_type (stmt, 2) == SQLITE_NULL ? G_MAXINT64 : sqlite3_column_int64 (stmt, 2);
  /* Sample times are t0 plus the dts: the frame holding the first sample
   * may start before the session, never after its last sample. */
  return dr_store_foreach_frame (self, roller_id,
                                 collector.start_ms > G_MININT64 + FRAME_SPAN_MAX_MS
                                     ? collector.start_ms - FRAME_SPAN_MAX_MS
                                     : G_MININT64,
                                 collector.end_ms == G_MAXINT64 ? 0 : collector.end_ms + 1,
                                 collect_samples, &collector, error);
}

static gboolean
append_sample (const DrStoreSample *sample, gpointer user_data)
{
  g_array_append_vals (user_data, sample, 1);
  return TRUE;
}

GArray *
dr_store_session_samples (DrStore *self, uint64_t session_id, GError **error)
{
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (DrStoreSample));

  g_return_val_if_fail (self != NULL, NULL);

  if (!dr_store_session_foreach_sample (self, session_id, append_sample, samples, error))
    return NULL;
  return g_steal_pointer (&samples);
}

/* Queries */

void
dr_store_session_free (DrStoreSession *session)
{
  if (session == NULL)
    return;
  g_free (session->address);
  g_free (session);
}

GPtrArray *
dr_store_list_sessions (DrStore *self, int64_t since_ms, int64_t until_ms, GError **error)
{
  return dr_store_list_person_sessions (self, since_ms, until_ms, 0, error);
}

GPtrArray *
dr_store_list_person_sessions (DrStore *self, int64_t since_ms, int64_t until_ms, int64_t person_id,
                               GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) sessions = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  if (until_ms != 0 && until_ms <= since_ms)
    {
      g_set_error (error, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                   "bad time range: until_ms %" G_GINT64_FORMAT
                   " is not after since_ms %" G_GINT64_FORMAT,
                   until_ms, since_ms);
      return NULL;
    }
  if (person_id != 0 && !store_person_exists (self, person_id, error))
    return NULL;
  stmt = store_prepare (self,
                        "SELECT s.id, r.address, s.start_ms, coalesce (s.end_ms, 0),"
                        "  s.mean_coverage, coalesce (s.person_id, 0)"
                        " FROM sessions s JOIN rollers r ON r.id = s.roller_id"
                        " WHERE s.start_ms >= ?1 AND s.start_ms < ?2"
                        "  AND (?3 = 0 OR s.person_id = ?3)"
                        " ORDER BY s.start_ms, s.id",
                        error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, since_ms);
  sqlite3_bind_int64 (stmt, 2, until_ms == 0 ? G_MAXINT64 : until_ms);
  sqlite3_bind_int64 (stmt, 3, person_id);
  sessions = g_ptr_array_new_with_free_func ((GDestroyNotify) dr_store_session_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrStoreSession *session = g_new0 (DrStoreSession, 1);

      session->id = (uint64_t) sqlite3_column_int64 (stmt, 0);
      session->address = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      session->start_ms = sqlite3_column_int64 (stmt, 2);
      session->end_ms = sqlite3_column_int64 (stmt, 3);
      session->mean_coverage = sqlite3_column_double (stmt, 4);
      session->person_id = sqlite3_column_int64 (stmt, 5);
      g_ptr_array_add (sessions, session);
    }
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read sessions");
      return NULL;
    }
  return g_steal_pointer (&sessions);
}

/* @sql with one parameter, the session id, bound; NotFound for an unknown
 * session rather than an empty answer. */
static sqlite3_stmt *
prepare_session_query (DrStore *self, uint64_t session_id, const char *sql, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean exists;

  if (!session_exists (self, session_id, &exists, error))
    return NULL;
  if (!exists)
    {
      store_no_session_error (error, session_id);
      return NULL;
    }
  stmt = store_prepare (self, sql, error);
  if (stmt != NULL)
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) session_id);
  return stmt;
}

gboolean
dr_store_session_head (DrStore *self, uint64_t session_id, uint16_t *needle_length_um,
                       uint32_t *head_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  sqlite3_int64 needle, head;

  g_return_val_if_fail (self != NULL, FALSE);

  stmt = prepare_session_query (
      self, session_id, "SELECT needle_length_um, head_id FROM sessions WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      store_set_db_error (self, error, "cannot read the session's head");
      return FALSE;
    }
  needle = sqlite3_column_int64 (stmt, 0);
  head = sqlite3_column_int64 (stmt, 1);
  /* Out of range is what no roller sent: not known. */
  if (needle_length_um)
    *needle_length_um = needle > 0 && needle <= G_MAXUINT16 ? (uint16_t) needle : 0;
  if (head_id)
    *head_id = head > 0 && head <= G_MAXUINT32 ? (uint32_t) head : 0;
  return TRUE;
}

void
dr_store_zone_coverage_free (DrStoreZoneCoverage *coverage)
{
  if (coverage == NULL)
    return;
  g_free (coverage->zone);
  g_free (coverage);
}

GPtrArray *
dr_store_session_coverage (DrStore *self, uint64_t session_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) zones = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  /* In the configuration's zone order, "unassigned" last. */
  stmt = prepare_session_query (self, session_id,
                                "SELECT zone, coverage, passes, rolled_cm2, peak_force_n,"
                                "  passes_unknown, passes_horizontal, passes_vertical,"
                                "  passes_diagonal"
                                " FROM session_zones WHERE session_id = ?"
                                " ORDER BY zone_id < 0, zone_id, zone",
                                error);
  if (stmt == NULL)
    return NULL;
  zones = g_ptr_array_new_with_free_func ((GDestroyNotify) dr_store_zone_coverage_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrStoreZoneCoverage *zone = g_new0 (DrStoreZoneCoverage, 1);

      zone->zone = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      zone->coverage = sqlite3_column_double (stmt, 1);
      zone->passes = sqlite3_column_double (stmt, 2);
      zone->rolled_cm2 = sqlite3_column_double (stmt, 3);
      zone->peak_force_n = sqlite3_column_double (stmt, 4);
      for (int d = 0; d < DR_N_DIRECTIONS; d++)
        zone->passes_by_direction[d] = sqlite3_column_double (stmt, 5 + d);
      g_ptr_array_add (zones, zone);
    }
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read session totals");
      return NULL;
    }
  return g_steal_pointer (&zones);
}

void
dr_store_event_free (DrStoreEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->kind);
  g_free (event->zone);
  g_free (event);
}

/* Details are NULL where the event's kind has none: FALSE for those, else
 * TRUE with @detail marked present. */
static gboolean
event_has (sqlite3_stmt *stmt, int column, DrStoreEvent *event, DrStoreEventDetails detail)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return FALSE;
  event->details |= detail;
  return TRUE;
}

GPtrArray *
dr_store_session_events (DrStore *self, uint64_t session_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) events = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, NULL);

  stmt = prepare_session_query (self, session_id,
                                "SELECT e.time_ms, e.kind, e.zone, e.force_n, e.limit_n, e.peak_n,"
                                "  e.duration_ms, e.last_treated_ms, e.head_id, e.wear, e.frames,"
                                "  coalesce (s.person_id, 0)"
                                " FROM events e JOIN sessions s ON s.id = e.session_id"
                                " WHERE e.session_id = ?1 ORDER BY e.time_ms, e.id",
                                error);
  if (stmt == NULL)
    return NULL;
  events = g_ptr_array_new_with_free_func ((GDestroyNotify) dr_store_event_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrStoreEvent *event = g_new0 (DrStoreEvent, 1);

      event->time_ms = sqlite3_column_int64 (stmt, 0);
      event->kind = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      if (event_has (stmt, 2, event, DR_STORE_EVENT_ZONE))
        event->zone = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      if (event_has (stmt, 3, event, DR_STORE_EVENT_FORCE_N))
        event->force_n = sqlite3_column_double (stmt, 3);
      if (event_has (stmt, 4, event, DR_STORE_EVENT_LIMIT_N))
        event->limit_n = sqlite3_column_double (stmt, 4);
      if (event_has (stmt, 5, event, DR_STORE_EVENT_PEAK_N))
        event->peak_n = sqlite3_column_double (stmt, 5);
      if (event_has (stmt, 6, event, DR_STORE_EVENT_DURATION_MS))
        event->duration_ms = sqlite3_column_int64 (stmt, 6);
      if (event_has (stmt, 7, event, DR_STORE_EVENT_LAST_TREATED_MS))
        event->last_treated_ms = sqlite3_column_int64 (stmt, 7);
      if (event_has (stmt, 8, event, DR_STORE_EVENT_HEAD_ID))
        event->head_id = (uint32_t) sqlite3_column_int64 (stmt, 8);
      if (event_has (stmt, 9, event, DR_STORE_EVENT_WEAR))
        event->wear = sqlite3_column_double (stmt, 9);
      if (event_has (stmt, 10, event, DR_STORE_EVENT_FRAMES))
        event->frames = (uint32_t) sqlite3_column_int64 (stmt, 10);
      /* The session's person, said where the session starts. */
      if (g_str_equal (event->kind, "session-started"))
        {
          event->details |= DR_STORE_EVENT_PERSON;
          event->person_id = sqlite3_column_int64 (stmt, 11);
        }
      g_ptr_array_add (events, event);
    }
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read events");
      return NULL;
    }
  return g_steal_pointer (&events);
}
