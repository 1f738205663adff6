/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* engine.c: the treatment engine (issue 2, "The treatment engine").
 *
 * dr_engine_feed() is the hot path: it allocates nothing, looks at no
 * strings and calls out only to emit events. Per-zone state lives in fixed
 * arrays indexed by slot (zone id, or UNASSIGNED_SLOT), and everything that
 * follows from the config and the head (force thresholds in mN, area and
 * revolutions per tick, rest windows) is worked out again only when one of
 * them changes.
 *
 * Rules the spec leaves open, decided here:
 * - A sample's time is t0 plus the dt of every later sample in its frame;
 *   t0 is by definition the first sample's time, so the first dt is ignored.
 * - Ticks are judged sample to sample across frames: a delta of 2^31 or more
 *   means the counter went back (roller reset), which starts a new baseline
 *   and counts nothing. Lost frames need nothing special: the next sample's
 *   cumulative count covers them.
 * - A sensor-fault sample (0xFFFF) has no force, so it is not contact, not a
 *   pressure sample and not a session's last contact; but the drum kept
 *   turning, so its ticks count for its zone when the last valid sample was
 *   in contact and a session is active.
 * - Without head info the needle length is unknown and the longest class
 *   applies (lowest force limit, longest rest): erring towards warnings.
 * - The rest window is the earlier treatment's, not the head's in use:
 *   skin heals from the deepest needling it had. A treatment's needle
 *   not known (no head) counts as the longest class.
 * - Over-pressure is judged against the limit of each sample's own zone; the
 *   end event carries the zone and limit of the start event.
 * - Stream events (seq gap, counter reset) carry DR_ZONE_UNASSIGNED.
 */
#include "engine.h"

#include <math.h>
#include <string.h>

#define UNASSIGNED_SLOT DR_MAX_ZONES
#define N_SLOTS (DR_MAX_ZONES + 1)
#define NO_STRETCH (-2) /* not a zone id, not DR_ZONE_UNASSIGNED */

#define PRESSURE_START_MS 150
#define PRESSURE_END_MS 300
#define PRESSURE_END_FRACTION 0.9
#define MS_PER_DAY 86400000.0
#define TICKS_WENT_BACK 0x80000000u
#define SEQ_WENT_BACK 0x8000u

struct _DrEngine
{
  DrEngineConfig config;
  DrEventFunc event_func;
  void *event_data;

  /* From the config */
  bool sensor_zone[256]; /* zone byte → is a configured zone */
  double inv_area[N_SLOTS];
  double inv_target[N_SLOTS];
  double direction_share[N_SLOTS];     /* T/3: passes one direction is credited up to */
  double over_treated_passes[N_SLOTS]; /* INFINITY: never */
  uint32_t contact_mn;                 /* contact at force_mn ≥ this */

  /* From the config and the head */
  bool have_head;
  DrHeadInfo head;
  double revs_per_tick;
  double cm2_per_tick;
  double needles_per_tick;                     /* needle_count × revolutions per tick */
  int64_t rest_window_ms[DR_N_NEEDLE_CLASSES]; /* by the earlier treatment's needle */
  double limit_n[N_SLOTS];
  uint32_t above_mn[N_SLOTS]; /* over the limit at force_mn > this */
  uint32_t below_mn[N_SLOTS]; /* under 90 % of it at force_mn < this */
  double head_revolutions;

  int user_zone;
  /* The latest earlier treatment of each zone by needle class: within a
   * class the latest one's window ends last, so it alone decides. */
  int64_t treated_ms[DR_MAX_ZONES][DR_N_NEEDLE_CLASSES]; /* INT64_MIN: none */
  uint16_t treated_needle_um[DR_MAX_ZONES][DR_N_NEEDLE_CLASSES];

  /* The stream */
  bool have_seq;
  uint16_t last_seq;
  bool have_ticks;
  uint32_t prev_ticks;
  bool carry_contact; /* the last valid sample was in contact */
  double last_force_n;
  int last_zone;
  bool frame_v2;         /* the frame being fed is version 2 */
  DrDirection direction; /* of the sample being fed */
  int contact_zone;      /* of the latest contact sample */
  int stretch_zone;      /* zone of the current contact stretch, or NO_STRETCH */

  /* Over-pressure */
  bool above_run;
  bool below_run;
  bool in_episode;
  int64_t above_start_ms;
  int64_t below_start_ms;
  int64_t episode_start_ms;
  int episode_zone;
  double episode_limit_n;
  double episode_peak_n;

  /* Sessions */
  bool session_active;
  bool session_had_contact;
  int64_t session_start_ms;
  int64_t session_end_ms;
  int64_t last_contact_ms;
  int64_t session_deadline_ms; /* INT64_MAX when none is active */
  uint64_t touched;            /* slot bits: zones with contact this session */
  uint64_t too_soon_sent;
  uint64_t over_treated_sent;
  bool head_worn_sent;

  DrZoneTotals totals[N_SLOTS];
  DrEngineStats stats;
};

static const char *const event_kind_names[DR_N_EVENT_KINDS] = {
  [DR_EVENT_SESSION_STARTED] = "session-started",
  [DR_EVENT_SESSION_ENDED] = "session-ended",
  [DR_EVENT_PRESSURE_STARTED] = "pressure-started",
  [DR_EVENT_PRESSURE_ENDED] = "pressure-ended",
  [DR_EVENT_EXCLUDED_ZONE] = "excluded",
  [DR_EVENT_OVER_TREATED] = "over-treated",
  [DR_EVENT_TOO_SOON] = "too-soon",
  [DR_EVENT_HEAD_WORN] = "head-worn",
  [DR_EVENT_SEQ_GAP] = "seq-gap",
  [DR_EVENT_COUNTER_RESET] = "counter-reset",
};

const char *
dr_event_kind_name (DrEventKind kind)
{
  if ((unsigned) kind >= DR_N_EVENT_KINDS)
    return NULL;
  return event_kind_names[kind];
}

/* Sample times come off the wire: never let arithmetic on them overflow. */
static inline int64_t
ms_diff (int64_t a, int64_t b)
{
  return (int64_t) ((uint64_t) a - (uint64_t) b);
}

static inline int64_t
ms_add_saturated (int64_t t, int64_t d)
{
  return t > INT64_MAX - d ? INT64_MAX : t + d;
}

static inline int
slot_of (int zone)
{
  return zone < 0 ? UNASSIGNED_SLOT : zone;
}

static inline bool
zone_configured (const DrEngine *engine, int zone)
{
  return zone >= 0 && zone < DR_MAX_ZONES && (unsigned) zone < engine->config.n_zones
         && engine->config.zones[zone].name[0] != '\0';
}

static void
emit (DrEngine *engine, const DrEvent *event)
{
  if (engine->event_func != NULL)
    engine->event_func (event, engine->event_data);
}

static DrEvent
event_init (DrEventKind kind, int64_t time_ms, int zone)
{
  DrEvent event = { 0 };

  event.kind = kind;
  event.time_ms = time_ms;
  event.zone = zone;
  event.last_treated_ms = INT64_MIN;
  return event;
}

/* A force in N as a threshold in whole mN, rounded to 1/1000 mN first so
 * that 0.9 × 5.0 N is exactly 4500 mN and not 4500.000000000001. */
static double
force_to_mn (double force_n)
{
  return round (force_n * 1e6) / 1000.0;
}

static uint32_t
clamp_mn (double mn)
{
  if (mn <= 0)
    return 0;
  if (mn >= UINT32_MAX)
    return UINT32_MAX;
  return (uint32_t) mn;
}

static void
update_head_rules (DrEngine *engine)
{
  const DrEngineConfig *c = &engine->config;
  uint16_t needle_length_um = engine->have_head ? engine->head.needle_length_um : UINT16_MAX;

  for (int slot = 0; slot < N_SLOTS; slot++)
    {
      int zone = slot == UNASSIGNED_SLOT ? DR_ZONE_UNASSIGNED : slot;
      double limit = dr_engine_config_force_limit (c, zone, needle_length_um);
      double limit_mn = force_to_mn (limit);
      double end_mn = force_to_mn (limit * PRESSURE_END_FRACTION);

      engine->limit_n[slot] = limit;
      /* Forces are whole mN: f > L ⇔ f > ⌊L⌋ and f < E ⇔ f < ⌈E⌉. */
      engine->above_mn[slot] = clamp_mn (floor (limit_mn));
      engine->below_mn[slot] = clamp_mn (ceil (end_mn));
    }

  engine->revs_per_tick = 0;
  engine->cm2_per_tick = 0;
  engine->needles_per_tick = 0;
  if (engine->have_head && engine->head.ticks_per_rev > 0)
    {
      /* 10 µm units to cm: × 1e-3. */
      double cm2_per_rev
          = G_PI * (engine->head.drum_diameter_10um * 1e-3) * (engine->head.drum_width_10um * 1e-3);

      engine->revs_per_tick = 1.0 / engine->head.ticks_per_rev;
      engine->cm2_per_tick = cm2_per_rev / engine->head.ticks_per_rev;
      engine->needles_per_tick = (double) engine->head.needle_count / engine->head.ticks_per_rev;
    }
}

static void
update_zone_rules (DrEngine *engine)
{
  const DrEngineConfig *c = &engine->config;

  memset (engine->sensor_zone, 0, sizeof (engine->sensor_zone));
  for (int slot = 0; slot < N_SLOTS; slot++)
    {
      engine->inv_area[slot] = 0;
      engine->inv_target[slot] = 0;
      engine->direction_share[slot] = 0;
      engine->over_treated_passes[slot] = INFINITY;
      if (slot == UNASSIGNED_SLOT || !zone_configured (engine, slot))
        continue;
      engine->sensor_zone[slot] = true;
      if (c->zones[slot].area_cm2 > 0)
        engine->inv_area[slot] = 1.0 / c->zones[slot].area_cm2;
      if (c->zones[slot].target_passes > 0)
        {
          engine->inv_target[slot] = 1.0 / c->zones[slot].target_passes;
          engine->direction_share[slot] = c->zones[slot].target_passes / 3.0;
          engine->over_treated_passes[slot]
              = c->over_treatment_factor * c->zones[slot].target_passes;
        }
    }
  engine->contact_mn = clamp_mn (ceil (force_to_mn (c->contact_force_n)));
  for (int k = 0; k < DR_N_NEEDLE_CLASSES; k++)
    engine->rest_window_ms[k] = (int64_t) llround (c->rest_days[k] * MS_PER_DAY);
}

static void
clear_treatments (DrEngine *engine)
{
  for (int z = 0; z < DR_MAX_ZONES; z++)
    for (int k = 0; k < DR_N_NEEDLE_CLASSES; k++)
      {
        engine->treated_ms[z][k] = INT64_MIN;
        engine->treated_needle_um[z][k] = 0;
      }
}

/* Not known (0) is the longest class: erring towards the warning. */
static DrNeedleClass
treatment_class (uint16_t needle_length_um)
{
  return dr_needle_class_for_length (needle_length_um == 0 ? UINT16_MAX : needle_length_um);
}

static void
record_treatment (DrEngine *engine, int zone, int64_t time_ms, uint16_t needle_length_um)
{
  DrNeedleClass k = treatment_class (needle_length_um);

  engine->treated_ms[zone][k] = time_ms;
  engine->treated_needle_um[zone][k] = needle_length_um;
}

static uint16_t
head_needle_um (const DrEngine *engine)
{
  return engine->have_head ? engine->head.needle_length_um : 0;
}

DrEngine *
dr_engine_new (const DrEngineConfig *config)
{
  DrEngine *engine;

  g_return_val_if_fail (config != NULL, NULL);

  engine = g_new0 (DrEngine, 1);
  engine->config = *config;
  if (engine->config.n_zones > DR_MAX_ZONES)
    engine->config.n_zones = DR_MAX_ZONES;
  engine->user_zone = DR_ZONE_UNASSIGNED;
  engine->last_zone = DR_ZONE_UNASSIGNED;
  engine->contact_zone = DR_ZONE_UNASSIGNED;
  engine->stretch_zone = NO_STRETCH;
  engine->episode_zone = DR_ZONE_UNASSIGNED;
  engine->session_start_ms = INT64_MIN;
  engine->session_end_ms = INT64_MIN;
  engine->last_contact_ms = INT64_MIN;
  engine->session_deadline_ms = INT64_MAX;
  clear_treatments (engine);
  update_zone_rules (engine);
  update_head_rules (engine);
  return engine;
}

void
dr_engine_free (DrEngine *engine)
{
  g_free (engine);
}

DrEngine *
dr_engine_copy (const DrEngine *engine)
{
  DrEngine *copy;

  g_return_val_if_fail (engine != NULL, NULL);
  /* All state is inline: a byte copy is a deep copy. */
  copy = g_memdup2 (engine, sizeof *engine);
  copy->event_func = NULL;
  copy->event_data = NULL;
  return copy;
}

void
dr_engine_set_event_func (DrEngine *engine, DrEventFunc func, void *user_data)
{
  g_return_if_fail (engine != NULL);

  engine->event_func = func;
  engine->event_data = user_data;
}

void
dr_engine_set_head (DrEngine *engine, const DrHeadInfo *head, double head_revolutions)
{
  g_return_if_fail (engine != NULL);

  /* A different head may be worn too: it gets its own warning. */
  if (head == NULL || !engine->have_head || head->head_id != engine->head.head_id)
    engine->head_worn_sent = false;

  engine->have_head = head != NULL;
  if (head != NULL)
    engine->head = *head;
  else
    memset (&engine->head, 0, sizeof (engine->head));
  engine->head_revolutions = head != NULL && head_revolutions > 0 ? head_revolutions : 0;
  update_head_rules (engine);
}

void
dr_engine_set_user_zone (DrEngine *engine, int zone)
{
  g_return_if_fail (engine != NULL);
  g_return_if_fail (zone == DR_ZONE_UNASSIGNED || zone_configured (engine, zone));

  engine->user_zone = zone;
}

void
dr_engine_set_zone_excluded (DrEngine *engine, int zone, bool excluded)
{
  g_return_if_fail (engine != NULL);
  g_return_if_fail (zone_configured (engine, zone));

  engine->config.zones[zone].excluded = excluded;
}

int64_t
dr_engine_rest_ms (int64_t time_ms, int64_t last_treated_ms)
{
  int64_t rest = ms_diff (time_ms, last_treated_ms);

  return MAX (rest, 0);
}

void
dr_engine_set_last_treated (DrEngine *engine, int zone, int64_t time_ms)
{
  g_return_if_fail (engine != NULL);
  g_return_if_fail (zone_configured (engine, zone));

  for (int k = 0; k < DR_N_NEEDLE_CLASSES; k++)
    engine->treated_ms[zone][k] = INT64_MIN;
  if (time_ms != INT64_MIN)
    record_treatment (engine, zone, time_ms, head_needle_um (engine));
}

void
dr_engine_add_treatment (DrEngine *engine, const DrTreatment *treatment)
{
  DrNeedleClass k;

  g_return_if_fail (engine != NULL);
  g_return_if_fail (treatment != NULL);

  if (!zone_configured (engine, treatment->zone) || treatment->treated_at_ms == INT64_MIN)
    return;
  /* The latest of a class decides; order of arrival does not matter. */
  k = treatment_class (treatment->needle_length_um);
  if (engine->treated_ms[treatment->zone][k] == INT64_MIN
      || treatment->treated_at_ms >= engine->treated_ms[treatment->zone][k])
    record_treatment (engine, treatment->zone, treatment->treated_at_ms,
                      treatment->needle_length_um);
}

void
dr_engine_set_treatments (DrEngine *engine, const DrTreatment *treatments, size_t n)
{
  g_return_if_fail (engine != NULL);
  g_return_if_fail (treatments != NULL || n == 0);

  clear_treatments (engine);
  for (size_t i = 0; i < n; i++)
    dr_engine_add_treatment (engine, &treatments[i]);
}

int64_t
dr_engine_rest_window_ms (const DrEngine *engine, uint16_t needle_length_um)
{
  g_return_val_if_fail (engine != NULL, 0);

  return engine->rest_window_ms[treatment_class (needle_length_um)];
}

int64_t
dr_engine_zone_free_at_ms (const DrEngine *engine, int zone)
{
  int64_t free_at = INT64_MIN;

  g_return_val_if_fail (engine != NULL, INT64_MIN);
  if (!zone_configured (engine, zone))
    return INT64_MIN;
  for (int k = 0; k < DR_N_NEEDLE_CLASSES; k++)
    if (engine->treated_ms[zone][k] != INT64_MIN)
      free_at = MAX (free_at,
                     ms_add_saturated (engine->treated_ms[zone][k], engine->rest_window_ms[k]));
  return free_at;
}

/* The earlier treatment of @zone whose window is not over at @t and ends
 * last, into @event; false when every window is over. */
static bool
rest_not_over (const DrEngine *engine, int zone, int64_t t, DrEvent *event)
{
  bool found = false;

  for (int k = 0; k < DR_N_NEEDLE_CLASSES; k++)
    {
      int64_t treated = engine->treated_ms[zone][k];
      int64_t free_at;

      if (treated == INT64_MIN || dr_engine_rest_ms (t, treated) >= engine->rest_window_ms[k])
        continue;
      free_at = ms_add_saturated (treated, engine->rest_window_ms[k]);
      if (!found || free_at > event->free_at_ms)
        {
          found = true;
          event->last_treated_ms = treated;
          event->last_needle_um = engine->treated_needle_um[zone][k];
          event->free_at_ms = free_at;
        }
    }
  return found;
}

/* Sessions */

static void
begin_session (DrEngine *engine, int64_t t)
{
  DrEvent event = event_init (DR_EVENT_SESSION_STARTED, t, DR_ZONE_UNASSIGNED);

  memset (engine->totals, 0, sizeof (engine->totals));
  engine->touched = 0;
  engine->too_soon_sent = 0;
  engine->over_treated_sent = 0;
  engine->head_worn_sent = false;
  engine->session_active = true;
  engine->session_had_contact = false;
  engine->session_start_ms = t;
  engine->session_end_ms = t;
  engine->session_deadline_ms = ms_add_saturated (t, engine->config.session_gap_ms);
  emit (engine, &event);
}

static void
end_session (DrEngine *engine)
{
  int64_t end = engine->session_had_contact ? engine->last_contact_ms : engine->session_start_ms;
  DrEvent event;

  if (engine->in_episode)
    {
      event = event_init (DR_EVENT_PRESSURE_ENDED, end, engine->episode_zone);
      event.limit_n = engine->episode_limit_n;
      event.peak_n = engine->episode_peak_n;
      event.duration_ms = ms_diff (end, engine->episode_start_ms);
      engine->in_episode = false;
      emit (engine, &event);
    }
  engine->above_run = false;
  engine->below_run = false;

  for (int zone = 0; zone < DR_MAX_ZONES; zone++)
    if (engine->touched & (UINT64_C (1) << zone))
      record_treatment (engine, zone, end, head_needle_um (engine));

  engine->session_active = false;
  engine->session_end_ms = end;
  engine->session_deadline_ms = INT64_MAX;

  event = event_init (DR_EVENT_SESSION_ENDED, end, DR_ZONE_UNASSIGNED);
  event.duration_ms = ms_diff (end, engine->session_start_ms);
  emit (engine, &event);
}

/* The hot path */

/* Ticks in contact (or carried over a sensor fault) go to @slot. Called for
 * every such sample, even with no ticks, for the head-wear check. */
static inline void
attribute (DrEngine *engine, int slot, DrZoneSource source, uint32_t delta, int64_t t)
{
  DrZoneTotals *zt = &engine->totals[slot];

  zt->source = source;
  if (delta != 0 && engine->revs_per_tick > 0)
    {
      double revs = delta * engine->revs_per_tick;

      double cm2 = delta * engine->cm2_per_tick;
      double credited;

      zt->revolutions += revs;
      zt->rolled_cm2 += cm2;
      zt->passes = zt->rolled_cm2 * engine->inv_area[slot];
      zt->passes_by_direction[engine->direction] += cm2 * engine->inv_area[slot];
      credited = zt->passes_by_direction[DR_DIRECTION_UNKNOWN];
      for (int d = DR_DIRECTION_HORIZONTAL; d < DR_N_DIRECTIONS; d++)
        credited += MIN (zt->passes_by_direction[d], engine->direction_share[slot]);
      zt->coverage = MIN (1.0, credited * engine->inv_target[slot]);
      zt->punctures_per_cm2 += delta * engine->needles_per_tick * engine->inv_area[slot];
      engine->head_revolutions += revs;

      if (G_UNLIKELY (zt->passes >= engine->over_treated_passes[slot])
          && !(engine->over_treated_sent & (UINT64_C (1) << slot)))
        {
          DrEvent event = event_init (DR_EVENT_OVER_TREATED, t, slot);

          engine->over_treated_sent |= UINT64_C (1) << slot;
          emit (engine, &event);
        }
    }

  if (G_UNLIKELY (!engine->head_worn_sent) && engine->have_head
      && engine->head_revolutions >= engine->config.head_life_revolutions)
    {
      int zone = slot == UNASSIGNED_SLOT ? DR_ZONE_UNASSIGNED : slot;
      DrEvent event = event_init (DR_EVENT_HEAD_WORN, t, zone);

      engine->head_worn_sent = true;
      event.head_id = engine->head.head_id;
      event.wear = dr_engine_head_wear (engine);
      emit (engine, &event);
    }
}

static inline void
contact (DrEngine *engine, int64_t t, int zone, DrZoneSource source, uint32_t delta,
         uint16_t force_mn)
{
  int slot = slot_of (zone);
  double force_n = force_mn * 1e-3;

  if (!engine->session_active)
    begin_session (engine, t);
  engine->session_had_contact = true;
  engine->last_contact_ms = t;
  engine->session_deadline_ms = ms_add_saturated (t, engine->config.session_gap_ms);

  if (zone >= 0)
    {
      uint64_t bit = UINT64_C (1) << zone;

      /* Treatments are recorded only when a session ends, so this
       * session's own contact never counts here. */
      if (!(engine->too_soon_sent & bit))
        {
          DrEvent event = event_init (DR_EVENT_TOO_SOON, t, zone);

          if (rest_not_over (engine, zone, t, &event))
            {
              engine->too_soon_sent |= bit;
              emit (engine, &event);
            }
        }
      engine->touched |= bit;

      if (G_UNLIKELY (engine->config.zones[zone].excluded) && engine->stretch_zone != zone)
        {
          DrEvent event = event_init (DR_EVENT_EXCLUDED_ZONE, t, zone);

          emit (engine, &event);
        }
    }
  engine->stretch_zone = zone;

  if (force_n > engine->totals[slot].peak_force_n)
    engine->totals[slot].peak_force_n = force_n;
  attribute (engine, slot, source, delta, t);
}

static inline void
pressure (DrEngine *engine, int64_t t, int zone, uint16_t force_mn)
{
  int slot = slot_of (zone);

  if (!engine->in_episode)
    {
      if (force_mn > engine->above_mn[slot])
        {
          if (!engine->above_run)
            {
              engine->above_run = true;
              engine->above_start_ms = t;
            }
          if (ms_diff (t, engine->above_start_ms) >= PRESSURE_START_MS)
            {
              DrEvent event = event_init (DR_EVENT_PRESSURE_STARTED, t, zone);

              engine->in_episode = true;
              engine->below_run = false;
              engine->episode_start_ms = t;
              engine->episode_zone = zone;
              engine->episode_limit_n = engine->limit_n[slot];
              engine->episode_peak_n = force_mn * 1e-3;
              event.force_n = engine->episode_peak_n;
              event.limit_n = engine->episode_limit_n;
              emit (engine, &event);
            }
        }
      else
        {
          engine->above_run = false;
        }
      return;
    }

  if (force_mn * 1e-3 > engine->episode_peak_n)
    engine->episode_peak_n = force_mn * 1e-3;
  if (force_mn < engine->below_mn[slot])
    {
      if (!engine->below_run)
        {
          engine->below_run = true;
          engine->below_start_ms = t;
        }
      if (ms_diff (t, engine->below_start_ms) >= PRESSURE_END_MS)
        {
          DrEvent event = event_init (DR_EVENT_PRESSURE_ENDED, t, engine->episode_zone);

          engine->in_episode = false;
          engine->above_run = false;
          engine->below_run = false;
          event.limit_n = engine->episode_limit_n;
          event.peak_n = engine->episode_peak_n;
          event.duration_ms = ms_diff (t, engine->episode_start_ms);
          emit (engine, &event);
        }
    }
  else
    {
      /* Between 90 % and the limit: not low enough to count towards the end. */
      engine->below_run = false;
    }
}

static inline void
feed_sample (DrEngine *engine, int64_t t, const DrSample *s)
{
  uint32_t delta = 0;
  int zone;
  DrZoneSource source;

  /* The session ends before this sample is looked at: it may start the next. */
  if (G_UNLIKELY (t >= engine->session_deadline_ms) && engine->session_active)
    end_session (engine);

  if (G_LIKELY (engine->have_ticks))
    {
      /* Unsigned: right across the 2^32 wrap. */
      delta = s->ticks - engine->prev_ticks;
      if (G_UNLIKELY (delta >= TICKS_WENT_BACK))
        {
          DrEvent event = event_init (DR_EVENT_COUNTER_RESET, t, DR_ZONE_UNASSIGNED);

          delta = 0;
          engine->stats.counter_resets++;
          emit (engine, &event);
        }
    }
  engine->have_ticks = true;
  engine->prev_ticks = s->ticks;
  /* A version 1 frame has no motion byte, whatever a caller left in it. */
  engine->direction = engine->frame_v2 ? DR_MOTION_DIRECTION (s->motion) : DR_DIRECTION_UNKNOWN;

  if (G_LIKELY (engine->sensor_zone[s->zone]))
    {
      zone = s->zone;
      source = DR_ZONE_SOURCE_SENSOR;
    }
  else
    {
      if (s->zone != DR_ZONE_UNKNOWN)
        engine->stats.unknown_zone_samples++;
      zone = engine->user_zone;
      source = zone >= 0 ? DR_ZONE_SOURCE_USER : DR_ZONE_SOURCE_NONE;
    }

  if (G_UNLIKELY (s->force_mn == DR_FORCE_SENSOR_FAULT))
    {
      engine->stats.sensor_faults++;
      if (engine->carry_contact && engine->session_active)
        attribute (engine, slot_of (zone), source, delta, t);
      return;
    }

  engine->last_force_n = s->force_mn * 1e-3;
  engine->last_zone = zone;
  engine->carry_contact = s->force_mn >= engine->contact_mn;
  if (engine->carry_contact)
    {
      engine->contact_zone = zone;
      contact (engine, t, zone, source, delta, s->force_mn);
    }
  else
    engine->stretch_zone = NO_STRETCH;

  pressure (engine, t, zone, s->force_mn);
}

void
dr_engine_feed (DrEngine *engine, const DrFrame *frame)
{
  unsigned n;
  uint64_t t;

  g_return_if_fail (engine != NULL);
  g_return_if_fail (frame != NULL);

  /* The decoder never yields more, but a caller building frames might. */
  n = MIN (frame->n_samples, DR_FRAME_MAX_SAMPLES);
  engine->stats.frames++;
  engine->stats.samples += n;
  engine->frame_v2 = frame->version == DR_PROTOCOL_VERSION_2;

  if (G_LIKELY (engine->have_seq))
    {
      uint16_t diff = (uint16_t) (frame->seq - engine->last_seq);

      /* 1 is the next frame; 0 or "negative" is a discontinuity (a
       * reconnect, a reset, a replay): a new baseline, not a gap. */
      if (G_UNLIKELY (diff >= 2 && diff < SEQ_WENT_BACK))
        {
          DrEvent event = event_init (DR_EVENT_SEQ_GAP, (int64_t) frame->t0_ms, DR_ZONE_UNASSIGNED);

          event.count = diff - 1u;
          engine->stats.seq_gaps++;
          engine->stats.frames_lost += diff - 1u;
          emit (engine, &event);
        }
    }
  engine->have_seq = true;
  engine->last_seq = frame->seq;

  /* Unsigned, then converted: no overflow whatever t0 the wire carries. */
  t = frame->t0_ms;
  for (unsigned i = 0; i < n; i++)
    {
      const DrSample *s = &frame->samples[i];

      if (i > 0)
        t += s->dt_ms;
      feed_sample (engine, (int64_t) t, s);
    }
}

void
dr_engine_advance (DrEngine *engine, int64_t now_ms)
{
  g_return_if_fail (engine != NULL);

  if (engine->session_active && now_ms >= engine->session_deadline_ms)
    end_session (engine);
}

void
dr_engine_start_session (DrEngine *engine, int64_t now_ms)
{
  g_return_if_fail (engine != NULL);

  /* Already in one: StartSession() keeps it. */
  if (!engine->session_active)
    begin_session (engine, now_ms);
}

void
dr_engine_stop_session (DrEngine *engine)
{
  g_return_if_fail (engine != NULL);

  if (engine->session_active)
    end_session (engine);
}

bool
dr_engine_session_active (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, false);

  return engine->session_active;
}

int64_t
dr_engine_session_start_ms (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, INT64_MIN);

  return engine->session_start_ms;
}

int64_t
dr_engine_session_end_ms (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, INT64_MIN);

  if (engine->session_active)
    return engine->session_had_contact ? engine->last_contact_ms : engine->session_start_ms;
  return engine->session_end_ms;
}

int64_t
dr_engine_session_deadline_ms (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, INT64_MAX);

  return engine->session_deadline_ms;
}

const DrZoneTotals *
dr_engine_zone_totals (const DrEngine *engine, int zone)
{
  g_return_val_if_fail (engine != NULL, NULL);
  g_return_val_if_fail (zone == DR_ZONE_UNASSIGNED || (zone >= 0 && zone < DR_MAX_ZONES), NULL);

  return &engine->totals[slot_of (zone)];
}

double
dr_engine_direction_coverage (const double passes_by_direction[DR_N_DIRECTIONS],
                              double target_passes)
{
  double credited;

  if (!(target_passes > 0))
    return 0;
  credited = passes_by_direction[DR_DIRECTION_UNKNOWN];
  for (int d = DR_DIRECTION_HORIZONTAL; d < DR_N_DIRECTIONS; d++)
    credited += MIN (passes_by_direction[d], target_passes / 3.0);
  return MIN (1.0, credited / target_passes);
}

double
dr_engine_mean_coverage (const DrEngine *engine)
{
  double sum = 0;
  unsigned n = 0;

  g_return_val_if_fail (engine != NULL, 0.0);

  /* Over the zones to be treated: an excluded zone is complete when untouched. */
  for (int zone = 0; zone < DR_MAX_ZONES; zone++)
    {
      if (!zone_configured (engine, zone) || engine->config.zones[zone].excluded)
        continue;
      sum += engine->totals[zone].coverage;
      n++;
    }
  return n > 0 ? sum / n : 0.0;
}

double
dr_engine_head_revolutions (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, 0.0);

  return engine->head_revolutions;
}

double
dr_engine_head_wear (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, 0.0);

  if (engine->config.head_life_revolutions <= 0)
    return 0.0;
  return engine->head_revolutions / engine->config.head_life_revolutions;
}

double
dr_engine_last_force_n (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, 0.0);

  return engine->last_force_n;
}

bool
dr_engine_in_contact (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, false);

  return engine->carry_contact;
}

int
dr_engine_contact_zone (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, DR_ZONE_UNASSIGNED);

  return engine->contact_zone;
}

int
dr_engine_last_zone (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, DR_ZONE_UNASSIGNED);

  return engine->last_zone;
}

double
dr_engine_force_limit_n (const DrEngine *engine, int zone)
{
  g_return_val_if_fail (engine != NULL, 0.0);

  return engine->limit_n[zone_configured (engine, zone) ? zone : UNASSIGNED_SLOT];
}

const DrEngineConfig *
dr_engine_get_config (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, NULL);

  return &engine->config;
}

const DrEngineStats *
dr_engine_get_stats (const DrEngine *engine)
{
  g_return_val_if_fail (engine != NULL, NULL);

  return &engine->stats;
}
