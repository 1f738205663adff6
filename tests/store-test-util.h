/* store-test-util.h: helpers shared by the store tests and the store
 * benchmark: scratch directories and encoded frames.
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "roller-protocol.h"

/* Removes @path and everything under it. */
static inline void
store_test_rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);

  if (dir != NULL)
    {
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          store_test_rm_rf (child);
        }
      g_dir_close (dir);
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}

/* A well-formed frame of @n samples: 10 ms apart, 40 ticks each, 2 N in
 * @zone. Returns its length. */
static inline size_t
store_test_frame (uint8_t buf[DR_FRAME_MAX_LEN], uint64_t t0_ms, uint16_t seq, uint8_t flags,
                  unsigned n, uint32_t first_ticks, uint8_t zone)
{
  DrFrame frame;
  size_t len = 0;

  memset (&frame, 0, sizeof frame);
  frame.version = DR_PROTOCOL_VERSION;
  frame.flags = flags;
  frame.seq = seq;
  frame.t0_ms = t0_ms;
  frame.n_samples = (uint8_t) n;
  for (unsigned i = 0; i < n; i++)
    {
      frame.samples[i].dt_ms = i == 0 ? 0 : 10;
      frame.samples[i].ticks = first_ticks + 40 * i;
      frame.samples[i].force_mn = 2000;
      frame.samples[i].zone = zone;
    }
  g_assert_cmpint (dr_frame_encode (&frame, buf, DR_FRAME_MAX_LEN, &len), ==, DR_CODEC_OK);
  return len;
}
