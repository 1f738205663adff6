/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-frame.c: libFuzzer target for Roll Measurement frames (PROTOCOL.md:
 * versions 1 and 2, 9- and 10-byte samples; any other version byte is
 * rejected). The decoder is checked against the acceptance rule written out
 * independently here, every accepted frame must re-encode to its bytes, and
 * the time of its last sample must be computable for any t0 the air
 * carries. Seeds: tests/fuzz/frame/. */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  DrFrame frame;
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = 0;
  uint64_t end = 0;
  DrCodecStatus st = dr_frame_decode (data, size, &frame);
  int v2 = size >= DR_FRAME_HEADER_LEN && data[0] == DR_PROTOCOL_VERSION_2;
  int valid
      = size >= DR_FRAME_HEADER_LEN && (data[0] == DR_PROTOCOL_VERSION || v2) && data[12] >= 1
        && data[12] <= (v2 ? DR_FRAME_V2_MAX_SAMPLES : DR_FRAME_MAX_SAMPLES)
        && size
               == DR_FRAME_HEADER_LEN + (size_t) (v2 ? DR_SAMPLE_V2_LEN : DR_SAMPLE_LEN) * data[12];

  if (!valid)
    {
      fuzz_check_rejection (st);
      return 0;
    }
  if (st != DR_CODEC_OK)
    abort ();
  st = dr_frame_encode (&frame, buf, sizeof buf, &len);
  fuzz_check_same_bytes (st, buf, len, data, size);

  /* The last sample's time, summed here independently (unsigned: wraps). */
  end = frame.t0_ms;
  for (unsigned i = 1; i < frame.n_samples; i++)
    end += frame.samples[i].dt_ms;
  if (dr_frame_end_ms (&frame) != end)
    abort ();
  return 0;
}
