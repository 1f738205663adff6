/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-device-info.c: libFuzzer target for the standard characteristics
 * the daemon reads: Battery Level (one byte, 0..100) and the Device
 * Information strings, which are cut at a NUL, bounded, and never split
 * inside a UTF-8 sequence. Seeds: tests/fuzz/device-info/. */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  uint8_t percent = 0;
  DrCodecStatus st = dr_battery_level_decode (data, size, &percent);
  size_t text;

  if (st != DR_CODEC_OK)
    fuzz_check_rejection (st);
  else if (size != 1 || percent != data[0] || percent > 100)
    abort ();

  text = dr_text_value_len (data, size);
  if (text > size || text > DR_TEXT_VALUE_MAX_LEN || memchr (data, '\0', text) != NULL)
    abort ();
  /* Cut short only at a NUL or at the bound, and there not inside a
   * sequence of up to 4 bytes. */
  if (text < size && data[text] != '\0')
    {
      if (text + 3 < DR_TEXT_VALUE_MAX_LEN)
        abort ();
      if ((data[text] & 0xC0) == 0x80 && text + 3 != DR_TEXT_VALUE_MAX_LEN)
        abort ();
    }
  return 0;
}
