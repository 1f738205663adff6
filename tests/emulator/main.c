/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* roller-emulator: a stand-in for bluetoothd and smart derma rollers, for
 * the integration tests, the demo and the benchmarks. This file is its
 * command line and start-up.
 *
 * It owns org.bluez on the bus it is given and implements the part of
 * BlueZ's documented D-Bus API that a GATT client uses (fake-bluez.c, and
 * fake-device.c per roller), with BlueZ's object paths, property types and
 * error names, for one adapter and any number of rollers. Each roller
 * (roller-firmware.c) speaks protocol/PROTOCOL.md: it streams samples from
 * a trace file or a generated rolling pattern (patterns.c), keeps every
 * frame in its memory until it is acknowledged, replays them on
 * REQUEST_HISTORY, and keeps recording while its link is down or bluetoothd
 * is away. org.dermaroll.Emulator1 (emulator-api.c) injects faults and
 * reports counters.
 *
 * Everything runs on one GLib main loop: timing is done with timeouts, and
 * the AcquireNotify socket is written only while poll says it is writable,
 * so the emulator never blocks, and costs no wake-up while nothing streams.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>

#include "emulator-api.h"
#include "fake-device.h"
#include "options.h"
#include "patterns.h"

#define EMU_NAME "org.dermaroll.Emulator"

/* The one emulator. Static rather than on main's stack so that everything
 * it holds stays reachable until exit (LeakSanitizer in `--setup=asan`). */
static Emu *the_emu;

EmuOptions opt = {
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
  .protocol_version = 1,
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
  { "protocol-version", 0, 0, G_OPTION_ARG_INT, &opt.protocol_version,
    "Roll Measurement frames of version 1 or 2 (with the stroke direction) (1)", "N" },
  { "directions", 0, 0, G_OPTION_ARG_STRING, &opt.directions,
    "The pattern's strokes cycle through these directions (version 2; "
    "horizontal,vertical,diagonal)",
    "LIST" },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose, "Log every D-Bus operation", NULL },
  { "send-log", 0, 0, G_OPTION_ARG_FILENAME, &opt.send_log,
    "Write a line per live frame sent: CLOCK_MONOTONIC µs just before the send, the frame in hex "
    "(the benchmark's warning latency)",
    "FILE" },
  { NULL },
};

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
  g_autoptr (GOptionContext) context
      = g_option_context_new ("- emulate bluetoothd and smart derma rollers");
  g_autoptr (GError) error = NULL;
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
      || !check_range ("protocol-version", opt.protocol_version, 1, 2)
      || !check_range ("ticks-start", opt.ticks_start, 0, G_MAXUINT32)
      || !check_range ("gatt-latency-ms", opt.gatt_latency_ms, 0, 60000)
      || !check_range ("connect-delay-ms", opt.connect_delay_ms, 0, 60000)
      || !check_range ("resolve-delay-ms", opt.resolve_delay_ms, 0, 60000)
      || !check_range ("pair-delay-ms", opt.pair_delay_ms, 0, 60000)
      || !check_range ("discovery-delay-ms", opt.discovery_delay_ms, 0, 60000)
      || !check_range ("temporary-timeout-s", opt.temporary_timeout_s, 0, 86400))
    return 2;
  if (!patterns_parse_directions (opt.directions))
    {
      g_printerr ("roller-emulator: --directions takes a comma-separated list of horizontal, "
                  "vertical, diagonal, unknown\n");
      return 2;
    }
  if (opt.pattern != NULL)
    {
      if (!patterns_select (opt.pattern))
        {
          g_printerr ("roller-emulator: unknown pattern '%s' (face, full, steady, pressure, idle, "
                      "unzoned)\n",
                      opt.pattern);
          return 2;
        }
    }
  if (opt.trace != NULL && !patterns_load_trace (opt.trace, &error))
    {
      g_printerr ("roller-emulator: cannot play the trace: %s\n", error->message);
      return 2;
    }
  patterns_build ();

  /* A reader that goes away must not kill us; send() says EPIPE instead. */
  signal (SIGPIPE, SIG_IGN);

  emu = the_emu = fake_bluez_new (g_main_loop_new (NULL, FALSE));
  emulator_api_init (emu);
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
      emu->control_conn, EMU_PATH, emu->api_info, emu->api_vtable, emu, NULL, &error);
  if (emu->control_reg_id == 0)
    g_error ("cannot export the control interface: %s", error->message);
  /* Handy for scripts; a second emulator on the same bus simply queues. */
  emu->control_name_id = g_bus_own_name_on_connection (
      emu->control_conn, EMU_NAME, G_BUS_NAME_OWNER_FLAGS_NONE, NULL, NULL, NULL, NULL);
  fake_bluez_bring_up (emu);

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
