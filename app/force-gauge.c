/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* force-gauge.c: the force against the limit (see force-gauge.h). */
#include "force-gauge.h"

#include <glib/gi18n.h>
#include <math.h>

#include "coverage-colour.h"

/* The bar's full length in limits: room to show how far past it. */
#define RANGE_LIMITS 1.5
#define BAR_HEIGHT 18

struct _DrForceGauge
{
  GtkWidget parent_instance;

  double force, limit;
  gboolean warning;
};

G_DEFINE_FINAL_TYPE (DrForceGauge, dr_force_gauge, GTK_TYPE_WIDGET)

static GdkRGBA
rgba (const guint8 rgb[3])
{
  return (GdkRGBA){ rgb[0] / 255.0f, rgb[1] / 255.0f, rgb[2] / 255.0f, 1.0f };
}

/* The share of the bar filled, 0..1. */
static double
fraction (DrForceGauge *self)
{
  double limit = self->limit > 0 ? self->limit : 1.0;

  if (!isfinite (self->force) || self->force <= 0)
    return 0;
  return CLAMP (self->force / (limit * RANGE_LIMITS), 0.0, 1.0);
}

static void
dr_force_gauge_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  DrForceGauge *self = DR_FORCE_GAUGE (widget);
  float w = (float) gtk_widget_get_width (widget), h = (float) gtk_widget_get_height (widget);
  float y = (h - BAR_HEIGHT) / 2;
  /* The ramp's blue for a force within the limit. */
  static const guint8 normal_rgb[3] = { 0x2c, 0x7f, 0xb8 };
  guint8 warning_rgb[3];
  GdkRGBA track = { 0.5f, 0.5f, 0.5f, 0.25f };
  GdkRGBA fill, mark = { 0.12f, 0.14f, 0.13f, 1.0f };
  float filled = (float) (fraction (self) * w);
  float limit_x = (float) (w / RANGE_LIMITS);

  dr_coverage_warning_rgb (warning_rgb);
  fill = rgba (self->warning ? warning_rgb : normal_rgb);
  gtk_snapshot_append_color (snapshot, &track, &GRAPHENE_RECT_INIT (0, y, w, BAR_HEIGHT));
  if (filled > 0)
    gtk_snapshot_append_color (snapshot, &fill, &GRAPHENE_RECT_INIT (0, y, filled, BAR_HEIGHT));
  if (self->limit > 0)
    gtk_snapshot_append_color (snapshot, &mark,
                               &GRAPHENE_RECT_INIT (limit_x - 1, y - 4, 2, BAR_HEIGHT + 8));
}

static void
dr_force_gauge_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                        int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = 120, *natural = 320;
  else
    *minimum = *natural = BAR_HEIGHT + 8;
}

static void
update_accessible (DrForceGauge *self)
{
  g_autofree char *text = NULL;

  if (self->limit > 0)
    /* TRANSLATORS: the force gauge for a screen reader: force, limit in newtons. */
    text = g_strdup_printf (_ ("%.1f N of a %.1f N limit%s"), self->force, self->limit,
                            self->warning ? _ (", over-pressure: press lighter") : "");
  else
    text = g_strdup_printf (_ ("%.1f N"), self->force);
  gtk_accessible_update_property (
      GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_VALUE_MAX,
      (self->limit > 0 ? self->limit : 1.0) * RANGE_LIMITS, GTK_ACCESSIBLE_PROPERTY_VALUE_MIN, 0.0,
      GTK_ACCESSIBLE_PROPERTY_VALUE_NOW, isfinite (self->force) ? self->force : 0.0,
      GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, text, -1);
}

static void
dr_force_gauge_class_init (DrForceGaugeClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  widget_class->snapshot = dr_force_gauge_snapshot;
  widget_class->measure = dr_force_gauge_measure;
  gtk_widget_class_set_css_name (widget_class, "forcegauge");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_METER);
}

static void
dr_force_gauge_init (DrForceGauge *self)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Force"),
                                  -1);
  update_accessible (self);
}

GtkWidget *
dr_force_gauge_new (void)
{
  return g_object_new (DR_TYPE_FORCE_GAUGE, NULL);
}

void
dr_force_gauge_set_force (DrForceGauge *self, double force_n, double limit_n)
{
  g_return_if_fail (DR_IS_FORCE_GAUGE (self));

  if (self->force == force_n && self->limit == limit_n)
    return;
  self->force = force_n;
  self->limit = limit_n;
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
dr_force_gauge_set_warning (DrForceGauge *self, gboolean warning)
{
  g_return_if_fail (DR_IS_FORCE_GAUGE (self));

  if (self->warning == !!warning)
    return;
  self->warning = !!warning;
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
dr_force_gauge_get_warning (DrForceGauge *self)
{
  g_return_val_if_fail (DR_IS_FORCE_GAUGE (self), FALSE);
  return self->warning;
}

void
dr_force_gauge_fill_point (DrForceGauge *self, double *x, double *y)
{
  g_return_if_fail (DR_IS_FORCE_GAUGE (self));
  *x = 4;
  *y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
}
