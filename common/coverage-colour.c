/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* coverage-colour.c: the coverage ramp and the warning colour (see
 * coverage-colour.h). */
#include "coverage-colour.h"

#include <math.h>
#include <string.h>

/* Keep in sync with client/face-map.h and tests/face-map-render.py. */
const DrCoverageStop dr_coverage_stops[] = {
  { 0.0, { 0xf9, 0xec, 0x9c } },  { 0.25, { 0x9f, 0xd6, 0xa8 } }, { 0.5, { 0x41, 0xb6, 0xc4 } },
  { 0.75, { 0x2c, 0x7f, 0xb8 } }, { 1.0, { 0x2a, 0x3d, 0x8f } },
};

const gsize dr_coverage_n_stops = G_N_ELEMENTS (dr_coverage_stops);

static const guint8 warning_rgb[3] = { 0xd5, 0x5e, 0x00 };

void
dr_coverage_rgb (double coverage, guint8 rgb[3])
{
  double c = isfinite (coverage) ? CLAMP (coverage, 0.0, 1.0) : 0.0;
  gsize i = 0;

  while (i + 2 < dr_coverage_n_stops && c > dr_coverage_stops[i + 1].at)
    i++;
  {
    const DrCoverageStop *a = &dr_coverage_stops[i], *b = &dr_coverage_stops[i + 1];
    double t = (c - a->at) / (b->at - a->at);

    for (int k = 0; k < 3; k++)
      rgb[k] = (guint8) lround (a->rgb[k] + t * (b->rgb[k] - a->rgb[k]));
  }
}

void
dr_coverage_warning_rgb (guint8 rgb[3])
{
  memcpy (rgb, warning_rgb, 3);
}
