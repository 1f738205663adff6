/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* application.h: DrApplication, the desktop app (org.dermaroll.App): one
 * DrDaemonLink to dermarolld shared by its windows, one window per
 * activation when none is open, the style sheet, and the test hooks when
 * a test asks for them (test-hooks.h). "app.show-session" (t) presents a
 * window at History with that session's map: what a click on one of the
 * daemon's notifications asks for, over org.freedesktop.Application.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define DR_APPLICATION_ID "org.dermaroll.App"

#define DR_TYPE_APPLICATION (dr_application_get_type ())
G_DECLARE_FINAL_TYPE (DrApplication, dr_application, DR, APPLICATION, AdwApplication)

DrApplication *dr_application_new (void);

G_END_DECLS
