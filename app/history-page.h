/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* history-page.h: DrHistoryPage, the History view: the roller's person's
 * sessions of the last 90 days (everybody's while no person is known),
 * under a chart of their coverage per zone over the last weeks
 * (DrCoverageChart), newest first (date, duration, roller, mean coverage), each row
 * activating "win.show-session" with its id; a session shown is its face
 * map (the Live view's DrFaceMapView, from
 * Manager1.GetSessionCoverageByDirection) with a line about it.
 *
 * It reloads when given a manager and when the roller it watches ends a
 * session. Failures are reported up with the "warning" signal, in words.
 */
#pragma once

#include <adwaita.h>

#include "dr-dbus.h"
#include "coverage-chart.h"
#include "face-map-view.h"

G_BEGIN_DECLS

#define DR_TYPE_HISTORY_PAGE (dr_history_page_get_type ())
G_DECLARE_FINAL_TYPE (DrHistoryPage, dr_history_page, DR, HISTORY_PAGE, AdwBin)

GtkWidget *dr_history_page_new (void);

void dr_history_page_set_manager (DrHistoryPage *self, DrDBusManager1 *manager);
void dr_history_page_set_roller (DrHistoryPage *self, DrDBusRoller1 *roller);
/* Whose sessions are listed (the roller's person); NULL: everybody's. */
void dr_history_page_set_person (DrHistoryPage *self, DrDBusPerson1 *person);
/* Opens @id's map (asked of the daemon, async; once there is a manager). */
void dr_history_page_show_session (DrHistoryPage *self, guint64 id);

/* The map while a session is shown, else NULL. */
DrFaceMapView *dr_history_page_get_map (DrHistoryPage *self);
/* The chart while the list is shown, else NULL. */
DrCoverageChart *dr_history_page_get_chart (DrHistoryPage *self);
/* The session whose map is on screen, else 0. */
guint64 dr_history_page_get_shown_session (DrHistoryPage *self);
/* Rows in the list. */
guint dr_history_page_get_n_sessions (DrHistoryPage *self);

G_END_DECLS
