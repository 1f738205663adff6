/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* people.h: the daemon's people (org.dermaroll.Person1 objects in its
 * ObjectManager), as dermarollctl finds them: by name, as people type
 * them, and by object path, as sessions and rollers name them.
 */
#pragma once

#include "dr-dbus.h"

G_BEGIN_DECLS

/* "/": no person (ListPersonSessions' session whose person was removed
 * without their data), or every person as its argument. */
#define DR_PEOPLE_NOBODY "/"

/* Every Person1 of @objects in the order they were added (their id, the
 * N of /org/dermaroll/person/N); each a new reference. */
GList *dr_people_list (GDBusObjectManager *objects);
/* The person called @name in @people: the exact name, else the one name
 * that differs from it only in case; NULL when none is, or several are. */
DrDBusPerson1 *dr_people_find (GList *people, const char *name);
/* The person at @path in @people; NULL for "/" or one not there. */
DrDBusPerson1 *dr_people_lookup (GList *people, const char *path);
/* The names of @people, ", " between them, for a message. */
char *dr_people_names (GList *people);
/* The addresses of the Roller1 objects of @objects that belong to @path,
 * sorted; NULL-terminated, free with g_strfreev. */
char **dr_people_rollers (GDBusObjectManager *objects, const char *path);

/* One zone's Person1.GetRestStatus: when it was last treated and from
 * when it may be treated again, in ms since the epoch; 0 for never and
 * for now. */
typedef struct
{
  gint64 last_treated_ms;
  gint64 free_from_ms;
} DrRest;

/* Person1.GetRestStatus as zone name -> DrRest; NULL and @error when the
 * call fails. */
GHashTable *dr_people_rest_status (DrDBusPerson1 *person, GError **error);

G_END_DECLS
