/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller.c: one roller's pipeline, from its BlueZ link to the store and the bus.
 *
 * The order of work per frame is the whole design: decode, drop what was
 * seen before, feed the engine (its events go to the store and out as
 * signals at once), queue the raw frame for the store, and remember which
 * store write it rode on so that the roller is acknowledged only once that
 * write is durable.
 */
#include "roller.h"

#include <math.h>

#include "bluez-link.h"
#include "dr-error.h"
#include "dr-quote.h"
#include "ack-ledger.h"
#include "engine.h"
#include "rest-status.h"
#include "roller-clock.h"
#include "store.h"

#define FORCE_MIN_INTERVAL_MS 100 /* Force: at most 10 updates a second */
/* Force off the skin (a roller switched on, not rolling): what it reads is
 * the sensor's noise, at most one update a second. The first frame of a
 * contact, and the first after it, still go out at Force's own pace. */
#define FORCE_IDLE_INTERVAL_MS 1000
#define COVERAGE_MIN_INTERVAL_MS 500 /* Coverage: at most 2 a second */
/* A session whose gap is over ends only once the roller's frames have
 * stopped coming for this long (see session_timer_cb). */
#define FRAMES_QUIET_MS 1000
/* How long a live frame may wait for its commit (and ACK): nothing but
 * the ACK waits for it, and the roller keeps it until then. A roller
 * switched on, not rolling, costs one commit a second instead of four; in
 * a session the totals' snapshot (every 500 ms, an ordinary write) and any
 * event still bring the commit forward to their 250 ms. */
#define LIVE_FRAME_COMMIT_MS 1000

/* After a failed frame write the roller is asked again after 1 s, doubling
 * while the store keeps failing, up to this. */
#define RETRY_SYNC_MAX_S 60

/* Shared with store jobs, which run on the worker thread: the worker fills
 * in the row id by the first job and every later job reads it there. An
 * atomic reference-counted box. */
typedef struct
{
  int64_t id;
  char *address;
  char *name;
} RollerRow;

static void apply_person (DrRoller *self);

/* The Roller1 interface the roller is. */
#define ROLLER1(self) DR_DBUS_ROLLER1 (self)

struct _DrRoller
{
  DrDBusRoller1Skeleton parent_instance;

  /* Collaborators, from construct properties. */
  DrStoreWorker *store;
  DrNotifier *notifier;
  const DrEngineConfig *config;
  DrHousehold *household;
  DrRollerStored stored; /* unacked_keys is only valid during construction */
  char *device_address;  /* until constructed () publishes it as Address */
  char *device_name;

  char *object_path;
  gboolean paired;

  RollerRow *row;
  /* The row is written with the roller's first write (a pairing, a
   * frame): a roller only seen, or named by a Pair that failed, leaves no
   * row behind. */
  gboolean row_queued;
  /* The last Forget found the roller unpaired: it goes from the bus. */
  gboolean forget_removes;
  DrBluezLink *link;
  DrEngine *engine;

  DrAckLedger *ledger;
  guint retry_sync_timer;
  guint retry_sync_delay_s;
  /* A commit that came while the link was still being set up (the history
   * replay is committed before START_STREAM is answered): its ACK goes out
   * once the link streams. */
  gboolean ack_owed;
  guint16 ack_owed_seq;
  gboolean write_failed; /* since the last commit report */
  guint64 last_serial;
  guint64 committed_serial; /* the store's last commit report */
  /* A seq gap in live frames is open in the ledger: the history replay
   * that fills it is asked for (again in 1 s if the roller cannot now). */
  gboolean gap_fetching;
  guint gap_retry_timer;
  gboolean gap_logged;    /* a GAP with its seqs, not an UNKNOWN one */
  gboolean tail_fetching; /* asking for frames the roller's Status says it still has */
  gboolean tail_armed;    /* a live frame came since that was last asked */

  guint64 session_id;
  gint64 person_id; /* whose sessions these are (Person) */
  DrHeadInfo head;  /* zeroed until Head Info was read */
  gboolean head_known;

  guint64 malformed;
  /* The store's ring of malformed frames, mirrored for MalformedDropped. */
  guint64 malformed_kept;
  guint64 dropped;
  guint malformed_logged;

  gint64 last_force_emit_us;
  gboolean force_emitted_contact; /* the last Force update was of a contact */
  guint force_timer;
  gint64 last_coverage_emit_us;
  guint coverage_timer;
  guint session_timer;
  gint64 last_link_frame_us; /* monotonic: when the link last brought a frame */
  DrRollerClock clock;       /* the roller's, from its frames and SET_TIME */

  /* Resuming the latest stored session: its frames are replayed through
   * the engine, quietly, before the first frame of this run, so frames the
   * roller kept (history, or a replay after a crash) join it instead of
   * starting another. */
  guint64 resume_session_id;
  int64_t resume_since_ms;
  gboolean warm_done;
  gboolean warming;           /* replaying stored frames: no signals, no writes */
  GPtrArray *held_frames;     /* GBytes that arrived while the replay ran */
  GPtrArray *held_live;       /* GBytes: live frames that came before the link's history,
                               * or after a seq gap before the replay that fills it */
  gboolean resumed_untouched; /* resumed session has had no new frame yet */

  GCancellable *cancellable;
};

enum
{
  PROP_0,
  PROP_DEVICE_ADDRESS,
  PROP_DEVICE_NAME,
  PROP_STORED,
  PROP_STORE,
  PROP_LINK,
  PROP_NOTIFIER,
  PROP_CONFIG,
  PROP_HOUSEHOLD,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  SIGNAL_ZONE_TREATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void dr_roller_roller1_iface_init (DrDBusRoller1Iface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DrRoller, dr_roller, DR_DBUS_TYPE_ROLLER1_SKELETON,
                               G_IMPLEMENT_INTERFACE (DR_DBUS_TYPE_ROLLER1,
                                                      dr_roller_roller1_iface_init))

static RollerRow *
roller_row_new (int64_t id, const char *address, const char *name)
{
  RollerRow *row = g_atomic_rc_box_new0 (RollerRow);

  row->id = id;
  row->address = g_strdup (address);
  row->name = g_strdup (name);
  return row;
}

static RollerRow *
roller_row_ref (RollerRow *row)
{
  return g_atomic_rc_box_acquire (row);
}

static void
roller_row_clear (gpointer data)
{
  RollerRow *row = data;

  g_free (row->address);
  g_free (row->name);
}

static void
roller_row_unref (RollerRow *row)
{
  g_atomic_rc_box_release_full (row, roller_row_clear);
}

static const char *
roller_address (DrRoller *self)
{
  return dr_dbus_roller1_get_address (ROLLER1 (self));
}

static const char *
zone_name (DrRoller *self, int zone)
{
  const char *name = dr_engine_config_zone_name (self->config, zone);
  return name ? name : "unassigned";
}

/* ---- store jobs (worker thread) ---------------------------------------- */

static gboolean
job_ensure_roller (DrStore *store, gpointer data, GError **error)
{
  RollerRow *row = data;
  if (row->id != 0)
    return TRUE;
  return dr_store_ensure_roller (store, row->address, row->name, &row->id, error);
}

typedef struct
{
  RollerRow *row;
  int64_t received_ms;
  DrCodecStatus status;
  gsize len;
  guint8 raw[];
} FrameJob;

static void
frame_job_free (gpointer data)
{
  FrameJob *job = data;
  roller_row_unref (job->row);
  g_free (job);
}

static gboolean
job_add_frame (DrStore *store, gpointer data, GError **error)
{
  FrameJob *job = data;
  gboolean inserted;
  return dr_store_add_frame (store, job->row->id, job->received_ms, job->raw, job->len, job->status,
                             &inserted, error);
}

typedef struct
{
  RollerRow *row;
  DrFrameKey key;
} AckJob;

static void
ack_job_free (gpointer data)
{
  AckJob *job = data;
  roller_row_unref (job->row);
  g_free (job);
}

static gboolean
job_mark_acked (DrStore *store, gpointer data, GError **error)
{
  AckJob *job = data;
  return dr_store_mark_acked (store, job->row->id, &job->key, error);
}

typedef struct
{
  RollerRow *row;
  guint64 session_id;
  int64_t start_ms;
  int64_t end_ms;
  DrEvent event;
  const DrEngineConfig *config;
  DrEngine *snapshot;
  DrHeadInfo head;
  double head_revolutions;
  guint64 dropped;
  gboolean paired;
} SessionJob;

static void
session_job_free (gpointer data)
{
  SessionJob *job = data;
  roller_row_unref (job->row);
  g_clear_pointer (&job->snapshot, dr_engine_free);
  g_free (job);
}

static SessionJob *
session_job_new (DrRoller *self)
{
  SessionJob *job = g_new0 (SessionJob, 1);
  job->row = roller_row_ref (self->row);
  job->session_id = self->session_id;
  job->config = self->config;
  return job;
}

static gboolean
job_session_begin (DrStore *store, gpointer data, GError **error)
{
  SessionJob *job = data;
  return dr_store_session_begin (store, job->session_id, job->row->id, job->start_ms,
                                 job->head.needle_length_um, job->head.head_id, error);
}

static gboolean
job_session_update (DrStore *store, gpointer data, GError **error)
{
  SessionJob *job = data;
  return dr_store_session_update (store, job->session_id, job->end_ms,
                                  dr_engine_mean_coverage (job->snapshot), job->config,
                                  job->snapshot, error);
}

static gboolean
job_add_event (DrStore *store, gpointer data, GError **error)
{
  SessionJob *job = data;
  return dr_store_add_event (store, job->session_id, job->row->id, job->config, &job->event, error);
}

static gboolean
job_set_head (DrStore *store, gpointer data, GError **error)
{
  SessionJob *job = data;
  /* One write: the head's count has the session's revolutions exactly when
   * the session says so. */
  return dr_store_set_head (store, &job->head, job->head_revolutions, error)
         && (job->session_id == 0 || dr_store_mark_head_counted (store, job->session_id, error));
}

static gboolean
job_add_dropped (DrStore *store, gpointer data, GError **error)
{
  SessionJob *job = data;
  return dr_store_add_dropped (store, job->row->id, job->dropped, error);
}

static gboolean
job_set_paired (DrStore *store, gpointer data, GError **error)
{
  SessionJob *job = data;
  return dr_store_set_roller_paired (store, job->row->id, job->paired, error);
}

static gboolean
job_delete_row (DrStore *store, gpointer data, GError **error)
{
  RollerRow *row = data;
  gboolean deleted = FALSE;

  if (row->id == 0)
    return TRUE;
  if (!dr_store_delete_roller_if_unused (store, row->id, &deleted, error))
    return FALSE;
  g_info ("%s: forgotten; its row %s", row->address,
          deleted ? "deleted (nothing was stored under it)" : "kept for its stored history");
  if (deleted)
    row->id = 0;
  return TRUE;
}

/* The roller has a row, or one is on its way to the store. */
static gboolean
roller_has_row (DrRoller *self)
{
  return self->row_queued || self->stored.roller_id != 0;
}

/* The worker runs writes in order: the row is there before the first
 * write that needs its id. */
static void
ensure_row (DrRoller *self)
{
  if (roller_has_row (self))
    return;
  self->row_queued = TRUE;
  dr_store_worker_write (self->store, job_ensure_roller, roller_row_ref (self->row),
                         (GDestroyNotify) roller_row_unref);
}

static void
roller_write (DrRoller *self, DrStoreWriteFunc func, gpointer job, GDestroyNotify destroy)
{
  ensure_row (self);
  self->last_serial = dr_store_worker_write (self->store, func, job, destroy);
}

/* ---- published state --------------------------------------------------- */

static GVariant *
coverage_variant (DrRoller *self)
{
  const DrEngineConfig *config = self->config;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sd}"));
  for (unsigned z = 0; z < config->n_zones; z++)
    {
      if (config->zones[z].name[0] == '\0')
        continue;
      g_variant_builder_add (&builder, "{sd}", config->zones[z].name,
                             dr_engine_zone_totals (self->engine, (int) z)->coverage);
    }
  return g_variant_builder_end (&builder);
}

static GVariant *
passes_by_direction_variant (DrRoller *self)
{
  const DrEngineConfig *config = self->config;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{s(dddd)}"));
  for (unsigned z = 0; z < config->n_zones; z++)
    {
      const double *p;

      if (config->zones[z].name[0] == '\0')
        continue;
      p = dr_engine_zone_totals (self->engine, (int) z)->passes_by_direction;
      g_variant_builder_add (&builder, "{s(dddd)}", config->zones[z].name,
                             p[DR_DIRECTION_HORIZONTAL], p[DR_DIRECTION_VERTICAL],
                             p[DR_DIRECTION_DIAGONAL], p[DR_DIRECTION_UNKNOWN]);
    }
  return g_variant_builder_end (&builder);
}

/* Coverage and PassesByDirection always change together. */
static void
set_coverage (DrRoller *self)
{
  dr_dbus_roller1_set_coverage (ROLLER1 (self), coverage_variant (self));
  dr_dbus_roller1_set_passes_by_direction (ROLLER1 (self), passes_by_direction_variant (self));
}

static void
publish_force (DrRoller *self)
{
  int zone = dr_engine_last_zone (self->engine);
  self->last_force_emit_us = g_get_monotonic_time ();
  self->force_emitted_contact = dr_engine_in_contact (self->engine);
  dr_dbus_roller1_set_force (ROLLER1 (self), dr_engine_last_force_n (self->engine));
  dr_dbus_roller1_set_force_limit (ROLLER1 (self), dr_engine_force_limit_n (self->engine, zone));
  /* At Force's pace: a zone per sample would be a signal per sample. */
  {
    const char *rolled
        = dr_engine_config_zone_name (self->config, dr_engine_contact_zone (self->engine));
    dr_dbus_roller1_set_current_zone (ROLLER1 (self), rolled ? rolled : "");
  }
}

static void
store_session_snapshot (DrRoller *self, int64_t end_ms)
{
  SessionJob *job;

  if (self->session_id == 0)
    return;
  job = session_job_new (self);
  job->end_ms = end_ms;
  job->snapshot = dr_engine_copy (self->engine);
  roller_write (self, job_session_update, job, session_job_free);
}

static void
publish_coverage (DrRoller *self)
{
  self->last_coverage_emit_us = g_get_monotonic_time ();
  set_coverage (self);
  dr_dbus_roller1_set_head_wear (ROLLER1 (self), dr_engine_head_wear (self->engine));
  /* Totals of an open session go to the store at the same pace, so a crash
   * loses at most half a second of them (the raw frames lose nothing). */
  store_session_snapshot (self, 0);
}

static gboolean
force_timer_cb (gpointer user_data)
{
  DrRoller *self = user_data;
  self->force_timer = 0;
  publish_force (self);
  return G_SOURCE_REMOVE;
}

static gboolean
coverage_timer_cb (gpointer user_data)
{
  DrRoller *self = user_data;
  self->coverage_timer = 0;
  publish_coverage (self);
  return G_SOURCE_REMOVE;
}

/* Publishes at once when the last update is old enough, else arms one
 * one-shot timer; nothing runs when no frames come. The timer is for the
 * value a stream ends on: it fires TRAIL_MS after the update is due, so
 * that while frames come (20 a second at 100 Hz) the first one after the
 * due time publishes, on the wake-up that brought it, and the timer goes
 * unfired. A timer at the due time itself fired on a wake-up of its own
 * for nearly every update, each a context switch beside the frames'. */
#define TRAIL_MS 60

static void
throttle (DrRoller *self, gint64 *last_us, guint *timer, guint interval_ms, GSourceFunc func)
{
  gint64 now = g_get_monotonic_time ();
  gint64 due = *last_us + (gint64) interval_ms * 1000;

  if (now >= due)
    {
      g_clear_handle_id (timer, g_source_remove);
      func (self);
    }
  else if (*timer == 0)
    *timer = g_timeout_add ((guint) ((due - now) / 1000) + TRAIL_MS, func, self);
}

/* ---- engine events ----------------------------------------------------- */

static void
on_session_started (DrRoller *self, const DrEvent *event)
{
  SessionJob *job;

  self->session_id = dr_household_next_session_id (self->household);
  job = session_job_new (self);
  job->start_ms = event->time_ms;
  job->head = self->head;
  roller_write (self, job_session_begin, job, session_job_free);

  dr_dbus_roller1_set_active_session (ROLLER1 (self), self->session_id);
  dr_dbus_roller1_emit_session_started (ROLLER1 (self), self->session_id);
  g_info ("%s: session %" G_GUINT64_FORMAT " started", roller_address (self), self->session_id);
}

/* The head's revolutions, this session's included, go to the store. */
static void
store_head (DrRoller *self)
{
  SessionJob *job;

  if (!self->head_known)
    return;
  job = session_job_new (self);
  job->head = self->head;
  job->head_revolutions = dr_engine_head_revolutions (self->engine);
  roller_write (self, job_set_head, job, session_job_free);
}

/* a(sx): for each zone this session treated, when it may be treated again,
 * over the skin's treatments with this session's own among them (they are
 * added again here, whether or not the household has them yet: a repeat
 * changes nothing in rest-status's answer). */
static GVariant *
again_variant (DrRoller *self, gint64 ended_ms, guint16 needle_length_um)
{
  const DrEngineConfig *config = self->config;
  g_autoptr (GArray) treatments = g_array_new (FALSE, FALSE, sizeof (DrTreatment));
  DrRestStatus status[DR_MAX_ZONES];
  GVariantBuilder builder;
  const DrTreatment *known;
  gsize n_known;

  known = dr_household_get_treatments (self->household, self->person_id, &n_known);
  g_array_append_vals (treatments, known, (guint) n_known);
  for (unsigned z = 0; z < config->n_zones; z++)
    if (dr_engine_zone_totals (self->engine, (int) z)->revolutions > 0)
      {
        DrTreatment t = { (int) z, ended_ms, needle_length_um };
        g_array_append_val (treatments, t);
      }
  dr_rest_status_compute (config, (const DrTreatment *) treatments->data, treatments->len, ended_ms,
                          status);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sx)"));
  for (unsigned z = 0; z < config->n_zones; z++)
    if (dr_engine_zone_totals (self->engine, (int) z)->revolutions > 0)
      g_variant_builder_add (&builder, "(sx)", config->zones[z].name,
                             (gint64) status[z].free_from_ms);
  return g_variant_builder_end (&builder);
}

static void
on_session_ended (DrRoller *self, const DrEvent *event)
{
  const DrEngineConfig *config = self->config;
  guint64 id = self->session_id;
  g_autoptr (GVariant) again = NULL;
  guint16 needle_length_um;

  if (id == 0)
    return;
  store_session_snapshot (self, event->time_ms);
  store_head (self);
  /* A session end is a durable point: the summary must survive a power cut. */
  dr_store_worker_flush (self->store);

  needle_length_um = self->head_known ? self->head.needle_length_um : 0;
  again = g_variant_ref_sink (again_variant (self, event->time_ms, needle_length_um));
  for (unsigned z = 0; z < config->n_zones; z++)
    if (dr_engine_zone_totals (self->engine, (int) z)->revolutions > 0)
      g_signal_emit (self, signals[SIGNAL_ZONE_TREATED], 0, self->person_id, (int) z,
                     (gint64) event->time_ms, (guint) needle_length_um);

  self->session_id = 0;
  dr_dbus_roller1_set_active_session (ROLLER1 (self), 0);
  set_coverage (self);
  {
    g_autoptr (GVariant) coverage = g_variant_ref_sink (coverage_variant (self));
    g_autoptr (GPtrArray) excluded = g_ptr_array_new ();
    for (unsigned z = 0; z < config->n_zones; z++)
      if (dr_household_is_zone_excluded (self->household, self->person_id, (int) z))
        g_ptr_array_add (excluded, (gpointer) config->zones[z].name);
    g_ptr_array_add (excluded, NULL);
    dr_dbus_roller1_emit_session_ended (ROLLER1 (self), id, coverage);
    g_autoptr (GVariant) directions = g_variant_ref_sink (passes_by_direction_variant (self));

    dr_notifier_session_ended (self->notifier, roller_address (self), id,
                               dr_household_get_person_name (self->household, self->person_id),
                               coverage, directions, (const char *const *) excluded->pdata,
                               needle_length_um, event->time_ms, again);
  }
  g_info ("%s: session %" G_GUINT64_FORMAT " ended, mean coverage %.0f %%", roller_address (self),
          id, dr_engine_mean_coverage (self->engine) * 100.0);
}

static void
notify_zone_warning (DrRoller *self, const DrEvent *event)
{
  DrNotifier *notifier = self->notifier;
  g_autofree char *detail = NULL;

  switch (event->kind)
    {
      case DR_EVENT_EXCLUDED_ZONE:
        dr_notifier_zone_warning (notifier, roller_address (self), self->session_id,
                                  DR_NOTIFY_EXCLUDED_ZONE, zone_name (self, event->zone), NULL);
        break;
      case DR_EVENT_OVER_TREATED:
        dr_notifier_zone_warning (notifier, roller_address (self), self->session_id,
                                  DR_NOTIFY_OVER_TREATED, zone_name (self, event->zone), NULL);
        break;
      case DR_EVENT_TOO_SOON:
        {
          /* The window is the earlier treatment's: its needle, not ours. */
          double rest = (double) dr_engine_rest_window_ms (self->engine, event->last_needle_um)
                        / 86400000.0;
          double ago
              = (double) dr_engine_rest_ms (event->time_ms, event->last_treated_ms) / 86400000.0;
          if (event->last_needle_um != 0)
            detail = g_strdup_printf ("treated %.1f days ago with %.2f mm needles; wait %.0f days",
                                      ago, event->last_needle_um / 1000.0, rest);
          else
            detail = g_strdup_printf ("treated %.1f days ago; wait %.0f days", ago, rest);
          dr_notifier_zone_warning (notifier, roller_address (self), self->session_id,
                                    DR_NOTIFY_TOO_SOON, zone_name (self, event->zone), detail);
        }
        break;
      default:
        break;
    }
}

static void
on_engine_event (const DrEvent *event, void *user_data)
{
  DrRoller *self = user_data;
  DrNotifier *notifier = self->notifier;
  SessionJob *job;

  if (self->warming)
    {
      /* Everything in the replay was stored and signalled in its time. */
      if (event->kind == DR_EVENT_SESSION_STARTED)
        self->session_id = self->resume_session_id;
      else if (event->kind == DR_EVENT_SESSION_ENDED)
        self->session_id = 0;
      return;
    }
  if (event->kind == DR_EVENT_SESSION_ENDED && self->resumed_untouched)
    {
      /* A resumed session that got nothing new ends as it was stored:
       * refresh its totals, but it was announced in its time already. */
      self->resumed_untouched = FALSE;
      store_session_snapshot (self, event->time_ms);
      /* Resumed after a crash, its revolutions are not in the head's
       * stored count yet. */
      store_head (self);
      dr_store_worker_flush (self->store);
      self->session_id = 0;
      dr_dbus_roller1_set_active_session (ROLLER1 (self), 0);
      return;
    }

  switch (event->kind)
    {
      case DR_EVENT_SESSION_STARTED:
        on_session_started (self, event);
        break;
      case DR_EVENT_PRESSURE_STARTED:
        g_info ("%s: over-pressure in %s: %.2f N, limit %.2f N", roller_address (self),
                zone_name (self, event->zone), event->force_n, event->limit_n);
        dr_dbus_roller1_emit_pressure_warning (ROLLER1 (self), self->session_id,
                                               zone_name (self, event->zone), event->force_n,
                                               event->limit_n);
        dr_notifier_pressure_started (notifier, roller_address (self), self->session_id,
                                      zone_name (self, event->zone), event->force_n,
                                      event->limit_n);
        break;
      case DR_EVENT_PRESSURE_ENDED:
        dr_dbus_roller1_emit_pressure_cleared (ROLLER1 (self), self->session_id,
                                               zone_name (self, event->zone), event->peak_n,
                                               (guint64) MAX (event->duration_ms, 0));
        dr_notifier_pressure_ended (notifier, roller_address (self), self->session_id,
                                    zone_name (self, event->zone), event->peak_n, event->limit_n,
                                    event->duration_ms);
        break;
      case DR_EVENT_EXCLUDED_ZONE:
      case DR_EVENT_OVER_TREATED:
      case DR_EVENT_TOO_SOON:
        dr_dbus_roller1_emit_zone_warning (ROLLER1 (self), self->session_id,
                                           zone_name (self, event->zone),
                                           dr_event_kind_name (event->kind));
        notify_zone_warning (self, event);
        break;
      case DR_EVENT_HEAD_WORN:
        dr_dbus_roller1_set_head_wear (ROLLER1 (self), event->wear);
        dr_dbus_roller1_emit_head_worn (ROLLER1 (self), event->head_id, event->wear);
        dr_notifier_head_worn (notifier, roller_address (self), event->head_id,
                               dr_engine_head_revolutions (self->engine), event->wear);
        break;
      case DR_EVENT_SEQ_GAP:
        self->dropped += event->count;
        dr_dbus_roller1_set_dropped_frames (ROLLER1 (self), self->dropped);
        job = session_job_new (self);
        job->dropped = event->count;
        roller_write (self, job_add_dropped, job, session_job_free);
        break;
      case DR_EVENT_SESSION_ENDED:
      case DR_EVENT_COUNTER_RESET:
      case DR_N_EVENT_KINDS:
        break;
    }

  /* Every event is stored, with the session it belongs to (0: none). */
  job = session_job_new (self);
  job->event = *event;
  roller_write (self, job_add_event, job, session_job_free);

  if (event->kind == DR_EVENT_SESSION_ENDED)
    on_session_ended (self, event);
}

/* ---- sessions without contact end on a one-shot timer ------------------- */

/* The engine's clock is the roller's: its last frame, or the SET_TIME it
 * took, run on by the monotonic clock. Never the wall clock: a wall clock
 * put forward by hours must not end a session that is still rolling. */
static int64_t
engine_now (DrRoller *self)
{
  int64_t now;

  /* A session needs a frame or StartSession, and either sets the clock. */
  if (!dr_roller_clock_now (&self->clock, g_get_monotonic_time (), &now))
    return INT64_MIN;
  return now;
}

static gboolean session_timer_cb (gpointer user_data);

static void
arm_session_timer (DrRoller *self)
{
  int64_t deadline = dr_engine_session_deadline_ms (self->engine);
  int64_t left;

  if (self->session_timer != 0 || deadline == INT64_MAX)
    return;
  left = deadline - MAX (engine_now (self), deadline - G_MAXINT32);
  self->session_timer = g_timeout_add ((guint) CLAMP (left, 1, G_MAXINT32), session_timer_cb, self);
}

static gboolean
session_timer_cb (gpointer user_data)
{
  DrRoller *self = user_data;
  gint64 quiet_ms = (g_get_monotonic_time () - self->last_link_frame_us) / 1000;

  self->session_timer = 0;
  /* While the link is being set up the roller may still send frames it
   * kept, which belong to this session: end nothing before they are in.
   * Live frames held back for a replay being fetched continue it too. */
  if (self->warming || dr_bluez_link_get_state (self->link) == DR_LINK_CONNECTING
      || self->held_live != NULL)
    {
      self->session_timer = g_timeout_add_seconds (1, session_timer_cb, self);
      return G_SOURCE_REMOVE;
    }
  /* The roller sends its frames in the order it made them, so while they
   * are still coming (its history, or frames made long ago) the next one
   * may be from before the deadline and continue the session: a deadline
   * already past when a frame came would otherwise end the session
   * between two frames of one stroke, and the next frame start another. */
  if (self->last_link_frame_us != 0 && quiet_ms < FRAMES_QUIET_MS)
    {
      self->session_timer
          = g_timeout_add ((guint) (FRAMES_QUIET_MS - MAX (quiet_ms, 0)), session_timer_cb, self);
      return G_SOURCE_REMOVE;
    }
  dr_engine_advance (self->engine, engine_now (self));
  arm_session_timer (self);
  return G_SOURCE_REMOVE;
}

/* ---- frames ------------------------------------------------------------ */

/* The roller's time of the frame's last sample. */
static int64_t
frame_end_ms (const DrFrame *frame)
{
  /* Any t0 the air carries: summed unsigned by the codec, then converted
   * (an int64_t sum overflowed for a t0 just below INT64_MAX). */
  return (int64_t) dr_frame_end_ms (frame);
}

static void
queue_frame_write (DrRoller *self, const guint8 *data, gsize len, DrCodecStatus status,
                   gboolean may_wait)
{
  FrameJob *job = g_malloc (sizeof (FrameJob) + len);

  job->row = roller_row_ref (self->row);
  /* The wall clock as a label only (when it reached us): nothing is
   * reckoned from it. */
  job->received_ms = g_get_real_time () / 1000;
  job->status = status;
  job->len = len;
  memcpy (job->raw, data, len);
  ensure_row (self);
  /* A well-formed frame is one INSERT: no savepoint. A malformed one also
   * counts and trims its ring, three statements that must fail together. */
  if (status == DR_CODEC_OK && may_wait)
    self->last_serial = dr_store_worker_write_statement_within (
        self->store, job_add_frame, job, frame_job_free, LIVE_FRAME_COMMIT_MS);
  else if (status == DR_CODEC_OK)
    self->last_serial
        = dr_store_worker_write_statement (self->store, job_add_frame, job, frame_job_free);
  else
    self->last_serial = dr_store_worker_write (self->store, job_add_frame, job, frame_job_free);
}

static void
process_frame (DrRoller *self, const guint8 *data, gsize len)
{
  DrFrame frame;
  DrCodecStatus status = dr_frame_decode (data, len, &frame);
  DrFrameKey key;

  if (status != DR_CODEC_OK)
    {
      /* Kept and counted, never fed on; logged sparingly, as a broken
       * roller could send thousands. */
      self->malformed++;
      if (self->malformed_logged < 10 || self->malformed % 1000 == 0)
        {
          g_warning ("%s: malformed frame #%" G_GUINT64_FORMAT " (%zu bytes): %s",
                     roller_address (self), self->malformed, len, dr_codec_status_name (status));
          self->malformed_logged++;
        }
      queue_frame_write (self, data, len, status, FALSE);
      if (self->malformed_kept < DR_STORE_MALFORMED_KEEP)
        self->malformed_kept++;
      else
        dr_dbus_roller1_set_malformed_dropped (
            ROLLER1 (self), dr_dbus_roller1_get_malformed_dropped (ROLLER1 (self)) + 1);
      dr_dbus_roller1_set_malformed_frames (ROLLER1 (self), self->malformed);
      return;
    }

  key.t0_ms = frame.t0_ms;
  key.seq = frame.seq;
  switch (dr_ack_ledger_classify (self->ledger, &key))
    {
      case DR_LEDGER_RESTORE:
        /* Counted when it first came; its write failed. */
        queue_frame_write (self, data, len, DR_CODEC_OK, FALSE);
        dr_ack_ledger_record (self->ledger, &key, self->last_serial);
        return;
      case DR_LEDGER_DUPLICATE:
        /* Sent again because our ACK did not reach the roller: it is stored
         * already (or on its way), so only the ACK is owed. */
        dr_ack_ledger_record (self->ledger, &key, self->last_serial);
        return;
      case DR_LEDGER_NEW:
        break;
    }

  self->resumed_untouched = FALSE;
  dr_engine_feed (self->engine, &frame);
  /* A live frame: nothing but the ACK waits for it. A replayed one may
   * hold back a link's setup (the ACK after REQUEST_HISTORY). */
  queue_frame_write (self, data, len, DR_CODEC_OK, (frame.flags & DR_FRAME_FLAG_HISTORY) == 0);
  dr_ack_ledger_record (self->ledger, &key, self->last_serial);

  dr_roller_clock_frame (&self->clock, frame_end_ms (&frame),
                         (frame.flags & DR_FRAME_FLAG_CLOCK_UNSYNCED) == 0, g_get_monotonic_time (),
                         TRUE);

  throttle (self, &self->last_force_emit_us, &self->force_timer,
            dr_engine_in_contact (self->engine) || self->force_emitted_contact
                ? FORCE_MIN_INTERVAL_MS
                : FORCE_IDLE_INTERVAL_MS,
            force_timer_cb);
  if (self->session_id != 0)
    throttle (self, &self->last_coverage_emit_us, &self->coverage_timer, COVERAGE_MIN_INTERVAL_MS,
              coverage_timer_cb);
  arm_session_timer (self);
}

/* ---- resuming the latest stored session ----------------------------- */

typedef struct
{
  int64_t roller_id;
  guint64 session_id;
  int64_t since_ms;
  gint64 person_id;
  const DrEngineConfig *config;
} WarmUpArgs;

typedef struct
{
  GPtrArray *frames;     /* GBytes, in the order the roller produced them */
  GBytes *baseline;      /* the frame made before them, or NULL */
  GArray *treatments;    /* DrTreatment: the rest rule's history before the session */
  gboolean head_counted; /* the session's revolutions are in the head's stored count */
} WarmUp;

static void
warm_up_free (WarmUp *w)
{
  g_clear_pointer (&w->frames, g_ptr_array_unref);
  g_clear_pointer (&w->baseline, g_bytes_unref);
  g_clear_pointer (&w->treatments, g_array_unref);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WarmUp, warm_up_free)

static gboolean
collect_frame (const uint8_t *raw, size_t len, int64_t received_ms, gpointer user_data)
{
  GPtrArray *frames = user_data;
  g_ptr_array_add (frames, g_bytes_new (raw, len));
  return TRUE;
}

static gpointer
query_warm_up (DrStore *store, gpointer data, GError **error)
{
  WarmUpArgs *args = data;
  g_autoptr (WarmUp) w = g_new0 (WarmUp, 1);

  w->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  /* In the order the engine took them in, not by t0: a roller's clock can
   * be set back, and frames sorted by time count the distance again. */
  if (!dr_store_foreach_frame_produced (store, args->roller_id, args->since_ms, &w->baseline,
                                        collect_frame, w->frames, error))
    return NULL;
  if (!dr_store_get_head_counted (store, args->session_id, &w->head_counted, error))
    return NULL;
  /* The rest rule must see what came before the session, not the session. */
  w->treatments = dr_store_person_treatments_before (store, args->config, args->person_id,
                                                     args->since_ms, error);
  if (w->treatments == NULL)
    return NULL;
  return g_steal_pointer (&w);
}

static void
warm_up_replay (DrRoller *self, WarmUp *w)
{
  double head_revolutions = dr_engine_head_revolutions (self->engine);

  dr_engine_set_treatments (self->engine, (const DrTreatment *) w->treatments->data,
                            w->treatments->len);

  self->warming = TRUE;
  if (w->baseline != NULL)
    {
      /* Where the counters stood before the session, as when it was live:
       * its last sample alone, without contact. */
      gsize len;
      const guint8 *raw = g_bytes_get_data (w->baseline, &len);
      DrFrame frame;

      if (dr_frame_decode (raw, len, &frame) == DR_CODEC_OK)
        {
          DrSample last = frame.samples[frame.n_samples - 1];

          for (unsigned k = 1; k < frame.n_samples; k++)
            frame.t0_ms += frame.samples[k].dt_ms;
          last.dt_ms = 0;
          last.force_mn = 0;
          frame.samples[0] = last;
          frame.n_samples = 1;
          dr_engine_feed (self->engine, &frame);
        }
    }
  for (guint i = 0; i < w->frames->len; i++)
    {
      gsize len;
      const guint8 *raw = g_bytes_get_data (g_ptr_array_index (w->frames, i), &len);
      DrFrame frame;

      if (dr_frame_decode (raw, len, &frame) != DR_CODEC_OK)
        continue;
      dr_engine_feed (self->engine, &frame);
      dr_roller_clock_frame (&self->clock, frame_end_ms (&frame),
                             (frame.flags & DR_FRAME_FLAG_CLOCK_UNSYNCED) == 0,
                             g_get_monotonic_time (), TRUE);
    }
  self->warming = FALSE;
  /* The warm-up runs while the link is set up: its SET_TIME, after the
   * history, tells the clock (and may end the resumed session at once). */
  dr_bluez_link_set_clock_floor (self->link, self->clock.floor_ms);

  /* A session that ended has its revolutions in the head's stored count
   * already; one a crash left open does not, and keeps what the replay
   * added. */
  if (self->head_known && w->head_counted)
    dr_engine_set_head (self->engine, &self->head, head_revolutions);
  dr_dbus_roller1_set_head_wear (ROLLER1 (self), dr_engine_head_wear (self->engine));

  if (dr_engine_session_active (self->engine))
    {
      self->resumed_untouched = TRUE;
      dr_dbus_roller1_set_active_session (ROLLER1 (self), self->session_id);
      set_coverage (self);
      g_info ("%s: resumed session %" G_GUINT64_FORMAT " from %u stored frames",
              roller_address (self), self->session_id, w->frames->len);
    }
}

static void
warm_up_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (DrRoller) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (WarmUp) w = NULL;
  g_autoptr (GPtrArray) held = NULL;

  w = dr_store_worker_query_finish (DR_STORE_WORKER (source), result, &error);
  /* The worker delivers a result even after a cancel: a roller shut down
   * meanwhile takes nothing more in. */
  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  if (w == NULL)
    g_warning ("%s: cannot resume session %" G_GUINT64_FORMAT ": %s", roller_address (self),
               self->resume_session_id, error->message);
  else
    warm_up_replay (self, w);

  self->warm_done = TRUE;
  held = g_steal_pointer (&self->held_frames);
  for (guint i = 0; held && i < held->len; i++)
    {
      gsize len;
      const guint8 *raw = g_bytes_get_data (g_ptr_array_index (held, i), &len);
      process_frame (self, raw, len);
    }
  arm_session_timer (self);
}

static void
start_warm_up (DrRoller *self)
{
  WarmUpArgs *args;

  if (self->warm_done || self->held_frames != NULL)
    return; /* done, or under way */
  if (self->resume_session_id == 0 || self->row->id == 0)
    {
      self->warm_done = TRUE;
      return;
    }
  self->held_frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  args = g_new0 (WarmUpArgs, 1);
  args->roller_id = self->row->id;
  args->session_id = self->resume_session_id;
  args->since_ms = self->resume_since_ms;
  args->person_id = self->person_id;
  args->config = self->config;
  dr_store_worker_query (self->store, query_warm_up, args, g_free, self->cancellable, warm_up_done,
                         g_object_ref (self));
}

static void take_frame (DrRoller *self, const guint8 *data, gsize len);
static void fetch_gap (DrRoller *self);

static void
hold_live (DrRoller *self, const guint8 *data, gsize len)
{
  if (self->held_live == NULL)
    self->held_live = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (self->held_live, g_bytes_new (data, len));
}

static gboolean
is_live (const guint8 *data, gsize len)
{
  return len >= 2 && (data[1] & DR_FRAME_FLAG_HISTORY) == 0;
}

/* Every frame passes here in the order the engine is to take it in. A
 * live frame that skips seqs waits, with every live frame after it, for
 * the roller's history: the skipped ones were lost on the air, the roller
 * still has them, and an ACK past them would erase them. */
static void
pass_frame (DrRoller *self, const guint8 *data, gsize len)
{
  gboolean live = is_live (data, len);
  guint16 first, last;
  DrFrame frame;
  DrSeqCheck check = DR_SEQ_TAKE;

  if (live && dr_ack_ledger_gap_open (self->ledger))
    {
      hold_live (self, data, len);
      return;
    }
  if (dr_frame_decode (data, len, &frame) == DR_CODEC_OK)
    {
      DrFrameKey key = { .t0_ms = frame.t0_ms, .seq = frame.seq };
      check = dr_ack_ledger_check_seq (self->ledger, &key, live, &first, &last);
    }
  if (check == DR_SEQ_GAP)
    g_message ("%s: frames seq %u-%u (%u) did not arrive; asking the roller for them again "
               "before acknowledging past them",
               roller_address (self), first, last, (guint16) (last - first) + 1u);
  else if (check == DR_SEQ_UNKNOWN)
    g_debug ("%s: live frame seq %u follows nothing taken in: asking the roller for what it "
             "holds before it",
             roller_address (self), frame.seq);
  if (check != DR_SEQ_TAKE)
    {
      self->gap_logged = check == DR_SEQ_GAP;
      hold_live (self, data, len);
      fetch_gap (self);
      return;
    }
  if (live)
    self->tail_armed = TRUE;
  take_frame (self, data, len);
}

static void
on_link_frame (DrBluezLink *link, const guint8 *data, guint len, gpointer user_data)
{
  DrRoller *self = user_data;
  DrFrame frame;
  gboolean well_formed = dr_frame_decode (data, len, &frame) == DR_CODEC_OK;

  /* Only a frame that can continue a session holds its end off: a flood
   * of malformed ones must not keep it open. */
  if (well_formed)
    self->last_link_frame_us = g_get_monotonic_time ();
  /* Every frame the roller made is a floor for its clock, also one held
   * back here or while the warm-up runs: the SET_TIME after the history
   * must not put the roller's clock behind it. */
  if (well_formed && (frame.flags & DR_FRAME_FLAG_CLOCK_UNSYNCED) == 0)
    {
      dr_roller_clock_frame (&self->clock, frame_end_ms (&frame), TRUE, 0, FALSE);
      dr_bluez_link_set_clock_floor (link, self->clock.floor_ms);
    }

  /* A roller whose link outlived us (we were killed, bluetoothd kept the
   * link) may still be streaming: its live frames can come before the
   * history the link asks for first. They wait until that is in, so that
   * the engine takes every frame in the order the roller made them. */
  if (is_live (data, len) && dr_bluez_link_get_state (link) != DR_LINK_STREAMING)
    {
      hold_live (self, data, len);
      return;
    }
  pass_frame (self, data, len);
}

static void
take_frame (DrRoller *self, const guint8 *data, gsize len)
{
  start_warm_up (self);
  if (!self->warm_done)
    {
      g_ptr_array_add (self->held_frames, g_bytes_new (data, len));
      return;
    }
  process_frame (self, data, len);
}

static void
retry_sync_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (!dr_bluez_link_sync_history_finish (DR_BLUEZ_LINK (source), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("history sync after a failed write: %s", error->message);
}

static gboolean
retry_sync_cb (gpointer user_data)
{
  DrRoller *self = user_data;

  self->retry_sync_timer = 0;
  if (dr_ack_ledger_n_missing (self->ledger) == 0)
    return G_SOURCE_REMOVE;
  if (dr_bluez_link_get_state (self->link) == DR_LINK_STREAMING)
    {
      g_info ("%s: asking the roller again for %u frames the store could not write",
              roller_address (self), dr_ack_ledger_n_missing (self->ledger));
      dr_bluez_link_sync_history (self->link, self->cancellable, retry_sync_done, NULL);
    }
  /* Not streaming: the reconnect asks for history anyway. */
  return G_SOURCE_REMOVE;
}

/* After a failed write: ask again in 1 s, doubling while it keeps failing;
 * in 1 s again once the store writes again (@recovered), not after the
 * long wait a full disk built up. */
static void
schedule_retry_sync (DrRoller *self, gboolean recovered)
{
  if (recovered && self->retry_sync_delay_s > 1)
    {
      g_clear_handle_id (&self->retry_sync_timer, g_source_remove);
      self->retry_sync_delay_s = 0;
    }
  if (self->retry_sync_timer != 0)
    return;
  self->retry_sync_delay_s = CLAMP (self->retry_sync_delay_s * 2, 1, RETRY_SYNC_MAX_S);
  self->retry_sync_timer = g_timeout_add_seconds (self->retry_sync_delay_s, retry_sync_cb, self);
}

void
dr_roller_write_failed (DrRoller *self, guint64 serial)
{
  g_return_if_fail (DR_IS_ROLLER (self));
  self->write_failed = TRUE;
  dr_ack_ledger_write_failed (self->ledger, serial);
}

static void
send_owed_ack (DrRoller *self)
{
  if (!self->ack_owed || dr_bluez_link_get_state (self->link) != DR_LINK_STREAMING)
    return;
  self->ack_owed = FALSE;
  dr_bluez_link_ack (self->link, self->ack_owed_seq);
  dr_ack_ledger_ack_sent (self->ledger);
}

/* Acknowledges what the last commit made durable. @from_store: a commit
 * report (@recovered: no write failed since the one before), which drives
 * the retries after failed writes; else a gap closed, and only the ACKs it
 * held back are let go. */
static void
release_acks (DrRoller *self, gboolean from_store, gboolean recovered)
{
  DrFrameKey last;
  gboolean blocked;
  AckJob *job;

  if (!dr_ack_ledger_committed (self->ledger, self->committed_serial, &last, &blocked))
    {
      if (blocked && from_store)
        schedule_retry_sync (self, recovered);
      return;
    }
  if (from_store && blocked)
    schedule_retry_sync (self, recovered);
  else if (from_store)
    self->retry_sync_delay_s = 0;

  self->ack_owed = TRUE;
  self->ack_owed_seq = last.seq;
  send_owed_ack (self);

  /* The marker narrows what a restarted daemon must hold as maybe-resent;
   * if it is lost, the wider set is still right. */
  job = g_new0 (AckJob, 1);
  job->row = roller_row_ref (self->row);
  job->key = last;
  /* One statement, and nothing waits for it: it rides on the next commit
   * of frames rather than bringing one of its own 250 ms on (which, while
   * no session is open, would commit and ACK four times a second). */
  ensure_row (self);
  self->last_serial = dr_store_worker_write_statement_within (self->store, job_mark_acked, job,
                                                              ack_job_free, LIVE_FRAME_COMMIT_MS);
}

void
dr_roller_committed (DrRoller *self, guint64 serial)
{
  gboolean recovered;

  g_return_if_fail (DR_IS_ROLLER (self));
  recovered = !self->write_failed;
  self->write_failed = FALSE;
  if (self->link == NULL)
    return; /* shut down */
  self->committed_serial = MAX (self->committed_serial, serial);
  release_acks (self, TRUE, recovered);
}

/* ---- seq gaps: frames lost on the air ---------------------------------- */

/* The replay asked for after the gap is in: what it did not bring the
 * roller did not hold (it lost them itself; the engine counts them as
 * dropped when it takes the frame after them). The live frames held since
 * follow, and the ACKs the gap held back go out. */
static void
close_gap (DrRoller *self)
{
  g_autoptr (GPtrArray) held = g_steal_pointer (&self->held_live);
  guint lost = dr_ack_ledger_close_gap (self->ledger);

  if (lost > 0)
    g_message ("%s: %u of those frames were not in the roller's memory either: lost in the "
               "roller, counted as dropped",
               roller_address (self), lost);
  else if (self->gap_logged)
    g_info ("%s: the frames that did not arrive came with the roller's history",
            roller_address (self));
  for (guint i = 0; held && i < held->len; i++)
    {
      gsize len;
      const guint8 *raw = g_bytes_get_data (g_ptr_array_index (held, i), &len);
      pass_frame (self, raw, len);
    }
  release_acks (self, FALSE, FALSE);
}

static gboolean
gap_retry_cb (gpointer user_data)
{
  DrRoller *self = user_data;

  self->gap_retry_timer = 0;
  fetch_gap (self);
  return G_SOURCE_REMOVE;
}

static void
gap_sync_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (DrRoller) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = dr_bluez_link_sync_history_finish (DR_BLUEZ_LINK (source), result, &error);

  self->gap_fetching = FALSE;
  /* Shut down, or the link went (which closed the gap: the next link's
   * history brings the frames). */
  if (g_cancellable_is_cancelled (self->cancellable) || !dr_ack_ledger_gap_open (self->ledger))
    return;
  if (ok)
    {
      close_gap (self);
      return;
    }
  /* Busy with another replay (which may have begun before the lost frames
   * were made), or a request that failed on a link still up. */
  g_message ("%s: cannot ask for the history yet (%s); again in 1 s", roller_address (self),
             error->message);
  if (self->gap_retry_timer == 0)
    self->gap_retry_timer = g_timeout_add_seconds (1, gap_retry_cb, self);
}

static void
fetch_gap (DrRoller *self)
{
  if (self->gap_fetching || self->gap_retry_timer != 0 || !dr_ack_ledger_gap_open (self->ledger))
    return;
  if (dr_bluez_link_get_state (self->link) != DR_LINK_STREAMING)
    return; /* the link's state change closes the gap */
  self->gap_fetching = TRUE;
  dr_bluez_link_sync_history (self->link, self->cancellable, gap_sync_done, g_object_ref (self));
}

/* ---- link callbacks ---------------------------------------------------- */

static void
on_link_state (DrBluezLink *link, DrLinkState state, gpointer user_data)
{
  DrRoller *self = user_data;
  gboolean connected = state == DR_LINK_STREAMING;
  g_autoptr (GPtrArray) held_live = g_steal_pointer (&self->held_live);

  /* The history is in: the live frames that came early follow it. A link
   * that went first drops them: the roller still has them and sends them
   * again as history. */
  for (guint i = 0; connected && held_live && i < held_live->len; i++)
    {
      gsize len;
      const guint8 *raw = g_bytes_get_data (g_ptr_array_index (held_live, i), &len);
      pass_frame (self, raw, len);
    }
  /* A gap that was being filled: the next link's history brings what it
   * missed (no ACK went past it), and the held frames again. */
  if (!connected && dr_ack_ledger_gap_open (self->ledger))
    {
      g_clear_handle_id (&self->gap_retry_timer, g_source_remove);
      dr_ack_ledger_close_gap (self->ledger);
    }

  if (dr_dbus_roller1_get_connected (ROLLER1 (self)) != connected)
    g_info ("%s: %s", roller_address (self), connected ? "connected" : "disconnected");
  dr_dbus_roller1_set_connected (ROLLER1 (self), connected);
  if (connected)
    send_owed_ack (self);
  else if (state == DR_LINK_DISCONNECTED)
    self->ack_owed = FALSE; /* the next link's history replay is acked again */
  /* What the roller kept is in now: a session it belongs to may be long
   * over by our clock. */
  if (connected)
    {
      g_clear_handle_id (&self->session_timer, g_source_remove);
      arm_session_timer (self);
    }
}

static void
on_link_head_info (DrBluezLink *link, const DrHeadInfo *head, gpointer user_data)
{
  DrRoller *self = user_data;
  double revolutions = 0;

  /* The same head may be remounted: carry what it did here, else start at
   * what the store had when the daemon started. */
  if (self->head_known && self->head.head_id == head->head_id)
    revolutions = dr_engine_head_revolutions (self->engine);
  else
    revolutions = dr_household_get_head_revolutions (self->household, head->head_id);

  self->head_known = TRUE;
  self->head = *head;
  dr_engine_set_head (self->engine, head, revolutions);

  dr_dbus_roller1_set_needle_length (ROLLER1 (self), head->needle_length_um);
  dr_dbus_roller1_set_needle_count (ROLLER1 (self), head->needle_count);
  dr_dbus_roller1_set_head_id (ROLLER1 (self), head->head_id);
  dr_dbus_roller1_set_head_wear (ROLLER1 (self), dr_engine_head_wear (self->engine));
  dr_dbus_roller1_set_force_limit (
      ROLLER1 (self), dr_engine_force_limit_n (self->engine, dr_engine_last_zone (self->engine)));
  /* Head Info is read before any frame flows: the replay of the stored
   * session needs the head to count anything. */
  start_warm_up (self);
}

static void
tail_sync_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (DrRoller) self = user_data;
  g_autoptr (GError) error = NULL;

  self->tail_fetching = FALSE;
  if (!dr_bluez_link_sync_history_finish (DR_BLUEZ_LINK (source), result, &error))
    g_debug ("%s: history sync for frames still held: %s", roller_address (self), error->message);
}

static void
on_link_status (DrBluezLink *link, const DrStatus *status, gpointer user_data)
{
  DrRoller *self = user_data;
  g_debug ("%s: status state %u, %u frames pending, flags 0x%02x", roller_address (self),
           status->state, status->history_frames_pending, status->flags);

  /* A frame lost on the air with none after it makes no seq gap. Once the
   * roller stopped rolling and every frame we took in is acknowledged,
   * what its Status says it still holds never arrived: ask for it. (A
   * Status older than our last ACK asks for nothing new: the replay
   * follows the ACK.) Once per run of live frames: what a replay did not
   * let us acknowledge, another one would not either. */
  if (status->state != DR_ROLLER_STATE_ROLLING && status->history_frames_pending > 0
      && dr_bluez_link_get_state (link) == DR_LINK_STREAMING && self->tail_armed && !self->ack_owed
      && !self->tail_fetching && dr_ack_ledger_n_pending (self->ledger) == 0
      && !dr_ack_ledger_gap_open (self->ledger))
    {
      self->tail_armed = FALSE;
      g_info ("%s: the roller still holds %u frames that are not acknowledged; asking for them",
              roller_address (self), status->history_frames_pending);
      self->tail_fetching = TRUE;
      dr_bluez_link_sync_history (link, self->cancellable, tail_sync_done, g_object_ref (self));
    }
}

static void
on_link_battery (DrBluezLink *link, guint percent, gpointer user_data)
{
  DrRoller *self = user_data;
  dr_dbus_roller1_set_battery (ROLLER1 (self), percent);
  dr_notifier_battery (self->notifier, roller_address (self), percent);
}

static void
on_link_device_info (DrBluezLink *link, const char *manufacturer, const char *model,
                     const char *serial, const char *firmware, gpointer user_data)
{
  DrRoller *self = user_data;
  if (firmware)
    dr_dbus_roller1_set_firmware_version (ROLLER1 (self), firmware);
}

static void
on_link_bad_value (DrBluezLink *link, const char *uuid, DrCodecStatus status, gpointer user_data)
{
  DrRoller *self = user_data;
  g_warning ("%s: characteristic %s sent a value that does not decode: %s", roller_address (self),
             uuid, dr_codec_status_name (status));
}

static void
on_link_phase (DrBluezLink *link, GParamSpec *pspec, gpointer user_data)
{
  DrRoller *self = user_data;
  g_autofree char *phase = NULL;

  g_object_get (link, "phase", &phase, NULL);
  dr_dbus_roller1_set_link_phase (ROLLER1 (self), phase);
}

static void
on_link_clock_set (DrBluezLink *link, gint64 unix_ms, gpointer user_data)
{
  DrRoller *self = user_data;
  dr_roller_clock_set (&self->clock, unix_ms, g_get_monotonic_time ());
}

/* A store that falls behind holds the link: the frames it has not read
 * wait in the roller, not in the store's queue. Nothing is lost by it:
 * they are not acknowledged before they are stored. */
static void
on_store_backlogged (DrStoreWorker *store, GParamSpec *pspec, gpointer user_data)
{
  DrRoller *self = user_data;
  gboolean backlogged;

  g_object_get (store, "backlogged", &backlogged, NULL);
  if (pspec != NULL)
    g_debug ("%s: %s", roller_address (self),
             backlogged ? "the store is behind: frames wait in the roller" : "reading again");
  if (self->link != NULL)
    dr_bluez_link_set_held (self->link, backlogged);
}

/* Every link signal is connected here, and only here. */
static void
roller_connect_link (DrRoller *self)
{
  g_signal_connect (self->link, "notify::phase", G_CALLBACK (on_link_phase), self);
  g_signal_connect (self->link, "state-changed", G_CALLBACK (on_link_state), self);
  g_signal_connect (self->link, "frame", G_CALLBACK (on_link_frame), self);
  g_signal_connect (self->link, "head-info", G_CALLBACK (on_link_head_info), self);
  g_signal_connect (self->link, "status", G_CALLBACK (on_link_status), self);
  g_signal_connect (self->link, "battery", G_CALLBACK (on_link_battery), self);
  g_signal_connect (self->link, "device-info", G_CALLBACK (on_link_device_info), self);
  g_signal_connect (self->link, "bad-value", G_CALLBACK (on_link_bad_value), self);
  g_signal_connect (self->link, "clock-set", G_CALLBACK (on_link_clock_set), self);
  if (self->store != NULL)
    {
      g_signal_connect (self->store, "notify::backlogged", G_CALLBACK (on_store_backlogged), self);
      on_store_backlogged (self->store, NULL, self);
    }
  dr_bluez_link_set_auto_connect (self->link, self->paired);
}

/* ---- the person ------------------------------------------------------- */

/* The engine takes the person's skin: their history for the rest rule,
 * their excluded zones. */
static void
apply_person (DrRoller *self)
{
  const DrTreatment *treatments;
  gsize n;
  g_autofree char *path = dr_person_object_path (self->person_id);

  treatments = dr_household_get_treatments (self->household, self->person_id, &n);
  dr_engine_set_treatments (self->engine, treatments, n);
  for (unsigned z = 0; z < self->config->n_zones; z++)
    dr_engine_set_zone_excluded (
        self->engine, (int) z,
        dr_household_is_zone_excluded (self->household, self->person_id, (int) z));
  dr_dbus_roller1_set_person (ROLLER1 (self), path);
}

/* A session is one person's: one in progress for another ends first. */
static void
switch_person (DrRoller *self, gint64 person_id)
{
  if (person_id == self->person_id)
    return;
  if (self->session_id != 0)
    dr_engine_stop_session (self->engine);
  self->person_id = person_id;
  apply_person (self);
  g_info ("%s: now for person %" G_GINT64_FORMAT, roller_address (self), person_id);
}

typedef struct
{
  RollerRow *row;
  gint64 person_id;
} PersonJob;

static void
person_job_free (gpointer data)
{
  PersonJob *job = data;
  roller_row_unref (job->row);
  g_free (job);
}

static gboolean
job_set_person (DrStore *store, gpointer data, GError **error)
{
  PersonJob *job = data;
  return dr_store_set_roller_person (store, job->row->id, job->person_id, error);
}

static void
set_person_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_store_worker_write_finish (DR_STORE_WORKER (source), result, &error))
    {
      dr_error_return_gerror (invocation, error);
      return;
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
handle_set_person (DrDBusRoller1 *iface, GDBusMethodInvocation *invocation, const char *path)
{
  DrRoller *self = DR_ROLLER (iface);
  gint64 person_id;
  PersonJob *job;

  if (!dr_person_id_from_path (path, &person_id)
      || !dr_household_has_person (self->household, person_id))
    {
      g_autofree char *quoted = dr_quote (path);
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_NOT_FOUND,
                                             "no person at %s", quoted);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  switch_person (self, person_id);
  /* Stored even when it is the person already: the caller is told once
   * it is on disk either way. */
  if (!roller_has_row (self))
    {
      self->row_queued = TRUE;
      dr_store_worker_write (self->store, job_ensure_roller, roller_row_ref (self->row),
                             (GDestroyNotify) roller_row_unref);
    }
  job = g_new0 (PersonJob, 1);
  job->row = roller_row_ref (self->row);
  job->person_id = person_id;
  dr_store_worker_write_async (self->store, job_set_person, job, person_job_free,
                               set_person_written, g_object_ref (invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- Roller1 methods --------------------------------------------------- */

static gboolean
handle_set_zone (DrDBusRoller1 *iface, GDBusMethodInvocation *invocation, const char *zone)
{
  DrRoller *self = DR_ROLLER (iface);
  int id = DR_ZONE_UNASSIGNED;

  if (zone[0] != '\0')
    {
      id = dr_engine_config_zone_by_name (self->config, zone);
      if (id < 0)
        {
          g_autofree char *valid = dr_engine_config_list_zone_names (self->config);
          g_autofree char *quoted = dr_quote (zone);
          g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_INVALID_ARGUMENT,
                                                 "unknown zone %s; valid zones: %s", quoted, valid);
          return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
    }
  dr_engine_set_user_zone (self->engine, id);
  dr_dbus_roller1_set_zone (iface, zone);
  dr_dbus_roller1_complete_set_zone (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_start_session (DrDBusRoller1 *iface, GDBusMethodInvocation *invocation)
{
  DrRoller *self = DR_ROLLER (iface);

  if (self->session_id == 0)
    {
      /* On the roller's clock; before anything is known of it, the wall
       * clock is the best there is (a label: the session's start). */
      int64_t now;

      if (!dr_roller_clock_now (&self->clock, g_get_monotonic_time (), &now))
        now = g_get_real_time () / 1000;
      dr_engine_start_session (self->engine, now);
      dr_roller_clock_frame (&self->clock, now, !self->clock.unsynced, g_get_monotonic_time (),
                             TRUE);
      arm_session_timer (self);
    }
  dr_dbus_roller1_complete_start_session (iface, invocation, self->session_id);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_stop_session (DrDBusRoller1 *iface, GDBusMethodInvocation *invocation)
{
  DrRoller *self = DR_ROLLER (iface);
  guint64 id = self->session_id;

  if (id == 0)
    {
      g_dbus_method_invocation_return_error (invocation, DR_ERROR, DR_ERROR_NOT_FOUND,
                                             "no session is active on roller %s",
                                             roller_address (self));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  dr_engine_stop_session (self->engine);
  dr_dbus_roller1_complete_stop_session (iface, invocation, id);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
sync_history_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  g_autoptr (GError) error = NULL;

  if (!dr_bluez_link_sync_history_finish (DR_BLUEZ_LINK (source), result, &error))
    {
      dr_error_return_gerror (invocation, error);
      return;
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static gboolean
handle_sync_history (DrDBusRoller1 *iface, GDBusMethodInvocation *invocation)
{
  DrRoller *self = DR_ROLLER (iface);

  dr_bluez_link_sync_history (self->link, self->cancellable, sync_history_done,
                              g_object_ref (invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
dr_roller_roller1_iface_init (DrDBusRoller1Iface *iface)
{
  iface->handle_set_zone = handle_set_zone;
  iface->handle_start_session = handle_start_session;
  iface->handle_stop_session = handle_stop_session;
  iface->handle_sync_history = handle_sync_history;
  iface->handle_set_person = handle_set_person;
}

/* ---- pairing ----------------------------------------------------------- */

static void
store_paired (DrRoller *self, gboolean paired)
{
  SessionJob *job;

  self->paired = paired;
  dr_dbus_roller1_set_paired (ROLLER1 (self), paired);
  /* Not paired is what no row means: no row is made to say it. */
  if (!paired && !roller_has_row (self))
    return;
  job = session_job_new (self);
  job->paired = paired;
  roller_write (self, job_set_paired, job, session_job_free);
}

static void
pair_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  DrRoller *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!dr_bluez_link_pair_finish (DR_BLUEZ_LINK (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  dr_bluez_link_set_auto_connect (self->link, TRUE);
  store_paired (self, TRUE);
  g_info ("%s: paired", roller_address (self));
  g_task_return_boolean (task, TRUE);
}

void
dr_roller_pair_async (DrRoller *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  GTask *task;

  g_return_if_fail (DR_IS_ROLLER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  /* The link's own cancellable: the pairing goes on if only the caller
   * stops waiting, and stops with the roller. */
  dr_bluez_link_pair (self->link, self->cancellable, pair_done, task);
}

gboolean
dr_roller_pair_finish (DrRoller *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
forget_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (!dr_bluez_link_forget_finish (DR_BLUEZ_LINK (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
dr_roller_forget_async (DrRoller *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  GTask *task;

  g_return_if_fail (DR_IS_ROLLER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  /* Stop reconnecting first: the roller may come and go while BlueZ works. */
  dr_bluez_link_set_auto_connect (self->link, FALSE);
  /* A paired roller stays, unpaired, with its history (forgetting it
   * again removes it). One that was not paired goes: its row too, unless
   * treatment data was stored under it (that is never deleted). */
  self->forget_removes = !self->paired;
  if (self->forget_removes && roller_has_row (self))
    {
      self->row_queued = FALSE;
      self->stored.roller_id = 0;
      self->last_serial
          = dr_store_worker_write (self->store, job_delete_row, roller_row_ref (self->row),
                                   (GDestroyNotify) roller_row_unref);
    }
  store_paired (self, FALSE);
  dr_bluez_link_forget (self->link, self->cancellable, forget_done, task);
}

gboolean
dr_roller_forget_finish (DrRoller *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
dr_roller_get_forget_removes (DrRoller *self)
{
  g_return_val_if_fail (DR_IS_ROLLER (self), FALSE);
  return self->forget_removes;
}

gboolean
dr_roller_is_unused (DrRoller *self)
{
  g_return_val_if_fail (DR_IS_ROLLER (self), FALSE);
  return !self->paired && !roller_has_row (self)
         && (self->link == NULL || !dr_bluez_link_is_pairing (self->link));
}

/* ---- life cycle -------------------------------------------------------- */

static char *
object_path_for (const char *address)
{
  g_autofree char *tail = g_strdelimit (g_strdup (address), ":", '_');
  return g_strconcat ("/org/dermaroll/roller/", tail, NULL);
}

static void
dr_roller_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  DrRoller *self = DR_ROLLER (object);

  switch (prop_id)
    {
      case PROP_DEVICE_ADDRESS:
        self->device_address = g_value_dup_string (value);
        break;
      case PROP_DEVICE_NAME:
        self->device_name = g_value_dup_string (value);
        break;
      case PROP_STORED:
        {
          const DrRollerStored *stored = g_value_get_pointer (value);
          if (stored)
            self->stored = *stored;
        }
        break;
      case PROP_STORE:
        self->store = g_value_dup_object (value);
        break;
      case PROP_LINK:
        self->link = g_value_dup_object (value);
        break;
      case PROP_NOTIFIER:
        self->notifier = g_value_get_pointer (value);
        break;
      case PROP_CONFIG:
        self->config = g_value_get_pointer (value);
        break;
      case PROP_HOUSEHOLD:
        self->household = g_value_dup_object (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_roller_constructed (GObject *object)
{
  DrRoller *self = DR_ROLLER (object);
  const DrEngineConfig *config = self->config;
  g_autofree char *address = g_steal_pointer (&self->device_address);
  g_autofree char *name = g_steal_pointer (&self->device_name);

  G_OBJECT_CLASS (dr_roller_parent_class)->constructed (object);

  g_return_if_fail (address != NULL && self->store != NULL && self->link != NULL
                    && self->notifier != NULL && config != NULL && self->household != NULL);

  dr_dbus_roller1_set_address (ROLLER1 (self), address);
  dr_dbus_roller1_set_name (ROLLER1 (self), name && *name ? name : address);
  self->object_path = object_path_for (address);
  self->paired = self->stored.paired;
  /* Only a session a crash left open is resumed: one StopSession, the
   * session gap or a clean shutdown ended was announced ended, and the
   * next contact starts another (with its SessionStarted). */
  self->resume_session_id = self->stored.last_session_resumable ? self->stored.last_session_id : 0;
  self->resume_since_ms = self->stored.last_session_start_ms;
  self->malformed_kept = self->stored.malformed_kept;
  dr_dbus_roller1_set_malformed_dropped (ROLLER1 (self), self->stored.malformed_dropped);
  dr_roller_clock_init (&self->clock);
  self->cancellable = g_cancellable_new ();
  self->ledger = dr_ack_ledger_new ();
  if (self->stored.unacked_keys)
    dr_ack_ledger_preload (self->ledger, (const DrFrameKey *) self->stored.unacked_keys->data,
                           self->stored.unacked_keys->len);
  self->stored.unacked_keys = NULL; /* not ours */

  self->row
      = roller_row_new (self->stored.roller_id, address, dr_dbus_roller1_get_name (ROLLER1 (self)));

  self->engine = dr_engine_new (config);
  dr_engine_set_event_func (self->engine, on_engine_event, self);
  /* A roller nobody chose a person for is the default person's. */
  self->person_id = self->stored.person_id;
  if (!dr_household_has_person (self->household, self->person_id))
    self->person_id = dr_household_get_default_person (self->household);
  apply_person (self);

  dr_dbus_roller1_set_paired (ROLLER1 (self), self->paired);
  dr_dbus_roller1_set_zone (ROLLER1 (self), "");
  dr_dbus_roller1_set_current_zone (ROLLER1 (self), "");
  dr_dbus_roller1_set_link_phase (ROLLER1 (self), "idle");
  dr_dbus_roller1_set_firmware_version (ROLLER1 (self), "");
  set_coverage (self);

  /* The last session stored is history the roller's clock must not go
   * behind (the frames after it raise the floor as they come). */
  if (self->stored.last_session_id != 0 || self->stored.last_session_start_ms != 0)
    dr_bluez_link_set_clock_floor (
        self->link, MAX (self->stored.last_session_start_ms, self->stored.last_session_end_ms));
  roller_connect_link (self);
}

/* Stops everything that could call back into the roller. */
static void
roller_stop (DrRoller *self)
{
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->force_timer, g_source_remove);
  g_clear_handle_id (&self->coverage_timer, g_source_remove);
  g_clear_handle_id (&self->session_timer, g_source_remove);
  g_clear_handle_id (&self->retry_sync_timer, g_source_remove);
  g_clear_handle_id (&self->gap_retry_timer, g_source_remove);
  if (self->link != NULL)
    g_signal_handlers_disconnect_by_data (self->link, self);
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_func (self->store, on_store_backlogged, self);
  g_clear_object (&self->link);
}

static void
dr_roller_dispose (GObject *object)
{
  DrRoller *self = DR_ROLLER (object);

  roller_stop (self);
  g_clear_object (&self->household);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (dr_roller_parent_class)->dispose (object);
}

static void
dr_roller_finalize (GObject *object)
{
  DrRoller *self = DR_ROLLER (object);

  g_clear_pointer (&self->engine, dr_engine_free);
  g_clear_pointer (&self->held_frames, g_ptr_array_unref);
  g_clear_pointer (&self->held_live, g_ptr_array_unref);
  g_clear_pointer (&self->ledger, dr_ack_ledger_free);
  g_clear_pointer (&self->row, roller_row_unref);
  g_clear_object (&self->cancellable);
  g_free (self->object_path);
  g_free (self->device_address);
  g_free (self->device_name);
  G_OBJECT_CLASS (dr_roller_parent_class)->finalize (object);
}

static void
dr_roller_class_init (DrRollerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->set_property = dr_roller_set_property;
  object_class->constructed = dr_roller_constructed;
  object_class->dispose = dr_roller_dispose;
  object_class->finalize = dr_roller_finalize;

  /* The skeleton's "address" and "name" are Roller1's, set only after
   * constructed (): these set them before. The notifier and the config
   * are plain structs the daemon owns and outlives the roller with. */
  props[PROP_DEVICE_ADDRESS] = g_param_spec_string ("device-address", NULL, NULL, NULL, flags);
  props[PROP_DEVICE_NAME] = g_param_spec_string ("device-name", NULL, NULL, NULL, flags);
  props[PROP_STORED] = g_param_spec_pointer ("stored", NULL, NULL, flags);
  props[PROP_STORE] = g_param_spec_object ("store", NULL, NULL, DR_TYPE_STORE_WORKER, flags);
  props[PROP_LINK] = g_param_spec_object ("link", NULL, NULL, DR_TYPE_BLUEZ_LINK, flags);
  props[PROP_NOTIFIER] = g_param_spec_pointer ("notifier", NULL, NULL, flags);
  props[PROP_CONFIG] = g_param_spec_pointer ("config", NULL, NULL, flags);
  props[PROP_HOUSEHOLD] = g_param_spec_object ("household", NULL, NULL, DR_TYPE_HOUSEHOLD, flags);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_ZONE_TREATED]
      = g_signal_new ("zone-treated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 4, G_TYPE_INT64, G_TYPE_INT, G_TYPE_INT64, G_TYPE_UINT);
}

static void
dr_roller_init (DrRoller *self)
{
}

DrRoller *
dr_roller_new (const char *address, const char *name, const DrRollerStored *stored,
               DrStoreWorker *store, DrBluezLink *link, DrNotifier *notifier,
               const DrEngineConfig *config, DrHousehold *household)
{
  return g_object_new (DR_TYPE_ROLLER, "device-address", address, "device-name", name, "stored",
                       stored, "store", store, "link", link, "notifier", notifier, "config", config,
                       "household", household, NULL);
}

void
dr_roller_shutdown (DrRoller *self)
{
  g_return_if_fail (DR_IS_ROLLER (self));

  if (self->session_id != 0)
    dr_engine_stop_session (self->engine);
  roller_stop (self);
}

const char *
dr_roller_get_address (DrRoller *self)
{
  g_return_val_if_fail (DR_IS_ROLLER (self), NULL);
  return roller_address (self);
}

const char *
dr_roller_get_object_path (DrRoller *self)
{
  g_return_val_if_fail (DR_IS_ROLLER (self), NULL);
  return self->object_path;
}

void
dr_roller_update_seen (DrRoller *self, const char *name, gint16 rssi)
{
  g_return_if_fail (DR_IS_ROLLER (self));

  dr_dbus_roller1_set_rssi (ROLLER1 (self), rssi);
  if (name && *name && g_strcmp0 (name, dr_dbus_roller1_get_name (ROLLER1 (self))) != 0)
    dr_dbus_roller1_set_name (ROLLER1 (self), name);
}

void
dr_roller_set_zone_excluded (DrRoller *self, int zone, gboolean excluded)
{
  g_return_if_fail (DR_IS_ROLLER (self));
  dr_engine_set_zone_excluded (self->engine, zone, excluded);
}

void
dr_roller_add_treatment (DrRoller *self, const DrTreatment *treatment)
{
  g_return_if_fail (DR_IS_ROLLER (self));
  dr_engine_add_treatment (self->engine, treatment);
}

gint64
dr_roller_get_person_id (DrRoller *self)
{
  g_return_val_if_fail (DR_IS_ROLLER (self), 0);
  return self->person_id;
}

void
dr_roller_take_person (DrRoller *self, gint64 person_id)
{
  g_return_if_fail (DR_IS_ROLLER (self));
  switch_person (self, person_id);
}
