/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* emulator-api.c: org.dermaroll.Emulator1 at /org/dermaroll/Emulator, the
 * tests' handle on the emulator (emulator-api.h): it injects faults (link
 * loss, frames lost in the roller (LoseFrames: never stored, never sent)
 * or on the air (LoseOnAir: stored, sent, never heard), malformed frames,
 * floods of garbage, service flaps, failed connects,
 * bluetoothd restarts, adapter removal), holds operations open so that a
 * test can make two calls collide for certain (HoldOperations), and reports
 * counters so that tests can check what the roller really did. */
#include <string.h>

#include "emulator-api.h"
#include "fake-device.h"
#include "options.h"

#define EMU_ERROR "org.dermaroll.Emulator.Error."

static void
reply_emu_error (GDBusMethodInvocation *inv, const char *name, const char *message)
{
  g_autofree char *full = g_strconcat (EMU_ERROR, name, NULL);

  g_dbus_method_invocation_return_dbus_error (inv, full, message);
}

/* clang-format off: one XML element per line reads better */
static const char introspection_xml[]
    = "<node>"
      " <interface name='org.dermaroll.Emulator1'>"
      "  <method name='DropLink'><arg name='address' type='s' direction='in'/></method>"
      "  <method name='LoseFrames'><arg name='address' type='s' direction='in'/>"
      "   <arg name='count' type='u' direction='in'/></method>"
      "  <method name='LoseOnAir'><arg name='address' type='s' direction='in'/>"
      "   <arg name='one_in_n' type='u' direction='in'/><arg name='seed' type='u' direction='in'/>"
      "   <arg name='seed_used' type='u' direction='out'/></method>"
      "  <method name='SendMalformed'><arg name='address' type='s' direction='in'/>"
      "   <arg name='bytes' type='ay' direction='in'/></method>"
      "  <method name='FloodGarbage'><arg name='address' type='s' direction='in'/>"
      "   <arg name='per_second' type='u' direction='in'/>"
      "   <arg name='seconds' type='u' direction='in'/></method>"
      "  <method name='FlapServices'><arg name='address' type='s' direction='in'/></method>"
      "  <method name='FailConnect'><arg name='address' type='s' direction='in'/>"
      "   <arg name='count' type='u' direction='in'/><arg name='error_name' type='s' "
      "direction='in'/>"
      "   <arg name='message' type='s' direction='in'/></method>"
      "  <method name='FailPair'><arg name='address' type='s' direction='in'/>"
      "   <arg name='count' type='u' direction='in'/><arg name='error_name' type='s' "
      "direction='in'/>"
      "   <arg name='message' type='s' direction='in'/></method>"
      "  <method name='SetInRange'><arg name='address' type='s' direction='in'/>"
      "   <arg name='in_range' type='b' direction='in'/></method>"
      "  <method name='HoldOperations'><arg name='address' type='s' direction='in'/>"
      "   <arg name='hold' type='b' direction='in'/></method>"
      "  <method name='SetBattery'><arg name='address' type='s' direction='in'/>"
      "   <arg name='percent' type='y' direction='in'/></method>"
      "  <method name='SetProtocolVersion'><arg name='address' type='s' direction='in'/>"
      "   <arg name='version' type='y' direction='in'/></method>"
      "  <method name='Restart'><arg name='delay_ms' type='u' direction='in'/></method>"
      "  <method name='RemoveAdapter'/>"
      "  <method name='AddAdapter'><arg name='index' type='u' direction='in'/></method>"
      "  <method name='SetAdapterIndex'><arg name='index' type='u' direction='in'/></method>"
      "  <method name='Stats'><arg name='stats' type='a{sv}' direction='out'/></method>"
      "  <method name='RollerStats'><arg name='address' type='s' direction='in'/>"
      "   <arg name='stats' type='a{sv}' direction='out'/></method>"
      "  <method name='StoredFrames'><arg name='address' type='s' direction='in'/>"
      "   <arg name='count' type='u' direction='out'/></method>"
      "  <method name='Quit'/>"
      " </interface>"
      "</node>";
/* clang-format on */

static GVariant *
roller_stats (Roller *r)
{
  GVariantBuilder b;
  RollerFirmware *fw = r->fw;
  const RollerFirmwareCounters *n = roller_firmware_get_counters (fw);
  guint stored = roller_firmware_get_stored (fw);

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
  g_variant_builder_add (&b, "{sv}", "streaming",
                         g_variant_new_boolean (roller_firmware_is_streaming (fw)));
  g_variant_builder_add (&b, "{sv}", "exhausted",
                         g_variant_new_boolean (roller_firmware_is_exhausted (fw)));
  g_variant_builder_add (&b, "{sv}", "state",
                         g_variant_new_byte (roller_firmware_is_rolling (fw)
                                                 ? DR_ROLLER_STATE_ROLLING
                                                 : DR_ROLLER_STATE_IDLE));
  g_variant_builder_add (&b, "{sv}", "rate",
                         g_variant_new_uint32 (roller_firmware_get_stream_rate (fw)));
  g_variant_builder_add (&b, "{sv}", "clock-synced",
                         g_variant_new_boolean (roller_firmware_is_clock_synced (fw)));
  g_variant_builder_add (&b, "{sv}", "frames-produced",
                         g_variant_new_uint64 (n->frames_produced + n->frames_lost));
  g_variant_builder_add (&b, "{sv}", "frames-sent", g_variant_new_uint64 (r->frames_sent));
  g_variant_builder_add (&b, "{sv}", "frames-lost", g_variant_new_uint64 (n->frames_lost));
  g_variant_builder_add (&b, "{sv}", "frames-lost-on-air",
                         g_variant_new_uint64 (r->frames_lost_on_air));
  g_variant_builder_add (&b, "{sv}", "frames-stored", g_variant_new_uint32 (stored));
  g_variant_builder_add (&b, "{sv}", "pending", g_variant_new_uint32 (stored));
  g_variant_builder_add (&b, "{sv}", "history-sent", g_variant_new_uint64 (r->history_sent));
  g_variant_builder_add (&b, "{sv}", "malformed-sent", g_variant_new_uint64 (r->raw_sent));
  /* FloodGarbage: made so far, and whether it is still making them. */
  g_variant_builder_add (&b, "{sv}", "flood-made", g_variant_new_uint64 (r->flood_made));
  g_variant_builder_add (&b, "{sv}", "flooding", g_variant_new_boolean (r->flood_timer != 0));
  g_variant_builder_add (&b, "{sv}", "out-queued", g_variant_new_uint32 (r->out.length));
  g_variant_builder_add (&b, "{sv}", "samples-produced",
                         g_variant_new_uint64 (n->samples_produced));
  g_variant_builder_add (&b, "{sv}", "acks", g_variant_new_uint64 (n->acks));
  g_variant_builder_add (&b, "{sv}", "acked-seq", g_variant_new_int32 (n->acked_seq));
  g_variant_builder_add (&b, "{sv}", "next-seq",
                         g_variant_new_uint16 (roller_firmware_get_next_seq (fw)));
  g_variant_builder_add (&b, "{sv}", "indications", g_variant_new_uint64 (r->indications));
  g_variant_builder_add (&b, "{sv}", "connects", g_variant_new_uint64 (r->connects));
  g_variant_builder_add (&b, "{sv}", "connect-calls", g_variant_new_uint64 (r->connect_calls));
  g_variant_builder_add (&b, "{sv}", "connect-max-in-flight",
                         g_variant_new_uint32 (r->connect_max_in_flight));
  g_variant_builder_add (&b, "{sv}", "battery",
                         g_variant_new_byte (roller_firmware_get_battery (fw)));
  g_variant_builder_add (&b, "{sv}", "gatt-generation", g_variant_new_uint32 (r->gatt_generation));
  /* What HoldOperations keeps waiting: a test waits for its call to be
   * here before it sends the one that must collide with it. */
  g_variant_builder_add (&b, "{sv}", "operations-held", g_variant_new_boolean (r->hold_ops));
  g_variant_builder_add (&b, "{sv}", "gatt-op-pending", g_variant_new_boolean (r->gatt_op != NULL));
  g_variant_builder_add (&b, "{sv}", "connect-pending",
                         g_variant_new_boolean (r->connect_inv != NULL));
  g_variant_builder_add (&b, "{sv}", "pair-pending", g_variant_new_boolean (r->pair_inv != NULL));
  return g_variant_builder_end (&b);
}

static GVariant *
emu_stats (Emu *emu)
{
  GVariantBuilder b, per;
  guint64 produced = 0, sent = 0, lost = 0, lost_on_air = 0, history = 0, samples = 0;
  guint stored = 0;
  gint32 acked = -1;

  g_variant_builder_init (&per, G_VARIANT_TYPE ("a{sv}"));
  for (guint i = 0; i < emu->rollers->len; i++)
    {
      Roller *r = g_ptr_array_index (emu->rollers, i);
      const RollerFirmwareCounters *n = roller_firmware_get_counters (r->fw);

      produced += n->frames_produced + n->frames_lost;
      sent += r->frames_sent;
      lost += n->frames_lost;
      lost_on_air += r->frames_lost_on_air;
      history += r->history_sent;
      samples += n->samples_produced;
      stored += roller_firmware_get_stored (r->fw);
      if (i == 0)
        acked = n->acked_seq;
      g_variant_builder_add (&per, "{sv}", r->address, roller_stats (r));
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "frames-produced", g_variant_new_uint64 (produced));
  g_variant_builder_add (&b, "{sv}", "frames-sent", g_variant_new_uint64 (sent));
  g_variant_builder_add (&b, "{sv}", "frames-lost", g_variant_new_uint64 (lost));
  g_variant_builder_add (&b, "{sv}", "frames-lost-on-air", g_variant_new_uint64 (lost_on_air));
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
      || g_str_equal (method, "LoseOnAir") || g_str_equal (method, "SendMalformed")
      || g_str_equal (method, "FloodGarbage") || g_str_equal (method, "FlapServices")
      || g_str_equal (method, "FailConnect") || g_str_equal (method, "FailPair")
      || g_str_equal (method, "SetInRange") || g_str_equal (method, "SetBattery")
      || g_str_equal (method, "HoldOperations") || g_str_equal (method, "RollerStats")
      || g_str_equal (method, "StoredFrames") || g_str_equal (method, "SetProtocolVersion"))
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
      roller_firmware_lose_frames (r->fw, count);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "LoseOnAir"))
    {
      guint one_in_n, seed;

      g_variant_get (params, "(&suu)", NULL, &one_in_n, &seed);
      seed = roller_lose_on_air (r, one_in_n, seed);
      g_dbus_method_invocation_return_value (inv, g_variant_new ("(u)", seed));
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
      roller_send_raw (r, g_bytes_new (data, len));
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "FloodGarbage"))
    {
      guint per_second, seconds;

      g_variant_get (params, "(&suu)", NULL, &per_second, &seconds);
      if (!roller_subscribed (r))
        {
          reply_emu_error (inv, "NotSubscribed", "Nobody listens to Roll Measurement");
          return;
        }
      roller_flood_garbage (r, per_second, seconds);
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
  else if (g_str_equal (method, "FailConnect") || g_str_equal (method, "FailPair"))
    {
      const char *name, *message;
      guint count;

      g_variant_get (params, "(&su&s&s)", NULL, &count, &name, &message);
      fake_failure_set (g_str_equal (method, "FailPair") ? &r->fail_pair : &r->fail_connect, count,
                        name, message);
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
      roller_set_battery (r, percent);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "SetProtocolVersion"))
    {
      guint8 version;

      g_variant_get (params, "(&sy)", NULL, &version);
      if (!roller_firmware_set_protocol_version (r->fw, version))
        {
          g_dbus_method_invocation_return_error (inv, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                                 "Protocol version %u: only 1 and 2", version);
          return;
        }
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "HoldOperations"))
    {
      gboolean hold;

      g_variant_get (params, "(&sb)", NULL, &hold);
      roller_hold_operations (r, hold);
      g_dbus_method_invocation_return_value (inv, NULL);
    }
  else if (g_str_equal (method, "RollerStats"))
    g_dbus_method_invocation_return_value (inv, g_variant_new ("(@a{sv})", roller_stats (r)));
  else if (g_str_equal (method, "StoredFrames"))
    g_dbus_method_invocation_return_value (
        inv, g_variant_new ("(u)", roller_firmware_get_stored (r->fw)));
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
      fake_bluez_restart (emu, delay_ms);
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
  else if (g_str_equal (method, "SetAdapterIndex"))
    {
      /* The index the adapter has from the next start of bluetoothd on
       * (Restart): a dongle that comes back as another hciN. */
      g_variant_get (params, "(u)", &emu->adapter_index);
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

void
emulator_api_init (Emu *emu)
{
  g_autoptr (GError) error = NULL;

  emu->api_node_info = g_dbus_node_info_new_for_xml (introspection_xml, &error);
  if (emu->api_node_info == NULL)
    g_error ("introspection: %s", error->message);
  emu->api_info = g_dbus_node_info_lookup_interface (emu->api_node_info, EMU_IFACE);
  emu->api_vtable = &emu_vtable;
}
