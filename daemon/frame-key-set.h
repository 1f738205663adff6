/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* frame-key-set.h: a set of packed frame keys (dr_frame_key_pack ()).
 *
 * The daemon remembers every frame it has taken in since the roller last
 * got an ACK for it, tens of thousands in a burst. One flat open-addressed
 * table per set keeps that to 8 bytes a key and no allocation per frame, so
 * nothing small and long-lived is left between the per-frame buffers that
 * the store frees (which would keep the heap fragmented after a burst).
 */
#pragma once

#include <glib.h>

#include "frame-key.h"

G_BEGIN_DECLS

typedef struct _DrFrameKeySet DrFrameKeySet;

DrFrameKeySet *dr_frame_key_set_new (void);
void dr_frame_key_set_free (DrFrameKeySet *set);

gboolean dr_frame_key_set_contains (const DrFrameKeySet *set, guint64 key);
/* FALSE when @key was there already. */
gboolean dr_frame_key_set_add (DrFrameKeySet *set, guint64 key);
/* FALSE when @key was not there. */
gboolean dr_frame_key_set_remove (DrFrameKeySet *set, guint64 key);
/* Empties the set and gives back its memory beyond a small table. */
void dr_frame_key_set_clear (DrFrameKeySet *set);
guint dr_frame_key_set_size (const DrFrameKeySet *set);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrFrameKeySet, dr_frame_key_set_free)

G_END_DECLS
