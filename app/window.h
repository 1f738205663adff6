/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* window.h: DrAppWindow, one window of the app: a header with the view
 * switcher, the views (Live first) while the daemon is there, a page that
 * says it is not while it is not, and the daemon's warnings as toasts.
 *
 * Its "win.stop" action stops the roller's session (Roller1.StopSession);
 * it is enabled while there is one.
 */
#pragma once

#include <adwaita.h>

#include "daemon-link.h"
#include "live-page.h"

G_BEGIN_DECLS

#define DR_TYPE_APP_WINDOW (dr_app_window_get_type ())
G_DECLARE_FINAL_TYPE (DrAppWindow, dr_app_window, DR, APP_WINDOW, AdwApplicationWindow)

DrAppWindow *dr_app_window_new (GtkApplication *application, DrDaemonLink *link);

DrLivePage *dr_app_window_get_live_page (DrAppWindow *self);
/* "no-daemon" or "views": what the window shows. */
const char *dr_app_window_get_state (DrAppWindow *self);

G_END_DECLS
