/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* live-page.h: DrLivePage, the Live view: the roller shown (its name and
 * link phase), the face map filling in with the active session's
 * coverage, the force gauge, the session's time and the Stop button
 * (the window's "win.stop" action).
 *
 * It reads the Roller1 and Person1 proxies it is given and reports up: the
 * "warning" signal carries each warning the daemon sends (over-pressure,
 * zone warnings, a worn head) in words, for the window to toast;
 * "session-active" says whether there is a session to stop.
 */
#pragma once

#include <adwaita.h>

#include "dr-dbus.h"
#include "face-map-view.h"
#include "force-gauge.h"

G_BEGIN_DECLS

#define DR_TYPE_LIVE_PAGE (dr_live_page_get_type ())
G_DECLARE_FINAL_TYPE (DrLivePage, dr_live_page, DR, LIVE_PAGE, AdwBin)

GtkWidget *dr_live_page_new (void);

void dr_live_page_set_roller (DrLivePage *self, DrDBusRoller1 *roller);
void dr_live_page_set_manager (DrLivePage *self, DrDBusManager1 *manager);
/* The roller's person: their excluded zones are hatched on the map. */
void dr_live_page_set_person (DrLivePage *self, DrDBusPerson1 *person);
gboolean dr_live_page_get_session_active (DrLivePage *self);

DrFaceMapView *dr_live_page_get_map (DrLivePage *self);
DrForceGauge *dr_live_page_get_gauge (DrLivePage *self);
/* What the session line says: "Session 3 · 02:15". */
const char *dr_live_page_get_session_text (DrLivePage *self);

G_END_DECLS
