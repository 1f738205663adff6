/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-head-info.c: libFuzzer target for the Head Info characteristic.
 * Seeds: tests/fuzz/head-info/. */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  DrHeadInfo info;
  uint8_t buf[DR_HEAD_INFO_LEN];
  size_t len = 0;
  DrCodecStatus st = dr_head_info_decode (data, size, &info);

  if (st != DR_CODEC_OK)
    {
      fuzz_check_rejection (st);
      return 0;
    }
  if (size != DR_HEAD_INFO_LEN || info.version != DR_PROTOCOL_VERSION)
    abort ();
  st = dr_head_info_encode (&info, buf, sizeof buf, &len);
  fuzz_check_same_bytes (st, buf, len, data, size);
  return 0;
}
