/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* people.c: see people.h. */
#include "people.h"

#include <string.h>

/* The N of /org/dermaroll/person/N; people the daemon adds later have a
 * larger one, and a removed person's is never given again. */
static guint64
person_id (DrDBusPerson1 *person)
{
  const char *path = g_dbus_proxy_get_object_path (G_DBUS_PROXY (person));
  const char *slash = strrchr (path, '/');
  guint64 id = G_MAXUINT64;

  if (slash != NULL)
    g_ascii_string_to_unsigned (slash + 1, 10, 0, G_MAXUINT64, &id, NULL);
  return id;
}

static gint
compare_id (gconstpointer a, gconstpointer b)
{
  guint64 ia = person_id ((DrDBusPerson1 *) a), ib = person_id ((DrDBusPerson1 *) b);

  if (ia != ib)
    return ia < ib ? -1 : 1;
  return g_strcmp0 (g_dbus_proxy_get_object_path (G_DBUS_PROXY (a)),
                    g_dbus_proxy_get_object_path (G_DBUS_PROXY (b)));
}

GList *
dr_people_list (GDBusObjectManager *objects)
{
  GList *all, *people = NULL;

  all = g_dbus_object_manager_get_objects (objects);
  for (GList *l = all; l != NULL; l = l->next)
    {
      DrDBusPerson1 *person = dr_dbus_object_get_person1 (DR_DBUS_OBJECT (l->data));
      if (person != NULL)
        people = g_list_prepend (people, person);
    }
  g_list_free_full (all, g_object_unref);
  return g_list_sort (people, compare_id);
}

DrDBusPerson1 *
dr_people_find (GList *people, const char *name)
{
  g_autofree char *folded = NULL;
  DrDBusPerson1 *match = NULL;
  guint n = 0;

  if (name == NULL)
    return NULL;
  for (GList *l = people; l != NULL; l = l->next)
    if (g_strcmp0 (dr_dbus_person1_get_name (l->data), name) == 0)
      return l->data;
  /* "ann" for "Ann": typed names are forgiven their case, as long as
   * that leaves no doubt. */
  folded = g_utf8_casefold (name, -1);
  for (GList *l = people; l != NULL; l = l->next)
    {
      const char *other = dr_dbus_person1_get_name (l->data);
      g_autofree char *other_folded = other ? g_utf8_casefold (other, -1) : NULL;

      if (g_strcmp0 (folded, other_folded) == 0)
        {
          match = l->data;
          n++;
        }
    }
  return n == 1 ? match : NULL;
}

DrDBusPerson1 *
dr_people_lookup (GList *people, const char *path)
{
  for (GList *l = people; path != NULL && l != NULL; l = l->next)
    if (g_strcmp0 (g_dbus_proxy_get_object_path (G_DBUS_PROXY (l->data)), path) == 0)
      return l->data;
  return NULL;
}

char *
dr_people_names (GList *people)
{
  GString *out = g_string_new (NULL);

  for (GList *l = people; l != NULL; l = l->next)
    g_string_append_printf (out, "%s%s", out->len ? ", " : "", dr_dbus_person1_get_name (l->data));
  return g_string_free (out, FALSE);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

char **
dr_people_rollers (GDBusObjectManager *objects, const char *path)
{
  g_autoptr (GPtrArray) addresses = g_ptr_array_new ();
  GList *all = g_dbus_object_manager_get_objects (objects);

  for (GList *l = all; l != NULL; l = l->next)
    {
      g_autoptr (DrDBusRoller1) roller = dr_dbus_object_get_roller1 (DR_DBUS_OBJECT (l->data));

      if (roller != NULL && g_strcmp0 (dr_dbus_roller1_get_person (roller), path) == 0)
        g_ptr_array_add (addresses, g_strdup (dr_dbus_roller1_get_address (roller)));
    }
  g_list_free_full (all, g_object_unref);
  g_ptr_array_sort (addresses, compare_strings);
  g_ptr_array_add (addresses, NULL);
  return (char **) g_ptr_array_steal (addresses, NULL);
}

GHashTable *
dr_people_rest_status (DrDBusPerson1 *person, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  GHashTable *status;
  GVariantIter iter;
  const char *zone;
  DrRest rest;

  if (!dr_dbus_person1_call_get_rest_status_sync (person, G_DBUS_CALL_FLAGS_NONE, -1, &reply, NULL,
                                                  error))
    return NULL;
  status = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_variant_iter_init (&iter, reply);
  while (g_variant_iter_next (&iter, "{&s(xx)}", &zone, &rest.last_treated_ms, &rest.free_from_ms))
    g_hash_table_insert (status, g_strdup (zone), g_memdup2 (&rest, sizeof rest));
  return status;
}
