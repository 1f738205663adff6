/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller-view.h: how dermarollctl shows a roller and its live values:
 * its JSON object, the bars of `watch` and `status`, and the colour a
 * value deserves (low battery, worn head, force over the limit).
 */
#pragma once

#include "dr-dbus.h"
#include "format.h"
#include "json-writer.h"

G_BEGIN_DECLS

/* Battery at or below this is low (the daemon notifies at the same level). */
#define DR_BATTERY_LOW_PERCENT 15

/* The roller's properties as one JSON object; @person_name is the name of
 * its Person (null in the JSON when NULL: a person the caller does not
 * know). */
void dr_roller_view_json (DrJson *json, DrDBusRoller1 *roller, const char *person_name);
/* "DR-1 (AA:BB:CC:DD:EE:FF)", or the address alone when the roller has no
 * name of its own. */
char *dr_roller_view_title (DrDBusRoller1 *roller);
/* Its "rssi_dbm" member, null when unknown: `scan` shows it as well. */
void dr_roller_view_json_rssi (DrJson *json, DrDBusRoller1 *roller);

/* "[██████░░░░]"-style bar of @width cells filled to @fraction (0..1). */
char *dr_text_bar (double fraction, guint width);

/* A force bar against the limit: the bar spans 0 .. 1.5 × limit with a
 * '|' at the limit, e.g. "[██████████░░░|░░░]  3.2 N / 5.0 N". */
char *dr_force_bar (double force_n, double limit_n, guint width, gboolean colour);
DrColour dr_force_colour (double force_n, double limit_n);

DrColour dr_battery_colour (guint battery_percent);
DrColour dr_wear_colour (double wear);
DrColour dr_coverage_colour (double coverage);

/* "82 %", "—" before the battery was read. */
char *dr_fmt_battery (DrDBusRoller1 *roller);

/* The zone names in @coverage (a{sd}), in the order of @zone_order (may be
 * NULL) and then by name. */
GPtrArray *dr_coverage_zone_names (GVariant *coverage, const char *const *zone_order);

G_END_DECLS
