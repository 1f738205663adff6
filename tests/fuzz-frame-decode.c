/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-frame-decode.c: libFuzzer target for the roller protocol decoders.
 *
 * Any input must decode or be rejected with a reason in range, never crash.
 * Whatever decodes must re-encode to exactly the input bytes: the codec keeps
 * every bit (reserved flags included), so any difference is a codec bug. The
 * frame decoder is also checked against the acceptance rule of PROTOCOL.md,
 * written out independently here. Built with clang by tests/meson.build.
 */
#include <stdlib.h>
#include <string.h>

#include "roller-protocol.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_rejection (DrCodecStatus st)
{
  if (st == DR_CODEC_OK || st >= DR_CODEC_N_ERRORS)
    abort ();
}

static void
check_same_bytes (DrCodecStatus st, const uint8_t *buf, size_t len, const uint8_t *data,
                  size_t size)
{
  if (st != DR_CODEC_OK || len != size || memcmp (buf, data, size) != 0)
    abort ();
}

static void
fuzz_frame (const uint8_t *data, size_t size)
{
  DrFrame frame;
  uint8_t buf[DR_FRAME_MAX_LEN];
  size_t len = 0;
  DrCodecStatus st = dr_frame_decode (data, size, &frame);
  bool v2 = size >= DR_FRAME_HEADER_LEN && data[0] == DR_PROTOCOL_VERSION_2;
  bool valid
      = size >= DR_FRAME_HEADER_LEN && (data[0] == DR_PROTOCOL_VERSION || v2) && data[12] >= 1
        && data[12] <= (v2 ? DR_FRAME_V2_MAX_SAMPLES : DR_FRAME_MAX_SAMPLES)
        && size
               == DR_FRAME_HEADER_LEN + (size_t) (v2 ? DR_SAMPLE_V2_LEN : DR_SAMPLE_LEN) * data[12];

  if (!valid)
    {
      check_rejection (st);
      return;
    }
  if (st != DR_CODEC_OK)
    abort ();
  st = dr_frame_encode (&frame, buf, sizeof buf, &len);
  check_same_bytes (st, buf, len, data, size);
}

static void
fuzz_head_info (const uint8_t *data, size_t size)
{
  DrHeadInfo info;
  uint8_t buf[DR_HEAD_INFO_LEN];
  size_t len = 0;
  DrCodecStatus st = dr_head_info_decode (data, size, &info);

  if (st != DR_CODEC_OK)
    {
      check_rejection (st);
      return;
    }
  st = dr_head_info_encode (&info, buf, sizeof buf, &len);
  check_same_bytes (st, buf, len, data, size);
}

static void
fuzz_status (const uint8_t *data, size_t size)
{
  DrStatus status;
  uint8_t buf[DR_STATUS_LEN];
  size_t len = 0;
  DrCodecStatus st = dr_status_decode (data, size, &status);

  if (st != DR_CODEC_OK)
    {
      check_rejection (st);
      return;
    }
  st = dr_status_encode (&status, buf, sizeof buf, &len);
  check_same_bytes (st, buf, len, data, size);
}

static void
fuzz_control (const uint8_t *data, size_t size)
{
  DrControlRequest req;
  DrControlResponse resp;
  uint8_t buf[DR_CONTROL_REQUEST_MAX_LEN];
  size_t len = 0;
  DrCodecStatus st = dr_control_request_decode (data, size, &req);

  if (st != DR_CODEC_OK)
    check_rejection (st);
  else
    check_same_bytes (dr_control_request_encode (&req, buf, sizeof buf, &len), buf, len, data,
                      size);

  st = dr_control_response_decode (data, size, &resp);
  if (st != DR_CODEC_OK)
    check_rejection (st);
  else
    check_same_bytes (dr_control_response_encode (&resp, buf, sizeof buf, &len), buf, len, data,
                      size);
}

static void
fuzz_battery (const uint8_t *data, size_t size)
{
  uint8_t percent = 0;
  DrCodecStatus st = dr_battery_level_decode (data, size, &percent);

  if (st != DR_CODEC_OK)
    check_rejection (st);
  else if (size != 1 || percent != data[0] || percent > 100)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_frame (data, size);
  fuzz_head_info (data, size);
  fuzz_status (data, size);
  fuzz_control (data, size);
  fuzz_battery (data, size);
  return 0;
}
