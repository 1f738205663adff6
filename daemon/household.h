/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* household.h: what every roller of the household shares.
 *
 * Session ids are the store's, not a roller's, and zones are a person's
 * skin, not a roller's: the daemon fills a DrHousehold with what the store
 * knew at startup and hands the same one to every roller, which takes its
 * session ids, and its person's earlier treatments and excluded zones,
 * from it instead of asking the daemon. The people themselves are on the
 * bus as DrPerson objects (person.h); here they are ids.
 */
#pragma once

#include <glib-object.h>

#include "engine.h"

G_BEGIN_DECLS

#define DR_PERSON_PATH_PREFIX "/org/dermaroll/person/"

/* "/org/dermaroll/person/N"; "/" for 0 (nobody). */
char *dr_person_object_path (gint64 person_id);
/* The id of a Person1 path; FALSE for anything else ("/" included). */
gboolean dr_person_id_from_path (const char *path, gint64 *person_id);

#define DR_TYPE_HOUSEHOLD (dr_household_get_type ())
G_DECLARE_FINAL_TYPE (DrHousehold, dr_household, DR, HOUSEHOLD, GObject)

/* @head_revolutions: head id → double*, as stored (a reference is taken). */
DrHousehold *dr_household_new (guint64 last_session_id, gint64 default_person,
                               GHashTable *head_revolutions);

/* The id for a session starting now: one more than any stored or handed out. */
guint64 dr_household_next_session_id (DrHousehold *household);
/* The last id stored or handed out (0 for none); hands out nothing. */
guint64 dr_household_get_last_session_id (DrHousehold *household);

/* People: emits "person-changed" (gint64 person_id) when a person is
 * added or removed or their treatments grow.
 * @treatments DrTreatment, as stored (copied; NULL for none);
 * @excluded: zone ids (DR_MAX_ZONES flags, NULL for none). */
void dr_household_add_person (DrHousehold *household, gint64 person_id, const GArray *treatments,
                              const gboolean *excluded);
void dr_household_remove_person (DrHousehold *household, gint64 person_id);
gboolean dr_household_has_person (DrHousehold *household, gint64 person_id);
/* The person new rollers belong to, who always exists. */
gint64 dr_household_get_default_person (DrHousehold *household);

/* Every earlier treatment of the person's skin, for dr_engine_set_treatments
 * and the rest status (NULL with *n 0 for an unknown person). */
const DrTreatment *dr_household_get_treatments (DrHousehold *household, gint64 person_id, gsize *n);
void dr_household_add_treatment (DrHousehold *household, gint64 person_id,
                                 const DrTreatment *treatment);

gboolean dr_household_is_zone_excluded (DrHousehold *household, gint64 person_id, int zone);
void dr_household_set_zone_excluded (DrHousehold *household, gint64 person_id, int zone,
                                     gboolean excluded);

/* The person's name, as the Person1 object has it (DrPerson keeps it
 * here), for the rollers' popups; NULL for a person not known. */
void dr_household_set_person_name (DrHousehold *household, gint64 person_id, const char *name);
const char *dr_household_get_person_name (DrHousehold *household, gint64 person_id);

/* Revolutions the store knew for @head_id when the daemon started. */
double dr_household_get_head_revolutions (DrHousehold *household, guint32 head_id);

G_END_DECLS
