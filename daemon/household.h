/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* household.h: what every roller of the household shares.
 *
 * Zones are the person's skin, not a roller's, and session ids are the
 * store's, not a roller's: the daemon fills a DrHousehold with what the
 * store knew at startup and hands the same one to every roller, which
 * takes its session ids and the skin's earlier treatments from it instead
 * of asking the daemon. (Today the household is one skin; a person id
 * would key the treatments.)
 */
#pragma once

#include <glib-object.h>

#include "engine.h"

G_BEGIN_DECLS

#define DR_TYPE_HOUSEHOLD (dr_household_get_type ())
G_DECLARE_FINAL_TYPE (DrHousehold, dr_household, DR, HOUSEHOLD, GObject)

/* @treatments: DrTreatment, as stored (copied; NULL for none);
 * @head_revolutions: head id → double*, as stored (a reference is taken). */
DrHousehold *dr_household_new (guint64 last_session_id, const GArray *treatments,
                               GHashTable *head_revolutions);

/* The id for a session starting now: one more than any stored or handed out. */
guint64 dr_household_next_session_id (DrHousehold *household);

/* Every earlier treatment of the skin, for dr_engine_set_treatments. */
const DrTreatment *dr_household_get_treatments (DrHousehold *household, gsize *n);
void dr_household_add_treatment (DrHousehold *household, const DrTreatment *treatment);

/* Revolutions the store knew for @head_id when the daemon started. */
double dr_household_get_head_revolutions (DrHousehold *household, guint32 head_id);

G_END_DECLS
