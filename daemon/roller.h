/* roller.h: one roller as dermarolld sees it.
 *
 * A DrRoller owns the roller's BlueZ link, its engine and its Roller1
 * object. Every frame from the link is decoded, recognised if the roller
 * sends it a second time, fed to the engine, queued for the store, and
 * acknowledged to the roller once the store reports it durably committed.
 * Engine events become stored events and D-Bus signals; Force and Coverage
 * are published throttled.
 */
#pragma once

#include "daemon.h"

G_BEGIN_DECLS

typedef struct
{
  int64_t roller_id; /* row id, or 0 until the store has it */
  gboolean paired;
  GArray *unacked_keys; /* DrFrameKey: stored but not acknowledged */
  guint64 last_session_id; /* the roller's latest session, 0 for none */
  int64_t last_session_start_ms;
} DrRollerStored;

DrRoller *dr_roller_new (DrDaemon *daemon, const char *address, const char *name, const DrRollerStored *stored);
void dr_roller_free (DrRoller *roller);

const char *dr_roller_get_object_path (DrRoller *roller);
void dr_roller_update_seen (DrRoller *roller, const char *name, gint16 rssi);

void dr_roller_pair (DrRoller *roller, GDBusMethodInvocation *invocation);
void dr_roller_forget (DrRoller *roller, GDBusMethodInvocation *invocation);

/* The store made every write up to @serial durable. */
void dr_roller_committed (DrRoller *roller, guint64 serial);
/* The store could not write @serial (disk full, I/O error). */
void dr_roller_write_failed (DrRoller *roller, guint64 serial);
void dr_roller_set_zone_excluded (DrRoller *roller, int zone, gboolean excluded);
void dr_roller_set_zone_last_treated (DrRoller *roller, int zone, int64_t time_ms);
/* Ends the active session and stores it (shutdown). */
void dr_roller_shutdown (DrRoller *roller);

G_END_DECLS
