/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* face-map.h: the face coverage map: one session's coverage in, an SVG
 * picture of a face out.
 *
 * A pure function of its input (no D-Bus, no clock, no locale), so that it
 * is tested and rendered without a daemon. The seven default zones have a
 * place on the face (front view: the person's left is on the picture's
 * right); any other zone (added in the config, or "unassigned" contact) is
 * listed beside it.
 *
 * Colour scale, also drawn as the legend: coverage is clamped to 0..1 and
 * interpolated linearly in sRGB between
 *     0 %  #f9ec9c  pale yellow: not rolled
 *    25 %  #9fd6a8  light green
 *    50 %  #41b6c4  teal
 *    75 %  #2c7fb8  blue
 *   100 %  #2a3d8f  dark blue: target passes reached
 * a sequential ramp whose lightness falls with every step, also to an eye
 * without red-green vision: under a simulated deuteranopia or protanopia
 * (Machado et al. 2009) each 10 % step is at least 3.5 CIE L* darker
 * than the one before (tests/test-face-map.c checks it).
 *
 * What went wrong is never a scale colour. An over-treated zone and an
 * excluded zone that was rolled anyway are filled with the warning
 * colour #d55e00 (vermilion, CIE ΔE ≥ 30 from every scale colour with or
 * without red-green vision), dotted when over-treated, and carry the
 * warning mark (a white triangle with "!") and the words; a zone with an
 * over-pressure episode keeps its coverage colour but gets a dashed dark
 * outline, the mark and the words. None of it relies on hue alone.
 * Excluded zones are hatched over their colour; a face zone missing from
 * the input (not in the daemon's config) is plain grey #e4e4e4.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *name;     /* the daemon's zone name, e.g. "left-cheek" */
  double coverage;      /* 0..1 (passes / target, capped); above 1 is drawn as 1 */
  double passes;        /* roller passes over the zone */
  double target_passes; /* 0: unknown */
  double rolled_cm2;    /* area rolled; all there is for "unassigned" */
  gboolean excluded;    /* the roller must not go there: hatched */
  /* What the session did wrong there (the caller decides, from the
   * session's events): warning colour, mark and words. */
  gboolean over_treated;    /* rolled past the over-treatment limit */
  gboolean rolled_excluded; /* rolled although it was excluded */
  guint pressure_episodes;  /* over-pressure episodes in the zone */
} DrFaceMapZone;

typedef struct
{
  guint64 session_id;
  const char *date;   /* shown as given, e.g. "2024-05-14 08:30"; NULL: none */
  const char *roller; /* e.g. "AA:BB:CC:DD:EE:FF"; NULL: none */
  const DrFaceMapZone *zones;
  gsize n_zones;
  /* The roller's name (Roller1.Name), shown with its address; NULL, "" or
   * the address itself: the address alone. */
  const char *roller_name;
  gboolean in_progress; /* the session has not ended: said in the title */
} DrFaceMap;

/* The SVG document (UTF-8, standalone). */
char *dr_face_map_svg (const DrFaceMap *map);

/* The colour scale above, as 8-bit sRGB. */
void dr_face_map_colour (double coverage, guint8 rgb[3]);

/* The warning colour above, as 8-bit sRGB. */
void dr_face_map_warning_colour (guint8 rgb[3]);

/* The zones that have a place on the face, NULL-terminated. */
const char *const *dr_face_map_face_zones (void);
gboolean dr_face_map_is_face_zone (const char *name);

/* A point inside @name's region that no label, feature or boundary covers
 * (in SVG user units, which are pixels when rendered at 1:1): where its
 * fill colour can be checked. FALSE when @name has no place on the face. */
gboolean dr_face_map_zone_probe (const char *name, double *x, double *y);

/* The picture's size in user units. */
void dr_face_map_size (double *width, double *height);

G_END_DECLS
