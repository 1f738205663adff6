/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* patterns.c: the generated rolling patterns and trace playback behind
 * patterns.h. A pattern is a list of segments (strokes in contact, the
 * roller lifted) sized from the drum so that a session covers each zone a
 * little over the engine's default target; a trace is a file of recorded
 * frames whose samples are played back on their own timeline. */
#include <math.h>
#include <string.h>

#include <gio/gio.h>

#include "options.h"
#include "patterns.h"

typedef enum
{
  PATTERN_FACE,
  PATTERN_FULL,
  PATTERN_STEADY,
  PATTERN_PRESSURE,
  PATTERN_IDLE,
  PATTERN_UNZONED,
} PatternKind;

/* One stretch of the pattern: a stroke in contact, or the roller lifted. */
typedef struct
{
  double duration_s;
  guint8 zone;
  gboolean contact;
  double force_n;    /* plateau force while in contact */
  double spike_at_s; /* < 0: none. A short press above the plateau. */
  double spike_len_s;
  double spike_force_n;
  double fault_at_s; /* < 0: none. One force-sensor fault sample. */
  guint8 motion;     /* version 2 stroke direction (DrDirection) */
} Segment;

/* The default zones: forehead, left cheek, right cheek, nose,
 * upper lip, chin, neck (cm²). The pattern covers each about 6.3 times, just
 * over the engine's default target of 6 passes. */
static const double zone_area_cm2[] = { 60, 40, 40, 12, 8, 18, 110 };

static PatternKind pattern_kind = PATTERN_FACE;
static GArray *pattern_segments; /* Segment */

typedef struct
{
  gint64 offset_us; /* since the first sample of the trace */
  guint32 ticks;
  guint16 force_mn;
  guint8 zone;
  guint8 motion;
} TraceSample;

static GArray *trace_samples; /* TraceSample, NULL without --trace */

/* The directions strokes cycle through, PROTOCOL.md's technique: each of
 * horizontal, vertical, diagonal in turn unless --directions says other. */
static guint8 stroke_directions[8]
    = { DR_DIRECTION_HORIZONTAL, DR_DIRECTION_VERTICAL, DR_DIRECTION_DIAGONAL };
static guint n_stroke_directions = 3;

gboolean
patterns_parse_directions (const char *list)
{
  g_auto (GStrv) names = NULL;
  guint n = 0;

  if (list == NULL)
    return TRUE;
  names = g_strsplit (list, ",", -1);
  for (guint i = 0; names[i] != NULL; i++)
    {
      guint d;

      for (d = 0; d < DR_N_DIRECTIONS; d++)
        if (g_str_equal (g_strstrip (names[i]), dr_direction_name ((DrDirection) d)))
          break;
      if (d == DR_N_DIRECTIONS || n == G_N_ELEMENTS (stroke_directions))
        return FALSE;
      stroke_directions[n++] = (guint8) d;
    }
  if (n == 0)
    return FALSE;
  n_stroke_directions = n;
  return TRUE;
}

static guint32
rng_next (guint32 *state)
{
  /* xorshift32: deterministic noise, so a pattern is the same every run. */
  guint32 x = *state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

/* Uniform in [-1, 1). */
static double
rng_noise (guint32 *state)
{
  return (double) rng_next (state) / 2147483648.0 - 1.0;
}

static double
force_limit_n (void)
{
  /* The engine's default limits by needle length. */
  if (opt.needle_um <= 300)
    return 6.0;
  if (opt.needle_um <= 500)
    return 5.0;
  if (opt.needle_um <= 1000)
    return 4.0;
  return 3.0;
}

void
patterns_build (void)
{
  double limit = force_limit_n ();
  double circumference_cm = G_PI * opt.drum_diameter_10um / 1000.0;
  double area_per_rev_cm2 = circumference_cm * opt.drum_width_10um / 1000.0;
  const double stroke_s = 1.2, lift_s = 0.3, rev_per_s = 1.0;
  double area_per_stroke = area_per_rev_cm2 * rev_per_s * stroke_s;
  Segment base = { .spike_at_s = -1, .fault_at_s = -1, .motion = stroke_directions[0] };
  Segment seg;
  int last_zone;

  pattern_segments = g_array_new (FALSE, TRUE, sizeof (Segment));
  switch (pattern_kind)
    {
      case PATTERN_STEADY:
        seg = base;
        seg.duration_s = 1.0;
        seg.zone = 0;
        seg.contact = TRUE;
        seg.force_n = 0.5 * limit;
        g_array_append_val (pattern_segments, seg);
        return;
      case PATTERN_PRESSURE:
        /* Over-pressure episodes well past the 150 ms start threshold. */
        seg = base;
        seg.duration_s = 1.0;
        seg.zone = 1;
        seg.contact = TRUE;
        seg.force_n = 0.6 * limit;
        seg.spike_at_s = 0.4;
        seg.spike_len_s = 0.6;
        seg.spike_force_n = 1.2 * limit;
        g_array_append_val (pattern_segments, seg);
        seg.spike_at_s = -1;
        seg.duration_s = 1.0;
        g_array_append_val (pattern_segments, seg);
        seg = base;
        seg.duration_s = 0.4;
        seg.zone = 1;
        g_array_append_val (pattern_segments, seg);
        return;
      case PATTERN_IDLE:
        seg = base;
        seg.duration_s = 1.0;
        seg.zone = DR_ZONE_UNKNOWN;
        g_array_append_val (pattern_segments, seg);
        return;
      case PATTERN_FACE:
      case PATTERN_UNZONED:
      case PATTERN_FULL:
        break;
    }

  /* Zone by zone, strokes of 1.2 s at one revolution per second with the
   * roller lifted 0.3 s between strokes, until each zone has about 6.3
   * passes; 2 s to move to the next zone. Pressure: one stroke on the left
   * cheek pressed at 1.15× the limit (a warning), a 100 ms spike on the chin
   * (too short for one), and one force-sensor fault per zone. */
  last_zone = pattern_kind == PATTERN_FULL ? 6 : 5;
  for (int z = 0; z <= last_zone; z++)
    {
      int strokes = (int) ceil (6.3 * zone_area_cm2[z] / area_per_stroke);

      for (int s = 0; s < strokes; s++)
        {
          seg = base;
          seg.duration_s = stroke_s;
          seg.zone = (guint8) z;
          seg.contact = TRUE;
          seg.force_n = 0.55 * limit;
          seg.motion = stroke_directions[s % n_stroke_directions];
          if (z == 1 && s == 2)
            seg.force_n = 1.15 * limit;
          if (z == 5 && s == 1)
            {
              seg.spike_at_s = 0.5;
              seg.spike_len_s = 0.1;
              seg.spike_force_n = 1.2 * limit;
            }
          if (s == 4)
            seg.fault_at_s = 0.6;
          g_array_append_val (pattern_segments, seg);

          seg = base;
          seg.duration_s = s + 1 < strokes ? lift_s : 2.0;
          seg.zone = (guint8) z;
          g_array_append_val (pattern_segments, seg);
        }
    }
}

static void
pattern_sample (SampleGen *g, double period_s, DrSample *out)
{
  const Segment *seg = &g_array_index (pattern_segments, Segment, g->seg);
  double in = g->t_cycle_s - g->seg_start_s;
  double force = 0;
  gboolean fault = FALSE;

  if (seg->contact)
    {
      /* 80 ms ramps in and out, a slow wobble of the hand, sensor noise. */
      double ramp = MIN (1.0, MIN (in, seg->duration_s - in) / 0.08);

      force = seg->force_n + 0.2 * sin (2 * G_PI * g->t_total_s / 0.45);
      if (seg->spike_at_s >= 0 && in >= seg->spike_at_s && in < seg->spike_at_s + seg->spike_len_s)
        force = seg->spike_force_n;
      force = force * MAX (ramp, 0.0) + 0.05 * rng_noise (&g->rng);
      g->ticks_acc += opt.ticks_per_rev * period_s;
    }
  else
    force = 0.05 + 0.05 * rng_noise (&g->rng);
  if (seg->fault_at_s >= 0 && in >= seg->fault_at_s && in < seg->fault_at_s + period_s)
    fault = TRUE;

  out->dt_ms = 0;
  out->ticks = (guint32) ((guint64) opt.ticks_start + (guint64) g->ticks_acc);
  out->force_mn
      = fault ? DR_FORCE_SENSOR_FAULT : (guint16) CLAMP (lround (force * 1000.0), 0, 65534);
  out->zone = pattern_kind == PATTERN_UNZONED ? DR_ZONE_UNKNOWN : seg->zone;
  out->motion = seg->contact ? seg->motion : DR_DIRECTION_UNKNOWN;

  g->t_cycle_s += period_s;
  g->t_total_s += period_s;
  while (g->t_cycle_s >= g->seg_start_s + seg->duration_s)
    {
      g->seg_start_s += seg->duration_s;
      if (++g->seg >= pattern_segments->len)
        {
          g->t_cycle_s -= g->seg_start_s;
          g->seg = 0;
          g->seg_start_s = 0;
        }
      seg = &g_array_index (pattern_segments, Segment, g->seg);
    }
}

gint64
sample_gen_peek_offset (const SampleGen *g)
{
  if (trace_samples == NULL)
    return g->offset_us;
  if (g->trace_pos < trace_samples->len)
    return g->trace_base_us + g_array_index (trace_samples, TraceSample, g->trace_pos).offset_us;
  return g->offset_us;
}

gboolean
sample_gen_next (SampleGen *g, guint timeline_hz, gboolean live, DrSample *out, gint64 *offset_us)
{

  if (live && g->remaining == 0)
    return FALSE;
  if (trace_samples != NULL)
    {
      const TraceSample *ts;

      if (g->trace_pos >= trace_samples->len)
        {
          const TraceSample *first = &g_array_index (trace_samples, TraceSample, 0);
          const TraceSample *last
              = &g_array_index (trace_samples, TraceSample, trace_samples->len - 1);

          if (!opt.loop)
            return FALSE;
          /* Again from the top, 10 ms after the last sample, with the
           * counter carrying on instead of jumping back (a reset). */
          g->trace_base_us += last->offset_us + 10 * G_TIME_SPAN_MILLISECOND;
          g->trace_tick_offset += last->ticks - first->ticks;
          g->trace_pos = 0;
        }
      ts = &g_array_index (trace_samples, TraceSample, g->trace_pos++);
      out->dt_ms = 0;
      out->ticks = ts->ticks + g->trace_tick_offset;
      out->force_mn = ts->force_mn;
      out->zone = ts->zone;
      out->motion = ts->motion;
      *offset_us = g->trace_base_us + ts->offset_us;
      g->offset_us = *offset_us + 10 * G_TIME_SPAN_MILLISECOND;
    }
  else
    {
      double period_s = 1.0 / timeline_hz;

      *offset_us = g->offset_us;
      pattern_sample (g, period_s, out);
      g->offset_us += (gint64) llround (period_s * G_USEC_PER_SEC);
    }
  if (live && g->remaining != G_MAXUINT64)
    g->remaining--;
  return TRUE;
}

static gboolean
parse_hex_line (const char *line, GByteArray *out)
{
  int hi = -1;

  for (const char *p = line; *p != '\0'; p++)
    {
      int v;

      if (g_ascii_isspace (*p) || *p == ':' || *p == ',')
        continue;
      if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        {
          p++;
          continue;
        }
      v = g_ascii_xdigit_value (*p);
      if (v < 0)
        return FALSE;
      if (hi < 0)
        hi = v;
      else
        {
          guint8 b = (guint8) (hi << 4 | v);

          g_byte_array_append (out, &b, 1);
          hi = -1;
        }
    }
  return hi < 0;
}

static gboolean
trace_split_hex (const guint8 *data, gsize len, GPtrArray *frames, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint lineno = 0;

  g_ptr_array_set_size (frames, 0);
  if (memchr (data, '\0', len) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "neither length-prefixed frames nor hex text");
      return FALSE;
    }
  text = g_strndup ((const char *) data, len);
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      g_autoptr (GByteArray) bytes = g_byte_array_new ();
      char *hash = strchr (*l, '#');

      lineno++;
      if (hash != NULL)
        *hash = '\0';
      if (!parse_hex_line (*l, bytes))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "line %u: neither length-prefixed frames nor hex text", lineno);
          return FALSE;
        }
      if (bytes->len > 0)
        g_ptr_array_add (frames, g_byte_array_free_to_bytes (g_steal_pointer (&bytes)));
    }
  return TRUE;
}

/* Binary records (u16 LE length + frame, after an optional "DRTRACE1"
 * magic as scripts/gen-trace.py writes) or hex text (one frame per line,
 * '#' comments): whichever parses completely. */
static gboolean
trace_split (const guint8 *data, gsize len, GPtrArray *frames, GError **error)
{
  static const char magic[] = "DRTRACE1";
  gsize pos = 0;

  if (len >= sizeof magic - 1 && memcmp (data, magic, sizeof magic - 1) == 0)
    pos = sizeof magic - 1;
  while (pos + 2 <= len)
    {
      gsize n = data[pos] | (gsize) data[pos + 1] << 8;

      if (n == 0 || n > 512 || pos + 2 + n > len)
        break;
      g_ptr_array_add (frames, g_bytes_new (data + pos + 2, n));
      pos += 2 + n;
    }
  if (pos == len && frames->len > 0)
    return TRUE;

  return trace_split_hex (data, len, frames, error);
}

gboolean
patterns_load_trace (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len;
  g_autoptr (GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gint64 prev_ms = 0, offset_ms = 0;
  gboolean first = TRUE;
  guint malformed = 0;

  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  if (!trace_split ((const guint8 *) contents, len, frames, error))
    return FALSE;
  trace_samples = g_array_new (FALSE, FALSE, sizeof (TraceSample));
  for (guint i = 0; i < frames->len; i++)
    {
      gsize flen;
      const guint8 *fdata = g_bytes_get_data (g_ptr_array_index (frames, i), &flen);
      DrFrame f;
      gint64 t;

      if (flen == DR_HEAD_INFO_LEN)
        continue; /* the recorded Head Info: this roller has its own */
      if (dr_frame_decode (fdata, flen, &f) != DR_CODEC_OK)
        {
          malformed++;
          continue;
        }
      t = (gint64) f.t0_ms;
      for (guint k = 0; k < f.n_samples; k++)
        {
          TraceSample ts;

          if (k > 0)
            t += f.samples[k].dt_ms;
          if (!first)
            {
              gint64 step = t - prev_ms;

              /* A clock change inside the trace (SET_TIME, reboot) is not a
               * pause: carry on at a nominal 10 ms. */
              if (step < 0 || step > 600000)
                step = 10;
              offset_ms += step;
            }
          first = FALSE;
          prev_ms = t;
          ts.offset_us = offset_ms * 1000;
          ts.ticks = f.samples[k].ticks;
          ts.force_mn = f.samples[k].force_mn;
          ts.zone = f.samples[k].zone;
          ts.motion = f.samples[k].motion;
          g_array_append_val (trace_samples, ts);
        }
    }
  if (malformed > 0)
    g_message ("trace %s: %u malformed frames skipped", path, malformed);
  if (trace_samples->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no valid frame", path);
      return FALSE;
    }
  return TRUE;
}

gboolean
patterns_select (const char *name)
{
  static const struct
  {
    const char *name;
    PatternKind kind;
  } patterns[] = {
    { "face", PATTERN_FACE },         { "full", PATTERN_FULL }, { "steady", PATTERN_STEADY },
    { "pressure", PATTERN_PRESSURE }, { "idle", PATTERN_IDLE }, { "unzoned", PATTERN_UNZONED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (patterns); i++)
    if (strcmp (name, patterns[i].name) == 0)
      {
        pattern_kind = patterns[i].kind;
        return TRUE;
      }
  return FALSE;
}

void
sample_gen_init (SampleGen *g, guint index)
{
  memset (g, 0, sizeof *g);
  g->rng = (guint32) opt.seed * 2654435761u + index + 1;
  if (g->rng == 0)
    g->rng = 1;
  g->remaining = opt.samples < 0 ? G_MAXUINT64 : (guint64) opt.samples;
}
