/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bluez-link.c: DrBluezLink, the link to one roller through bluetoothd.
 *
 * A small state machine (Phase below) drives one connection at a time:
 *
 *   IDLE → [DISCOVERING] → [PAIRING → TRUSTING] → CONNECTING → RESOLVING
 *        → SETUP → STREAMING
 *
 * and any loss (notification socket HUP, Connected false, the device or
 * its adapter removed, bluetoothd gone, resume from suspend) goes back to
 * IDLE, from where a single one-shot timer retries with backoff while the
 * link wants a connection. ServicesResolved going false while connected
 * goes back to RESOLVING only: BlueZ re-resolves (GATT objects removed and
 * added again) and every ServicesResolved = true rebuilds the map of
 * characteristics from the object manager and runs the whole setup again,
 * so no proxy or object path outlives the resolution it came from.
 *
 * Here: that state machine, the reconnect backoff and the setup sequence
 * (what is read, subscribed and written on each connection, in which
 * order). The link owns the pieces with files of their own: the GATT map
 * (gatt-map.c), the operation queue every GATT call goes through
 * (gatt-queue.c, since BlueZ answers a second concurrent one with
 * InProgress), the AcquireNotify socket (notify-socket.c) and what Control
 * Point answers mean (control-point.c). They report back through signals
 * or the DrGattOpDone the link hands the queue; none calls into the link.
 *
 * Everything tied to one connection is cancelled through one GCancellable
 * and a generation counter, so an answer that arrives late never touches
 * a newer connection. Nothing wakes up while nothing happens: the only
 * timers are one-shot and exist only while something is awaited.
 */
#include "bluez-link.h"

#include "control-point.h"
#include "dr-error.h"
#include "gatt-map.h"
#include "gatt-queue.h"
#include "notify-socket.h"
#include "roller-clock.h"

#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <string.h>
#include <unistd.h>

#define BLUEZ_BUS_NAME "org.bluez"
#define DEVICE_IFACE "org.bluez.Device1"
#define GATT_CHAR_IFACE "org.bluez.GattCharacteristic1"
#define ADAPTER_IFACE "org.bluez.Adapter1"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define BACKOFF_JITTER 0.2
#define PAIR_DISCOVERY_TIMEOUT_S 30
/* The whole of Pair: discovery, pairing, connecting and setting up. */
#define PAIR_TIMEOUT_S 90
#define RESOLVE_TIMEOUT_S 30
#define PAIR_CALL_TIMEOUT_MS 60000
#define CONNECT_CALL_TIMEOUT_MS 45000
#define DEFAULT_RATE_HZ 100

typedef enum
{
  PHASE_IDLE,        /* DISCONNECTED, maybe with a reconnect timer armed */
  PHASE_DISCOVERING, /* Pair of a roller bluetoothd does not know yet */
  PHASE_PAIRING,     /* Device1.Pair */
  PHASE_TRUSTING,    /* Trusted = true */
  PHASE_CONNECTING,  /* Device1.Connect */
  PHASE_RESOLVING,   /* connected; waiting for ServicesResolved */
  PHASE_SETUP,       /* GATT reads, subscriptions, history, SET_TIME, START_STREAM */
  PHASE_STREAMING,
} Phase;

static const char *const phase_names[] = {
  "idle", "discovering", "pairing", "trusting", "connecting", "resolving", "setup", "streaming",
};

typedef enum
{
  DIS_MANUFACTURER,
  DIS_MODEL,
  DIS_SERIAL,
  DIS_FIRMWARE,
  DIS_N
} DisField;

static const char *const dis_uuids[DIS_N] = {
  DR_UUID_MANUFACTURER_NAME,
  DR_UUID_MODEL_NUMBER,
  DR_UUID_SERIAL_NUMBER,
  DR_UUID_FIRMWARE_REVISION,
};

struct _DrBluezLink
{
  GObject parent_instance;
  gboolean disposed;

  DrBluez *bluez;
  char *address;

  Phase phase;
  DrLinkState state;
  gboolean auto_connect;
  guint8 rate_hz;
  gboolean held;         /* dr_bluez_link_set_held */
  gint64 clock_floor_ms; /* SET_TIME never goes behind it (dr_bluez_link_set_clock_floor) */
  gint64 set_time_ms;    /* the value of the SET_TIME in flight */

  /* The connection in hand. device_path is valid only for it: every new
   * attempt looks the device up by address again. */
  char *device_path;
  GCancellable *cancellable;
  guint gen; /* bumped whenever GATT state is reset */

  guint reconnect_id; /* the one reconnect timer (or idle) */
  guint backoff_ms;
  guint backoff_min_ms;   /* the first step; doubles to BACKOFF_MAX_MS */
  guint phase_timeout_id; /* discovery or ServicesResolved wait */
  guint teardown_id;      /* Forget's teardown, run from the main loop */

  GTask *pair_task;
  guint pair_timeout_s;
  guint discovery_timeout_s;
  guint pair_timeout_id;
  GSource *pair_cancel_source;
  gboolean discovery_held;

  /* Rebuilt on every ServicesResolved; the paths below point into it. */
  DrGattMap *chars;
  const char *measurement_path;
  const char *control_path;
  const char *status_path;

  DrGattQueue *queue; /* every GATT operation of the connection */

  DrNotifySocket *socket; /* AcquireNotify, or NULL */
  guint measurement_sub;  /* StartNotify: Roll Measurement's PropertiesChanged, or 0 */

  char *dis[DIS_N];
};

G_DEFINE_TYPE (DrBluezLink, dr_bluez_link, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (DrLinkState, dr_link_state,
                    G_DEFINE_ENUM_VALUE (DR_LINK_DISCONNECTED, "disconnected"),
                    G_DEFINE_ENUM_VALUE (DR_LINK_CONNECTING, "connecting"),
                    G_DEFINE_ENUM_VALUE (DR_LINK_STREAMING, "streaming"))

enum
{
  PROP_0,
  PROP_BLUEZ,
  PROP_ADDRESS,
  PROP_PAIR_TIMEOUT,
  PROP_DISCOVERY_TIMEOUT,
  PROP_PHASE,
  PROP_BACKOFF_MIN,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  STATE_CHANGED,
  FRAME,
  HEAD_INFO,
  STATUS,
  BATTERY,
  DEVICE_INFO,
  BAD_VALUE,
  CLOCK_SET,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Keeps @link alive to the end of the enclosing block: a handler of a
 * signal we emit may drop the last reference, and code after the emission
 * checks link->disposed. */
#define LINK_HOLD(link)                                                                            \
  g_autoptr (DrBluezLink) G_PASTE (link_hold_, __LINE__) G_GNUC_UNUSED = g_object_ref (link)

static void link_lost (DrBluezLink *link, const char *reason);
static void pair_complete (DrBluezLink *link, GError *error);
static void link_try_connect (DrBluezLink *link);

/* ---- helpers ------------------------------------------------------------ */

static gboolean
want_connection (DrBluezLink *link)
{
  return !link->disposed && (link->auto_connect || link->pair_task != NULL);
}

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
set_phase (DrBluezLink *link, Phase phase)
{
  if (link->phase == phase)
    return;
  g_debug ("%s: %s -> %s", link->address, phase_names[link->phase], phase_names[phase]);
  link->phase = phase;
  dr_gatt_queue_set_running (link->queue, phase == PHASE_SETUP || phase == PHASE_STREAMING);
  g_object_notify_by_pspec (G_OBJECT (link), props[PROP_PHASE]);
}

/* Callers check link->disposed afterwards: the callback may free the link. */
static void
set_state (DrBluezLink *link, DrLinkState state)
{
  if (link->state == state)
    return;
  link->state = state;
  g_signal_emit (link, signals[STATE_CHANGED], 0, state);
}

static GError *
dbus_error_to_dr (DrError code, const char *what, const GError *error)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);
  g_autoptr (GError) copy = g_error_copy (error);

  code = dr_bluez_error_code (error, code);
  g_dbus_error_strip_remote_error (copy);
  if (remote != NULL)
    return g_error_new (DR_ERROR, code, "%s: %s (%s)", what, copy->message, remote);
  return g_error_new (DR_ERROR, code, "%s: %s", what, copy->message);
}

static void
device_call (DrBluezLink *link, const char *method, GVariant *parameters, int timeout_ms,
             GAsyncReadyCallback callback)
{
  g_dbus_connection_call (dr_bluez_get_connection (link->bluez), BLUEZ_BUS_NAME, link->device_path,
                          DEVICE_IFACE, method, parameters, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          timeout_ms, link->cancellable, callback, link);
}

/* The answer to a call on the device (device_call, the Trusted Set).
 * FALSE when it was cancelled: the link may be gone then, and user_data
 * is not to be touched. */
static gboolean
device_call_finish (GObject *source, GAsyncResult *result, GError **error)
{
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, error);

  g_clear_pointer (&reply, g_variant_unref);
  return !is_cancelled (*error);
}

/* Fire and forget: used to get a clean slate after a broken setup. */
static void
device_disconnect (DrBluezLink *link)
{
  if (link->device_path == NULL)
    return;
  g_debug ("%s: Disconnect %s", link->address, link->device_path);
  g_dbus_connection_call (dr_bluez_get_connection (link->bluez), BLUEZ_BUS_NAME, link->device_path,
                          DEVICE_IFACE, "Disconnect", NULL, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          -1, NULL, NULL, NULL);
}

static gboolean
device_cached_boolean (DrBluezLink *link, const char *path, const char *name)
{
  g_autoptr (GDBusProxy) device = dr_bluez_get_proxy (link->bluez, path, DEVICE_IFACE);
  g_autoptr (GVariant) v = device ? g_dbus_proxy_get_cached_property (device, name) : NULL;

  return v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN) && g_variant_get_boolean (v);
}

static void
release_discovery (DrBluezLink *link)
{
  if (!link->discovery_held)
    return;
  dr_bluez_release_discovery (link->bluez);
  link->discovery_held = FALSE;
}

/* ---- notification socket (AcquireNotify) --------------------------------- */

static void
deliver_frame (DrBluezLink *link, const guint8 *data, gsize len)
{
  dr_gatt_queue_progress (link->queue);
  g_signal_emit (link, signals[FRAME], 0, data, (guint) len);
}

static void
on_socket_frame (DrNotifySocket *socket, gconstpointer data, guint len, gpointer user_data)
{
  deliver_frame (user_data, data, len);
}

static void
on_socket_hangup (DrNotifySocket *socket, gpointer user_data)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);

  link_lost (link, "notification socket closed");
}

static void
measurement_open (DrBluezLink *link, int fd, guint mtu)
{
  link->socket = dr_notify_socket_new (fd, mtu, link->address);
  g_signal_connect (link->socket, "frame", G_CALLBACK (on_socket_frame), link);
  g_signal_connect (link->socket, "hangup", G_CALLBACK (on_socket_hangup), link);
  dr_notify_socket_set_paused (link->socket, link->held);
}

/* Under StartNotify every frame is a PropertiesChanged of the Roll
 * Measurement characteristic's Value. The link subscribes to that one
 * object of bluetoothd's itself: through the object manager each frame
 * would first go into its proxy's property cache and out again as a
 * GObject signal to every link. */
static void
on_measurement_properties_changed (GDBusConnection *connection, const char *sender,
                                   const char *path, const char *iface, const char *member,
                                   GVariant *params, gpointer user_data)
{
  DrBluezLink *link = user_data;
  g_autoptr (GVariant) changed = NULL;
  g_autoptr (GVariant) value = NULL;
  const guint8 *data;
  gsize len = 0;

  if (link->socket != NULL || (link->phase != PHASE_SETUP && link->phase != PHASE_STREAMING)
      || !g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  changed = g_variant_get_child_value (params, 1);
  value = g_variant_lookup_value (changed, "Value", G_VARIANT_TYPE_BYTESTRING);
  if (value == NULL)
    return;
  LINK_HOLD (link);
  data = g_variant_get_fixed_array (value, &len, 1);
  deliver_frame (link, data, len);
}

/* Before StartNotify is called: the bus takes our AddMatch before that
 * call, so no frame after it can miss the subscription. */
static void
measurement_subscribe (DrBluezLink *link)
{
  const char *owner = dr_bluez_get_name_owner (link->bluez);

  g_return_if_fail (link->measurement_sub == 0 && link->measurement_path != NULL);
  link->measurement_sub = g_dbus_connection_signal_subscribe (
      dr_bluez_get_connection (link->bluez), owner != NULL ? owner : BLUEZ_BUS_NAME,
      "org.freedesktop.DBus.Properties", "PropertiesChanged", link->measurement_path,
      GATT_CHAR_IFACE, G_DBUS_SIGNAL_FLAGS_NONE, on_measurement_properties_changed, link, NULL);
}

static void
measurement_close (DrBluezLink *link)
{
  /* No callback runs after this: GDBus checks that the subscription is
   * still there before each. */
  if (link->measurement_sub != 0)
    g_dbus_connection_signal_unsubscribe (dr_bluez_get_connection (link->bluez),
                                          link->measurement_sub);
  link->measurement_sub = 0;
  if (link->socket == NULL)
    return;
  g_signal_handlers_disconnect_by_data (link->socket, link);
  dr_notify_socket_close (link->socket);
  g_clear_object (&link->socket);
}

/* Frames already in the socket come before whatever we are about to act
 * on (an indication, a loss): read them now. FALSE if the link was reset
 * or freed meanwhile (that closes the socket). */
static gboolean
measurement_drain (DrBluezLink *link)
{
  g_autoptr (DrNotifySocket) socket = NULL;

  if (link->socket == NULL)
    return TRUE;
  socket = g_object_ref (link->socket);
  return dr_notify_socket_drain (socket);
}

/* ---- GATT state ---------------------------------------------------------- */

/* Forgets everything about the GATT database of the connection: the map,
 * the socket, every operation. Anything still in flight is cancelled and,
 * thanks to gen, ignored if it answers anyway. */
static void
reset_gatt (DrBluezLink *link)
{
  link->gen++;
  g_cancellable_cancel (link->cancellable);
  g_clear_object (&link->cancellable);
  link->cancellable = g_cancellable_new ();
  measurement_close (link);
  dr_gatt_queue_reset (link->queue);
  dr_gatt_map_clear (link->chars);
  link->measurement_path = link->control_path = link->status_path = NULL;
  for (guint i = 0; i < DIS_N; i++)
    g_clear_pointer (&link->dis[i], g_free);
}

static gboolean
rebuild_map (DrBluezLink *link, GError **error)
{
  GList *chars = dr_bluez_get_characteristics (link->bluez, link->device_path);
  gboolean complete = dr_gatt_map_rebuild (link->chars, chars, link->address, error);

  g_list_free (chars);
  link->measurement_path = dr_gatt_map_lookup (link->chars, DR_UUID_ROLL_MEASUREMENT);
  link->control_path = dr_gatt_map_lookup (link->chars, DR_UUID_CONTROL_POINT);
  link->status_path = dr_gatt_map_lookup (link->chars, DR_UUID_STATUS);
  g_debug ("%s: GATT map rebuilt: %u characteristics under %s", link->address,
           dr_gatt_map_size (link->chars), link->device_path);
  return complete;
}

/* ---- setup sequence -------------------------------------------------------- */

static void
setup_failed (DrBluezLink *link, const char *what, const GError *error)
{
  g_message ("%s: setup failed at %s: %s", link->address, what, error ? error->message : "?");
  /* Start the next attempt from scratch, not on a half set-up link. */
  device_disconnect (link);
  link_lost (link, "setup failed");
}

static void
emit_bad_value (DrBluezLink *link, const char *uuid, DrCodecStatus status)
{
  g_debug ("%s: %s does not decode: %s", link->address, uuid, dr_codec_status_name (status));
  g_signal_emit (link, signals[BAD_VALUE], 0, uuid, (int) status);
}

static void
on_head_info_read (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  DrHeadInfo head;
  DrCodecStatus status;
  gsize len;
  const guint8 *data;

  if (error != NULL)
    {
      setup_failed (link, "Head Info", error);
      return;
    }
  data = g_bytes_get_data (value, &len);
  status = dr_head_info_decode (data, len, &head);
  if (status != DR_CODEC_OK)
    emit_bad_value (link, DR_UUID_HEAD_INFO, status);
  else
    g_signal_emit (link, signals[HEAD_INFO], 0, &head);
}

static void
on_battery_read (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  guint8 percent;
  gsize len;
  const guint8 *data;
  DrCodecStatus status;

  /* Optional: a roller without the Battery Service still rolls. */
  if (error != NULL)
    return;
  data = g_bytes_get_data (value, &len);
  status = dr_battery_level_decode (data, len, &percent);
  if (status != DR_CODEC_OK)
    emit_bad_value (link, DR_UUID_BATTERY_LEVEL, status);
  else
    g_signal_emit (link, signals[BATTERY], 0, (guint) percent);
}

static void
on_dis_read (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  gsize len;
  const char *data;

  if (error != NULL)
    return;
  data = g_bytes_get_data (value, &len);
  /* Device Information strings are UTF-8, not NUL-terminated, sometimes
   * padded with NULs, no longer than an attribute can be; and the roller
   * is not to be trusted with UTF-8 or with the length. */
  len = dr_text_value_len ((const guint8 *) data, len);
  for (guint i = 0; i < DIS_N; i++)
    if (g_str_equal (dr_gatt_op_get_uuid (op), dis_uuids[i]))
      {
        g_free (link->dis[i]);
        link->dis[i] = g_utf8_make_valid (data ? data : "", (gssize) len);
      }
}

static void
step_device_info (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  g_signal_emit (link, signals[DEVICE_INFO], 0,
                 link->dis[DIS_MANUFACTURER] ? link->dis[DIS_MANUFACTURER] : "",
                 link->dis[DIS_MODEL] ? link->dis[DIS_MODEL] : "",
                 link->dis[DIS_SERIAL] ? link->dis[DIS_SERIAL] : "",
                 link->dis[DIS_FIRMWARE] ? link->dis[DIS_FIRMWARE] : "");
}

static void
on_control_subscribed (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  if (error != NULL)
    setup_failed (link, "Control Point StartNotify", error);
}

static void
on_status_subscribed (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  /* Status is read on every connect anyway; live updates are a bonus. */
  if (error != NULL)
    g_message ("%s: no Status notifications: %s", link->address, error->message);
}

static void
on_measurement_notify_started (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  if (error != NULL)
    setup_failed (link, "Roll Measurement StartNotify", error);
  else
    g_debug ("%s: Roll Measurement through StartNotify + PropertiesChanged", link->address);
}

static void
on_measurement_acquired (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  if (error == NULL)
    {
      guint mtu = 0;
      int fd = dr_gatt_op_steal_fd (op, &mtu);

      measurement_open (link, fd, mtu);
      return;
    }
  /* NotSupported, NotPermitted, Failed, UnknownMethod (an older
   * bluetoothd), ...: whatever the reason, StartNotify is the fallback,
   * and it goes first so frames flow before the history request. */
  if (dr_bluez_error_is (error, "org.bluez.Error.NotSupported")
      || g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
    g_debug ("%s: no AcquireNotify; StartNotify instead", link->address);
  else
    g_message ("%s: AcquireNotify failed (%s); falling back to StartNotify", link->address,
               error->message);
  measurement_subscribe (link);
  dr_gatt_queue_push (link->queue, DR_GATT_OP_START_NOTIFY, DR_UUID_ROLL_MEASUREMENT, TRUE,
                      on_measurement_notify_started, link);
}

static void
on_setup_history_done (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  /* Not fatal: the frames stay on the roller until acknowledged, and the
   * next connect asks again. A dead link shows in the next write. */
  if (error != NULL)
    g_message ("%s: history sync failed: %s", link->address, error->message);
  else
    g_debug ("%s: history synced", link->address);
}

static void
on_setup_control_done (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  if (error != NULL)
    setup_failed (link, dr_control_opcode_name (dr_gatt_op_get_opcode (op)), error);
}

static void
on_set_time_done (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  if (error != NULL)
    {
      setup_failed (link, "SET_TIME", error);
      return;
    }
  g_signal_emit (link, signals[CLOCK_SET], 0, link->set_time_ms);
}

static void step_streaming (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error);

/* SET_TIME, then the stream. The wall clock is what the roller is set to,
 * the one use of it on the link, but never behind the frames the roller
 * made already: after the wall clock went back, its history stays in
 * order (PROTOCOL.md, "Clocks"). */
static void
step_set_time (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  DrControlRequest request = { 0 };
  gint64 wall_ms = g_get_real_time () / 1000;

  link->set_time_ms = dr_roller_clock_set_time_value (wall_ms, link->clock_floor_ms);
  if (link->set_time_ms != wall_ms)
    g_message ("%s: the wall clock is %.3f s behind the roller's last frame; SET_TIME keeps the "
               "roller's clock after it",
               link->address, (double) (link->clock_floor_ms - wall_ms) / 1000.0);
  request.opcode = DR_OP_SET_TIME;
  request.arg.unix_ms = (guint64) link->set_time_ms;
  dr_gatt_queue_push_control (link->queue, &request, NULL, on_set_time_done, link);
  request.opcode = DR_OP_START_STREAM;
  request.arg.rate_hz = link->rate_hz;
  dr_gatt_queue_push_control (link->queue, &request, NULL, on_setup_control_done, link);
  dr_gatt_queue_push (link->queue, DR_GATT_OP_STEP, NULL, FALSE, step_streaming, link);
}

static void
step_streaming (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  set_phase (link, PHASE_STREAMING);
  link->backoff_ms = link->backoff_min_ms;
  g_debug ("%s: streaming (%s)", link->address,
           link->socket != NULL ? "AcquireNotify" : "StartNotify");
  pair_complete (link, NULL);
  set_state (link, DR_LINK_STREAMING);
}

/* Decodes a Status value and hands it on; FALSE (bad_value emitted) when
 * it does not decode. */
static gboolean
deliver_status (DrBluezLink *link, const guint8 *data, gsize len, DrStatus *status)
{
  DrCodecStatus codec = dr_status_decode (data, len, status);

  if (codec != DR_CODEC_OK)
    {
      emit_bad_value (link, DR_UUID_STATUS, codec);
      return FALSE;
    }
  g_signal_emit (link, signals[STATUS], 0, status);
  return TRUE;
}

static void
on_status_read (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  DrStatus status = { 0 };
  DrControlRequest request = { 0 };
  gsize len;
  const guint8 *data;
  guint gen = link->gen;

  if (error != NULL)
    {
      setup_failed (link, "Status", error);
      return;
    }
  data = g_bytes_get_data (value, &len);
  if (!deliver_status (link, data, len, &status))
    status.history_frames_pending = 0;
  if (link->disposed || gen != link->gen)
    return;

  /* History first, so that the engine sees the frames in time order; then
   * the clock, then the live stream. */
  if (status.history_frames_pending > 0)
    {
      g_debug ("%s: %u history frames pending", link->address, status.history_frames_pending);
      request.opcode = DR_OP_REQUEST_HISTORY;
      dr_gatt_queue_push_control (link->queue, &request, NULL, on_setup_history_done, link);
    }
  /* The clock once the history is in: its frames raise the floor. */
  dr_gatt_queue_push (link->queue, DR_GATT_OP_STEP, NULL, FALSE, step_set_time, link);
}

static void
begin_setup (DrBluezLink *link)
{
  g_autoptr (GError) error = NULL;

  g_clear_handle_id (&link->phase_timeout_id, g_source_remove);
  set_phase (link, PHASE_SETUP);
  /* Whatever a previous resolution left is stale by now. */
  reset_gatt (link);
  if (!rebuild_map (link, &error))
    {
      setup_failed (link, "GATT map", error);
      return;
    }

  dr_gatt_queue_push (link->queue, DR_GATT_OP_READ, DR_UUID_HEAD_INFO, FALSE, on_head_info_read,
                      link);
  if (dr_gatt_map_lookup (link->chars, DR_UUID_BATTERY_LEVEL) != NULL)
    dr_gatt_queue_push (link->queue, DR_GATT_OP_READ, DR_UUID_BATTERY_LEVEL, FALSE, on_battery_read,
                        link);
  for (guint i = 0; i < DIS_N; i++)
    if (dr_gatt_map_lookup (link->chars, dis_uuids[i]) != NULL)
      dr_gatt_queue_push (link->queue, DR_GATT_OP_READ, dis_uuids[i], FALSE, on_dis_read, link);
  dr_gatt_queue_push (link->queue, DR_GATT_OP_STEP, NULL, FALSE, step_device_info, link);
  dr_gatt_queue_push (link->queue, DR_GATT_OP_START_NOTIFY, DR_UUID_CONTROL_POINT, FALSE,
                      on_control_subscribed, link);
  dr_gatt_queue_push (link->queue, DR_GATT_OP_START_NOTIFY, DR_UUID_STATUS, FALSE,
                      on_status_subscribed, link);
  /* Tried even without NotifyAcquired (which BlueZ shows when it can):
   * one failed call costs little, and its answer is the one fallback path
   * (on_measurement_acquired) for every way AcquireNotify can be missing. */
  if (!dr_gatt_map_can_acquire (link->chars))
    g_debug ("%s: Roll Measurement shows no NotifyAcquired", link->address);
  dr_gatt_queue_push (link->queue, DR_GATT_OP_ACQUIRE_NOTIFY, DR_UUID_ROLL_MEASUREMENT, FALSE,
                      on_measurement_acquired, link);
  dr_gatt_queue_push (link->queue, DR_GATT_OP_READ, DR_UUID_STATUS, FALSE, on_status_read, link);
  dr_gatt_queue_kick (link->queue);
}

/* ---- control point and status values --------------------------------------- */

static void
on_control_value (DrBluezLink *link, const guint8 *data, gsize len)
{
  DrControlResponse response;
  DrCodecStatus status;

  if (!dr_control_parse_answer (data, len, &response, &status))
    return;
  if (status != DR_CODEC_OK)
    {
      emit_bad_value (link, DR_UUID_CONTROL_POINT, status);
      return;
    }
  /* History frames written to the socket before this answer are read
   * first: the answer means "that was all". */
  if (!measurement_drain (link))
    return;
  if (!dr_gatt_queue_control_answer (link->queue, response.request_opcode, response.result))
    g_debug ("%s: unsolicited answer to opcode 0x%02x", link->address, response.request_opcode);
}

static void
on_status_value (DrBluezLink *link, const guint8 *data, gsize len)
{
  DrStatus status;

  deliver_status (link, data, len, &status);
}

/* ---- connection ------------------------------------------------------------ */

static gboolean
on_reconnect_timer (gpointer user_data)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);

  link->reconnect_id = 0;
  link_try_connect (link);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (DrBluezLink *link)
{
  guint delay;

  if (!want_connection (link) || link->phase != PHASE_IDLE || link->reconnect_id != 0)
    return;
  delay = (guint) (link->backoff_ms
                   * g_random_double_range (1.0 - BACKOFF_JITTER, 1.0 + BACKOFF_JITTER));
  link->backoff_ms = MIN (link->backoff_ms * 2, BACKOFF_MAX_MS);
  g_debug ("%s: reconnecting in %u ms", link->address, delay);
  link->reconnect_id = g_timeout_add (delay, on_reconnect_timer, link);
}

/* Tries from the main loop rather than inside a public call, so that
 * callbacks never run from within dr_bluez_link_*(). */
static void
schedule_attempt_now (DrBluezLink *link)
{
  if (link->phase != PHASE_IDLE)
    return;
  g_clear_handle_id (&link->reconnect_id, g_source_remove);
  link->reconnect_id = g_idle_add (on_reconnect_timer, link);
}

static void
pair_complete (DrBluezLink *link, GError *error)
{
  GTask *task = g_steal_pointer (&link->pair_task);

  dr_bluez_set_pairing (link->bluez, link->address, FALSE);
  g_clear_handle_id (&link->pair_timeout_id, g_source_remove);
  if (link->pair_cancel_source)
    {
      g_source_destroy (link->pair_cancel_source);
      g_clear_pointer (&link->pair_cancel_source, g_source_unref);
    }
  if (task == NULL)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    g_message ("%s: pairing failed: %s", link->address, error->message);
  dr_task_return_later (task, error);
}

/* Pairing failed for good: give up the attempt unless the link reconnects
 * anyway. */
static void
pair_failed (DrBluezLink *link, GError *error)
{
  pair_complete (link, error);
  if (!want_connection (link))
    link_lost (link, "pairing failed");
}

static void
link_lost (DrBluezLink *link, const char *reason)
{
  LINK_HOLD (link);

  if (link->phase == PHASE_IDLE)
    return;
  g_debug ("%s: link lost in %s: %s", link->address, phase_names[link->phase], reason);
  /* Finish the frames in hand before letting go of the socket. */
  if (!measurement_drain (link) && (link->disposed || link->phase == PHASE_IDLE))
    return;
  release_discovery (link);
  g_clear_handle_id (&link->phase_timeout_id, g_source_remove);
  reset_gatt (link);
  g_clear_pointer (&link->device_path, g_free);
  set_phase (link, PHASE_IDLE);
  set_state (link, DR_LINK_DISCONNECTED);
  if (link->disposed)
    return;
  schedule_reconnect (link);
}

static gboolean on_resolve_timeout (gpointer user_data);

/* Connected, waiting for ServicesResolved: not for ever. */
static void
await_resolution (DrBluezLink *link)
{
  set_phase (link, PHASE_RESOLVING);
  g_clear_handle_id (&link->phase_timeout_id, g_source_remove);
  link->phase_timeout_id = g_timeout_add_seconds (RESOLVE_TIMEOUT_S, on_resolve_timeout, link);
}

/* ServicesResolved went false (or a characteristic vanished) while still
 * connected: BlueZ is resolving again. Everything GATT is stale. */
static void
services_lost (DrBluezLink *link, const char *reason)
{
  LINK_HOLD (link);

  g_debug ("%s: services lost (%s)", link->address, reason);
  if (!measurement_drain (link) && (link->disposed || link->phase < PHASE_SETUP))
    return;
  reset_gatt (link);
  await_resolution (link);
  set_state (link, DR_LINK_CONNECTING);
}

static gboolean
on_resolve_timeout (gpointer user_data)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);

  link->phase_timeout_id = 0;
  g_message ("%s: services not resolved within %d s", link->address, RESOLVE_TIMEOUT_S);
  device_disconnect (link);
  link_lost (link, "ServicesResolved timeout");
  return G_SOURCE_REMOVE;
}

static void
connected (DrBluezLink *link)
{
  set_phase (link, PHASE_RESOLVING);
  if (device_cached_boolean (link, link->device_path, "ServicesResolved"))
    begin_setup (link);
  else
    await_resolution (link);
}

static void
on_connect_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  DrBluezLink *link = user_data;

  if (!device_call_finish (source, result, &error))
    return;
  LINK_HOLD (link);

  if (error != NULL && !dr_bluez_error_is (error, "org.bluez.Error.AlreadyConnected"))
    {
      /* InProgress, NotReady, Failed (le-connection-abort-by-local among
       * others), NotConnected, a timeout: all worth another try later. */
      g_message ("%s: Connect failed: %s", link->address, error->message);
      link_lost (link, "Connect failed");
      return;
    }
  g_debug ("%s: connected", link->address);
  connected (link);
}

static void
do_connect (DrBluezLink *link)
{
  set_phase (link, PHASE_CONNECTING);
  device_call (link, "Connect", NULL, CONNECT_CALL_TIMEOUT_MS, on_connect_done);
}

static void
on_trusted_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  DrBluezLink *link = user_data;

  if (!device_call_finish (source, result, &error))
    return;
  /* Without Trusted, bluetoothd does not reconnect on its own; we still do. */
  if (error != NULL)
    g_message ("%s: setting Trusted failed: %s", link->address, error->message);
  do_connect (link);
}

static void
on_pair_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  DrBluezLink *link = user_data;

  if (!device_call_finish (source, result, &error))
    return;
  LINK_HOLD (link);

  if (error != NULL && !dr_bluez_error_is (error, "org.bluez.Error.AlreadyExists"))
    {
      if (dr_bluez_error_is (error, "org.bluez.Error.AuthenticationFailed")
          || dr_bluez_error_is (error, "org.bluez.Error.AuthenticationRejected")
          || dr_bluez_error_is (error, "org.bluez.Error.AuthenticationCanceled")
          || dr_bluez_error_is (error, "org.bluez.Error.InvalidArguments"))
        {
          pair_failed (link, dbus_error_to_dr (DR_ERROR_REFUSED, "Pairing refused", error));
          return;
        }
      /* Failed (le-connection-abort-by-local), InProgress, NotReady,
       * ConnectionAttemptFailed, AuthenticationTimeout: try again. */
      g_message ("%s: Pair failed, will retry: %s", link->address, error->message);
      link_lost (link, "Pair failed");
      return;
    }
  g_debug ("%s: paired%s", link->address, error ? " already" : "");
  set_phase (link, PHASE_TRUSTING);
  g_dbus_connection_call (
      dr_bluez_get_connection (link->bluez), BLUEZ_BUS_NAME, link->device_path,
      "org.freedesktop.DBus.Properties", "Set",
      g_variant_new ("(ssv)", DEVICE_IFACE, "Trusted", g_variant_new_boolean (TRUE)), NULL,
      G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, link->cancellable, on_trusted_done, link);
}

static void
start_attempt (DrBluezLink *link, GDBusObject *device)
{
  g_clear_handle_id (&link->reconnect_id, g_source_remove);
  g_clear_handle_id (&link->phase_timeout_id, g_source_remove);
  /* Scanning while connecting is a known cause of
   * le-connection-abort-by-local. */
  release_discovery (link);
  g_free (link->device_path);
  link->device_path = g_strdup (g_dbus_object_get_object_path (device));
  g_debug ("%s: attempt on %s", link->address, link->device_path);

  if (link->pair_task != NULL)
    {
      set_phase (link, PHASE_PAIRING);
      device_call (link, "Pair", NULL, PAIR_CALL_TIMEOUT_MS, on_pair_done);
    }
  else
    do_connect (link);
  set_state (link, DR_LINK_CONNECTING);
}

static gboolean
on_discovery_timeout (gpointer user_data)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);

  link->phase_timeout_id = 0;
  if (!dr_bluez_is_available (link->bluez))
    pair_complete (link, g_error_new (DR_ERROR, DR_ERROR_NOT_FOUND,
                                      "No powered Bluetooth adapter (is bluetoothd running?)"));
  else
    pair_complete (link, g_error_new (DR_ERROR, DR_ERROR_NOT_FOUND,
                                      "Roller %s not found within %u s (is it on and in range?)",
                                      link->address, link->discovery_timeout_s));
  link_lost (link, "not found");
  return G_SOURCE_REMOVE;
}

/* Pair can go out: bluetoothd and an adapter are there, and so is our
 * agent (a Pair sent before RegisterAgent finds none). */
static gboolean
pair_can_start (DrBluezLink *link)
{
  return dr_bluez_is_available (link->bluez) && !dr_bluez_agent_pending (link->bluez);
}

/* In DISCOVERING: something changed that may let the pairing go on. */
static void
discovering_check (DrBluezLink *link)
{
  g_autoptr (GDBusObject) device = NULL;

  if (link->phase != PHASE_DISCOVERING || !pair_can_start (link))
    return;
  device = dr_bluez_find_device (link->bluez, link->address);
  if (device != NULL)
    start_attempt (link, device);
}

static void
start_discovering (DrBluezLink *link)
{
  g_debug ("%s: waiting for the roller, bluetoothd or the agent: discovering", link->address);
  set_phase (link, PHASE_DISCOVERING);
  dr_bluez_hold_discovery (link->bluez);
  link->discovery_held = TRUE;
  link->phase_timeout_id
      = g_timeout_add_seconds (link->discovery_timeout_s, on_discovery_timeout, link);
  set_state (link, DR_LINK_CONNECTING);
}

static void
link_try_connect (DrBluezLink *link)
{
  g_autoptr (GDBusObject) device = NULL;

  if (link->phase != PHASE_IDLE || !want_connection (link))
    return;
  g_clear_handle_id (&link->reconnect_id, g_source_remove);
  /* A pairing waits (the discovery time at most) for what it lacks;
   * discovering_check goes on when it comes. */
  if (link->pair_task != NULL)
    {
      if (pair_can_start (link) && (device = dr_bluez_find_device (link->bluez, link->address)))
        start_attempt (link, device);
      else
        start_discovering (link);
      return;
    }
  if (!dr_bluez_is_available (link->bluez))
    {
      /* No polling: available_changed brings us back. */
      g_debug ("%s: waiting for bluetoothd and a powered adapter", link->address);
      return;
    }
  device = dr_bluez_find_device (link->bluez, link->address);
  if (device == NULL)
    {
      g_debug ("%s: not known to bluetoothd; waiting for it to appear", link->address);
      return;
    }
  start_attempt (link, device);
}

/* bluetoothd (re)connected the device on its own (a trusted device that
 * advertises), or a flap outran our loss handling: take it as it is. */
static void
adopt (DrBluezLink *link, const char *path)
{
  g_debug ("%s: adopting the connection of %s", link->address, path);
  g_clear_handle_id (&link->reconnect_id, g_source_remove);
  g_free (link->device_path);
  link->device_path = g_strdup (path);
  set_phase (link, PHASE_RESOLVING);
  set_state (link, DR_LINK_CONNECTING);
  if (link->disposed || link->phase != PHASE_RESOLVING)
    return;
  begin_setup (link);
}

/* Something appeared (a device, bluetoothd, an adapter) that a link
 * waiting for it can go on with. */
static void
waiting_check (DrBluezLink *link)
{
  if (link->phase == PHASE_DISCOVERING)
    discovering_check (link);
  else if (link->phase == PHASE_IDLE && link->reconnect_id == 0)
    link_try_connect (link);
}

/* ---- events from DrBluez ------------------------------------------------------ */

static void
on_device_event (DrBluez *bluez, const char *path, GDBusProxy *device, GVariant *changed,
                 gpointer user_data)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  gboolean ours = link->device_path != NULL && g_str_equal (path, link->device_path);
  gboolean value;

  if (device == NULL)
    {
      if (ours && link->phase > PHASE_DISCOVERING)
        link_lost (link, "device removed");
      return;
    }

  if (changed == NULL)
    {
      waiting_check (link);
      return;
    }

  if (!ours)
    {
      if (link->phase == PHASE_IDLE && want_connection (link)
          && (g_variant_lookup (changed, "Connected", "b", &value)
              || g_variant_lookup (changed, "ServicesResolved", "b", &value))
          && device_cached_boolean (link, path, "Connected")
          && device_cached_boolean (link, path, "ServicesResolved"))
        adopt (link, path);
      return;
    }

  if (g_variant_lookup (changed, "Connected", "b", &value) && !value
      && link->phase >= PHASE_RESOLVING)
    {
      link_lost (link, "Connected false");
      return;
    }
  if (g_variant_lookup (changed, "ServicesResolved", "b", &value))
    {
      if (value && link->phase == PHASE_RESOLVING)
        begin_setup (link);
      else if (!value && link->phase >= PHASE_SETUP)
        services_lost (link, "ServicesResolved false");
    }
}

static void
on_value_changed (DrBluez *bluez, const char *path, gconstpointer data, guint len,
                  gpointer user_data)
{
  DrBluezLink *link = user_data;

  if (link->phase != PHASE_SETUP && link->phase != PHASE_STREAMING)
    return;
  LINK_HOLD (link);
  if (link->measurement_path && g_str_equal (path, link->measurement_path))
    {
      /* With an acquired socket, Value does not carry notifications;
       * under StartNotify on_measurement_properties_changed takes them. */
      if (link->socket == NULL && link->measurement_sub == 0)
        deliver_frame (link, data, len);
    }
  else if (link->control_path && g_str_equal (path, link->control_path))
    on_control_value (link, data, len);
  else if (link->status_path && g_str_equal (path, link->status_path))
    on_status_value (link, data, len);
}

static void
on_characteristic_removed (DrBluez *bluez, const char *path, gpointer user_data)
{
  DrBluezLink *link = user_data;

  if (link->phase != PHASE_SETUP && link->phase != PHASE_STREAMING)
    return;
  if (dr_gatt_map_has_path (link->chars, path))
    services_lost (link, "characteristic removed");
}

static void
on_available_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);

  if (!dr_bluez_is_available (link->bluez))
    {
      if (link->phase > PHASE_DISCOVERING)
        link_lost (link, "bluetoothd or its adapter went away");
    }
  else
    waiting_check (link);
}

static void
on_resumed (DrBluez *bluez, gpointer user_data)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);

  /* A fresh start: whatever the backoff had grown to is about the time
   * before the suspend. */
  link->backoff_ms = link->backoff_min_ms;
  if (link->phase > PHASE_DISCOVERING)
    {
      /* bluetoothd may not have noticed yet: make sure the next Connect
       * starts a fresh connection rather than reusing a dead one. */
      device_disconnect (link);
      link_lost (link, "resumed from suspend");
    }
  else if (link->phase == PHASE_IDLE && link->reconnect_id != 0)
    {
      g_clear_handle_id (&link->reconnect_id, g_source_remove);
      schedule_reconnect (link);
    }
}

static void
on_agent_ready (DrBluez *bluez, gpointer user_data)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);

  discovering_check (link);
}

/* ---- GObject ----------------------------------------------------------------- */

static void
dr_bluez_link_constructed (GObject *object)
{
  DrBluezLink *link = DR_BLUEZ_LINK (object);
  g_autofree char *detailed = NULL;

  G_OBJECT_CLASS (dr_bluez_link_parent_class)->constructed (object);
  g_return_if_fail (DR_IS_BLUEZ (link->bluez));
  g_return_if_fail (dr_bluez_address_is_valid (link->address));

  link->queue = dr_gatt_queue_new (link->bluez, link->chars, link->address);
  detailed = g_strconcat ("device-event::", link->address, NULL);
  g_signal_connect (link->bluez, detailed, G_CALLBACK (on_device_event), link);
  g_signal_connect (link->bluez, "agent-ready", G_CALLBACK (on_agent_ready), link);
  g_signal_connect (link->bluez, "value-changed", G_CALLBACK (on_value_changed), link);
  g_signal_connect (link->bluez, "characteristic-removed", G_CALLBACK (on_characteristic_removed),
                    link);
  g_signal_connect (link->bluez, "notify::available", G_CALLBACK (on_available_changed), link);
  g_signal_connect (link->bluez, "resumed", G_CALLBACK (on_resumed), link);
}

static void
dr_bluez_link_dispose (GObject *object)
{
  DrBluezLink *link = DR_BLUEZ_LINK (object);

  if (!link->disposed)
    {
      g_debug ("%s: disposed in %s", link->address, phase_names[link->phase]);
      link->disposed = TRUE;
      link->auto_connect = FALSE;
      if (link->bluez != NULL)
        g_signal_handlers_disconnect_by_data (link->bluez, link);
      g_clear_handle_id (&link->reconnect_id, g_source_remove);
      g_clear_handle_id (&link->phase_timeout_id, g_source_remove);
      g_clear_handle_id (&link->teardown_id, g_source_remove);
      release_discovery (link);
      dr_gatt_queue_set_running (link->queue, FALSE);
      reset_gatt (link);
      g_cancellable_cancel (link->cancellable);
      /* Unreachable in practice (the task holds a reference on us), but
       * g_object_run_dispose() may get here. */
      if (link->pair_task != NULL)
        pair_complete (link, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Roller link closed"));
    }
  G_OBJECT_CLASS (dr_bluez_link_parent_class)->dispose (object);
}

static void
dr_bluez_link_finalize (GObject *object)
{
  DrBluezLink *link = DR_BLUEZ_LINK (object);

  g_clear_object (&link->cancellable);
  g_clear_object (&link->queue);
  g_clear_pointer (&link->chars, dr_gatt_map_free);
  g_free (link->device_path);
  g_free (link->address);
  g_clear_object (&link->bluez);
  G_OBJECT_CLASS (dr_bluez_link_parent_class)->finalize (object);
}

static void
dr_bluez_link_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DrBluezLink *link = DR_BLUEZ_LINK (object);

  switch (prop_id)
    {
      case PROP_BLUEZ:
        g_value_set_object (value, link->bluez);
        break;
      case PROP_ADDRESS:
        g_value_set_string (value, link->address);
        break;
      case PROP_PAIR_TIMEOUT:
        g_value_set_uint (value, link->pair_timeout_s);
        break;
      case PROP_DISCOVERY_TIMEOUT:
        g_value_set_uint (value, link->discovery_timeout_s);
        break;
      case PROP_PHASE:
        g_value_set_string (value, phase_names[link->phase]);
        break;
      case PROP_BACKOFF_MIN:
        g_value_set_uint (value, link->backoff_min_ms);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_bluez_link_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  DrBluezLink *link = DR_BLUEZ_LINK (object);

  switch (prop_id)
    {
      case PROP_BLUEZ:
        link->bluez = g_value_dup_object (value);
        break;
      case PROP_ADDRESS:
        link->address = g_value_dup_string (value);
        break;
      case PROP_PAIR_TIMEOUT:
        link->pair_timeout_s = g_value_get_uint (value);
        break;
      case PROP_DISCOVERY_TIMEOUT:
        link->discovery_timeout_s = g_value_get_uint (value);
        break;
      case PROP_BACKOFF_MIN:
        link->backoff_min_ms = g_value_get_uint (value);
        link->backoff_ms = link->backoff_min_ms;
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
dr_bluez_link_init (DrBluezLink *link)
{
  link->phase = PHASE_IDLE;
  link->state = DR_LINK_DISCONNECTED;
  link->rate_hz = DEFAULT_RATE_HZ;
  link->clock_floor_ms = G_MININT64;
  link->backoff_ms = BACKOFF_MIN_MS;
  link->backoff_min_ms = BACKOFF_MIN_MS;
  link->cancellable = g_cancellable_new ();
  link->chars = dr_gatt_map_new ();
}

static void
dr_bluez_link_class_init (DrBluezLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GType type = G_TYPE_FROM_CLASS (klass);

  object_class->constructed = dr_bluez_link_constructed;
  object_class->dispose = dr_bluez_link_dispose;
  object_class->finalize = dr_bluez_link_finalize;
  object_class->get_property = dr_bluez_link_get_property;
  object_class->set_property = dr_bluez_link_set_property;

  props[PROP_BLUEZ]
      = g_param_spec_object ("bluez", NULL, NULL, DR_TYPE_BLUEZ,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_ADDRESS]
      = g_param_spec_string ("address", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* The whole of Pair, in seconds: discovery, pairing, connecting and
   * setting up. Tests make it short. */
  props[PROP_PAIR_TIMEOUT]
      = g_param_spec_uint ("pair-timeout", NULL, NULL, 1, 3600, PAIR_TIMEOUT_S,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* How long a Pair waits for bluetoothd to find a roller it does not
   * know yet, in seconds. */
  props[PROP_DISCOVERY_TIMEOUT]
      = g_param_spec_uint ("discovery-timeout", NULL, NULL, 1, 3600, PAIR_DISCOVERY_TIMEOUT_S,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* Where the link is, finer than "state": "idle", "discovering",
   * "pairing", "trusting", "connecting", "resolving", "setup",
   * "streaming". Notified on every change (a pairing's progress). */
  /* The reconnect backoff's first step in ms (1 s); tests shorten it to
   * drop the link a hundred times in a run. */
  props[PROP_BACKOFF_MIN]
      = g_param_spec_uint ("backoff-min-ms", NULL, NULL, 1, BACKOFF_MAX_MS, BACKOFF_MIN_MS,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  props[PROP_PHASE] = g_param_spec_string ("phase", NULL, NULL, "idle",
                                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[STATE_CHANGED] = g_signal_new ("state-changed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                         NULL, G_TYPE_NONE, 1, DR_TYPE_LINK_STATE);
  signals[FRAME] = g_signal_new ("frame", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                 2, G_TYPE_POINTER, G_TYPE_UINT);
  signals[HEAD_INFO] = g_signal_new ("head-info", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                     G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[STATUS] = g_signal_new ("status", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[BATTERY] = g_signal_new ("battery", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[DEVICE_INFO]
      = g_signal_new ("device-info", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                      G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
  signals[BAD_VALUE] = g_signal_new ("bad-value", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                     G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_INT);
  signals[CLOCK_SET] = g_signal_new ("clock-set", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                     G_TYPE_NONE, 1, G_TYPE_INT64);
}

/* ---- public ------------------------------------------------------------------- */

DrBluezLink *
dr_bluez_link_new (DrBluez *bluez, const char *address)
{
  g_return_val_if_fail (DR_IS_BLUEZ (bluez), NULL);
  g_return_val_if_fail (dr_bluez_address_is_valid (address), NULL);

  return g_object_new (DR_TYPE_BLUEZ_LINK, "bluez", bluez, "address", address, NULL);
}

const char *
dr_bluez_link_get_address (DrBluezLink *link)
{
  return link->address;
}

DrLinkState
dr_bluez_link_get_state (DrBluezLink *link)
{
  return link->state;
}

gboolean
dr_bluez_link_get_notify_acquired (DrBluezLink *link)
{
  return link->socket != NULL;
}

void
dr_bluez_link_set_auto_connect (DrBluezLink *link, gboolean auto_connect)
{
  auto_connect = !!auto_connect;
  if (link->auto_connect == auto_connect)
    return;
  link->auto_connect = auto_connect;
  g_debug ("%s: auto-connect %s", link->address, auto_connect ? "on" : "off");
  if (auto_connect)
    {
      link->backoff_ms = link->backoff_min_ms;
      if (link->phase == PHASE_IDLE)
        schedule_attempt_now (link);
    }
  else if (link->pair_task == NULL)
    /* The connection in hand stays; only reconnecting stops. */
    g_clear_handle_id (&link->reconnect_id, g_source_remove);
}

void
dr_bluez_link_set_clock_floor (DrBluezLink *link, gint64 floor_ms)
{
  g_return_if_fail (DR_IS_BLUEZ_LINK (link));
  link->clock_floor_ms = MAX (link->clock_floor_ms, floor_ms);
}

void
dr_bluez_link_set_held (DrBluezLink *link, gboolean held)
{
  g_return_if_fail (DR_IS_BLUEZ_LINK (link));
  link->held = held;
  if (link->socket != NULL)
    dr_notify_socket_set_paused (link->socket, held);
}

void
dr_bluez_link_set_stream_rate (DrBluezLink *link, guint8 rate_hz)
{
  g_return_if_fail (rate_hz > 0);
  if (link->rate_hz == rate_hz)
    return;
  link->rate_hz = rate_hz;
  if (link->phase == PHASE_STREAMING)
    {
      DrControlRequest request = { .opcode = DR_OP_START_STREAM, .arg.rate_hz = rate_hz };
      dr_gatt_queue_push_control (link->queue, &request, NULL, NULL, NULL);
      dr_gatt_queue_kick (link->queue);
    }
}

static gboolean
on_pair_timeout (gpointer user_data)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);

  link->pair_timeout_id = 0;
  pair_failed (link, g_error_new (DR_ERROR, DR_ERROR_TIMED_OUT, "Pairing %s timed out after %d s",
                                  link->address, link->pair_timeout_s));
  return G_SOURCE_REMOVE;
}

static gboolean
on_pair_cancelled (GCancellable *cancellable, gpointer user_data)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);

  pair_failed (
      link, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Pairing %s cancelled", link->address));
  return G_SOURCE_REMOVE;
}

void
dr_bluez_link_pair (DrBluezLink *link, GCancellable *cancellable, GAsyncReadyCallback callback,
                    gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (link, cancellable, callback, user_data);

  g_task_set_source_tag (task, dr_bluez_link_pair);
  if (link->pair_task != NULL)
    {
      dr_task_return_later (
          g_steal_pointer (&task),
          g_error_new (DR_ERROR, DR_ERROR_IN_PROGRESS, "Already pairing %s", link->address));
      return;
    }
  if (link->phase == PHASE_STREAMING)
    {
      dr_task_return_later (g_steal_pointer (&task), NULL);
      return;
    }
  /* Right after start-up DrBluez may not know yet: then the attempt
   * waits for it, like for a roller not seen yet. */
  if (dr_bluez_is_ready (link->bluez) && !dr_bluez_is_available (link->bluez))
    {
      dr_task_return_later (g_steal_pointer (&task),
                            g_error_new (DR_ERROR, DR_ERROR_NOT_FOUND,
                                         "No powered Bluetooth adapter (is bluetoothd running?)"));
      return;
    }

  g_debug ("%s: pair", link->address);
  link->pair_task = g_steal_pointer (&task);
  dr_bluez_set_pairing (link->bluez, link->address, TRUE);
  link->backoff_ms = link->backoff_min_ms;
  link->pair_timeout_id = g_timeout_add_seconds (link->pair_timeout_s, on_pair_timeout, link);
  if (cancellable != NULL)
    {
      link->pair_cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (link->pair_cancel_source, G_SOURCE_FUNC (on_pair_cancelled), link,
                             NULL);
      g_source_attach (link->pair_cancel_source, NULL);
    }
  /* An attempt under way completes the pair when it streams. */
  if (link->phase == PHASE_IDLE)
    schedule_attempt_now (link);
}

gboolean
dr_bluez_link_pair_finish (DrBluezLink *link, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, link), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct
{
  GDBusConnection *connection;
  guint pending;
  GError *error;
} ForgetData;

static void
forget_data_free (ForgetData *data)
{
  g_clear_object (&data->connection);
  g_clear_error (&data->error);
  g_free (data);
}

static void
forget_account (GTask *task)
{
  ForgetData *data = g_task_get_task_data (task);

  if (--data->pending > 0)
    return;
  if (data->error)
    g_task_return_error (task, g_steal_pointer (&data->error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_remove_device_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ForgetData *data = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  /* Gone already (DoesNotExist, an adapter that left) is what we wanted. */
  if (error != NULL && data->error == NULL
      && !dr_bluez_error_is (error, "org.bluez.Error.DoesNotExist")
      && !dr_bluez_error_is (error, "org.freedesktop.DBus.Error.UnknownObject"))
    data->error = dbus_error_to_dr (DR_ERROR_FAILED, "Removing the device failed", error);
  forget_account (task);
}

static gboolean
on_forget_teardown (gpointer user_data)
{
  DrBluezLink *link = user_data;

  link->teardown_id = 0;
  if (!link->auto_connect && link->pair_task == NULL)
    link_lost (link, "forgotten");
  return G_SOURCE_REMOVE;
}

void
dr_bluez_link_forget (DrBluezLink *link, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (link, cancellable, callback, user_data);
  ForgetData *data = g_new0 (ForgetData, 1);
  GList *devices;

  g_task_set_source_tag (task, dr_bluez_link_forget);
  data->connection = g_object_ref (dr_bluez_get_connection (link->bluez));
  data->pending = 1;
  g_task_set_task_data (task, data, (GDestroyNotify) forget_data_free);

  g_debug ("%s: forget", link->address);
  link->auto_connect = FALSE;
  g_clear_handle_id (&link->reconnect_id, g_source_remove);
  if (link->pair_task != NULL)
    pair_complete (
        link, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Roller %s forgotten", link->address));
  /* From the main loop, so that no callback runs inside this call. */
  if (link->teardown_id == 0)
    link->teardown_id = g_idle_add (on_forget_teardown, link);

  /* RemoveDevice disconnects too, and drops the bond, on every adapter
   * that knows the roller. */
  devices = dr_bluez_find_devices (link->bluez, link->address);
  for (GList *l = devices; l != NULL; l = l->next)
    {
      g_autoptr (GDBusProxy) adapter = dr_bluez_get_adapter_for_device (link->bluez, l->data);
      const char *device_path = g_dbus_object_get_object_path (l->data);

      if (adapter == NULL)
        continue;
      g_debug ("%s: RemoveDevice %s", link->address, device_path);
      data->pending++;
      g_dbus_connection_call (
          data->connection, BLUEZ_BUS_NAME, g_dbus_proxy_get_object_path (adapter), ADAPTER_IFACE,
          "RemoveDevice", g_variant_new ("(o)", device_path), NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START,
          -1, cancellable, on_remove_device_done, g_object_ref (task));
    }
  g_list_free_full (devices, g_object_unref);
  forget_account (task);
}

gboolean
dr_bluez_link_is_pairing (DrBluezLink *link)
{
  g_return_val_if_fail (DR_IS_BLUEZ_LINK (link), FALSE);
  return link->pair_task != NULL;
}

gboolean
dr_bluez_link_forget_finish (DrBluezLink *link, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, link), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
dr_bluez_link_sync_history (DrBluezLink *link, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (link, cancellable, callback, user_data);
  DrControlRequest request = { .opcode = DR_OP_REQUEST_HISTORY };

  g_task_set_source_tag (task, dr_bluez_link_sync_history);
  if (link->phase != PHASE_STREAMING)
    {
      dr_task_return_later (g_steal_pointer (&task),
                            g_error_new (DR_ERROR, DR_ERROR_NOT_CONNECTED,
                                         "Roller %s is not connected", link->address));
      return;
    }
  if (dr_gatt_queue_history_busy (link->queue))
    {
      dr_task_return_later (g_steal_pointer (&task),
                            g_error_new (DR_ERROR, DR_ERROR_IN_PROGRESS,
                                         "Roller %s is already sending its history",
                                         link->address));
      return;
    }
  dr_gatt_queue_push_control (link->queue, &request, g_steal_pointer (&task), NULL, NULL);
  dr_gatt_queue_kick (link->queue);
}

gboolean
dr_bluez_link_sync_history_finish (DrBluezLink *link, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, link), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_ack_done (gpointer user_data, DrGattOp *op, GBytes *value, const GError *error)
{
  DrBluezLink *link = user_data;
  LINK_HOLD (link);
  /* The frames stay on the roller and come again as history: the store
   * recognises them, so a lost ACK costs only bandwidth. */
  if (error != NULL)
    g_message ("%s: ACK failed: %s", link->address, error->message);
}

void
dr_bluez_link_ack (DrBluezLink *link, guint16 last_seq)
{
  if (link->phase != PHASE_STREAMING)
    {
      g_debug ("%s: ACK %u ignored: not streaming", link->address, last_seq);
      return;
    }
  dr_gatt_queue_ack (link->queue, last_seq, on_ack_done, link);
  dr_gatt_queue_kick (link->queue);
}
