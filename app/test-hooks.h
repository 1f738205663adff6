/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-hooks.h: what a test may ask the running app, as an application
 * action added only when DERMAROLL_APP_TEST_HOOKS=1 is in the environment:
 *
 *   app.test-render (s PATH): renders the active window as it is on
 *   screen (its widget paintable through the window's GskRenderer) to
 *   PATH, a PNG, and writes PATH.json: {"drawn": true, "dark": whether
 *   AdwStyleManager has the dark style, "state": "views" or
 *   "no-daemon", "view": "live" or "history", "history-sessions": rows in
 *   History, "history-session": the session whose map History shows (0:
 *   none), "zones": {zone: [x, y] or null}, "gauge": [x, y],
 *   "gauge-warning": bool, "session": the Live view's session line,
 *   "rollers": [[title, subtitle] of each row of the Rollers view],
 *   "chart": {zone: [this week's cell, last week's]} of History's chart
 *   while it is shown, "labels": {zone: its label's text on the map
 *   shown}, "toasts": [the
 *   text of every toast shown so far], "alerts": [every error dialog shown
 *   so far, "heading\nbody"],
 *   "people": [[name, subtitle] of each person in the People view],
 *   "notifications": [[kind, title, switch on] of each row of the open
 *   preferences window] or null when it is not open}: the
 *   pixels of the PNG where each zone's probe
 *   point is drawn on the face map shown (the Live one, or a session's in
 *   History) and a filled point of the force gauge, so that the test reads
 *   the colours there. When there is nothing to draw (before the first
 *   frame, or while a resize waits for its layout): only {"drawn": false}.
 *
 *   app.test-toggle-notification (s KIND): turns KIND's switch in the open
 *   preferences window, as a click does.
 *
 * The actions are activated over org.gtk.Actions like any other; the files
 * are written before the call returns. The picture is drawn at once: what
 * the widgets draw from their own state is current, a CSS state change
 * (a view switcher's button) shows from the next frame.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void dr_test_hooks_install (GtkApplication *application);

G_END_DECLS
