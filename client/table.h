/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table.h: aligned text tables for dermarollctl's output.
 *
 * Columns are as wide as their widest cell, counted in terminal cells (so
 * "cm²", "µm", "—" and wide characters in a roller's name line up), with
 * colour that does not count towards the width.
 */
#pragma once

#include <glib.h>

#include "format.h"

G_BEGIN_DECLS

typedef struct _DrTable DrTable;

/* A table with the given column headers (NULL-terminated). Headers are
 * printed in bold when @colour. */
DrTable *dr_table_new (gboolean colour, const char *first_header, ...) G_GNUC_NULL_TERMINATED;
void dr_table_free (DrTable *table);

/* Numbers read better right-aligned. */
void dr_table_align_right (DrTable *table, guint column);

/* Rows are filled left to right; a new row starts after the last column. */
void dr_table_add (DrTable *table, const char *text);
void dr_table_add_coloured (DrTable *table, DrColour colour, const char *text);
void dr_table_take (DrTable *table, char *text);
void dr_table_take_coloured (DrTable *table, DrColour colour, char *text);

guint dr_table_get_n_rows (DrTable *table);
/* The table, two spaces between columns, no trailing blanks. */
char *dr_table_render (DrTable *table);

/* Terminal cells @text takes, ignoring ANSI escape sequences. */
gsize dr_text_width (const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrTable, dr_table_free)

G_END_DECLS
