/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rest-timer.c: one timer to the next zone whose rest ends (see
 * rest-timer.h). */
#include "rest-timer.h"

#include "rest-status.h"

struct _DrRestTimer
{
  GObject parent_instance;

  const DrEngineConfig *config;
  DrRestTimerClock clock;
  gpointer clock_data;
  /* person id → gint64[DR_MAX_ZONES]: when each waiting zone is free, 0
   * for a zone not waiting. Only this is kept: the end of a rest is a
   * wall-clock time that no later computation changes. */
  GHashTable *waiting;
  GSource *source; /* armed to armed_ms, or NULL */
  gint64 armed_ms;
};

enum
{
  PROP_0,
  PROP_CONFIG,
  N_PROPS
};

enum
{
  SIGNAL_ZONE_READY,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (DrRestTimer, dr_rest_timer, G_TYPE_OBJECT)

typedef struct
{
  guint person_id;
  int zone;
} Ready;

static gint64
real_clock (gpointer user_data)
{
  return g_get_real_time () / 1000;
}

static void arm (DrRestTimer *self, gint64 now_ms);

/* Takes the zones due by @now_ms out of the waiting ones, into @ready. */
static void
collect_due (DrRestTimer *self, gint64 now_ms, GArray *ready)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->waiting);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gint64 *free_from = value;

      for (int z = 0; z < DR_MAX_ZONES; z++)
        if (free_from[z] != 0 && free_from[z] <= now_ms)
          {
            Ready r = { GPOINTER_TO_UINT (key), z };

            free_from[z] = 0;
            g_array_append_val (ready, r);
          }
    }
}

/* Signals last, once the state is whole again: a handler may give new
 * treatments. */
static void
emit_ready (DrRestTimer *self, GArray *ready)
{
  g_object_ref (self);
  for (guint i = 0; i < ready->len; i++)
    {
      Ready *r = &g_array_index (ready, Ready, i);

      /* Excluded now: not a zone to invite anyone to treat. */
      if (r->zone < (int) self->config->n_zones && self->config->zones[r->zone].excluded)
        continue;
      g_signal_emit (self, signals[SIGNAL_ZONE_READY], 0, r->person_id, r->zone);
    }
  g_object_unref (self);
}

static void
check (DrRestTimer *self)
{
  g_autoptr (GArray) ready = g_array_new (FALSE, FALSE, sizeof (Ready));
  gint64 now_ms = self->clock (self->clock_data);

  collect_due (self, now_ms, ready);
  arm (self, now_ms);
  emit_ready (self, ready);
}

static gboolean
on_timeout (gpointer user_data)
{
  DrRestTimer *self = user_data;

  g_clear_pointer (&self->source, g_source_unref);
  self->armed_ms = 0;
  check (self);
  return G_SOURCE_REMOVE;
}

static void
disarm (DrRestTimer *self)
{
  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_clear_pointer (&self->source, g_source_unref);
    }
  self->armed_ms = 0;
}

/* The one timer, to the earliest end of a rest after @now_ms; none when no
 * zone is waiting. */
static void
arm (DrRestTimer *self, gint64 now_ms)
{
  GHashTableIter iter;
  gpointer value;
  gint64 due = G_MAXINT64;
  gint64 delay_ms;

  g_hash_table_iter_init (&iter, self->waiting);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const gint64 *free_from = value;

      for (int z = 0; z < DR_MAX_ZONES; z++)
        if (free_from[z] != 0)
          due = MIN (due, free_from[z]);
    }
  if (due == G_MAXINT64)
    {
      disarm (self);
      return;
    }
  if (self->source != NULL && self->armed_ms == due)
    return;
  disarm (self);
  delay_ms = MAX (due - now_ms, 0);
  /* A millisecond timer reaches 49 days; rests may be configured up to ten
   * years, which a timer in seconds covers (one late second is nothing). */
  if (delay_ms <= G_MAXUINT)
    self->source = g_timeout_source_new ((guint) delay_ms);
  else
    self->source = g_timeout_source_new_seconds ((guint) MIN (delay_ms / 1000, G_MAXUINT));
  g_source_set_static_name (self->source, "[dermaroll] rest timer");
  g_source_set_callback (self->source, on_timeout, self, NULL);
  g_source_attach (self->source, NULL);
  self->armed_ms = due;
  g_debug ("rest timer armed for %" G_GINT64_FORMAT " (in %" G_GINT64_FORMAT " ms)", due, delay_ms);
}

void
dr_rest_timer_set_treatments (DrRestTimer *self, guint person_id, const DrTreatment *treatments,
                              gsize n_treatments)
{
  g_autoptr (GArray) ready = g_array_new (FALSE, FALSE, sizeof (Ready));
  DrRestStatus status[DR_MAX_ZONES];
  gint64 now_ms;
  gint64 *free_from;

  g_return_if_fail (DR_IS_REST_TIMER (self));
  g_return_if_fail (treatments != NULL || n_treatments == 0);

  now_ms = self->clock (self->clock_data);
  /* What was due by now became ready under the old treatments, whether or
   * not the timer has run yet. */
  collect_due (self, now_ms, ready);
  free_from = g_hash_table_lookup (self->waiting, GUINT_TO_POINTER (person_id));
  if (free_from == NULL)
    {
      free_from = g_new0 (gint64, DR_MAX_ZONES);
      g_hash_table_insert (self->waiting, GUINT_TO_POINTER (person_id), free_from);
    }
  dr_rest_status_compute (self->config, treatments, n_treatments, now_ms, status);
  for (int z = 0; z < DR_MAX_ZONES; z++)
    free_from[z] = status[z].free_from_ms > now_ms ? status[z].free_from_ms : 0;
  arm (self, now_ms);
  emit_ready (self, ready);
}

void
dr_rest_timer_remove_person (DrRestTimer *self, guint person_id)
{
  g_return_if_fail (DR_IS_REST_TIMER (self));

  g_hash_table_remove (self->waiting, GUINT_TO_POINTER (person_id));
  arm (self, self->clock (self->clock_data));
}

void
dr_rest_timer_rearm (DrRestTimer *self)
{
  g_return_if_fail (DR_IS_REST_TIMER (self));

  /* The monotonic delay armed before may be wrong now: start afresh. */
  g_debug ("rest timer: reading the wall clock again");
  disarm (self);
  check (self);
}

gint64
dr_rest_timer_get_armed_ms (DrRestTimer *self)
{
  g_return_val_if_fail (DR_IS_REST_TIMER (self), 0);
  return self->source != NULL ? self->armed_ms : 0;
}

void
dr_rest_timer_set_clock (DrRestTimer *self, DrRestTimerClock clock, gpointer user_data)
{
  g_return_if_fail (DR_IS_REST_TIMER (self));
  self->clock = clock ? clock : real_clock;
  self->clock_data = clock ? user_data : NULL;
}

static void
dr_rest_timer_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  DrRestTimer *self = DR_REST_TIMER (object);

  switch (prop_id)
    {
      case PROP_CONFIG:
        self->config = g_value_get_pointer (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_rest_timer_constructed (GObject *object)
{
  DrRestTimer *self = DR_REST_TIMER (object);

  G_OBJECT_CLASS (dr_rest_timer_parent_class)->constructed (object);
  g_assert (self->config != NULL);
}

static void
dr_rest_timer_finalize (GObject *object)
{
  DrRestTimer *self = DR_REST_TIMER (object);

  disarm (self);
  g_clear_pointer (&self->waiting, g_hash_table_unref);
  G_OBJECT_CLASS (dr_rest_timer_parent_class)->finalize (object);
}

static void
dr_rest_timer_class_init (DrRestTimerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->set_property = dr_rest_timer_set_property;
  object_class->constructed = dr_rest_timer_constructed;
  object_class->finalize = dr_rest_timer_finalize;

  /* A plain struct the daemon owns and outlives the timer with. */
  props[PROP_CONFIG] = g_param_spec_pointer (
      "config", NULL, NULL, G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_ZONE_READY]
      = g_signal_new ("zone-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_INT);
}

static void
dr_rest_timer_init (DrRestTimer *self)
{
  self->clock = real_clock;
  self->waiting = g_hash_table_new_full (NULL, NULL, NULL, g_free);
}

DrRestTimer *
dr_rest_timer_new (const DrEngineConfig *config)
{
  return g_object_new (DR_TYPE_REST_TIMER, "config", config, NULL);
}
