/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stroke-directions.h: the stroke directions a zone was rolled in, as the
 * words the user reads ("vertical and diagonal missing").
 *
 * Shared so that the session summary the daemon pops up and the coverage
 * table of dermarollctl say the same thing about the same passes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Which of the three directions got no pass, "vertical and diagonal
 * missing"; NULL when none is missing or no pass had a known direction
 * (version 1 rollers), where nothing can be said. */
char *dr_stroke_directions_missing (double horizontal, double vertical, double diagonal);

/* The same in the words @translate gives for each of this file's marked
 * strings (the app's gettext); the daemon and the CLI speak English. */
typedef const char *(*DrTranslateFunc) (const char *msgid);
char *dr_stroke_directions_missing_in (double horizontal, double vertical, double diagonal,
                                       DrTranslateFunc translate);

G_END_DECLS
