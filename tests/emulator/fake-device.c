/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fake-device.c: one roller as bluetoothd shows it (fake-device.h): the
 * Device1 object and its link, the GATT objects and their operations, and
 * the transport that puts what the RollerFirmware says on air. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib-unix.h>

#include "fake-device.h"
#include "options.h"

#define CCCD_UUID "00002902-0000-1000-8000-00805f9b34fb"
/* Status notifications are rate-limited like a real firmware would. */
#define STATUS_MIN_INTERVAL_US (250 * G_TIME_SPAN_MILLISECOND)
/* At --rate 0: frames produced per wake-up before going back to the main
 * loop, so D-Bus calls are still served while the socket takes everything. */
#define RATE0_FD_BATCH 256
#define RATE0_SIGNAL_BATCH 64
/* Handles of the second GATT database after a service flap start here. */
#define GATT_GENERATION_STRIDE 0x20

static void roller_pump (Roller *r);
static void roller_status_changed (Roller *r);

gint16
roller_rssi (Roller *r)
{
  return (gint16) (-48 - 3 * (int) r->index);
}

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

/* ---- values the roller serves ------------------------------------------ */
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
        return roller_firmware_encode_head_info (r->fw);
      case CH_STATUS:
        roller_firmware_encode_status (r->fw, buf);
        len = DR_STATUS_LEN;
        break;
      case CH_BATTERY:
        buf[0] = roller_firmware_get_battery (r->fw);
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

void
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

  service_data[1]
      = roller_firmware_is_rolling (r->fw) ? DR_ROLLER_STATE_ROLLING : DR_ROLLER_STATE_IDLE;
  service_data[2] = roller_firmware_get_battery (r->fw);
  g_variant_builder_init (&sd, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&sd, "{sv}", DR_UUID_ROLLER_SERVICE,
                         bytes_variant (service_data, sizeof service_data));
  iface_set (d, "ServiceData", g_variant_builder_end (&sd));
  /* 0xFFFF is the company identifier reserved for tests; the payload is
   * the needle head serial. */
  mfr_data[0] = (guint8) roller_firmware_get_head_id (r->fw);
  mfr_data[1] = (guint8) (roller_firmware_get_head_id (r->fw) >> 8);
  mfr_data[2] = (guint8) (roller_firmware_get_head_id (r->fw) >> 16);
  mfr_data[3] = (guint8) (roller_firmware_get_head_id (r->fw) >> 24);
  g_variant_builder_init (&md, G_VARIANT_TYPE ("a{qv}"));
  g_variant_builder_add (&md, "{qv}", (guint16) 0xFFFF, bytes_variant (mfr_data, sizeof mfr_data));
  iface_set (d, "ManufacturerData", g_variant_builder_end (&md));

  /* bluetoothd's battery plugin also publishes the level here. */
  r->battery1_iface = obj_add_iface (obj, "org.bluez.Battery1");
  iface_set (r->battery1_iface, "Percentage",
             g_variant_new_byte (roller_firmware_get_battery (r->fw)));
  obj_export (obj);
}

void
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
      roller_firmware_link_up (r->fw);
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
  roller_firmware_replay_finished (r->fw, FALSE);
}

void
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

gboolean
roller_notifying (Roller *r, int ch)
{
  return r->chars[ch].notify_senders->len > 0;
}

/* Removes the GATT objects, as on disconnection or a service change: every
 * notify session ends, the acquired fd is closed. */
void
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

void
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

void
roller_schedule_resolve (Roller *r)
{
  if (!r->resolved && r->resolve_timer == 0)
    r->resolve_timer = g_timeout_add (opt.resolve_delay_ms, resolve_done_cb, r);
}

/* The link is gone (disconnect, radio loss, adapter off, bluetoothd gone):
 * ServicesResolved false, GATT objects removed, Connected false. The roller
 * itself carries on: a streaming roller keeps filling its memory until the
 * next connection, which starts idle (roller_set_connected). */
void
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
  if (fake_failure_take (&r->fail_connect, &inv))
    return G_SOURCE_REMOVE;
  roller_set_connected (r, TRUE);
  /* Connect returns before service discovery is done: clients must wait
   * for ServicesResolved, as with a real device seen for the first time. */
  g_dbus_method_invocation_return_value (g_steal_pointer (&inv), NULL);
  roller_schedule_resolve (r);
  return G_SOURCE_REMOVE;
}

void
fake_failure_set (FakeFailure *f, guint count, const char *name, const char *message)
{
  g_free (f->name);
  g_free (f->message);
  f->name = strchr (name, '.') != NULL ? g_strdup (name) : g_strconcat (BLUEZ_ERROR, name, NULL);
  f->message = g_strdup (message);
  f->count = count;
}

gboolean
fake_failure_take (FakeFailure *f, GDBusMethodInvocation **inv)
{
  if (f->count == 0)
    return FALSE;
  f->count--;
  g_dbus_method_invocation_return_dbus_error (g_steal_pointer (inv), f->name, f->message);
  return TRUE;
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
  /* A roller that refuses pairing (Emulator1.FailPair). */
  if (fake_failure_take (&r->fail_pair, &inv))
    return G_SOURCE_REMOVE;
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

void
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
      /* Counted before it is refused: a client that sends a second
       * Connect while one is open shows up here. */
      r->connect_calls++;
      r->connect_max_in_flight = MAX (r->connect_max_in_flight,
                                      (r->connect_inv != NULL || r->pair_inv != NULL) ? 2u : 1u);
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
      if (!r->hold_ops)
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
      if (!r->hold_ops)
        r->pair_timer = g_timeout_add (opt.connect_delay_ms + opt.pair_delay_ms, pair_done_cb, r);
    }
  else
    g_assert_not_reached ();
}

gboolean
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

gboolean
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

/* --send-log: the benchmark's half of the warning latency. The time is
 * taken before the send so that the latency includes the send itself; a
 * line is written only for a frame that went out. */
static gint64
send_log_now (void)
{
  return opt.send_log != NULL ? g_get_monotonic_time () : 0;
}

static void
send_log_frame (Roller *r, OutKind kind, GBytes *bytes, gint64 before_us)
{
  static FILE *out;
  gsize len;
  const guint8 *data;

  if (opt.send_log == NULL || kind != OUT_FRAME)
    return;
  if (out == NULL && (out = fopen (opt.send_log, "we")) == NULL)
    g_error ("--send-log %s: %s", opt.send_log, g_strerror (errno));
  data = g_bytes_get_data (bytes, &len);
  fprintf (out, "%" G_GINT64_FORMAT " %s ", before_us, r->address);
  for (gsize i = 0; i < len; i++)
    fprintf (out, "%02x", data[i]);
  fputc ('\n', out);
  /* Read while the emulator runs, and it may be ended by a signal. */
  fflush (out);
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
          roller_firmware_replay_finished (r->fw, TRUE);
          continue;
        }
      if (r->fd >= 0)
        {
          gsize len;
          const guint8 *data = g_bytes_get_data (item->bytes, &len);
          gint64 before_us = send_log_now ();
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
          send_log_frame (r, item->kind, item->bytes, before_us);
          roller_count_sent (r, item->kind);
        }
      else if (roller_notifying (r, CH_MEASUREMENT))
        {
          gint64 before_us = send_log_now ();

          iface_notify (r->chars[CH_MEASUREMENT].iface, "Value", gbytes_variant (item->bytes));
          send_log_frame (r, item->kind, item->bytes, before_us);
          roller_count_sent (r, item->kind);
        }
      /* else nobody listens: a live frame stays only in memory. */
      out_item_free (g_queue_pop_head (&r->out));
    }
}

static gboolean
rate0_fd_active (Roller *r)
{
  return roller_firmware_is_rolling (r->fw) && roller_firmware_get_wall_rate (r->fw) == 0
         && r->fd >= 0;
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
          roller_firmware_produce_frame (r->fw);
          roller_pump (r);
          if (!g_queue_is_empty (&r->out) || roller_firmware_is_exhausted (r->fw))
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
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);

  /* Only that it came back matters, not what it says. */
  g_clear_pointer (&reply, g_variant_unref);

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
    if (!roller_firmware_produce_frame (r->fw))
      break;
  roller_pump (r);
  roller_status_changed (r);
  if (r->emu->bus == NULL || !roller_notifying (r, CH_MEASUREMENT))
    return;
  reader = g_ptr_array_index (r->chars[CH_MEASUREMENT].notify_senders, 0);
  r->rate0_waiting = TRUE;
  g_dbus_connection_call (r->emu->bus, reader, "/", "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NONE, 10000, NULL, rate0_ping_done_cb, r);
}

/* The producer at a wall-clock rate is the firmware's (its stream timer);
 * the writer, and the producer at --rate 0, follow the reader. */
void
roller_kick (Roller *r)
{
  gboolean rolling = roller_firmware_is_rolling (r->fw);

  if (r->fd >= 0 && (!g_queue_is_empty (&r->out) || rate0_fd_active (r)))
    roller_ensure_out_watch (r);
  else if (r->fd < 0 && !g_queue_is_empty (&r->out))
    roller_pump (r);

  /* Without a reader --rate 0 pauses: flat out into memory alone would only
   * fill it. */
  if (rolling && roller_firmware_get_wall_rate (r->fw) == 0 && r->fd < 0
      && roller_notifying (r, CH_MEASUREMENT))
    rate0_signal_step (r);
}

/* ---- Status ------------------------------------------------------------ */

static void
roller_status_send (Roller *r)
{
  guint8 buf[DR_STATUS_LEN];

  roller_firmware_encode_status (r->fw, buf);
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
  roller_firmware_encode_status (r->fw, buf);
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
  roller_firmware_encode_status (r->fw, buf);
  if (memcmp (buf, r->status_notified, sizeof buf) == 0)
    return;
  elapsed = g_get_monotonic_time () - r->status_last_us;
  if (elapsed >= STATUS_MIN_INTERVAL_US)
    roller_status_send (r);
  else
    r->status_timer = g_timeout_add ((guint) ((STATUS_MIN_INTERVAL_US - elapsed) / 1000) + 1,
                                     status_timer_cb, r);
}

/* ---- GattCharacteristic1 / GattDescriptor1 ----------------------------- */

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
        roller_firmware_control_write (r->fw, op->value);
        break;
      case GATT_START_NOTIFY:
        /* Only to be told when the peer leaves: its sessions end with it. */
        client_get (r->emu, op->sender);
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
  if (opt.gatt_latency_ms <= 0 && !r->hold_ops)
    {
      gatt_op_run (r, op);
      return;
    }
  r->gatt_op = op;
  if (!r->hold_ops)
    r->gatt_timer = g_timeout_add (opt.gatt_latency_ms, gatt_op_timer_cb, r);
}

/* Tests use this to make "a second operation while the first is under way"
 * a certainty rather than a matter of arriving within the latency. At most
 * one operation of each kind waits (the next answers InProgress);
 * releasing starts its usual delay, so it is answered as it would have
 * been. */
void
roller_hold_operations (Roller *r, gboolean hold)
{
  r->hold_ops = hold;
  if (hold)
    return;
  if (r->connect_inv != NULL && r->connect_timer == 0)
    r->connect_timer = g_timeout_add (opt.connect_delay_ms, connect_done_cb, r);
  if (r->pair_inv != NULL && r->pair_timer == 0)
    r->pair_timer = g_timeout_add (opt.connect_delay_ms + opt.pair_delay_ms, pair_done_cb, r);
  if (r->gatt_op != NULL && r->gatt_timer == 0)
    r->gatt_timer = g_timeout_add (MAX (opt.gatt_latency_ms, 0), gatt_op_timer_cb, r);
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

gboolean
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

void
roller_notify_session_end (Roller *r, int ch, guint index)
{
  CharState *c = &r->chars[ch];

  g_ptr_array_remove_index (c->notify_senders, index);
  if (c->notify_senders->len == 0 && !(ch == CH_MEASUREMENT && r->fd >= 0))
    iface_set (c->iface, "Notifying", g_variant_new_boolean (FALSE));
}

void
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

void
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

/* ---- what the firmware says -------------------------------------------- */

static void
on_frame (RollerFirmware *fw, GBytes *frame, gboolean history, gpointer user_data)
{
  Roller *r = user_data;

  /* A live frame nobody listens to stays only in memory; a replayed one
   * goes to the queue so that the result follows it. */
  if (history)
    roller_out_push (r, OUT_HISTORY_FRAME, g_bytes_ref (frame));
  else if (!roller_subscribed (r))
    return;
  else if (r->air_loss_one_in > 0
           && g_rand_int_range (r->air_loss_rand, 0, (gint32) r->air_loss_one_in) == 0)
    {
      /* Lost on the air: the roller sent it and keeps it in memory until
       * it is acknowledged, bluetoothd never heard it. */
      r->frames_lost_on_air++;
      if (opt.verbose)
        {
          const guint8 *d = g_bytes_get_data (frame, NULL);
          g_message ("%s: frame seq %u lost on the air", r->address, (unsigned) (d[2] | d[3] << 8));
        }
      return;
    }
  else
    roller_out_push (r, OUT_FRAME, g_bytes_ref (frame));
  roller_pump (r);
}

static void
on_history_end (RollerFirmware *fw, gpointer user_data)
{
  Roller *r = user_data;

  roller_out_push (r, OUT_HISTORY_END, NULL);
  roller_pump (r);
  roller_kick (r);
}

static void
on_indication (RollerFirmware *fw, guchar opcode, guchar result, gpointer user_data)
{
  roller_indicate (user_data, opcode, result);
}

static void
on_status_changed (RollerFirmware *fw, gpointer user_data)
{
  roller_status_changed (user_data);
}

static void
on_stream_changed (RollerFirmware *fw, gpointer user_data)
{
  roller_kick (user_data);
}

guint32
roller_lose_on_air (Roller *r, guint one_in_n, guint32 seed)
{
  if (seed == 0)
    seed = g_random_int_range (1, G_MAXINT32);
  g_clear_pointer (&r->air_loss_rand, g_rand_free);
  r->air_loss_one_in = one_in_n;
  if (one_in_n > 0)
    {
      r->air_loss_rand = g_rand_new_with_seed (seed);
      g_message ("%s: losing 1 in %u live frames on the air, seed %u", r->address, one_in_n, seed);
    }
  else
    g_message ("%s: no more frames lost on the air", r->address);
  return seed;
}

void
roller_send_raw (Roller *r, GBytes *bytes)
{
  roller_out_push (r, OUT_RAW, bytes);
  roller_pump (r);
}

/* The @i-th garbage frame: one of the ways a frame can be broken, sized
 * like real frames, and never one the codec accepts. */
static GBytes *
garbage_frame (guint64 i)
{
  guint8 buf[DR_FRAME_MAX_LEN + 8];
  DrFrame frame;
  guint32 x = (guint32) (i * 2654435761u) ^ 0x5bd1e995u;
  size_t len;

  for (size_t k = 0; k < sizeof buf; k++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      buf[k] = (guint8) x;
    }
  /* Mostly frame-sized, as a broken roller's would be. */
  switch (i % 8)
    {
      case 0: /* cut inside the header */
        len = 1 + x % (DR_FRAME_HEADER_LEN - 1);
        break;
      case 1: /* no samples */
        len = DR_FRAME_HEADER_LEN;
        buf[0] = 1;
        buf[DR_FRAME_HEADER_LEN - 1] = 0;
        break;
      case 2:
      case 3:
      case 4: /* another protocol version */
        len = DR_FRAME_MAX_LEN - x % 40;
        buf[0] = 0xA0 | (buf[0] & 0x0F);
        break;
      default: /* more bytes than its samples */
        len = DR_FRAME_MAX_LEN + 1 + x % 8;
        buf[0] = 1;
        break;
    }
  if (dr_frame_decode (buf, len, &frame) == DR_CODEC_OK)
    len = 1; /* a one-byte notification never decodes */
  return g_bytes_new (buf, len);
}

static gboolean
flood_timer_cb (gpointer data)
{
  Roller *r = data;
  gint64 elapsed_us = g_get_monotonic_time () - r->flood_start_us;
  guint64 due = MIN (r->flood_total, (guint64) elapsed_us * r->flood_per_second / G_USEC_PER_SEC);

  for (; r->flood_made < due; r->flood_made++)
    roller_out_push (r, OUT_RAW, garbage_frame (r->flood_made));
  roller_pump (r);
  if (r->flood_made < r->flood_total)
    return G_SOURCE_CONTINUE;
  r->flood_timer = 0;
  return G_SOURCE_REMOVE;
}

void
roller_flood_garbage (Roller *r, guint per_second, guint seconds)
{
  g_clear_handle_id (&r->flood_timer, g_source_remove);
  r->flood_per_second = per_second;
  r->flood_total = (guint64) per_second * seconds;
  r->flood_made = 0;
  r->flood_start_us = g_get_monotonic_time ();
  if (r->flood_total > 0)
    /* 100 batches a second, in between the roller's own frames. */
    r->flood_timer = g_timeout_add (10, flood_timer_cb, r);
}

void
roller_set_battery (Roller *r, guint8 percent)
{
  guint8 battery;

  roller_firmware_set_battery (r->fw, percent);
  battery = roller_firmware_get_battery (r->fw);
  if (r->battery1_iface != NULL)
    iface_set (r->battery1_iface, "Percentage", g_variant_new_byte (battery));
  if (r->chars[CH_BATTERY].iface != NULL && roller_notifying (r, CH_BATTERY))
    iface_notify (r->chars[CH_BATTERY].iface, "Value", bytes_variant (&battery, 1));
}

Roller *
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
  for (int ch = 0; ch < N_CH; ch++)
    r->chars[ch].notify_senders = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&r->out);
  r->fw = roller_firmware_new (r->address, index);
  g_signal_connect (r->fw, "frame", G_CALLBACK (on_frame), r);
  g_signal_connect (r->fw, "history-end", G_CALLBACK (on_history_end), r);
  g_signal_connect (r->fw, "indication", G_CALLBACK (on_indication), r);
  g_signal_connect (r->fw, "status-changed", G_CALLBACK (on_status_changed), r);
  g_signal_connect (r->fw, "stream-changed", G_CALLBACK (on_stream_changed), r);
  return r;
}
