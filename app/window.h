/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* window.h: DrAppWindow, one window of the app: a header with the view
 * switcher, the views (Live, History, Rollers, People) while the daemon
 * is there, a page that says it is not while it is not, and the daemon's
 * warnings as toasts.
 *
 * Its "win.stop" action stops the roller's session (Roller1.StopSession);
 * it is enabled while there is one. "win.show-session" (t) opens a
 * session's map in the History view, "win.show-view" (s) a view by name
 * ("live", "history", "rollers", "people"); "win.pair" and "win.forget"
 * (s, an address) pair and forget a roller (Manager1.Pair, Forget), the
 * outcome a toast; a failed pairing a dialog that says what to do. While the Rollers view is on
 * screen the daemon looks for rollers. "win.add-person" (s, a name) adds a person, "win.use-person"
 * (o) has the roller roll for them, "win.rename-person" (os: the person, the new name) renames one,
 * "win.remove-person" (o) removes one (their sessions kept), "win.toggle-excluded" (s, a zone; a
 * click on the Live map) excludes a zone of the roller's person or includes it again.
 */
#pragma once

#include <adwaita.h>

#include "daemon-link.h"
#include "history-page.h"
#include "live-page.h"
#include "people-page.h"
#include "rollers-page.h"

G_BEGIN_DECLS

#define DR_TYPE_APP_WINDOW (dr_app_window_get_type ())
G_DECLARE_FINAL_TYPE (DrAppWindow, dr_app_window, DR, APP_WINDOW, AdwApplicationWindow)

DrAppWindow *dr_app_window_new (GtkApplication *application, DrDaemonLink *link);

DrLivePage *dr_app_window_get_live_page (DrAppWindow *self);
DrHistoryPage *dr_app_window_get_history_page (DrAppWindow *self);
DrRollersPage *dr_app_window_get_rollers_page (DrAppWindow *self);
DrPeoplePage *dr_app_window_get_people_page (DrAppWindow *self);
/* "live", "history" or "rollers": the view shown. */
const char *dr_app_window_get_view (DrAppWindow *self);
/* The face map on screen in the view shown, or NULL. */
DrFaceMapView *dr_app_window_get_visible_map (DrAppWindow *self);
/* The text of every toast shown so far, oldest first. */
GPtrArray *dr_app_window_get_toasts (DrAppWindow *self);
/* Every alert shown so far, "heading\nbody", oldest first. */
GPtrArray *dr_app_window_get_alerts (DrAppWindow *self);
/* "no-daemon" or "views": what the window shows. */
const char *dr_app_window_get_state (DrAppWindow *self);

G_END_DECLS
