/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* force-gauge.h: DrForceGauge, the applied force against the
 * over-pressure limit: a bar up to 1.5 times the limit with the limit
 * marked, in the warning colour (common/coverage-colour.h) while the
 * daemon reports an over-pressure episode, and its value in words for a
 * screen reader (a GtkAccessibleRange: value, maximum and text).
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DR_TYPE_FORCE_GAUGE (dr_force_gauge_get_type ())
G_DECLARE_FINAL_TYPE (DrForceGauge, dr_force_gauge, DR, FORCE_GAUGE, GtkWidget)

GtkWidget *dr_force_gauge_new (void);

/* Roller1.Force and Roller1.ForceLimit in N; a limit of 0: not known. */
void dr_force_gauge_set_force (DrForceGauge *self, double force_n, double limit_n);
/* Between PressureWarning and PressureCleared. */
void dr_force_gauge_set_warning (DrForceGauge *self, gboolean warning);
gboolean dr_force_gauge_get_warning (DrForceGauge *self);

/* A point of the bar that is filled whenever the force is above zero, in
 * the gauge's coordinates. */
void dr_force_gauge_fill_point (DrForceGauge *self, double *x, double *y);

G_END_DECLS
