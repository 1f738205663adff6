/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* zones.c: the face zones of the roller's motion sensor (see zones.h). */
#include "zones.h"

#include <glib/gi18n.h>
#include <string.h>

/* Ids 0..6 are fixed by the roller's motion sensor (PROTOCOL.md). The
 * labels are marked for the app's template (po/); the app translates
 * them where it shows them. */
const DrFaceZone dr_face_zones[DR_N_FACE_ZONES] = {
  /* TRANSLATORS: the face zones, as a person says them; also in sentences
   * such as "The left cheek is excluded". */
  { "forehead", N_ ("forehead"), 60.0 },
  { "left-cheek", N_ ("left cheek"), 40.0 },
  { "right-cheek", N_ ("right cheek"), 40.0 },
  { "nose", N_ ("nose"), 12.0 },
  { "upper-lip", N_ ("upper lip"), 8.0 },
  { "chin", N_ ("chin"), 18.0 },
  { "neck", N_ ("neck"), 110.0 },
};

const char *const *
dr_face_zone_names (void)
{
  static const char *names[DR_N_FACE_ZONES + 1];
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      for (int i = 0; i < DR_N_FACE_ZONES; i++)
        names[i] = dr_face_zones[i].name;
      g_once_init_leave (&done, 1);
    }
  return names;
}

int
dr_face_zone_lookup (const char *name)
{
  g_return_val_if_fail (name != NULL, -1);

  for (int i = 0; i < DR_N_FACE_ZONES; i++)
    if (strcmp (dr_face_zones[i].name, name) == 0)
      return i;
  return -1;
}
