/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* person.h: one person whose skin is treated, on the bus.
 *
 * A DrPerson is the person's Person1 object at /org/dermaroll/person/N (it
 * derives from the generated skeleton and answers its methods). What the
 * rollers need of a person (their treatments, their excluded zones) is in
 * the DrHousehold, which the person changes once the store has the change
 * durably; what the rollers must learn it says with a signal.
 */
#pragma once

#include "dr-dbus.h"
#include "engine-config.h"
#include "household.h"
#include "store-worker.h"

G_BEGIN_DECLS

#define DR_TYPE_PERSON (dr_person_get_type ())
G_DECLARE_FINAL_TYPE (DrPerson, dr_person, DR, PERSON, DrDBusPerson1Skeleton)

/* Properties, all construct-only: "person-id" (gint64, the store's id),
 * "person-name" (its Name), "household" (DrHousehold *, which must know the
 * person), "store" (DrStoreWorker *) and "config" (const DrEngineConfig *,
 * which must outlive the person).
 *
 * Signals:
 *   zone-excluded (int zone, gboolean excluded): the person's @zone was
 *     excluded or included, stored and in the household already; every
 *     roller of the person must learn it (dr_roller_set_zone_excluded).
 */
DrPerson *dr_person_new (gint64 person_id, const char *name, DrHousehold *household,
                         DrStoreWorker *store, const DrEngineConfig *config);

gint64 dr_person_get_id (DrPerson *person);
const char *dr_person_get_object_path (DrPerson *person);

/* Stores the change, then applies it (household, ExcludedZones,
 * zone-excluded); Person1.SetZoneExcluded and Manager1.SetZoneExcluded
 * for the default person. DR_ERROR_STORE when it could not be stored
 * (nothing changed then). */
void dr_person_set_zone_excluded_async (DrPerson *person, int zone, gboolean excluded,
                                        GAsyncReadyCallback callback, gpointer user_data);
gboolean dr_person_set_zone_excluded_finish (DrPerson *person, GAsyncResult *result,
                                             GError **error);

G_END_DECLS
