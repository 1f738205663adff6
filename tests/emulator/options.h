/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* options.h: the roller emulator's command line, read by every part of it.
 *
 * main.c parses it once at start-up; afterwards it is read-only. */
#pragma once

#include <glib.h>

typedef struct
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
  int protocol_version; /* of Roll Measurement frames: 1 or 2 */
  char *directions;     /* the pattern's strokes cycle through these */
  gboolean verbose;
  char *send_log; /* each live frame sent: CLOCK_MONOTONIC µs and its bytes */
} EmuOptions;

extern EmuOptions opt;
