/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table.c: aligned text tables; see table.h. */
#include "table.h"

#include <stdarg.h>
#include <string.h>

typedef struct
{
  char *text;
  DrColour colour;
} Cell;

struct _DrTable
{
  gboolean colour;
  guint n_columns;
  GPtrArray *headers; /* char * */
  GArray *cells;      /* Cell, row by row */
  gboolean *right;    /* n_columns */
};

static void
cell_clear (gpointer data)
{
  Cell *cell = data;
  g_free (cell->text);
}

DrTable *
dr_table_new (gboolean colour, const char *first_header, ...)
{
  DrTable *table = g_new0 (DrTable, 1);
  va_list args;

  table->colour = colour;
  table->headers = g_ptr_array_new_with_free_func (g_free);
  va_start (args, first_header);
  for (const char *h = first_header; h != NULL; h = va_arg (args, const char *))
    g_ptr_array_add (table->headers, g_strdup (h));
  va_end (args);
  table->n_columns = table->headers->len;
  g_return_val_if_fail (table->n_columns > 0, table);
  table->right = g_new0 (gboolean, table->n_columns);
  table->cells = g_array_new (FALSE, TRUE, sizeof (Cell));
  g_array_set_clear_func (table->cells, cell_clear);
  return table;
}

void
dr_table_free (DrTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->headers);
  g_array_unref (table->cells);
  g_free (table->right);
  g_free (table);
}

void
dr_table_align_right (DrTable *table, guint column)
{
  g_return_if_fail (column < table->n_columns);
  table->right[column] = TRUE;
}

void
dr_table_take_coloured (DrTable *table, DrColour colour, char *text)
{
  Cell cell = { text != NULL ? text : g_strdup (""), colour };
  g_array_append_val (table->cells, cell);
}

void
dr_table_take (DrTable *table, char *text)
{
  dr_table_take_coloured (table, DR_COLOUR_NONE, text);
}

void
dr_table_add_coloured (DrTable *table, DrColour colour, const char *text)
{
  dr_table_take_coloured (table, colour, g_strdup (text));
}

void
dr_table_add (DrTable *table, const char *text)
{
  dr_table_take_coloured (table, DR_COLOUR_NONE, g_strdup (text));
}

guint
dr_table_get_n_rows (DrTable *table)
{
  return (table->cells->len + table->n_columns - 1) / table->n_columns;
}

gsize
dr_text_width (const char *text)
{
  gsize width = 0;

  for (const char *p = text; *p != '\0';)
    {
      gunichar c;

      if (*p == '\033')
        {
          /* CSI ... final byte in @..~ */
          p++;
          if (*p == '[')
            {
              p++;
              while (*p != '\0' && !(*p >= '@' && *p <= '~'))
                p++;
              if (*p != '\0')
                p++;
            }
          continue;
        }
      c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* Invalid UTF-8 is shown as one replacement character. */
          width++;
          p++;
          continue;
        }
      if (g_unichar_iszerowidth (c))
        ;
      else if (g_unichar_iswide (c))
        width += 2;
      else
        width++;
      p = g_utf8_next_char (p);
    }
  return width;
}

static void
append_cell (GString *out, const char *text, DrColour colour, gboolean coloured, gsize width,
             gboolean right, gboolean last)
{
  gsize w = dr_text_width (text);
  gsize pad = width > w ? width - w : 0;

  if (right)
    for (gsize i = 0; i < pad; i++)
      g_string_append_c (out, ' ');
  if (coloured && colour != DR_COLOUR_NONE)
    g_string_append_printf (out, "%s%s%s", dr_fmt_colour_on (colour), text, dr_fmt_colour_off ());
  else
    g_string_append (out, text);
  /* No trailing blanks: they would only show up in diffs and copy-paste. */
  if (!right && !last)
    for (gsize i = 0; i < pad; i++)
      g_string_append_c (out, ' ');
}

char *
dr_table_render (DrTable *table)
{
  g_autofree gsize *widths = g_new0 (gsize, table->n_columns);
  GString *out = g_string_new (NULL);
  guint n_rows = dr_table_get_n_rows (table);

  for (guint c = 0; c < table->n_columns; c++)
    widths[c] = dr_text_width (g_ptr_array_index (table->headers, c));
  for (guint i = 0; i < table->cells->len; i++)
    {
      const Cell *cell = &g_array_index (table->cells, Cell, i);
      guint c = i % table->n_columns;
      widths[c] = MAX (widths[c], dr_text_width (cell->text));
    }

  for (guint c = 0; c < table->n_columns; c++)
    {
      if (c > 0)
        g_string_append (out, "  ");
      append_cell (out, g_ptr_array_index (table->headers, c), DR_COLOUR_BOLD, table->colour,
                   widths[c], table->right[c], c + 1 == table->n_columns);
    }
  g_string_append_c (out, '\n');

  for (guint r = 0; r < n_rows; r++)
    {
      for (guint c = 0; c < table->n_columns; c++)
        {
          guint i = r * table->n_columns + c;
          const Cell *cell = i < table->cells->len ? &g_array_index (table->cells, Cell, i) : NULL;

          if (c > 0)
            g_string_append (out, "  ");
          append_cell (out, cell ? cell->text : "", cell ? cell->colour : DR_COLOUR_NONE,
                       table->colour, widths[c], table->right[c], c + 1 == table->n_columns);
        }
      /* An empty last cell leaves its separator behind. */
      while (out->len > 0 && out->str[out->len - 1] == ' ')
        g_string_truncate (out, out->len - 1);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}
