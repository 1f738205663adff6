/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* face-geometry.h: the one drawing model of the face map: each face zone's
 * region and where its label, probe point and warning mark go, the face's
 * outline and its features (ears, eyes, brows, nostrils, mouth, hair,
 * shoulders) with their colours, in "face units".
 *
 * The SVG map of dermarollctl (client/face-map.c) writes these paths as
 * they are; the desktop app (app/face-map-view.c) walks them with
 * DrFacePathIter into cairo paths. Both draw the same face from here, so
 * a zone cannot have two shapes.
 *
 * Paths are SVG path data restricted to absolute M, L, H, V, C and Z
 * (tests/test-face-geometry.c parses every one). The face's box,
 * DR_FACE_BOX_*, holds everything drawn; the person's right cheek is on
 * the picture's left (front view). Drawing order: the shoulders, the
 * zones not clipped (the neck), the ears, the face's skin (DR_FACE_OUTLINE
 * filled), the other zones in id order, each clipped by the outline so
 * that only its inner boundaries are its own, then the features.
 */
#pragma once

#include <glib.h>

#include "zones.h"

G_BEGIN_DECLS

/* Everything drawn lies in this box of face units. */
#define DR_FACE_BOX_X 50.0
#define DR_FACE_BOX_Y 80.0
#define DR_FACE_BOX_W 480.0
#define DR_FACE_BOX_H 690.0

/* A macro so that the SVG writer can put it into string literals. */
#define DR_FACE_OUTLINE                                                                            \
  "M 290 110 C 400 110 470 190 470 320 C 470 420 445 490 395 540 C 360 575 325 592 290 592 "       \
  "C 255 592 220 575 185 540 C 135 490 110 420 110 320 C 110 190 180 110 290 110 Z"

/* The face's colours (#rrggbb). */
#define DR_FACE_SKIN "#f5f0eb"
#define DR_FACE_SKIN_LINE "#8c786c"
#define DR_FACE_HAIR "#9a8878"

/* One zone's drawing; its name and label are dr_face_zones[] of the same
 * index (zones.h). */
typedef struct
{
  const char *path; /* the region */
  double label_x, label_y;
  double probe_x, probe_y; /* inside the region, clear of labels, features, boundaries */
  double mark_x, mark_y;   /* the warning mark's centre, clear of the label */
  gboolean compact;        /* small region: smaller type */
  gboolean clip_to_face;   /* drawn clipped by DR_FACE_OUTLINE (all but the neck) */
} DrFaceZoneShape;

/* Indexed by the sensor's zone id, as dr_face_zones[]. */
extern const DrFaceZoneShape dr_face_zone_shapes[DR_N_FACE_ZONES];

typedef enum
{
  DR_FACE_PART_SHOULDERS, /* under the neck zone */
  DR_FACE_PART_EAR,       /* behind the face */
  DR_FACE_PART_EYE,       /* the rest over the zones, in this order */
  DR_FACE_PART_PUPIL,
  DR_FACE_PART_BROW,
  DR_FACE_PART_NOSTRIL,
  DR_FACE_PART_MOUTH,
  DR_FACE_PART_LIP_LINE,
  DR_FACE_PART_HAIR,
} DrFacePartKind;

/* A feature of the face: a path, or (path NULL) an ellipse. Its colours
 * are those of its kind: dr_face_part_style(). */
typedef struct
{
  DrFacePartKind kind;
  const char *path;
  double cx, cy, rx, ry;
} DrFacePart;

extern const DrFacePart dr_face_parts[];
extern const gsize dr_face_n_parts;

/* How a kind of part is painted: @fill and @stroke "#rrggbb" or NULL for
 * none; @stroke_width in face units; @round_cap for open strokes. */
typedef struct
{
  const char *fill;
  const char *stroke;
  double stroke_width;
  gboolean round_cap;
} DrFacePartStyle;

const DrFacePartStyle *dr_face_part_style (DrFacePartKind kind);

/* Walking a path: each step is a move, a line or a cubic curve to an
 * absolute point, or the close of the subpath; H and V come out as lines. */
typedef enum
{
  DR_FACE_PATH_MOVE,
  DR_FACE_PATH_LINE,
  DR_FACE_PATH_CURVE, /* pts: control 1, control 2, end */
  DR_FACE_PATH_CLOSE,
} DrFacePathOp;

typedef struct
{
  const char *p;
  double x, y;             /* the current point */
  double start_x, start_y; /* the subpath's start */
} DrFacePathIter;

void dr_face_path_iter_init (DrFacePathIter *iter, const char *path);

/* The next step into @op and @pts (2 or 6 numbers); FALSE at the end.
 * A malformed path (a bug in the tables) sets @error and returns FALSE. */
gboolean dr_face_path_iter_next (DrFacePathIter *iter, DrFacePathOp *op, double pts[6],
                                 GError **error);

G_END_DECLS
