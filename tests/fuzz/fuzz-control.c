/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-control.c: libFuzzer target for the Control Point: the responses
 * the roller indicates (outside input for the daemon) and the requests the
 * daemon writes (outside input for the emulator's firmware model).
 * Seeds: tests/fuzz/control/. */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  DrControlRequest req;
  DrControlResponse resp;
  uint8_t buf[DR_CONTROL_REQUEST_MAX_LEN];
  size_t len = 0;
  DrCodecStatus st = dr_control_response_decode (data, size, &resp);

  if (st != DR_CODEC_OK)
    fuzz_check_rejection (st);
  else if (size != DR_CONTROL_RESPONSE_LEN || data[0] != DR_OP_RESPONSE
           || resp.result > DR_RESULT_BUSY)
    abort ();
  else
    fuzz_check_same_bytes (dr_control_response_encode (&resp, buf, sizeof buf, &len), buf, len,
                           data, size);

  st = dr_control_request_decode (data, size, &req);
  if (st != DR_CODEC_OK)
    fuzz_check_rejection (st);
  else
    fuzz_check_same_bytes (dr_control_request_encode (&req, buf, sizeof buf, &len), buf, len, data,
                           size);
  return 0;
}
