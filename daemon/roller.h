/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller.h: one roller as dermarolld sees it.
 *
 * A DrRoller is the roller's Roller1 object (it derives from the generated
 * skeleton and answers its methods) and owns the roller's BlueZ link and
 * its engine. Every frame from the link is decoded, recognised if the
 * roller sends it a second time, fed to the engine, queued for the store,
 * and acknowledged to the roller once the store reports it durably
 * committed. Engine events become stored events and D-Bus signals; Force
 * and Coverage are published throttled.
 *
 * It gets what it works with when it is made and never reaches back to
 * whoever made it: what the others must learn (a zone was treated) it
 * says with a signal.
 */
#pragma once

#include "bluez-link.h"
#include "dr-dbus.h"
#include "engine-config.h"
#include "household.h"
#include "notifier.h"
#include "store-worker.h"

G_BEGIN_DECLS

typedef struct
{
  int64_t roller_id; /* row id, or 0 until the store has it */
  gboolean paired;
  GArray *unacked_keys;    /* DrFrameKey: stored but not acknowledged */
  guint64 last_session_id; /* the roller's latest session, 0 for none */
  int64_t last_session_start_ms;
  guint64 malformed_kept; /* malformed frames in the store's ring */
  guint64 malformed_dropped;
  int64_t last_session_end_ms;     /* 0 while it is open */
  gboolean last_session_resumable; /* a crash left it open: nobody ended it */
  gint64 person_id;                /* whose sessions it rolls; 0: the default person's */
} DrRollerStored;

#define DR_TYPE_ROLLER (dr_roller_get_type ())
G_DECLARE_FINAL_TYPE (DrRoller, dr_roller, DR, ROLLER, DrDBusRoller1Skeleton)

/* Properties, all construct-only: "device-address", "device-name" (NULL:
 * the address; both become the Roller1 Address and Name),
 * "stored" (const DrRollerStored *, read at construction; NULL for a
 * roller the store does not know), "store" (DrStoreWorker *), "link"
 * (DrBluezLink *, the roller's own), "notifier" (DrNotifier *), "config" (const DrEngineConfig *,
 * which must outlive the roller) and "household" (DrHousehold).
 *
 * Signals:
 *   zone-treated (gint64 person_id, int zone, gint64 time_ms,
 *     guint needle_length_um): a session of @person_id ended that treated
 *     @zone with needles of @needle_length_um (0: not known); the
 *     household and every roller of that person must learn it
 *     (dr_roller_add_treatment).
 *
 * Roller1.SetPerson is answered here: the session in progress ends first
 * when it was another person's, the engine takes the person's treatments
 * and excluded zones from the household, and the call is answered once
 * the store has it.
 */
DrRoller *dr_roller_new (const char *address, const char *name, const DrRollerStored *stored,
                         DrStoreWorker *store, DrBluezLink *link, DrNotifier *notifier,
                         const DrEngineConfig *config, DrHousehold *household);

const char *dr_roller_get_address (DrRoller *roller);
const char *dr_roller_get_object_path (DrRoller *roller);
void dr_roller_update_seen (DrRoller *roller, const char *name, gint16 rssi);

/* Pairs (see dr_bluez_link_pair), remembers the roller as paired and keeps
 * it connected. */
void dr_roller_pair_async (DrRoller *roller, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
gboolean dr_roller_pair_finish (DrRoller *roller, GAsyncResult *result, GError **error);
/* Stops reconnecting at once, then removes the device from bluetoothd. */
void dr_roller_forget_async (DrRoller *roller, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
gboolean dr_roller_forget_finish (DrRoller *roller, GAsyncResult *result, GError **error);
/* The last Forget found the roller unpaired: its row went with it (unless
 * treatment data is stored under it), and it should go from the bus. A
 * paired roller stays after Forget, unpaired, with its history. */
gboolean dr_roller_get_forget_removes (DrRoller *roller);
/* Nothing of the roller is worth keeping: not paired, no Pair under way,
 * nothing written to the store (a Pair of an address nobody answered). */
gboolean dr_roller_is_unused (DrRoller *roller);

/* The store made every write up to @serial durable. */
void dr_roller_committed (DrRoller *roller, guint64 serial);
/* The store could not write @serial (disk full, I/O error). */
void dr_roller_write_failed (DrRoller *roller, guint64 serial);
void dr_roller_set_zone_excluded (DrRoller *roller, int zone, gboolean excluded);
/* The person the roller's sessions are for (Roller1.Person). */
gint64 dr_roller_get_person_id (DrRoller *roller);
/* The roller is @person_id's from now on, in memory only: for a store
 * write that moved it already (its person was removed). A session in
 * progress for another person ends first. */
void dr_roller_take_person (DrRoller *roller, gint64 person_id);
void dr_roller_add_treatment (DrRoller *roller, const DrTreatment *treatment);
/* Ends the active session and stores it, and drops the link (shutdown):
 * nothing the roller started completes after this. */
void dr_roller_shutdown (DrRoller *roller);

G_END_DECLS
