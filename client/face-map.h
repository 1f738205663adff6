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
 *     0 %  #e3a69e  light grey-red: not rolled
 *    50 %  #f2d57e  pale amber
 *   100 %  #3fa765  green: target passes reached
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
} DrFaceMapZone;

typedef struct
{
  guint64 session_id;
  const char *date;   /* shown as given, e.g. "2024-05-14 08:30"; NULL: none */
  const char *roller; /* e.g. "AA:BB:CC:DD:EE:FF"; NULL: none */
  const DrFaceMapZone *zones;
  gsize n_zones;
} DrFaceMap;

/* The SVG document (UTF-8, standalone). */
char *dr_face_map_svg (const DrFaceMap *map);

/* The colour scale above, as 8-bit sRGB. */
void dr_face_map_colour (double coverage, guint8 rgb[3]);

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
