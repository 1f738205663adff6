/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-probe.c: configure-time check that clang can link a libFuzzer
 * program with the sanitizers tests/fuzz-frame-decode.c is built with. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return size > 0 && data[0] == 0;
}
