/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-aftercare.c: the aftercare table's needle classes are the engine's
 * (every needle length), their edges, and what each class says. */
#include <glib.h>
#include <string.h>

#include "aftercare.h"
#include "engine-config.h"

/* One advice class per rest class, in the same order. */
G_STATIC_ASSERT (DR_AFTERCARE_N_CLASSES == DR_N_NEEDLE_CLASSES);

/* common/ cannot use the engine's classifier: the same bounds, checked on
 * every length a head can report (0, not known, is the longest in both:
 * the engine's rest rule counts it as UINT16_MAX). */
static void
test_classes_match_engine (void)
{
  for (guint um = 1; um <= G_MAXUINT16; um++)
    g_assert_cmpuint (dr_aftercare_class_for_needle ((guint16) um), ==,
                      (guint) dr_needle_class_for_length ((uint16_t) um));
  g_assert_cmpuint (dr_aftercare_class_for_needle (0), ==, DR_NEEDLE_CLASS_LONG);
}

static gboolean
says (guint16 um, const char *what)
{
  for (const char *const *line = dr_aftercare_for_needle (um); *line; line++)
    if (strstr (*line, what) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_edges (void)
{
  const guint16 edges[][2] = { { 300, 301 }, { 500, 501 }, { 1000, 1001 } };

  for (gsize i = 0; i < G_N_ELEMENTS (edges); i++)
    {
      /* Each edge is the last length of its class, the next the first of
       * the next class, with other advice. */
      g_assert_cmpuint (dr_aftercare_class_for_needle (edges[i][0]), ==, i);
      g_assert_cmpuint (dr_aftercare_class_for_needle (edges[i][1]), ==, i + 1);
      g_assert_true (dr_aftercare_for_needle (edges[i][0])
                     != dr_aftercare_for_needle (edges[i][1]));
    }
  g_assert_true (dr_aftercare_for_needle (0) == dr_aftercare_for_needle (1001));
  g_assert_true (dr_aftercare_for_needle (0) == dr_aftercare_for_needle (G_MAXUINT16));
  g_assert_true (dr_aftercare_for_needle (1) == dr_aftercare_for_needle (300));
}

/* What every class says, and what only some do. */
static void
test_contents (void)
{
  const guint16 one_per_class[] = { 250, 500, 1000, 1500, 0 };

  for (gsize i = 0; i < G_N_ELEMENTS (one_per_class); i++)
    {
      guint16 um = one_per_class[i];

      g_assert_true (says (um, "hyaluronic acid serum"));
      g_assert_true (says (um, "sunscreen"));
      g_assert_true (says (um, "Redness") || says (um, "redness"));
      g_assert_true (says (um, "70 % isopropyl alcohol"));
      g_assert_true (says (um, "in its case"));
    }
  /* Actives wait at 0.5 mm and more, make-up at more than 0.5 mm. */
  g_assert_false (says (300, "retinoids"));
  g_assert_true (says (500, "24 hours"));
  g_assert_false (says (500, "make-up"));
  g_assert_true (says (1000, "make-up"));
  g_assert_true (says (1000, "48 hours"));
  g_assert_true (says (1001, "72 hours"));
  /* Bleeding is said only for the longest needles. */
  g_assert_false (says (1000, "bleeding"));
  g_assert_true (says (1001, "Pinpoint bleeding"));
  g_assert_true (says (0, "Pinpoint bleeding"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/aftercare/classes-match-engine", test_classes_match_engine);
  g_test_add_func ("/aftercare/edges-300-500-1000", test_edges);
  g_test_add_func ("/aftercare/contents", test_contents);
  return g_test_run ();
}
