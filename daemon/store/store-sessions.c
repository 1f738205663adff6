/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-sessions.c: sessions, their per-zone totals and their events, as
 * the daemon writes them; and closing the sessions a crash left open.
 */
#include "store-private.h"

#include "dr-error.h"

#define UNASSIGNED_ZONE_NAME "unassigned"

/* Time of the last sample of a raw well-formed frame. */
static int64_t
frame_end_ms (const uint8_t *raw, size_t len)
{
  DrFrame frame;
  int64_t t;

  if (dr_frame_decode (raw, len, &frame) != DR_CODEC_OK)
    return len >= 12 ? (int64_t) store_read_u64le (raw + 4) : 0;
  t = (int64_t) dr_frame_end_ms (&frame);
  return t;
}

/* A session the daemon did not close (it died, or the machine lost power)
 * ends at its roller's last stored frame before the next session, or at its
 * start when it has none; its stored totals stay as they are. Frames with
 * an unsynced clock are left out: their t0 counts from the roller's boot. */
gboolean
store_close_open_sessions (DrStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) open_sessions = NULL;
  g_autoptr (sqlite3_stmt) last_frame = NULL;
  g_autoptr (sqlite3_stmt) close_session = NULL;
  gboolean any = FALSE;
  int rc;

  open_sessions = store_prepare (self,
                                 "SELECT s.id, s.roller_id, s.start_ms,"
                                 "  (SELECT min(n.start_ms) FROM sessions n"
                                 "   WHERE n.roller_id = s.roller_id AND n.start_ms > s.start_ms)"
                                 " FROM sessions s WHERE s.end_ms IS NULL",
                                 error);
  last_frame
      = store_prepare (self,
                       "SELECT raw FROM frames"
                       " WHERE roller_id = ?1 AND t0_ms >= ?2 AND t0_ms < ?3 AND (flags & ?4) = 0"
                       " ORDER BY t0_ms DESC, seq DESC LIMIT 1",
                       error);
  close_session = store_prepare (self, "UPDATE sessions SET end_ms = ?2 WHERE id = ?1", error);
  if (open_sessions == NULL || last_frame == NULL || close_session == NULL)
    return FALSE;

  while ((rc = sqlite3_step (open_sessions)) == SQLITE_ROW)
    {
      int64_t id = sqlite3_column_int64 (open_sessions, 0);
      int64_t start_ms = sqlite3_column_int64 (open_sessions, 2);
      int64_t end_ms = start_ms;
      gboolean has_row;

      if (!any && !dr_store_begin (self, error))
        return FALSE;
      any = TRUE;

      sqlite3_bind_int64 (last_frame, 1, sqlite3_column_int64 (open_sessions, 1));
      sqlite3_bind_int64 (last_frame, 2, start_ms);
      sqlite3_bind_int64 (last_frame, 3,
                          sqlite3_column_type (open_sessions, 3) == SQLITE_NULL
                              ? G_MAXINT64
                              : sqlite3_column_int64 (open_sessions, 3));
      sqlite3_bind_int (last_frame, 4, DR_FRAME_FLAG_CLOCK_UNSYNCED);
      if (!store_step_row (self, last_frame, &has_row, "cannot read frames", error))
        goto fail;
      if (has_row)
        end_ms = MAX (start_ms, frame_end_ms (sqlite3_column_blob (last_frame, 0),
                                              (size_t) sqlite3_column_bytes (last_frame, 0)));
      sqlite3_reset (last_frame);

      sqlite3_bind_int64 (close_session, 1, id);
      sqlite3_bind_int64 (close_session, 2, end_ms);
      if (!store_step_done (self, close_session, "cannot close session", error))
        goto fail;
      g_message ("%s: closed session %" G_GINT64_FORMAT " left open by a previous run", self->path,
                 id);
    }
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read sessions");
      goto fail;
    }
  return !any || dr_store_commit (self, TRUE, error);

fail:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

/* Sessions */

gboolean
dr_store_max_session_id (DrStore *self, uint64_t *id, GError **error)
{
  int64_t max_id;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  /* Ids of sessions deleted with their person are not given again. */
  if (!store_query_int (self,
                        "SELECT max (coalesce ((SELECT max (id) FROM sessions), 0),"
                        "  coalesce ((SELECT max (id) FROM deleted_sessions), 0))",
                        &max_id, error))
    return FALSE;
  *id = (uint64_t) max_id;
  return TRUE;
}

gboolean
dr_store_last_session (DrStore *self, int64_t roller_id, uint64_t *session_id, int64_t *start_ms,
                       int64_t *end_ms, gboolean *resumable, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  g_return_val_if_fail (self != NULL, FALSE);

  *session_id = 0;
  *start_ms = *end_ms = 0;
  *resumable = FALSE;
  /* A deleted session is no session to resume (its id is 0 here), but
   * the roller was used then: its times still count. */
  stmt = store_prepare (
      self,
      "SELECT id, start_ms, coalesce (end_ms, 0), NOT ended FROM sessions WHERE roller_id = ?1"
      " UNION ALL"
      " SELECT 0, start_ms, end_ms, 0 FROM deleted_sessions WHERE roller_id = ?1"
      " ORDER BY 2 DESC, 1 DESC LIMIT 1",
      error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, roller_id);
  if (!store_step_row (self, stmt, &has_row, "cannot read sessions", error))
    return FALSE;
  if (has_row)
    {
      *session_id = (uint64_t) sqlite3_column_int64 (stmt, 0);
      *start_ms = sqlite3_column_int64 (stmt, 1);
      *end_ms = sqlite3_column_int64 (stmt, 2);
      *resumable = sqlite3_column_int (stmt, 3) != 0;
    }
  return TRUE;
}

gboolean
dr_store_session_begin (DrStore *self, uint64_t session_id, int64_t roller_id, int64_t start_ms,
                        uint16_t needle_length_um, uint32_t head_id, GError **error)
{
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (sqlite3_stmt) count_head = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (session_id > 0 && session_id <= G_MAXINT64, FALSE);

  /* The session is for the person the roller is for as it begins: writes
   * run in order, so a SetPerson before is in, one after is not. */
  insert = store_prepare (self,
                          "INSERT INTO sessions (id, roller_id, start_ms, needle_length_um,"
                          "  head_id, head_counted, ended, person_id)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, 0, 0,"
                          "  (SELECT person_id FROM rollers WHERE id = ?2))",
                          error);
  /* The head may not have been stored yet (Head Info unread); count the
   * session anyway, its details come with dr_store_set_head (). */
  count_head = store_prepare (self,
                              "INSERT INTO heads (head_id, sessions) VALUES (?, 1)"
                              " ON CONFLICT (head_id) DO UPDATE SET sessions = sessions + 1",
                              error);
  if (insert == NULL || count_head == NULL)
    return FALSE;
  sqlite3_bind_int64 (insert, 1, (sqlite3_int64) session_id);
  sqlite3_bind_int64 (insert, 2, roller_id);
  sqlite3_bind_int64 (insert, 3, start_ms);
  sqlite3_bind_int (insert, 4, needle_length_um);
  sqlite3_bind_int64 (insert, 5, head_id);
  sqlite3_bind_int64 (count_head, 1, head_id);
  if (!store_step_done (self, insert, "cannot store session", error)
      || !store_step_done (self, count_head, "cannot store head", error))
    return FALSE;
  store_remember_session (
      self, &(StoreOpenSession){ session_id, roller_id, start_ms, needle_length_um, head_id });
  return TRUE;
}

gboolean
dr_store_get_head_counted (DrStore *self, uint64_t session_id, gboolean *counted, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_row;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (counted != NULL, FALSE);

  stmt = store_prepare (self, "SELECT head_counted FROM sessions WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) session_id);
  if (!store_step_row (self, stmt, &has_row, "cannot read session", error))
    return FALSE;
  if (!has_row)
    return store_no_session_error (error, session_id);
  *counted = sqlite3_column_int (stmt, 0) != 0;
  return TRUE;
}

gboolean
dr_store_mark_head_counted (DrStore *self, uint64_t session_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  stmt = store_prepare (self, "UPDATE sessions SET head_counted = 1 WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) session_id);
  if (!store_step_done (self, stmt, "cannot store session", error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    return store_no_session_error (error, session_id);
  return TRUE;
}

static const char *
zone_source_name (DrZoneSource source)
{
  switch (source)
    {
      case DR_ZONE_SOURCE_SENSOR:
        return "sensor";
      case DR_ZONE_SOURCE_USER:
        return "user";
      case DR_ZONE_SOURCE_NONE:
      default:
        return "none";
    }
}

static const char *
zone_name (const DrEngineConfig *config, int zone)
{
  const char *name;

  if (zone == DR_ZONE_UNASSIGNED)
    return UNASSIGNED_ZONE_NAME;
  name = dr_engine_config_zone_name (config, zone);
  return name != NULL && name[0] != '\0' ? name : NULL;
}

gboolean
dr_store_session_update (DrStore *self, uint64_t session_id, int64_t end_ms, double mean_coverage,
                         const DrEngineConfig *config, const DrEngine *engine, GError **error)
{
  g_autoptr (sqlite3_stmt) update = NULL;
  g_autoptr (sqlite3_stmt) clear = NULL;
  g_autoptr (sqlite3_stmt) insert = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (engine != NULL, FALSE);

  /* An end is the daemon's: once ended, never resumed (see ended). */
  update = store_prepare (self,
                          "UPDATE sessions SET end_ms = nullif (?2, 0), mean_coverage = ?3,"
                          "  ended = (ended OR ?2 <> 0) WHERE id = ?1",
                          error);
  clear = store_prepare (self, "DELETE FROM session_zones WHERE session_id = ?", error);
  insert = store_prepare (self,
                          "INSERT INTO session_zones (session_id, zone, zone_id, coverage, passes,"
                          "  rolled_cm2, revolutions, punctures_per_cm2, peak_force_n, source,"
                          "  passes_horizontal, passes_vertical, passes_diagonal, passes_unknown)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          error);
  if (update == NULL || clear == NULL || insert == NULL)
    return FALSE;

  sqlite3_bind_int64 (update, 1, (sqlite3_int64) session_id);
  sqlite3_bind_int64 (update, 2, end_ms);
  sqlite3_bind_double (update, 3, mean_coverage);
  if (!store_step_done (self, update, "cannot store session", error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    return store_no_session_error (error, session_id);
  if (end_ms != 0)
    store_forget_session (self, session_id);

  sqlite3_bind_int64 (clear, 1, (sqlite3_int64) session_id);
  if (!store_step_done (self, clear, "cannot store session totals", error))
    return FALSE;

  /* Every configured zone, then "unassigned" (id -1), from the engine. */
  for (int zone = 0; zone <= (int) config->n_zones; zone++)
    {
      int id = zone < (int) config->n_zones ? zone : DR_ZONE_UNASSIGNED;
      const char *name = zone_name (config, id);
      const DrZoneTotals *totals;

      if (name == NULL)
        continue;
      totals = dr_engine_zone_totals (engine, id);
      if (totals == NULL)
        continue;
      sqlite3_bind_int64 (insert, 1, (sqlite3_int64) session_id);
      sqlite3_bind_text (insert, 2, name, -1, SQLITE_STATIC);
      sqlite3_bind_int (insert, 3, id);
      sqlite3_bind_double (insert, 4, totals->coverage);
      sqlite3_bind_double (insert, 5, totals->passes);
      sqlite3_bind_double (insert, 6, totals->rolled_cm2);
      sqlite3_bind_double (insert, 7, totals->revolutions);
      sqlite3_bind_double (insert, 8, totals->punctures_per_cm2);
      sqlite3_bind_double (insert, 9, totals->peak_force_n);
      sqlite3_bind_text (insert, 10, zone_source_name (totals->source), -1, SQLITE_STATIC);
      sqlite3_bind_double (insert, 11, totals->passes_by_direction[DR_DIRECTION_HORIZONTAL]);
      sqlite3_bind_double (insert, 12, totals->passes_by_direction[DR_DIRECTION_VERTICAL]);
      sqlite3_bind_double (insert, 13, totals->passes_by_direction[DR_DIRECTION_DIAGONAL]);
      sqlite3_bind_double (insert, 14, totals->passes_by_direction[DR_DIRECTION_UNKNOWN]);
      if (!store_step_done (self, insert, "cannot store session totals", error))
        return FALSE;
    }
  return TRUE;
}

gboolean
dr_store_add_event (DrStore *self, uint64_t session_id, int64_t roller_id,
                    const DrEngineConfig *config, const DrEvent *event, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gboolean has_zone = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (event != NULL, FALSE);

  stmt = store_prepare (
      self,
      "INSERT INTO events (session_id, roller_id, time_ms, kind, zone, force_n, limit_n,"
      "  peak_n, duration_ms, last_treated_ms, head_id, wear, frames)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      error);
  if (stmt == NULL)
    return FALSE;

  if (session_id != 0)
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) session_id);
  sqlite3_bind_int64 (stmt, 2, roller_id);
  sqlite3_bind_int64 (stmt, 3, event->time_ms);
  sqlite3_bind_text (stmt, 4, dr_event_kind_name (event->kind), -1, SQLITE_STATIC);

  /* Only the details Manager1.GetSessionEvents documents for the kind; the
   * rest stay NULL and are left out of the a{sv}. */
  switch (event->kind)
    {
      case DR_EVENT_PRESSURE_STARTED:
        has_zone = TRUE;
        sqlite3_bind_double (stmt, 6, event->force_n);
        sqlite3_bind_double (stmt, 7, event->limit_n);
        break;
      case DR_EVENT_PRESSURE_ENDED:
        has_zone = TRUE;
        sqlite3_bind_double (stmt, 8, event->peak_n);
        sqlite3_bind_int64 (stmt, 9, event->duration_ms);
        break;
      case DR_EVENT_EXCLUDED_ZONE:
      case DR_EVENT_OVER_TREATED:
        has_zone = TRUE;
        break;
      case DR_EVENT_TOO_SOON:
        has_zone = TRUE;
        sqlite3_bind_int64 (stmt, 10, event->last_treated_ms);
        break;
      case DR_EVENT_HEAD_WORN:
        sqlite3_bind_int64 (stmt, 11, event->head_id);
        sqlite3_bind_double (stmt, 12, event->wear);
        break;
      case DR_EVENT_SEQ_GAP:
        sqlite3_bind_int64 (stmt, 13, event->count);
        break;
      case DR_EVENT_SESSION_STARTED:
      case DR_EVENT_SESSION_ENDED:
      case DR_EVENT_COUNTER_RESET:
      case DR_N_EVENT_KINDS:
      default:
        break;
    }
  if (has_zone)
    {
      const char *name = zone_name (config, event->zone);
      sqlite3_bind_text (stmt, 5, name != NULL ? name : UNASSIGNED_ZONE_NAME, -1, SQLITE_STATIC);
    }
  return store_step_done (self, stmt, "cannot store event", error);
}

gboolean
dr_store_zone_last_treated (DrStore *self, const DrEngineConfig *config,
                            int64_t last_treated_ms[DR_MAX_ZONES], GError **error)
{
  return dr_store_zone_last_treated_before (self, config, G_MAXINT64, last_treated_ms, error);
}

gboolean
dr_store_zone_last_treated_before (DrStore *self, const DrEngineConfig *config, int64_t before_ms,
                                   int64_t last_treated_ms[DR_MAX_ZONES], GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);

  for (int i = 0; i < DR_MAX_ZONES; i++)
    last_treated_ms[i] = G_MININT64;

  /* Treated = rolled in contact there; a session still open is the
   * daemon's own and its engine knows it better. */
  stmt = store_prepare (self,
                        "SELECT z.zone, max (s.end_ms) FROM session_zones z"
                        " JOIN sessions s ON s.id = z.session_id"
                        " WHERE z.rolled_cm2 > 0 AND s.end_ms IS NOT NULL AND s.start_ms < ?1"
                        " GROUP BY z.zone",
                        error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, before_ms);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      int zone
          = dr_engine_config_zone_by_name (config, (const char *) sqlite3_column_text (stmt, 0));

      if (zone >= 0 && zone < DR_MAX_ZONES)
        last_treated_ms[zone] = sqlite3_column_int64 (stmt, 1);
    }
  if (rc != SQLITE_DONE)
    return store_set_db_error (self, error, "cannot read sessions");
  return TRUE;
}

GArray *
dr_store_zone_treatments_before (DrStore *self, const DrEngineConfig *config, int64_t before_ms,
                                 GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GArray) treatments = g_array_new (FALSE, FALSE, sizeof (DrTreatment));
  int rc;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);

  /* As dr_store_zone_last_treated_before, by needle length too: the rest
   * window is the earlier session's needle's, not the head's in use. */
  stmt = store_prepare (self,
                        "SELECT z.zone, s.needle_length_um, max (s.end_ms) FROM session_zones z"
                        " JOIN sessions s ON s.id = z.session_id"
                        " WHERE z.rolled_cm2 > 0 AND s.end_ms IS NOT NULL AND s.start_ms < ?1"
                        " GROUP BY z.zone, s.needle_length_um",
                        error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, before_ms);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrTreatment t;
      sqlite3_int64 needle = sqlite3_column_int64 (stmt, 1);

      t.zone = dr_engine_config_zone_by_name (config, (const char *) sqlite3_column_text (stmt, 0));
      t.needle_length_um = needle > 0 && needle <= G_MAXUINT16 ? (uint16_t) needle : 0;
      t.treated_at_ms = sqlite3_column_int64 (stmt, 2);
      if (t.zone >= 0 && t.zone < DR_MAX_ZONES)
        g_array_append_val (treatments, t);
    }
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error, "cannot read sessions");
      return NULL;
    }
  return g_steal_pointer (&treatments);
}

/* Rows of (person, zone, needle, latest end) into DrTreatment arrays. */
static gboolean
collect_treatments (DrStore *self, sqlite3_stmt *stmt, const DrEngineConfig *config,
                    GHashTable *by_person, GArray *one, GError **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      DrTreatment t;
      sqlite3_int64 needle = sqlite3_column_int64 (stmt, 2);
      GArray *into = one;

      t.zone = dr_engine_config_zone_by_name (config, (const char *) sqlite3_column_text (stmt, 1));
      t.needle_length_um = needle > 0 && needle <= G_MAXUINT16 ? (uint16_t) needle : 0;
      t.treated_at_ms = sqlite3_column_int64 (stmt, 3);
      if (t.zone < 0 || t.zone >= DR_MAX_ZONES)
        continue;
      if (by_person != NULL)
        {
          int64_t person = sqlite3_column_int64 (stmt, 0);

          into = g_hash_table_lookup (by_person, &person);
          if (into == NULL)
            {
              into = g_array_new (FALSE, FALSE, sizeof (DrTreatment));
              g_hash_table_insert (by_person, g_memdup2 (&person, sizeof person), into);
            }
        }
      g_array_append_val (into, t);
    }
  if (rc != SQLITE_DONE)
    return store_set_db_error (self, error, "cannot read sessions");
  return TRUE;
}

GArray *
dr_store_person_treatments_before (DrStore *self, const DrEngineConfig *config, int64_t person_id,
                                   int64_t before_ms, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GArray) treatments = g_array_new (FALSE, FALSE, sizeof (DrTreatment));

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);

  stmt = store_prepare (self,
                        "SELECT s.person_id, z.zone, s.needle_length_um, max (s.end_ms)"
                        " FROM session_zones z JOIN sessions s ON s.id = z.session_id"
                        " WHERE z.rolled_cm2 > 0 AND s.end_ms IS NOT NULL AND s.start_ms < ?1"
                        "  AND s.person_id = ?2"
                        " GROUP BY z.zone, s.needle_length_um",
                        error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, before_ms);
  sqlite3_bind_int64 (stmt, 2, person_id);
  if (!collect_treatments (self, stmt, config, NULL, treatments, error))
    return NULL;
  return g_steal_pointer (&treatments);
}

GHashTable *
dr_store_treatments_by_person (DrStore *self, const DrEngineConfig *config, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GHashTable) by_person = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);

  stmt = store_prepare (self,
                        "SELECT s.person_id, z.zone, s.needle_length_um, max (s.end_ms)"
                        " FROM session_zones z JOIN sessions s ON s.id = z.session_id"
                        " WHERE z.rolled_cm2 > 0 AND s.end_ms IS NOT NULL"
                        "  AND s.person_id IS NOT NULL"
                        " GROUP BY s.person_id, z.zone, s.needle_length_um",
                        error);
  if (stmt == NULL)
    return NULL;
  by_person
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) g_array_unref);
  if (!collect_treatments (self, stmt, config, by_person, NULL, error))
    return NULL;
  return g_steal_pointer (&by_person);
}
