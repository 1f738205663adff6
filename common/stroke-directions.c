/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stroke-directions.c: missing stroke directions in words. */
#include "stroke-directions.h"

char *
dr_stroke_directions_missing (double horizontal, double vertical, double diagonal)
{
  const double passes[] = { horizontal, vertical, diagonal };
  const char *const names[] = { "horizontal", "vertical", "diagonal" };
  const char *missing[3];
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (passes); i++)
    if (!(passes[i] > 0))
      missing[n++] = names[i];
  /* All three missing is a version 1 stream, or no contact at all. */
  if (n == 0 || n == G_N_ELEMENTS (passes))
    return NULL;
  if (n == 1)
    return g_strdup_printf ("%s missing", missing[0]);
  return g_strdup_printf ("%s and %s missing", missing[0], missing[1]);
}
