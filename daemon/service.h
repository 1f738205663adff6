/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* service.h: org.dermaroll on the bus: the name, the object manager at
 * /org/dermaroll and the Manager1 methods.
 *
 * DrService is the Manager1 object (it derives from the generated
 * skeleton). It answers every Manager1 call itself, with what it was given
 * when it was made and the rollers it exports; what only the daemon can do
 * it asks for with a signal.
 */
#pragma once

#include "bluez.h"
#include "dr-dbus.h"
#include "engine-config.h"
#include "household.h"
#include "notifier.h"
#include "person.h"
#include "roller.h"
#include "store-worker.h"

G_BEGIN_DECLS

#define DR_TYPE_SERVICE (dr_service_get_type ())
G_DECLARE_FINAL_TYPE (DrService, dr_service, DR, SERVICE, DrDBusManager1Skeleton)

/* Properties, all construct-only: "store" (DrStoreWorker *), "store-path"
 * (the database's file, which ExportSamples reads on its own read-only
 * connection, from a thread of its own), "bluez"
 * (DrBluez *), "config" (const DrEngineConfig *, which must outlive the
 * service), "household" (DrHousehold *, the people and their state) and
 * "notifier" (DrNotifier *, whose kinds SetNotificationEnabled switches
 * once the store has the choice; NotificationKinds follows it).
 *
 * People: AddPerson makes and exports the DrPerson itself once the store
 * has it; RemovePerson moves the person's rollers to the default person
 * (dr_roller_take_person), then unexports them once stored. A person's
 * zone-excluded goes to the rollers of that person.
 *
 * Signals:
 *   DrRoller *ensure-roller (const char *address): Pair wants the roller
 *     of @address; the handler returns it (a new reference), made and
 *     exported if it was not known.
 *   name-lost: the bus name was lost or could not be had.
 *   name-acquired: the bus name is ours.
 *   pair-failed (DrRoller *roller): a Pair of @roller failed; emitted
 *     before the caller is answered. The handler may unexport and drop a
 *     roller it made for that Pair (dr_roller_is_unused ()).
 *   forgotten (DrRoller *roller): a Forget of @roller completed; emitted
 *     before the caller is answered. The handler unexports and drops it
 *     when dr_roller_get_forget_removes () says so.
 */
DrService *dr_service_new (DrStoreWorker *store, const char *store_path, DrBluez *bluez,
                           const DrEngineConfig *config, DrHousehold *household,
                           DrNotifier *notifier);

/* Exports everything on @connection and claims org.dermaroll. */
void dr_service_start (DrService *service, GDBusConnection *connection);
void dr_service_export_roller (DrService *service, DrRoller *roller);
void dr_service_unexport_roller (DrService *service, DrRoller *roller);
/* Exports @person (the default person's also becomes DefaultPerson). */
void dr_service_export_person (DrService *service, DrPerson *person);
/* "" when the store is healthy. */
void dr_service_set_store_error (DrService *service, const char *message);
/* Shutdown: the calls still under way answer Cancelled. */
void dr_service_stop (DrService *service);

G_END_DECLS
