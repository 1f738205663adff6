/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* service-variants.h: the store's answers in Manager1's D-Bus types.
 *
 * The store returns plain rows (store.h); these build the GVariants the
 * Manager1 methods return, so that only the service knows the bus types.
 * Each returns a floating reference; none takes the rows it is given.
 */
#pragma once

#include <glib.h>

#include "store.h"

G_BEGIN_DECLS

/* ListSessions: a(tsxxd) from DrStoreSession*. */
GVariant *dr_sessions_to_variant (GPtrArray *sessions);
/* ListPersonSessions: a(tsxxdo), the person's object ("/" for nobody). */
GVariant *dr_person_sessions_to_variant (GPtrArray *sessions);
/* GetSessionCoverage: a{s(dddd)} from DrStoreZoneCoverage*. */
GVariant *dr_coverage_to_variant (GPtrArray *zones);
/* Manager1.GetSessionCoverageByDirection: a{s(ddddd)}, (coverage, passes
 * horizontal, vertical, diagonal, unknown). */
GVariant *dr_coverage_by_direction_to_variant (GPtrArray *zones);
/* GetSessionEvents: a(xsa{sv}) from DrStoreEvent*. */
GVariant *dr_events_to_variant (GPtrArray *events);
/* GetSessionSamples: a(xuqy) from DrStoreSample. */
GVariant *dr_samples_to_variant (GArray *samples);

G_END_DECLS
