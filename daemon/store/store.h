/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store.h: dermaroll's SQLite database, synchronously.
 *
 * All SQL lives in daemon/store/ (store.c says which file holds what). A
 * DrStore is used from one thread at a time: the daemon drives it from a
 * DrStoreWorker thread (store-worker.h) so that no write or fsync ever
 * blocks the main loop; tools and tests may use it directly.
 *
 * What is kept: the raw frames exactly as received (so any session can be
 * recomputed through the codec and the engine), malformed frames with their
 * reason, rollers, needle heads, sessions, per-session per-zone totals, every
 * engine event, and settings such as excluded zones.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "engine.h"
#include "frame-key.h"
#include "roller-protocol.h"

G_BEGIN_DECLS

typedef struct _DrStore DrStore;

/* $STATE_DIRECTORY/dermaroll.db when systemd sets STATE_DIRECTORY, else
 * $XDG_STATE_HOME/dermaroll/dermaroll.db (~/.local/state/dermaroll/...). */
char *dr_store_default_path (void);

/* Opens or creates the database (parent directory created 0700, file 0600),
 * sets WAL (checkpointed at 1 MiB and cut back to it), synchronous=NORMAL
 * and a busy timeout, migrates the schema
 * forward (PRAGMA user_version), and closes sessions a crashed daemon left
 * open (end = their last stored frame). Errors name the file and what failed
 * (DR_ERROR_STORE); a file that is not a database, or a newer schema, is
 * refused, never overwritten. */
DrStore *dr_store_open (const char *path, GError **error);
/* A second connection to a file dr_store_open () opened, read-only, for a
 * reader on a thread of its own (a sample export): nothing is migrated,
 * closed or repaired, and WAL lets it read while the daemon's connection
 * writes. A file that is not ours, or of a newer schema, is refused. */
DrStore *dr_store_open_reader (const char *path, GError **error);
void dr_store_free (DrStore *store);
const char *dr_store_get_path (DrStore *store);
/* Splits what a write job met: a refusal of the caller's request (a
 * DR_ERROR other than DR_ERROR_STORE, such as a name in use: nothing was
 * written) goes to @refusal for the answer and the job counts as done, so
 * the batch around it commits; anything else is the store failing, into
 * @error. Takes @local. */
gboolean dr_store_split_refusal (GError *local, GError **refusal, GError **error);

/* Runs SQL that returns no rows on the store's connection: for tests and
 * maintenance tools (e.g. PRAGMA max_page_count to simulate a full disk).
 * Not for the daemon's data: that goes through the functions below. */
gboolean dr_store_exec (DrStore *store, const char *sql, GError **error);

/* Writes are batched: begin opens a transaction if none is open; commit
 * ends it. A durable commit is fsynced (it survives a power cut); only
 * after one may the daemon acknowledge frames to the roller. */
gboolean dr_store_begin (DrStore *store, GError **error);
gboolean dr_store_commit (DrStore *store, gboolean durable, GError **error);
gboolean dr_store_in_transaction (DrStore *store);
/* Frees what SQLite caches for this connection (between bursts). */
void dr_store_release_memory (DrStore *store);
/* Abandons the open transaction, if any. */
gboolean dr_store_rollback (DrStore *store);
/* fsyncs what earlier commits wrote: dr_store_commit (store, FALSE) then
 * dr_store_sync () is a durable commit, with a failed commit and a failed
 * sync told apart (after a failed sync the data is committed but not
 * known to be on disk). */
gboolean dr_store_sync (DrStore *store, GError **error);
/* Moves everything in the write-ahead log into the database file and
 * truncates the log to nothing (outside a transaction; waits for readers
 * up to the busy timeout). After a full disk this gives the log's space
 * back, and the log cannot keep the disk full. */
gboolean dr_store_checkpoint (DrStore *store, GError **error);
/* A savepoint inside the open transaction, so that one write that fails
 * half-way leaves nothing of itself behind; end it with @keep TRUE to keep
 * its changes, FALSE to undo them. Not nested. */
gboolean dr_store_savepoint (DrStore *store, GError **error);
gboolean dr_store_end_savepoint (DrStore *store, gboolean keep, GError **error);

/* Rollers, keyed by identity address. Returns the roller's row id. */
gboolean dr_store_ensure_roller (DrStore *store, const char *address, const char *name,
                                 int64_t *roller_id, GError **error);
gboolean dr_store_set_roller_paired (DrStore *store, int64_t roller_id, gboolean paired,
                                     GError **error);
/* Deletes the roller's row if nothing of the user's refers to it (no
 * frame, malformed frame, session or event): a roller that was named
 * (a Pair that failed, a roller only seen) and then forgotten. A row
 * with treatment data stays. *@deleted says which it was. */
gboolean dr_store_delete_roller_if_unused (DrStore *store, int64_t roller_id, gboolean *deleted,
                                           GError **error);

typedef struct
{
  int64_t id;
  char *address;
  char *name;
  gboolean paired;
  int64_t person_id; /* whose sessions it rolls; a new roller is the default person's */
} DrStoreRoller;

void dr_store_roller_free (DrStoreRoller *roller);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrStoreRoller, dr_store_roller_free)
/* Element type DrStoreRoller*, owned by the array. */
GPtrArray *dr_store_list_rollers (DrStore *store, GError **error);

/* People (store-people.c). A person has a unique name, never empty; ids
 * come from AUTOINCREMENT and are never given again. One person, the
 * default (migration 5 names it "default"), always exists: new rollers
 * are theirs, and a removed person's rollers go back to them. */
typedef struct
{
  int64_t id;
  char *name;
  gboolean is_default;
  char **excluded_zones; /* zone names, sorted; NULL-terminated */
} DrStorePerson;

void dr_store_person_free (DrStorePerson *person);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrStorePerson, dr_store_person_free)
/* By id; element type DrStorePerson*, owned by the array. */
GPtrArray *dr_store_list_people (DrStore *store, GError **error);
int64_t dr_store_default_person (DrStore *store);
/* InvalidArgument for an empty (or only blank) name, one over 200 bytes,
 * not UTF-8 or with control characters; what AddPerson and Rename check
 * before anything else. */
gboolean dr_store_check_person_name (const char *name, GError **error);
/* Exists when another person has @name; InvalidArgument as above. */
gboolean dr_store_add_person (DrStore *store, const char *name, int64_t *person_id, GError **error);
/* NotFound, Exists, InvalidArgument. */
gboolean dr_store_rename_person (DrStore *store, int64_t person_id, const char *name,
                                 GError **error);
/* Removes the person and their excluded zones; their rollers go to the
 * default person. @delete_data: their sessions go too, with their zone
 * totals and events (the raw frames never: those are the roller's);
 * otherwise the sessions stay, owned by nobody (person_id NULL).
 * NotFound; Refused for the default person. */
gboolean dr_store_remove_person (DrStore *store, int64_t person_id, gboolean delete_data,
                                 GError **error);
/* NotFound for an unknown person or roller. */
gboolean dr_store_set_roller_person (DrStore *store, int64_t roller_id, int64_t person_id,
                                     GError **error);
gboolean dr_store_set_person_zone_excluded (DrStore *store, int64_t person_id, const char *zone,
                                            gboolean excluded, GError **error);
/* Sorted zone names; NULL-terminated, free with g_strfreev. NotFound. */
char **dr_store_person_excluded_zones (DrStore *store, int64_t person_id, GError **error);

/* Needle heads: revolutions accumulate across sessions. */
gboolean dr_store_get_head_revolutions (DrStore *store, uint32_t head_id, double *revolutions,
                                        GError **error);
gboolean dr_store_set_head (DrStore *store, const DrHeadInfo *head, double revolutions,
                            GError **error);
/* Sessions begun with the head (dr_store_session_begin counts them). */
gboolean dr_store_get_head_sessions (DrStore *store, uint32_t head_id, uint64_t *sessions,
                                     GError **error);
/* Every head's revolutions: head id (GUINT_TO_POINTER) → double* (owned). */
GHashTable *dr_store_list_head_revolutions (DrStore *store, GError **error);

/* Malformed frames kept per roller: the newest this many, a ring. */
#define DR_STORE_MALFORMED_KEEP 1000

/* Frames. A well-formed frame is keyed by (roller, t0, seq): storing it a
 * second time changes nothing and sets *inserted to FALSE. A malformed
 * frame is kept with its reason (status != DR_CODEC_OK) and counted; in the
 * same transaction the roller's oldest malformed frame beyond the newest
 * DR_STORE_MALFORMED_KEEP is deleted and counted as dropped. */
gboolean dr_store_add_frame (DrStore *store, int64_t roller_id, int64_t received_ms,
                             const uint8_t *raw, size_t len, DrCodecStatus status,
                             gboolean *inserted, GError **error);

/* Keys (element type DrFrameKey) of the roller's well-formed frames after
 * the last one marked acknowledged, in (t0, seq) order: the only frames the
 * roller may still send again. */
GArray *dr_store_unacked_frame_keys (DrStore *store, int64_t roller_id, GError **error);
/* Marks every stored frame of the roller up to and including @key, in
 * (t0, seq) order, acked. Acks only move forward: an older key is a no-op. */
gboolean dr_store_mark_acked (DrStore *store, int64_t roller_id, const DrFrameKey *key,
                              GError **error);

typedef struct
{
  uint64_t frames;
  uint64_t malformed; /* kept: at most DR_STORE_MALFORMED_KEEP */
  uint64_t seq_gaps;
  uint64_t malformed_dropped; /* deleted from the ring of malformed frames */
} DrStoreFrameCounts;

gboolean dr_store_frame_counts (DrStore *store, int64_t roller_id, DrStoreFrameCounts *counts,
                                GError **error);
/* The roller's malformed frames kept and dropped from the ring, cheaply
 * (dr_store_frame_counts counts every frame). */
gboolean dr_store_malformed_counts (DrStore *store, int64_t roller_id, uint64_t *kept,
                                    uint64_t *dropped, GError **error);
/* Frames lost on the way (seq gaps), as the engine counted them. */
gboolean dr_store_add_dropped (DrStore *store, int64_t roller_id, uint64_t frames, GError **error);

/* Calls @func for each well-formed raw frame of the roller with t0 in
 * [since_ms, until_ms) (until_ms 0: no end), in (t0, seq) order, for
 * recomputation and export; @func returns FALSE to stop early. */
typedef gboolean (*DrStoreFrameFunc) (const uint8_t *raw, size_t len, int64_t received_ms,
                                      gpointer user_data);
gboolean dr_store_foreach_frame (DrStore *store, int64_t roller_id, int64_t since_ms,
                                 int64_t until_ms, DrStoreFrameFunc func, gpointer user_data,
                                 GError **error);
/* Calls @func for each well-formed raw frame of the roller stored since the
 * first one holding a sample at or after @since_ms came in, in the order
 * the roller produced them, to resume a session exactly as it was counted.
 * That order is the roller's seq (with its 65535 → 0 wrap), taken along the
 * order the frames came in; never t0, which a roller's clock set back
 * (SET_TIME after it ran fast) makes go back. A live frame behind every
 * frame before it starts a new boot of the roller, after them. Frames that
 * came in later but were produced before that first one (an older
 * session's history) are left out. @baseline, when not NULL, is set to the
 * frame produced right before the first one, if stored: its last sample
 * is where the roller's counters stood. */
gboolean dr_store_foreach_frame_produced (DrStore *store, int64_t roller_id, int64_t since_ms,
                                          GBytes **baseline, DrStoreFrameFunc func,
                                          gpointer user_data, GError **error);

/* Sessions. Ids are chosen by the caller (the daemon hands them out in
 * memory so that SessionStarted can be signalled at once): next id is
 * dr_store_max_session_id () + 1, which counts sessions deleted with their
 * person too. A session is its roller's person's (rollers.person_id when
 * dr_store_session_begin runs). */
gboolean dr_store_max_session_id (DrStore *store, uint64_t *id, GError **error);
/* The roller's latest session, or *session_id 0 when it has none; when the
 * latest was deleted with its person, *session_id is 0 but its times are
 * given (they still bound the roller's clock). *resumable: nobody ended it
 * (a crash left it open), so the next contact may join it; a session that
 * was ended (dr_store_session_update with an end_ms) never is. */
gboolean dr_store_last_session (DrStore *store, int64_t roller_id, uint64_t *session_id,
                                int64_t *start_ms, int64_t *end_ms, gboolean *resumable,
                                GError **error);
gboolean dr_store_session_begin (DrStore *store, uint64_t session_id, int64_t roller_id,
                                 int64_t start_ms, uint16_t needle_length_um, uint32_t head_id,
                                 GError **error);
/* Replaces the session's per-zone totals (zone name → totals); end_ms 0
 * while the session is active. */
gboolean dr_store_session_update (DrStore *store, uint64_t session_id, int64_t end_ms,
                                  double mean_coverage, const DrEngineConfig *config,
                                  const DrEngine *engine, GError **error);
/* Whether the session's revolutions are in its head's stored count: they
 * are added when the session ends (dr_store_set_head, then
 * dr_store_mark_head_counted in the same write), so a session a crash left
 * open is not counted, and whoever resumes it must add it. */
gboolean dr_store_get_head_counted (DrStore *store, uint64_t session_id, gboolean *counted,
                                    GError **error);
gboolean dr_store_mark_head_counted (DrStore *store, uint64_t session_id, GError **error);
gboolean dr_store_add_event (DrStore *store, uint64_t session_id, int64_t roller_id,
                             const DrEngineConfig *config, const DrEvent *event, GError **error);

/* Last treatment time of each zone (by zone name) over every session, for
 * the rest-interval rule. Sets last_treated_ms[zone] or INT64_MIN. */
gboolean dr_store_zone_last_treated (DrStore *store, const DrEngineConfig *config,
                                     int64_t last_treated_ms[DR_MAX_ZONES], GError **error);

/* The same, over the sessions that started before @before_ms only. */
gboolean dr_store_zone_last_treated_before (DrStore *store, const DrEngineConfig *config,
                                            int64_t before_ms,
                                            int64_t last_treated_ms[DR_MAX_ZONES], GError **error);

/* The earlier treatments of each zone, for the rest rule: per zone (by
 * name) and needle length, the latest end of an ended session that rolled
 * there and started before @before_ms (G_MAXINT64: every session). The
 * engine takes the latest per needle class, so this is all it needs.
 * Returns a GArray of DrTreatment. */
GArray *dr_store_zone_treatments_before (DrStore *store, const DrEngineConfig *config,
                                         int64_t before_ms, GError **error);

/* As dr_store_zone_treatments_before, over the sessions of @person_id only:
 * the rest rule is one person's skin. */
GArray *dr_store_person_treatments_before (DrStore *store, const DrEngineConfig *config,
                                           int64_t person_id, int64_t before_ms, GError **error);
/* Every person's treatments over every ended session: person id (int64_t*
 * key, owned) → GArray of DrTreatment. Sessions of nobody are left out. */
GHashTable *dr_store_treatments_by_person (DrStore *store, const DrEngineConfig *config,
                                           GError **error);

/* Query results, as plain rows; service-variants.h turns them into
 * Manager1's D-Bus types. */

typedef struct
{
  uint64_t id;
  char *address; /* the roller's */
  int64_t start_ms;
  int64_t end_ms; /* 0 while the session is open */
  double mean_coverage;
  int64_t person_id; /* 0: nobody (the person was removed without their data) */
} DrStoreSession;

void dr_store_session_free (DrStoreSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrStoreSession, dr_store_session_free)
/* Sessions that started in [since_ms, until_ms) (until_ms 0: no end), by
 * start time; element type DrStoreSession*, owned by the array. */
GPtrArray *dr_store_list_sessions (DrStore *store, int64_t since_ms, int64_t until_ms,
                                   GError **error);
/* The same, of @person_id only (0: everyone's, nobody's included).
 * NotFound for a person that does not exist. */
GPtrArray *dr_store_list_person_sessions (DrStore *store, int64_t since_ms, int64_t until_ms,
                                          int64_t person_id, GError **error);

/* One zone's totals in a session. */
typedef struct
{
  char *zone;
  double coverage;
  double passes;
  double rolled_cm2;
  double peak_force_n;
  double passes_by_direction[DR_N_DIRECTIONS]; /* by DrDirection */
} DrStoreZoneCoverage;

void dr_store_zone_coverage_free (DrStoreZoneCoverage *coverage);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrStoreZoneCoverage, dr_store_zone_coverage_free)
/* In the configuration's zone order, "unassigned" last; element type
 * DrStoreZoneCoverage*, owned by the array. NotFound for no such session. */
GPtrArray *dr_store_session_coverage (DrStore *store, uint64_t session_id, GError **error);

/* The head a session was rolled with, as stored when it began (0 for
 * what the roller did not say). NotFound for no such session. */
gboolean dr_store_session_head (DrStore *store, uint64_t session_id, uint16_t *needle_length_um,
                                uint32_t *head_id, GError **error);

/* Which details a stored event has: only those Manager1.GetSessionEvents
 * documents for its kind. */
typedef enum
{
  DR_STORE_EVENT_ZONE = 1 << 0,
  DR_STORE_EVENT_FORCE_N = 1 << 1,
  DR_STORE_EVENT_LIMIT_N = 1 << 2,
  DR_STORE_EVENT_PEAK_N = 1 << 3,
  DR_STORE_EVENT_DURATION_MS = 1 << 4,
  DR_STORE_EVENT_LAST_TREATED_MS = 1 << 5,
  DR_STORE_EVENT_HEAD_ID = 1 << 6,
  DR_STORE_EVENT_WEAR = 1 << 7,
  DR_STORE_EVENT_FRAMES = 1 << 8,
  DR_STORE_EVENT_PERSON = 1 << 9, /* session-started: the session's person (0: nobody) */
} DrStoreEventDetails;

typedef struct
{
  int64_t time_ms;
  char *kind;                  /* dr_event_kind_name () */
  DrStoreEventDetails details; /* which of the fields below are set */
  char *zone;
  double force_n;
  double limit_n;
  double peak_n;
  int64_t duration_ms;
  int64_t last_treated_ms;
  uint32_t head_id;
  double wear;
  uint32_t frames;
  int64_t person_id;
} DrStoreEvent;

void dr_store_event_free (DrStoreEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrStoreEvent, dr_store_event_free)
/* The session's events by time; element type DrStoreEvent*, owned by the
 * array. NotFound for no such session. */
GPtrArray *dr_store_session_events (DrStore *store, uint64_t session_id, GError **error);

typedef struct
{
  int64_t time_ms;
  uint32_t ticks;
  uint16_t force_mn;
  uint8_t zone;
} DrStoreSample;

/* Every sample of the session's stored frames, decoded, in order; element
 * type DrStoreSample. NotFound for no such session. */
GArray *dr_store_session_samples (DrStore *store, uint64_t session_id, GError **error);
/* The same samples one at a time, in the same order, without holding them:
 * for a year-long export. @func returns FALSE to stop (this then returns
 * TRUE; the caller knows why it stopped). NotFound for no such session. */
typedef gboolean (*DrStoreSampleFunc) (const DrStoreSample *sample, gpointer user_data);
gboolean dr_store_session_foreach_sample (DrStore *store, uint64_t session_id,
                                          DrStoreSampleFunc func, gpointer user_data,
                                          GError **error);

/* Settings: the default person's excluded zones by name (as
 * dr_store_set_person_zone_excluded on dr_store_default_person ()). */
gboolean dr_store_set_zone_excluded (DrStore *store, const char *zone, gboolean excluded,
                                     GError **error);
/* Zone names marked excluded; NULL-terminated, free with g_strfreev. */
char **dr_store_excluded_zones (DrStore *store, GError **error);

/* The notification kinds the user switched on or off (Manager1.
 * SetNotificationEnabled), by kind key ("low-battery" → GINT_TO_POINTER
 * (enabled)); a kind never switched is absent, and the config file's
 * default holds for it. A new table each call. The store does not know the
 * kinds: any key is kept as given. */
GHashTable *dr_store_notification_choices (DrStore *store);
gboolean dr_store_set_notification_enabled (DrStore *store, const char *kind, gboolean enabled,
                                            GError **error);

/* Damage (store-damage.c). Any statement that meets SQLITE_CORRUPT or
 * SQLITE_NOTADB marks the store corrupt: nothing more may be written
 * into it, and closing it does not checkpoint into it. */
gboolean dr_store_is_corrupt (DrStore *store);
/* PRAGMA quick_check: FALSE, with what it found and the store marked
 * corrupt, when the file is damaged. Reads the whole file: run it on the
 * store's thread, never before the daemon is up. */
gboolean dr_store_quick_check (DrStore *store, GError **error);
/* Closes @store without writing into it, renames its file with -wal and
 * -shm to FILE.corrupt-YYYYMMDDTHHMMSS (never over an earlier one; the
 * file is never rewritten or deleted) and opens a fresh database at the
 * same path holding the rollers and open sessions the old one had
 * (same ids), so that writes go on. @store is freed in any case; NULL on
 * error, with *moved_to set to the new name otherwise. */
DrStore *dr_store_replace_damaged (DrStore *store, char **moved_to, GError **error);
/* dr_store_open (), deciding about a file SQLite finds damaged: one of
 * ours (our application id in the header, or our schema in the file) is
 * moved aside as by dr_store_replace_damaged () and a fresh database
 * opened (*moved_to and *damage set, logged); a text file or any other
 * file (another application's SQLite) is refused with an error naming it,
 * and never moved or touched. */
DrStore *dr_store_open_or_replace (const char *path, char **moved_to, char **damage,
                                   GError **error);

/* Salvage: reads a copy of the (damaged) database @path, which itself is
 * never opened or written, and calls @func for every raw frame that can
 * still be read, row by row in id order, skipping ids whose pages error;
 * @address is the roller's ("salvaged-roller-N" when its row is
 * unreadable), @head the head of its latest readable session (NULL: none).
 * *n_unreadable: ids skipped or rows without a raw frame. */
typedef gboolean (*DrStoreSalvageFunc) (const char *address, const char *name,
                                        const DrHeadInfo *head, const uint8_t *raw, size_t len,
                                        int64_t received_ms, gpointer user_data);
gboolean dr_store_salvage_frames (const char *path, DrStoreSalvageFunc func, gpointer user_data,
                                  uint64_t *n_unreadable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrStore, dr_store_free)

G_END_DECLS
