/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* frame-key.h: what names one frame of one roller, (t0, seq).
 *
 * The store keys its frames by it, the ACK ledger acknowledges up to one,
 * and the seen-frame sets hold it packed into 64 bits. Its own header so
 * that none of them needs another's for one small type.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct
{
  uint64_t t0_ms;
  uint16_t seq;
} DrFrameKey;

/* (t0 << 16) | seq: epoch milliseconds fit in 48 bits until the year 10889. */
static inline guint64
dr_frame_key_pack (const DrFrameKey *key)
{
  return (key->t0_ms << 16) | key->seq;
}

G_END_DECLS
