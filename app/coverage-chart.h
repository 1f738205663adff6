/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* coverage-chart.h: DrCoverageChart, coverage per zone over the weeks: a
 * grid of the face zones (rows) by the last weeks (columns, this week on
 * the right), each cell in the face map's colour of the zone's mean
 * coverage over that week's sessions (common/coverage-colour.h), grey for
 * a week without a session. Drawn with GtkSnapshot; its accessible
 * description says the latest week's coverage per zone.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DR_COVERAGE_CHART_WEEKS 12

#define DR_TYPE_COVERAGE_CHART (dr_coverage_chart_get_type ())
G_DECLARE_FINAL_TYPE (DrCoverageChart, dr_coverage_chart, DR, COVERAGE_CHART, GtkWidget)

GtkWidget *dr_coverage_chart_new (void);

/* Forgets every session; @now_ms says which week is this week. */
void dr_coverage_chart_clear (DrCoverageChart *self, gint64 now_ms);
/* One session's GetSessionCoverage (a{s(dddd)}), started at @start_ms. */
void dr_coverage_chart_add_session (DrCoverageChart *self, gint64 start_ms, GVariant *coverage);

/* The centre of @zone's cell @weeks_ago weeks back (0: this week), in the
 * chart's coordinates; FALSE for a zone not on the face. */
gboolean dr_coverage_chart_cell_point (DrCoverageChart *self, const char *zone, int weeks_ago,
                                       double *x, double *y);

G_END_DECLS
