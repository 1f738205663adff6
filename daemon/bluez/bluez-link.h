/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bluez-link.h: the link to one roller.
 *
 * Pairs, trusts and connects the roller's Device1; on every
 * ServicesResolved = true rebuilds the GATT map from the object manager by
 * UUID; reads Head Info, Battery Level and Device Information; subscribes
 * to Control Point indications and Status, and to Roll Measurement with
 * AcquireNotify (frames read from the fd, sized by the MTU) or, when that
 * is not available, StartNotify + PropertiesChanged; syncs history when the
 * roller has frames pending; writes SET_TIME and START_STREAM. All GATT
 * operations on the device go through one queue, because concurrent ones
 * answer org.bluez.Error.InProgress; control-point operations wait for
 * their indication. On loss of the link (fd HUP, Connected false,
 * bluetoothd gone, resume from suspend) it reconnects with backoff (1 s
 * doubling to 60 s, with jitter), one attempt at a time, while auto-connect
 * is on.
 */
#pragma once

#include <gio/gio.h>

#include "bluez.h"
#include "roller-protocol.h"

G_BEGIN_DECLS

typedef enum
{
  DR_LINK_DISCONNECTED,
  DR_LINK_CONNECTING, /* connecting, resolving services, setting up */
  DR_LINK_STREAMING,  /* set up; frames flow */
} DrLinkState;

GType dr_link_state_get_type (void);
#define DR_TYPE_LINK_STATE (dr_link_state_get_type ())

#define DR_TYPE_BLUEZ_LINK (dr_bluez_link_get_type ())
G_DECLARE_FINAL_TYPE (DrBluezLink, dr_bluez_link, DR, BLUEZ_LINK, GObject)

/* Signals, emitted from the main loop, never from inside a
 * dr_bluez_link_*() call; a handler may drop the last reference:
 *
 * state-changed (DrLinkState state)
 * frame (pointer data, uint len): one Roll Measurement notification,
 *   exactly as received (undecoded); @data is borrowed.
 * head-info (pointer const DrHeadInfo *)
 * status (pointer const DrStatus *)
 * battery (uint percent)
 * device-info (s manufacturer, s model, s serial, s firmware): Device
 *   Information strings, "" for any the roller lacks.
 * bad-value (s uuid, int DrCodecStatus): a GATT value that did not decode
 *   (Head Info, Status, ...); logged and counted by the caller.
 * clock-set (int64 unix_ms): the roller took SET_TIME @unix_ms: its clock
 *   reads that now.
 */

/* Properties "bluez" and "address" (construct-only); "pair-timeout" and
 * "discovery-timeout" (construct-only, seconds: the whole of a Pair, and
 * its wait for bluetoothd to find a roller it does not know);
 * "backoff-min-ms" (construct-only: the reconnect backoff's first step,
 * 1000; tests shorten it); "phase"
 * (read-only string, notified on every change: "idle", "discovering",
 * "pairing", "trusting", "connecting", "resolving", "setup", "streaming").
 * notify::phase may come from inside a dr_bluez_link_*() call: a handler
 * only records it. */
DrBluezLink *dr_bluez_link_new (DrBluez *bluez, const char *address);

const char *dr_bluez_link_get_address (DrBluezLink *link);
DrLinkState dr_bluez_link_get_state (DrBluezLink *link);
/* TRUE when Roll Measurement comes through an AcquireNotify fd. */
gboolean dr_bluez_link_get_notify_acquired (DrBluezLink *link);

/* Keep (re)connecting whenever the device is known to bluetoothd. */
void dr_bluez_link_set_auto_connect (DrBluezLink *link, gboolean auto_connect);

/* Discovers the roller if needed (up to 30 s), Pair (AlreadyExists is
 * success), Trusted = true, Connect, and completes once streaming. */
void dr_bluez_link_pair (DrBluezLink *link, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data);
gboolean dr_bluez_link_pair_finish (DrBluezLink *link, GAsyncResult *result, GError **error);
/* A Pair is under way. */
gboolean dr_bluez_link_is_pairing (DrBluezLink *link);

/* Stops reconnecting, disconnects and removes the device (RemoveDevice). */
void dr_bluez_link_forget (DrBluezLink *link, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
gboolean dr_bluez_link_forget_finish (DrBluezLink *link, GAsyncResult *result, GError **error);

/* REQUEST_HISTORY; completes when the roller's result indication arrives
 * (after every history frame). NotConnected, InProgress. */
void dr_bluez_link_sync_history (DrBluezLink *link, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean dr_bluez_link_sync_history_finish (DrBluezLink *link, GAsyncResult *result,
                                            GError **error);

/* Queues ACK @last_seq. A queued, unsent ACK is replaced by a newer one
 * rather than sent twice. Ignored while not streaming: the roller keeps
 * the frames and sends them again as history. */
void dr_bluez_link_ack (DrBluezLink *link, guint16 last_seq);

/* SET_TIME at the next connect sends the wall clock, or just after
 * @floor_ms (ms since the Unix epoch: the latest time of a synced frame
 * the roller made) when the wall clock is not after it. Only ever raised. */
void dr_bluez_link_set_clock_floor (DrBluezLink *link, gint64 floor_ms);

/* While held, frames under AcquireNotify are not read: they wait in the
 * socket and then in the roller, which keeps what it has not had
 * acknowledged (the owner holds the link while its store is behind).
 * Under StartNotify they arrive as D-Bus signals all the same. */
void dr_bluez_link_set_held (DrBluezLink *link, gboolean held);

/* Rate for START_STREAM (default 100 Hz). */
void dr_bluez_link_set_stream_rate (DrBluezLink *link, guint8 rate_hz);

G_END_DECLS
