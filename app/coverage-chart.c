/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* coverage-chart.c: coverage per zone over the weeks (see
 * coverage-chart.h). */
#include "coverage-chart.h"

#include <glib/gi18n.h>
#include <string.h>

#include "coverage-colour.h"
#include "zones.h"

#define WEEK_MS ((gint64) 7 * 24 * 3600 * 1000)
#define LABEL_W 96
#define CELL_H 18
#define GAP 2

struct _DrCoverageChart
{
  GtkWidget parent_instance;

  gint64 now_ms;
  double sum[DR_N_FACE_ZONES][DR_COVERAGE_CHART_WEEKS];
  guint n[DR_N_FACE_ZONES][DR_COVERAGE_CHART_WEEKS];
};

G_DEFINE_FINAL_TYPE (DrCoverageChart, dr_coverage_chart, GTK_TYPE_WIDGET)

static double
cell_width (DrCoverageChart *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self)) - LABEL_W;

  return MAX (w / DR_COVERAGE_CHART_WEEKS, 4);
}

static void
dr_coverage_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  DrCoverageChart *self = DR_COVERAGE_CHART (widget);
  double cw = cell_width (self);
  const GdkRGBA none = { 0.89f, 0.89f, 0.89f, 1.0f };

  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      g_autoptr (PangoLayout) layout
          = gtk_widget_create_pango_layout (widget, _ (dr_face_zones[z].label));
      float y = (float) (z * (CELL_H + GAP));

      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (0, y));
      {
        GtkStyleContext *style = gtk_widget_get_style_context (widget);
        GdkRGBA fg;

        gtk_style_context_get_color (style, &fg);
        gtk_snapshot_append_layout (snapshot, layout, &fg);
      }
      gtk_snapshot_restore (snapshot);
      for (int w = 0; w < DR_COVERAGE_CHART_WEEKS; w++)
        {
          /* Column 0 is the oldest week; this week is on the right. */
          int ago = DR_COVERAGE_CHART_WEEKS - 1 - w;
          GdkRGBA colour = none;
          graphene_rect_t cell
              = GRAPHENE_RECT_INIT ((float) (LABEL_W + w * cw), y, (float) (cw - GAP), CELL_H);

          if (self->n[z][ago] > 0)
            {
              guint8 rgb[3];

              dr_coverage_rgb (self->sum[z][ago] / self->n[z][ago], rgb);
              colour = (GdkRGBA){ rgb[0] / 255.0f, rgb[1] / 255.0f, rgb[2] / 255.0f, 1.0f };
            }
          gtk_snapshot_append_color (snapshot, &colour, &cell);
        }
    }
}

static void
dr_coverage_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                           int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = LABEL_W + DR_COVERAGE_CHART_WEEKS * 8,
    *natural = LABEL_W + DR_COVERAGE_CHART_WEEKS * 30;
  else
    *minimum = *natural = DR_N_FACE_ZONES * (CELL_H + GAP);
}

static void
update_accessible (DrCoverageChart *self)
{
  GString *text = g_string_new (_ ("This week: "));
  gboolean any = FALSE;

  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    if (self->n[z][0] > 0)
      {
        g_string_append_printf (text, "%s%s %d %%", any ? ", " : "", _ (dr_face_zones[z].label),
                                (int) (CLAMP (self->sum[z][0] / self->n[z][0], 0, 1) * 100 + 0.5));
        any = TRUE;
      }
  if (!any)
    g_string_append (text, _ ("no session"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  text->str, -1);
  g_string_free (text, TRUE);
}

static void
dr_coverage_chart_class_init (DrCoverageChartClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  widget_class->snapshot = dr_coverage_chart_snapshot;
  widget_class->measure = dr_coverage_chart_measure;
  gtk_widget_class_set_css_name (widget_class, "coveragechart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
dr_coverage_chart_init (DrCoverageChart *self)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Coverage per zone over the last weeks"), -1);
  update_accessible (self);
}

GtkWidget *
dr_coverage_chart_new (void)
{
  return g_object_new (DR_TYPE_COVERAGE_CHART, NULL);
}

void
dr_coverage_chart_clear (DrCoverageChart *self, gint64 now_ms)
{
  g_return_if_fail (DR_IS_COVERAGE_CHART (self));

  self->now_ms = now_ms;
  memset (self->sum, 0, sizeof self->sum);
  memset (self->n, 0, sizeof self->n);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
dr_coverage_chart_add_session (DrCoverageChart *self, gint64 start_ms, GVariant *coverage)
{
  gint64 ago;

  g_return_if_fail (DR_IS_COVERAGE_CHART (self));

  /* Weeks back from now, by 7 days: the chart's columns. */
  ago = start_ms <= self->now_ms ? (self->now_ms - start_ms) / WEEK_MS : 0;
  if (ago >= DR_COVERAGE_CHART_WEEKS
      || !g_variant_is_of_type (coverage, G_VARIANT_TYPE ("a{s(dddd)}")))
    return;
  for (int z = 0; z < DR_N_FACE_ZONES; z++)
    {
      double c, passes, area, peak;

      if (g_variant_lookup (coverage, dr_face_zones[z].name, "(dddd)", &c, &passes, &area, &peak))
        {
          self->sum[z][ago] += CLAMP (c, 0, 1);
          self->n[z][ago]++;
        }
    }
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
dr_coverage_chart_cell_point (DrCoverageChart *self, const char *zone, int weeks_ago, double *x,
                              double *y)
{
  int z = zone ? dr_face_zone_lookup (zone) : -1;
  double cw;

  g_return_val_if_fail (DR_IS_COVERAGE_CHART (self), FALSE);
  if (z < 0 || weeks_ago < 0 || weeks_ago >= DR_COVERAGE_CHART_WEEKS)
    return FALSE;
  cw = cell_width (self);
  *x = LABEL_W + (DR_COVERAGE_CHART_WEEKS - 1 - weeks_ago) * cw + (cw - GAP) / 2;
  *y = z * (CELL_H + GAP) + CELL_H / 2.0;
  return TRUE;
}
