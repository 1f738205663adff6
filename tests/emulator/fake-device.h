/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-device.h: one roller as bluetoothd shows it: its Device1 (connect,
 * pair, trust, link loss), its GATT database (services, characteristics,
 * CCC descriptors, one ATT operation at a time) and the Roll Measurement
 * transport (the AcquireNotify socket or PropertiesChanged, with
 * backpressure at --rate 0).
 *
 * The roller behind it is a RollerFirmware; this side listens to its
 * signals and puts on air what a subscribed central would receive. */
#pragma once

#include "fake-bluez.h"
#include "roller-firmware.h"

/* The ATT MTU a BLE 4.2+ link negotiates; a full frame (238 bytes) fits in
 * one notification (MTU - 3). */
#define NOTIFY_MTU 247

enum
{
  SV_ROLLER,
  SV_BATTERY,
  SV_DEVINFO,
  N_SV
};

enum
{
  CH_MEASUREMENT,
  CH_HEAD_INFO,
  CH_CONTROL,
  CH_STATUS,
  CH_BATTERY,
  CH_MANUFACTURER,
  CH_MODEL,
  CH_SERIAL,
  CH_FIRMWARE,
  N_CH
};

enum
{
  CF_READ = 1 << 0,
  CF_WRITE = 1 << 1,
  CF_NOTIFY = 1 << 2,
  CF_INDICATE = 1 << 3,
};

typedef struct
{
  const char *uuid;
  guint16 handle;
} ServiceDef;

/* handle is the characteristic declaration (BlueZ names the object after
 * it); the value follows at handle + 1 and the CCC descriptor, when the
 * characteristic notifies or indicates, at handle + 2. */
typedef struct
{
  const char *uuid;
  int service;
  guint16 handle;
  guint flags;
} CharDef;

typedef enum
{
  OUT_FRAME,
  OUT_HISTORY_FRAME,
  OUT_RAW,
  OUT_HISTORY_END, /* REQUEST_HISTORY's result indication, after the frames */
} OutKind;

typedef struct
{
  OutKind kind;
  GBytes *bytes;
} OutItem;

typedef enum
{
  GATT_READ,
  GATT_WRITE,
  GATT_START_NOTIFY,
  GATT_ACQUIRE_NOTIFY,
} GattOpKind;

typedef struct
{
  GattOpKind kind;
  GDBusMethodInvocation *inv;
  int ch;
  guint16 offset;
  GBytes *value;
  char *sender;
} GattOp;

typedef struct
{
  Obj *obj;
  Iface *iface;
  Obj *cccd;
  GPtrArray *notify_senders; /* char *: StartNotify sessions */
} CharState;

/* The next @count calls of one kind (Connect, Pair) answer this D-Bus
 * error (Emulator1.FailConnect, FailPair). */
typedef struct
{
  guint count;
  char *name;
  char *message;
} FakeFailure;

/* Sets @f; a short @name is taken as org.bluez.Error.NAME. */
void fake_failure_set (FakeFailure *f, guint count, const char *name, const char *message);
/* Answers @inv with the failure and counts it down, if one is due. */
gboolean fake_failure_take (FakeFailure *f, GDBusMethodInvocation **inv);

struct _Roller
{
  Emu *emu;
  guint index;
  char *address;
  char *name;
  char *path_suffix; /* dev_AA_BB_CC_DD_EE_FF */

  /* BlueZ's view of the device */
  Obj *dev_obj;
  Iface *dev_iface;
  Iface *battery1_iface;
  gboolean paired;
  gboolean trusted;
  gboolean blocked;
  gboolean connected;
  gboolean resolved;
  gboolean in_range;
  char *alias;
  FakeFailure fail_connect;
  FakeFailure fail_pair;
  GDBusMethodInvocation *connect_inv;
  guint connect_timer;
  GDBusMethodInvocation *pair_inv;
  guint pair_timer;
  guint resolve_timer;
  guint temporary_timer;
  guint gatt_generation;
  Obj *services[N_SV];
  CharState chars[N_CH];
  GattOp *gatt_op;
  guint gatt_timer;
  /* Emulator1.HoldOperations: a GATT operation, Connect or Pair is taken
   * (so the next one answers InProgress) but not answered until released. */
  gboolean hold_ops;
  /* Emulator1.LoseOnAir: one live notification in air_loss_one_in never
   * reaches bluetoothd (0: none). The frame stays in the roller's memory,
   * unacknowledged, so a REQUEST_HISTORY brings it. */
  guint air_loss_one_in;
  GRand *air_loss_rand;

  /* Roll Measurement transport */
  int fd; /* our end of the AcquireNotify socket, -1 when not acquired */
  guint fd_watch;
  guint fd_out_watch;
  GQueue out;             /* OutItem */
  gboolean rate0_waiting; /* a backpressure round trip is in flight */

  /* Emulator1.FloodGarbage: malformed frames at a wall-clock rate */
  guint flood_timer;
  guint flood_per_second;
  guint64 flood_total; /* to make in all */
  guint64 flood_made;  /* made so far (queued or sent) */
  gint64 flood_start_us;

  /* the roller itself: what it measures, stores and answers */
  RollerFirmware *fw;

  /* Status notifications */
  guint8 status_notified[DR_STATUS_LEN];
  gint64 status_last_us;
  guint status_timer;

  /* counters */
  guint64 frames_sent;
  guint64 frames_lost_on_air;
  guint64 history_sent;
  guint64 raw_sent;
  guint64 indications;
  guint64 connects;
  guint64 connect_calls;       /* every Device1.Connect received */
  guint connect_max_in_flight; /* the most Connect/Pair calls open at once */
};

Roller *roller_new (Emu *emu, guint index, const char *spec);

/* What a D-Bus call on one of the roller's objects does. */
void device_method_call (Roller *r, const char *sender, const char *method,
                         GDBusMethodInvocation *inv);
gboolean device_set_property (Roller *r, const char *prop, GVariant *value, GError **error);
void char_method_call (Roller *r, int ch, const char *sender, const char *method, GVariant *params,
                       GDBusMethodInvocation *inv);
void desc_method_call (Roller *r, int ch, const char *method, GVariant *params,
                       GDBusMethodInvocation *inv);

void roller_device_add (Roller *r);
void roller_device_remove (Roller *r);
/* The link is gone (disconnect, radio loss, adapter off, bluetoothd gone). */
void roller_link_down (Roller *r, const char *reason, const char *message);
void roller_set_resolved (Roller *r, gboolean resolved);
void roller_schedule_resolve (Roller *r);
/* Removes the GATT objects, as on disconnection or a service change. */
void roller_gatt_remove (Roller *r);
gint16 roller_rssi (Roller *r);
gboolean roller_notifying (Roller *r, int ch);
void roller_notify_session_end (Roller *r, int ch, guint index);
gboolean sender_in (GPtrArray *senders, const char *sender, guint *index);
void roller_release_notify_fd (Roller *r);
/* Someone listens to Roll Measurement (an acquired fd or a session). */
gboolean roller_subscribed (Roller *r);
/* Puts @bytes on Roll Measurement as they are (Emulator1.SendMalformed). */
void roller_send_raw (Roller *r, GBytes *bytes);
/* Emulator1.FloodGarbage: @per_second malformed frames a second for
 * @seconds, on Roll Measurement between the roller's own frames; a new
 * flood replaces one still running. */
void roller_flood_garbage (Roller *r, guint per_second, guint seconds);
void roller_set_battery (Roller *r, guint8 percent);
/* Starts or stops the writer to match the roller's state. */
void roller_kick (Roller *r);
/* Emulator1.HoldOperations: while @hold, a GATT operation, Connect or Pair
 * is accepted and left unanswered; releasing answers it as if it had just
 * arrived. */
void roller_hold_operations (Roller *r, gboolean hold);
/* Emulator1.LoseOnAir: from now on one live frame in @one_in_n, at random
 * from @seed (0: any, and the one taken is returned), is lost on the air;
 * 0 stops it. */
guint32 roller_lose_on_air (Roller *r, guint one_in_n, guint32 seed);
