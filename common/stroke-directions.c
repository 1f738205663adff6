/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stroke-directions.c: missing stroke directions in words. */
#include "stroke-directions.h"

#include <glib/gi18n.h>

static const char *
untranslated (const char *msgid)
{
  return msgid;
}

char *
dr_stroke_directions_missing (double horizontal, double vertical, double diagonal)
{
  return dr_stroke_directions_missing_in (horizontal, vertical, diagonal, untranslated);
}

/* A translated format keeps the literal's arguments, as gettext's does:
 * the compiler checks the call against the literal. */
static const char *format_in (DrTranslateFunc translate, const char *format) G_GNUC_FORMAT (2);

static const char *
format_in (DrTranslateFunc translate, const char *format)
{
  return translate (format);
}

char *
dr_stroke_directions_missing_in (double horizontal, double vertical, double diagonal,
                                 DrTranslateFunc translate)
{
  const double passes[] = { horizontal, vertical, diagonal };
  /* TRANSLATORS: stroke directions, in "vertical missing". */
  const char *const names[] = { N_ ("horizontal"), N_ ("vertical"), N_ ("diagonal") };
  const char *missing[3];
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (passes); i++)
    if (!(passes[i] > 0))
      missing[n++] = translate (names[i]);
  /* All three missing is a version 1 stream, or no contact at all. */
  if (n == 0 || n == G_N_ELEMENTS (passes))
    return NULL;
  /* TRANSLATORS: a zone's stroke directions with no pass, "vertical
   * missing", "vertical and diagonal missing". */
  if (n == 1)
    return g_strdup_printf (format_in (translate, N_ ("%s missing")), missing[0]);
  return g_strdup_printf (format_in (translate, N_ ("%s and %s missing")), missing[0], missing[1]);
}
