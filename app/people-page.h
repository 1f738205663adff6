/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* people-page.h: DrPeoplePage, the People view: a row to add a person
 * ("win.add-person"), and every person by name with what they excluded
 * and whether the roller shown rolls for them, else a button to make it
 * so ("win.use-person" with their object path), a button to rename them
 * (a dialog with the new name: "win.rename-person"), and but for the default
 * person a button to remove them, asked first ("win.remove-person": their
 * sessions stay). Zones are excluded and included by clicking them on the
 * Live map.
 */
#pragma once

#include <adwaita.h>

#include "daemon-link.h"

G_BEGIN_DECLS

#define DR_TYPE_PEOPLE_PAGE (dr_people_page_get_type ())
G_DECLARE_FINAL_TYPE (DrPeoplePage, dr_people_page, DR, PEOPLE_PAGE, AdwBin)

GtkWidget *dr_people_page_new (DrDaemonLink *link);

/* Each person's row: title (the name) and subtitle. */
guint dr_people_page_get_n_rows (DrPeoplePage *self);
void dr_people_page_get_row (DrPeoplePage *self, guint i, const char **title,
                             const char **subtitle);

G_END_DECLS
