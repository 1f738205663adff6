/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control-point.c: the meaning of Control Point requests and answers
 * (PROTOCOL.md, "Control Point"), kept apart from the queue that sends
 * them so the mapping of results to errors is in one place.
 */
#include "control-point.h"

#include "dr-error.h"

#define CONTROL_TIMEOUT_MS 5000
/* REQUEST_HISTORY: 10 s without progress (a history frame or the answer);
 * a long history keeps it alive. */
#define HISTORY_TIMEOUT_MS 10000

const char *
dr_control_opcode_name (guint8 opcode)
{
  switch (opcode)
    {
      case DR_OP_SET_TIME:
        return "SET_TIME";
      case DR_OP_START_STREAM:
        return "START_STREAM";
      case DR_OP_STOP_STREAM:
        return "STOP_STREAM";
      case DR_OP_REQUEST_HISTORY:
        return "REQUEST_HISTORY";
      case DR_OP_ACK:
        return "ACK";
      default:
        return "?";
    }
}

guint
dr_control_timeout_ms (guint8 opcode)
{
  return opcode == DR_OP_REQUEST_HISTORY ? HISTORY_TIMEOUT_MS : CONTROL_TIMEOUT_MS;
}

gboolean
dr_control_parse_answer (const guint8 *data, gsize len, DrControlResponse *response,
                         DrCodecStatus *status)
{
  /* Some stacks store what was written in the cached Value: only 0x80 is
   * an answer. */
  if (len == 0 || data[0] != DR_OP_RESPONSE)
    return FALSE;
  *status = dr_control_response_decode (data, len, response);
  return TRUE;
}

DrControlOutcome
dr_control_check_result (guint8 opcode, guint8 result, const char *label, GError **error)
{
  switch (result)
    {
      case DR_RESULT_OK:
        return DR_CONTROL_DONE;
      case DR_RESULT_BUSY:
        return DR_CONTROL_RETRY;
      case DR_RESULT_UNSUPPORTED:
        g_set_error (error, DR_ERROR, DR_ERROR_NOT_SUPPORTED, "Roller %s does not support %s",
                     label, dr_control_opcode_name (opcode));
        return DR_CONTROL_FAILED;
      case DR_RESULT_INVALID_PARAMETER:
      default:
        g_set_error (error, DR_ERROR, DR_ERROR_REFUSED, "Roller %s refused %s (result %u)", label,
                     dr_control_opcode_name (opcode), result);
        return DR_CONTROL_FAILED;
    }
}
