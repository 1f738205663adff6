/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* face-map-view.c: the live face map widget (see face-map-view.h). */
#include "face-map-view.h"

#include <glib/gi18n.h>
#include <math.h>

#include "coverage-colour.h"
#include "face-geometry.h"
#include "stroke-directions.h"
#include "zones.h"

struct _DrFaceMapView
{
  GtkWidget parent_instance;

  double coverage[DR_N_FACE_ZONES];
  char *missing[DR_N_FACE_ZONES]; /* "vertical missing", NULL: nothing to say */
  gboolean excluded[DR_N_FACE_ZONES];
  char *rest[DR_N_FACE_ZONES];        /* "rest until 8 Dec, 14:30", NULL: may be rolled */
  int current;                        /* zone id, -1: none */
  GtkWidget *spots[DR_N_FACE_ZONES];  /* a flat button per zone: Tab reaches it, Enter clicks it */
  GtkWidget *labels[DR_N_FACE_ZONES]; /* its text */
};

enum
{
  SIGNAL_ZONE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (DrFaceMapView, dr_face_map_view, GTK_TYPE_WIDGET)

/* The face box in the widget: scale and offset, the face centred. */
static void
placement (DrFaceMapView *self, double *scale, double *tx, double *ty)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));

  *scale = MIN (w / DR_FACE_BOX_W, h / DR_FACE_BOX_H);
  *tx = (w - DR_FACE_BOX_W * *scale) / 2 - DR_FACE_BOX_X * *scale;
  *ty = (h - DR_FACE_BOX_H * *scale) / 2 - DR_FACE_BOX_Y * *scale;
}

static void
path_to_cairo (cairo_t *cr, const char *path)
{
  DrFacePathIter iter;
  DrFacePathOp op;
  double pts[6];
  g_autoptr (GError) error = NULL;

  dr_face_path_iter_init (&iter, path);
  while (dr_face_path_iter_next (&iter, &op, pts, &error))
    switch (op)
      {
        case DR_FACE_PATH_MOVE:
          cairo_move_to (cr, pts[0], pts[1]);
          break;
        case DR_FACE_PATH_LINE:
          cairo_line_to (cr, pts[0], pts[1]);
          break;
        case DR_FACE_PATH_CURVE:
          cairo_curve_to (cr, pts[0], pts[1], pts[2], pts[3], pts[4], pts[5]);
          break;
        case DR_FACE_PATH_CLOSE:
          cairo_close_path (cr);
          break;
      }
  /* The tables are tested (test-face-geometry): this is a bug. */
  if (error != NULL)
    g_critical ("%s", error->message);
}

static void
set_hex (cairo_t *cr, const char *hex)
{
  GdkRGBA rgba;

  if (gdk_rgba_parse (&rgba, hex))
    gdk_cairo_set_source_rgba (cr, &rgba);
}

static void
set_rgb (cairo_t *cr, const guint8 rgb[3])
{
  cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

static void
draw_part (cairo_t *cr, const DrFacePart *part)
{
  const DrFacePartStyle *style = dr_face_part_style (part->kind);

  cairo_new_path (cr);
  if (part->path != NULL)
    path_to_cairo (cr, part->path);
  else
    {
      cairo_save (cr);
      cairo_translate (cr, part->cx, part->cy);
      cairo_scale (cr, part->rx, part->ry);
      cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
      cairo_restore (cr);
    }
  if (style->fill != NULL)
    {
      set_hex (cr, style->fill);
      cairo_fill_preserve (cr);
    }
  if (style->stroke != NULL)
    {
      set_hex (cr, style->stroke);
      cairo_set_line_width (cr, style->stroke_width);
      cairo_set_line_cap (cr, style->round_cap ? CAIRO_LINE_CAP_ROUND : CAIRO_LINE_CAP_BUTT);
      cairo_stroke_preserve (cr);
    }
  cairo_new_path (cr);
}

static void
draw_parts (cairo_t *cr, DrFacePartKind kind)
{
  for (gsize i = 0; i < dr_face_n_parts; i++)
    if (dr_face_parts[i].kind == kind)
      draw_part (cr, &dr_face_parts[i]);
}

static void
draw_zone (DrFaceMapView *self, cairo_t *cr, int zone)
{
  const DrFaceZoneShape *shape = &dr_face_zone_shapes[zone];
  guint8 rgb[3];

  cairo_save (cr);
  if (shape->clip_to_face)
    {
      cairo_new_path (cr);
      path_to_cairo (cr, DR_FACE_OUTLINE);
      cairo_clip (cr);
    }
  cairo_new_path (cr);
  path_to_cairo (cr, shape->path);
  dr_coverage_rgb (self->coverage[zone], rgb);
  set_rgb (cr, rgb);
  cairo_fill_preserve (cr);
  if (self->excluded[zone])
    {
      /* The SVG map's hatching: lines at 45°, 3 of every 8 units, so that
       * "do not roll here" does not rest on colour. */
      cairo_save (cr);
      cairo_clip (cr);
      cairo_set_source_rgba (cr, 0x4a / 255.0, 0x3b / 255.0, 0x36 / 255.0, 0.4);
      cairo_set_line_width (cr, 3);
      for (double d = DR_FACE_BOX_X - DR_FACE_BOX_H; d < DR_FACE_BOX_X + DR_FACE_BOX_W;
           d += 8 * G_SQRT2)
        {
          cairo_move_to (cr, d, DR_FACE_BOX_Y);
          cairo_line_to (cr, d + DR_FACE_BOX_H, DR_FACE_BOX_Y + DR_FACE_BOX_H);
        }
      cairo_stroke (cr);
      cairo_restore (cr);
      path_to_cairo (cr, shape->path);
    }
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_set_line_width (cr, 2.5);
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* The zone being rolled: a dark outline over everything, unclipped so it
 * shows whole. */
static void
draw_current (DrFaceMapView *self, cairo_t *cr)
{
  if (self->current < 0)
    return;
  cairo_save (cr);
  if (dr_face_zone_shapes[self->current].clip_to_face)
    {
      cairo_new_path (cr);
      path_to_cairo (cr, DR_FACE_OUTLINE);
      cairo_clip (cr);
    }
  cairo_new_path (cr);
  path_to_cairo (cr, dr_face_zone_shapes[self->current].path);
  set_hex (cr, "#1f2421");
  cairo_set_line_width (cr, 7);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
dr_face_map_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  DrFaceMapView *self = DR_FACE_MAP_VIEW (widget);
  double w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  double scale, tx, ty;
  cairo_t *cr;

  if (w <= 0 || h <= 0)
    return;
  placement (self, &scale, &tx, &ty);
  /* GTK 4.8 has no path nodes: the paths go through a cairo node. */
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, (float) w, (float) h));
  cairo_translate (cr, tx, ty);
  cairo_scale (cr, scale, scale);
  /* The drawing order of common/face-geometry.h. */
  draw_parts (cr, DR_FACE_PART_SHOULDERS);
  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    if (!dr_face_zone_shapes[z].clip_to_face)
      draw_zone (self, cr, z);
  draw_parts (cr, DR_FACE_PART_EAR);
  cairo_new_path (cr);
  path_to_cairo (cr, DR_FACE_OUTLINE);
  set_hex (cr, DR_FACE_SKIN);
  cairo_fill (cr);
  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    if (dr_face_zone_shapes[z].clip_to_face)
      draw_zone (self, cr, z);
  for (DrFacePartKind k = DR_FACE_PART_EYE; k <= DR_FACE_PART_LIP_LINE; k++)
    draw_parts (cr, k);
  cairo_new_path (cr);
  path_to_cairo (cr, DR_FACE_OUTLINE);
  set_hex (cr, DR_FACE_SKIN_LINE);
  cairo_set_line_width (cr, 2.5);
  cairo_stroke (cr);
  draw_parts (cr, DR_FACE_PART_HAIR);
  draw_current (self, cr);
  cairo_destroy (cr);

  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    gtk_widget_snapshot_child (widget, self->spots[z], snapshot);
}

static void
dr_face_map_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                          int *natural, int *minimum_baseline, int *natural_baseline)
{
  DrFaceMapView *self = DR_FACE_MAP_VIEW (widget);
  double box = orientation == GTK_ORIENTATION_HORIZONTAL ? DR_FACE_BOX_W : DR_FACE_BOX_H;

  /* Small enough for a phone-sized window; the labels must fit. */
  *minimum = (int) (box * 0.5);
  *natural = (int) (box * 0.85);
  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      int min = 0;
      gtk_widget_measure (self->spots[z], orientation, -1, &min, NULL, NULL, NULL);
      *minimum = MAX (*minimum, min);
    }
  *natural = MAX (*natural, *minimum);
}

static void
dr_face_map_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  DrFaceMapView *self = DR_FACE_MAP_VIEW (widget);
  double scale, tx, ty;

  placement (self, &scale, &tx, &ty);
  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      const DrFaceZoneShape *shape = &dr_face_zone_shapes[z];
      GtkRequisition nat;
      GtkAllocation at;
      double cx = shape->label_x * scale + tx, cy = shape->label_y * scale + ty;

      int lines;

      /* The first two lines (name, coverage) centred on the zone's label
       * point; more lines grow away from its probe point, which must stay
       * clear. */
      gtk_widget_get_preferred_size (self->spots[z], NULL, &nat);
      lines = MAX (pango_layout_get_line_count (gtk_label_get_layout (GTK_LABEL (self->labels[z]))),
                   2);
      at.x = (int) lround (cx - nat.width / 2.0);
      if (shape->probe_y > shape->label_y)
        at.y = (int) lround (cy + (double) nat.height / lines - nat.height);
      else
        at.y = (int) lround (cy - (double) nat.height / lines);
      at.width = nat.width;
      at.height = nat.height;
      gtk_widget_size_allocate (self->spots[z], &at, -1);
    }
}

static char *
percent (double coverage)
{
  double pct = isfinite (coverage) ? CLAMP (coverage, 0, 1) * 100.0 : 0.0;

  /* Not 100 % before it is. */
  if (pct > 99.0 && pct < 100.0)
    pct = 99.0;
  return g_strdup_printf ("%d %%", (int) floor (pct + 0.5));
}

/* common/'s marked strings, in the app's language. */
static const char *
translate (const char *msgid)
{
  return _ (msgid);
}

static void
update_label (DrFaceMapView *self, int zone)
{
  const char *name = _ (dr_face_zones[zone].label);
  g_autofree char *pct = percent (self->coverage[zone]);
  g_autofree char *text = NULL;
  g_autofree char *description = NULL;

  {
    GString *t = g_string_new (name);

    g_string_append_printf (t, "\n%s", pct);
    if (self->excluded[zone])
      g_string_append_printf (t, "\n%s", _ ("excluded"));
    if (self->rest[zone])
      g_string_append_printf (t, "\n%s", self->rest[zone]);
    if (self->missing[zone])
      g_string_append_printf (t, "\n%s", self->missing[zone]);
    text = g_string_free (t, FALSE);
  }
  gtk_label_set_text (GTK_LABEL (self->labels[zone]), text);
  /* TRANSLATORS: a zone of the face map read by a screen reader, e.g.
   * "left cheek: 40 % covered, vertical missing, being rolled". */
  description = g_strdup_printf (
      _ ("%s: %s covered%s%s%s%s%s%s"), name, pct, self->excluded[zone] ? _ (", excluded") : "",
      self->rest[zone] ? ", " : "", self->rest[zone] ? self->rest[zone] : "",
      self->missing[zone] ? ", " : "", self->missing[zone] ? self->missing[zone] : "",
      self->current == zone ? _ (", being rolled") : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spots[zone]), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  name, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description, -1);
  if (self->current == zone)
    gtk_widget_add_css_class (self->spots[zone], "current");
  else
    gtk_widget_remove_css_class (self->spots[zone], "current");
}

static gboolean
in_path (cairo_t *cr, const char *path, double x, double y)
{
  cairo_new_path (cr);
  path_to_cairo (cr, path);
  return cairo_in_fill (cr, x, y);
}

/* The zone drawn at (@x, @y) of the widget, the last drawn first; -1. */
static int
zone_at (DrFaceMapView *self, double x, double y)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_A8, 1, 1);
  cairo_t *cr = cairo_create (surface);
  double scale, tx, ty, fx, fy;
  int found = -1;

  placement (self, &scale, &tx, &ty);
  fx = (x - tx) / scale;
  fy = (y - ty) / scale;
  for (int z = DR_N_FACE_ZONES - 1; z >= 0 && found < 0; z--)
    if (dr_face_zone_shapes[z].clip_to_face && in_path (cr, DR_FACE_OUTLINE, fx, fy)
        && in_path (cr, dr_face_zone_shapes[z].path, fx, fy))
      found = z;
  /* Under the face's skin, the zones that are not clipped. */
  if (found < 0 && !in_path (cr, DR_FACE_OUTLINE, fx, fy))
    for (int z = DR_N_FACE_ZONES - 1; z >= 0 && found < 0; z--)
      if (!dr_face_zone_shapes[z].clip_to_face && in_path (cr, dr_face_zone_shapes[z].path, fx, fy))
        found = z;
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  return found;
}

static void
on_spot_clicked (GtkButton *spot, gpointer user_data)
{
  int zone = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (spot), "dr-zone"));

  g_signal_emit (user_data, signals[SIGNAL_ZONE_ACTIVATED], 0, dr_face_zones[zone].name);
}

static void
on_click (GtkGestureClick *gesture, int n_press, double x, double y, gpointer user_data)
{
  DrFaceMapView *self = user_data;
  int zone = zone_at (self, x, y);

  if (zone >= 0)
    g_signal_emit (self, signals[SIGNAL_ZONE_ACTIVATED], 0, dr_face_zones[zone].name);
}

static void
dr_face_map_view_dispose (GObject *object)
{
  DrFaceMapView *self = DR_FACE_MAP_VIEW (object);

  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      g_clear_pointer (&self->spots[z], gtk_widget_unparent);
      self->labels[z] = NULL;
      g_clear_pointer (&self->missing[z], g_free);
      g_clear_pointer (&self->rest[z], g_free);
    }
  G_OBJECT_CLASS (dr_face_map_view_parent_class)->dispose (object);
}

static void
dr_face_map_view_class_init (DrFaceMapViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = dr_face_map_view_dispose;
  widget_class->snapshot = dr_face_map_view_snapshot;
  widget_class->measure = dr_face_map_view_measure;
  widget_class->size_allocate = dr_face_map_view_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "facemap");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);

  /* A zone clicked (its name). */
  signals[SIGNAL_ZONE_ACTIVATED]
      = g_signal_new ("zone-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
dr_face_map_view_init (DrFaceMapView *self)
{
  self->current = -1;
  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      self->labels[z] = gtk_label_new (NULL);
      gtk_label_set_justify (GTK_LABEL (self->labels[z]), GTK_JUSTIFY_CENTER);
      /* "vertical and diagonal missing" on two lines, inside the zone. */
      gtk_label_set_wrap (GTK_LABEL (self->labels[z]), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (self->labels[z]), 14);
      self->spots[z] = gtk_button_new ();
      gtk_button_set_child (GTK_BUTTON (self->spots[z]), self->labels[z]);
      gtk_button_set_has_frame (GTK_BUTTON (self->spots[z]), FALSE);
      gtk_widget_add_css_class (self->spots[z], "zone-label");
      if (dr_face_zone_shapes[z].compact)
        gtk_widget_add_css_class (self->spots[z], "compact");
      g_object_set_data (G_OBJECT (self->spots[z]), "dr-zone", GINT_TO_POINTER (z));
      g_signal_connect (self->spots[z], "clicked", G_CALLBACK (on_spot_clicked), self);
      gtk_widget_set_parent (self->spots[z], GTK_WIDGET (self));
      update_label (self, z);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Face coverage map"), -1);
  {
    GtkGesture *click = gtk_gesture_click_new ();

    g_signal_connect (click, "released", G_CALLBACK (on_click), self);
    gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  }
}

GtkWidget *
dr_face_map_view_new (void)
{
  return g_object_new (DR_TYPE_FACE_MAP_VIEW, NULL);
}

void
dr_face_map_view_set_coverage (DrFaceMapView *self, GVariant *coverage)
{
  g_return_if_fail (DR_IS_FACE_MAP_VIEW (self));

  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      double value = 0;

      if (coverage != NULL && g_variant_is_of_type (coverage, G_VARIANT_TYPE ("a{sd}")))
        g_variant_lookup (coverage, dr_face_zones[z].name, "d", &value);
      self->coverage[z] = value;
      update_label (self, z);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
dr_face_map_view_set_passes (DrFaceMapView *self, GVariant *passes)
{
  g_return_if_fail (DR_IS_FACE_MAP_VIEW (self));

  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      double h = 0, v = 0, d = 0, unknown = 0;

      g_clear_pointer (&self->missing[z], g_free);
      if (passes != NULL && g_variant_is_of_type (passes, G_VARIANT_TYPE ("a{s(dddd)}"))
          && g_variant_lookup (passes, dr_face_zones[z].name, "(dddd)", &h, &v, &d, &unknown))
        self->missing[z] = dr_stroke_directions_missing_in (h, v, d, translate);
      update_label (self, z);
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
dr_face_map_view_set_current_zone (DrFaceMapView *self, const char *zone)
{
  int id;

  g_return_if_fail (DR_IS_FACE_MAP_VIEW (self));

  id = zone != NULL && zone[0] != '\0' ? dr_face_zone_lookup (zone) : -1;
  if (id == self->current)
    return;
  {
    int old = self->current;
    self->current = id;
    if (old >= 0)
      update_label (self, old);
    if (id >= 0)
      update_label (self, id);
  }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
dr_face_map_view_set_excluded (DrFaceMapView *self, const char *const *zones)
{
  g_return_if_fail (DR_IS_FACE_MAP_VIEW (self));

  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      gboolean excluded = zones != NULL && g_strv_contains (zones, dr_face_zones[z].name);

      if (excluded == self->excluded[z])
        continue;
      self->excluded[z] = excluded;
      update_label (self, z);
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
dr_face_map_view_set_rest (DrFaceMapView *self, GVariant *status, gint64 now_ms)
{
  g_return_if_fail (DR_IS_FACE_MAP_VIEW (self));

  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      gint64 last = 0, free_from = 0;

      g_clear_pointer (&self->rest[z], g_free);
      if (status != NULL && g_variant_is_of_type (status, G_VARIANT_TYPE ("a{s(xx)}"))
          && g_variant_lookup (status, dr_face_zones[z].name, "(xx)", &last, &free_from)
          && free_from > now_ms)
        {
          g_autoptr (GDateTime) t = g_date_time_new_from_unix_local (free_from / 1000);
          /* TRANSLATORS: strftime-style: "8 Dec, 14:30". */
          g_autofree char *when = t ? g_date_time_format (t, _ ("%-d %b, %H:%M")) : NULL;

          /* TRANSLATORS: when the zone may be rolled again. */
          self->rest[z] = g_strdup_printf (_ ("rest until %s"), when ? when : "?");
        }
      update_label (self, z);
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

const char *
dr_face_map_view_get_label_text (DrFaceMapView *self, const char *zone)
{
  int id = zone ? dr_face_zone_lookup (zone) : -1;

  g_return_val_if_fail (DR_IS_FACE_MAP_VIEW (self), NULL);
  return id < 0 ? NULL : gtk_label_get_text (GTK_LABEL (self->labels[id]));
}

gboolean
dr_face_map_view_zone_point (DrFaceMapView *self, const char *zone, double *x, double *y)
{
  double scale, tx, ty;
  int id;

  g_return_val_if_fail (DR_IS_FACE_MAP_VIEW (self), FALSE);

  id = zone != NULL ? dr_face_zone_lookup (zone) : -1;
  if (id < 0 || gtk_widget_get_width (GTK_WIDGET (self)) <= 0)
    return FALSE;
  placement (self, &scale, &tx, &ty);
  *x = dr_face_zone_shapes[id].probe_x * scale + tx;
  *y = dr_face_zone_shapes[id].probe_y * scale + ty;
  return TRUE;
}
