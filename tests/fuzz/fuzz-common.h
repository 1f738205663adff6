/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-common.h: what every libFuzzer target of tests/fuzz/ checks.
 *
 * An input must decode or be rejected with a reason in range, never crash;
 * whatever decodes must re-encode to exactly the input bytes, because the
 * codec keeps every bit (reserved flags included). abort () is how a target
 * reports a wrong answer: libFuzzer keeps the input as a crash.
 */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "roller-protocol.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static inline void
fuzz_check_rejection (DrCodecStatus st)
{
  if (st == DR_CODEC_OK || st >= DR_CODEC_N_ERRORS)
    abort ();
  /* Every reason has a stable name: "unknown" would mean a gap in the table. */
  if (strcmp (dr_codec_status_name (st), "unknown") == 0)
    abort ();
}

static inline void
fuzz_check_same_bytes (DrCodecStatus st, const uint8_t *buf, size_t len, const uint8_t *data,
                       size_t size)
{
  if (st != DR_CODEC_OK || len != size || memcmp (buf, data, size) != 0)
    abort ();
}
