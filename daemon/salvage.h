/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* salvage.h: dermarolld --salvage: the readable frames of a damaged
 * database into the current one, and their sessions recomputed.
 *
 * The raw frames are the truth: every one that can still be read is
 * stored again (once: the duplicate check keeps frames the current
 * database has already), then replayed through the codec and the engine,
 * roller by roller in the order the roller produced them, and the
 * sessions they make are stored with their totals and events.
 */
#pragma once

#include <glib.h>

#include "engine.h"
#include "store.h"

G_BEGIN_DECLS

typedef struct
{
  guint64 frames_read;      /* raw frames read out of the damaged file */
  guint64 frames_stored;    /* of those, new to the current database */
  guint64 frames_malformed; /* read but not decodable: not stored */
  guint64 unreadable;       /* rows (ids) that could not be read */
  guint64 sessions;         /* sessions recomputed from the stored frames */
  guint rollers;
} DrSalvageResult;

/* Reads @damaged_path (never written: a copy is read) into @store. */
gboolean dr_salvage (const char *damaged_path, DrStore *store, const DrEngineConfig *config,
                     DrSalvageResult *result, GError **error);

G_END_DECLS
