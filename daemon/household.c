/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* household.c: the state the rollers of one household share, per person. */
#include "household.h"

#include <errno.h>
#include <string.h>

typedef struct
{
  GArray *treatments; /* DrTreatment: as stored at startup, then as sessions end */
  gboolean excluded[DR_MAX_ZONES];
  char *name; /* as on the bus, for what a roller says (NULL until told) */
} Person;

struct _DrHousehold
{
  GObject parent_instance;

  guint64 last_session_id;
  gint64 default_person;
  GHashTable *people;           /* person id (gint64*) → Person* */
  GHashTable *head_revolutions; /* head id → double*, as stored at startup */
};

G_DEFINE_TYPE (DrHousehold, dr_household, G_TYPE_OBJECT)

enum
{
  SIGNAL_PERSON_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

char *
dr_person_object_path (gint64 person_id)
{
  if (person_id <= 0)
    return g_strdup ("/");
  return g_strdup_printf (DR_PERSON_PATH_PREFIX "%" G_GINT64_FORMAT, person_id);
}

gboolean
dr_person_id_from_path (const char *path, gint64 *person_id)
{
  const char *digits;
  char *end = NULL;
  guint64 id;

  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_str_has_prefix (path, DR_PERSON_PATH_PREFIX))
    return FALSE;
  digits = path + strlen (DR_PERSON_PATH_PREFIX);
  /* Only the form we make: digits, no sign, no leading zero. */
  if (!g_ascii_isdigit (digits[0]) || digits[0] == '0')
    return FALSE;
  errno = 0;
  id = g_ascii_strtoull (digits, &end, 10);
  if (errno != 0 || *end != '\0' || id > G_MAXINT64)
    return FALSE;
  if (person_id != NULL)
    *person_id = (gint64) id;
  return TRUE;
}

static void
person_free (gpointer data)
{
  Person *person = data;

  g_array_unref (person->treatments);
  g_free (person->name);
  g_free (person);
}

static void
dr_household_finalize (GObject *object)
{
  DrHousehold *self = DR_HOUSEHOLD (object);

  g_clear_pointer (&self->head_revolutions, g_hash_table_unref);
  g_clear_pointer (&self->people, g_hash_table_unref);
  G_OBJECT_CLASS (dr_household_parent_class)->finalize (object);
}

static void
dr_household_class_init (DrHouseholdClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = dr_household_finalize;

  /* A person came, went, or their treatments changed: what depends on
   * every skin (the zone-ready timer) follows without being called. */
  signals[SIGNAL_PERSON_CHANGED]
      = g_signal_new ("person-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void
dr_household_init (DrHousehold *self)
{
  self->people = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, person_free);
}

DrHousehold *
dr_household_new (guint64 last_session_id, gint64 default_person, GHashTable *head_revolutions)
{
  DrHousehold *self = g_object_new (DR_TYPE_HOUSEHOLD, NULL);

  self->last_session_id = last_session_id;
  self->default_person = default_person;
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

guint64
dr_household_get_last_session_id (DrHousehold *self)
{
  g_return_val_if_fail (DR_IS_HOUSEHOLD (self), 0);
  return self->last_session_id;
}

void
dr_household_add_person (DrHousehold *self, gint64 person_id, const GArray *treatments,
                         const gboolean *excluded)
{
  Person *person;

  g_return_if_fail (DR_IS_HOUSEHOLD (self));

  person = g_new0 (Person, 1);
  person->treatments = g_array_new (FALSE, FALSE, sizeof (DrTreatment));
  if (treatments)
    g_array_append_vals (person->treatments, treatments->data, treatments->len);
  if (excluded)
    memcpy (person->excluded, excluded, sizeof person->excluded);
  g_hash_table_replace (self->people, g_memdup2 (&person_id, sizeof person_id), person);
  g_signal_emit (self, signals[SIGNAL_PERSON_CHANGED], 0, person_id);
}

void
dr_household_remove_person (DrHousehold *self, gint64 person_id)
{
  g_return_if_fail (DR_IS_HOUSEHOLD (self));
  g_return_if_fail (person_id != self->default_person);
  if (g_hash_table_remove (self->people, &person_id))
    g_signal_emit (self, signals[SIGNAL_PERSON_CHANGED], 0, person_id);
}

gboolean
dr_household_has_person (DrHousehold *self, gint64 person_id)
{
  g_return_val_if_fail (DR_IS_HOUSEHOLD (self), FALSE);
  return g_hash_table_contains (self->people, &person_id);
}

gint64
dr_household_get_default_person (DrHousehold *self)
{
  g_return_val_if_fail (DR_IS_HOUSEHOLD (self), 0);
  return self->default_person;
}

const DrTreatment *
dr_household_get_treatments (DrHousehold *self, gint64 person_id, gsize *n)
{
  Person *person;

  g_return_val_if_fail (DR_IS_HOUSEHOLD (self), NULL);
  g_return_val_if_fail (n != NULL, NULL);

  person = g_hash_table_lookup (self->people, &person_id);
  *n = person ? person->treatments->len : 0;
  return person ? (const DrTreatment *) person->treatments->data : NULL;
}

void
dr_household_add_treatment (DrHousehold *self, gint64 person_id, const DrTreatment *treatment)
{
  Person *person;

  g_return_if_fail (DR_IS_HOUSEHOLD (self));
  g_return_if_fail (treatment != NULL);

  /* A person removed meanwhile has no skin to remember it on. */
  person = g_hash_table_lookup (self->people, &person_id);
  if (person == NULL)
    return;
  /* Every session adds one per zone: few enough to keep them all. */
  g_array_append_vals (person->treatments, treatment, 1);
  g_signal_emit (self, signals[SIGNAL_PERSON_CHANGED], 0, person_id);
}

gboolean
dr_household_is_zone_excluded (DrHousehold *self, gint64 person_id, int zone)
{
  Person *person;

  g_return_val_if_fail (DR_IS_HOUSEHOLD (self), FALSE);

  if (zone < 0 || zone >= DR_MAX_ZONES)
    return FALSE;
  person = g_hash_table_lookup (self->people, &person_id);
  return person != NULL && person->excluded[zone];
}

void
dr_household_set_zone_excluded (DrHousehold *self, gint64 person_id, int zone, gboolean excluded)
{
  Person *person;

  g_return_if_fail (DR_IS_HOUSEHOLD (self));
  g_return_if_fail (zone >= 0 && zone < DR_MAX_ZONES);

  person = g_hash_table_lookup (self->people, &person_id);
  if (person != NULL)
    person->excluded[zone] = excluded;
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

void
dr_household_set_person_name (DrHousehold *self, gint64 person_id, const char *name)
{
  Person *person;

  g_return_if_fail (DR_IS_HOUSEHOLD (self));

  person = g_hash_table_lookup (self->people, &person_id);
  if (person == NULL)
    return;
  g_free (person->name);
  person->name = g_strdup (name);
}

const char *
dr_household_get_person_name (DrHousehold *self, gint64 person_id)
{
  Person *person;

  g_return_val_if_fail (DR_IS_HOUSEHOLD (self), NULL);

  person = g_hash_table_lookup (self->people, &person_id);
  return person ? person->name : NULL;
}
