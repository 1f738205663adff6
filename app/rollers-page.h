/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rollers-page.h: DrRollersPage, the Rollers view: every roller the daemon
 * knows, paired ones first (DrDaemonLink's order), each with how it is
 * (connected or how far its link got, battery, needle head and its wear,
 * "replace the head" once worn out, the signal of one only seen; a
 * spinner while a pairing is under way) and a Pair or Forget button ("win.pair" / "win.forget" with
 * its address).
 *
 * While it is on screen the window has the daemon look for rollers
 * (Manager1.StartDiscovery); the page only shows what the bus says.
 */
#pragma once

#include <adwaita.h>

#include "daemon-link.h"

G_BEGIN_DECLS

#define DR_TYPE_ROLLERS_PAGE (dr_rollers_page_get_type ())
G_DECLARE_FINAL_TYPE (DrRollersPage, dr_rollers_page, DR, ROLLERS_PAGE, AdwBin)

GtkWidget *dr_rollers_page_new (DrDaemonLink *link);

/* Each row's title and subtitle ("Name (address)", "connected · ..."). */
guint dr_rollers_page_get_n_rows (DrRollersPage *self);
void dr_rollers_page_get_row (DrRollersPage *self, guint i, const char **title,
                              const char **subtitle);

G_END_DECLS
