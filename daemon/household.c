/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* household.c: the state the rollers of one household share. */
#include "household.h"

#include <string.h>

#include "engine-config.h"

struct _DrHousehold
{
  GObject parent_instance;

  guint64 last_session_id;
  gint64 last_treated[DR_MAX_ZONES];
  GHashTable *head_revolutions; /* head id → double*, as stored at startup */
};

G_DEFINE_TYPE (DrHousehold, dr_household, G_TYPE_OBJECT)

static void
dr_household_finalize (GObject *object)
{
  DrHousehold *self = DR_HOUSEHOLD (object);

  g_clear_pointer (&self->head_revolutions, g_hash_table_unref);
  G_OBJECT_CLASS (dr_household_parent_class)->finalize (object);
}

static void
dr_household_class_init (DrHouseholdClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dr_household_finalize;
}

static void
dr_household_init (DrHousehold *self)
{
  for (int z = 0; z < DR_MAX_ZONES; z++)
    self->last_treated[z] = G_MININT64;
}

DrHousehold *
dr_household_new (guint64 last_session_id, const gint64 *last_treated, GHashTable *head_revolutions)
{
  DrHousehold *self = g_object_new (DR_TYPE_HOUSEHOLD, NULL);

  self->last_session_id = last_session_id;
  if (last_treated)
    memcpy (self->last_treated, last_treated, sizeof self->last_treated);
  if (head_revolutions)
    self->head_revolutions = g_hash_table_ref (head_revolutions);
  return self;
}

guint64
dr_household_next_session_id (DrHousehold *self)
{
  g_return_val_if_fail (DR_IS_HOUSEHOLD (self), 0);
  return ++self->last_session_id;
}

gint64
dr_household_get_zone_last_treated (DrHousehold *self, int zone)
{
  g_return_val_if_fail (DR_IS_HOUSEHOLD (self), G_MININT64);
  if (zone < 0 || zone >= DR_MAX_ZONES)
    return G_MININT64;
  return self->last_treated[zone];
}

void
dr_household_set_zone_last_treated (DrHousehold *self, int zone, gint64 time_ms)
{
  g_return_if_fail (DR_IS_HOUSEHOLD (self));
  if (zone < 0 || zone >= DR_MAX_ZONES)
    return;
  self->last_treated[zone] = time_ms;
}

double
dr_household_get_head_revolutions (DrHousehold *self, guint32 head_id)
{
  double *revs;

  g_return_val_if_fail (DR_IS_HOUSEHOLD (self), 0.0);
  if (self->head_revolutions == NULL)
    return 0.0;
  revs = g_hash_table_lookup (self->head_revolutions, GUINT_TO_POINTER (head_id));
  return revs ? *revs : 0.0;
}
