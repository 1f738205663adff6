/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* household.h: what every roller of the household shares.
 *
 * Zones are the person's skin, not a roller's, and session ids are the
 * store's, not a roller's: the daemon fills a DrHousehold with what the
 * store knew at startup and hands the same one to every roller, which
 * takes its session ids and the zones' last-treated times from it instead
 * of asking the daemon.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define DR_TYPE_HOUSEHOLD (dr_household_get_type ())
G_DECLARE_FINAL_TYPE (DrHousehold, dr_household, DR, HOUSEHOLD, GObject)

/* @last_treated: DR_MAX_ZONES times, INT64_MIN for never; @head_revolutions:
 * head id → double*, as stored (a reference is taken). */
DrHousehold *dr_household_new (guint64 last_session_id, const gint64 *last_treated,
                               GHashTable *head_revolutions);

/* The id for a session starting now: one more than any stored or handed out. */
guint64 dr_household_next_session_id (DrHousehold *household);

/* INT64_MIN for a zone never treated (or no such zone). */
gint64 dr_household_get_zone_last_treated (DrHousehold *household, int zone);
void dr_household_set_zone_last_treated (DrHousehold *household, int zone, gint64 time_ms);

/* Revolutions the store knew for @head_id when the daemon started. */
double dr_household_get_head_revolutions (DrHousehold *household, guint32 head_id);

G_END_DECLS
