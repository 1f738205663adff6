/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control-point.h: what a Control Point request and its answer mean.
 *
 * The roller answers every request written to its Control Point with an
 * indication (opcode 0x80, the request's opcode, a result). These helpers
 * say how long to wait for it, whether an indication is an answer at
 * all, and what its result means for the request: done, try again (the
 * roller is busy) or an error with the DrError code that fits.
 */
#pragma once

#include <gio/gio.h>

#include "roller-protocol.h"

G_BEGIN_DECLS

typedef enum
{
  DR_CONTROL_DONE,
  DR_CONTROL_RETRY, /* BUSY: the same request again, a bit later */
  DR_CONTROL_FAILED,
} DrControlOutcome;

const char *dr_control_opcode_name (guint8 opcode);
/* How long an answer to @opcode may take, in ms. */
guint dr_control_timeout_ms (guint8 opcode);

/* FALSE when @data is no answer (the cached Value also changes for other
 * reasons); else @status says whether it decoded into @response. */
gboolean dr_control_parse_answer (const guint8 *data, gsize len, DrControlResponse *response,
                                  DrCodecStatus *status);

/* @result of @opcode: FAILED sets @error (NotSupported, Refused). */
DrControlOutcome dr_control_check_result (guint8 opcode, guint8 result, const char *label,
                                          GError **error);

G_END_DECLS
