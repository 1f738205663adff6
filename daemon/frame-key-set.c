/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* frame-key-set.c: open addressing with linear probing over a power-of-two
 * table, grown at 50 % load; removal shifts the following run back, so no
 * tombstones. Slot value 0 means empty; the key 0 (t0 0, seq 0) is kept
 * aside. */
#include "frame-key-set.h"

#include <string.h>

#define MIN_CAPACITY 64

struct _DrFrameKeySet
{
  guint64 *slots;
  guint capacity; /* a power of two */
  guint size;     /* keys in slots, not counting key 0 */
  gboolean has_zero;
};

static guint
slot_of (guint64 key, guint capacity)
{
  /* Fibonacci hashing: t0 and seq both move in small steps. */
  return (guint) ((key * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15)) >> 32) & (capacity - 1);
}

static void
resize (DrFrameKeySet *set, guint capacity)
{
  guint64 *old = set->slots;
  guint old_capacity = set->capacity;

  set->slots = g_new0 (guint64, capacity);
  set->capacity = capacity;
  for (guint i = 0; i < old_capacity; i++)
    if (old[i] != 0)
      {
        guint j = slot_of (old[i], capacity);
        while (set->slots[j] != 0)
          j = (j + 1) & (capacity - 1);
        set->slots[j] = old[i];
      }
  g_free (old);
}

DrFrameKeySet *
dr_frame_key_set_new (void)
{
  DrFrameKeySet *set = g_new0 (DrFrameKeySet, 1);
  resize (set, MIN_CAPACITY);
  return set;
}

void
dr_frame_key_set_free (DrFrameKeySet *set)
{
  if (set == NULL)
    return;
  g_free (set->slots);
  g_free (set);
}

gboolean
dr_frame_key_set_contains (const DrFrameKeySet *set, guint64 key)
{
  guint i;

  if (key == 0)
    return set->has_zero;
  for (i = slot_of (key, set->capacity); set->slots[i] != 0; i = (i + 1) & (set->capacity - 1))
    if (set->slots[i] == key)
      return TRUE;
  return FALSE;
}

gboolean
dr_frame_key_set_add (DrFrameKeySet *set, guint64 key)
{
  guint i;

  if (key == 0)
    {
      gboolean added = !set->has_zero;
      set->has_zero = TRUE;
      return added;
    }
  if ((set->size + 1) * 2 > set->capacity)
    resize (set, set->capacity * 2);
  for (i = slot_of (key, set->capacity); set->slots[i] != 0; i = (i + 1) & (set->capacity - 1))
    if (set->slots[i] == key)
      return FALSE;
  set->slots[i] = key;
  set->size++;
  return TRUE;
}

gboolean
dr_frame_key_set_remove (DrFrameKeySet *set, guint64 key)
{
  guint mask = set->capacity - 1;
  guint i, j;

  if (key == 0)
    {
      gboolean had = set->has_zero;
      set->has_zero = FALSE;
      return had;
    }
  for (i = slot_of (key, set->capacity); set->slots[i] != key; i = (i + 1) & mask)
    if (set->slots[i] == 0)
      return FALSE;

  /* Close the gap: a later key of the same run moves back into it unless
   * its home slot lies cyclically after the gap, up to where it stands. */
  for (j = (i + 1) & mask; set->slots[j] != 0; j = (j + 1) & mask)
    {
      guint home = slot_of (set->slots[j], set->capacity);
      gboolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);

      if (stays)
        continue;
      set->slots[i] = set->slots[j];
      i = j;
    }
  set->slots[i] = 0;
  set->size--;
  return TRUE;
}

void
dr_frame_key_set_clear (DrFrameKeySet *set)
{
  set->size = 0;
  set->has_zero = FALSE;
  if (set->capacity > MIN_CAPACITY)
    {
      g_free (set->slots);
      set->slots = NULL;
      set->capacity = 0;
      resize (set, MIN_CAPACITY);
    }
  else
    memset (set->slots, 0, sizeof (guint64) * set->capacity);
}

guint
dr_frame_key_set_size (const DrFrameKeySet *set)
{
  return set->size + (set->has_zero ? 1 : 0);
}
