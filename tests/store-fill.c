/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store-fill.c: a database with many long sessions, written straight into
 * the store, for the export tests and benchmark (a year of sessions
 * through a roller would take a year).
 *
 * store-fill DB ADDRESS SESSIONS SAMPLES [START_MS]: SESSIONS sessions of
 * SAMPLES samples each for the roller ADDRESS, 25 samples a frame at
 * 100 Hz, one session a day from START_MS. Sample k of session s (k from
 * 0) is at START_MS + s·86400000 + 10·k ms, with ticks 1000·s + 3·k
 * (mod 2^32), force (s·7 + k) mod 9000 mN (65535, the sensor fault, for
 * every 1000th) and zone k mod 8 (7: a zone the roller's sensor does not
 * name). tests/integration/test_ctl.py computes the same to compare.
 * The last frame is acknowledged, as the daemon leaves a year behind.
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine-config.h"
#include "engine.h"
#include "store.h"

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;
  DrEngineConfig config;
  DrEngine *engine;
  int64_t roller_id, start_ms;
  guint64 sessions, samples;
  int64_t last_t0 = 0;
  guint16 last_seq = 0;

  if (argc < 5 || argc > 6)
    {
      g_printerr ("usage: store-fill DB ADDRESS SESSIONS SAMPLES [START_MS]\n");
      return 2;
    }
  sessions = g_ascii_strtoull (argv[3], NULL, 10);
  samples = g_ascii_strtoull (argv[4], NULL, 10);
  start_ms = argc == 6 ? g_ascii_strtoll (argv[5], NULL, 10) : 1700000000000;
  dr_engine_config_init_defaults (&config);
  engine = dr_engine_new (&config);
  store = dr_store_open (argv[1], &error);
  if (store == NULL || !dr_store_ensure_roller (store, argv[2], "Filler", &roller_id, &error))
    goto fail;

  for (guint64 s = 0; s < sessions; s++)
    {
      int64_t t0 = start_ms + (int64_t) s * 86400000;
      guint16 seq = 0;

      if (!dr_store_begin (store, &error)
          || !dr_store_session_begin (store, s + 1, roller_id, t0, 500, 0xC0FFEE01, &error))
        goto fail;
      for (guint64 k = 0; k < samples;)
        {
          DrFrame frame
              = { .version = 1, .seq = seq++, .t0_ms = (uint64_t) (t0 + 10 * (int64_t) k) };
          uint8_t raw[256];
          size_t len;
          gboolean inserted;

          for (; frame.n_samples < 25 && k < samples; frame.n_samples++, k++)
            {
              DrSample *x = &frame.samples[frame.n_samples];
              x->dt_ms = frame.n_samples == 0 ? 0 : 10;
              x->ticks = (uint32_t) (1000 * s + 3 * k);
              x->force_mn = k % 1000 == 999 ? 0xFFFF : (uint16_t) ((s * 7 + k) % 9000);
              x->zone = (uint8_t) (k % 8);
            }
          last_t0 = (int64_t) frame.t0_ms;
          last_seq = frame.seq;
          if (dr_frame_encode (&frame, raw, sizeof raw, &len) != DR_CODEC_OK)
            {
              g_printerr ("store-fill: cannot encode a frame\n");
              return 1;
            }
          if (!dr_store_add_frame (store, roller_id, (int64_t) frame.t0_ms, raw, len, DR_CODEC_OK,
                                   &inserted, &error))
            goto fail;
        }
      if (!dr_store_session_update (store, s + 1, t0 + 10 * (int64_t) (samples ? samples - 1 : 0),
                                    0.0, &config, engine, &error)
          || !dr_store_commit (store, FALSE, &error))
        goto fail;
    }
  /* Everything was acknowledged, as the daemon would have done it: a
   * history without an acknowledged frame would be a year the roller still
   * holds, and the daemon's start-up would read every frame key. */
  if (sessions > 0 && samples > 0)
    {
      DrFrameKey last = { .t0_ms = (uint64_t) last_t0, .seq = last_seq };

      if (!dr_store_mark_acked (store, roller_id, &last, &error))
        goto fail;
    }
  if (!dr_store_sync (store, &error))
    goto fail;
  dr_engine_free (engine);
  return 0;

fail:
  g_printerr ("store-fill: %s\n", error ? error->message : "failed");
  return 1;
}
