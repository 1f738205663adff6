/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-ingest.c: how fast the hot path takes roller samples in.
 *
 *   bench-ingest [SECONDS]     (each measurement runs at least SECONDS, default 1.5)
 *
 * Builds one million samples of a realistic session in memory (25-sample
 * frames at 100 Hz: contact stretches at 1.5-3.5 N on cycling zones, lifts,
 * short over-pressure bursts, a few zone-less samples, ticks wrapping at
 * 2^32) and measures, on one core:
 *   decode          dr_frame_decode () alone
 *   engine          dr_engine_feed () on frames decoded beforehand
 *   decode+engine   both, as the daemon does for every notification
 *   encode          dr_frame_encode () (the emulator's and the tests' side)
 * Targets (issue 2): decode >= 100 M samples/s, engine >= 20 M samples/s.
 * A benchmark, not a test: it prints figures and fails on nothing.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "engine.h"

#define N_FRAMES 40000
#define N_SAMPLES ((gint64) N_FRAMES * DR_FRAME_MAX_SAMPLES)
#define FRAME_LEN DR_FRAME_MAX_LEN
#define DT_MS 10

typedef struct
{
  DrFrame *frames;  /* N_FRAMES */
  uint8_t *encoded; /* N_FRAMES × FRAME_LEN */
  double min_seconds;
  guint64 events;
  volatile uint32_t sink; /* keeps results observable */
} Bench;

static uint32_t
rand_next (uint32_t *state)
{
  /* xorshift32: deterministic and cheap, so every run builds the same data */
  uint32_t x = *state;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

static unsigned
rand_range (uint32_t *state, unsigned lo, unsigned hi)
{
  return lo + rand_next (state) % (hi - lo + 1);
}

static void
build_session (Bench *b)
{
  uint32_t rng = 0x2545F491u;
  uint32_t ticks = 0xFFFFFFFFu - 40000u; /* wraps early on */
  uint64_t t = 1716064200000ull;
  int zone = 0;
  unsigned left = 0; /* samples left in this stretch or lift */
  bool contact = false;
  unsigned burst = 0; /* samples left of an over-pressure burst */
  unsigned frac = 0;  /* sub-tick drum position, 1/256 tick */

  for (unsigned f = 0; f < N_FRAMES; f++)
    {
      DrFrame *fr = &b->frames[f];

      fr->version = DR_PROTOCOL_VERSION;
      fr->flags = 0;
      fr->seq = (uint16_t) f;
      fr->t0_ms = t;
      fr->n_samples = DR_FRAME_MAX_SAMPLES;
      for (unsigned i = 0; i < DR_FRAME_MAX_SAMPLES; i++, t += DT_MS)
        {
          DrSample *s = &fr->samples[i];

          if (left == 0)
            {
              contact = !contact;
              left = contact ? rand_range (&rng, 300, 900) : rand_range (&rng, 40, 300);
              if (contact)
                zone = (zone + 1) % DR_N_DEFAULT_ZONES;
            }
          left--;
          s->dt_ms = i == 0 ? 0 : DT_MS;
          if (contact)
            {
              /* ~1.4 rev/s at 64 ticks/rev: 0.9 ticks per 10 ms sample */
              frac += rand_range (&rng, 150, 310);
              ticks += frac >> 8;
              frac &= 0xFF;
              if (burst == 0 && rand_range (&rng, 0, 4000) == 0)
                burst = 40;
              if (burst > 0)
                {
                  burst--;
                  s->force_mn = (uint16_t) rand_range (&rng, 5100, 5900);
                }
              else
                s->force_mn = (uint16_t) rand_range (&rng, 1500, 3500);
              s->zone = rand_range (&rng, 0, 200) == 0 ? DR_ZONE_UNKNOWN : (uint8_t) zone;
            }
          else
            {
              s->force_mn = (uint16_t) rand_range (&rng, 0, 120);
              s->zone = DR_ZONE_UNKNOWN;
            }
          s->ticks = ticks;
        }
    }
}

static void
encode_all (Bench *b)
{
  for (unsigned f = 0; f < N_FRAMES; f++)
    {
      size_t len;

      if (dr_frame_encode (&b->frames[f], b->encoded + (size_t) f * FRAME_LEN, FRAME_LEN, &len)
              != DR_CODEC_OK
          || len != FRAME_LEN)
        g_error ("encoding frame %u failed", f);
    }
}

/* Moves the whole session forward in time, ticks and seq so that feeding it
 * again continues the same stream: no seq gap, no counter reset, no clock
 * going back. Done between timed passes. */
static void
shift_session (Bench *b)
{
  const DrFrame *last = &b->frames[N_FRAMES - 1];
  uint32_t dticks = last->samples[DR_FRAME_MAX_SAMPLES - 1].ticks - b->frames[0].samples[0].ticks;
  uint64_t dt = (uint64_t) N_SAMPLES * DT_MS;

  for (unsigned f = 0; f < N_FRAMES; f++)
    {
      DrFrame *fr = &b->frames[f];

      fr->seq = (uint16_t) (fr->seq + N_FRAMES);
      fr->t0_ms += dt;
      for (unsigned i = 0; i < fr->n_samples; i++)
        fr->samples[i].ticks += dticks;
    }
}

static void
on_event (const DrEvent *ev, void *user_data)
{
  Bench *b = user_data;

  b->events++;
}

static DrEngine *
new_engine (Bench *b)
{
  DrEngineConfig config;
  DrHeadInfo head = { 1, 500, 192, 1500, 2000, 64, 0x4D520117 };
  DrEngine *engine;

  dr_engine_config_init_defaults (&config);
  engine = dr_engine_new (&config);
  dr_engine_set_event_func (engine, on_event, b);
  dr_engine_set_head (engine, &head, 0.0);
  return engine;
}

static void
report (const char *what, gint64 samples, gint64 usec)
{
  double secs = (double) usec / G_USEC_PER_SEC;

  printf ("%-15s %7.1f M samples/s  (%5.2f ns/sample, %" G_GINT64_FORMAT " M samples in %.2f s)\n",
          what, (double) samples / secs / 1e6, secs * 1e9 / (double) samples, samples / 1000000,
          secs);
  fflush (stdout);
}

static void
bench_decode (Bench *b)
{
  gint64 samples = 0, elapsed = 0;
  DrFrame frame;

  do
    {
      gint64 start = g_get_monotonic_time ();
      uint32_t acc = 0;

      for (unsigned f = 0; f < N_FRAMES; f++)
        {
          if (dr_frame_decode (b->encoded + (size_t) f * FRAME_LEN, FRAME_LEN, &frame)
              != DR_CODEC_OK)
            g_error ("decoding frame %u failed", f);
          acc += frame.samples[DR_FRAME_MAX_SAMPLES - 1].ticks;
        }
      elapsed += g_get_monotonic_time () - start;
      samples += N_SAMPLES;
      b->sink += acc;
    }
  while (elapsed < b->min_seconds * G_USEC_PER_SEC);
  report ("decode", samples, elapsed);
}

static void
bench_engine (Bench *b, gboolean decode)
{
  g_autoptr (DrEngine) engine = new_engine (b);
  gint64 samples = 0, elapsed = 0;
  DrFrame frame;

  b->events = 0;
  do
    {
      gint64 start;

      if (decode)
        encode_all (b);
      start = g_get_monotonic_time ();
      if (decode)
        for (unsigned f = 0; f < N_FRAMES; f++)
          {
            if (dr_frame_decode (b->encoded + (size_t) f * FRAME_LEN, FRAME_LEN, &frame)
                != DR_CODEC_OK)
              g_error ("decoding frame %u failed", f);
            dr_engine_feed (engine, &frame);
          }
      else
        for (unsigned f = 0; f < N_FRAMES; f++)
          dr_engine_feed (engine, &b->frames[f]);
      elapsed += g_get_monotonic_time () - start;
      samples += N_SAMPLES;
      shift_session (b);
    }
  while (elapsed < b->min_seconds * G_USEC_PER_SEC);

  report (decode ? "decode+engine" : "engine", samples, elapsed);
  {
    const DrEngineStats *st = dr_engine_get_stats (engine);

    /* A stream that broke between passes would show here. */
    printf ("                %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT
            " seq gaps, %" G_GUINT64_FORMAT " counter resets, %.0f revolutions\n",
            b->events, st->seq_gaps, st->counter_resets, dr_engine_head_revolutions (engine));
  }
}

static void
bench_encode (Bench *b)
{
  gint64 samples = 0, elapsed = 0;

  do
    {
      gint64 start = g_get_monotonic_time ();

      for (unsigned f = 0; f < N_FRAMES; f++)
        {
          size_t len;

          if (dr_frame_encode (&b->frames[f], b->encoded + (size_t) f * FRAME_LEN, FRAME_LEN, &len)
              != DR_CODEC_OK)
            g_error ("encoding frame %u failed", f);
        }
      elapsed += g_get_monotonic_time () - start;
      samples += N_SAMPLES;
      b->sink += b->encoded[FRAME_LEN * (N_FRAMES - 1) + 5];
    }
  while (elapsed < b->min_seconds * G_USEC_PER_SEC);
  report ("encode", samples, elapsed);
}

int
main (int argc, char **argv)
{
  Bench b = { 0 };
  struct rusage ru;

  b.min_seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 1.5;
  if (b.min_seconds <= 0)
    b.min_seconds = 1.5;
  b.frames = g_new0 (DrFrame, N_FRAMES);
  b.encoded = g_malloc0 ((size_t) N_FRAMES * FRAME_LEN);
  build_session (&b);
  encode_all (&b);

  printf ("bench-ingest: %" G_GINT64_FORMAT " samples in %d frames of %d (%.1f MB encoded), "
          "at least %.1f s per line\n",
          N_SAMPLES, N_FRAMES, DR_FRAME_MAX_SAMPLES, (double) N_FRAMES * FRAME_LEN / 1e6,
          b.min_seconds);
  bench_decode (&b);
  bench_engine (&b, FALSE);
  bench_engine (&b, TRUE);
  bench_encode (&b);

  getrusage (RUSAGE_SELF, &ru);
  printf ("peak RSS        %.1f MB\n", ru.ru_maxrss / 1024.0);

  g_free (b.encoded);
  g_free (b.frames);
  return 0;
}
