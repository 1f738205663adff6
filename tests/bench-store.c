/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-store.c: how fast frames reach the disk through the store worker.
 *
 * Usage: bench-store [FRAMES]   (default 400000 frames of 25 samples)
 *
 * Queues one write job per frame, each with its own copy of the frame as
 * the daemon does, into a fresh database in a temporary directory, and
 * times from the first write to the committed callback that covers the
 * last one: every commit on the way is durable (fsynced). Then the same
 * frames straight into a DrStore, without the thread, for comparison.
 * Prints figures; it is a benchmark, not a test.
 */
#include <gio/gio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "store-test-util.h"
#include "store-worker.h"

typedef struct
{
  int64_t roller;
  int64_t received_ms;
  size_t len;
  uint8_t raw[];
} FrameJob;

typedef struct
{
  guint64 last_serial;
  guint n_commits;
} Progress;

static gboolean
job_add_frame (DrStore *store, gpointer data, GError **error)
{
  FrameJob *job = data;

  return dr_store_add_frame (store, job->roller, job->received_ms, job->raw, job->len, DR_CODEC_OK,
                             NULL, error);
}

static void
on_committed (DrStoreWorker *worker, guint64 serial, gpointer user_data)
{
  Progress *progress = user_data;

  progress->last_serial = serial;
  progress->n_commits++;
}

static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (double) usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
         + (double) usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

static DrStore *
open_store (const char *dir, const char *name, int64_t *roller)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  DrStore *store = dr_store_open (path, &error);

  if (store == NULL
      || !dr_store_ensure_roller (store, "AA:BB:CC:DD:EE:FF", "bench", roller, &error))
    g_error ("%s", error->message);
  return store;
}

static void
report (const char *what, guint frames, double seconds, double cpu, guint commits)
{
  double samples = frames * 25.0;

  printf ("%-28s %9u frames  %7.3f s  %10.0f frames/s  %12.0f samples/s  %6.2f CPU s/M samples  "
          "%u commits\n",
          what, frames, seconds, frames / seconds, samples / seconds, cpu / (samples / 1e6),
          commits);
}

static void
bench_worker (const char *dir, guint n_frames)
{
  DrStoreWorker *worker;
  Progress progress = { 0 };
  int64_t roller;
  guint64 last = 0;
  gint64 start;
  double cpu_start;

  worker = dr_store_worker_new (open_store (dir, "worker.db", &roller), NULL);
  g_signal_connect (worker, "committed", G_CALLBACK (on_committed), &progress);

  start = g_get_monotonic_time ();
  cpu_start = cpu_seconds ();
  for (guint i = 0; i < n_frames; i++)
    {
      FrameJob *job = g_malloc (sizeof (FrameJob) + DR_FRAME_MAX_LEN);

      job->roller = roller;
      job->received_ms = 1700000000000 + i * 250;
      job->len = store_test_frame (job->raw, (uint64_t) job->received_ms, (uint16_t) i, 0, 25,
                                   i * 1000u, (uint8_t) (i % 7));
      last = dr_store_worker_write (worker, job_add_frame, job, g_free);
      /* Deliver commits as they come, as the daemon's main loop would. */
      if (i % 1024 == 0)
        while (g_main_context_iteration (NULL, FALSE))
          ;
    }
  while (progress.last_serial < last)
    g_main_context_iteration (NULL, TRUE);
  report ("worker, durable commits", n_frames, (g_get_monotonic_time () - start) / 1e6,
          cpu_seconds () - cpu_start, progress.n_commits);
  g_object_unref (worker);
}

static void
bench_direct (const char *dir, guint n_frames)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DrStore) store = NULL;
  uint8_t raw[DR_FRAME_MAX_LEN];
  int64_t roller;
  guint commits = 0;
  gint64 start;
  double cpu_start;

  store = open_store (dir, "direct.db", &roller);
  start = g_get_monotonic_time ();
  cpu_start = cpu_seconds ();
  for (guint i = 0; i < n_frames; i++)
    {
      int64_t t = 1700000000000 + i * 250;
      size_t len
          = store_test_frame (raw, (uint64_t) t, (uint16_t) i, 0, 25, i * 1000u, (uint8_t) (i % 7));

      if (!dr_store_begin (store, &error)
          || !dr_store_add_frame (store, roller, t, raw, len, DR_CODEC_OK, NULL, &error))
        g_error ("%s", error->message);
      /* About what the worker commits per 250 ms at 1 M samples/s. */
      if (i % 10000 == 9999)
        {
          if (!dr_store_commit (store, TRUE, &error))
            g_error ("%s", error->message);
          commits++;
        }
    }
  if (!dr_store_commit (store, TRUE, &error))
    g_error ("%s", error->message);
  commits++;
  report ("direct, durable every 10000", n_frames, (g_get_monotonic_time () - start) / 1e6,
          cpu_seconds () - cpu_start, commits);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  guint n_frames = argc > 1 ? (guint) strtoul (argv[1], NULL, 10) : 400000;

  if (n_frames == 0)
    {
      fprintf (stderr, "usage: %s [FRAMES]\n", argv[0]);
      return 2;
    }
  dir = g_dir_make_tmp ("dermaroll-bench-store-XXXXXX", &error);
  if (dir == NULL)
    g_error ("%s", error->message);

  printf ("bench-store: %u frames of 25 samples (%u samples), SQLite %s, in %s\n", n_frames,
          n_frames * 25, sqlite3_libversion (), dir);
  bench_worker (dir, n_frames);
  bench_direct (dir, n_frames);

  store_test_rm_rf (dir);
  return 0;
}
