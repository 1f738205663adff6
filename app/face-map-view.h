/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* face-map-view.h: DrFaceMapView, the live face map: the face of
 * common/face-geometry.h drawn with GtkSnapshot, each zone filled with
 * the colour of its coverage (common/coverage-colour.h, the SVG map's
 * ramp), the zone being rolled outlined, the person's excluded zones
 * hatched as on the SVG map, and in each zone a label with its name, its
 * coverage, "excluded", until when it must rest, and the stroke
 * directions still missing (version 2 rollers). Each label is a flat button, a child whose
 * accessible name is the zone's and whose description says its coverage, so that a screen reader
 * reads the map zone by zone and Tab goes from zone to zone. A click on a zone, or Enter on its
 * label, emits "zone-activated" with its name.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DR_TYPE_FACE_MAP_VIEW (dr_face_map_view_get_type ())
G_DECLARE_FINAL_TYPE (DrFaceMapView, dr_face_map_view, DR, FACE_MAP_VIEW, GtkWidget)

GtkWidget *dr_face_map_view_new (void);

/* Roller1.Coverage (a{sd}); NULL: nothing rolled. */
void dr_face_map_view_set_coverage (DrFaceMapView *self, GVariant *coverage);
/* Roller1.PassesByDirection (a{s(dddd)}); NULL: none. */
void dr_face_map_view_set_passes (DrFaceMapView *self, GVariant *passes);
/* Person1.ExcludedZones: hatched, and said in their labels; NULL: none. */
void dr_face_map_view_set_excluded (DrFaceMapView *self, const char *const *zones);
/* Person1.GetRestStatus (a{s(xx)}): a zone whose rest ends after
 * @now_ms says until when; NULL: none rests. */
void dr_face_map_view_set_rest (DrFaceMapView *self, GVariant *status, gint64 now_ms);
/* What @zone's label says, lines joined by "\n"; NULL for a zone not on
 * the face. */
const char *dr_face_map_view_get_label_text (DrFaceMapView *self, const char *zone);
/* Roller1.CurrentZone; NULL or "": none. */
void dr_face_map_view_set_current_zone (DrFaceMapView *self, const char *zone);

/* Where @zone's probe point (common/face-geometry.h) is drawn, in the
 * view's coordinates; FALSE for a zone not on the face or while the view
 * has no size. */
gboolean dr_face_map_view_zone_point (DrFaceMapView *self, const char *zone, double *x, double *y);

G_END_DECLS
