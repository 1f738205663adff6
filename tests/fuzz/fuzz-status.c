/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-status.c: libFuzzer target for the Status characteristic (read on
 * every connect and notified). Seeds: tests/fuzz/status/. */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  DrStatus status;
  uint8_t buf[DR_STATUS_LEN];
  size_t len = 0;
  DrCodecStatus st = dr_status_decode (data, size, &status);

  if (st != DR_CODEC_OK)
    {
      fuzz_check_rejection (st);
      return 0;
    }
  if (size != DR_STATUS_LEN || status.state > DR_ROLLER_STATE_FAULT)
    abort ();
  st = dr_status_encode (&status, buf, sizeof buf, &len);
  fuzz_check_same_bytes (st, buf, len, data, size);
  return 0;
}
