/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* preferences-window.h: DrPreferencesWindow, the app's preferences: one
 * switch per kind of desktop notification the daemon offers
 * (Manager1.NotificationKinds), in the daemon's order. A switch turned
 * asks the daemon (SetNotificationEnabled), which keeps the choice; the
 * switches always show what the daemon says, whoever changed it (the CLI,
 * another window), and one the daemon refused goes back, with a toast.
 */
#pragma once

#include <adwaita.h>

#include "daemon-link.h"

G_BEGIN_DECLS

#define DR_TYPE_PREFERENCES_WINDOW (dr_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (DrPreferencesWindow, dr_preferences_window, DR, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

GtkWidget *dr_preferences_window_new (DrDaemonLink *link);

/* For the test hooks: each kind's switch, in order. */
guint dr_preferences_window_get_n_kinds (DrPreferencesWindow *self);
void dr_preferences_window_get_kind (DrPreferencesWindow *self, guint i, const char **kind,
                                     const char **title, gboolean *active);
/* Turns @kind's switch as a click would; FALSE when there is none. */
gboolean dr_preferences_window_toggle (DrPreferencesWindow *self, const char *kind);

G_END_DECLS
