/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dr-quote.c: bounded quoting of outside strings in messages. */
#include "dr-quote.h"

#include <string.h>

static char *
quote (const char *s, gboolean marks)
{
  g_autofree char *valid = NULL;
  GString *out;
  size_t len;
  const char *p;
  unsigned n = 0;

  if (s == NULL)
    return g_strdup ("(null)");

  len = strlen (s);
  valid = g_utf8_make_valid (s, (gssize) len);
  out = g_string_sized_new (MIN (len, DR_QUOTE_MAX_CHARS * 4) + 32);
  if (marks)
    g_string_append_c (out, '"');
  for (p = valid; *p != '\0' && n < DR_QUOTE_MAX_CHARS; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", (char) c);
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", (unsigned) c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
    }
  if (*p != '\0')
    g_string_append_printf (out, "…%s (%" G_GSIZE_FORMAT " bytes)", marks ? "\"" : "", len);
  else if (marks)
    g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

char *
dr_quote (const char *s)
{
  return quote (s, TRUE);
}

char *
dr_quote_bare (const char *s)
{
  return quote (s, FALSE);
}
