/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* household.c: the state the rollers of one household share. */
#include "household.h"

#include <string.h>

struct _DrHousehold
{
  GObject parent_instance;

  guint64 last_session_id;
  GArray *treatments;           /* DrTreatment: as stored at startup, then as sessions end */
  GHashTable *head_revolutions; /* head id → double*, as stored at startup */
};

G_DEFINE_TYPE (DrHousehold, dr_household, G_TYPE_OBJECT)

static void
dr_household_finalize (GObject *object)
{
  DrHousehold *self = DR_HOUSEHOLD (object);

  g_clear_pointer (&self->head_revolutions, g_hash_table_unref);
  g_clear_pointer (&self->treatments, g_array_unref);
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
  self->treatments = g_array_new (FALSE, FALSE, sizeof (DrTreatment));
}

DrHousehold *
dr_household_new (guint64 last_session_id, const GArray *treatments, GHashTable *head_revolutions)
{
  DrHousehold *self = g_object_new (DR_TYPE_HOUSEHOLD, NULL);

  self->last_session_id = last_session_id;
  if (treatments)
    g_array_append_vals (self->treatments, treatments->data, treatments->len);
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

const DrTreatment *
dr_household_get_treatments (DrHousehold *self, gsize *n)
{
  g_return_val_if_fail (DR_IS_HOUSEHOLD (self), NULL);
  g_return_val_if_fail (n != NULL, NULL);
  *n = self->treatments->len;
  return (const DrTreatment *) self->treatments->data;
}

void
dr_household_add_treatment (DrHousehold *self, const DrTreatment *treatment)
{
  g_return_if_fail (DR_IS_HOUSEHOLD (self));
  g_return_if_fail (treatment != NULL);
  /* Every session adds one per zone: few enough to keep them all. */
  g_array_append_vals (self->treatments, treatment, 1);
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
