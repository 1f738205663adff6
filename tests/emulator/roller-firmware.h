/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller-firmware.h: one smart derma roller's firmware, as PROTOCOL.md
 * describes it: the sample clock, frame numbering, the memory that keeps
 * every frame until it is acknowledged, the Control Point requests and the
 * stream.
 *
 * It knows nothing of Bluetooth or D-Bus. What the roller would put on air
 * it reports with signals, and its owner (fake-device.c) decides whether
 * anyone is subscribed to hear it:
 *
 *   frame (GBytes *frame, gboolean history)   a frame to send now
 *   history-end ()                            the replay's last frame went to
 *                                             "frame"; once it is out, call
 *                                             roller_firmware_replay_finished()
 *   indication (guchar opcode, guchar result) a Control Point result
 *   status-changed ()                         the Status value may differ
 *   stream-changed ()                         the stream started or stopped */
#pragma once

#include <glib-object.h>

#include "roller-protocol.h"

G_BEGIN_DECLS

#define ROLLER_TYPE_FIRMWARE (roller_firmware_get_type ())
G_DECLARE_FINAL_TYPE (RollerFirmware, roller_firmware, ROLLER, FIRMWARE, GObject)

/* What the firmware did, for Emulator1's Stats. */
typedef struct
{
  guint64 frames_produced; /* stored ones; lost ones are counted apart */
  guint64 frames_lost;
  guint64 samples_produced;
  guint64 acks;
  gint32 acked_seq; /* -1 before the first ACK */
} RollerFirmwareCounters;

/* Roller number @index of the command line (--head-id + index, its own
 * noise seed); starts with --history frames in memory. */
RollerFirmware *roller_firmware_new (const char *address, guint index);

void roller_firmware_control_write (RollerFirmware *self, GBytes *value);
/* A new link: PROTOCOL.md's "every connection starts idle". */
void roller_firmware_link_up (RollerFirmware *self);
/* The replay left the roller (@delivered: its result is due) or was dropped
 * with the link; either way the next request is no longer busy. */
void roller_firmware_replay_finished (RollerFirmware *self, gboolean delivered);
/* One full live frame now, for a reader that sets the pace (--rate 0).
 * FALSE once the source is exhausted. */
gboolean roller_firmware_produce_frame (RollerFirmware *self);
void roller_firmware_lose_frames (RollerFirmware *self, guint count);
void roller_firmware_set_battery (RollerFirmware *self, guint8 percent);
/* Roll Measurement frames of version 1 or 2 from the next frame on
 * (--protocol-version; Emulator1.SetProtocolVersion). FALSE for another. */
gboolean roller_firmware_set_protocol_version (RollerFirmware *self, guint version);

gboolean roller_firmware_is_rolling (RollerFirmware *self);
gboolean roller_firmware_is_streaming (RollerFirmware *self);
gboolean roller_firmware_is_exhausted (RollerFirmware *self);
gboolean roller_firmware_is_clock_synced (RollerFirmware *self);
/* Samples per second produced; 0 = as fast as the reader takes them. */
guint roller_firmware_get_wall_rate (RollerFirmware *self);
/* START_STREAM's rate: the sample timeline. */
guint roller_firmware_get_stream_rate (RollerFirmware *self);
guint16 roller_firmware_get_next_seq (RollerFirmware *self);
guint8 roller_firmware_get_battery (RollerFirmware *self);
guint32 roller_firmware_get_head_id (RollerFirmware *self);
guint roller_firmware_get_stored (RollerFirmware *self);
const RollerFirmwareCounters *roller_firmware_get_counters (RollerFirmware *self);
void roller_firmware_encode_status (RollerFirmware *self, guint8 buf[DR_STATUS_LEN]);
GBytes *roller_firmware_encode_head_info (RollerFirmware *self);

G_END_DECLS
