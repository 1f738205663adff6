/* roller-emulator.c: a stand-in for bluetoothd and smart derma rollers, for
 * the integration tests, the demo and the benchmarks.
 *
 * It owns org.bluez on the bus it is given and implements the part of
 * BlueZ's documented D-Bus API that a GATT client uses (ObjectManager,
 * AgentManager1, Adapter1, Device1, GattService1, GattCharacteristic1,
 * GattDescriptor1), with BlueZ's object paths, property types and error
 * names, for one adapter and any number of rollers. Each roller speaks
 * protocol/PROTOCOL.md: it streams samples from a trace file or a generated
 * rolling pattern, keeps every frame in its memory until it is acknowledged,
 * replays them on REQUEST_HISTORY, and keeps producing while its link is
 * down or bluetoothd is away.
 *
 * org.dermaroll.Emulator1 at /org/dermaroll/Emulator (on a second
 * connection that survives emulated bluetoothd restarts, and on the org.bluez
 * connection too) injects faults: link loss, lost and malformed frames,
 * service flaps, failed connects, bluetoothd restarts, adapter removal. It
 * also reports counters so tests can check what the roller really did.
 *
 * Everything runs on one GLib main loop: timing is done with timeouts, and
 * the AcquireNotify socket is written only while poll says it is writable,
 * so the emulator never blocks, and costs no wake-up while nothing streams.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>

#include "roller-protocol.h"

#define BLUEZ_NAME "org.bluez"
#define BLUEZ_ERROR "org.bluez.Error."
#define EMU_NAME "org.dermaroll.Emulator"
#define EMU_PATH "/org/dermaroll/Emulator"
#define EMU_IFACE "org.dermaroll.Emulator1"
#define EMU_ERROR "org.dermaroll.Emulator.Error."
#define CCCD_UUID "00002902-0000-1000-8000-00805f9b34fb"
#define GAP_UUID "00001800-0000-1000-8000-00805f9b34fb"
#define GATT_UUID "00001801-0000-1000-8000-00805f9b34fb"

/* The ATT MTU a BLE 4.2+ link negotiates; a full frame (238 bytes) fits in
 * one notification (MTU - 3). */
#define NOTIFY_MTU 247
/* Status notifications are rate-limited like a real firmware would. */
#define STATUS_MIN_INTERVAL_US (250 * G_TIME_SPAN_MILLISECOND)
/* At --rate 0: frames produced per wake-up before going back to the main
 * loop, so D-Bus calls are still served while the socket takes everything. */
#define RATE0_FD_BATCH 256
#define RATE0_SIGNAL_BATCH 64
/* Catch-up limit per stream tick (after a stall such as a stopped process). */
#define TICK_MAX_FRAMES 4096
/* Handles of the second GATT database after a service flap start here. */
#define GATT_GENERATION_STRIDE 0x20
/* The pattern's nominal timeline when nothing asked for a rate (history
 * generated at start-up). */
#define DEFAULT_TIMELINE_HZ 100

/* ---- options ----------------------------------------------------------- */

static struct
{
  char *bus_address;
  int adapter_index;
  char *adapter_address;
  char **rollers;
  int needle_um;
  int needle_count;
  int drum_diameter_10um;
  int drum_width_10um;
  int ticks_per_rev;
  gint64 head_id;
  char *trace;
  gboolean loop;
  char *pattern;
  int rate;
  gint64 samples;
  int history;
  gboolean no_acquire_notify;
  gboolean paired;
  gboolean print_address;
  int battery;
  int gatt_latency_ms;
  int connect_delay_ms;
  int resolve_delay_ms;
  int pair_delay_ms;
  int discovery_delay_ms;
  int temporary_timeout_s;
  gint64 ticks_start;
  int seed;
  gboolean verbose;
} opt = {
  .adapter_index = 3,
  .needle_um = 500,
  .needle_count = 192,
  .drum_diameter_10um = 1500,
  .drum_width_10um = 2000,
  .ticks_per_rev = 64,
  .head_id = 1001,
  .rate = -1,
  .samples = -1,
  .battery = 87,
  .gatt_latency_ms = 2,
  .connect_delay_ms = 20,
  .resolve_delay_ms = 30,
  .pair_delay_ms = 20,
  .discovery_delay_ms = 50,
  .temporary_timeout_s = 30,
  .seed = 1,
};

static const GOptionEntry option_entries[] = {
  { "bus", 0, 0, G_OPTION_ARG_STRING, &opt.bus_address,
    "D-Bus address to serve on (default: $DBUS_SYSTEM_BUS_ADDRESS, else the system bus)",
    "ADDRESS" },
  { "adapter-index", 0, 0, G_OPTION_ARG_INT, &opt.adapter_index,
    "Adapter index N: /org/bluez/hciN (3)", "N" },
  { "adapter-address", 0, 0, G_OPTION_ARG_STRING, &opt.adapter_address, "Adapter address",
    "ADDRESS" },
  { "roller", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt.rollers,
    "A roller (repeatable; default C0:FF:EE:00:00:01)", "ADDRESS[,NAME]" },
  { "needle-um", 0, 0, G_OPTION_ARG_INT, &opt.needle_um, "Needle length in µm (500)", "UM" },
  { "needle-count", 0, 0, G_OPTION_ARG_INT, &opt.needle_count, "Needles on the drum (192)", "N" },
  { "drum-diameter-10um", 0, 0, G_OPTION_ARG_INT, &opt.drum_diameter_10um,
    "Drum diameter in 10 µm (1500)", "N" },
  { "drum-width-10um", 0, 0, G_OPTION_ARG_INT, &opt.drum_width_10um, "Drum width in 10 µm (2000)",
    "N" },
  { "ticks-per-rev", 0, 0, G_OPTION_ARG_INT, &opt.ticks_per_rev,
    "Encoder ticks per revolution (64)", "N" },
  { "head-id", 0, 0, G_OPTION_ARG_INT64, &opt.head_id,
    "Needle head serial of the first roller (1001; +1 per roller)", "N" },
  { "trace", 0, 0, G_OPTION_ARG_FILENAME, &opt.trace,
    "Play samples from FILE: records of u16 LE length + frame, or hex text, one frame per line",
    "FILE" },
  { "loop", 0, 0, G_OPTION_ARG_NONE, &opt.loop, "Play the trace again and again", NULL },
  { "pattern", 0, 0, G_OPTION_ARG_STRING, &opt.pattern,
    "Generated rolling: face (default), full, steady, pressure, idle, unzoned", "NAME" },
  { "rate", 0, 0, G_OPTION_ARG_INT, &opt.rate,
    "Samples per second per roller (default: as START_STREAM asks; 0: as fast as the reader takes "
    "them)",
    "HZ" },
  { "samples", 0, 0, G_OPTION_ARG_INT64, &opt.samples,
    "Live samples per roller, then idle (default: unlimited)", "N" },
  { "history", 0, 0, G_OPTION_ARG_INT, &opt.history,
    "Unacknowledged frames in each roller's memory at start", "N" },
  { "no-acquire-notify", 0, 0, G_OPTION_ARG_NONE, &opt.no_acquire_notify,
    "AcquireNotify answers org.bluez.Error.NotSupported", NULL },
  { "paired", 0, 0, G_OPTION_ARG_NONE, &opt.paired, "Rollers start paired and trusted", NULL },
  { "print-address", 0, 0, G_OPTION_ARG_NONE, &opt.print_address,
    "Print READY <unique name> once org.bluez is owned (always done)", NULL },
  { "battery", 0, 0, G_OPTION_ARG_INT, &opt.battery, "Battery level in % (87)", "PERCENT" },
  { "gatt-latency-ms", 0, 0, G_OPTION_ARG_INT, &opt.gatt_latency_ms,
    "Time a GATT operation takes; another one on the same device meanwhile answers InProgress (2)",
    "MS" },
  { "connect-delay-ms", 0, 0, G_OPTION_ARG_INT, &opt.connect_delay_ms,
    "Connection set-up time (20)", "MS" },
  { "resolve-delay-ms", 0, 0, G_OPTION_ARG_INT, &opt.resolve_delay_ms,
    "Service discovery time (30)", "MS" },
  { "pair-delay-ms", 0, 0, G_OPTION_ARG_INT, &opt.pair_delay_ms, "Pairing time (20)", "MS" },
  { "discovery-delay-ms", 0, 0, G_OPTION_ARG_INT, &opt.discovery_delay_ms,
    "Time until discovery sees the rollers (50)", "MS" },
  { "temporary-timeout-s", 0, 0, G_OPTION_ARG_INT, &opt.temporary_timeout_s,
    "Unpaired devices vanish this long after discovery stops, as in BlueZ (30; 0 = never)", "S" },
  { "ticks-start", 0, 0, G_OPTION_ARG_INT64, &opt.ticks_start, "Encoder counter at boot (0)", "N" },
  { "seed", 0, 0, G_OPTION_ARG_INT, &opt.seed, "Seed of the pattern's noise (1)", "N" },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose, "Log every D-Bus operation", NULL },
  { NULL },
};

/* ---- introspection ----------------------------------------------------- */

/* clang-format off: one XML element per line reads better */
static const char introspection_xml[]
    = "<node>"
      " <interface name='org.freedesktop.DBus.ObjectManager'>"
      "  <method name='GetManagedObjects'><arg name='objects' type='a{oa{sa{sv}}}' "
      "direction='out'/></method>"
      "  <signal name='InterfacesAdded'><arg name='object' type='o'/><arg name='interfaces' "
      "type='a{sa{sv}}'/></signal>"
      "  <signal name='InterfacesRemoved'><arg name='object' type='o'/><arg name='interfaces' "
      "type='as'/></signal>"
      " </interface>"
      " <interface name='org.bluez.AgentManager1'>"
      "  <method name='RegisterAgent'><arg name='agent' type='o' direction='in'/>"
      "   <arg name='capability' type='s' direction='in'/></method>"
      "  <method name='UnregisterAgent'><arg name='agent' type='o' direction='in'/></method>"
      "  <method name='RequestDefaultAgent'><arg name='agent' type='o' direction='in'/></method>"
      " </interface>"
      " <interface name='org.bluez.Adapter1'>"
      "  <method name='StartDiscovery'/>"
      "  <method name='StopDiscovery'/>"
      "  <method name='RemoveDevice'><arg name='device' type='o' direction='in'/></method>"
      "  <method name='SetDiscoveryFilter'><arg name='filter' type='a{sv}' "
      "direction='in'/></method>"
      "  <method name='GetDiscoveryFilters'><arg name='filters' type='as' "
      "direction='out'/></method>"
      "  <property name='Address' type='s' access='read'/>"
      "  <property name='AddressType' type='s' access='read'/>"
      "  <property name='Name' type='s' access='read'/>"
      "  <property name='Alias' type='s' access='readwrite'/>"
      "  <property name='Class' type='u' access='read'/>"
      "  <property name='Powered' type='b' access='readwrite'/>"
      "  <property name='Discoverable' type='b' access='readwrite'/>"
      "  <property name='DiscoverableTimeout' type='u' access='readwrite'/>"
      "  <property name='Pairable' type='b' access='readwrite'/>"
      "  <property name='PairableTimeout' type='u' access='readwrite'/>"
      "  <property name='Discovering' type='b' access='read'/>"
      "  <property name='UUIDs' type='as' access='read'/>"
      "  <property name='Modalias' type='s' access='read'/>"
      "  <property name='Roles' type='as' access='read'/>"
      " </interface>"
      " <interface name='org.bluez.Device1'>"
      "  <method name='Connect'/>"
      "  <method name='Disconnect'/>"
      "  <method name='Pair'/>"
      "  <method name='CancelPairing'/>"
      "  <signal name='Disconnected'><arg name='name' type='s'/><arg name='message' "
      "type='s'/></signal>"
      "  <property name='Address' type='s' access='read'/>"
      "  <property name='AddressType' type='s' access='read'/>"
      "  <property name='Name' type='s' access='read'/>"
      "  <property name='Alias' type='s' access='readwrite'/>"
      "  <property name='Appearance' type='q' access='read'/>"
      "  <property name='Paired' type='b' access='read'/>"
      "  <property name='Bonded' type='b' access='read'/>"
      "  <property name='Trusted' type='b' access='readwrite'/>"
      "  <property name='Blocked' type='b' access='readwrite'/>"
      "  <property name='LegacyPairing' type='b' access='read'/>"
      "  <property name='Connected' type='b' access='read'/>"
      "  <property name='ServicesResolved' type='b' access='read'/>"
      "  <property name='UUIDs' type='as' access='read'/>"
      "  <property name='Adapter' type='o' access='read'/>"
      "  <property name='RSSI' type='n' access='read'/>"
      "  <property name='TxPower' type='n' access='read'/>"
      "  <property name='ManufacturerData' type='a{qv}' access='read'/>"
      "  <property name='ServiceData' type='a{sv}' access='read'/>"
      " </interface>"
      " <interface name='org.bluez.Battery1'>"
      "  <property name='Percentage' type='y' access='read'/>"
      " </interface>"
      " <interface name='org.bluez.GattService1'>"
      "  <property name='UUID' type='s' access='read'/>"
      "  <property name='Primary' type='b' access='read'/>"
      "  <property name='Device' type='o' access='read'/>"
      "  <property name='Includes' type='ao' access='read'/>"
      "  <property name='Handle' type='q' access='read'/>"
      " </interface>"
      " <interface name='org.bluez.GattCharacteristic1'>"
      "  <method name='ReadValue'><arg name='options' type='a{sv}' direction='in'/>"
      "   <arg name='value' type='ay' direction='out'/></method>"
      "  <method name='WriteValue'><arg name='value' type='ay' direction='in'/>"
      "   <arg name='options' type='a{sv}' direction='in'/></method>"
      "  <method name='AcquireNotify'><arg name='options' type='a{sv}' direction='in'/>"
      "   <arg name='fd' type='h' direction='out'/><arg name='mtu' type='q' "
      "direction='out'/></method>"
      "  <method name='StartNotify'/>"
      "  <method name='StopNotify'/>"
      "  <property name='UUID' type='s' access='read'/>"
      "  <property name='Service' type='o' access='read'/>"
      "  <property name='Value' type='ay' access='read'/>"
      "  <property name='Notifying' type='b' access='read'/>"
      "  <property name='NotifyAcquired' type='b' access='read'/>"
      "  <property name='Flags' type='as' access='read'/>"
      "  <property name='Handle' type='q' access='read'/>"
      "  <property name='MTU' type='q' access='read'/>"
      " </interface>"
      " <interface name='org.bluez.GattDescriptor1'>"
      "  <method name='ReadValue'><arg name='options' type='a{sv}' direction='in'/>"
      "   <arg name='value' type='ay' direction='out'/></method>"
      "  <method name='WriteValue'><arg name='value' type='ay' direction='in'/>"
      "   <arg name='options' type='a{sv}' direction='in'/></method>"
      "  <property name='UUID' type='s' access='read'/>"
      "  <property name='Characteristic' type='o' access='read'/>"
      "  <property name='Value' type='ay' access='read'/>"
      "  <property name='Flags' type='as' access='read'/>"
      "  <property name='Handle' type='q' access='read'/>"
      " </interface>"
      " <interface name='org.dermaroll.Emulator1'>"
      "  <method name='DropLink'><arg name='address' type='s' direction='in'/></method>"
      "  <method name='LoseFrames'><arg name='address' type='s' direction='in'/>"
      "   <arg name='count' type='u' direction='in'/></method>"
      "  <method name='SendMalformed'><arg name='address' type='s' direction='in'/>"
      "   <arg name='bytes' type='ay' direction='in'/></method>"
      "  <method name='FlapServices'><arg name='address' type='s' direction='in'/></method>"
      "  <method name='FailConnect'><arg name='address' type='s' direction='in'/>"
      "   <arg name='count' type='u' direction='in'/><arg name='error_name' type='s' "
      "direction='in'/>"
      "   <arg name='message' type='s' direction='in'/></method>"
      "  <method name='SetInRange'><arg name='address' type='s' direction='in'/>"
      "   <arg name='in_range' type='b' direction='in'/></method>"
      "  <method name='SetBattery'><arg name='address' type='s' direction='in'/>"
      "   <arg name='percent' type='y' direction='in'/></method>"
      "  <method name='Restart'><arg name='delay_ms' type='u' direction='in'/></method>"
      "  <method name='RemoveAdapter'/>"
      "  <method name='AddAdapter'><arg name='index' type='u' direction='in'/></method>"
      "  <method name='Stats'><arg name='stats' type='a{sv}' direction='out'/></method>"
      "  <method name='RollerStats'><arg name='address' type='s' direction='in'/>"
      "   <arg name='stats' type='a{sv}' direction='out'/></method>"
      "  <method name='StoredFrames'><arg name='address' type='s' direction='in'/>"
      "   <arg name='count' type='u' direction='out'/></method>"
      "  <method name='Quit'/>"
      " </interface>"
      "</node>";
/* clang-format on */

/* ---- GATT database ----------------------------------------------------- */

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

static const ServiceDef service_defs[N_SV] = {
  [SV_ROLLER] = { DR_UUID_ROLLER_SERVICE, 0x0001 },
  [SV_BATTERY] = { DR_UUID_BATTERY_SERVICE, 0x000d },
  [SV_DEVINFO] = { DR_UUID_DEVICE_INFO_SERVICE, 0x0011 },
};

static const CharDef char_defs[N_CH] = {
  [CH_MEASUREMENT] = { DR_UUID_ROLL_MEASUREMENT, SV_ROLLER, 0x0002, CF_NOTIFY },
  [CH_HEAD_INFO] = { DR_UUID_HEAD_INFO, SV_ROLLER, 0x0005, CF_READ },
  [CH_CONTROL] = { DR_UUID_CONTROL_POINT, SV_ROLLER, 0x0007, CF_WRITE | CF_INDICATE },
  [CH_STATUS] = { DR_UUID_STATUS, SV_ROLLER, 0x000a, CF_READ | CF_NOTIFY },
  [CH_BATTERY] = { DR_UUID_BATTERY_LEVEL, SV_BATTERY, 0x000e, CF_READ | CF_NOTIFY },
  [CH_MANUFACTURER] = { DR_UUID_MANUFACTURER_NAME, SV_DEVINFO, 0x0012, CF_READ },
  [CH_MODEL] = { DR_UUID_MODEL_NUMBER, SV_DEVINFO, 0x0014, CF_READ },
  [CH_SERIAL] = { DR_UUID_SERIAL_NUMBER, SV_DEVINFO, 0x0016, CF_READ },
  [CH_FIRMWARE] = { DR_UUID_FIRMWARE_REVISION, SV_DEVINFO, 0x0018, CF_READ },
};

/* ---- generated rolling patterns ---------------------------------------- */

typedef enum
{
  PATTERN_FACE,
  PATTERN_FULL,
  PATTERN_STEADY,
  PATTERN_PRESSURE,
  PATTERN_IDLE,
  PATTERN_UNZONED,
} PatternKind;

/* One stretch of the pattern: a stroke in contact, or the roller lifted. */
typedef struct
{
  double duration_s;
  guint8 zone;
  gboolean contact;
  double force_n;    /* plateau force while in contact */
  double spike_at_s; /* < 0: none. A short press above the plateau. */
  double spike_len_s;
  double spike_force_n;
  double fault_at_s; /* < 0: none. One force-sensor fault sample. */
} Segment;

/* The issue's default zones: forehead, left cheek, right cheek, nose,
 * upper lip, chin, neck (cm²). The pattern covers each about 6.3 times, just
 * over the engine's default target of 6 passes. */
static const double zone_area_cm2[] = { 60, 40, 40, 12, 8, 18, 110 };

static PatternKind pattern_kind = PATTERN_FACE;
static GArray *pattern_segments; /* Segment */

/* ---- trace ------------------------------------------------------------- */

typedef struct
{
  gint64 offset_us; /* since the first sample of the trace */
  guint32 ticks;
  guint16 force_mn;
  guint8 zone;
} TraceSample;

static GArray *trace_samples; /* TraceSample, NULL without --trace */

/* ---- model ------------------------------------------------------------- */

typedef struct _Emu Emu;
typedef struct _Roller Roller;
typedef struct _Obj Obj;

typedef enum
{
  OBJ_AGENT_MANAGER,
  OBJ_ADAPTER,
  OBJ_DEVICE,
  OBJ_SERVICE,
  OBJ_CHAR,
  OBJ_DESC,
} ObjKind;

/* One exported interface: its properties live here, so Get, GetAll,
 * GetManagedObjects and InterfacesAdded all answer from the same table. A
 * property that is absent from the table is absent on the bus, as BlueZ's
 * optional properties are (RSSI outside discovery, for instance). */
typedef struct
{
  Obj *obj;
  const char *name;  /* interned */
  GHashTable *props; /* interned name → GVariant */
  GDBusConnection *conn;
  guint reg_id;
} Iface;

struct _Obj
{
  Emu *emu;
  ObjKind kind;
  char *path;
  GPtrArray *ifaces; /* Iface, owned */
  Roller *roller;
  int index; /* CH_* for characteristics and descriptors, SV_* for services */
  gboolean exported;
};

/* A D-Bus peer of org.bluez: its discovery session, filter and agent. */
typedef struct
{
  Emu *emu;
  char *sender;
  guint watch_id;
  gboolean discovering;
  gboolean has_filter;
  char **filter_uuids;
  char *filter_transport;
  char *filter_pattern;
  char *agent_path;
  char *agent_capability;
} Client;

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

/* Where the next sample comes from. */
typedef struct
{
  /* pattern */
  guint seg;
  double seg_start_s;
  double t_cycle_s;
  double t_total_s;
  double ticks_acc;
  guint32 rng;
  /* trace */
  guint trace_pos;
  gint64 trace_base_us;
  guint32 trace_tick_offset;
  /* both: virtual time of the next sample */
  gint64 offset_us;
  guint64 remaining; /* live samples left; G_MAXUINT64 = unlimited */
} Gen;

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
  guint fail_connect_count;
  char *fail_connect_name;
  char *fail_connect_message;
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

  /* Roll Measurement transport */
  int fd; /* our end of the AcquireNotify socket, -1 when not acquired */
  guint fd_watch;
  guint fd_out_watch;
  GQueue out; /* OutItem */
  gboolean replaying;
  gboolean rate0_waiting; /* a backpressure round trip is in flight */

  /* the roller itself */
  DrHeadInfo head;
  guint8 battery;
  gint64 boot_mono_us;
  gboolean clock_synced;
  gint64 clock_set_unix_ms;
  gint64 clock_set_mono_us;
  gboolean streaming;
  gboolean exhausted;
  guint stream_rate; /* START_STREAM's rate: the sample timeline */
  guint wall_rate;   /* samples per second produced; 0 = as fast as taken */
  guint stream_timer;
  gint64 origin_mono_us;
  gint64 origin_offset_us;
  gint64 wall_origin_us;
  guint64 wall_emitted;
  Gen gen;
  GQueue memory; /* GBytes: stored frames, oldest first */
  guint16 next_seq;
  guint lose_count;

  /* Status notifications */
  guint8 status_notified[DR_STATUS_LEN];
  gint64 status_last_us;
  guint status_timer;

  /* counters */
  guint64 frames_produced;
  guint64 frames_sent;
  guint64 frames_lost;
  guint64 history_sent;
  guint64 raw_sent;
  guint64 samples_produced;
  guint64 acks;
  gint32 acked_seq;
  guint64 indications;
  guint64 connects;
};

struct _Emu
{
  GMainLoop *loop;
  int exit_code;
  GDBusNodeInfo *node_info;
  char *bus_address;

  GDBusConnection *control_conn;
  guint control_reg_id;
  guint control_name_id;

  GDBusConnection *bus; /* the org.bluez side; NULL while "restarting" */
  guint bus_name_id;
  guint root_reg_id;
  guint bus_emu_reg_id;
  gboolean name_owned_once;
  gboolean restarting;
  guint restart_timer;

  GHashTable *objects; /* path → Obj (owned) */
  GHashTable *clients; /* sender → Client (owned) */
  char *default_agent_sender;

  gboolean adapter_present;
  guint adapter_index;
  char *adapter_path;
  char *adapter_address;
  Obj *adapter_obj;
  Iface *adapter_iface;
  gboolean powered;
  guint n_discovering;
  guint discovery_timer;

  GPtrArray *rollers;
};

/* The one emulator. Static rather than on main's stack so that everything
 * it holds stays reachable until exit (LeakSanitizer in `--setup=asan`). */
static Emu *the_emu;

static void roller_kick (Roller *r);
static void roller_pump (Roller *r);
static void roller_status_changed (Roller *r);
static void roller_link_down (Roller *r, const char *reason, const char *message);
static void roller_gatt_remove (Roller *r);
static void roller_device_add (Roller *r);
static void roller_device_remove (Roller *r);
static void bluez_bring_up (Emu *emu);

/* ---- small helpers ----------------------------------------------------- */

static GVariant *
bytes_variant (const guint8 *data, gsize len)
{
  if (len == 0)
    return g_variant_new_array (G_VARIANT_TYPE_BYTE, NULL, 0);
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1);
}

static GVariant *
gbytes_variant (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return bytes_variant (data, len);
}

static GVariant *
strv_variant (const char *const *strv)
{
  return g_variant_new_strv (strv, -1);
}

static void
reply_bluez_error (GDBusMethodInvocation *inv, const char *name, const char *message)
{
  g_autofree char *full = g_strconcat (BLUEZ_ERROR, name, NULL);

  g_dbus_method_invocation_return_dbus_error (inv, full, message);
}

static void
reply_emu_error (GDBusMethodInvocation *inv, const char *name, const char *message)
{
  g_autofree char *full = g_strconcat (EMU_ERROR, name, NULL);

  g_dbus_method_invocation_return_dbus_error (inv, full, message);
}

static gboolean
address_is_valid (const char *address)
{
  if (strlen (address) != 17)
    return FALSE;
  for (int i = 0; i < 17; i++)
    {
      if (i % 3 == 2)
        {
          if (address[i] != ':')
            return FALSE;
        }
      else if (!g_ascii_isxdigit (address[i]))
        return FALSE;
    }
  return TRUE;
}

static guint32
rng_next (guint32 *state)
{
  /* xorshift32: deterministic noise, so a pattern is the same every run. */
  guint32 x = *state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

/* Uniform in [-1, 1). */
static double
rng_noise (guint32 *state)
{
  return (double) rng_next (state) / 2147483648.0 - 1.0;
}

static double
force_limit_n (void)
{
  /* The engine's default limits by needle length. */
  if (opt.needle_um <= 300)
    return 6.0;
  if (opt.needle_um <= 500)
    return 5.0;
  if (opt.needle_um <= 1000)
    return 4.0;
  return 3.0;
}

/* ---- exported objects -------------------------------------------------- */

static void
emit_signal (Emu *emu, const char *path, const char *iface, const char *signal_name,
             GVariant *params)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (params);

  /* While "restarting" there is no bluetoothd: whatever would be said is lost. */
  if (emu->bus == NULL)
    return;
  g_dbus_connection_emit_signal (emu->bus, NULL, path, iface, signal_name, owned, NULL);
}

static GVariant *
iface_props_dict (Iface *iface)
{
  GVariantBuilder b;
  GHashTableIter it;
  gpointer key, value;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_hash_table_iter_init (&it, iface->props);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_variant_builder_add (&b, "{sv}", (const char *) key, (GVariant *) value);
  return g_variant_builder_end (&b);
}

static void
iface_emit_changed (Iface *iface, const char *name, GVariant *value)
{
  GVariantBuilder changed, invalidated;

  if (!iface->obj->exported)
    return;
  g_variant_builder_init (&changed, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&invalidated, G_VARIANT_TYPE_STRING_ARRAY);
  if (value != NULL)
    g_variant_builder_add (&changed, "{sv}", name, value);
  else
    g_variant_builder_add (&invalidated, "s", name);
  emit_signal (iface->obj->emu, iface->obj->path, "org.freedesktop.DBus.Properties",
               "PropertiesChanged",
               g_variant_new ("(sa{sv}as)", iface->name, &changed, &invalidated));
}

/* Sets a property; PropertiesChanged only when the value really changes. */
static void
iface_set (Iface *iface, const char *name, GVariant *value)
{
  GVariant *old;

  g_variant_ref_sink (value);
  old = g_hash_table_lookup (iface->props, name);
  if (old != NULL && g_variant_equal (old, value))
    {
      g_variant_unref (value);
      return;
    }
  g_hash_table_replace (iface->props, (gpointer) g_intern_string (name), value);
  iface_emit_changed (iface, name, value);
}

/* A notification or indication: PropertiesChanged even when the bytes are
 * the same as last time, as BlueZ does for every one it receives. */
static void
iface_notify (Iface *iface, const char *name, GVariant *value)
{
  g_variant_ref_sink (value);
  g_hash_table_replace (iface->props, (gpointer) g_intern_string (name), value);
  iface_emit_changed (iface, name, value);
}

static void
iface_unset (Iface *iface, const char *name)
{
  if (g_hash_table_remove (iface->props, name))
    iface_emit_changed (iface, name, NULL);
}

static Obj *
obj_new (Emu *emu, ObjKind kind, const char *path, Roller *roller, int index)
{
  Obj *obj = g_new0 (Obj, 1);

  obj->emu = emu;
  obj->kind = kind;
  obj->path = g_strdup (path);
  obj->ifaces = g_ptr_array_new ();
  obj->roller = roller;
  obj->index = index;
  return obj;
}

static Iface *
obj_add_iface (Obj *obj, const char *name)
{
  Iface *iface = g_new0 (Iface, 1);

  iface->obj = obj;
  iface->name = g_intern_string (name);
  iface->props
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_variant_unref);
  g_ptr_array_add (obj->ifaces, iface);
  return iface;
}

static void iface_method_call (GDBusConnection *conn, const char *sender, const char *path,
                               const char *iface_name, const char *method, GVariant *params,
                               GDBusMethodInvocation *inv, gpointer user_data);
static GVariant *iface_get_property (GDBusConnection *conn, const char *sender, const char *path,
                                     const char *iface_name, const char *prop, GError **error,
                                     gpointer user_data);
static gboolean iface_set_property (GDBusConnection *conn, const char *sender, const char *path,
                                    const char *iface_name, const char *prop, GVariant *value,
                                    GError **error, gpointer user_data);

static const GDBusInterfaceVTable iface_vtable = {
  .method_call = iface_method_call,
  .get_property = iface_get_property,
  .set_property = iface_set_property,
};

/* Registers every interface of @obj and announces it with InterfacesAdded. */
static void
obj_export (Obj *obj)
{
  Emu *emu = obj->emu;
  GVariantBuilder b;

  g_assert (emu->bus != NULL);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sa{sv}}"));
  for (guint i = 0; i < obj->ifaces->len; i++)
    {
      Iface *iface = g_ptr_array_index (obj->ifaces, i);
      GDBusInterfaceInfo *info = g_dbus_node_info_lookup_interface (emu->node_info, iface->name);
      g_autoptr (GError) error = NULL;

      iface->reg_id = g_dbus_connection_register_object (emu->bus, obj->path, info, &iface_vtable,
                                                         iface, NULL, &error);
      if (iface->reg_id == 0)
        g_error ("cannot export %s on %s: %s", iface->name, obj->path, error->message);
      iface->conn = g_object_ref (emu->bus);
      g_variant_builder_add (&b, "{s@a{sv}}", iface->name, iface_props_dict (iface));
    }
  g_hash_table_insert (emu->objects, obj->path, obj);
  obj->exported = TRUE;
  emit_signal (emu, "/", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
               g_variant_new ("(oa{sa{sv}})", obj->path, &b));
  if (opt.verbose)
    g_message ("added %s", obj->path);
}

static void
obj_free (Obj *obj)
{
  for (guint i = 0; i < obj->ifaces->len; i++)
    {
      Iface *iface = g_ptr_array_index (obj->ifaces, i);

      g_hash_table_unref (iface->props);
      g_clear_object (&iface->conn);
      g_free (iface);
    }
  g_ptr_array_unref (obj->ifaces);
  g_free (obj->path);
  g_free (obj);
}

/* InterfacesRemoved, unregisters and frees. */
static void
obj_destroy (Obj *obj)
{
  Emu *emu = obj->emu;
  GVariantBuilder names;

  if (obj->exported)
    {
      g_variant_builder_init (&names, G_VARIANT_TYPE_STRING_ARRAY);
      for (guint i = 0; i < obj->ifaces->len; i++)
        {
          Iface *iface = g_ptr_array_index (obj->ifaces, i);

          g_dbus_connection_unregister_object (iface->conn, iface->reg_id);
          g_variant_builder_add (&names, "s", iface->name);
        }
      emit_signal (emu, "/", "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                   g_variant_new ("(oas)", obj->path, &names));
      g_hash_table_steal (emu->objects, obj->path);
      if (opt.verbose)
        g_message ("removed %s", obj->path);
    }
  obj_free (obj);
}

static GVariant *
iface_get_property (GDBusConnection *conn, const char *sender, const char *path,
                    const char *iface_name, const char *prop, GError **error, gpointer user_data)
{
  Iface *iface = user_data;
  GVariant *value = g_hash_table_lookup (iface->props, prop);

  if (value == NULL)
    {
      /* GetAll skips it (error is NULL there); Get answers like BlueZ. */
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "No such property '%s'", prop);
      return NULL;
    }
  return g_variant_ref (value);
}

/* For the paths that must answer with a GError (property setters, the
 * discovery filter parser): a registered domain, so GDBus sends BlueZ's
 * error names on the wire. */
typedef enum
{
  BLUEZ_ERROR_NOT_READY,
  BLUEZ_ERROR_NOT_SUPPORTED,
  BLUEZ_ERROR_INVALID_ARGUMENTS,
} BluezErrorCode;

static const GDBusErrorEntry bluez_error_entries[] = {
  { BLUEZ_ERROR_NOT_READY, BLUEZ_ERROR "NotReady" },
  { BLUEZ_ERROR_NOT_SUPPORTED, BLUEZ_ERROR "NotSupported" },
  { BLUEZ_ERROR_INVALID_ARGUMENTS, BLUEZ_ERROR "InvalidArguments" },
};

static GQuark
bluez_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("roller-emulator-bluez-error-quark", &quark,
                                      bluez_error_entries, G_N_ELEMENTS (bluez_error_entries));
  return (GQuark) quark;
}

static void
set_bluez_gerror (GError **error, BluezErrorCode code, const char *message)
{
  g_set_error_literal (error, bluez_error_quark (), code, message);
}

/* ---- clients (D-Bus peers) --------------------------------------------- */

static void
client_clear_filter (Client *c)
{
  c->has_filter = FALSE;
  g_clear_pointer (&c->filter_uuids, g_strfreev);
  g_clear_pointer (&c->filter_transport, g_free);
  g_clear_pointer (&c->filter_pattern, g_free);
}

static void
client_free (Client *c)
{
  if (c->watch_id != 0)
    g_bus_unwatch_name (c->watch_id);
  client_clear_filter (c);
  g_free (c->agent_path);
  g_free (c->agent_capability);
  g_free (c->sender);
  g_free (c);
}

static void client_vanished_cb (GDBusConnection *conn, const char *name, gpointer user_data);

static Client *
client_get (Emu *emu, const char *sender)
{
  Client *c = g_hash_table_lookup (emu->clients, sender);

  if (c != NULL)
    return c;
  c = g_new0 (Client, 1);
  c->emu = emu;
  c->sender = g_strdup (sender);
  /* BlueZ drops a peer's discovery session, filter, agent and notify
   * sessions when it leaves the bus; so do we. */
  c->watch_id = g_bus_watch_name_on_connection (emu->bus, sender, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                NULL, client_vanished_cb, emu, NULL);
  g_hash_table_insert (emu->clients, c->sender, c);
  return c;
}

static gboolean
client_filter_matches (Client *c, Roller *r)
{
  if (!c->has_filter)
    return TRUE;
  if (c->filter_transport != NULL && strcmp (c->filter_transport, "bredr") == 0)
    return FALSE; /* the roller is LE only */
  if (c->filter_uuids != NULL && c->filter_uuids[0] != NULL)
    {
      gboolean found = FALSE;

      for (char **u = c->filter_uuids; *u != NULL; u++)
        if (g_ascii_strcasecmp (*u, DR_UUID_ROLLER_SERVICE) == 0)
          found = TRUE;
      if (!found)
        return FALSE;
    }
  if (c->filter_pattern != NULL && c->filter_pattern[0] != '\0'
      && !g_str_has_prefix (r->address, c->filter_pattern)
      && !g_str_has_prefix (r->name, c->filter_pattern))
    return FALSE;
  return TRUE;
}

/* ---- the adapter ------------------------------------------------------- */

static gboolean
discovery_matches (Emu *emu, Roller *r)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, emu->clients);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Client *c = value;

      if (c->discovering && client_filter_matches (c, r))
        return TRUE;
    }
  return FALSE;
}

static gint16
roller_rssi (Roller *r)
{
  return (gint16) (-48 - 3 * (int) r->index);
}

static gboolean
temporary_timeout_cb (gpointer data)
{
  Roller *r = data;

  r->temporary_timer = 0;
  if (r->dev_obj != NULL && !r->paired && !r->trusted && !r->connected && r->connect_inv == NULL
      && r->pair_inv == NULL)
    roller_device_remove (r);
  return G_SOURCE_REMOVE;
}

static gboolean
discovery_tick_cb (gpointer data)
{
  Emu *emu = data;

  emu->discovery_timer = 0;
  if (emu->n_discovering == 0)
    return G_SOURCE_REMOVE;
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      if (!r->in_range || !discovery_matches (emu, r))
        continue;
      if (r->dev_obj == NULL)
        roller_device_add (r);
      g_clear_handle_id (&r->temporary_timer, g_source_remove);
      iface_set (r->dev_iface, "RSSI", g_variant_new_int16 (roller_rssi (r)));
    }
  return G_SOURCE_REMOVE;
}

static void
discovery_schedule (Emu *emu)
{
  if (emu->n_discovering > 0 && emu->discovery_timer == 0)
    emu->discovery_timer = g_timeout_add (opt.discovery_delay_ms, discovery_tick_cb, emu);
}

static void
discovery_stopped (Emu *emu)
{
  g_clear_handle_id (&emu->discovery_timer, g_source_remove);
  if (emu->adapter_iface != NULL)
    iface_set (emu->adapter_iface, "Discovering", g_variant_new_boolean (FALSE));
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      if (r->dev_obj == NULL)
        continue;
      /* BlueZ invalidates RSSI when scanning ends, and forgets devices it
       * only saw advertising after a while. */
      iface_unset (r->dev_iface, "RSSI");
      if (opt.temporary_timeout_s > 0 && !r->paired && !r->trusted && !r->connected
          && r->temporary_timer == 0)
        r->temporary_timer
            = g_timeout_add_seconds (opt.temporary_timeout_s, temporary_timeout_cb, r);
    }
}

static void
discovery_session_end (Emu *emu, Client *c)
{
  if (!c->discovering)
    return;
  c->discovering = FALSE;
  client_clear_filter (c);
  g_assert (emu->n_discovering > 0);
  if (--emu->n_discovering == 0)
    discovery_stopped (emu);
}

static void
discovery_drop_all (Emu *emu)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, emu->clients);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Client *c = value;

      c->discovering = FALSE;
      client_clear_filter (c);
    }
  if (emu->n_discovering > 0)
    {
      emu->n_discovering = 0;
      discovery_stopped (emu);
    }
}

static void
adapter_create (Emu *emu)
{
  static const char *const adapter_uuids[] = { GAP_UUID, GATT_UUID, NULL };
  static const char *const roles[] = { "central", "peripheral", NULL };
  Obj *obj;
  Iface *a;

  g_free (emu->adapter_path);
  emu->adapter_path = g_strdup_printf ("/org/bluez/hci%u", emu->adapter_index);
  obj = obj_new (emu, OBJ_ADAPTER, emu->adapter_path, NULL, 0);
  a = obj_add_iface (obj, "org.bluez.Adapter1");
  iface_set (a, "Address", g_variant_new_string (emu->adapter_address));
  iface_set (a, "AddressType", g_variant_new_string ("public"));
  iface_set (a, "Name", g_variant_new_string ("dermaroll-emulator"));
  iface_set (a, "Alias", g_variant_new_string ("dermaroll-emulator"));
  iface_set (a, "Class", g_variant_new_uint32 (0));
  iface_set (a, "Powered", g_variant_new_boolean (emu->powered));
  iface_set (a, "Discoverable", g_variant_new_boolean (FALSE));
  iface_set (a, "DiscoverableTimeout", g_variant_new_uint32 (180));
  iface_set (a, "Pairable", g_variant_new_boolean (TRUE));
  iface_set (a, "PairableTimeout", g_variant_new_uint32 (0));
  iface_set (a, "Discovering", g_variant_new_boolean (FALSE));
  iface_set (a, "UUIDs", strv_variant (adapter_uuids));
  iface_set (a, "Modalias", g_variant_new_string ("usb:v1D6Bp0246d0542"));
  iface_set (a, "Roles", strv_variant (roles));
  emu->adapter_obj = obj;
  emu->adapter_iface = a;
  obj_export (obj);

  /* bluetoothd loads bonded devices from its storage at start. */
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      if (r->paired)
        roller_device_add (r);
    }
}

/* Every device and the adapter go, as when a USB dongle is pulled. */
static void
adapter_destroy (Emu *emu)
{
  discovery_drop_all (emu);
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      roller_link_down (r, "org.bluez.Reason.Local", "Adapter removed");
      if (r->dev_obj != NULL)
        roller_device_remove (r);
    }
  if (emu->adapter_obj != NULL)
    obj_destroy (emu->adapter_obj);
  emu->adapter_obj = NULL;
  emu->adapter_iface = NULL;
}

static void
adapter_set_powered (Emu *emu, gboolean powered)
{
  if (emu->powered == powered)
    return;
  emu->powered = powered;
  if (!powered)
    {
      discovery_drop_all (emu);
      for (guint i = 0; i < emu->rollers->len; i++)
        roller_link_down (g_ptr_array_index (emu->rollers, i), "org.bluez.Reason.Local",
                          "Adapter powered off");
    }
  iface_set (emu->adapter_iface, "Powered", g_variant_new_boolean (powered));
}

static Roller *
adapter_find_device (Emu *emu, const char *path)
{
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      if (r->dev_obj != NULL && strcmp (r->dev_obj->path, path) == 0)
        return r;
    }
  return NULL;
}

static gboolean
parse_discovery_filter (Client *c, GVariant *filter, GError **error)
{
  static const char *const transports[] = { "auto", "bredr", "le", NULL };
  GVariantIter it;
  const char *key;
  GVariant *value;
  g_auto (GStrv) uuids = NULL;
  g_autofree char *transport = NULL;
  g_autofree char *pattern = NULL;
  gboolean have_rssi = FALSE, have_pathloss = FALSE;

  g_variant_iter_init (&it, filter);
  while (g_variant_iter_next (&it, "{&sv}", &key, &value))
    {
      g_autoptr (GVariant) v = value;
      const char *want = NULL;

      if (strcmp (key, "UUIDs") == 0)
        want = "as";
      else if (strcmp (key, "RSSI") == 0)
        want = "n";
      else if (strcmp (key, "Pathloss") == 0)
        want = "q";
      else if (strcmp (key, "Transport") == 0 || strcmp (key, "Pattern") == 0)
        want = "s";
      else if (strcmp (key, "DuplicateData") == 0 || strcmp (key, "Discoverable") == 0
               || strcmp (key, "AutoConnect") == 0)
        want = "b";
      if (want == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE (want)))
        {
          set_bluez_gerror (error, BLUEZ_ERROR_INVALID_ARGUMENTS,
                            "Invalid arguments in method call");
          return FALSE;
        }
      if (strcmp (key, "UUIDs") == 0)
        {
          g_strfreev (uuids);
          uuids = g_variant_dup_strv (v, NULL);
        }
      else if (strcmp (key, "Transport") == 0)
        {
          g_free (transport);
          transport = g_variant_dup_string (v, NULL);
          if (!g_strv_contains (transports, transport))
            {
              set_bluez_gerror (error, BLUEZ_ERROR_INVALID_ARGUMENTS,
                                "Invalid arguments in method call");
              return FALSE;
            }
        }
      else if (strcmp (key, "Pattern") == 0)
        {
          g_free (pattern);
          pattern = g_variant_dup_string (v, NULL);
        }
      else if (strcmp (key, "RSSI") == 0)
        have_rssi = TRUE;
      else if (strcmp (key, "Pathloss") == 0)
        have_pathloss = TRUE;
    }
  if (have_rssi && have_pathloss)
    {
      set_bluez_gerror (error, BLUEZ_ERROR_INVALID_ARGUMENTS, "Invalid arguments in method call");
      return FALSE;
    }
  client_clear_filter (c);
  if (g_variant_n_children (filter) == 0)
    return TRUE; /* an empty filter removes the filter */
  c->has_filter = TRUE;
  c->filter_uuids = g_steal_pointer (&uuids);
  c->filter_transport = g_steal_pointer (&transport);
  c->filter_pattern = g_steal_pointer (&pattern);
  return TRUE;
}

static void
adapter_method_call (Emu *emu, const char *sender, const char *method, GVariant *params,
                     GDBusMethodInvocation *inv)
{
  if (strcmp (method, "GetDiscoveryFilters") == 0)
    {
      static const char *const filters[]
          = { "UUIDs",         "RSSI",         "Pathloss", "Transport",
              "DuplicateData", "Discoverable", "Pattern",  NULL };

      g_dbus_method_invocation_return_value (inv, g_variant_new ("(@as)", strv_variant (filters)));
      return;
    }
  if (strcmp (method, "RemoveDevice") == 0)
    {
      const char *path;
      Roller *r;

      g_variant_get (params, "(&o)", &path);
      r = adapter_find_device (emu, path);
      if (r == NULL)
        {
          /* What bluetoothd answers for a path it does not know. */
          reply_bluez_error (inv, "DoesNotExist", "Does Not Exist");
          return;
        }
      roller_link_down (r, "org.bluez.Reason.Local", "Device removed");
      r->paired = FALSE;
      r->trusted = FALSE;
      roller_device_remove (r);
      g_dbus_method_invocation_return_value (inv, NULL);
      /* Still advertising: a running discovery finds it again. */
      discovery_schedule (emu);
      return;
    }
  if (!emu->powered)
    {
      reply_bluez_error (inv, "NotReady", "Resource Not Ready");
      return;
    }
  if (strcmp (method, "StartDiscovery") == 0)
    {
      Client *c = client_get (emu, sender);

      if (c->discovering)
        {
          reply_bluez_error (inv, "InProgress", "Operation already in progress");
          return;
        }
      c->discovering = TRUE;
      if (emu->n_discovering++ == 0)
        iface_set (emu->adapter_iface, "Discovering", g_variant_new_boolean (TRUE));
      discovery_schedule (emu);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (strcmp (method, "StopDiscovery") == 0)
    {
      Client *c = g_hash_table_lookup (emu->clients, sender);

      if (c == NULL || !c->discovering)
        {
          reply_bluez_error (inv, "Failed", "No discovery started");
          return;
        }
      discovery_session_end (emu, c);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (strcmp (method, "SetDiscoveryFilter") == 0)
    {
      g_autoptr (GVariant) filter = g_variant_get_child_value (params, 0);
      g_autoptr (GError) error = NULL;
      Client *c = client_get (emu, sender);

      if (!parse_discovery_filter (c, filter, &error))
        {
          g_dbus_method_invocation_return_gerror (inv, error);
          return;
        }
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else
    g_assert_not_reached ();
}

static gboolean
adapter_set_property (Emu *emu, const char *prop, GVariant *value, GError **error)
{
  if (strcmp (prop, "Powered") == 0)
    adapter_set_powered (emu, g_variant_get_boolean (value));
  else if (strcmp (prop, "Alias") == 0)
    {
      const char *alias = g_variant_get_string (value, NULL);

      iface_set (emu->adapter_iface, "Alias",
                 g_variant_new_string (alias[0] != '\0' ? alias : "dermaroll-emulator"));
    }
  else if (strcmp (prop, "Discoverable") == 0 || strcmp (prop, "Pairable") == 0)
    {
      if (!emu->powered && strcmp (prop, "Discoverable") == 0)
        {
          set_bluez_gerror (error, BLUEZ_ERROR_NOT_READY, "Resource Not Ready");
          return FALSE;
        }
      iface_set (emu->adapter_iface, prop, g_variant_ref (value));
    }
  else
    iface_set (emu->adapter_iface, prop, g_variant_ref (value));
  return TRUE;
}

/* ---- AgentManager1 ----------------------------------------------------- */

static void
agent_manager_method_call (Emu *emu, const char *sender, const char *method, GVariant *params,
                           GDBusMethodInvocation *inv)
{
  static const char *const capabilities[]
      = { "",  "DisplayOnly", "DisplayYesNo", "KeyboardOnly", "NoInputNoOutput", "KeyboardDisplay",
          NULL };
  Client *c = g_hash_table_lookup (emu->clients, sender);
  const char *path;

  if (strcmp (method, "RegisterAgent") == 0)
    {
      const char *capability;

      g_variant_get (params, "(&o&s)", &path, &capability);
      if (!g_strv_contains (capabilities, capability))
        {
          reply_bluez_error (inv, "InvalidArguments", "Invalid arguments in method call");
          return;
        }
      c = client_get (emu, sender);
      if (c->agent_path != NULL)
        {
          reply_bluez_error (inv, "AlreadyExists", "Already Exists");
          return;
        }
      c->agent_path = g_strdup (path);
      c->agent_capability = g_strdup (capability);
      g_dbus_method_invocation_return_value (inv, NULL);
      return;
    }

  g_variant_get (params, "(&o)", &path);
  if (c == NULL || c->agent_path == NULL || strcmp (c->agent_path, path) != 0)
    {
      reply_bluez_error (inv, "DoesNotExist", "Does Not Exist");
      return;
    }
  if (strcmp (method, "UnregisterAgent") == 0)
    {
      g_clear_pointer (&c->agent_path, g_free);
      g_clear_pointer (&c->agent_capability, g_free);
      if (g_strcmp0 (emu->default_agent_sender, sender) == 0)
        g_clear_pointer (&emu->default_agent_sender, g_free);
    }
  else
    {
      g_free (emu->default_agent_sender);
      emu->default_agent_sender = g_strdup (sender);
    }
  g_dbus_method_invocation_return_value (inv, NULL);
}

/* ---- values the roller serves ------------------------------------------ */

static gboolean
roller_rolling (Roller *r)
{
  return r->streaming && !r->exhausted;
}

static void
roller_status_encode (Roller *r, guint8 buf[DR_STATUS_LEN])
{
  DrStatus st = {
    .version = DR_PROTOCOL_VERSION,
    .state = roller_rolling (r) ? DR_ROLLER_STATE_ROLLING : DR_ROLLER_STATE_IDLE,
    .history_frames_pending = (guint16) MIN (g_queue_get_length (&r->memory), G_MAXUINT16),
    .flags = 0,
  };
  size_t len;

  if (dr_status_encode (&st, buf, DR_STATUS_LEN, &len) != DR_CODEC_OK)
    g_error ("status does not encode");
}

static GBytes *
roller_char_value (Roller *r, int ch)
{
  guint8 buf[32];
  size_t len = 0;
  const char *text = NULL;
  g_autofree char *serial = NULL;

  switch (ch)
    {
      case CH_HEAD_INFO:
        if (dr_head_info_encode (&r->head, buf, sizeof buf, &len) != DR_CODEC_OK)
          g_error ("head info does not encode");
        break;
      case CH_STATUS:
        roller_status_encode (r, buf);
        len = DR_STATUS_LEN;
        break;
      case CH_BATTERY:
        buf[0] = r->battery;
        len = 1;
        break;
      case CH_MANUFACTURER:
        text = "Dermaroll Labs (emulated)";
        break;
      case CH_MODEL:
        text = "DR-1";
        break;
      case CH_SERIAL:
        serial = g_strdup_printf ("DR1-%c%c%c%c%c%c", r->address[9], r->address[10], r->address[12],
                                  r->address[13], r->address[15], r->address[16]);
        text = serial;
        break;
      case CH_FIRMWARE:
        text = "1.0.0-emulator";
        break;
      default:
        break;
    }
  if (text != NULL)
    return g_bytes_new (text, strlen (text));
  return g_bytes_new (buf, len);
}

/* ---- Device1 ----------------------------------------------------------- */

static GVariant *
roller_uuids_variant (Roller *r)
{
  static const char *const advertised[] = { DR_UUID_ROLLER_SERVICE, NULL };
  static const char *const resolved[] = { GAP_UUID,
                                          GATT_UUID,
                                          DR_UUID_DEVICE_INFO_SERVICE,
                                          DR_UUID_BATTERY_SERVICE,
                                          DR_UUID_ROLLER_SERVICE,
                                          NULL };

  return strv_variant (r->resolved ? resolved : advertised);
}

static void
roller_device_add (Roller *r)
{
  Emu *emu = r->emu;
  g_autofree char *path = g_strdup_printf ("%s/%s", emu->adapter_path, r->path_suffix);
  guint8 service_data[3] = { DR_PROTOCOL_VERSION, 0, 0 };
  guint8 mfr_data[4];
  GVariantBuilder sd, md;
  Obj *obj;
  Iface *d;

  g_assert (r->dev_obj == NULL);
  obj = obj_new (emu, OBJ_DEVICE, path, r, 0);
  d = obj_add_iface (obj, "org.bluez.Device1");
  r->dev_obj = obj;
  r->dev_iface = d;
  iface_set (d, "Address", g_variant_new_string (r->address));
  iface_set (d, "AddressType", g_variant_new_string ("random"));
  iface_set (d, "Name", g_variant_new_string (r->name));
  iface_set (d, "Alias", g_variant_new_string (r->alias != NULL ? r->alias : r->name));
  iface_set (d, "Appearance", g_variant_new_uint16 (0x0000));
  iface_set (d, "Paired", g_variant_new_boolean (r->paired));
  iface_set (d, "Bonded", g_variant_new_boolean (r->paired));
  iface_set (d, "Trusted", g_variant_new_boolean (r->trusted));
  iface_set (d, "Blocked", g_variant_new_boolean (r->blocked));
  iface_set (d, "LegacyPairing", g_variant_new_boolean (FALSE));
  iface_set (d, "Connected", g_variant_new_boolean (r->connected));
  iface_set (d, "ServicesResolved", g_variant_new_boolean (r->resolved));
  iface_set (d, "UUIDs", roller_uuids_variant (r));
  iface_set (d, "Adapter", g_variant_new_object_path (emu->adapter_path));
  iface_set (d, "TxPower", g_variant_new_int16 (0));
  if (emu->n_discovering > 0)
    iface_set (d, "RSSI", g_variant_new_int16 (roller_rssi (r)));

  service_data[1] = roller_rolling (r) ? DR_ROLLER_STATE_ROLLING : DR_ROLLER_STATE_IDLE;
  service_data[2] = r->battery;
  g_variant_builder_init (&sd, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&sd, "{sv}", DR_UUID_ROLLER_SERVICE,
                         bytes_variant (service_data, sizeof service_data));
  iface_set (d, "ServiceData", g_variant_builder_end (&sd));
  /* 0xFFFF is the company identifier reserved for tests; the payload is
   * the needle head serial. */
  mfr_data[0] = (guint8) r->head.head_id;
  mfr_data[1] = (guint8) (r->head.head_id >> 8);
  mfr_data[2] = (guint8) (r->head.head_id >> 16);
  mfr_data[3] = (guint8) (r->head.head_id >> 24);
  g_variant_builder_init (&md, G_VARIANT_TYPE ("a{qv}"));
  g_variant_builder_add (&md, "{qv}", (guint16) 0xFFFF, bytes_variant (mfr_data, sizeof mfr_data));
  iface_set (d, "ManufacturerData", g_variant_builder_end (&md));

  /* bluetoothd's battery plugin also publishes the level here. */
  r->battery1_iface = obj_add_iface (obj, "org.bluez.Battery1");
  iface_set (r->battery1_iface, "Percentage", g_variant_new_byte (r->battery));
  obj_export (obj);
}

static void
roller_device_remove (Roller *r)
{
  g_clear_handle_id (&r->temporary_timer, g_source_remove);
  if (r->dev_obj == NULL)
    return;
  obj_destroy (r->dev_obj);
  r->dev_obj = NULL;
  r->dev_iface = NULL;
  r->battery1_iface = NULL;
}

static void
roller_set_connected (Roller *r, gboolean connected)
{
  r->connected = connected;
  if (connected)
    {
      r->connects++;
      g_clear_handle_id (&r->temporary_timer, g_source_remove);
      /* PROTOCOL.md: a stream does not survive a link loss. A new link
       * starts idle, so nothing live can overtake the history replay the
       * central asks for before its START_STREAM. */
      if (r->streaming)
        {
          r->streaming = FALSE;
          roller_kick (r);
        }
    }
  if (r->dev_iface != NULL)
    iface_set (r->dev_iface, "Connected", g_variant_new_boolean (connected));
}

/* GATT objects ---------------------------------------------------------- */

static GVariant *
char_flags_variant (guint flags)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_STRING_ARRAY);
  if (flags & CF_READ)
    g_variant_builder_add (&b, "s", "read");
  if (flags & CF_WRITE)
    g_variant_builder_add (&b, "s", "write");
  if (flags & CF_NOTIFY)
    g_variant_builder_add (&b, "s", "notify");
  if (flags & CF_INDICATE)
    g_variant_builder_add (&b, "s", "indicate");
  return g_variant_builder_end (&b);
}

static gboolean
roller_acquire_supported (int ch)
{
  return ch == CH_MEASUREMENT && !opt.no_acquire_notify;
}

static void
roller_gatt_add (Roller *r)
{
  Emu *emu = r->emu;
  guint16 base = (guint16) (r->gatt_generation * GATT_GENERATION_STRIDE);

  for (int s = 0; s < N_SV; s++)
    {
      g_autofree char *path = g_strdup_printf ("%s/service%04x", r->dev_obj->path,
                                               (unsigned) (service_defs[s].handle + base));
      Obj *obj = obj_new (emu, OBJ_SERVICE, path, r, s);
      Iface *svc = obj_add_iface (obj, "org.bluez.GattService1");

      iface_set (svc, "UUID", g_variant_new_string (service_defs[s].uuid));
      iface_set (svc, "Primary", g_variant_new_boolean (TRUE));
      iface_set (svc, "Device", g_variant_new_object_path (r->dev_obj->path));
      iface_set (svc, "Includes", g_variant_new_objv (NULL, 0));
      iface_set (svc, "Handle", g_variant_new_uint16 ((guint16) (service_defs[s].handle + base)));
      r->services[s] = obj;
      obj_export (obj);
    }

  for (int ch = 0; ch < N_CH; ch++)
    {
      const CharDef *def = &char_defs[ch];
      CharState *c = &r->chars[ch];
      guint16 handle = (guint16) (def->handle + base);
      g_autofree char *path
          = g_strdup_printf ("%s/char%04x", r->services[def->service]->path, handle);
      Obj *obj = obj_new (emu, OBJ_CHAR, path, r, ch);
      Iface *ci = obj_add_iface (obj, "org.bluez.GattCharacteristic1");

      iface_set (ci, "UUID", g_variant_new_string (def->uuid));
      iface_set (ci, "Service", g_variant_new_object_path (r->services[def->service]->path));
      iface_set (ci, "Value", bytes_variant (NULL, 0));
      iface_set (ci, "Flags", char_flags_variant (def->flags));
      iface_set (ci, "Handle", g_variant_new_uint16 ((guint16) (handle + 1)));
      iface_set (ci, "MTU", g_variant_new_uint16 (NOTIFY_MTU));
      if (def->flags & (CF_NOTIFY | CF_INDICATE))
        iface_set (ci, "Notifying", g_variant_new_boolean (FALSE));
      if (roller_acquire_supported (ch))
        iface_set (ci, "NotifyAcquired", g_variant_new_boolean (FALSE));
      c->obj = obj;
      c->iface = ci;
      obj_export (obj);

      if (def->flags & (CF_NOTIFY | CF_INDICATE))
        {
          g_autofree char *dpath = g_strdup_printf ("%s/desc%04x", path, (unsigned) (handle + 2));
          static const char *const dflags[] = { "read", "write", NULL };
          Obj *dobj = obj_new (emu, OBJ_DESC, dpath, r, ch);
          Iface *di = obj_add_iface (dobj, "org.bluez.GattDescriptor1");

          iface_set (di, "UUID", g_variant_new_string (CCCD_UUID));
          iface_set (di, "Characteristic", g_variant_new_object_path (path));
          iface_set (di, "Value", bytes_variant (NULL, 0));
          iface_set (di, "Flags", strv_variant (dflags));
          iface_set (di, "Handle", g_variant_new_uint16 ((guint16) (handle + 2)));
          c->cccd = dobj;
          obj_export (dobj);
        }
    }
}

static void
gatt_op_free (GattOp *op)
{
  g_clear_object (&op->inv);
  g_clear_pointer (&op->value, g_bytes_unref);
  g_free (op->sender);
  g_free (op);
}

static void
roller_gatt_op_cancel (Roller *r)
{
  g_clear_handle_id (&r->gatt_timer, g_source_remove);
  if (r->gatt_op != NULL)
    {
      reply_bluez_error (g_steal_pointer (&r->gatt_op->inv), "Failed", "Not connected");
      g_clear_pointer (&r->gatt_op, gatt_op_free);
    }
}

static void
out_item_free (OutItem *item)
{
  g_clear_pointer (&item->bytes, g_bytes_unref);
  g_free (item);
}

static void
roller_out_clear (Roller *r)
{
  g_queue_clear_full (&r->out, (GDestroyNotify) out_item_free);
  r->replaying = FALSE;
}

static void
roller_release_notify_fd (Roller *r)
{
  if (r->fd < 0)
    return;
  g_clear_handle_id (&r->fd_watch, g_source_remove);
  g_clear_handle_id (&r->fd_out_watch, g_source_remove);
  close (r->fd);
  r->fd = -1;
  if (r->chars[CH_MEASUREMENT].iface != NULL)
    {
      iface_set (r->chars[CH_MEASUREMENT].iface, "NotifyAcquired", g_variant_new_boolean (FALSE));
      iface_set (r->chars[CH_MEASUREMENT].iface, "Notifying", g_variant_new_boolean (FALSE));
    }
  if (opt.verbose)
    g_message ("%s: notify fd released", r->address);
}

static gboolean
roller_notifying (Roller *r, int ch)
{
  return r->chars[ch].notify_senders->len > 0;
}

/* Removes the GATT objects, as on disconnection or a service change: every
 * notify session ends, the acquired fd is closed. */
static void
roller_gatt_remove (Roller *r)
{
  roller_gatt_op_cancel (r);
  roller_release_notify_fd (r);
  roller_out_clear (r);
  g_clear_handle_id (&r->status_timer, g_source_remove);
  for (int ch = N_CH - 1; ch >= 0; ch--)
    {
      CharState *c = &r->chars[ch];

      g_ptr_array_set_size (c->notify_senders, 0);
      if (c->cccd != NULL)
        obj_destroy (c->cccd);
      if (c->obj != NULL)
        obj_destroy (c->obj);
      c->cccd = NULL;
      c->obj = NULL;
      c->iface = NULL;
    }
  for (int s = N_SV - 1; s >= 0; s--)
    {
      if (r->services[s] != NULL)
        obj_destroy (r->services[s]);
      r->services[s] = NULL;
    }
}

static void
roller_set_resolved (Roller *r, gboolean resolved)
{
  r->resolved = resolved;
  if (r->dev_iface != NULL)
    {
      iface_set (r->dev_iface, "ServicesResolved", g_variant_new_boolean (resolved));
      iface_set (r->dev_iface, "UUIDs", roller_uuids_variant (r));
    }
}

static gboolean
resolve_done_cb (gpointer data)
{
  Roller *r = data;

  r->resolve_timer = 0;
  if (!r->connected || r->resolved || r->dev_obj == NULL)
    return G_SOURCE_REMOVE;
  roller_gatt_add (r);
  roller_set_resolved (r, TRUE);
  memset (r->status_notified, 0, sizeof r->status_notified);
  return G_SOURCE_REMOVE;
}

static void
roller_schedule_resolve (Roller *r)
{
  if (!r->resolved && r->resolve_timer == 0)
    r->resolve_timer = g_timeout_add (opt.resolve_delay_ms, resolve_done_cb, r);
}

/* The link is gone (disconnect, radio loss, adapter off, bluetoothd gone):
 * ServicesResolved false, GATT objects removed, Connected false. The roller
 * itself carries on: a streaming roller keeps filling its memory until the
 * next connection, which starts idle (roller_set_connected). */
static void
roller_link_down (Roller *r, const char *reason, const char *message)
{
  gboolean was_connected = r->connected;

  g_clear_handle_id (&r->connect_timer, g_source_remove);
  if (r->connect_inv != NULL)
    reply_bluez_error (g_steal_pointer (&r->connect_inv), "Failed", message);
  g_clear_handle_id (&r->pair_timer, g_source_remove);
  if (r->pair_inv != NULL)
    reply_bluez_error (g_steal_pointer (&r->pair_inv), "AuthenticationCanceled",
                       "Authentication Canceled");
  g_clear_handle_id (&r->resolve_timer, g_source_remove);

  /* The radio is gone first: the fd hangs up before D-Bus says anything. */
  roller_release_notify_fd (r);
  if (r->resolved)
    roller_set_resolved (r, FALSE);
  roller_gatt_remove (r);
  if (r->connected)
    roller_set_connected (r, FALSE);
  if (was_connected && r->dev_obj != NULL)
    emit_signal (r->emu, r->dev_obj->path, "org.bluez.Device1", "Disconnected",
                 g_variant_new ("(ss)", reason, message));
  if (was_connected && opt.verbose)
    g_message ("%s: link down (%s)", r->address, message);
  roller_kick (r);
}

static gboolean
connect_done_cb (gpointer data)
{
  Roller *r = data;
  g_autoptr (GDBusMethodInvocation) inv = g_steal_pointer (&r->connect_inv);

  r->connect_timer = 0;
  if (!r->in_range)
    {
      /* What an LE connection attempt to a silent peer ends with. */
      reply_bluez_error (g_steal_pointer (&inv), "Failed", "le-connection-abort-by-local");
      return G_SOURCE_REMOVE;
    }
  if (r->fail_connect_count > 0)
    {
      r->fail_connect_count--;
      g_dbus_method_invocation_return_dbus_error (g_steal_pointer (&inv), r->fail_connect_name,
                                                  r->fail_connect_message);
      return G_SOURCE_REMOVE;
    }
  roller_set_connected (r, TRUE);
  /* Connect returns before service discovery is done: clients must wait
   * for ServicesResolved, as with a real device seen for the first time. */
  g_dbus_method_invocation_return_value (g_steal_pointer (&inv), NULL);
  roller_schedule_resolve (r);
  return G_SOURCE_REMOVE;
}

static gboolean
pair_done_cb (gpointer data)
{
  Roller *r = data;
  g_autoptr (GDBusMethodInvocation) inv = g_steal_pointer (&r->pair_inv);

  r->pair_timer = 0;
  if (!r->in_range)
    {
      reply_bluez_error (g_steal_pointer (&inv), "ConnectionAttemptFailed", "Page Timeout");
      return G_SOURCE_REMOVE;
    }
  /* Pair connects, pairs (Just Works: no agent call) and resolves
   * services; the link stays up afterwards. */
  if (!r->connected)
    roller_set_connected (r, TRUE);
  r->paired = TRUE;
  iface_set (r->dev_iface, "Paired", g_variant_new_boolean (TRUE));
  iface_set (r->dev_iface, "Bonded", g_variant_new_boolean (TRUE));
  g_dbus_method_invocation_return_value (g_steal_pointer (&inv), NULL);
  roller_schedule_resolve (r);
  return G_SOURCE_REMOVE;
}

static void
device_method_call (Roller *r, const char *sender, const char *method, GDBusMethodInvocation *inv)
{
  Emu *emu = r->emu;

  if (strcmp (method, "Disconnect") == 0)
    {
      gboolean cancelled = r->connect_inv != NULL || r->pair_inv != NULL;

      if (!r->connected && !cancelled)
        {
          reply_bluez_error (inv, "NotConnected", "Not Connected");
          return;
        }
      roller_link_down (r, "org.bluez.Reason.Local", "Connection terminated by local host");
      g_dbus_method_invocation_return_value (inv, NULL);
      return;
    }
  if (strcmp (method, "CancelPairing") == 0)
    {
      if (r->pair_inv == NULL)
        {
          reply_bluez_error (inv, "DoesNotExist", "Does Not Exist");
          return;
        }
      g_clear_handle_id (&r->pair_timer, g_source_remove);
      reply_bluez_error (g_steal_pointer (&r->pair_inv), "AuthenticationCanceled",
                         "Authentication Canceled");
      g_dbus_method_invocation_return_value (inv, NULL);
      return;
    }
  if (!emu->powered)
    {
      reply_bluez_error (inv, "NotReady", "Resource Not Ready");
      return;
    }
  if (strcmp (method, "Connect") == 0)
    {
      if (r->connect_inv != NULL || r->pair_inv != NULL)
        {
          reply_bluez_error (inv, "InProgress", "In Progress");
          return;
        }
      if (r->connected)
        {
          /* bluetoothd answers success for an LE device already connected. */
          g_dbus_method_invocation_return_value (inv, NULL);
          roller_schedule_resolve (r);
          return;
        }
      r->connect_inv = inv;
      r->connect_timer = g_timeout_add (opt.connect_delay_ms, connect_done_cb, r);
    }
  else if (strcmp (method, "Pair") == 0)
    {
      if (r->paired)
        {
          reply_bluez_error (inv, "AlreadyExists", "Already Exists");
          return;
        }
      if (r->pair_inv != NULL || r->connect_inv != NULL)
        {
          reply_bluez_error (inv, "InProgress", "In Progress");
          return;
        }
      r->pair_inv = inv;
      r->pair_timer = g_timeout_add (opt.connect_delay_ms + opt.pair_delay_ms, pair_done_cb, r);
    }
  else
    g_assert_not_reached ();
}

static gboolean
device_set_property (Roller *r, const char *prop, GVariant *value, GError **error)
{
  if (strcmp (prop, "Trusted") == 0)
    {
      r->trusted = g_variant_get_boolean (value);
      if (r->trusted)
        g_clear_handle_id (&r->temporary_timer, g_source_remove);
      iface_set (r->dev_iface, "Trusted", g_variant_new_boolean (r->trusted));
    }
  else if (strcmp (prop, "Blocked") == 0)
    {
      r->blocked = g_variant_get_boolean (value);
      if (r->blocked)
        roller_link_down (r, "org.bluez.Reason.Local", "Device blocked");
      iface_set (r->dev_iface, "Blocked", g_variant_new_boolean (r->blocked));
    }
  else if (strcmp (prop, "Alias") == 0)
    {
      const char *alias = g_variant_get_string (value, NULL);

      g_free (r->alias);
      r->alias = alias[0] != '\0' ? g_strdup (alias) : NULL;
      iface_set (r->dev_iface, "Alias",
                 g_variant_new_string (r->alias != NULL ? r->alias : r->name));
    }
  else
    {
      set_bluez_gerror (error, BLUEZ_ERROR_NOT_SUPPORTED, "Operation is not supported");
      return FALSE;
    }
  return TRUE;
}

/* ---- Roll Measurement transport ---------------------------------------- */

static gboolean
roller_subscribed (Roller *r)
{
  return r->fd >= 0 || roller_notifying (r, CH_MEASUREMENT);
}

static void
roller_out_push (Roller *r, OutKind kind, GBytes *bytes)
{
  OutItem *item = g_new0 (OutItem, 1);

  item->kind = kind;
  item->bytes = bytes;
  g_queue_push_tail (&r->out, item);
}

static void
roller_indicate (Roller *r, guint8 opcode, guint8 result)
{
  DrControlResponse resp = { .request_opcode = opcode, .result = result };
  guint8 buf[DR_CONTROL_RESPONSE_LEN];
  size_t len;

  if (dr_control_response_encode (&resp, buf, sizeof buf, &len) != DR_CODEC_OK)
    g_error ("control response does not encode");
  /* Indications need the CCC enabled, that is a StartNotify session. */
  if (r->chars[CH_CONTROL].iface == NULL || !roller_notifying (r, CH_CONTROL))
    return;
  r->indications++;
  iface_notify (r->chars[CH_CONTROL].iface, "Value", bytes_variant (buf, len));
}

static gboolean fd_writable_cb (gint fd, GIOCondition cond, gpointer data);

static void
roller_ensure_out_watch (Roller *r)
{
  if (r->fd >= 0 && r->fd_out_watch == 0)
    r->fd_out_watch = g_unix_fd_add (r->fd, G_IO_OUT, fd_writable_cb, r);
}

static void
roller_count_sent (Roller *r, OutKind kind)
{
  if (kind == OUT_FRAME)
    r->frames_sent++;
  else if (kind == OUT_HISTORY_FRAME)
    r->history_sent++;
  else
    r->raw_sent++;
}

/* Sends what is queued, in order, until the socket is full. */
static void
roller_pump (Roller *r)
{
  while (!g_queue_is_empty (&r->out))
    {
      OutItem *item = g_queue_peek_head (&r->out);

      if (item->kind == OUT_HISTORY_END)
        {
          out_item_free (g_queue_pop_head (&r->out));
          r->replaying = FALSE;
          roller_indicate (r, DR_OP_REQUEST_HISTORY, DR_RESULT_OK);
          continue;
        }
      if (r->fd >= 0)
        {
          gsize len;
          const guint8 *data = g_bytes_get_data (item->bytes, &len);
          ssize_t n = send (r->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

          if (n < 0)
            {
              if (errno == EINTR)
                continue;
              if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
                {
                  roller_ensure_out_watch (r);
                  return;
                }
              /* The reader closed its end: the subscription is over. */
              roller_release_notify_fd (r);
              continue;
            }
          roller_count_sent (r, item->kind);
        }
      else if (roller_notifying (r, CH_MEASUREMENT))
        {
          iface_notify (r->chars[CH_MEASUREMENT].iface, "Value", gbytes_variant (item->bytes));
          roller_count_sent (r, item->kind);
        }
      /* else nobody listens: a live frame stays only in memory. */
      out_item_free (g_queue_pop_head (&r->out));
    }
}

static void
roller_store_and_send (Roller *r, GBytes *frame)
{
  g_queue_push_tail (&r->memory, frame);
  r->frames_produced++;
  if (roller_subscribed (r))
    roller_out_push (r, OUT_FRAME, g_bytes_ref (frame));
}

/* ---- sample generation ------------------------------------------------- */

static void
pattern_build (void)
{
  double limit = force_limit_n ();
  double circumference_cm = G_PI * opt.drum_diameter_10um / 1000.0;
  double area_per_rev_cm2 = circumference_cm * opt.drum_width_10um / 1000.0;
  const double stroke_s = 1.2, lift_s = 0.3, rev_per_s = 1.0;
  double area_per_stroke = area_per_rev_cm2 * rev_per_s * stroke_s;
  Segment base = { .spike_at_s = -1, .fault_at_s = -1 };
  Segment seg;
  int last_zone;

  pattern_segments = g_array_new (FALSE, TRUE, sizeof (Segment));
  switch (pattern_kind)
    {
      case PATTERN_STEADY:
        seg = base;
        seg.duration_s = 1.0;
        seg.zone = 0;
        seg.contact = TRUE;
        seg.force_n = 0.5 * limit;
        g_array_append_val (pattern_segments, seg);
        return;
      case PATTERN_PRESSURE:
        /* Over-pressure episodes well past the 150 ms start threshold. */
        seg = base;
        seg.duration_s = 1.0;
        seg.zone = 1;
        seg.contact = TRUE;
        seg.force_n = 0.6 * limit;
        seg.spike_at_s = 0.4;
        seg.spike_len_s = 0.6;
        seg.spike_force_n = 1.2 * limit;
        g_array_append_val (pattern_segments, seg);
        seg.spike_at_s = -1;
        seg.duration_s = 1.0;
        g_array_append_val (pattern_segments, seg);
        seg = base;
        seg.duration_s = 0.4;
        seg.zone = 1;
        g_array_append_val (pattern_segments, seg);
        return;
      case PATTERN_IDLE:
        seg = base;
        seg.duration_s = 1.0;
        seg.zone = DR_ZONE_UNKNOWN;
        g_array_append_val (pattern_segments, seg);
        return;
      case PATTERN_FACE:
      case PATTERN_UNZONED:
      case PATTERN_FULL:
        break;
    }

  /* Zone by zone, strokes of 1.2 s at one revolution per second with the
   * roller lifted 0.3 s between strokes, until each zone has about 6.3
   * passes; 2 s to move to the next zone. Pressure: one stroke on the left
   * cheek pressed at 1.15× the limit (a warning), a 100 ms spike on the chin
   * (too short for one), and one force-sensor fault per zone. */
  last_zone = pattern_kind == PATTERN_FULL ? 6 : 5;
  for (int z = 0; z <= last_zone; z++)
    {
      int strokes = (int) ceil (6.3 * zone_area_cm2[z] / area_per_stroke);

      for (int s = 0; s < strokes; s++)
        {
          seg = base;
          seg.duration_s = stroke_s;
          seg.zone = (guint8) z;
          seg.contact = TRUE;
          seg.force_n = 0.55 * limit;
          if (z == 1 && s == 2)
            seg.force_n = 1.15 * limit;
          if (z == 5 && s == 1)
            {
              seg.spike_at_s = 0.5;
              seg.spike_len_s = 0.1;
              seg.spike_force_n = 1.2 * limit;
            }
          if (s == 4)
            seg.fault_at_s = 0.6;
          g_array_append_val (pattern_segments, seg);

          seg = base;
          seg.duration_s = s + 1 < strokes ? lift_s : 2.0;
          seg.zone = (guint8) z;
          g_array_append_val (pattern_segments, seg);
        }
    }
}

static void
pattern_sample (Roller *r, double period_s, DrSample *out)
{
  Gen *g = &r->gen;
  const Segment *seg = &g_array_index (pattern_segments, Segment, g->seg);
  double in = g->t_cycle_s - g->seg_start_s;
  double force = 0;
  gboolean fault = FALSE;

  if (seg->contact)
    {
      /* 80 ms ramps in and out, a slow wobble of the hand, sensor noise. */
      double ramp = MIN (1.0, MIN (in, seg->duration_s - in) / 0.08);

      force = seg->force_n + 0.2 * sin (2 * G_PI * g->t_total_s / 0.45);
      if (seg->spike_at_s >= 0 && in >= seg->spike_at_s && in < seg->spike_at_s + seg->spike_len_s)
        force = seg->spike_force_n;
      force = force * MAX (ramp, 0.0) + 0.05 * rng_noise (&g->rng);
      g->ticks_acc += opt.ticks_per_rev * period_s;
    }
  else
    force = 0.05 + 0.05 * rng_noise (&g->rng);
  if (seg->fault_at_s >= 0 && in >= seg->fault_at_s && in < seg->fault_at_s + period_s)
    fault = TRUE;

  out->dt_ms = 0;
  out->ticks = (guint32) ((guint64) opt.ticks_start + (guint64) g->ticks_acc);
  out->force_mn
      = fault ? DR_FORCE_SENSOR_FAULT : (guint16) CLAMP (lround (force * 1000.0), 0, 65534);
  out->zone = pattern_kind == PATTERN_UNZONED ? DR_ZONE_UNKNOWN : seg->zone;

  g->t_cycle_s += period_s;
  g->t_total_s += period_s;
  while (g->t_cycle_s >= g->seg_start_s + seg->duration_s)
    {
      g->seg_start_s += seg->duration_s;
      if (++g->seg >= pattern_segments->len)
        {
          g->t_cycle_s -= g->seg_start_s;
          g->seg = 0;
          g->seg_start_s = 0;
        }
      seg = &g_array_index (pattern_segments, Segment, g->seg);
    }
}

/* Virtual time of the next sample, relative to the generator's start. */
static gint64
gen_peek_offset (Roller *r)
{
  Gen *g = &r->gen;

  if (trace_samples == NULL)
    return g->offset_us;
  if (g->trace_pos < trace_samples->len)
    return g->trace_base_us + g_array_index (trace_samples, TraceSample, g->trace_pos).offset_us;
  return g->offset_us;
}

static gboolean
gen_next (Roller *r, guint timeline_hz, gboolean live, DrSample *out, gint64 *offset_us)
{
  Gen *g = &r->gen;

  if (live && g->remaining == 0)
    return FALSE;
  if (trace_samples != NULL)
    {
      const TraceSample *ts;

      if (g->trace_pos >= trace_samples->len)
        {
          const TraceSample *first = &g_array_index (trace_samples, TraceSample, 0);
          const TraceSample *last
              = &g_array_index (trace_samples, TraceSample, trace_samples->len - 1);

          if (!opt.loop)
            return FALSE;
          /* Again from the top, 10 ms after the last sample, with the
           * counter carrying on instead of jumping back (a reset). */
          g->trace_base_us += last->offset_us + 10 * G_TIME_SPAN_MILLISECOND;
          g->trace_tick_offset += last->ticks - first->ticks;
          g->trace_pos = 0;
        }
      ts = &g_array_index (trace_samples, TraceSample, g->trace_pos++);
      out->dt_ms = 0;
      out->ticks = ts->ticks + g->trace_tick_offset;
      out->force_mn = ts->force_mn;
      out->zone = ts->zone;
      *offset_us = g->trace_base_us + ts->offset_us;
      g->offset_us = *offset_us + 10 * G_TIME_SPAN_MILLISECOND;
    }
  else
    {
      double period_s = 1.0 / timeline_hz;

      *offset_us = g->offset_us;
      pattern_sample (r, period_s, out);
      g->offset_us += (gint64) llround (period_s * G_USEC_PER_SEC);
    }
  if (live && g->remaining != G_MAXUINT64)
    g->remaining--;
  return TRUE;
}

/* The roller's clock: Unix ms once SET_TIME set it, else ms since boot. */
static gint64
roller_clock_ms (Roller *r, gint64 mono_us)
{
  if (r->clock_synced)
    return r->clock_set_unix_ms + (mono_us - r->clock_set_mono_us) / 1000;
  return MAX (mono_us - r->boot_mono_us, 0) / 1000;
}

/* Builds, numbers, stores and queues one frame of up to @max_n samples.
 * Returns the number of samples, 0 when the source is exhausted. */
static guint
roller_produce_frame (Roller *r, guint max_n, gboolean live)
{
  DrFrame f = { .version = DR_PROTOCOL_VERSION };
  guint8 buf[DR_FRAME_MAX_LEN];
  gint64 prev_ms = 0;
  guint timeline_hz = r->stream_rate > 0 ? r->stream_rate : DEFAULT_TIMELINE_HZ;
  size_t len;
  guint n;

  for (n = 0; n < max_n; n++)
    {
      DrSample *s = &f.samples[n];
      gint64 offset_us, t_ms;

      if (!gen_next (r, timeline_hz, live, s, &offset_us))
        break;
      t_ms = roller_clock_ms (r, r->origin_mono_us + (offset_us - r->origin_offset_us));
      if (n == 0)
        f.t0_ms = (guint64) t_ms;
      else
        s->dt_ms = (guint16) CLAMP (t_ms - prev_ms, 0, G_MAXUINT16);
      prev_ms = t_ms;
    }
  if (n == 0)
    return 0;
  f.n_samples = (guint8) n;
  f.flags = r->clock_synced ? 0 : DR_FRAME_FLAG_CLOCK_UNSYNCED;
  f.seq = r->next_seq++;
  r->samples_produced += n;
  if (r->lose_count > 0)
    {
      /* Lost in the roller: numbered, never stored, never sent. */
      r->lose_count--;
      r->frames_lost++;
      return n;
    }
  if (dr_frame_encode (&f, buf, sizeof buf, &len) != DR_CODEC_OK)
    g_error ("frame does not encode");
  roller_store_and_send (r, g_bytes_new (buf, len));
  return n;
}

static guint
samples_per_frame (guint wall_rate)
{
  /* About 20 notifications a second at most (50 ms of latency), full
   * frames above 500 Hz; as full as possible when going flat out. */
  if (wall_rate == 0)
    return DR_FRAME_MAX_SAMPLES;
  return CLAMP (wall_rate / 20, 1, DR_FRAME_MAX_SAMPLES);
}

static void
roller_set_exhausted (Roller *r)
{
  if (r->exhausted)
    return;
  r->exhausted = TRUE;
  if (opt.verbose)
    g_message ("%s: no more samples, idle", r->address);
}

static gboolean
stream_tick_cb (gpointer data)
{
  Roller *r = data;
  gint64 now = g_get_monotonic_time ();
  guint spf = samples_per_frame (r->wall_rate);
  guint64 due = (guint64) ((double) (now - r->wall_origin_us) * r->wall_rate / G_USEC_PER_SEC);

  for (guint frames = 0; due >= r->wall_emitted + spf && frames < TICK_MAX_FRAMES; frames++)
    {
      guint n = roller_produce_frame (r, spf, TRUE);

      r->wall_emitted += n;
      if (n < spf)
        {
          roller_set_exhausted (r);
          break;
        }
    }
  roller_pump (r);
  roller_status_changed (r);
  if (!roller_rolling (r))
    {
      r->stream_timer = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
rate0_fd_active (Roller *r)
{
  return roller_rolling (r) && r->wall_rate == 0 && r->fd >= 0;
}

static gboolean
fd_writable_cb (gint fd, GIOCondition cond, gpointer data)
{
  Roller *r = data;

  if (r->fd != fd)
    {
      r->fd_out_watch = 0;
      return G_SOURCE_REMOVE;
    }
  roller_pump (r);
  if (!g_queue_is_empty (&r->out))
    return G_SOURCE_CONTINUE; /* still full: wait for POLLOUT again */
  if (rate0_fd_active (r))
    {
      for (guint i = 0; i < RATE0_FD_BATCH && r->fd >= 0; i++)
        {
          if (roller_produce_frame (r, DR_FRAME_MAX_SAMPLES, TRUE) < DR_FRAME_MAX_SAMPLES)
            roller_set_exhausted (r);
          roller_pump (r);
          if (!g_queue_is_empty (&r->out) || r->exhausted)
            break;
        }
      roller_status_changed (r);
      if (r->fd == fd && (rate0_fd_active (r) || !g_queue_is_empty (&r->out)))
        return G_SOURCE_CONTINUE; /* back to the main loop, then more */
    }
  if (r->fd == fd)
    r->fd_out_watch = 0;
  return G_SOURCE_REMOVE;
}

static void rate0_signal_step (Roller *r);

static void
rate0_ping_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Roller *r = data;
  g_autoptr (GVariant) reply
      = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);

  r->rate0_waiting = FALSE;
  roller_kick (r);
}

/* --rate 0 without an fd: PropertiesChanged signals go through the bus,
 * which would queue without bound for a slow reader. A Ping to the reader
 * after each batch is answered only once the batch has reached it. */
static void
rate0_signal_step (Roller *r)
{
  const char *reader;

  if (r->rate0_waiting)
    return;
  for (guint i = 0; i < RATE0_SIGNAL_BATCH; i++)
    if (roller_produce_frame (r, DR_FRAME_MAX_SAMPLES, TRUE) < DR_FRAME_MAX_SAMPLES)
      {
        roller_set_exhausted (r);
        break;
      }
  roller_pump (r);
  roller_status_changed (r);
  if (r->emu->bus == NULL || !roller_notifying (r, CH_MEASUREMENT))
    return;
  reader = g_ptr_array_index (r->chars[CH_MEASUREMENT].notify_senders, 0);
  r->rate0_waiting = TRUE;
  g_dbus_connection_call (r->emu->bus, reader, "/", "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NONE, 10000, NULL, rate0_ping_done_cb, r);
}

/* Starts or stops the producer and the writer to match the roller's state. */
static void
roller_kick (Roller *r)
{
  gboolean rolling = roller_rolling (r);

  if (rolling && r->wall_rate > 0)
    {
      if (r->stream_timer == 0)
        {
          guint spf = samples_per_frame (r->wall_rate);
          guint interval_ms = MAX (1u, (guint) (1000ull * spf / r->wall_rate));

          r->stream_timer = g_timeout_add (interval_ms, stream_tick_cb, r);
        }
    }
  else
    g_clear_handle_id (&r->stream_timer, g_source_remove);

  if (r->fd >= 0 && (!g_queue_is_empty (&r->out) || rate0_fd_active (r)))
    roller_ensure_out_watch (r);
  else if (r->fd < 0 && !g_queue_is_empty (&r->out))
    roller_pump (r);

  /* Without a reader --rate 0 pauses: flat out into memory alone would only
   * fill it. */
  if (rolling && r->wall_rate == 0 && r->fd < 0 && roller_notifying (r, CH_MEASUREMENT))
    rate0_signal_step (r);
}

static void
roller_start_stream (Roller *r, guint rate_hz)
{
  gint64 now = g_get_monotonic_time ();

  r->streaming = TRUE;
  r->stream_rate = rate_hz;
  r->wall_rate = opt.rate >= 0 ? (guint) opt.rate : rate_hz;
  r->origin_mono_us = now;
  r->origin_offset_us = gen_peek_offset (r);
  r->wall_origin_us = now;
  r->wall_emitted = 0;
  g_clear_handle_id (&r->stream_timer, g_source_remove);
  if (opt.verbose)
    g_message ("%s: streaming at %u Hz (produced at %u/s)", r->address, rate_hz, r->wall_rate);
  roller_kick (r);
}

static void
roller_stop_stream (Roller *r)
{
  r->streaming = FALSE;
  roller_kick (r);
}

/* Frames already in the roller's memory at start, as after a session
 * without the computer: their clock was set then, an hour ago. */
static void
roller_fill_history (Roller *r, guint frames)
{
  gint64 now = g_get_monotonic_time ();
  gint64 span_ms = (gint64) frames * DR_FRAME_MAX_SAMPLES * 1000 / DEFAULT_TIMELINE_HZ;

  r->clock_synced = TRUE;
  r->clock_set_unix_ms = g_get_real_time () / 1000 - span_ms - 3600 * 1000;
  r->clock_set_mono_us = now;
  r->origin_mono_us = now;
  r->origin_offset_us = gen_peek_offset (r);
  for (guint i = 0; i < frames; i++)
    if (roller_produce_frame (r, DR_FRAME_MAX_SAMPLES, FALSE) == 0)
      break;
  r->clock_synced = FALSE;
}

/* ---- Status and control point ------------------------------------------ */

static void
roller_status_send (Roller *r)
{
  guint8 buf[DR_STATUS_LEN];

  roller_status_encode (r, buf);
  memcpy (r->status_notified, buf, sizeof buf);
  r->status_last_us = g_get_monotonic_time ();
  iface_notify (r->chars[CH_STATUS].iface, "Value", bytes_variant (buf, sizeof buf));
}

static gboolean
status_timer_cb (gpointer data)
{
  Roller *r = data;
  guint8 buf[DR_STATUS_LEN];

  r->status_timer = 0;
  roller_status_encode (r, buf);
  if (r->chars[CH_STATUS].iface != NULL && roller_notifying (r, CH_STATUS)
      && memcmp (buf, r->status_notified, sizeof buf) != 0)
    roller_status_send (r);
  return G_SOURCE_REMOVE;
}

/* Notifies Status on change, at most every 250 ms (the last change always
 * goes out), and costs nothing while nobody listens. */
static void
roller_status_changed (Roller *r)
{
  guint8 buf[DR_STATUS_LEN];
  gint64 elapsed;

  if (r->chars[CH_STATUS].iface == NULL || !roller_notifying (r, CH_STATUS) || r->status_timer != 0)
    return;
  roller_status_encode (r, buf);
  if (memcmp (buf, r->status_notified, sizeof buf) == 0)
    return;
  elapsed = g_get_monotonic_time () - r->status_last_us;
  if (elapsed >= STATUS_MIN_INTERVAL_US)
    roller_status_send (r);
  else
    r->status_timer = g_timeout_add ((guint) ((STATUS_MIN_INTERVAL_US - elapsed) / 1000) + 1,
                                     status_timer_cb, r);
}

static void
roller_ack (Roller *r, guint16 last_seq)
{
  guint idx = 0;
  gboolean found = FALSE;

  /* Oldest first, up to and including the first frame with that seq:
   * counting in production order makes the 65535 → 0 wrap a non-issue. */
  for (GList *l = r->memory.head; l != NULL; l = l->next, idx++)
    {
      const guint8 *d = g_bytes_get_data (l->data, NULL);

      if ((guint16) (d[2] | d[3] << 8) == last_seq)
        {
          found = TRUE;
          break;
        }
    }
  if (found)
    for (guint i = 0; i <= idx; i++)
      g_bytes_unref (g_queue_pop_head (&r->memory));
  r->acks++;
  r->acked_seq = last_seq;
}

static void
roller_request_history (Roller *r)
{
  for (GList *l = r->memory.head; l != NULL; l = l->next)
    {
      gsize len;
      guint8 *copy = g_bytes_unref_to_data (g_bytes_ref (l->data), &len);

      copy[1] |= DR_FRAME_FLAG_HISTORY;
      roller_out_push (r, OUT_HISTORY_FRAME, g_bytes_new_take (copy, len));
    }
  roller_out_push (r, OUT_HISTORY_END, NULL);
  r->replaying = TRUE;
  roller_pump (r);
  roller_kick (r);
}

static void
roller_control_write (Roller *r, GBytes *value)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (value, &len);
  DrControlRequest req;
  DrCodecStatus st = dr_control_request_decode (data, len, &req);
  guint8 result = DR_RESULT_OK;

  if (st == DR_CODEC_ERR_BAD_OPCODE)
    result = DR_RESULT_UNSUPPORTED;
  else if (st != DR_CODEC_OK)
    result = DR_RESULT_INVALID_PARAMETER;
  else if (r->replaying)
    result = DR_RESULT_BUSY; /* one request at a time: history is still going */
  else
    switch (req.opcode)
      {
        case DR_OP_SET_TIME:
          r->clock_synced = TRUE;
          r->clock_set_unix_ms = (gint64) req.arg.unix_ms;
          r->clock_set_mono_us = g_get_monotonic_time ();
          break;
        case DR_OP_START_STREAM:
          if (req.arg.rate_hz == 0)
            result = DR_RESULT_INVALID_PARAMETER;
          else
            roller_start_stream (r, req.arg.rate_hz);
          break;
        case DR_OP_STOP_STREAM:
          roller_stop_stream (r);
          break;
        case DR_OP_REQUEST_HISTORY:
          if (opt.verbose)
            g_message ("%s: replaying %u frames", r->address, g_queue_get_length (&r->memory));
          /* The result goes out after the last frame. */
          roller_request_history (r);
          roller_status_changed (r);
          return;
        case DR_OP_ACK:
          roller_ack (r, req.arg.last_seq);
          break;
        default:
          result = DR_RESULT_UNSUPPORTED;
          break;
      }
  if (opt.verbose)
    g_message ("%s: control 0x%02x → %u", r->address, len > 0 ? data[0] : 0, result);
  roller_indicate (r, len > 0 ? data[0] : 0, result);
  roller_status_changed (r);
}

/* ---- GattCharacteristic1 / GattDescriptor1 ----------------------------- */

static void client_get_for_notify (Roller *r, const char *sender);

/* The reader closed its end (or died): the acquisition is over. It never
 * writes, so anything readable is drained and dropped. */
static gboolean
fd_event_cb (gint fd, GIOCondition cond, gpointer data)
{
  Roller *r = data;
  guint8 sink[512];

  if (!(cond & (G_IO_HUP | G_IO_ERR)))
    {
      ssize_t n;

      while ((n = recv (fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
        ;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return G_SOURCE_CONTINUE;
    }
  r->fd_watch = 0;
  roller_release_notify_fd (r);
  roller_kick (r);
  return G_SOURCE_REMOVE;
}

static void
gatt_op_run (Roller *r, GattOp *op)
{
  CharState *c = &r->chars[op->ch];
  GDBusMethodInvocation *inv = g_steal_pointer (&op->inv);

  switch (op->kind)
    {
      case GATT_READ:
        {
          g_autoptr (GBytes) value = roller_char_value (r, op->ch);
          gsize len;
          const guint8 *data = g_bytes_get_data (value, &len);

          if (op->offset > len)
            {
              reply_bluez_error (inv, "InvalidOffset", "Invalid offset");
              break;
            }
          iface_set (c->iface, "Value", gbytes_variant (value));
          g_dbus_method_invocation_return_value (
              inv, g_variant_new ("(@ay)", bytes_variant (data + op->offset, len - op->offset)));
          break;
        }
      case GATT_WRITE:
        g_dbus_method_invocation_return_value (inv, NULL);
        /* The write response comes first, the indication after it. */
        roller_control_write (r, op->value);
        break;
      case GATT_START_NOTIFY:
        client_get_for_notify (r, op->sender);
        g_ptr_array_add (c->notify_senders, g_strdup (op->sender));
        iface_set (c->iface, "Notifying", g_variant_new_boolean (TRUE));
        g_dbus_method_invocation_return_value (inv, NULL);
        if (op->ch == CH_MEASUREMENT)
          roller_kick (r);
        break;
      case GATT_ACQUIRE_NOTIFY:
        {
          g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
          g_autoptr (GError) error = NULL;
          int sv[2];
          int sndbuf = 1 << 20;

          if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
            {
              reply_bluez_error (inv, "Failed", g_strerror (errno));
              break;
            }
          /* A deeper buffer means fewer wake-ups at high rates; the kernel
           * caps it at net.core.wmem_max. */
          (void) setsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
          if (g_unix_fd_list_append (fds, sv[1], &error) < 0)
            {
              close (sv[0]);
              close (sv[1]);
              reply_bluez_error (inv, "Failed", error->message);
              break;
            }
          close (sv[1]);
          r->fd = sv[0];
          r->fd_watch = g_unix_fd_add (r->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, fd_event_cb, r);
          iface_set (c->iface, "NotifyAcquired", g_variant_new_boolean (TRUE));
          iface_set (c->iface, "Notifying", g_variant_new_boolean (TRUE));
          g_dbus_method_invocation_return_value_with_unix_fd_list (
              inv, g_variant_new ("(hq)", 0, (guint16) NOTIFY_MTU), fds);
          break;
        }
    }
  gatt_op_free (op);
}

static gboolean
gatt_op_timer_cb (gpointer data)
{
  Roller *r = data;

  r->gatt_timer = 0;
  gatt_op_run (r, g_steal_pointer (&r->gatt_op));
  return G_SOURCE_REMOVE;
}

/* One ATT operation at a time per device, each taking --gatt-latency-ms; a
 * second one meanwhile answers InProgress, the classic trap for clients
 * that fire several reads at once. */
static void
gatt_op_begin (Roller *r, GattOpKind kind, int ch, const char *sender, GDBusMethodInvocation *inv,
               guint16 offset, GBytes *value)
{
  GattOp *op;

  if (r->gatt_op != NULL)
    {
      reply_bluez_error (inv, "InProgress", "In Progress");
      g_clear_pointer (&value, g_bytes_unref);
      return;
    }
  op = g_new0 (GattOp, 1);
  op->kind = kind;
  op->ch = ch;
  op->inv = inv;
  op->offset = offset;
  op->value = value;
  op->sender = g_strdup (sender);
  if (opt.gatt_latency_ms <= 0)
    {
      gatt_op_run (r, op);
      return;
    }
  r->gatt_op = op;
  r->gatt_timer = g_timeout_add (opt.gatt_latency_ms, gatt_op_timer_cb, r);
}

static gboolean
options_get_u16 (GVariant *options, const char *key, guint16 *out)
{
  g_autoptr (GVariant) v = g_variant_lookup_value (options, key, NULL);

  if (v == NULL)
    return TRUE;
  if (!g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    return FALSE;
  *out = g_variant_get_uint16 (v);
  return TRUE;
}

static gboolean
sender_in (GPtrArray *senders, const char *sender, guint *index)
{
  for (guint i = 0; i < senders->len; i++)
    if (strcmp (g_ptr_array_index (senders, i), sender) == 0)
      {
        if (index != NULL)
          *index = i;
        return TRUE;
      }
  return FALSE;
}

static void
roller_notify_session_end (Roller *r, int ch, guint index)
{
  CharState *c = &r->chars[ch];

  g_ptr_array_remove_index (c->notify_senders, index);
  if (c->notify_senders->len == 0 && !(ch == CH_MEASUREMENT && r->fd >= 0))
    iface_set (c->iface, "Notifying", g_variant_new_boolean (FALSE));
}

static void
char_method_call (Roller *r, int ch, const char *sender, const char *method, GVariant *params,
                  GDBusMethodInvocation *inv)
{
  const CharDef *def = &char_defs[ch];
  CharState *c = &r->chars[ch];

  if (strcmp (method, "ReadValue") == 0)
    {
      g_autoptr (GVariant) options = g_variant_get_child_value (params, 0);
      guint16 offset = 0;

      if (!(def->flags & CF_READ))
        reply_bluez_error (inv, "NotPermitted", "Read not permitted");
      else if (!options_get_u16 (options, "offset", &offset))
        reply_bluez_error (inv, "InvalidArguments", "Invalid arguments in method call");
      else
        gatt_op_begin (r, GATT_READ, ch, sender, inv, offset, NULL);
    }
  else if (strcmp (method, "WriteValue") == 0)
    {
      g_autoptr (GVariant) value = g_variant_get_child_value (params, 0);
      g_autoptr (GVariant) options = g_variant_get_child_value (params, 1);
      const char *type = NULL;
      guint16 offset = 0;
      gsize len;
      const guint8 *data = g_variant_get_fixed_array (value, &len, 1);

      g_variant_lookup (options, "type", "&s", &type);
      if (!(def->flags & CF_WRITE))
        reply_bluez_error (inv, "NotPermitted", "Write not permitted");
      else if (!options_get_u16 (options, "offset", &offset))
        reply_bluez_error (inv, "InvalidArguments", "Invalid arguments in method call");
      else if (type != NULL && strcmp (type, "request") != 0)
        /* No write-without-response, no reliable write on this one. */
        reply_bluez_error (inv, "NotSupported", "Operation is not supported");
      else if (offset != 0)
        reply_bluez_error (inv, "InvalidOffset", "Invalid offset");
      else if (len == 0 || len > NOTIFY_MTU - 3)
        reply_bluez_error (inv, "InvalidValueLength", "Invalid value length");
      else
        gatt_op_begin (r, GATT_WRITE, ch, sender, inv, 0, g_bytes_new (data, len));
    }
  else if (strcmp (method, "StartNotify") == 0)
    {
      if (!(def->flags & (CF_NOTIFY | CF_INDICATE)))
        reply_bluez_error (inv, "NotSupported", "Operation is not supported");
      else if (ch == CH_MEASUREMENT && r->fd >= 0)
        reply_bluez_error (inv, "NotPermitted", "Notify acquired");
      else if (sender_in (c->notify_senders, sender, NULL))
        reply_bluez_error (inv, "InProgress", "In Progress");
      else
        gatt_op_begin (r, GATT_START_NOTIFY, ch, sender, inv, 0, NULL);
    }
  else if (strcmp (method, "StopNotify") == 0)
    {
      guint index;

      if (!sender_in (c->notify_senders, sender, &index))
        {
          reply_bluez_error (inv, "Failed", "No notify session started");
          return;
        }
      roller_notify_session_end (r, ch, index);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (strcmp (method, "AcquireNotify") == 0)
    {
      if (!roller_acquire_supported (ch))
        reply_bluez_error (inv, "NotSupported", "Operation is not supported");
      else if (r->fd >= 0)
        reply_bluez_error (inv, "NotPermitted", "Notify acquired");
      else if (c->notify_senders->len > 0)
        reply_bluez_error (inv, "NotPermitted", "Notify already enabled");
      else
        gatt_op_begin (r, GATT_ACQUIRE_NOTIFY, ch, sender, inv, 0, NULL);
    }
  else
    g_assert_not_reached ();
}

static void
desc_method_call (Roller *r, int ch, const char *method, GVariant *params,
                  GDBusMethodInvocation *inv)
{
  if (strcmp (method, "ReadValue") == 0)
    {
      /* The CCC descriptor: 0x0001 notifications on, 0x0002 indications on. */
      gboolean on = roller_notifying (r, ch) || (ch == CH_MEASUREMENT && r->fd >= 0);
      guint8 ccc[2] = { 0, 0 };

      if (on)
        ccc[0] = (char_defs[ch].flags & CF_NOTIFY) ? 0x01 : 0x02;
      g_dbus_method_invocation_return_value (inv, g_variant_new ("(@ay)", bytes_variant (ccc, 2)));
    }
  else
    /* bluetoothd keeps the CCC to itself: StartNotify is the way. */
    reply_bluez_error (inv, "NotPermitted", "Write not permitted");
}

static void
iface_method_call (GDBusConnection *conn, const char *sender, const char *path,
                   const char *iface_name, const char *method, GVariant *params,
                   GDBusMethodInvocation *inv, gpointer user_data)
{
  Iface *iface = user_data;
  Obj *obj = iface->obj;

  if (opt.verbose)
    g_message ("%s %s.%s from %s", path, iface_name, method, sender);
  switch (obj->kind)
    {
      case OBJ_AGENT_MANAGER:
        agent_manager_method_call (obj->emu, sender, method, params, inv);
        break;
      case OBJ_ADAPTER:
        adapter_method_call (obj->emu, sender, method, params, inv);
        break;
      case OBJ_DEVICE:
        device_method_call (obj->roller, sender, method, inv);
        break;
      case OBJ_CHAR:
        char_method_call (obj->roller, obj->index, sender, method, params, inv);
        break;
      case OBJ_DESC:
        desc_method_call (obj->roller, obj->index, method, params, inv);
        break;
      case OBJ_SERVICE:
      default:
        g_dbus_method_invocation_return_error (inv, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                               "No such method '%s'", method);
        break;
    }
}

static gboolean
iface_set_property (GDBusConnection *conn, const char *sender, const char *path,
                    const char *iface_name, const char *prop, GVariant *value, GError **error,
                    gpointer user_data)
{
  Iface *iface = user_data;
  Obj *obj = iface->obj;

  if (obj->kind == OBJ_ADAPTER)
    return adapter_set_property (obj->emu, prop, value, error);
  if (obj->kind == OBJ_DEVICE && strcmp (iface->name, "org.bluez.Device1") == 0)
    return device_set_property (obj->roller, prop, value, error);
  set_bluez_gerror (error, BLUEZ_ERROR_NOT_SUPPORTED, "Operation is not supported");
  return FALSE;
}

/* ---- peers leaving the bus --------------------------------------------- */

static void
client_get_for_notify (Roller *r, const char *sender)
{
  /* Only to be told when the peer leaves: its sessions end with it. */
  client_get (r->emu, sender);
}

static void
client_vanished_cb (GDBusConnection *conn, const char *name, gpointer user_data)
{
  Emu *emu = user_data;
  Client *c;

  if (conn != emu->bus)
    return;
  c = g_hash_table_lookup (emu->clients, name);
  if (c == NULL)
    return;
  discovery_session_end (emu, c);
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      for (int ch = 0; ch < N_CH; ch++)
        {
          guint index;

          if (r->chars[ch].iface != NULL && sender_in (r->chars[ch].notify_senders, name, &index))
            roller_notify_session_end (r, ch, index);
        }
    }
  if (g_strcmp0 (emu->default_agent_sender, name) == 0)
    g_clear_pointer (&emu->default_agent_sender, g_free);
  g_hash_table_remove (emu->clients, name);
}

/* ---- ObjectManager at / ------------------------------------------------ */

static void
root_method_call (GDBusConnection *conn, const char *sender, const char *path,
                  const char *iface_name, const char *method, GVariant *params,
                  GDBusMethodInvocation *inv, gpointer user_data)
{
  Emu *emu = user_data;
  GVariantBuilder b;
  GHashTableIter it;
  gpointer value;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  g_hash_table_iter_init (&it, emu->objects);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Obj *obj = value;

      g_variant_builder_open (&b, G_VARIANT_TYPE ("{oa{sa{sv}}}"));
      g_variant_builder_add (&b, "o", obj->path);
      g_variant_builder_open (&b, G_VARIANT_TYPE ("a{sa{sv}}"));
      for (guint i = 0; i < obj->ifaces->len; i++)
        {
          Iface *iface = g_ptr_array_index (obj->ifaces, i);

          g_variant_builder_add (&b, "{s@a{sv}}", iface->name, iface_props_dict (iface));
        }
      g_variant_builder_close (&b);
      g_variant_builder_close (&b);
    }
  g_dbus_method_invocation_return_value (inv, g_variant_new ("(a{oa{sa{sv}}})", &b));
}

static const GDBusInterfaceVTable root_vtable = { .method_call = root_method_call };

/* ---- org.dermaroll.Emulator1 ------------------------------------------- */

static Roller *
emu_find_roller (Emu *emu, const char *address)
{
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      if (g_ascii_strcasecmp (r->address, address) == 0)
        return r;
    }
  return NULL;
}

static GVariant *
roller_stats (Roller *r)
{
  GVariantBuilder b;
  guint stored = g_queue_get_length (&r->memory);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "address", g_variant_new_string (r->address));
  g_variant_builder_add (&b, "{sv}", "device-path",
                         g_variant_new_string (r->dev_obj != NULL ? r->dev_obj->path : ""));
  g_variant_builder_add (
      &b, "{sv}", "service-path",
      g_variant_new_string (r->services[SV_ROLLER] != NULL ? r->services[SV_ROLLER]->path : ""));
  g_variant_builder_add (&b, "{sv}", "paired", g_variant_new_boolean (r->paired));
  g_variant_builder_add (&b, "{sv}", "trusted", g_variant_new_boolean (r->trusted));
  g_variant_builder_add (&b, "{sv}", "connected", g_variant_new_boolean (r->connected));
  g_variant_builder_add (&b, "{sv}", "services-resolved", g_variant_new_boolean (r->resolved));
  g_variant_builder_add (&b, "{sv}", "notify-acquired", g_variant_new_boolean (r->fd >= 0));
  g_variant_builder_add (&b, "{sv}", "notifying",
                         g_variant_new_boolean (roller_notifying (r, CH_MEASUREMENT)));
  g_variant_builder_add (&b, "{sv}", "streaming", g_variant_new_boolean (r->streaming));
  g_variant_builder_add (&b, "{sv}", "exhausted", g_variant_new_boolean (r->exhausted));
  g_variant_builder_add (
      &b, "{sv}", "state",
      g_variant_new_byte (roller_rolling (r) ? DR_ROLLER_STATE_ROLLING : DR_ROLLER_STATE_IDLE));
  g_variant_builder_add (&b, "{sv}", "rate", g_variant_new_uint32 (r->stream_rate));
  g_variant_builder_add (&b, "{sv}", "clock-synced", g_variant_new_boolean (r->clock_synced));
  g_variant_builder_add (&b, "{sv}", "frames-produced",
                         g_variant_new_uint64 (r->frames_produced + r->frames_lost));
  g_variant_builder_add (&b, "{sv}", "frames-sent", g_variant_new_uint64 (r->frames_sent));
  g_variant_builder_add (&b, "{sv}", "frames-lost", g_variant_new_uint64 (r->frames_lost));
  g_variant_builder_add (&b, "{sv}", "frames-stored", g_variant_new_uint32 (stored));
  g_variant_builder_add (&b, "{sv}", "pending", g_variant_new_uint32 (stored));
  g_variant_builder_add (&b, "{sv}", "history-sent", g_variant_new_uint64 (r->history_sent));
  g_variant_builder_add (&b, "{sv}", "malformed-sent", g_variant_new_uint64 (r->raw_sent));
  g_variant_builder_add (&b, "{sv}", "samples-produced",
                         g_variant_new_uint64 (r->samples_produced));
  g_variant_builder_add (&b, "{sv}", "acks", g_variant_new_uint64 (r->acks));
  g_variant_builder_add (&b, "{sv}", "acked-seq", g_variant_new_int32 (r->acked_seq));
  g_variant_builder_add (&b, "{sv}", "next-seq", g_variant_new_uint16 (r->next_seq));
  g_variant_builder_add (&b, "{sv}", "indications", g_variant_new_uint64 (r->indications));
  g_variant_builder_add (&b, "{sv}", "connects", g_variant_new_uint64 (r->connects));
  g_variant_builder_add (&b, "{sv}", "battery", g_variant_new_byte (r->battery));
  g_variant_builder_add (&b, "{sv}", "gatt-generation", g_variant_new_uint32 (r->gatt_generation));
  return g_variant_builder_end (&b);
}

static GVariant *
emu_stats (Emu *emu)
{
  GVariantBuilder b, per;
  guint64 produced = 0, sent = 0, lost = 0, history = 0, samples = 0;
  guint stored = 0;
  gint32 acked = -1;

  g_variant_builder_init (&per, G_VARIANT_TYPE ("a{sv}"));
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      produced += r->frames_produced + r->frames_lost;
      sent += r->frames_sent;
      lost += r->frames_lost;
      history += r->history_sent;
      samples += r->samples_produced;
      stored += g_queue_get_length (&r->memory);
      if (i == 0)
        acked = r->acked_seq;
      g_variant_builder_add (&per, "{sv}", r->address, roller_stats (r));
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "frames-produced", g_variant_new_uint64 (produced));
  g_variant_builder_add (&b, "{sv}", "frames-sent", g_variant_new_uint64 (sent));
  g_variant_builder_add (&b, "{sv}", "frames-lost", g_variant_new_uint64 (lost));
  g_variant_builder_add (&b, "{sv}", "frames-stored", g_variant_new_uint32 (stored));
  g_variant_builder_add (&b, "{sv}", "pending", g_variant_new_uint32 (stored));
  g_variant_builder_add (&b, "{sv}", "history-sent", g_variant_new_uint64 (history));
  g_variant_builder_add (&b, "{sv}", "samples-produced", g_variant_new_uint64 (samples));
  g_variant_builder_add (&b, "{sv}", "acked-seq", g_variant_new_int32 (acked));
  g_variant_builder_add (&b, "{sv}", "adapter-path",
                         g_variant_new_string (emu->adapter_present ? emu->adapter_path : ""));
  g_variant_builder_add (
      &b, "{sv}", "bluez-name",
      g_variant_new_string (emu->bus != NULL ? g_dbus_connection_get_unique_name (emu->bus) : ""));
  g_variant_builder_add (&b, "{sv}", "rollers", g_variant_builder_end (&per));
  return g_variant_builder_end (&b);
}

static void restart_teardown (Emu *emu);

static gboolean restart_timer_cb (gpointer data);

static void
emu_method_call (GDBusConnection *conn, const char *sender, const char *path,
                 const char *iface_name, const char *method, GVariant *params,
                 GDBusMethodInvocation *inv, gpointer user_data)
{
  Emu *emu = user_data;
  const char *address = NULL;
  Roller *r = NULL;

  if (opt.verbose)
    g_message ("control %s from %s", method, sender);
  if (g_str_equal (method, "DropLink") || g_str_equal (method, "LoseFrames")
      || g_str_equal (method, "SendMalformed") || g_str_equal (method, "FlapServices")
      || g_str_equal (method, "FailConnect") || g_str_equal (method, "SetInRange")
      || g_str_equal (method, "SetBattery") || g_str_equal (method, "RollerStats")
      || g_str_equal (method, "StoredFrames"))
    {
      g_variant_get_child (params, 0, "&s", &address);
      r = emu_find_roller (emu, address);
      if (r == NULL)
        {
          reply_emu_error (inv, "NotFound", "No roller with that address");
          return;
        }
    }

  if (g_str_equal (method, "DropLink"))
    {
      if (!r->connected)
        {
          reply_emu_error (inv, "NotConnected", "The roller is not connected");
          return;
        }
      /* A radio loss: supervision timeout. */
      roller_link_down (r, "org.bluez.Reason.Timeout", "Connection timed out");
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "LoseFrames"))
    {
      guint count;

      g_variant_get (params, "(&su)", NULL, &count);
      r->lose_count += count;
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "SendMalformed"))
    {
      g_autoptr (GVariant) bytes = g_variant_get_child_value (params, 1);
      gsize len;
      const guint8 *data = g_variant_get_fixed_array (bytes, &len, 1);

      if (!roller_subscribed (r))
        {
          reply_emu_error (inv, "NotSubscribed", "Nobody listens to Roll Measurement");
          return;
        }
      roller_out_push (r, OUT_RAW, g_bytes_new (data, len));
      roller_pump (r);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "FlapServices"))
    {
      if (!r->connected || !r->resolved)
        {
          reply_emu_error (inv, "NotConnected", "The roller's services are not resolved");
          return;
        }
      /* A Service Changed: the database is dropped and found again under
       * new handles, the link stays. */
      roller_set_resolved (r, FALSE);
      roller_gatt_remove (r);
      r->gatt_generation++;
      roller_schedule_resolve (r);
      roller_kick (r);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "FailConnect"))
    {
      const char *name, *message;
      guint count;

      g_variant_get (params, "(&su&s&s)", NULL, &count, &name, &message);
      g_free (r->fail_connect_name);
      g_free (r->fail_connect_message);
      r->fail_connect_name
          = strchr (name, '.') != NULL ? g_strdup (name) : g_strconcat (BLUEZ_ERROR, name, NULL);
      r->fail_connect_message = g_strdup (message);
      r->fail_connect_count = count;
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "SetInRange"))
    {
      g_variant_get (params, "(&sb)", NULL, &r->in_range);
      if (!r->in_range && r->connected)
        roller_link_down (r, "org.bluez.Reason.Timeout", "Connection timed out");
      if (r->in_range)
        discovery_schedule (emu);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "SetBattery"))
    {
      guint8 percent;

      g_variant_get (params, "(&sy)", NULL, &percent);
      r->battery = MIN (percent, 100);
      if (r->battery1_iface != NULL)
        iface_set (r->battery1_iface, "Percentage", g_variant_new_byte (r->battery));
      if (r->chars[CH_BATTERY].iface != NULL && roller_notifying (r, CH_BATTERY))
        iface_notify (r->chars[CH_BATTERY].iface, "Value", bytes_variant (&r->battery, 1));
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "RollerStats"))
    g_dbus_method_invocation_return_value (inv, g_variant_new ("(@a{sv})", roller_stats (r)));
  else if (g_str_equal (method, "StoredFrames"))
    g_dbus_method_invocation_return_value (inv,
                                           g_variant_new ("(u)", g_queue_get_length (&r->memory)));
  else if (g_str_equal (method, "Stats"))
    g_dbus_method_invocation_return_value (inv, g_variant_new ("(@a{sv})", emu_stats (emu)));
  else if (g_str_equal (method, "Restart"))
    {
      guint delay_ms;

      if (emu->restarting)
        {
          reply_emu_error (inv, "InProgress", "Already restarting");
          return;
        }
      g_variant_get (params, "(u)", &delay_ms);
      /* Answer first: the call may have come over the connection that is
       * about to close. */
      g_dbus_method_invocation_return_value (inv, NULL);
      restart_teardown (emu);
      emu->restart_timer = g_timeout_add (delay_ms, restart_timer_cb, emu);
    }
  else if (g_str_equal (method, "RemoveAdapter"))
    {
      if (!emu->adapter_present || emu->restarting)
        {
          reply_emu_error (inv, "NotFound", "No adapter");
          return;
        }
      adapter_destroy (emu);
      emu->adapter_present = FALSE;
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "AddAdapter"))
    {
      guint index;

      g_variant_get (params, "(u)", &index);
      if (emu->adapter_present)
        {
          reply_emu_error (inv, "AlreadyExists", "The adapter is there");
          return;
        }
      emu->adapter_present = TRUE;
      emu->adapter_index = index;
      emu->powered = TRUE;
      if (emu->bus != NULL)
        adapter_create (emu);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "Quit"))
    {
      g_dbus_method_invocation_return_value (inv, NULL);
      g_main_loop_quit (emu->loop);
    }
  else
    g_assert_not_reached ();
}

static const GDBusInterfaceVTable emu_vtable = { .method_call = emu_method_call };

/* ---- bluetoothd's presence on the bus ---------------------------------- */

static void
bluez_name_acquired_cb (GDBusConnection *conn, const char *name, gpointer user_data)
{
  Emu *emu = user_data;

  if (conn != emu->bus)
    return;
  if (!emu->name_owned_once)
    {
      emu->name_owned_once = TRUE;
      /* Tests wait for this line; the name is the control connection's. */
      printf ("READY %s\n", g_dbus_connection_get_unique_name (emu->control_conn));
    }
  else
    printf ("RESTARTED %s\n", g_dbus_connection_get_unique_name (conn));
  fflush (stdout);
  emu->restarting = FALSE;
}

static void
bluez_name_lost_cb (GDBusConnection *conn, const char *name, gpointer user_data)
{
  Emu *emu = user_data;

  if (conn != emu->bus)
    return;
  g_printerr ("roller-emulator: cannot own %s on this bus (is bluetoothd running there?)\n", name);
  emu->exit_code = 1;
  g_main_loop_quit (emu->loop);
}

static void
bluez_bring_up (Emu *emu)
{
  GDBusInterfaceInfo *om
      = g_dbus_node_info_lookup_interface (emu->node_info, "org.freedesktop.DBus.ObjectManager");
  GDBusInterfaceInfo *ei = g_dbus_node_info_lookup_interface (emu->node_info, EMU_IFACE);
  Obj *obj;
  g_autoptr (GError) error = NULL;

  emu->root_reg_id
      = g_dbus_connection_register_object (emu->bus, "/", om, &root_vtable, emu, NULL, &error);
  if (emu->root_reg_id == 0)
    g_error ("cannot export the object manager: %s", error->message);
  /* The control interface is reachable through org.bluez's owner too. */
  emu->bus_emu_reg_id
      = g_dbus_connection_register_object (emu->bus, EMU_PATH, ei, &emu_vtable, emu, NULL, &error);
  if (emu->bus_emu_reg_id == 0)
    g_error ("cannot export the control interface: %s", error->message);

  obj = obj_new (emu, OBJ_AGENT_MANAGER, "/org/bluez", NULL, 0);
  obj_add_iface (obj, "org.bluez.AgentManager1");
  obj_export (obj);
  if (emu->adapter_present)
    adapter_create (emu);

  emu->bus_name_id
      = g_bus_own_name_on_connection (emu->bus, BLUEZ_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                      bluez_name_acquired_cb, bluez_name_lost_cb, emu, NULL);
}

static void
close_when_flushed_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  GDBusConnection *conn = G_DBUS_CONNECTION (source);

  g_dbus_connection_flush_finish (conn, result, NULL);
  g_dbus_connection_close (conn, NULL, NULL, NULL);
}

/* bluetoothd dies: every link drops, every object and the name go, on a
 * connection that closes, so the next owner has a new unique name. What
 * the rollers hold (memory, clock, streaming) is theirs and stays. */
static void
restart_teardown (Emu *emu)
{
  g_autoptr (GDBusConnection) old = g_steal_pointer (&emu->bus);
  GHashTableIter it;
  gpointer value;

  emu->restarting = TRUE;
  g_bus_unown_name (emu->bus_name_id);
  emu->bus_name_id = 0;
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);

      roller_link_down (r, "org.bluez.Reason.Local", "bluetoothd went away");
      roller_device_remove (r);
    }
  discovery_drop_all (emu);
  if (emu->adapter_obj != NULL)
    obj_destroy (emu->adapter_obj);
  emu->adapter_obj = NULL;
  emu->adapter_iface = NULL;
  g_hash_table_iter_init (&it, emu->objects);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      g_hash_table_iter_steal (&it);
      ((Obj *) value)->exported = FALSE;
      for (guint i = 0; i < ((Obj *) value)->ifaces->len; i++)
        {
          Iface *iface = g_ptr_array_index (((Obj *) value)->ifaces, i);

          g_dbus_connection_unregister_object (iface->conn, iface->reg_id);
        }
      obj_free (value);
    }
  g_hash_table_remove_all (emu->clients);
  g_clear_pointer (&emu->default_agent_sender, g_free);
  g_dbus_connection_unregister_object (old, emu->root_reg_id);
  g_dbus_connection_unregister_object (old, emu->bus_emu_reg_id);
  emu->root_reg_id = 0;
  emu->bus_emu_reg_id = 0;
  g_dbus_connection_flush (old, NULL, close_when_flushed_cb, NULL);
  if (opt.verbose)
    g_message ("bluetoothd gone");
}

static void
restart_connected_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Emu *emu = data;
  g_autoptr (GError) error = NULL;
  GDBusConnection *conn = g_dbus_connection_new_for_address_finish (result, &error);

  if (conn == NULL)
    {
      g_printerr ("roller-emulator: cannot reconnect to the bus: %s\n", error->message);
      emu->exit_code = 1;
      g_main_loop_quit (emu->loop);
      return;
    }
  emu->bus = conn;
  emu->powered = TRUE;
  bluez_bring_up (emu);
}

static gboolean
restart_timer_cb (gpointer data)
{
  Emu *emu = data;

  emu->restart_timer = 0;
  g_dbus_connection_new_for_address (emu->bus_address,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                         | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                     NULL, NULL, restart_connected_cb, emu);
  return G_SOURCE_REMOVE;
}

/* ---- start-up ---------------------------------------------------------- */

static gboolean
parse_hex_line (const char *line, GByteArray *out)
{
  int hi = -1;

  for (const char *p = line; *p != '\0'; p++)
    {
      int v;

      if (g_ascii_isspace (*p) || *p == ':' || *p == ',')
        continue;
      if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        {
          p++;
          continue;
        }
      v = g_ascii_xdigit_value (*p);
      if (v < 0)
        return FALSE;
      if (hi < 0)
        hi = v;
      else
        {
          guint8 b = (guint8) (hi << 4 | v);

          g_byte_array_append (out, &b, 1);
          hi = -1;
        }
    }
  return hi < 0;
}

static gboolean
trace_split_hex (const guint8 *data, gsize len, GPtrArray *frames, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint lineno = 0;

  g_ptr_array_set_size (frames, 0);
  if (memchr (data, '\0', len) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "neither length-prefixed frames nor hex text");
      return FALSE;
    }
  text = g_strndup ((const char *) data, len);
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      g_autoptr (GByteArray) bytes = g_byte_array_new ();
      char *hash = strchr (*l, '#');

      lineno++;
      if (hash != NULL)
        *hash = '\0';
      if (!parse_hex_line (*l, bytes))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "line %u: neither length-prefixed frames nor hex text", lineno);
          return FALSE;
        }
      if (bytes->len > 0)
        g_ptr_array_add (frames, g_byte_array_free_to_bytes (g_steal_pointer (&bytes)));
    }
  return TRUE;
}

/* Binary records (u16 LE length + frame, after an optional "DRTRACE1"
 * magic as scripts/gen-trace.py writes) or hex text (one frame per line,
 * '#' comments): whichever parses completely. */
static gboolean
trace_split (const guint8 *data, gsize len, GPtrArray *frames, GError **error)
{
  static const char magic[] = "DRTRACE1";
  gsize pos = 0;

  if (len >= sizeof magic - 1 && memcmp (data, magic, sizeof magic - 1) == 0)
    pos = sizeof magic - 1;
  while (pos + 2 <= len)
    {
      gsize n = data[pos] | (gsize) data[pos + 1] << 8;

      if (n == 0 || n > 512 || pos + 2 + n > len)
        break;
      g_ptr_array_add (frames, g_bytes_new (data + pos + 2, n));
      pos += 2 + n;
    }
  if (pos == len && frames->len > 0)
    return TRUE;

  return trace_split_hex (data, len, frames, error);
}

static gboolean
trace_load (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len;
  g_autoptr (GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gint64 prev_ms = 0, offset_ms = 0;
  gboolean first = TRUE;
  guint malformed = 0;

  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  if (!trace_split ((const guint8 *) contents, len, frames, error))
    return FALSE;
  trace_samples = g_array_new (FALSE, FALSE, sizeof (TraceSample));
  for (guint i = 0; i < frames->len; i++)
    {
      gsize flen;
      const guint8 *fdata = g_bytes_get_data (g_ptr_array_index (frames, i), &flen);
      DrFrame f;
      gint64 t;

      if (flen == DR_HEAD_INFO_LEN)
        continue; /* the recorded Head Info: this roller has its own */
      if (dr_frame_decode (fdata, flen, &f) != DR_CODEC_OK)
        {
          malformed++;
          continue;
        }
      t = (gint64) f.t0_ms;
      for (guint k = 0; k < f.n_samples; k++)
        {
          TraceSample ts;

          if (k > 0)
            t += f.samples[k].dt_ms;
          if (!first)
            {
              gint64 step = t - prev_ms;

              /* A clock change inside the trace (SET_TIME, reboot) is not a
               * pause: carry on at a nominal 10 ms. */
              if (step < 0 || step > 600000)
                step = 10;
              offset_ms += step;
            }
          first = FALSE;
          prev_ms = t;
          ts.offset_us = offset_ms * 1000;
          ts.ticks = f.samples[k].ticks;
          ts.force_mn = f.samples[k].force_mn;
          ts.zone = f.samples[k].zone;
          g_array_append_val (trace_samples, ts);
        }
    }
  if (malformed > 0)
    g_message ("trace %s: %u malformed frames skipped", path, malformed);
  if (trace_samples->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no valid frame", path);
      return FALSE;
    }
  return TRUE;
}

static Roller *
roller_new (Emu *emu, guint index, const char *spec)
{
  Roller *r = g_new0 (Roller, 1);
  g_auto (GStrv) parts = g_strsplit (spec, ",", 2);
  g_autofree char *suffix = NULL;

  r->emu = emu;
  r->index = index;
  r->address = g_ascii_strup (g_strstrip (parts[0]), -1);
  r->name = g_strdup (parts[1] != NULL && parts[1][0] != '\0' ? parts[1] : "DermaRoller");
  suffix = g_strdelimit (g_strdup (r->address), ":", '_');
  r->path_suffix = g_strconcat ("dev_", suffix, NULL);
  r->in_range = TRUE;
  r->paired = opt.paired;
  r->trusted = opt.paired;
  r->fd = -1;
  r->acked_seq = -1;
  r->battery = (guint8) CLAMP (opt.battery, 0, 100);
  r->boot_mono_us = g_get_monotonic_time ();
  r->head.version = DR_PROTOCOL_VERSION;
  r->head.needle_length_um = (guint16) opt.needle_um;
  r->head.needle_count = (guint16) opt.needle_count;
  r->head.drum_diameter_10um = (guint16) opt.drum_diameter_10um;
  r->head.drum_width_10um = (guint16) opt.drum_width_10um;
  r->head.ticks_per_rev = (guint16) opt.ticks_per_rev;
  r->head.head_id = (guint32) (opt.head_id + index);
  r->gen.rng = (guint32) opt.seed * 2654435761u + index + 1;
  if (r->gen.rng == 0)
    r->gen.rng = 1;
  r->gen.remaining = opt.samples < 0 ? G_MAXUINT64 : (guint64) opt.samples;
  for (int ch = 0; ch < N_CH; ch++)
    r->chars[ch].notify_senders = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&r->out);
  g_queue_init (&r->memory);
  if (opt.history > 0)
    roller_fill_history (r, (guint) opt.history);
  return r;
}

static gboolean
quit_signal_cb (gpointer data)
{
  Emu *emu = data;

  g_main_loop_quit (emu->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
check_range (const char *name, gint64 value, gint64 min, gint64 max)
{
  if (value >= min && value <= max)
    return TRUE;
  g_printerr ("roller-emulator: --%s must be within %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT "\n",
              name, min, max);
  return FALSE;
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    PatternKind kind;
  } patterns[] = {
    { "face", PATTERN_FACE },         { "full", PATTERN_FULL }, { "steady", PATTERN_STEADY },
    { "pressure", PATTERN_PRESSURE }, { "idle", PATTERN_IDLE }, { "unzoned", PATTERN_UNZONED },
  };
  g_autoptr (GOptionContext) context
      = g_option_context_new ("- emulate bluetoothd and smart derma rollers");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusNodeInfo) node_info = NULL;
  GDBusConnectionFlags flags = G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                               | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION;
  Emu *emu;
  int exit_code;

  g_option_context_add_main_entries (context, option_entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("roller-emulator: %s\n", error->message);
      return 2;
    }
  if (!check_range ("adapter-index", opt.adapter_index, 0, 65535)
      || !check_range ("needle-um", opt.needle_um, 0, 65535)
      || !check_range ("needle-count", opt.needle_count, 0, 65535)
      || !check_range ("drum-diameter-10um", opt.drum_diameter_10um, 1, 65535)
      || !check_range ("drum-width-10um", opt.drum_width_10um, 1, 65535)
      || !check_range ("ticks-per-rev", opt.ticks_per_rev, 1, 65535)
      || !check_range ("head-id", opt.head_id, 0, G_MAXUINT32)
      || !check_range ("rate", opt.rate, -1, 10000000)
      || !check_range ("history", opt.history, 0, 10000000)
      || !check_range ("battery", opt.battery, 0, 100)
      || !check_range ("ticks-start", opt.ticks_start, 0, G_MAXUINT32)
      || !check_range ("gatt-latency-ms", opt.gatt_latency_ms, 0, 60000)
      || !check_range ("connect-delay-ms", opt.connect_delay_ms, 0, 60000)
      || !check_range ("resolve-delay-ms", opt.resolve_delay_ms, 0, 60000)
      || !check_range ("pair-delay-ms", opt.pair_delay_ms, 0, 60000)
      || !check_range ("discovery-delay-ms", opt.discovery_delay_ms, 0, 60000)
      || !check_range ("temporary-timeout-s", opt.temporary_timeout_s, 0, 86400))
    return 2;
  if (opt.pattern != NULL)
    {
      gboolean found = FALSE;

      for (gsize i = 0; i < G_N_ELEMENTS (patterns); i++)
        if (strcmp (opt.pattern, patterns[i].name) == 0)
          {
            pattern_kind = patterns[i].kind;
            found = TRUE;
          }
      if (!found)
        {
          g_printerr ("roller-emulator: unknown pattern '%s' (face, full, steady, pressure, idle, "
                      "unzoned)\n",
                      opt.pattern);
          return 2;
        }
    }
  if (opt.trace != NULL && !trace_load (opt.trace, &error))
    {
      g_printerr ("roller-emulator: cannot play the trace: %s\n", error->message);
      return 2;
    }
  pattern_build ();

  /* A reader that goes away must not kill us; send() says EPIPE instead. */
  signal (SIGPIPE, SIG_IGN);

  node_info = g_dbus_node_info_new_for_xml (introspection_xml, &error);
  if (node_info == NULL)
    g_error ("introspection: %s", error->message);

  emu = the_emu = g_new0 (Emu, 1);
  emu->loop = g_main_loop_new (NULL, FALSE);
  emu->node_info = node_info;
  emu->objects = g_hash_table_new (g_str_hash, g_str_equal);
  emu->clients
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) client_free);
  emu->rollers = g_ptr_array_new ();
  emu->adapter_present = TRUE;
  emu->adapter_index = (guint) opt.adapter_index;
  emu->powered = TRUE;
  emu->adapter_address
      = g_ascii_strup (opt.adapter_address != NULL ? opt.adapter_address : "00:1A:7D:DA:71:13", -1);
  if (!address_is_valid (emu->adapter_address))
    {
      g_printerr ("roller-emulator: bad adapter address '%s'\n", emu->adapter_address);
      return 2;
    }
  if (opt.rollers == NULL || opt.rollers[0] == NULL)
    g_ptr_array_add (emu->rollers, roller_new (emu, 0, "C0:FF:EE:00:00:01"));
  else
    for (guint i = 0; opt.rollers[i] != NULL; i++)
      {
        Roller *r = roller_new (emu, i, opt.rollers[i]);

        if (!address_is_valid (r->address) || emu_find_roller (emu, r->address) != NULL)
          {
            g_printerr ("roller-emulator: bad or repeated roller address in '%s'\n",
                        opt.rollers[i]);
            return 2;
          }
        g_ptr_array_add (emu->rollers, r);
      }

  emu->bus_address = opt.bus_address != NULL
                         ? g_strdup (opt.bus_address)
                         : g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (emu->bus_address == NULL)
    {
      g_printerr ("roller-emulator: no bus: %s\n", error->message);
      return 1;
    }
  /* Start-up may block: nothing runs yet. Afterwards nothing does. */
  emu->control_conn
      = g_dbus_connection_new_for_address_sync (emu->bus_address, flags, NULL, NULL, &error);
  if (emu->control_conn != NULL)
    emu->bus = g_dbus_connection_new_for_address_sync (emu->bus_address, flags, NULL, NULL, &error);
  if (emu->control_conn == NULL || emu->bus == NULL)
    {
      g_printerr ("roller-emulator: cannot connect to %s: %s\n", emu->bus_address, error->message);
      return 1;
    }
  emu->control_reg_id = g_dbus_connection_register_object (
      emu->control_conn, EMU_PATH, g_dbus_node_info_lookup_interface (node_info, EMU_IFACE),
      &emu_vtable, emu, NULL, &error);
  if (emu->control_reg_id == 0)
    g_error ("cannot export the control interface: %s", error->message);
  /* Handy for scripts; a second emulator on the same bus simply queues. */
  emu->control_name_id = g_bus_own_name_on_connection (
      emu->control_conn, EMU_NAME, G_BUS_NAME_OWNER_FLAGS_NONE, NULL, NULL, NULL, NULL);
  bluez_bring_up (emu);

  g_unix_signal_add (SIGINT, quit_signal_cb, emu);
  g_unix_signal_add (SIGTERM, quit_signal_cb, emu);
  g_main_loop_run (emu->loop);

  exit_code = emu->exit_code;
  for (guint i = 0; i < emu->rollers->len; i++)
    roller_release_notify_fd (g_ptr_array_index (emu->rollers, i));
  if (emu->bus != NULL)
    g_dbus_connection_flush_sync (emu->bus, NULL, NULL);
  g_dbus_connection_flush_sync (emu->control_conn, NULL, NULL);
  return exit_code;
}
