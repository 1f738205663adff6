/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* coverage-colour.h: the colours of coverage on the face map, shared by
 * the SVG map (client/face-map.c, where face-map.h explains the choice:
 * a ramp whose lightness falls with every step, also without red-green
 * vision) and the desktop app's live map, so that a zone at 40 % is the
 * same colour in both.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  double at; /* coverage 0..1 */
  guint8 rgb[3];
} DrCoverageStop;

/* The ramp's stops, from 0 (not rolled) to 1 (target passes reached). */
extern const DrCoverageStop dr_coverage_stops[];
extern const gsize dr_coverage_n_stops;

/* @coverage clamped to 0..1 (not finite: 0), interpolated linearly in sRGB
 * between the stops. */
void dr_coverage_rgb (double coverage, guint8 rgb[3]);

/* What went wrong (over-treated, rolled although excluded, over-pressure):
 * vermilion, never a colour of the ramp. */
void dr_coverage_warning_rgb (guint8 rgb[3]);

G_END_DECLS
