/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* engine.h: the treatment engine. Frames in, zone totals and events out.
 *
 * Pure logic: no I/O, no clock reads (time comes with the samples), no
 * allocation per sample. The daemon, the demo, the tests and the benchmarks
 * all drive this same API.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine-config.h"
#include "roller-protocol.h"

G_BEGIN_DECLS

typedef enum
{
  DR_ZONE_SOURCE_NONE = 0, /* unassigned */
  DR_ZONE_SOURCE_SENSOR,   /* the roller's motion sensor said so */
  DR_ZONE_SOURCE_USER,     /* the zone the user set */
} DrZoneSource;

typedef enum
{
  DR_EVENT_SESSION_STARTED,
  DR_EVENT_SESSION_ENDED,
  DR_EVENT_PRESSURE_STARTED,
  DR_EVENT_PRESSURE_ENDED,
  DR_EVENT_EXCLUDED_ZONE,
  DR_EVENT_OVER_TREATED,
  DR_EVENT_TOO_SOON,
  DR_EVENT_HEAD_WORN,
  DR_EVENT_SEQ_GAP,
  DR_EVENT_COUNTER_RESET,
  DR_N_EVENT_KINDS
} DrEventKind;

/* Stable names used in the store and on D-Bus: "session-started",
 * "session-ended", "pressure-started", "pressure-ended", "excluded",
 * "over-treated", "too-soon", "head-worn", "seq-gap", "counter-reset". */
const char *dr_event_kind_name (DrEventKind kind);

typedef struct
{
  DrEventKind kind;
  int64_t time_ms;     /* sample time the rule fired at */
  int zone;            /* zone id or DR_ZONE_UNASSIGNED */
  double force_n;      /* PRESSURE_STARTED: force at the start sample */
  double limit_n;      /* PRESSURE_*: the limit in force */
  double peak_n;       /* PRESSURE_ENDED: peak force of the episode */
  int64_t duration_ms; /* PRESSURE_ENDED: start event to end event; SESSION_ENDED: start to end */
  int64_t last_treated_ms; /* TOO_SOON: the earlier treatment whose rest is not over */
  uint16_t last_needle_um; /* TOO_SOON: that treatment's needle length, 0 not known */
  int64_t free_at_ms;      /* TOO_SOON: when its rest is over */
  uint32_t head_id;        /* HEAD_WORN */
  double wear;             /* HEAD_WORN: revolutions / head life */
  uint32_t count;          /* SEQ_GAP: frames missing */
} DrEvent;

typedef void (*DrEventFunc) (const DrEvent *event, void *user_data);

/* For DR_ZONE_UNASSIGNED only revolutions, rolled_cm2 and peak_force_n are
 * kept: it has no area, so no passes, coverage or punctures. */
/* Coverage by stroke direction: with a target of T passes each of the
 * three directions is credited up to T/3 passes and passes of no known
 * direction (every version 1 sample) count in full:
 * coverage = min (1, (Σ_dir min (passes_dir, T/3) + passes_unknown) / T).
 * Version 1 streams therefore give min (1, passes / T) as before. */
typedef struct
{
  double revolutions; /* in contact */
  double rolled_cm2;
  double passes;                               /* rolled_cm2 / zone area, all directions */
  double coverage;                             /* see above */
  double passes_by_direction[DR_N_DIRECTIONS]; /* indexed by DrDirection; sums to passes */
  double punctures_per_cm2;
  double peak_force_n;
  DrZoneSource source; /* where the last attributed sample's zone came from */
} DrZoneTotals;

typedef struct
{
  uint64_t frames;
  uint64_t samples;
  uint64_t sensor_faults;
  uint64_t seq_gaps;    /* gaps seen */
  uint64_t frames_lost; /* frames missing across all gaps */
  uint64_t counter_resets;
  uint64_t unknown_zone_samples; /* zone byte not 0xFF and not a configured zone */
} DrEngineStats;

typedef struct _DrEngine DrEngine;

/* @config is copied. */
DrEngine *dr_engine_new (const DrEngineConfig *config);
void dr_engine_free (DrEngine *engine);
/* A frozen copy of @engine's state (no event func), for handing a
 * session's totals to the store thread while the engine runs on. */
DrEngine *dr_engine_copy (const DrEngine *engine);

/* Events are delivered synchronously, from inside feed, advance,
 * start_session and stop_session; @func must not call those on @engine. */
void dr_engine_set_event_func (DrEngine *engine, DrEventFunc func, void *user_data);

/* Head in use and the revolutions it already has from earlier sessions.
 * @head NULL: none. Without a head (or with ticks_per_rev 0) nothing counts
 * towards coverage or wear, and the longest needle class's limit and rest
 * interval apply, erring towards warnings. A head with another head_id may
 * get its own head-worn event in the same session. */
void dr_engine_set_head (DrEngine *engine, const DrHeadInfo *head, double head_revolutions);
/* Zone the user says is being rolled; DR_ZONE_UNASSIGNED for none. Used for
 * samples whose zone byte is 0xFF or not a configured zone. */
void dr_engine_set_user_zone (DrEngine *engine, int zone);
void dr_engine_set_zone_excluded (DrEngine *engine, int zone, bool excluded);
/* An earlier treatment of the skin being treated: a session that ended at
 * @treated_at_ms with contact in @zone, with needles of @needle_length_um
 * (0: not known, which counts as the longest class, erring towards the
 * warning). */
typedef struct
{
  int zone;
  int64_t treated_at_ms;
  uint16_t needle_length_um;
} DrTreatment;

/* The rest rule: a contact in a zone is too soon while any earlier
 * treatment of that zone is inside its own rest window, the one its needle
 * length sets (skin heals from the deepest needling it had, whatever the
 * head in use now). The engine treats one skin at a time: these replace
 * every earlier treatment it knew (a person's history; switching person is
 * calling this again with theirs). Sessions that end add theirs, with the
 * head in use. Treatments of zones not configured are ignored. */
void dr_engine_set_treatments (DrEngine *engine, const DrTreatment *treatments, size_t n);
/* Adds one (another roller's session on the same skin). */
void dr_engine_add_treatment (DrEngine *engine, const DrTreatment *treatment);
/* Replaces @zone's earlier treatments by one at @time_ms with the head in
 * use now; INT64_MIN: never treated. */
void dr_engine_set_last_treated (DrEngine *engine, int zone, int64_t time_ms);
/* The rest window after a treatment with needles of @needle_length_um
 * (0: not known, the longest class). */
int64_t dr_engine_rest_window_ms (const DrEngine *engine, uint16_t needle_length_um);
/* When @zone may be treated again: the latest end of its earlier
 * treatments' windows; INT64_MIN when it has none. */
int64_t dr_engine_zone_free_at_ms (const DrEngine *engine, int zone);

/* The rest a zone had at @time_ms since it was last treated at
 * @last_treated_ms, both on the roller's clock; the rest rule warns "too
 * soon" when it is below the needle class's interval. A last treatment
 * after @time_ms is a clock that went back (another roller's, one not set
 * since boot, stored before SET_TIME kept rollers' clocks in order): the
 * true rest is unknown, so it counts as none, 0, never negative: erring
 * towards the warning. */
int64_t dr_engine_rest_ms (int64_t time_ms, int64_t last_treated_ms);

/* A sample's time is t0 plus the dt of every later sample in its frame (the
 * first sample's dt is ignored: t0 is its time). Ticks are judged sample to
 * sample across frames; a step back of 2^31 or more is a counter reset (new
 * baseline, counter-reset event). Sequence numbers 2..32767 ahead are a gap;
 * 0 or further back, a new baseline. A sensor-fault sample is not contact
 * and not a pressure sample, but its ticks count for its zone when the last
 * valid sample was in contact: the drum kept rolling. */
void dr_engine_feed (DrEngine *engine, const DrFrame *frame);
/* Ends the active session when @now_ms is past its last contact + the gap. */
void dr_engine_advance (DrEngine *engine, int64_t now_ms);
/* Starts a session now, without waiting for contact (StartSession()); does
 * nothing while one is active. */
void dr_engine_start_session (DrEngine *engine, int64_t now_ms);
/* Ends the active session at its last contact (or its start, without any). */
void dr_engine_stop_session (DrEngine *engine);

bool dr_engine_session_active (const DrEngine *engine);
/* INT64_MIN before the first session. */
int64_t dr_engine_session_start_ms (const DrEngine *engine);
/* Last contact of the active or the last ended session (its start when it
 * had none); INT64_MIN before the first session. */
int64_t dr_engine_session_end_ms (const DrEngine *engine);
/* When the active session ends if no contact comes; INT64_MAX when none is active. */
int64_t dr_engine_session_deadline_ms (const DrEngine *engine);

/* Totals of the active session, or of the last ended one until the next
 * starts. @zone is a zone id or DR_ZONE_UNASSIGNED. */
const DrZoneTotals *dr_engine_zone_totals (const DrEngine *engine, int zone);
/* The coverage rule above, for a target of @target_passes (0 or less: 0). */
double dr_engine_direction_coverage (const double passes_by_direction[DR_N_DIRECTIONS],
                                     double target_passes);
/* Mean coverage of the configured zones that are not excluded. */
double dr_engine_mean_coverage (const DrEngine *engine);

double dr_engine_head_revolutions (const DrEngine *engine);
double dr_engine_head_wear (const DrEngine *engine);
/* Force of the last valid sample, N. */
double dr_engine_last_force_n (const DrEngine *engine);
/* Whether the sample dr_engine_last_force_n () read was in contact. */
bool dr_engine_in_contact (const DrEngine *engine);
int dr_engine_last_zone (const DrEngine *engine);
/* Zone the latest contact sample was attributed to (sensor or user);
 * DR_ZONE_UNASSIGNED when none was, or before any contact. */
int dr_engine_contact_zone (const DrEngine *engine);
double dr_engine_force_limit_n (const DrEngine *engine, int zone);
const DrEngineConfig *dr_engine_get_config (const DrEngine *engine);
const DrEngineStats *dr_engine_get_stats (const DrEngine *engine);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrEngine, dr_engine_free)

G_END_DECLS
