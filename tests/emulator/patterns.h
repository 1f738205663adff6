/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* patterns.h: where a roller's samples come from: a generated rolling
 * pattern (--pattern) or a recorded trace (--trace), as a per-roller
 * generator with its own virtual timeline.
 *
 * The pattern and the trace are loaded once for all rollers; each roller
 * has a SampleGen that walks them. Nothing here knows about frames, clocks
 * or D-Bus. */
#pragma once

#include <glib.h>

#include "roller-protocol.h"

/* Where the next sample comes from. */
typedef struct
{
  /* pattern */
  guint seg;
  double seg_start_s;
  double t_cycle_s;
  double t_total_s;
  double ticks_acc;
  guint32 rng;
  /* trace */
  guint trace_pos;
  gint64 trace_base_us;
  guint32 trace_tick_offset;
  /* both: virtual time of the next sample */
  gint64 offset_us;
  guint64 remaining; /* live samples left; G_MAXUINT64 = unlimited */
} SampleGen;

/* Chooses --pattern NAME; FALSE for a name it does not know. */
gboolean patterns_select (const char *name);
/* --directions: NULL for the default, horizontal, vertical, diagonal; FALSE
 * for a list it cannot read. */
gboolean patterns_parse_directions (const char *list);
/* Builds the chosen pattern from the options (needle length, drum size). */
void patterns_build (void);
/* Loads --trace PATH: its samples replace the pattern. */
gboolean patterns_load_trace (const char *path, GError **error);

/* A generator for roller number @index (seeded by --seed, --samples). */
void sample_gen_init (SampleGen *g, guint index);
/* Virtual time of the next sample, relative to the generator's start. */
gint64 sample_gen_peek_offset (const SampleGen *g);
/* The next sample on a @timeline_hz timeline; @live ones count against
 * --samples. FALSE when the source is exhausted. */
gboolean sample_gen_next (SampleGen *g, guint timeline_hz, gboolean live, DrSample *out,
                          gint64 *offset_us);
