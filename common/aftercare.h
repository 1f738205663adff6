/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aftercare.h: what to do for the skin and the roller after a session, by
 * needle length.
 *
 * The session summary notification (dermarolld) and `dermarollctl
 * coverage` both print these lines, so the advice lives in one table. The
 * needle classes are the engine's (DrNeedleClass in
 * daemon/engine/engine-config.h: ≤0.3 mm, ≤0.5 mm, ≤1.0 mm, longer), which
 * common/ cannot include; tests/test-aftercare.c proves the bounds agree
 * for every needle length.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The upper bounds of the first three classes, in µm. */
#define DR_AFTERCARE_COSMETIC_MAX_UM 300
#define DR_AFTERCARE_SHORT_MAX_UM 500
#define DR_AFTERCARE_MEDIUM_MAX_UM 1000
#define DR_AFTERCARE_N_CLASSES 4

/* The class of @needle_length_um, 0 .. DR_AFTERCARE_N_CLASSES-1, in the
 * order of DrNeedleClass. 0 (not known) is the longest class: the advice
 * errs towards more care, as the rest rule errs towards more rest. */
guint dr_aftercare_class_for_needle (guint16 needle_length_um);

/* The aftercare lines for a session with needles of @needle_length_um,
 * NULL-terminated, each a sentence; static, never freed. */
const char *const *dr_aftercare_for_needle (guint16 needle_length_um);

G_END_DECLS
